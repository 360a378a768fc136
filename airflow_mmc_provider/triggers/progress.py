"""`LabelboxLabelingProgressTrigger`: wait until enough of a project's (or batches') rows are Done."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from airflow_mmc_provider.triggers.base import LabelboxPollTrigger, Poll

if TYPE_CHECKING:
    from airflow_mmc_provider.client import LabelboxClient


class LabelingGoal(NamedTuple):
    """What counts as labelled enough; the sensor's poke and the trigger's check share it."""

    project_id: str
    batch_ids: list[str] | None = None
    min_share: float = 1.0
    include_skipped: bool = False


class LabelboxLabelingProgressTrigger(LabelboxPollTrigger):
    """Done when Done (+ Skipped, optionally) reaches `min_share` of All, per the project overview."""

    def __init__(
        self,
        project_id: str,
        batch_ids: list[str] | None = None,
        min_share: float = 1.0,
        include_skipped: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.goal = LabelingGoal(project_id, batch_ids, min_share, include_skipped)

    def own_kwargs(self) -> dict[str, Any]:
        return self.goal._asdict()

    def check(self, client: LabelboxClient) -> Poll:
        return labeling_progress(client, self.goal)


def labeling_progress(client: LabelboxClient, goal: LabelingGoal) -> Poll:
    """One look at labelling progress; shared by the sensor's poke and the trigger."""
    overview = client.projects.overview(goal.project_id, goal.batch_ids)
    share = overview.share_done(include_skipped=goal.include_skipped)
    done = overview.total > 0 and share >= goal.min_share
    scope = f"batches {', '.join(goal.batch_ids)}" if goal.batch_ids else f"project {goal.project_id}"
    message = (
        f"{scope}: {overview.done} of {overview.total} data rows Done ({share:.0%}, "
        f"waiting for {goal.min_share:.0%})"
    )
    return Poll(done=done, message=message, payload={"counts": overview.counts, "share": share})
