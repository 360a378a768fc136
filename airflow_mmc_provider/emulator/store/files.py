"""Uploaded files: bytes on disk under the data directory, their names in the database."""

from __future__ import annotations

from dataclasses import astuple, dataclass
from pathlib import Path

from airflow_mmc_provider.emulator.ids import new_id, now
from airflow_mmc_provider.emulator.store.base import StoreBase
from airflow_mmc_provider.emulator.store.rows import fetch_one


@dataclass(frozen=True)
class StoredFile:
    id: str
    filename: str | None
    content_type: str | None
    size: int
    netloc: str
    created_at: str


class FileState(StoreBase):
    def save_file(
        self, content: bytes, *, filename: str | None, content_type: str | None, netloc: str
    ) -> StoredFile:
        """Store bytes under a new id; `netloc` is the host the URL was handed out on."""
        file_id = new_id()
        temporary = self.files_dir / f".{file_id}.part"
        temporary.write_bytes(content)
        temporary.replace(self.files_dir / file_id)
        stored = StoredFile(file_id, filename, content_type, len(content), netloc, now())
        with self.transaction() as db:
            db.execute("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?)", astuple(stored))
        return stored

    def get_file(self, file_id: str) -> StoredFile | None:
        return fetch_one(self._db, StoredFile, "SELECT * FROM files WHERE id = ?", (file_id,))

    def file_path(self, file_id: str) -> Path:
        return self.files_dir / file_id
