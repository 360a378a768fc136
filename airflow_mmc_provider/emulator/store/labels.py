"""Labels (annotations in import form) and what simulated raters do to their rows' workflow."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_mmc_provider.emulator.ids import format_timestamp, now
from airflow_mmc_provider.emulator.labels import StoredLabel
from airflow_mmc_provider.emulator.store.base import StoreBase
from airflow_mmc_provider.emulator.store.rows import dumps, from_rows
from airflow_mmc_provider.emulator.workflow import DONE, IN_REVIEW, SKIPPED, TO_LABEL


def record_move(
    db: sqlite3.Connection, project_id: str, data_row_id: str, moved: tuple[str, str, str]
) -> None:
    """One line of a row's workflow history: (from state, to state, when)."""
    db.execute(
        "INSERT INTO workflow_history (project_id, data_row_id, from_state, to_state, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (project_id, data_row_id, *moved),
    )


class LabelState(StoreBase):
    def add_labels(self, labels: Sequence[StoredLabel], db: sqlite3.Connection | None = None) -> None:
        """Store labels (inside the caller's transaction when given); they touch their rows' activity."""
        statement = (
            "INSERT INTO labels (id, project_id, data_row_id, annotations, created_by, seconds_to_create, "
            "skipped, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        values = [
            (lb.id, lb.project_id, lb.data_row_id, dumps(lb.annotations), lb.created_by, lb.seconds_to_create,
             int(lb.skipped), lb.created_at, lb.updated_at)
            for lb in labels
        ]  # fmt: skip
        if db is not None:
            db.executemany(statement, values)
            return
        with self.transaction() as own:
            own.executemany(statement, values)

    def labels_of(self, project_id: str, data_row_id: str) -> list[StoredLabel]:
        rows = self._db.execute(
            "SELECT * FROM labels WHERE project_id = ? AND data_row_id = ? ORDER BY seq",
            (project_id, data_row_id),
        ).fetchall()
        return from_rows(StoredLabel, rows)

    def labels_of_row(self, data_row_id: str, *, skip: int, first: int) -> list[StoredLabel]:
        """A data row's labels in every project, oldest first (`DataRow.labels`)."""
        rows = self._db.execute(
            "SELECT * FROM labels WHERE data_row_id = ? ORDER BY seq LIMIT ? OFFSET ?",
            (data_row_id, first, skip),
        ).fetchall()
        return from_rows(StoredLabel, rows)

    def label_count(self, project_id: str) -> int:
        return self._count("labels", project_id)

    def prelabel_count(self, project_id: str) -> int:
        return self._count("prelabels", project_id)

    def _count(self, table: str, project_id: str) -> int:
        query = f"SELECT COUNT(*) AS n FROM {table} WHERE project_id = ?"  # noqa: S608 - fixed table names
        return int(self._db.execute(query, (project_id,)).fetchone()["n"])

    def rows_due_for_raters(self, delay_seconds: float) -> list[sqlite3.Row]:
        """ToLabel rows without a label whose batch arrived at least `delay_seconds` ago."""
        cutoff = format_timestamp(datetime.now(timezone.utc) - timedelta(seconds=delay_seconds))
        return self._db.execute(
            "SELECT m.project_id, m.data_row_id, r.global_key, r.row_data, p.ontology_id, b.consensus_settings "
            "FROM project_data_rows m JOIN data_rows r ON r.id = m.data_row_id "
            "JOIN projects p ON p.id = m.project_id JOIN batches b ON b.id = m.batch_id "
            "WHERE m.state = ? AND m.added_at <= ? AND p.deleted = 0 AND r.deleted = 0 AND NOT EXISTS "
            "(SELECT 1 FROM labels l WHERE l.project_id = m.project_id AND l.data_row_id = m.data_row_id) "
            "ORDER BY m.added_at, r.seq LIMIT 5000",
            (TO_LABEL, cutoff),
        ).fetchall()

    def record_simulated_labels(self, rows: Sequence[Any]) -> None:
        """Labels of simulated raters, and their rows' moves (ToLabel -> InReview -> Done, or Skipped)."""
        with self.transaction() as db:
            for row in rows:
                current = db.execute(
                    "SELECT state FROM project_data_rows WHERE project_id = ? AND data_row_id = ?",
                    (row.project_id, row.data_row_id),
                ).fetchone()
                if current is None or current["state"] != TO_LABEL:
                    continue  # moved meanwhile: leave it alone
                self.add_labels(row.labels, db)
                path = [SKIPPED] if row.skipped else [IN_REVIEW, DONE]
                previous = TO_LABEL
                for state in path:
                    record_move(db, row.project_id, row.data_row_id, (previous, state, now()))
                    previous = state
                db.execute(
                    "UPDATE project_data_rows SET state = ?, labeled = ?, updated_at = ? "
                    "WHERE project_id = ? AND data_row_id = ?",
                    (previous, int(not row.skipped), now(), row.project_id, row.data_row_id),
                )
                db.execute("UPDATE projects SET last_activity_time = ? WHERE id = ?", (now(), row.project_id))
