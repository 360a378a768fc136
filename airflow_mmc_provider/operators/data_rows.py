"""`LabelboxUploadDataRowsOperator`: upsert data rows by global key and wait for the task."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException

from airflow_mmc_provider.operators._xcom import push_keys
from airflow_mmc_provider.operators.base import LabelboxDeferrableOperator

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_mmc_provider.client.models import DataRowUpsert, DataRowUpsertReport
    from airflow_mmc_provider.client.row_changes import RowChanges


class LabelboxUploadDataRowsOperator(LabelboxDeferrableOperator):
    """Upsert data rows into a dataset, keyed by global key, and wait until Labelbox is done.

    Rows come from `rows` (a list, typically from XCom) or `source` (a JSONL file at any
    `ObjectStoragePath`: one row object per line with `row_data` and `global_key`). Every row is
    validated before anything is uploaded. A re-run updates the same data rows instead of
    duplicating them. The task fails listing every failed row with its reason, unless at most
    `max_failed_rows` failed.

    :param dataset_id: target dataset id (templated, e.g. from the create-dataset task's XCom).
    :param rows: row objects: `row_data`, `global_key`, optional `external_id`, `media_type`,
        `metadata_fields`, `attachments` (templated).
    :param source: JSONL file path or URL, read in a streaming way (templated).
    :param max_failed_rows: how many rows Labelbox may reject before the task fails.
    :param wait_timeout: seconds to wait for the upsert task.
    :param poll_interval: seconds between status checks.
    :param deferrable: wait in the triggerer instead of holding a worker slot.
    :param return_ids: include every global key and data row id in the returned summary.
    """

    template_fields: Sequence[str] = ("dataset_id", "rows", "source", "labelbox_conn_id")

    def __init__(
        self,
        *,
        dataset_id: str,
        rows: list[Mapping[str, Any]] | None = None,
        source: str | ObjectStoragePath | None = None,
        max_failed_rows: int = 0,
        return_ids: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (rows is None) == (source is None):
            raise ValueError("Give exactly one of `rows` or `source` to LabelboxUploadDataRowsOperator")
        self.dataset_id = dataset_id
        self.rows = rows
        self.source = source
        self.max_failed_rows = max_failed_rows
        self.return_ids = return_ids

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_mmc_provider.operators._failures import fail_fast_on
        from airflow_mmc_provider.operators.storage import JsonLinesError

        with fail_fast_on(JsonLinesError):  # a malformed line stays malformed on a retry
            upsert = self.client.data_rows.upsert(self.dataset_id, self._iter_rows(), self._row_changes())
        self.log.info(
            "Uploaded %d data row(s) in %d chunk(s) to dataset %s (%d of them updates; %d unchanged, "
            "skipped); task %s",
            upsert.row_count,
            upsert.chunk_count,
            upsert.dataset_id,
            len(upsert.existing_global_keys),
            len(upsert.unchanged_global_keys),
            upsert.task_id or "none (nothing to upload)",
        )
        if not upsert.task_id:  # every row was unchanged: no task to wait for
            return self._finish(context, upsert, "COMPLETE")
        task = self.wait_for_task(upsert.task_id, context={"upsert": upsert.to_dict()})
        return self._finish(context, upsert, task.status)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger: fail clearly on timeout or error, else report the rows."""
        from airflow_mmc_provider.client.models import DataRowUpsert

        self.resumed(event, f"Waiting for Labelbox upsert task {event.get('labelbox_task_id')}")
        upsert = DataRowUpsert.from_dict(event["context"]["upsert"])
        return self._finish(context, upsert, event["task"]["status"])

    def _row_changes(self) -> RowChanges | None:
        """How existing rows are checked before the upload; plain data rows are updated as given."""
        return None

    def _iter_rows(self) -> Iterator[Any]:
        if self.rows is not None:
            yield from self.rows
            return
        from airflow_mmc_provider.operators.storage import iter_jsonl

        assert self.source is not None
        for _, row in iter_jsonl(self.source):
            yield row

    def _finish(self, context: Context, upsert: DataRowUpsert, status: str) -> dict[str, Any]:
        report = self.client.data_rows.report(upsert, status)
        self.log.info(
            "Labelbox upsert task %s %s: %d created, %d updated, %d failed, %d unchanged, skipped",
            report.task_id or "(none)",
            status,
            report.created,
            report.updated,
            len(report.failed),
            len(report.unchanged),
        )
        self._check_failures(report)
        summary = report.summary(include_ids=self.return_ids)
        push_keys(context, summary, ("dataset_id", "global_keys", "data_row_ids"))
        return summary

    def _check_failures(self, report: DataRowUpsertReport) -> None:
        from airflow_mmc_provider.operators._failures import listed

        for row in report.failed:
            self.log.error("Data row %s rejected: %s", row.global_key or row.external_id, row.message)
        if report.status != "COMPLETE":
            raise AirflowException(f"Labelbox upsert task {report.task_id} ended {report.status}")
        if len(report.failed) > self.max_failed_rows:
            failures = [f"{r.global_key or r.external_id}: {r.message}" for r in report.failed]
            raise AirflowException(
                f"{len(failures)} data row(s) failed (tolerated: {self.max_failed_rows}) in task "
                f"{report.task_id}:\n" + listed(failures, "see the log")
            )
