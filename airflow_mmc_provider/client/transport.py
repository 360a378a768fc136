"""One HTTP transport for every Labelbox call: auth, GraphQL JSON and multipart, timeouts, retries.

Retries follow the contract the provider promises: 429 (honouring `Retry-After`), 5xx, connection
errors and timeouts are retried with exponential backoff and full jitter, bounded by a number of
attempts and a total deadline; validation and auth errors never are. A mutation that is not safe
to repeat is only retried when the failure proves the server did not act on it (429, 503, a refused
connection); otherwise (an answer cut off mid-body, a connection dropped after the request went out,
a read timeout, another 5xx) the error is `ambiguous`, and `Transport.resolve` looks the object up
before it sends the call again.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit

import msgspec
import requests
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

from airflow_mmc_provider.client.credentials import check_api_key
from airflow_mmc_provider.client.errors import (
    LabelboxError,
    NetworkError,
    RateLimitError,
    ServerError,
    error_from_graphql,
    error_from_http_status,
)

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://api.labelbox.com/graphql"
_OPERATION_RE = re.compile(r"\b(?:query|mutation)\s+([A-Za-z_][A-Za-z0-9_]*)")
_ROOT_FIELD_RE = re.compile(r"{\s*([A-Za-z_][A-Za-z0-9_]*)")
# 503 and 429 mean the server refused before doing anything; 502/504/500 may hide a finished write.
_UNAMBIGUOUS_STATUSES = frozenset({429, 503})
_json_encoder = msgspec.json.Encoder()
_JSON_CONTENT = {"Content-Type": "application/json"}
_Sent = TypeVar("_Sent")  # what one attempt's send returns
_Read = TypeVar("_Read")  # what the caller gets from it
_Made = TypeVar("_Made")  # what a create returns (`resolve`)
_Found = TypeVar("_Found")  # what its look-up finds


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often to retry; the defaults ride out a few minutes of trouble at most."""

    max_attempts: int = 6
    initial_wait: float = 1.0
    max_wait: float = 30.0
    multiplier: float = 2.0
    deadline: float = 180.0

    def wait_before(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to sleep before attempt `attempt + 1` (full jitter, `Retry-After` as a floor)."""
        ceiling = min(self.max_wait, self.initial_wait * self.multiplier ** (attempt - 1))
        wait = random.uniform(0, ceiling)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_wait * 4))
        return wait


class _Environment:
    """Proxy and CA bundle settings from the environment, read once per scheme and host.

    With `trust_env` on, requests reads them (and looks for ~/.netrc) on every request, which costs
    more CPU than the request itself at export rates (a look-up and a GET per chunk). Sessions made
    by the transport turn `trust_env` off and pass these settings with each request instead.
    ~/.netrc is not consulted: GraphQL calls carry their own Authorization header (which netrc
    credentials would replace) and file URLs are signed.
    """

    def __init__(self) -> None:
        self._probe = requests.Session()
        self._by_host: dict[tuple[str, str], dict[str, Any]] = {}

    def settings(self, url: str) -> dict[str, Any]:
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        found = self._by_host.get(key)
        if found is None:
            merged = self._probe.merge_environment_settings(url, {}, None, None, None)
            found = {"proxies": merged["proxies"], "verify": merged["verify"]}
            self._by_host[key] = found
        return found


def _session_without_environment() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def experimental_endpoint(endpoint: str) -> str:
    """The `/_gql` twin of the GraphQL endpoint, derived the way the official SDK derives it."""
    return endpoint.replace("/graphql", "/_gql")


def operation_name(query: str) -> str:
    """A readable name for log lines and errors: the operation name, else the first root field."""
    match = _OPERATION_RE.search(query) or _ROOT_FIELD_RE.search(query)
    return match.group(1) if match else "GraphQL request"


class Transport:
    """Sends GraphQL requests to Labelbox; owns the session, the key and the retry loop."""

    def __init__(
        self,
        api_key: str,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        user_agent: str | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._api_key = check_api_key(api_key)
        self.endpoint = endpoint
        self.timeout = (connect_timeout, read_timeout)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        # Sessions made here read the environment once per host (see `_Environment`); a session
        # passed in keeps its own settings.
        self._environment = _Environment() if session is None else None
        self._session = session or _session_without_environment()
        self._session.headers.update(
            {
                "Authorization": f"Bearer {api_key}",
                "Accept": "application/json",
                "User-Agent": user_agent or _default_user_agent(),
            }
        )
        self._json_headers = {**self._session.headers, **_JSON_CONTENT}
        # Signed file URLs (uploads, exports, import reports) must never receive the API key.
        self._downloads = _session_without_environment()
        self._download_environment = _Environment()
        self._downloads.headers["User-Agent"] = self._session.headers["User-Agent"]

    def __repr__(self) -> str:
        return f"Transport(endpoint={self.endpoint!r})"

    def close(self) -> None:
        self._session.close()
        self._downloads.close()

    # --- GraphQL ---------------------------------------------------------------------------------

    def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        experimental: bool = False,
        idempotent: bool = True,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Run one GraphQL operation and return its `data`; raise a mapped error otherwise."""
        operation = operation_name(query)
        url = experimental_endpoint(self.endpoint) if experimental else self.endpoint
        body = _json_encoder.encode({"query": query, "variables": dict(variables or {})})

        def send() -> requests.Response:
            return self._post_json(url, body, self._timeout(timeout))

        return self._with_retries(operation, send, _graphql_data, idempotent=idempotent)

    def _post_json(self, url: str, body: bytes, timeout: tuple[float, float]) -> requests.Response:
        """POST a GraphQL body; with the transport's own session, as a request prepared here.

        `Session.post` merges headers, cookies, hooks and settings anew on every call, a good
        part of a small call's CPU (an export makes a look-up per chunk while the same
        interpreter parses). The transport's session never changes after `__init__`, so its
        headers are merged once (`_json_headers`) and its cookies still go with each request.
        A session passed in keeps `post` and everything it merges.
        """
        if self._environment is None:
            return self._session.post(url, data=body, headers=_JSON_CONTENT, timeout=timeout)
        request = requests.PreparedRequest()
        request.prepare(
            method="POST", url=url, headers=self._json_headers, data=body, cookies=self._session.cookies
        )
        return self._session.send(request, timeout=timeout, cert=None, **self._environment.settings(url))

    def execute_multipart(
        self,
        query: str,
        variables: Mapping[str, Any],
        *,
        file_variable: str,
        content: bytes,
        filename: str,
        content_type: str,
        part_name: str = "1",
        idempotent: bool = True,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Run a GraphQL operation with one file, per the GraphQL multipart request spec."""
        operation = operation_name(query)
        operations = _json_encoder.encode({"query": query, "variables": {**variables, file_variable: None}})
        file_map = _json_encoder.encode({part_name: [f"variables.{file_variable}"]})

        def send() -> requests.Response:
            files: dict[str, Any] = {
                "operations": (None, operations),
                "map": (None, file_map),
                part_name: (filename, content, content_type),
            }
            return self._session.post(
                self.endpoint, files=files, timeout=self._timeout(timeout), **self._settings(self.endpoint)
            )

        return self._with_retries(operation, send, _graphql_data, idempotent=idempotent)

    def upload(self, content: bytes, *, filename: str, content_type: str) -> str:
        """Store bytes with Labelbox (`uploadFile`) and return the URL the service hands back."""
        query = (
            "mutation UploadFile($file: Upload!, $contentLength: Int!, $sign: Boolean) "
            "{ uploadFile(file: $file, contentLength: $contentLength, sign: $sign) {url filename} }"
        )
        data = self.execute_multipart(
            query,
            {"contentLength": len(content), "sign": False},
            file_variable="file",
            content=content,
            filename=filename,
            content_type=content_type,
            timeout=max(self.timeout[1], 300.0),
        )
        return str(data["uploadFile"]["url"])

    def download(self, url: str, *, timeout: float | None = None) -> bytes:
        """GET a file URL Labelbox handed out (no credentials are sent), with the same retries."""

        def send() -> _Fetched:
            return self._get_file(url, self._timeout(timeout))

        return self._with_retries("file download", send, _file_body, idempotent=True)

    def _get_file(self, url: str, timeout: tuple[float, float]) -> _Fetched:
        """GET a file and read its whole body, the request prepared here rather than by `get`.

        `Session.get` rebuilds and merges the request (cookies, auth, hooks, settings) on every
        call and `iter_content` reads in blocks: together about 1 ms of CPU per GET here, more
        than moving its megabyte, and an export makes one GET per chunk while the same
        interpreter parses. Signed file URLs need none of the merging (proxies and the CA bundle
        come from `_Environment`), so a prepared request goes to `Session.send` (redirects still
        followed) and the body is read in one call, inside the retried `send`, so a dropped or
        short body is retried like a failed request. The body travels beside the response
        (`_Fetched`) rather than written into the response's private cache.
        """
        request = requests.PreparedRequest()
        request.prepare(method="GET", url=url, headers=self._downloads.headers)
        settings = self._download_environment.settings(url)
        response = self._downloads.send(request, stream=True, timeout=timeout, cert=None, **settings)
        body = _read_body(response) if response.status_code < 400 else b""
        return _Fetched(response, body)

    def _settings(self, url: str) -> dict[str, Any]:
        return self._environment.settings(url) if self._environment is not None else {}

    # --- retry loop ------------------------------------------------------------------------------

    def _timeout(self, read: float | None) -> tuple[float, float]:
        return (self.timeout[0], read or self.timeout[1])

    def _with_retries(
        self,
        operation: str,
        send: Callable[[], _Sent],
        read: Callable[[_Sent, str], _Read],
        *,
        idempotent: bool,
    ) -> _Read:
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return read(self._send_once(operation, send), operation)
            except LabelboxError as error:
                wait = self._retry_wait(error, attempt, started, idempotent)
                if wait is None:
                    raise self._scrubbed(error, attempt) from None
                log.warning(
                    "Labelbox %s failed (%s); retry %d of %d in %.1fs",
                    operation,
                    self._scrub(error.message),
                    attempt,
                    self.retry.max_attempts - 1,
                    wait,
                )
                self._sleep(wait)

    def resolve(self, act: Callable[[], _Made], look_up: Callable[[], _Found | None]) -> _Made | _Found:
        """Run a call that is not safe to repeat (a create), resolving a lost answer by a look-up.

        When `act` fails ambiguously (the server may have acted: a cut-off answer, a connection
        dropped after the request went out, a read timeout, a 5xx other than 503), `look_up` says
        whether it took effect: what it finds is the call's result. Only when it finds nothing is
        `act` sent again, under the same policy (attempts, backoff, deadline) as every other retry.
        `look_up` raises when it cannot tell (e.g. two objects of one name appeared).
        """
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return act()
            except LabelboxError as error:
                if not error.ambiguous:
                    raise
                found = look_up()
                if found is not None:
                    log.warning("Labelbox %s: answer lost, found what it made by a look-up", error.operation)
                    return found
                wait = self._retry_wait(error, attempt, started, idempotent=True)
                if wait is None:
                    error.message += "; a look-up found nothing it made"
                    error.args = (error._render(),)
                    raise
                log.warning(
                    "Labelbox %s: answer lost and a look-up found nothing; sending it again in %.1fs",
                    error.operation,
                    wait,
                )
                self._sleep(wait)

    def _send_once(self, operation: str, send: Callable[[], _Sent]) -> _Sent:
        try:
            return send()
        except requests.exceptions.ConnectTimeout as exc:
            raise NetworkError(
                f"could not connect to {_host_of(self.endpoint)} in time ({_reason(exc)})",
                operation=operation,
            ) from None
        except requests.exceptions.Timeout:
            raise NetworkError(
                f"no answer within {self.timeout[1]:.0f}s (read timeout)", operation=operation, ambiguous=True
            ) from None
        except requests.exceptions.ConnectionError as exc:
            refused = _never_sent(exc)
            raise NetworkError(
                f"connection to {_host_of(self.endpoint)} failed ({_reason(exc)})",
                operation=operation,
                ambiguous=not refused,
            ) from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
            # The answer began, so the server had the whole request and may well have acted on it.
            raise NetworkError(
                f"the answer was cut off ({_reason(exc)})", operation=operation, ambiguous=True
            ) from None
        except requests.exceptions.RequestException as exc:
            raise NetworkError(f"request failed ({_reason(exc)})", operation=operation) from None

    def _retry_wait(
        self, error: LabelboxError, attempt: int, started: float, idempotent: bool
    ) -> float | None:
        if not error.retryable or attempt >= self.retry.max_attempts:
            return None
        if error.ambiguous and not idempotent:
            return None
        retry_after = error.retry_after if isinstance(error, RateLimitError) else None
        wait = self.retry.wait_before(attempt, retry_after)
        if time.monotonic() - started + wait > self.retry.deadline:
            return None
        return wait

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def _scrubbed(self, error: LabelboxError, attempt: int) -> LabelboxError:
        """Hide the key should a server ever echo it, and say how hard we tried."""
        message = self._scrub(error.message)
        if attempt > 1:
            message += f" (gave up after {attempt} attempts)"
        if message != error.message:
            error.message = message
            error.args = (error._render(),)
        return error


class _Fetched(NamedTuple):
    """A file response and its body, read whole inside the retried send (empty on an error status,
    whose message `_http_error` reads from the response itself)."""

    response: requests.Response
    body: bytes


def _graphql_data(response: requests.Response, operation: str) -> dict[str, Any]:
    status = response.status_code
    if status == 429 or status >= 500:
        raise _http_error(response, operation)
    try:
        payload = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        raise _http_error(response, operation) from None
    if not isinstance(payload, dict):
        raise LabelboxError("response is not a JSON object", operation=operation, status_code=status)
    errors = payload.get("errors")
    if errors:
        raise error_from_graphql(list(errors), operation=operation, status_code=status)
    if status != 200:
        raise error_from_http_status(status, _message_of(payload), operation=operation)
    data = payload.get("data")
    if not isinstance(data, dict):
        raise LabelboxError("response carried no data", operation=operation, status_code=status)
    return data


def _read_body(response: requests.Response) -> bytes:
    """A streamed response's whole body in one read, urllib3's errors mapped as requests maps them.

    One read of the whole body: `iter_content` would cost a generator round trip and a copy per
    block, and a join at the end. A body shorter than its Content-Length raises (urllib3 2
    enforces the length; with urllib3 1.26, callers that know the size check it, as exports do).
    urllib3 is imported for its exception types only; requests depends on it.
    """
    try:
        body: bytes = response.raw.read(decode_content=True)
    except ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    except ReadTimeoutError as exc:
        raise requests.exceptions.ConnectionError(exc) from exc
    except SSLError as exc:
        raise requests.exceptions.SSLError(exc) from exc
    response.raw.release_conn()  # the body is read whole: the connection goes back to the pool
    return body


def _file_body(fetched: _Fetched, operation: str) -> bytes:
    if fetched.response.status_code >= 400:
        raise _http_error(fetched.response, operation)
    return fetched.body


def _http_error(response: requests.Response, operation: str) -> LabelboxError:
    status = response.status_code
    message = _body_message(response)
    error = error_from_http_status(status, message, operation=operation, retry_after=_retry_after(response))
    if isinstance(error, ServerError) and status not in _UNAMBIGUOUS_STATUSES:
        error.ambiguous = True
    return error


def _body_message(response: requests.Response) -> str | None:
    try:
        payload = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        text = response.text.strip()
        return f"HTTP {response.status_code} {response.reason}: {text[:200]}" if text else None
    if isinstance(payload, dict):
        errors = payload.get("errors")
        if errors and isinstance(errors, list) and isinstance(errors[0], dict):
            return str(errors[0].get("message") or "")
        return _message_of(payload)
    return None


def _message_of(payload: Mapping[str, Any]) -> str | None:
    message = payload.get("message")
    return str(message) if message else None


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _never_sent(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection was refused or never established, so the server saw nothing."""
    text = repr(exc)
    return any(marker in text for marker in ("NewConnectionError", "ConnectTimeout", "Connection refused"))


_REASONS = (
    ("Connection refused", "connection refused: is the server running and is the connection's host right?"),
    ("Name or service not known", "host name not found: check the host of the Labelbox connection"),
    ("nodename nor servname", "host name not found: check the host of the Labelbox connection"),
    ("Temporary failure in name resolution", "host name could not be resolved (DNS)"),
    ("RemoteDisconnected", "the server closed the connection without answering"),
    ("Connection reset", "the connection was reset"),
    ("Connection aborted", "the connection was aborted"),
    ("CERTIFICATE_VERIFY_FAILED", "TLS certificate verification failed"),
    ("timed out", "timed out"),
)


def _reason(exc: BaseException) -> str:
    """A short human reason for a requests failure, without the library's nested reprs."""
    text = str(exc)
    for marker, reason in _REASONS:
        if marker in text:
            return reason
    return type(exc).__name__


def _host_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


def _default_user_agent() -> str:
    from airflow_mmc_provider import __version__

    return f"airflow-mmc-provider/{__version__} python-requests/{requests.__version__}"
