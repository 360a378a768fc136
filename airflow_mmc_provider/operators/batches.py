"""`LabelboxCreateBatchOperator`: send data rows to a project's labelling queue as a named batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException

from airflow_mmc_provider.operators._xcom import push_keys
from airflow_mmc_provider.operators.base import LabelboxDeferrableOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_mmc_provider.client.models import BatchCreation


class LabelboxCreateBatchOperator(LabelboxDeferrableOperator):
    """Create a batch of data rows (by global key or id) in a project; idempotent by batch name.

    Batches of 1,000 rows or more are filled by a Labelbox task, which the operator waits for in
    the worker or, with `deferrable=True`, in the triggerer. Rows Labelbox refuses (unknown, or
    already in another batch of the project) fail the task unless at most `max_failed_rows`.

    :param project_id: the project (templated).
    :param batch_name: unique within the project, e.g. ``round-{{ ds_nodash }}`` (templated).
    :param global_keys: rows by global key, typically an upstream upload's XCom (templated).
    :param data_row_ids: rows by data row id (templated); give one of the two.
    :param priority: 1 (highest) to 5 (lowest).
    :param consensus: ``{"number_of_labels": 3, "coverage_percentage": 1.0}`` for consensus labelling.
    """

    template_fields: Sequence[str] = (
        "project_id",
        "batch_name",
        "global_keys",
        "data_row_ids",
        "priority",
        "consensus",
        "labelbox_conn_id",
    )

    def __init__(
        self,
        *,
        project_id: str,
        batch_name: str,
        global_keys: list[str] | None = None,
        data_row_ids: list[str] | None = None,
        priority: int = 5,
        consensus: dict[str, Any] | None = None,
        max_failed_rows: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.project_id = project_id
        self.batch_name = batch_name
        self.global_keys = global_keys
        self.data_row_ids = data_row_ids
        self.priority = priority
        self.consensus = consensus
        self.max_failed_rows = max_failed_rows

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_mmc_provider.client.batches import BatchRows
        from airflow_mmc_provider.client.models import BatchCreation
        from airflow_mmc_provider.operators._failures import checking_arguments, fail_fast_on

        with checking_arguments():  # e.g. a priority that is no number
            rows = BatchRows(
                data_row_ids=_as_list(self.data_row_ids),
                global_keys=_as_list(self.global_keys),
                priority=int(self.priority),
                consensus=_consensus_numbers(self.consensus),
            )
        with fail_fast_on():
            started = self.client.batches.begin(self.project_id, self.batch_name, rows)
        if isinstance(started, BatchCreation):
            return self._finish(context, started)
        self.log.info("Batch %s is being filled by Labelbox task %s", started.batch_id, started.task_id)
        task = self.wait_for_task(started.task_id, context={"pending": started.to_dict()})
        return self._finish(context, self.client.batches.finish(self.project_id, started, task))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        from airflow_mmc_provider.client.models import PendingBatch, Task

        self.resumed(event, f"Waiting for Labelbox batch task {event.get('labelbox_task_id')}")
        pending = PendingBatch.from_dict(event["context"]["pending"])
        task = Task.from_dict(event["task"])
        return self._finish(context, self.client.batches.finish(self.project_id, pending, task))

    def _finish(self, context: Context, creation: BatchCreation) -> dict[str, Any]:
        batch, failed = creation.batch, creation.failed_data_row_ids
        verb = "Created" if creation.created else "Found existing"
        self.log.info("%s batch %r (%s) with %s data rows", verb, batch.name, batch.id, batch.size)
        for row_id in failed:
            self.log.error("Data row %s was not added to batch %r", row_id, batch.name)
        if len(failed) > self.max_failed_rows:
            shown = ", ".join(failed[:50]) + (" ..." if len(failed) > 50 else "")
            raise AirflowException(
                f"{len(failed)} data row(s) could not be added to batch {batch.name!r} (tolerated: "
                f"{self.max_failed_rows}); they are unknown or already in another batch of the project: {shown}"
            )
        summary = creation.summary()
        push_keys(context, {"batch_id": batch.id, "batch_size": batch.size}, ("batch_id", "batch_size"))
        return summary


def _consensus_numbers(consensus: dict[str, Any] | None) -> dict[str, Any] | None:
    """Templated settings arrive as strings unless the DAG renders native objects."""
    if not consensus:
        return None
    out = dict(consensus)
    for key in ("number_of_labels", "numberOfLabels"):
        if isinstance(out.get(key), str):
            out[key] = int(out[key])
    for key in ("coverage_percentage", "coveragePercentage"):
        if isinstance(out.get(key), str):
            out[key] = float(out[key])
    return out


def _as_list(value: Any) -> list[str] | None:
    """XCom may hand over a tuple or a lazy sequence; the API wants a plain list."""
    return [str(v) for v in value] if value else None
