"""Data-row upserts: the writer that inserts and updates rows in one transaction, and each task's
per-row outcome (rows written, specs rejected) that `successesful`/`failedDataRowImports` page."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from airflow_mmc_provider.emulator.ids import now
from airflow_mmc_provider.emulator.metadata import MetadataSchema
from airflow_mmc_provider.emulator.store.base import StoreBase
from airflow_mmc_provider.emulator.store.data_rows import DATA_ROW_COLUMNS, DataRow, DataRowValues, live_ids
from airflow_mmc_provider.emulator.store.metadata import metadata_schemas_in
from airflow_mmc_provider.emulator.store.rows import dumps, from_rows, select_in
from airflow_mmc_provider.emulator.store.tasks import TaskWriter

_JOINED_DATA_ROW_COLUMNS = ", ".join("r." + column.strip() for column in DATA_ROW_COLUMNS.split(","))


@dataclass(frozen=True)
class RowRef:
    """Just enough of a stored row to decide what an upsert spec does to it."""

    id: str
    global_key: str | None
    dataset_id: str


@dataclass(frozen=True)
class NewDataRow(DataRowValues):
    """A row to insert; ids and timestamps are assigned by the caller so results can reference them."""


@dataclass(frozen=True)
class RowFields:
    """A validated payload; `None` means "not given" (an update keeps the stored value)."""

    dataset_id: str | None
    global_key: str | None
    external_id: str | None
    row_data: str | None
    media_type: str | None
    metadata: list[dict[str, Any]] | None
    attachments: list[dict[str, Any]] | None


@dataclass(frozen=True)
class DataRowUpdate:
    """An existing row and the payload's values for it: `None` keeps the stored value (so global
    keys cannot be unset), and an update leaves the row in its dataset."""

    id: str
    values: RowFields


@dataclass(frozen=True)
class FailedRow:
    """One rejected spec of a data-row upsert, kept as the client sent it (for `failedDataRowImports`)."""

    message: str
    external_id: str | None = None
    global_key: str | None = None
    row_data: str | None = None
    metadata: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)


class UpsertState(StoreBase):
    def task_successes(self, task_id: str, *, offset: int, limit: int) -> tuple[list[DataRow], int]:
        """A page of the rows a task created or updated (current values), and how many there are."""
        rows = self._db.execute(
            f"SELECT {_JOINED_DATA_ROW_COLUMNS} "  # noqa: S608
            "FROM task_results t JOIN data_rows r ON r.id = t.data_row_id "
            "WHERE t.task_id = ? AND t.ok = 1 AND t.position >= ? ORDER BY t.position LIMIT ?",
            (task_id, offset, limit),
        ).fetchall()
        return from_rows(DataRow, rows), self._count_results(task_id, ok=True)

    def task_failures(self, task_id: str, *, offset: int, limit: int) -> tuple[list[FailedRow], int]:
        """A page of the specs a task rejected, with their reasons, and how many there are."""
        rows = self._db.execute(
            "SELECT message, spec FROM task_results WHERE task_id = ? AND ok = 0 AND position >= ? "
            "ORDER BY position LIMIT ?",
            (task_id, offset, limit),
        ).fetchall()
        failures = [FailedRow(message=r["message"], **json.loads(r["spec"])) for r in rows]
        return failures, self._count_results(task_id, ok=False)

    def _count_results(self, task_id: str, *, ok: bool) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) AS n FROM task_results WHERE task_id = ? AND ok = ?", (task_id, int(ok))
        ).fetchone()
        return int(row["n"])

    @contextmanager
    def data_row_writer(self) -> Iterator[DataRowWriter]:
        """A write transaction for an upsert: look-ups, inserts, updates, results, all or nothing."""
        with self.transaction() as db:
            yield DataRowWriter(db, self.organization.id, self.user.id)


class DataRowWriter(TaskWriter):
    """Bulk operations for one upsert, all inside the writer's transaction (so look-ups cannot race)."""

    def metadata_schemas(self) -> list[MetadataSchema]:
        return metadata_schemas_in(self.db, self.organization_id)

    def live_dataset_ids(self, dataset_ids: Iterable[str]) -> set[str]:
        return live_ids(self.db, self.organization_id, "datasets", dataset_ids)

    def rows_by_global_key(self, global_keys: Iterable[str]) -> dict[str, RowRef]:
        """Live rows owning these keys (ids and keys only: cheap for tens of thousands)."""
        refs = self._refs_where("global_key", global_keys)
        return {ref.global_key: ref for ref in refs if ref.global_key is not None}

    def rows_by_id(self, data_row_ids: Iterable[str]) -> dict[str, RowRef]:
        return {ref.id: ref for ref in self._refs_where("id", data_row_ids)}

    def _refs_where(self, column: str, values: Iterable[str]) -> list[RowRef]:
        rows = select_in(
            self.db,
            "SELECT id, global_key, dataset_id FROM data_rows WHERE organization_id = ? AND deleted = 0 "  # noqa: S608 - column is id or global_key
            f"AND {column} IN ({{marks}})",
            values,
            self.organization_id,
        )
        return [RowRef(r["id"], r["global_key"], r["dataset_id"]) for r in rows]

    def insert(self, rows: Sequence[NewDataRow]) -> None:
        stamp = now()
        self.db.executemany(
            "INSERT INTO data_rows (id, organization_id, dataset_id, global_key, external_id, row_data, "
            "media_type, metadata, attachments, created_by, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (r.id, self.organization_id, r.dataset_id, r.global_key, r.external_id, r.row_data,
                 r.media_type, dumps(r.metadata), dumps(r.attachments), self.user_id, stamp, stamp)
                for r in rows
            ],
        )  # fmt: skip

    def update(self, updates: Sequence[DataRowUpdate]) -> None:
        self.db.executemany(
            "UPDATE data_rows SET global_key = COALESCE(?, global_key), "
            "external_id = COALESCE(?, external_id), row_data = COALESCE(?, row_data), "
            "media_type = COALESCE(?, media_type), metadata = COALESCE(?, metadata), "
            "attachments = COALESCE(?, attachments), updated_at = ? WHERE id = ?",
            [_update_parameters(update) for update in updates],
        )

    def touch_datasets(self, dataset_ids: Iterable[str]) -> None:
        stamp = now()
        self.db.executemany(
            "UPDATE datasets SET updated_at = ? WHERE id = ?", [(stamp, d) for d in set(dataset_ids)]
        )

    def record_results(self, task_id: str, succeeded: Sequence[str], failed: Sequence[FailedRow]) -> None:
        """Per-task outcome rows: ids of rows written, and each rejected spec with its message."""
        self.db.executemany(
            "INSERT INTO task_results (task_id, ok, position, data_row_id) VALUES (?, 1, ?, ?)",
            [(task_id, position, row_id) for position, row_id in enumerate(succeeded)],
        )
        self.db.executemany(
            "INSERT INTO task_results (task_id, ok, position, message, spec) VALUES (?, 0, ?, ?, ?)",
            [(task_id, position, f.message, dumps(_spec(f))) for position, f in enumerate(failed)],
        )


def _update_parameters(update: DataRowUpdate) -> tuple[Any, ...]:
    """The values an update gives (None keeps the column), its time, then the row's id."""
    given = update.values
    metadata = None if given.metadata is None else dumps(given.metadata)
    attachments = None if given.attachments is None else dumps(given.attachments)
    return (given.global_key, given.external_id, given.row_data, given.media_type, metadata,
            attachments, now(), update.id)  # fmt: skip


def _spec(failed: FailedRow) -> dict[str, Any]:
    """The spec as stored: every field but the message (which has its own column)."""
    spec = asdict(failed)
    del spec["message"]
    return spec
