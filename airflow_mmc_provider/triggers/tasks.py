"""`LabelboxTaskTrigger`: waits in the triggerer for a Labelbox background task to finish.

Used for data-row upserts and batch tasks. Its payload is plain JSON, its deadline is wall-clock
time passed in by the operator (so it survives a move to another triggerer), and it always ends
with exactly one event: `success`, `failed`, `timeout` or `error`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


class LabelboxTaskTrigger(BaseTrigger):
    """Poll `user.createdTasks` until the task is COMPLETE, FAILED or CANCELED, or the deadline."""

    def __init__(
        self,
        task_id: str,
        labelbox_conn_id: str,
        end_time: float,
        poll_interval: float = 5.0,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.task_id = task_id
        self.labelbox_conn_id = labelbox_conn_id
        self.end_time = end_time
        self.poll_interval = poll_interval
        # Opaque JSON the operator needs back when it resumes; `dags test` drops defer kwargs.
        self.context = context or {}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "task_id": self.task_id,
                "labelbox_conn_id": self.labelbox_conn_id,
                "end_time": self.end_time,
                "poll_interval": self.poll_interval,
                "context": self.context,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_mmc_provider.hooks.labelbox import LabelboxHook

        event: dict[str, Any]
        try:
            client = await LabelboxHook(self.labelbox_conn_id).aget_conn()
            event = await self._poll(client)
        except Exception as error:
            event = {"status": "error", "message": str(error)}
        event.update(task_id=self.task_id, context=self.context)
        yield TriggerEvent(event)

    async def _poll(self, client: Any) -> dict[str, Any]:
        while True:
            # The client is synchronous; a worker thread keeps the triggerer's event loop free.
            task = await asyncio.to_thread(client.tasks.get, self.task_id)
            if task.is_terminal:
                status = "success" if task.succeeded else "failed"
                return {"status": status, "task": task.to_dict(), "message": f"task ended {task.status}"}
            if time.time() >= self.end_time:
                return {
                    "status": "timeout",
                    "task": task.to_dict(),
                    "message": f"task still {task.status} at the deadline",
                }
            self.log.debug("Labelbox task %s is %s", self.task_id, task.status)
            await asyncio.sleep(min(self.poll_interval, max(0.0, self.end_time - time.time()) + 0.01))
