"""Batches: named sets of a project's rows, each row in one batch of the project at a time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from airflow_mmc_provider.emulator.ids import new_id, now
from airflow_mmc_provider.emulator.store.base import StoreBase
from airflow_mmc_provider.emulator.store.data_rows import live_ids, row_ids_for_global_keys
from airflow_mmc_provider.emulator.store.rows import created, dumps, from_rows, select_in
from airflow_mmc_provider.emulator.store.tasks import TaskWriter


@dataclass(frozen=True)
class Batch:
    id: str
    project_id: str
    name: str
    consensus_settings: dict[str, Any] | None
    size: int
    deleted: bool
    created_by: str | None
    created_at: str
    updated_at: str


class BatchNameTaken(ValueError):
    """A live batch of the project already has this name."""


class BatchState(StoreBase):
    def create_batch(self, project_id: str, name: str, consensus_settings: dict[str, Any] | None) -> Batch:
        """An empty batch; raise BatchNameTaken when a live batch of the project has the name."""
        with self.batch_writer() as writer:
            batch_id = writer.create_batch(project_id, name, consensus_settings)
        return created(self.get_batch(batch_id))

    def get_batch(self, batch_id: str) -> Batch | None:
        found = self._batches_where("b.id = ? AND b.deleted = 0", (batch_id,))
        return found[0] if found else None

    def batches_page(
        self, project_id: str, *, after: str | None, limit: int
    ) -> tuple[list[Batch], str | None]:
        """A project's live batches, oldest first, after the cursor (the previous page's last id)."""
        condition = "b.project_id = ? AND b.deleted = 0"
        params: list[Any] = [project_id]
        if after:
            condition += " AND b.seq > ?"
            params.append(self._seq("batches", after))
        found = self._batches_where(condition + " ORDER BY b.seq LIMIT ?", (*params, limit + 1))
        page = found[:limit]
        return page, (page[-1].id if len(found) > limit and page else None)

    def _batches_where(self, condition: str, params: tuple[Any, ...]) -> list[Batch]:
        rows = self._db.execute(
            "SELECT b.*, (SELECT COUNT(*) FROM project_data_rows m WHERE m.batch_id = b.id) AS size "  # noqa: S608
            f"FROM batches b WHERE {condition}",
            params,
        ).fetchall()
        return from_rows(Batch, rows)

    @contextmanager
    def batch_writer(self) -> Iterator[BatchWriter]:
        """A write transaction for adding rows to a batch: look-ups and inserts, all or nothing."""
        with self.transaction() as db:
            yield BatchWriter(db, self.organization.id, self.user.id)


class BatchWriter(TaskWriter):
    """Bulk operations for filling one batch, inside the writer's transaction (so checks cannot race)."""

    def live_row_ids(self, data_row_ids: Iterable[str]) -> set[str]:
        return live_ids(self.db, self.organization_id, "data_rows", data_row_ids)

    def row_ids_for_global_keys(self, global_keys: Iterable[str]) -> dict[str, str]:
        """global key -> id of the live row owning it."""
        return row_ids_for_global_keys(self.db, self.organization_id, global_keys)

    def batch_of_rows(self, project_id: str, data_row_ids: Iterable[str]) -> dict[str, str]:
        """data row id -> the batch holding it in this project, for rows already in the project."""
        rows = select_in(
            self.db,
            "SELECT data_row_id, batch_id FROM project_data_rows WHERE project_id = ? AND data_row_id IN ({marks})",
            data_row_ids,
            project_id,
        )
        return {r["data_row_id"]: r["batch_id"] for r in rows}

    def create_batch(self, project_id: str, name: str, consensus_settings: dict[str, Any] | None) -> str:
        """Insert an empty batch and return its id; BatchNameTaken if a live batch has the name."""
        taken = self.db.execute(
            "SELECT 1 FROM batches WHERE project_id = ? AND name = ? AND deleted = 0", (project_id, name)
        ).fetchone()
        if taken:
            raise BatchNameTaken(name)
        stamp, batch_id = now(), new_id()
        settings = None if consensus_settings is None else dumps(consensus_settings)
        self.db.execute(
            "INSERT INTO batches (id, project_id, name, consensus_settings, created_by, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (batch_id, project_id, name, settings, self.user_id, stamp, stamp),
        )
        return batch_id

    def batch_is_live(self, project_id: str, batch_id: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM batches WHERE id = ? AND project_id = ? AND deleted = 0", (batch_id, project_id)
        ).fetchone()
        return row is not None

    def add(
        self, project_id: str, batch_id: str, data_row_ids: Sequence[str], *, priority: int, state: str
    ) -> None:
        """Put rows into the batch (and so the project) in `state`; touch the batch and project."""
        stamp = now()
        self.db.executemany(
            "INSERT INTO project_data_rows (project_id, data_row_id, batch_id, priority, state, added_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(project_id, row_id, batch_id, priority, state, stamp, stamp) for row_id in data_row_ids],
        )
        self.db.execute("UPDATE batches SET updated_at = ? WHERE id = ?", (stamp, batch_id))
        self.db.execute(
            "UPDATE projects SET last_activity_time = ?, updated_at = ? WHERE id = ?",
            (stamp, stamp, project_id),
        )
