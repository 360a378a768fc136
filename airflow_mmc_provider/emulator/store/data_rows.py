"""Data rows: read by id, by global key or a dataset's page at a time (upserts write them)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_mmc_provider.emulator.store.base import StoreBase
from airflow_mmc_provider.emulator.store.rows import check_filters, fetch_one, from_rows, select_in


@dataclass(frozen=True)
class DataRowValues:
    """What a data row holds: what an upsert writes, and what a read returns with its timestamps."""

    id: str
    dataset_id: str
    global_key: str | None
    external_id: str | None
    row_data: str
    media_type: str | None
    metadata: list[dict[str, Any]]
    attachments: list[dict[str, Any]]


@dataclass(frozen=True)
class DataRow(DataRowValues):
    created_at: str
    updated_at: str


# Columns a caller may filter on (values are bound; names are checked against this set).
DATA_ROW_FILTERS = frozenset({"id", "external_id", "global_key"})
DATA_ROW_COLUMNS = (
    "id, dataset_id, global_key, external_id, row_data, media_type, metadata, attachments, "
    "created_at, updated_at"
)


def row_ids_for_global_keys(
    db: sqlite3.Connection, organization_id: str, global_keys: Iterable[str]
) -> dict[str, str]:
    """global key -> id of the live row owning it, for the keys that name one."""
    rows = select_in(
        db,
        "SELECT global_key, id FROM data_rows WHERE organization_id = ? AND deleted = 0 "
        "AND global_key IN ({marks})",
        global_keys,
        organization_id,
    )
    return {r["global_key"]: r["id"] for r in rows}


def live_ids(db: sqlite3.Connection, organization_id: str, table: str, ids: Iterable[str]) -> set[str]:
    """Which of these ids name a live row of `table` (data rows or datasets) of the organisation."""
    query = f"SELECT id FROM {table} WHERE organization_id = ? AND deleted = 0 AND id IN ({{marks}})"  # noqa: S608
    return {r["id"] for r in select_in(db, query, ids, organization_id)}


class DataRowState(StoreBase):
    def get_data_row(self, data_row_id: str) -> DataRow | None:
        return self._live_row("id = ?", data_row_id)

    def get_data_row_by_global_key(self, global_key: str) -> DataRow | None:
        return self._live_row("global_key = ?", global_key)

    def _live_row(self, condition: str, value: str) -> DataRow | None:
        """The live row of the organisation that `condition` (one bound value) names."""
        query = f"SELECT {DATA_ROW_COLUMNS} FROM data_rows WHERE organization_id = ? AND {condition} AND deleted = 0"  # noqa: S608
        return fetch_one(self._db, DataRow, query, (self.organization.id, value))

    def data_row_ids_for_global_keys(self, global_keys: Sequence[str]) -> dict[str, str]:
        """global key -> data row id, for the keys that name a live row."""
        return row_ids_for_global_keys(self._db, self.organization.id, global_keys)

    def count_live_rows(self, *, data_row_ids: Sequence[str] = (), global_keys: Sequence[str] = ()) -> int:
        """How many of these ids and keys name a live data row."""
        found = live_ids(self._db, self.organization.id, "data_rows", data_row_ids)
        return len(found) + len(self.data_row_ids_for_global_keys(global_keys))

    def dataset_data_rows(
        self,
        dataset_id: str,
        *,
        start_id: str | None,
        limit: int,
        filters: dict[str, str] | None = None,
    ) -> tuple[list[DataRow], str | None]:
        """A page of a dataset's rows, newest first, starting at `start_id`; plus the next page's start."""
        conditions = ["dataset_id = ?", "deleted = 0"]
        params: list[Any] = [dataset_id]
        check_filters(filters or {}, DATA_ROW_FILTERS)
        for column, value in (filters or {}).items():
            conditions.append(f"{column} = ?")
            params.append(value)
        if start_id:
            conditions.append("seq <= COALESCE((SELECT seq FROM data_rows WHERE id = ?), -1)")
            params.append(start_id)
        rows = self._db.execute(
            f"SELECT {DATA_ROW_COLUMNS} FROM data_rows WHERE {' AND '.join(conditions)} "  # noqa: S608
            "ORDER BY seq DESC LIMIT ?",
            (*params, limit + 1),
        ).fetchall()
        page = from_rows(DataRow, rows[:limit])
        return page, (rows[limit]["id"] if len(rows) > limit else None)
