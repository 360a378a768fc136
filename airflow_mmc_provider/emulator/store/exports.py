"""What an export reads (a project's rows with their place in it) and the streams it leaves."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from airflow_mmc_provider.emulator.store.base import StoreBase


class ExportState(StoreBase):
    def project_rows(self, project_id: str) -> Iterator[sqlite3.Row]:
        """Every row of the project with its dataset, batch and workflow place, in batch order.

        A cursor of its own, read lazily, so an export's memory does not grow with the project.
        """
        connection = sqlite3.connect(self._db_path, check_same_thread=False)
        connection.row_factory = sqlite3.Row
        try:
            yield from connection.execute(
                "SELECT r.id, r.global_key, r.external_id, r.row_data, r.media_type, r.metadata, r.attachments, "
                "r.created_at, r.updated_at, r.dataset_id, d.name AS dataset_name, m.batch_id, b.name AS batch_name, "
                "b.consensus_settings, m.priority, m.state, m.updated_at AS moved_at, m.added_at, "
                "(SELECT MAX(l.updated_at) FROM labels l WHERE l.project_id = m.project_id "
                " AND l.data_row_id = r.id) AS labeled_at_last, "
                "(SELECT MIN(l.created_at) FROM labels l WHERE l.project_id = m.project_id "
                " AND l.data_row_id = r.id) AS labeled_at_first "
                "FROM project_data_rows m JOIN data_rows r ON r.id = m.data_row_id "
                "JOIN datasets d ON d.id = r.dataset_id JOIN batches b ON b.id = m.batch_id "
                "WHERE m.project_id = ? AND r.deleted = 0 ORDER BY m.added_at, r.seq",
                (project_id,),
            )
        finally:
            connection.close()

    def record_export_stream(self, task_id: str, stream_type: str, total_size: int, total_lines: int) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO export_streams VALUES (?, ?, ?, ?)",
                (task_id, stream_type, total_size, total_lines),
            )

    def export_stream(self, task_id: str, stream_type: str) -> tuple[int, int] | None:
        """(total size, total lines) of a finished export's stream; None if empty or unknown."""
        row = self._db.execute(
            "SELECT total_size, total_lines FROM export_streams WHERE task_id = ? AND stream_type = ?",
            (task_id, stream_type),
        ).fetchone()
        if row is None or not row["total_size"]:
            return None
        return int(row["total_size"]), int(row["total_lines"])

    @property
    def exports_dir(self) -> Path:
        path = self.data_dir / "exports"
        path.mkdir(parents=True, exist_ok=True)
        return path
