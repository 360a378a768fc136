"""`LabelboxHook`: turns an Airflow connection into a `LabelboxClient`.

The connection holds the GraphQL endpoint in `host` (default: the real service), the API key in
`password`, and `request_timeout`, `retry_limit`, `app_url` in its extras. The hook owns no HTTP
logic of its own; everything goes through the client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from airflow.providers.common.compat.sdk import AirflowFailException, BaseHook

from airflow_mmc_provider.client import (
    DEFAULT_APP_URL,
    DEFAULT_ENDPOINT,
    ApiKeyFormatError,
    LabelboxClient,
    RetryPolicy,
)

if TYPE_CHECKING:
    from airflow.sdk import Connection

_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")


class LabelboxHook(BaseHook):
    """Interact with Labelbox (or the local emulator) through an Airflow connection."""

    conn_name_attr = "labelbox_conn_id"
    default_conn_name = "labelbox_default"
    conn_type = "labelbox"
    hook_name = "Labelbox"

    def __init__(self, labelbox_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.labelbox_conn_id = labelbox_conn_id
        self._client: LabelboxClient | None = None

    def get_conn(self) -> LabelboxClient:
        """The client for this connection, built once per hook.

        A key of the wrong shape fails the task at once (`AirflowFailException`, the client's
        message): no retry of the task can fix a connection's password.
        """
        if self._client is None:
            connection = self.get_connection(self.labelbox_conn_id)
            try:
                self._client = client_from_connection(connection)
            except ApiKeyFormatError as error:
                raise AirflowFailException(
                    f"Labelbox connection {self.labelbox_conn_id!r}: {error.message}"
                ) from None
        return self._client

    async def aget_conn(self) -> LabelboxClient:
        """The same client, with the connection fetched through Airflow's async API (triggers)."""
        from airflow.providers.common.compat.connection import get_async_connection

        return client_from_connection(await get_async_connection(self.labelbox_conn_id))

    @property
    def app_url(self) -> str:
        return self.get_conn().app_url

    def test_connection(self) -> tuple[bool, str]:
        """One cheap authenticated call: who does this API key belong to?"""
        try:
            client = self.get_conn()
            user = client.current_user()
        except Exception as error:
            return False, str(error)
        return True, f"Connected to Labelbox at {client.transport.endpoint} as {user.email or user.id}"


def client_from_connection(conn: Connection) -> LabelboxClient:
    """Build a client from a connection's fields; shared by the sync and async paths."""
    extra = conn.extra_dejson or {}
    retry_limit = int(extra.get("retry_limit") or RetryPolicy.max_attempts)
    return LabelboxClient(
        api_key=conn.password or "",
        endpoint=endpoint_from_connection(conn.host, conn.port, conn.schema),
        app_url=str(extra.get("app_url") or DEFAULT_APP_URL),
        read_timeout=float(extra.get("request_timeout") or 60),
        retry=RetryPolicy(max_attempts=max(1, retry_limit)),
    )


def endpoint_from_connection(host: str | None, port: int | None, schema: str | None) -> str:
    """The GraphQL endpoint: a full URL in `host`, or a bare host (https, or http on loopback)."""
    host = (host or "").strip()
    if not host:
        return DEFAULT_ENDPOINT
    if "://" not in host:
        scheme = "http" if host.split(":")[0] in _LOOPBACK_HOSTS else "https"
        host = f"{scheme}://{host}"
    parts = urlsplit(host)
    netloc = parts.netloc
    if port and parts.port is None:
        netloc = f"{netloc}:{port}"
    path = parts.path
    if path in ("", "/"):
        path = f"/{schema.strip('/')}" if schema else "/graphql"
    return urlunsplit((parts.scheme, netloc, path, parts.query, ""))
