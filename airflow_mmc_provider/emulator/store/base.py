"""What every resource of the store stands on: the database connections, the schema, the account.

Concurrency: every thread gets its own SQLite connection in WAL mode, so pollers keep reading
while a large upsert writes; writers serialise on SQLite's own lock (`BEGIN IMMEDIATE`). The schema
is `schema.MIGRATIONS`, applied in order. Each resource module adds its methods to `StoreBase` as a
mixin (the way moto splits a large service's backend per resource); `store.Store` composes them.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import airflow_mmc_provider.emulator.store.schema as schema
from airflow_mmc_provider.emulator.ids import new_id, now
from airflow_mmc_provider.emulator.store.rows import fetch_one, from_row


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class User:
    id: str
    organization_id: str
    email: str
    name: str
    nickname: str | None
    created_at: str
    updated_at: str


class UnknownCursor(ValueError):
    """A page cursor that names nothing (not one this emulator handed out)."""


class StoreBase:
    """The persistent state of one emulator: an organisation, its user, and what they created."""

    organization: Organization
    user: User

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.data_dir = Path(data_dir)
        self.files_dir = self.data_dir / "files"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self._db_path = self.data_dir / "emulator.sqlite3"
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._migrate()
        self.organization, self.user = self._ensure_account()

    @property
    def _db(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self._db_path, isolation_level=None, check_same_thread=False)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=30000")
            self._local.connection = connection
            with self._connections_lock:
                self._connections.append(connection)
        return connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; taken eagerly so a read-then-write sequence cannot race."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        """Close every connection this store opened, from any thread."""
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()

    def _migrate(self) -> None:
        with self.transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            found = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = int(found["value"]) if found else 0
            for step in schema.MIGRATIONS[version:]:
                for statement in filter(str.strip, step.split(";")):
                    db.execute(statement)
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(len(schema.MIGRATIONS)),),
            )

    def _ensure_account(self) -> tuple[Organization, User]:
        with self.transaction() as db:
            org_row = db.execute("SELECT * FROM organizations LIMIT 1").fetchone()
            if org_row is None:
                stamp = now()
                org_id, user_id = new_id(), new_id()
                db.execute(
                    "INSERT INTO organizations VALUES (?, ?, ?, ?)",
                    (org_id, "Emulator Organization", stamp, stamp),
                )
                db.execute(
                    "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (user_id, org_id, "emulator@labelbox.invalid", "Emulator User", "emulator", stamp, stamp),
                )
                org_row = db.execute("SELECT * FROM organizations LIMIT 1").fetchone()
            user_row = db.execute(
                "SELECT * FROM users WHERE organization_id = ? LIMIT 1", (org_row["id"],)
            ).fetchone()
        return from_row(Organization, org_row), from_row(User, user_row)

    def reset(self) -> None:
        """Forget everything but the account (organisation, user); delete uploaded and export files."""
        with self.transaction() as db:
            for table in schema.RESETTABLE_TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        shutil.rmtree(self.files_dir, ignore_errors=True)
        shutil.rmtree(self.data_dir / "exports", ignore_errors=True)
        self.files_dir.mkdir(parents=True, exist_ok=True)

    def get_user(self, user_id: str) -> User | None:
        return fetch_one(self._db, User, "SELECT * FROM users WHERE id = ?", (user_id,))

    def _seq(self, table: str, entity_id: str) -> int:
        row = self._db.execute(f"SELECT seq FROM {table} WHERE id = ?", (entity_id,)).fetchone()  # noqa: S608
        if row is None:
            raise UnknownCursor(f"unknown cursor {entity_id!r}: pass the cursor of the previous page")
        return int(row["seq"])
