"""Tasks: the background work a client polls (upserts, batches, exports, imports), by status."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from airflow_mmc_provider.emulator.ids import new_id, now
from airflow_mmc_provider.emulator.store.base import StoreBase
from airflow_mmc_provider.emulator.store.rows import (
    check_filters,
    created,
    dumps,
    fetch_one,
    from_rows,
)

# Task statuses (wire reference 3.3).
IN_PROGRESS = "IN_PROGRESS"
COMPLETE = "COMPLETE"
FAILED = "FAILED"

# Columns a caller may filter on (values are bound; names are checked against this set).
TASK_FILTERS = frozenset({"id", "status", "type"})
_TASK_COLUMNS = (
    "id, organization_id, created_by, type, name, status, completion_percentage, result, errors, "
    "metadata, input, created_at, updated_at"
)


@dataclass(frozen=True)
class Task:
    id: str
    organization_id: str
    created_by: str
    type: str
    name: str
    status: str
    completion_percentage: float
    result: str | None
    errors: str | None
    metadata: Any
    input_json: str = field(repr=False, metadata={"column": "input"})
    created_at: str
    updated_at: str

    @property
    def input(self) -> dict[str, Any]:
        """What the task works on, parsed on use (a batch task carries up to 100,000 ids)."""
        parsed: dict[str, Any] = json.loads(self.input_json)
        return parsed


def finish_task_in(
    db: sqlite3.Connection,
    task_id: str,
    *,
    status: str,
    result: str | None,
    errors: str | None,
    metadata: Any,
) -> None:
    """Record a task's outcome inside the transaction `db` (the one that did its work)."""
    db.execute(
        "UPDATE tasks SET status = ?, completion_percentage = 100, result = ?, errors = ?, "
        "metadata = ?, updated_at = ? WHERE id = ?",
        (status, result, errors, dumps(metadata), now(), task_id),
    )


class TaskState(StoreBase):
    def create_task(self, task_type: str, name: str, task_input: dict[str, Any]) -> Task:
        stamp, task_id = now(), new_id()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO tasks (id, organization_id, created_by, type, name, status, input, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (task_id, self.organization.id, self.user.id, task_type, name, IN_PROGRESS, dumps(task_input),
                 stamp, stamp),
            )  # fmt: skip
        return created(self.get_task(task_id))

    def get_task(self, task_id: str) -> Task | None:
        return fetch_one(self._db, Task, f"SELECT {_TASK_COLUMNS} FROM tasks WHERE id = ?", (task_id,))  # noqa: S608

    def tasks_created_by(self, user_id: str, *, filters: dict[str, str], skip: int, first: int) -> list[Task]:
        """A user's tasks, newest first, filtered on equality of the given columns."""
        check_filters(filters, TASK_FILTERS)
        conditions = ["created_by = ?"] + [f"{column} = ?" for column in filters]
        rows = self._db.execute(
            f"SELECT {_TASK_COLUMNS} FROM tasks WHERE {' AND '.join(conditions)} "  # noqa: S608
            "ORDER BY seq DESC LIMIT ? OFFSET ?",
            (user_id, *filters.values(), first, skip),
        ).fetchall()
        return from_rows(Task, rows)

    def unfinished_tasks(self) -> list[Task]:
        """Tasks still in progress (e.g. interrupted by a restart), oldest first."""
        rows = self._db.execute(
            f"SELECT {_TASK_COLUMNS} FROM tasks WHERE status = ? ORDER BY seq",  # noqa: S608
            (IN_PROGRESS,),
        ).fetchall()
        return from_rows(Task, rows)

    def has_unfinished_tasks(self, task_type: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM tasks WHERE organization_id = ? AND type = ? AND status = ? LIMIT 1",
            (self.organization.id, task_type, IN_PROGRESS),
        ).fetchone()
        return row is not None

    def finish_task(
        self,
        task_id: str,
        *,
        status: str,
        result: str | None,
        errors: str | None,
        metadata: Any,
        db: sqlite3.Connection | None = None,
    ) -> None:
        """Record a task's outcome, inside the caller's transaction `db` when given (with its work)."""
        if db is not None:
            finish_task_in(db, task_id, status=status, result=result, errors=errors, metadata=metadata)
            return
        with self.transaction() as own:
            finish_task_in(own, task_id, status=status, result=result, errors=errors, metadata=metadata)


class TaskWriter:
    """The part every bulk writer shares: its transaction, and finishing its task inside it."""

    def __init__(self, db: sqlite3.Connection, organization_id: str, user_id: str) -> None:
        self.db = db
        self.organization_id = organization_id
        self.user_id = user_id

    def finish_task(
        self, task_id: str, *, status: str, result: str | None, errors: str | None, metadata: Any
    ) -> None:
        finish_task_in(self.db, task_id, status=status, result=result, errors=errors, metadata=metadata)
