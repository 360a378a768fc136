"""Uploaded files: bytes on disk under the data directory, their names in the database."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
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


_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
_READ_BYTES = 1024 * 1024


@dataclass
class OpenedFile:
    """A stored file opened for serving: its descriptor and size; `chunks` closes it when done."""

    descriptor: int
    size: int

    def chunks(self) -> Iterator[bytes]:
        try:
            while block := os.read(self.descriptor, _READ_BYTES):
                yield block
        finally:
            self.close()

    def close(self) -> None:
        if self.descriptor >= 0:
            os.close(self.descriptor)
            self.descriptor = -1


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

    def open_file(self, file_id: str) -> OpenedFile | None:
        """The stored file, opened without following a symbolic link at the file or at the files
        folder (a link put in either place serves nothing); None unless it is a regular file."""
        try:
            folder = os.open(self.files_dir, os.O_RDONLY | os.O_DIRECTORY | _NO_FOLLOW)
        except OSError:
            return None
        try:
            descriptor = os.open(file_id, os.O_RDONLY | _NO_FOLLOW, dir_fd=folder)
        except OSError:
            return None
        finally:
            os.close(folder)
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            os.close(descriptor)
            return None
        return OpenedFile(descriptor, info.st_size)

    def read_file(self, file_id: str) -> bytes:
        """A stored file's bytes, read as `open_file` opens it; FileNotFoundError otherwise."""
        opened = self.open_file(file_id)
        if opened is None:
            raise FileNotFoundError(f"stored file {file_id} is missing or not a regular file")
        return b"".join(opened.chunks())
