"""`LabelboxExportSensor`: wait for an export task (poke, reschedule or deferrable)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException, PokeReturnValue

from airflow_mmc_provider.sensors._deferrable import LabelboxDeferrableSensor

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_mmc_provider.triggers.base import LabelboxPollTrigger


class LabelboxExportSensor(LabelboxDeferrableSensor):
    """Succeed when the export task is COMPLETE; fail at once if it FAILED or was CANCELED.

    Returns the stream sizes (bytes and lines of RESULT and ERRORS, and ``empty``) for downstream
    tasks. An export with no rows fails (its filters selected nothing) unless `allow_empty`.

    :param export_task_id: typically `LabelboxStartExportOperator`'s XCom (templated).
    :param allow_empty: succeed on an export with no rows (``"empty": True`` in the sizes), as in a
        scheduled incremental export where an interval without activity is normal.
    """

    template_fields: Sequence[str] = ("export_task_id", "labelbox_conn_id")

    def __init__(self, *, export_task_id: str, allow_empty: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.export_task_id = export_task_id
        self.allow_empty = allow_empty

    def poke(self, context: Context) -> bool | PokeReturnValue:
        task = self.client.tasks.get(self.export_task_id)
        self.log.info("Labelbox export %s is %s", self.export_task_id, task.status)
        if not task.is_terminal:
            return False
        if not task.succeeded:
            raise AirflowFailException(
                f"Labelbox export {self.export_task_id} ended {task.status}: {task.errors or ''}"
            )
        return PokeReturnValue(is_done=True, xcom_value=self._sizes())

    def waiting_for(self) -> tuple[type[LabelboxPollTrigger], dict[str, Any]]:
        from airflow_mmc_provider.triggers.tasks import LabelboxTaskTrigger

        return LabelboxTaskTrigger, {"labelbox_task_id": self.export_task_id}

    def result(self, event: dict[str, Any]) -> dict[str, Any]:
        return self._sizes()

    def _sizes(self) -> dict[str, Any]:
        from airflow_mmc_provider.client.export_spec import nothing_selected
        from airflow_mmc_provider.client.exports import ERRORS, RESULT

        exports = self.client.exports
        sizes: dict[str, Any] = {"export_task_id": self.export_task_id}
        for stream in (RESULT, ERRORS):
            header = exports.header(self.export_task_id, stream)
            sizes[stream.lower()] = (
                {"bytes": header.total_size, "lines": header.total_lines} if header else None
            )
        sizes["empty"] = not (sizes["result"] or {}).get("lines")
        if sizes["empty"] and not self.allow_empty:
            raise AirflowFailException(nothing_selected(self.export_task_id, None))
        return sizes
