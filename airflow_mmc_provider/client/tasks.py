"""Background tasks: fetch by id (through the creating user, as the API requires) and wait."""

from __future__ import annotations

import time
from collections.abc import Callable

from airflow_mmc_provider.client.errors import NotFoundError, TaskTimeoutError
from airflow_mmc_provider.client.models import Task, User
from airflow_mmc_provider.client.transport import Transport

TASK_FIELDS = "completionPercentage createdAt errors metadata name result status type id updatedAt"
USER_FIELDS = "createdAt email isExternalUser isViewer lastLoginAt nickname name picture id updatedAt"


class Tasks:
    """Task look-ups. Labelbox only exposes tasks under `user.createdTasks`, so the user id is cached."""

    def __init__(self, transport: Transport, sleep: Callable[[float], None] = time.sleep) -> None:
        self._transport = transport
        self._sleep = sleep
        self._user: User | None = None

    def current_user(self) -> User:
        if self._user is None:
            data = self._transport.execute(f"query GetUserPyApi{{user{{{USER_FIELDS}}}}}")
            self._user = User.from_graphql(data["user"])
        return self._user

    def get(self, task_id: str) -> Task:
        query = (
            "query GetUserCreatedTasksPyApi($userId: ID!, $taskId: ID!){user(where: {id: $userId})"
            f"{{createdTasks(where: {{id: $taskId}} skip: 0 first: 1){{{TASK_FIELDS}}}}}}}"
        )
        data = self._transport.execute(query, {"userId": self.current_user().id, "taskId": task_id})
        nodes = (data.get("user") or {}).get("createdTasks") or []
        if not nodes:
            raise NotFoundError(
                f"task {task_id!r} does not exist or was not created by this API key's user",
                operation="GetUserCreatedTasksPyApi",
            )
        return Task.from_graphql(nodes[0])

    def wait(self, task_id: str, *, timeout: float = 3600.0, poll_interval: float = 2.0) -> Task:
        """Poll until the task is terminal; polls quickly first, then every `poll_interval`."""
        deadline = time.monotonic() + timeout
        interval = min(0.25, poll_interval)
        while True:
            task = self.get(task_id)
            if task.is_terminal:
                return task
            if time.monotonic() + interval > deadline:
                raise TaskTimeoutError(
                    f"task {task_id} is still {task.status} after {timeout:.0f}s "
                    f"({task.completion_percentage or 0:.0f}% done); raise the timeout or wait again",
                    operation="wait for task",
                )
            self._sleep(interval)
            interval = min(poll_interval, interval * 2)
