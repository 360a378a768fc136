"""`LabelboxLabelingProgressSensor`: wait until a batch's data rows are labelled (all, or a share)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import PokeReturnValue

from airflow_mmc_provider.sensors._deferrable import LabelboxDeferrableSensor

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_mmc_provider.triggers.base import LabelboxPollTrigger
    from airflow_mmc_provider.triggers.progress import LabelingGoal


class LabelboxLabelingProgressSensor(LabelboxDeferrableSensor):
    """Succeed when Done rows reach `min_share` of the rows, through the project overview counts.

    :param project_id: the project (templated).
    :param batch_ids: restrict to these batches, e.g. this round's batch (templated); None = project.
    :param min_share: share of rows that must be Done, 0 < min_share <= 1.
    :param include_skipped: count Skipped rows as finished.
    """

    template_fields: Sequence[str] = ("project_id", "batch_ids", "min_share", "labelbox_conn_id")

    def __init__(
        self,
        *,
        project_id: str,
        batch_ids: list[str] | str | None = None,
        min_share: float | str = 1.0,
        include_skipped: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.project_id = project_id
        self.batch_ids = batch_ids
        self.min_share = min_share
        self.include_skipped = include_skipped

    def _goal(self) -> LabelingGoal:
        """The rendered arguments as the goal (templated values arrive as strings)."""
        from airflow_mmc_provider.triggers.progress import LabelingGoal

        share = float(self.min_share)
        if not 0 < share <= 1:
            raise ValueError(f"min_share must be a share in (0, 1], got {self.min_share!r}")
        batch_ids = self.batch_ids
        if batch_ids is not None:
            batch_ids = [batch_ids] if isinstance(batch_ids, str) else [str(b) for b in batch_ids]
        return LabelingGoal(self.project_id, batch_ids, share, self.include_skipped)

    def poke(self, context: Context) -> bool | PokeReturnValue:
        from airflow_mmc_provider.triggers.progress import labeling_progress

        poll = labeling_progress(self.client, self._goal())
        self.log.info("%s", poll.message)
        return PokeReturnValue(is_done=poll.done, xcom_value={"counts": poll.payload["counts"]})

    def waiting_for(self) -> tuple[type[LabelboxPollTrigger], dict[str, Any]]:
        from airflow_mmc_provider.triggers.progress import LabelboxLabelingProgressTrigger

        return LabelboxLabelingProgressTrigger, self._goal()._asdict()

    def result(self, event: dict[str, Any]) -> dict[str, Any]:
        return {"counts": event.get("counts", {})}
