"""`LabelboxClient`: the Labelbox API over requests, one attribute per resource.

No Airflow import lives in `client/`, so the same client works from a notebook or a script:

    client = LabelboxClient(api_key, endpoint="http://127.0.0.1:8765/graphql")
    dataset, _ = client.datasets.get_or_create("chats")
    report = client.upsert_data_rows(dataset.id, rows)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow_mmc_provider.client.batches import Batches
from airflow_mmc_provider.client.data_rows import MAX_CHUNK_BYTES, DataRows
from airflow_mmc_provider.client.datasets import Datasets
from airflow_mmc_provider.client.exports import Exports
from airflow_mmc_provider.client.imports import Imports
from airflow_mmc_provider.client.models import DataRowUpsertReport, Organization, User
from airflow_mmc_provider.client.ontologies import Ontologies
from airflow_mmc_provider.client.projects import Projects
from airflow_mmc_provider.client.row_changes import RowChanges, UpsertGuard
from airflow_mmc_provider.client.tasks import Tasks
from airflow_mmc_provider.client.transport import DEFAULT_ENDPOINT, RetryPolicy, Transport

DEFAULT_APP_URL = "https://app.labelbox.com"


class LabelboxClient:
    """Entry point to the Labelbox API; cheap to build, holds one HTTP session.

    An API key that cannot be sent as it is (empty, white space or a line break at either end or
    inside, a character outside printable ASCII) raises `ApiKeyFormatError` here, before any
    request, naming what is wrong without showing the key (see `credentials`).
    """

    def __init__(
        self,
        api_key: str,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        app_url: str = DEFAULT_APP_URL,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        chunk_bytes: int = MAX_CHUNK_BYTES,
        upload_workers: int = 4,
    ) -> None:
        self.transport = Transport(
            api_key,
            endpoint,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retry=retry,
        )
        self.app_url = app_url.rstrip("/")
        self.datasets = Datasets(self.transport)
        self.tasks = Tasks(self.transport)
        self.data_rows = DataRows(self.transport, chunk_bytes=chunk_bytes, upload_workers=upload_workers)
        self.ontologies = Ontologies(self.transport)
        self.projects = Projects(self.transport)
        self.exports = Exports(self.transport)
        self.batches = Batches(self.transport, self.tasks, exports=self.exports)
        self.imports = Imports(self.transport)

    def __repr__(self) -> str:
        return f"LabelboxClient(endpoint={self.transport.endpoint!r})"

    def __enter__(self) -> LabelboxClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    def execute(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run any GraphQL operation; for calls the resource helpers do not cover yet."""
        return self.transport.execute(query, variables)

    def current_user(self) -> User:
        """The user the API key belongs to: the cheapest authenticated call there is."""
        return self.tasks.current_user()

    def organization(self) -> Organization:
        data = self.transport.execute("query GetOrganizationPyApi{organization{createdAt name id updatedAt}}")
        return Organization.from_graphql(data["organization"])

    def row_changes(self, guard: UpsertGuard) -> RowChanges:
        """The check of existing rows an upsert makes under `guard` (`DataRows.upsert(changes=)`)."""
        return RowChanges(self.transport, self.exports, self.tasks, guard)

    def upsert_data_rows(
        self,
        dataset_id: str,
        rows: Iterable[Mapping[str, Any]],
        *,
        timeout: float = 3600.0,
        poll_interval: float = 2.0,
    ) -> DataRowUpsertReport:
        """Upsert rows by global key, wait for the task and return every row's outcome."""
        upsert = self.data_rows.upsert(dataset_id, rows)
        task = self.tasks.wait(upsert.task_id, timeout=timeout, poll_interval=poll_interval)
        return self.data_rows.report(upsert, task.status)
