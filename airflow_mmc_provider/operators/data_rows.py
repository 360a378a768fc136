"""`LabelboxUploadDataRowsOperator`: upsert data rows by global key and wait for the task."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, BaseOperator, conf

from airflow_mmc_provider.operators._xcom import push_keys

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_mmc_provider.client import LabelboxClient
    from airflow_mmc_provider.client.models import DataRowUpsert, DataRowUpsertReport


class LabelboxUploadDataRowsOperator(BaseOperator):
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
    ui_color = "#e8e0ff"

    def __init__(
        self,
        *,
        dataset_id: str,
        rows: list[Mapping[str, Any]] | None = None,
        source: str | ObjectStoragePath | None = None,
        max_failed_rows: int = 0,
        wait_timeout: float = 3600.0,
        poll_interval: float = 5.0,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        return_ids: bool = True,
        labelbox_conn_id: str = "labelbox_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (rows is None) == (source is None):
            raise ValueError("Give exactly one of `rows` or `source` to LabelboxUploadDataRowsOperator")
        self.dataset_id = dataset_id
        self.rows = rows
        self.source = source
        self.max_failed_rows = max_failed_rows
        self.wait_timeout = wait_timeout
        self.poll_interval = poll_interval
        self.deferrable = deferrable
        self.return_ids = return_ids
        self.labelbox_conn_id = labelbox_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_mmc_provider.operators._failures import fail_fast_on

        client = self._client()
        with fail_fast_on():
            upsert = client.data_rows.upsert(self.dataset_id, self._iter_rows())
        self.log.info(
            "Uploaded %d data row(s) in %d chunk(s) to dataset %s (%d already existed); task %s",
            upsert.row_count,
            upsert.chunk_count,
            upsert.dataset_id,
            len(upsert.existing_global_keys),
            upsert.task_id,
        )
        if self.deferrable:
            self._defer(upsert)
        task = client.tasks.wait(upsert.task_id, timeout=self.wait_timeout, poll_interval=self.poll_interval)
        return self._finish(context, client, upsert, task.status)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger: fail clearly on timeout or error, else report the rows."""
        from airflow_mmc_provider.client.models import DataRowUpsert

        status = event.get("status")
        if status in ("timeout", "error"):
            raise AirflowException(
                f"Waiting for Labelbox upsert task {event.get('labelbox_task_id')} ended in {status}: "
                f"{event.get('message')}"
            )
        upsert = DataRowUpsert.from_dict(event["context"]["upsert"])
        return self._finish(context, self._client(), upsert, event["task"]["status"])

    def _client(self) -> LabelboxClient:
        from airflow_mmc_provider.hooks.labelbox import LabelboxHook

        return LabelboxHook(self.labelbox_conn_id).get_conn()

    def _defer(self, upsert: DataRowUpsert) -> None:
        from airflow_mmc_provider.triggers.tasks import LabelboxTaskTrigger

        trigger = LabelboxTaskTrigger(
            labelbox_task_id=upsert.task_id,
            labelbox_conn_id=self.labelbox_conn_id,
            end_time=time.time() + self.wait_timeout,
            poll_interval=self.poll_interval,
            context={"upsert": upsert.to_dict()},
        )
        self.defer(trigger=trigger, method_name="execute_complete")

    def _iter_rows(self) -> Iterator[Any]:
        if self.rows is not None:
            yield from self.rows
            return
        from airflow_mmc_provider.operators.storage import iter_jsonl

        assert self.source is not None
        for _, row in iter_jsonl(self.source):
            yield row

    def _finish(
        self, context: Context, client: LabelboxClient, upsert: DataRowUpsert, status: str
    ) -> dict[str, Any]:
        report = client.data_rows.report(upsert, status)
        self.log.info(
            "Labelbox upsert task %s %s: %d created, %d updated, %d failed",
            report.task_id,
            status,
            report.created,
            report.updated,
            len(report.failed),
        )
        self._check_failures(report)
        summary = report.summary(include_ids=self.return_ids)
        push_keys(context, summary, ("dataset_id", "global_keys", "data_row_ids"))
        return summary

    def _check_failures(self, report: DataRowUpsertReport) -> None:
        for row in report.failed:
            self.log.error("Data row %s rejected: %s", row.global_key or row.external_id, row.message)
        if report.status != "COMPLETE":
            raise AirflowException(f"Labelbox upsert task {report.task_id} ended {report.status}")
        if len(report.failed) > self.max_failed_rows:
            listed = "\n".join(
                f"  - {r.global_key or r.external_id}: {r.message}" for r in report.failed[:50]
            )
            more = len(report.failed) - 50
            raise AirflowException(
                f"{len(report.failed)} data row(s) failed (tolerated: {self.max_failed_rows}) in task "
                f"{report.task_id}:\n{listed}"
                + (f"\n  ... and {more} more (see the log)" if more > 0 else "")
            )
