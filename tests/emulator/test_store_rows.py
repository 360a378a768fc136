"""The store's one row mapper: how a column is read back follows the dataclass field's type."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from airflow_mmc_provider.emulator.store.rows import from_row, select_in


@dataclass(frozen=True)
class _Thing:
    id: str
    deleted: bool
    size: int
    score: float | None
    tags: list[str]
    settings: dict[str, Any] | None
    payload_json: str = field(metadata={"column": "payload"})


def _db() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    db.execute("CREATE TABLE t (seq INTEGER, id TEXT, deleted INTEGER, size INTEGER, score REAL, "
               "tags TEXT, settings TEXT, payload TEXT)")  # fmt: skip
    return db


def test_columns_are_read_back_by_field_type_and_renamed_columns_by_metadata():
    db = _db()
    db.execute("INSERT INTO t VALUES (1, 'a', 1, 3, NULL, '[\"x\"]', NULL, '{\"k\": 1}')")
    db.execute("INSERT INTO t VALUES (2, 'b', 0, 0, 0.5, '[]', '{\"n\": 2}', '[]')")
    first, second = (from_row(_Thing, row) for row in db.execute("SELECT * FROM t ORDER BY seq"))
    assert first == _Thing("a", True, 3, None, ["x"], None, '{"k": 1}')
    assert second == _Thing("b", False, 0, 0.5, [], {"n": 2}, "[]")
    assert type(first.deleted) is bool and type(second.deleted) is bool


def test_select_in_asks_each_value_once_in_chunks_sqlite_can_bind():
    db = _db()
    db.executemany("INSERT INTO t (seq, id) VALUES (?, ?)", [(n, f"r{n}") for n in range(1200)])
    wanted = [f"r{n}" for n in range(0, 1200, 2)] * 2 + ["missing"]
    rows = list(select_in(db, "SELECT id FROM t WHERE seq >= ? AND id IN ({marks})", wanted, 100))
    assert sorted(r["id"] for r in rows) == sorted(f"r{n}" for n in range(100, 1200, 2))
