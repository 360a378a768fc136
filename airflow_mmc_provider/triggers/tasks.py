"""`LabelboxTaskTrigger`: wait for a Labelbox background task (upsert, batch, export)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_mmc_provider.triggers.base import LabelboxPollTrigger, Poll

if TYPE_CHECKING:
    from airflow_mmc_provider.client import LabelboxClient


class LabelboxTaskTrigger(LabelboxPollTrigger):
    """Done when the task is COMPLETE (success) or FAILED/CANCELED (failed)."""

    own_fields = ("labelbox_task_id",)

    def __init__(self, labelbox_task_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.labelbox_task_id = labelbox_task_id

    def check(self, client: LabelboxClient) -> Poll:
        task = client.tasks.get(self.labelbox_task_id)
        percent = (
            f", {task.completion_percentage:.0f}% done" if task.completion_percentage is not None else ""
        )
        return Poll(
            done=task.is_terminal,
            succeeded=task.succeeded,
            message=f"task {self.labelbox_task_id} is {task.status}{percent}",
            payload={"task": task.to_dict()},
        )
