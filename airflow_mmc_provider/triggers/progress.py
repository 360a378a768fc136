"""`LabelboxLabelingProgressTrigger`: wait until enough of a project's (or batches') rows are Done."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_mmc_provider.triggers.base import LabelboxPollTrigger, Poll

if TYPE_CHECKING:
    from airflow_mmc_provider.client import LabelboxClient


class LabelboxLabelingProgressTrigger(LabelboxPollTrigger):
    """Done when Done (+ Skipped, optionally) reaches `min_share` of All, per the project overview."""

    own_fields = ("project_id", "batch_ids", "min_share", "include_skipped")

    def __init__(
        self,
        project_id: str,
        batch_ids: list[str] | None = None,
        min_share: float = 1.0,
        include_skipped: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.project_id = project_id
        self.batch_ids = batch_ids
        self.min_share = min_share
        self.include_skipped = include_skipped

    def check(self, client: LabelboxClient) -> Poll:
        return labeling_progress(
            client, self.project_id, self.batch_ids, self.min_share, self.include_skipped
        )


def labeling_progress(
    client: LabelboxClient,
    project_id: str,
    batch_ids: list[str] | None,
    min_share: float,
    include_skipped: bool,
) -> Poll:
    """One look at labelling progress; shared by the sensor's poke and the trigger."""
    overview = client.projects.overview(project_id, batch_ids)
    share = overview.share_done(include_skipped=include_skipped)
    done = overview.total > 0 and share >= min_share
    scope = f"batches {', '.join(batch_ids)}" if batch_ids else f"project {project_id}"
    message = f"{scope}: {overview.done} of {overview.total} data rows Done ({share:.0%}, waiting for {min_share:.0%})"
    return Poll(done=done, message=message, payload={"counts": overview.counts, "share": share})
