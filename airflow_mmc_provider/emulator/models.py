"""The emulator's state: one SQLite database plus uploaded files, both under the data directory.

This module knows nothing of GraphQL or HTTP (the split moto uses between backends and responses):
resolvers and background jobs call it with plain Python values and get frozen dataclasses back.

Concurrency: every thread gets its own SQLite connection in WAL mode, so pollers keep reading
while a large upsert writes; writers serialise on SQLite's own lock (`BEGIN IMMEDIATE`). The schema
is created by an ordered list of migrations, so later issues add tables (ontologies, projects,
batches, imports, exports) by appending a step rather than by editing this one.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol, TypeVar

import msgspec

from airflow_mmc_provider.emulator.ids import format_timestamp, new_id, now
from airflow_mmc_provider.emulator.labels import StoredLabel
from airflow_mmc_provider.emulator.metadata import ENUM_OPTION, MetadataSchema, SchemaRequest
from airflow_mmc_provider.emulator.workflow import (
    DONE,
    IN_REVIEW,
    PROGRESS_ORDER,
    SKIPPED,
    TO_LABEL,
    MoveResult,
    StateCounts,
    WorkflowMove,
)

# Task statuses (wire reference 3.3).
IN_PROGRESS = "IN_PROGRESS"
COMPLETE = "COMPLETE"
FAILED = "FAILED"

_encoder = msgspec.json.Encoder()

# SQLite allows at most 999 bound parameters in older builds; stay well below it.
_IN_BATCH = 500

_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE organizations (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE users (
        id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, email TEXT NOT NULL, name TEXT NOT NULL,
        nickname TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE datasets (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, organization_id TEXT NOT NULL,
        name TEXT NOT NULL, description TEXT, deleted INTEGER NOT NULL DEFAULT 0, created_by TEXT,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE INDEX datasets_by_name ON datasets (organization_id, name);
    CREATE TABLE data_rows (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, organization_id TEXT NOT NULL,
        dataset_id TEXT NOT NULL, global_key TEXT, external_id TEXT, row_data TEXT NOT NULL,
        media_type TEXT, metadata TEXT NOT NULL DEFAULT '[]', attachments TEXT NOT NULL DEFAULT '[]',
        deleted INTEGER NOT NULL DEFAULT 0, created_by TEXT, created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL);
    CREATE UNIQUE INDEX data_rows_global_key ON data_rows (organization_id, global_key)
        WHERE deleted = 0 AND global_key IS NOT NULL;
    CREATE INDEX data_rows_by_dataset ON data_rows (dataset_id, deleted, seq);
    CREATE TABLE files (
        id TEXT PRIMARY KEY, filename TEXT, content_type TEXT, size INTEGER NOT NULL,
        netloc TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE tasks (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, organization_id TEXT NOT NULL,
        created_by TEXT NOT NULL, type TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
        completion_percentage REAL NOT NULL DEFAULT 0, result TEXT, errors TEXT, metadata TEXT,
        input TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE INDEX tasks_by_user ON tasks (created_by, seq);
    CREATE TABLE task_results (
        task_id TEXT NOT NULL, ok INTEGER NOT NULL, position INTEGER NOT NULL, data_row_id TEXT,
        message TEXT, spec TEXT, PRIMARY KEY (task_id, ok, position)) WITHOUT ROWID;
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY, type TEXT NOT NULL, status TEXT NOT NULL, result TEXT NOT NULL,
        created_at TEXT NOT NULL);
    """,
    # 2: ontologies, labeling frontends, projects with their task queues, batches, workflow state.
    """
    CREATE TABLE ontologies (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, organization_id TEXT NOT NULL,
        name TEXT NOT NULL, description TEXT, media_type TEXT, editor_task_type TEXT,
        normalized TEXT NOT NULL, object_count INTEGER NOT NULL, classification_count INTEGER NOT NULL,
        created_by TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE labeling_frontends (
        id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT,
        iframe_url_path TEXT, deleted INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL);
    CREATE TABLE labeling_frontend_options (
        id TEXT PRIMARY KEY, project_id TEXT NOT NULL, labeling_frontend_id TEXT NOT NULL,
        customization_options TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE projects (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, organization_id TEXT NOT NULL,
        name TEXT NOT NULL, description TEXT, media_type TEXT, editor_task_type TEXT, upload_type TEXT,
        audit_labels INTEGER, audit_percentage REAL, benchmark INTEGER NOT NULL DEFAULT 0,
        consensus INTEGER NOT NULL DEFAULT 0, ontology_id TEXT, labeling_frontend_id TEXT,
        setup_complete TEXT, model_setup_complete TEXT, last_activity_time TEXT,
        deleted INTEGER NOT NULL DEFAULT 0, created_by TEXT, created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL);
    CREATE INDEX projects_by_name ON projects (organization_id, name);
    CREATE TABLE task_queues (
        id TEXT PRIMARY KEY, project_id TEXT NOT NULL, position INTEGER NOT NULL,
        queue_type TEXT NOT NULL, name TEXT NOT NULL, description TEXT, state TEXT NOT NULL);
    CREATE INDEX task_queues_by_project ON task_queues (project_id, position);
    CREATE TABLE batches (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, project_id TEXT NOT NULL,
        name TEXT NOT NULL, consensus_settings TEXT, deleted INTEGER NOT NULL DEFAULT 0,
        created_by TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE UNIQUE INDEX batches_by_name ON batches (project_id, name) WHERE deleted = 0;
    CREATE TABLE project_data_rows (
        project_id TEXT NOT NULL, data_row_id TEXT NOT NULL, batch_id TEXT NOT NULL,
        priority INTEGER NOT NULL, state TEXT NOT NULL, labeled INTEGER NOT NULL DEFAULT 0,
        added_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (project_id, data_row_id)) WITHOUT ROWID;
    CREATE INDEX project_data_rows_by_batch ON project_data_rows (batch_id, state, labeled);
    CREATE INDEX project_data_rows_by_state ON project_data_rows (project_id, state, labeled);
    CREATE TABLE workflow_history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, project_id TEXT NOT NULL, data_row_id TEXT NOT NULL,
        from_state TEXT, to_state TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE INDEX workflow_history_by_row ON workflow_history (project_id, data_row_id, seq);
    """,
    # 3: custom metadata schemas (enum options are rows with a parent).
    """
    CREATE TABLE metadata_schemas (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, organization_id TEXT NOT NULL,
        parent_id TEXT, name TEXT NOT NULL, kind TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE INDEX metadata_schemas_by_name ON metadata_schemas (organization_id, parent_id, name);
    """,
    # 4: labels (annotations in import form) and the files of finished exports.
    """
    CREATE TABLE labels (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, project_id TEXT NOT NULL,
        data_row_id TEXT NOT NULL, annotations TEXT NOT NULL, created_by TEXT NOT NULL,
        seconds_to_create REAL NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE INDEX labels_by_row ON labels (project_id, data_row_id, seq);
    CREATE TABLE export_streams (
        task_id TEXT NOT NULL, stream_type TEXT NOT NULL, total_size INTEGER NOT NULL,
        total_lines INTEGER NOT NULL, PRIMARY KEY (task_id, stream_type)) WITHOUT ROWID;
    """,
    # 5: annotation imports (ground truth and pre-labels) and the pre-labels they leave.
    """
    CREATE TABLE annotation_imports (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, project_id TEXT NOT NULL,
        name TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL, progress TEXT NOT NULL,
        input_file_id TEXT NOT NULL, status_file_id TEXT, error_file_id TEXT, base_url TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE UNIQUE INDEX annotation_imports_by_name ON annotation_imports (project_id, kind, name);
    CREATE TABLE prelabels (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, project_id TEXT NOT NULL,
        data_row_id TEXT NOT NULL, import_id TEXT NOT NULL, annotations TEXT NOT NULL,
        created_at TEXT NOT NULL);
    CREATE INDEX prelabels_by_row ON prelabels (project_id, data_row_id, seq);
    """,
)

# Columns a caller may filter on (values are bound; names are checked against these sets).
DATA_ROW_FILTERS = frozenset({"id", "external_id", "global_key"})
TASK_FILTERS = frozenset({"id", "status", "type"})

# Wiped by `reset`; the organisation, its user and its labeling frontends survive so ids a client
# cached (its user id, the Editor frontend) stay valid.
_RESETTABLE_TABLES = (
    "datasets", "data_rows", "files", "tasks", "task_results", "jobs", "ontologies", "projects",
    "labeling_frontend_options", "task_queues", "batches", "project_data_rows", "workflow_history",
    "metadata_schemas", "labels", "export_streams", "annotation_imports", "prelabels",
)  # fmt: skip
EDITOR_FRONTEND = "Editor"


def _dumps(value: Any) -> str:
    """Compact JSON text (msgspec: an upsert encodes tens of thousands of values at once)."""
    if isinstance(value, list) and not value:
        return "[]"
    return _encoder.encode(value).decode("utf-8")


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


@dataclass(frozen=True)
class Dataset:
    id: str
    organization_id: str
    name: str
    description: str | None
    deleted: bool
    row_count: int
    created_by: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class DataRow:
    id: str
    dataset_id: str
    global_key: str | None
    external_id: str | None
    row_data: str
    media_type: str | None
    metadata: list[dict[str, Any]]
    attachments: list[dict[str, Any]]
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class RowRef:
    """Just enough of a stored row to decide what an upsert spec does to it."""

    id: str
    global_key: str | None
    dataset_id: str


@dataclass(frozen=True)
class StoredFile:
    id: str
    filename: str | None
    content_type: str | None
    size: int
    netloc: str
    created_at: str


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
    input_json: str = field(repr=False)
    created_at: str
    updated_at: str

    @property
    def input(self) -> dict[str, Any]:
        """What the task works on, parsed on use (a batch task carries up to 100,000 ids)."""
        parsed: dict[str, Any] = json.loads(self.input_json)
        return parsed


@dataclass(frozen=True)
class FailedRow:
    """One rejected spec of a data-row upsert, kept as the client sent it (for `failedDataRowImports`)."""

    message: str
    external_id: str | None = None
    global_key: str | None = None
    row_data: str | None = None
    metadata: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Job:
    """A short synchronous look-up exposed as a job (e.g. `dataRowsForGlobalKeys`)."""

    id: str
    type: str
    status: str
    result: Any


@dataclass(frozen=True)
class Ontology:
    id: str
    name: str
    description: str | None
    media_type: str | None
    editor_task_type: str | None
    normalized: dict[str, Any]
    object_count: int
    classification_count: int
    created_by: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class LabelingFrontend:
    id: str
    name: str
    description: str | None
    iframe_url_path: str | None
    deleted: bool
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class LabelingFrontendOptions:
    id: str
    project_id: str
    labeling_frontend_id: str
    customization_options: str


@dataclass(frozen=True)
class NewProject:
    """A project to create; which values a variant sets is the resolver's business."""

    name: str
    description: str | None = None
    media_type: str | None = None
    editor_task_type: str | None = None
    upload_type: str | None = None
    audit_labels: int | None = None
    audit_percentage: float | None = None
    benchmark: bool = False
    consensus: bool = False
    labeling_frontend_id: str | None = None


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    description: str | None
    media_type: str | None
    editor_task_type: str | None
    upload_type: str | None
    audit_labels: int | None
    audit_percentage: float | None
    benchmark: bool
    consensus: bool
    ontology_id: str | None
    labeling_frontend_id: str | None
    setup_complete: str | None
    model_setup_complete: str | None
    last_activity_time: str | None
    deleted: bool
    data_row_count: int
    created_by: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class TaskQueue:
    id: str
    project_id: str
    queue_type: str
    name: str
    description: str | None
    state: str  # the workflow state of the rows this queue holds


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


@dataclass(frozen=True)
class AnnotationImport:
    id: str
    project_id: str
    name: str
    kind: str  # "label" (ground truth) or "mal" (pre-labels)
    state: str
    progress: str
    input_file_id: str
    status_file_id: str | None
    error_file_id: str | None
    base_url: str
    created_at: str


class ImportNameTaken(ValueError):
    """The project already has an import of this kind with this name."""


class BatchNameTaken(ValueError):
    """A live batch of the project already has this name."""


class UnknownCursor(ValueError):
    """A page cursor that names nothing (not one this emulator handed out)."""


@dataclass(frozen=True)
class NewDataRow:
    """A row to insert; ids and timestamps are assigned by the caller so results can reference them."""

    id: str
    dataset_id: str
    global_key: str | None
    external_id: str | None
    row_data: str
    media_type: str | None
    metadata: list[dict[str, Any]]
    attachments: list[dict[str, Any]]


@dataclass(frozen=True)
class DataRowUpdate:
    """New values for an existing row; `None` keeps the stored value (global keys cannot be unset)."""

    id: str
    global_key: str | None = None
    external_id: str | None = None
    row_data: str | None = None
    media_type: str | None = None
    metadata: list[dict[str, Any]] | None = None
    attachments: list[dict[str, Any]] | None = None


_DATA_ROW_COLUMNS = (
    "id, dataset_id, global_key, external_id, row_data, media_type, metadata, attachments, "
    "created_at, updated_at"
)
_JOINED_DATA_ROW_COLUMNS = ", ".join("r." + column.strip() for column in _DATA_ROW_COLUMNS.split(","))
_TASK_COLUMNS = (
    "id, organization_id, created_by, type, name, status, completion_percentage, result, errors, "
    "metadata, input, created_at, updated_at"
)


def _data_row(row: sqlite3.Row) -> DataRow:
    return DataRow(
        id=row["id"],
        dataset_id=row["dataset_id"],
        global_key=row["global_key"],
        external_id=row["external_id"],
        row_data=row["row_data"],
        media_type=row["media_type"],
        metadata=json.loads(row["metadata"]),
        attachments=json.loads(row["attachments"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _task(row: sqlite3.Row) -> Task:
    return Task(
        id=row["id"],
        organization_id=row["organization_id"],
        created_by=row["created_by"],
        type=row["type"],
        name=row["name"],
        status=row["status"],
        completion_percentage=row["completion_percentage"],
        result=row["result"],
        errors=row["errors"],
        metadata=None if row["metadata"] is None else json.loads(row["metadata"]),
        input_json=row["input"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _ontology(row: sqlite3.Row) -> Ontology:
    return Ontology(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        media_type=row["media_type"],
        editor_task_type=row["editor_task_type"],
        normalized=json.loads(row["normalized"]),
        object_count=row["object_count"],
        classification_count=row["classification_count"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _labeling_frontend(row: sqlite3.Row) -> LabelingFrontend:
    return LabelingFrontend(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        iframe_url_path=row["iframe_url_path"],
        deleted=bool(row["deleted"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _project(row: sqlite3.Row) -> Project:
    return Project(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        media_type=row["media_type"],
        editor_task_type=row["editor_task_type"],
        upload_type=row["upload_type"],
        audit_labels=row["audit_labels"],
        audit_percentage=row["audit_percentage"],
        benchmark=bool(row["benchmark"]),
        consensus=bool(row["consensus"]),
        ontology_id=row["ontology_id"],
        labeling_frontend_id=row["labeling_frontend_id"],
        setup_complete=row["setup_complete"],
        model_setup_complete=row["model_setup_complete"],
        last_activity_time=row["last_activity_time"],
        deleted=bool(row["deleted"]),
        data_row_count=row["data_row_count"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _batch(row: sqlite3.Row) -> Batch:
    settings = row["consensus_settings"]
    return Batch(
        id=row["id"],
        project_id=row["project_id"],
        name=row["name"],
        consensus_settings=None if settings is None else json.loads(settings),
        size=row["size"],
        deleted=bool(row["deleted"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _batches(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _IN_BATCH):
        yield values[start : start + _IN_BATCH]


def _check_filters(filters: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(filters) - allowed
    if unknown:
        raise ValueError(f"cannot filter on {sorted(unknown)}; allowed: {sorted(allowed)}")


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


_Found = TypeVar("_Found")


class _SoftDeleted(Protocol):
    @property
    def deleted(self) -> bool: ...


_Kept = TypeVar("_Kept", bound=_SoftDeleted)


def _created(found: _Found | None) -> _Found:
    """A row read back right after its insert committed, so it exists."""
    assert found is not None
    return found


def _first_live(found: list[_Kept], include_deleted: bool) -> _Kept | None:
    """The one row found by id, unless it is deleted (and deleted ones are not asked for)."""
    if not found or (found[0].deleted and not include_deleted):
        return None
    return found[0]


def _named(fetch: Callable[[str, tuple[Any, ...]], list[_Kept]], name: str | None) -> list[_Kept]:
    """Every row `fetch` finds, or those of one name."""
    return fetch("1 = 1", ()) if name is None else fetch("name = ?", (name,))


class Store:
    """All persistent state of one emulator: an organisation, its user, and what they created."""

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
        self._ensure_editor()

    # --- connections and transactions ------------------------------------------------------------

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
            for step in _MIGRATIONS[version:]:
                for statement in filter(str.strip, step.split(";")):
                    db.execute(statement)
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(len(_MIGRATIONS)),),
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
        return Organization(**dict(org_row)), User(**dict(user_row))

    def reset(self) -> None:
        """Forget everything but the account (organisation, user); delete uploaded and export files."""
        with self.transaction() as db:
            for table in _RESETTABLE_TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        shutil.rmtree(self.files_dir, ignore_errors=True)
        shutil.rmtree(self.data_dir / "exports", ignore_errors=True)
        self.files_dir.mkdir(parents=True, exist_ok=True)

    # --- users -----------------------------------------------------------------------------------

    def get_user(self, user_id: str) -> User | None:
        row = self._db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        return User(**dict(row)) if row else None

    # --- datasets --------------------------------------------------------------------------------

    def create_dataset(self, name: str, description: str | None) -> Dataset:
        stamp, dataset_id = now(), new_id()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO datasets (id, organization_id, name, description, created_by, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (dataset_id, self.organization.id, name, description, self.user.id, stamp, stamp),
            )
        return _created(self.get_dataset(dataset_id))

    def get_dataset(self, dataset_id: str, *, include_deleted: bool = False) -> Dataset | None:
        return _first_live(self._datasets("id = ?", (dataset_id,)), include_deleted)

    def list_datasets(self, name: str | None = None) -> list[Dataset]:
        """Every dataset of the organisation (deleted ones too, flagged), oldest first."""
        return _named(self._datasets, name)

    def _datasets(self, condition: str, params: tuple[Any, ...]) -> list[Dataset]:
        rows = self._db.execute(
            "SELECT d.*, (SELECT COUNT(*) FROM data_rows r WHERE r.dataset_id = d.id AND r.deleted = 0) "  # noqa: S608
            f"AS row_count FROM datasets d WHERE organization_id = ? AND {condition} ORDER BY seq",
            (self.organization.id, *params),
        ).fetchall()
        return [
            Dataset(
                id=r["id"],
                organization_id=r["organization_id"],
                name=r["name"],
                description=r["description"],
                deleted=bool(r["deleted"]),
                row_count=r["row_count"],
                created_by=r["created_by"],
                created_at=r["created_at"],
                updated_at=r["updated_at"],
            )
            for r in rows
        ]

    def update_dataset(
        self, dataset_id: str, *, name: str | None = None, description: str | None = None
    ) -> Dataset | None:
        """Rename or re-describe a live dataset; None if there is no such dataset."""
        with self.transaction() as db:
            updated = db.execute(
                "UPDATE datasets SET name = COALESCE(?, name), description = COALESCE(?, description), "
                "updated_at = ? WHERE id = ? AND organization_id = ? AND deleted = 0",
                (name, description, now(), dataset_id, self.organization.id),
            ).rowcount
        return self.get_dataset(dataset_id) if updated else None

    def delete_dataset(self, dataset_id: str) -> Dataset | None:
        """Delete a dataset and its rows; their global keys become free again."""
        stamp = now()
        with self.transaction() as db:
            updated = db.execute(
                "UPDATE datasets SET deleted = 1, updated_at = ? WHERE id = ? AND organization_id = ? "
                "AND deleted = 0",
                (stamp, dataset_id, self.organization.id),
            ).rowcount
            db.execute(
                "UPDATE data_rows SET deleted = 1, updated_at = ? WHERE dataset_id = ? AND deleted = 0",
                (stamp, dataset_id),
            )
        return self.get_dataset(dataset_id, include_deleted=True) if updated else None

    # --- data rows -------------------------------------------------------------------------------

    def get_data_row(self, data_row_id: str) -> DataRow | None:
        row = self._db.execute(
            f"SELECT {_DATA_ROW_COLUMNS} FROM data_rows WHERE id = ? AND organization_id = ? AND deleted = 0",  # noqa: S608
            (data_row_id, self.organization.id),
        ).fetchone()
        return _data_row(row) if row else None

    def get_data_row_by_global_key(self, global_key: str) -> DataRow | None:
        row = self._db.execute(
            f"SELECT {_DATA_ROW_COLUMNS} FROM data_rows WHERE organization_id = ? AND global_key = ? "  # noqa: S608
            "AND deleted = 0",
            (self.organization.id, global_key),
        ).fetchone()
        return _data_row(row) if row else None

    def data_row_ids_for_global_keys(self, global_keys: Sequence[str]) -> dict[str, str]:
        """global key -> data row id, for the keys that name a live row."""
        found: dict[str, str] = {}
        for batch in _batches(list(dict.fromkeys(global_keys))):
            rows = self._db.execute(
                "SELECT global_key, id FROM data_rows WHERE organization_id = ? AND deleted = 0 "  # noqa: S608
                f"AND global_key IN ({_marks(batch)})",
                (self.organization.id, *batch),
            ).fetchall()
            found.update((r["global_key"], r["id"]) for r in rows)
        return found

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
        _check_filters(filters or {}, DATA_ROW_FILTERS)
        for column, value in (filters or {}).items():
            conditions.append(f"{column} = ?")
            params.append(value)
        if start_id:
            conditions.append("seq <= COALESCE((SELECT seq FROM data_rows WHERE id = ?), -1)")
            params.append(start_id)
        rows = self._db.execute(
            f"SELECT {_DATA_ROW_COLUMNS} FROM data_rows WHERE {' AND '.join(conditions)} "  # noqa: S608
            "ORDER BY seq DESC LIMIT ?",
            (*params, limit + 1),
        ).fetchall()
        page = [_data_row(r) for r in rows[:limit]]
        return page, (rows[limit]["id"] if len(rows) > limit else None)

    # --- custom metadata schemas ------------------------------------------------------------------

    def metadata_schemas(self, db: sqlite3.Connection | None = None) -> list[MetadataSchema]:
        """The organisation's metadata ontology, oldest first, enums with their options."""
        rows = (
            (db or self._db)
            .execute(
                "SELECT id, parent_id, name, kind FROM metadata_schemas WHERE organization_id = ? ORDER BY seq",
                (self.organization.id,),
            )
            .fetchall()
        )
        options: dict[str, list[MetadataSchema]] = {}
        for r in rows:
            if r["parent_id"] is not None:
                options.setdefault(r["parent_id"], []).append(MetadataSchema(r["id"], r["name"], r["kind"]))
        return [
            MetadataSchema(r["id"], r["name"], r["kind"], options=tuple(options.get(r["id"], ())))
            for r in rows
            if r["parent_id"] is None
        ]

    def upsert_metadata_schema(self, request: SchemaRequest) -> MetadataSchema:
        """Get-or-create by name (adding enum options not there yet); ValueError on a kind change."""
        stamp = now()
        with self.transaction() as db:
            found = db.execute(
                "SELECT id, kind FROM metadata_schemas WHERE organization_id = ? AND parent_id IS NULL "
                "AND name = ?",
                (self.organization.id, request.name),
            ).fetchone()
            if found is not None and found["kind"] != request.kind:
                raise ValueError(
                    f"Metadata schema '{request.name}' exists with kind {found['kind']}, not {request.kind}"
                )
            schema_id = found["id"] if found else new_id()
            if found is None:
                db.execute(
                    "INSERT INTO metadata_schemas (id, organization_id, parent_id, name, kind, created_at) "
                    "VALUES (?, ?, NULL, ?, ?, ?)",
                    (schema_id, self.organization.id, request.name, request.kind, stamp),
                )
            existing = {
                r["name"]
                for r in db.execute("SELECT name FROM metadata_schemas WHERE parent_id = ?", (schema_id,))
            }
            db.executemany(
                "INSERT INTO metadata_schemas (id, organization_id, parent_id, name, kind, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(new_id(), self.organization.id, schema_id, option, ENUM_OPTION, stamp)
                 for option in request.options if option not in existing],
            )  # fmt: skip
            schemas = self.metadata_schemas(db)
        return next(s for s in schemas if s.id == schema_id)

    # --- labels ----------------------------------------------------------------------------------

    def add_labels(self, labels: Sequence[StoredLabel], db: sqlite3.Connection | None = None) -> None:
        """Store labels (inside the caller's transaction when given); they touch their rows' activity."""
        statement = (
            "INSERT INTO labels (id, project_id, data_row_id, annotations, created_by, seconds_to_create, "
            "skipped, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        values = [
            (lb.id, lb.project_id, lb.data_row_id, _dumps(lb.annotations), lb.created_by, lb.seconds_to_create,
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
        return [
            StoredLabel(
                r["id"], r["project_id"], r["data_row_id"], json.loads(r["annotations"]), r["created_by"],
                r["seconds_to_create"], bool(r["skipped"]), r["created_at"], r["updated_at"],
            )
            for r in rows
        ]  # fmt: skip

    def label_count(self, project_id: str) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) AS n FROM labels WHERE project_id = ?", (project_id,)
        ).fetchone()
        return int(row["n"])

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
                    stamp = now()
                    db.execute(
                        "INSERT INTO workflow_history (project_id, data_row_id, from_state, to_state, created_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (row.project_id, row.data_row_id, previous, state, stamp),
                    )
                    previous = state
                db.execute(
                    "UPDATE project_data_rows SET state = ?, labeled = ?, updated_at = ? "
                    "WHERE project_id = ? AND data_row_id = ?",
                    (previous, int(not row.skipped), now(), row.project_id, row.data_row_id),
                )
                db.execute("UPDATE projects SET last_activity_time = ? WHERE id = ?", (now(), row.project_id))

    # --- annotation imports ----------------------------------------------------------------------

    def create_import(
        self, project_id: str, name: str, kind: str, input_file_id: str, base_url: str
    ) -> AnnotationImport:
        """A RUNNING import; ImportNameTaken when the project has one of this kind and name."""
        stamp, import_id = now(), new_id()
        try:
            with self.transaction() as db:
                db.execute(
                    "INSERT INTO annotation_imports (id, project_id, name, kind, state, progress, input_file_id, "
                    "base_url, created_at, updated_at) VALUES (?, ?, ?, ?, 'RUNNING', '0%', ?, ?, ?, ?)",
                    (import_id, project_id, name, kind, input_file_id, base_url, stamp, stamp),
                )
        except sqlite3.IntegrityError:
            raise ImportNameTaken(name) from None
        return _created(self.get_import(import_id))

    def _imports(self, condition: str, params: tuple[Any, ...]) -> list[AnnotationImport]:
        rows = self._db.execute(
            "SELECT id, project_id, name, kind, state, progress, input_file_id, status_file_id, error_file_id, "  # noqa: S608
            f"base_url, created_at FROM annotation_imports WHERE {condition} ORDER BY seq",
            params,
        ).fetchall()
        return [AnnotationImport(**dict(r)) for r in rows]

    def get_import(self, import_id: str) -> AnnotationImport | None:
        found = self._imports("id = ?", (import_id,))
        return found[0] if found else None

    def find_import(self, project_id: str, name: str, kind: str) -> AnnotationImport | None:
        found = self._imports("project_id = ? AND name = ? AND kind = ?", (project_id, name, kind))
        return found[0] if found else None

    def finish_import(
        self, import_id: str, *, state: str, status_file_id: str | None, error_file_id: str | None
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE annotation_imports SET state = ?, progress = '100%', status_file_id = ?, "
                "error_file_id = ?, updated_at = ? WHERE id = ?",
                (state, status_file_id, error_file_id, now(), import_id),
            )

    def project_members(
        self, project_id: str, data_row_ids: Iterable[str], global_keys: Iterable[str]
    ) -> dict[str, tuple[str, str]]:
        """Rows of the project named by id or global key: that name -> (row id, row data)."""
        found: dict[str, tuple[str, str]] = {}
        for column, values in (("id", list(set(data_row_ids))), ("global_key", list(set(global_keys)))):
            for chunk in _batches(values):
                rows = self._db.execute(
                    f"SELECT r.id, r.global_key, r.row_data FROM data_rows r JOIN project_data_rows m "  # noqa: S608
                    f"ON m.data_row_id = r.id AND m.project_id = ? WHERE r.deleted = 0 AND r.{column} IN ({_marks(chunk)})",
                    (project_id, *chunk),
                ).fetchall()
                found.update((r[column], (r["id"], r["row_data"])) for r in rows)
        return found

    def store_import_results(
        self, found: AnnotationImport, labels: Sequence[StoredLabel], *, prelabels: bool
    ) -> None:
        """Pre-labels apart; ground-truth labels as labels, their ToLabel rows moved to Done."""
        with self.transaction() as db:
            if prelabels:
                db.executemany(
                    "INSERT INTO prelabels (id, project_id, data_row_id, import_id, annotations, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [(lb.id, lb.project_id, lb.data_row_id, found.id, _dumps(lb.annotations), lb.created_at)
                     for lb in labels],
                )  # fmt: skip
                return
            self.add_labels(labels, db)
            stamp = now()
            for label in labels:
                moved = db.execute(
                    "UPDATE project_data_rows SET state = ?, labeled = 1, updated_at = ? "
                    "WHERE project_id = ? AND data_row_id = ? AND state = ?",
                    (DONE, stamp, label.project_id, label.data_row_id, TO_LABEL),
                ).rowcount
                if moved:
                    db.execute(
                        "INSERT INTO workflow_history (project_id, data_row_id, from_state, to_state, created_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (label.project_id, label.data_row_id, TO_LABEL, DONE, stamp),
                    )

    def prelabel_count(self, project_id: str) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) AS n FROM prelabels WHERE project_id = ?", (project_id,)
        ).fetchone()
        return int(row["n"])

    # --- exports ---------------------------------------------------------------------------------

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

    def workflow_history(self, project_id: str, data_row_id: str) -> list[sqlite3.Row]:
        return self._db.execute(
            "SELECT from_state, to_state, created_at FROM workflow_history WHERE project_id = ? "
            "AND data_row_id = ? ORDER BY seq",
            (project_id, data_row_id),
        ).fetchall()

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

    # --- files -----------------------------------------------------------------------------------

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
            db.execute(
                "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?)",
                (
                    stored.id,
                    stored.filename,
                    stored.content_type,
                    stored.size,
                    stored.netloc,
                    stored.created_at,
                ),
            )
        return stored

    def get_file(self, file_id: str) -> StoredFile | None:
        row = self._db.execute("SELECT * FROM files WHERE id = ?", (file_id,)).fetchone()
        return StoredFile(**dict(row)) if row else None

    def file_path(self, file_id: str) -> Path:
        return self.files_dir / file_id

    # --- tasks -----------------------------------------------------------------------------------

    def create_task(self, task_type: str, name: str, task_input: dict[str, Any]) -> Task:
        stamp, task_id = now(), new_id()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO tasks (id, organization_id, created_by, type, name, status, input, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    task_id,
                    self.organization.id,
                    self.user.id,
                    task_type,
                    name,
                    IN_PROGRESS,
                    _dumps(task_input),
                    stamp,
                    stamp,
                ),
            )
        task = self.get_task(task_id)
        assert task is not None
        return task

    def get_task(self, task_id: str) -> Task | None:
        row = self._db.execute(f"SELECT {_TASK_COLUMNS} FROM tasks WHERE id = ?", (task_id,)).fetchone()  # noqa: S608
        return _task(row) if row else None

    def tasks_created_by(self, user_id: str, *, filters: dict[str, str], skip: int, first: int) -> list[Task]:
        """A user's tasks, newest first, filtered on equality of the given columns."""
        _check_filters(filters, TASK_FILTERS)
        conditions = ["created_by = ?"] + [f"{column} = ?" for column in filters]
        rows = self._db.execute(
            f"SELECT {_TASK_COLUMNS} FROM tasks WHERE {' AND '.join(conditions)} "  # noqa: S608
            "ORDER BY seq DESC LIMIT ? OFFSET ?",
            (user_id, *filters.values(), first, skip),
        ).fetchall()
        return [_task(r) for r in rows]

    def unfinished_tasks(self) -> list[Task]:
        """Tasks still in progress (e.g. interrupted by a restart), oldest first."""
        rows = self._db.execute(
            f"SELECT {_TASK_COLUMNS} FROM tasks WHERE status = ? ORDER BY seq",  # noqa: S608
            (IN_PROGRESS,),
        ).fetchall()
        return [_task(r) for r in rows]

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
        statement = (
            "UPDATE tasks SET status = ?, completion_percentage = 100, result = ?, errors = ?, "
            "metadata = ?, updated_at = ? WHERE id = ?"
        )
        params = (status, result, errors, _dumps(metadata), now(), task_id)
        if db is not None:
            db.execute(statement, params)
            return
        with self.transaction() as own:
            own.execute(statement, params)

    # --- data-row upsert results -----------------------------------------------------------------

    def task_successes(self, task_id: str, *, offset: int, limit: int) -> tuple[list[DataRow], int]:
        """A page of the rows a task created or updated (current values), and how many there are."""
        rows = self._db.execute(
            f"SELECT {_JOINED_DATA_ROW_COLUMNS} "  # noqa: S608
            "FROM task_results t JOIN data_rows r ON r.id = t.data_row_id "
            "WHERE t.task_id = ? AND t.ok = 1 AND t.position >= ? ORDER BY t.position LIMIT ?",
            (task_id, offset, limit),
        ).fetchall()
        return [_data_row(r) for r in rows], self._count_results(task_id, ok=True)

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
            yield DataRowWriter(self, db)

    # --- jobs ------------------------------------------------------------------------------------

    def create_job(self, job_type: str, status: str, result: Any) -> Job:
        job = Job(new_id(), job_type, status, result)
        with self.transaction() as db:
            db.execute(
                "INSERT INTO jobs VALUES (?, ?, ?, ?, ?)",
                (job.id, job.type, job.status, _dumps(result), now()),
            )
        return job

    def get_job(self, job_id: str) -> Job | None:
        row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            return None
        return Job(row["id"], row["type"], row["status"], json.loads(row["result"]))

    # --- labeling frontends ----------------------------------------------------------------------

    def _ensure_editor(self) -> None:
        """Every organisation has the default ``Editor`` frontend (`connect_ontology` looks it up by name)."""
        with self.transaction() as db:
            found = db.execute(
                "SELECT 1 FROM labeling_frontends WHERE organization_id = ? AND name = ?",
                (self.organization.id, EDITOR_FRONTEND),
            ).fetchone()
            if found is None:
                stamp = now()
                db.execute(
                    "INSERT INTO labeling_frontends (id, organization_id, name, description, iframe_url_path, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (new_id(), self.organization.id, EDITOR_FRONTEND, "The Labelbox editor",
                     "https://editor.labelbox.com", stamp, stamp),
                )  # fmt: skip

    def labeling_frontends(self) -> list[LabelingFrontend]:
        rows = self._db.execute(
            "SELECT * FROM labeling_frontends WHERE organization_id = ? ORDER BY created_at, id",
            (self.organization.id,),
        ).fetchall()
        return [_labeling_frontend(r) for r in rows]

    def get_labeling_frontend(self, frontend_id: str) -> LabelingFrontend | None:
        row = self._db.execute(
            "SELECT * FROM labeling_frontends WHERE id = ? AND organization_id = ? AND deleted = 0",
            (frontend_id, self.organization.id),
        ).fetchone()
        return _labeling_frontend(row) if row else None

    def editor_frontend(self) -> LabelingFrontend:
        return next(f for f in self.labeling_frontends() if f.name == EDITOR_FRONTEND and not f.deleted)

    def create_labeling_frontend_options(
        self, project_id: str, frontend_id: str, customization_options: str
    ) -> LabelingFrontendOptions:
        options = LabelingFrontendOptions(new_id(), project_id, frontend_id, customization_options)
        stamp = now()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO labeling_frontend_options VALUES (?, ?, ?, ?, ?, ?)",
                (options.id, project_id, frontend_id, customization_options, stamp, stamp),
            )
        return options

    # --- ontologies ------------------------------------------------------------------------------

    def create_ontology(
        self,
        *,
        name: str,
        normalized: dict[str, Any],
        object_count: int,
        classification_count: int,
        media_type: str | None = None,
        editor_task_type: str | None = None,
        description: str | None = None,
    ) -> Ontology:
        stamp, ontology_id = now(), new_id()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO ontologies (id, organization_id, name, description, media_type, editor_task_type, "
                "normalized, object_count, classification_count, created_by, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (ontology_id, self.organization.id, name, description, media_type, editor_task_type,
                 _dumps(normalized), object_count, classification_count, self.user.id, stamp, stamp),
            )  # fmt: skip
        return _created(self.get_ontology(ontology_id))

    def get_ontology(self, ontology_id: str) -> Ontology | None:
        row = self._db.execute(
            "SELECT * FROM ontologies WHERE id = ? AND organization_id = ?",
            (ontology_id, self.organization.id),
        ).fetchone()
        return _ontology(row) if row else None

    def ontologies_page(
        self, *, search: str | None, after: str | None, limit: int
    ) -> tuple[list[Ontology], str | None]:
        """Ontologies whose name contains `search` (any case), oldest first, after the cursor `after`.

        The cursor is the id of the last ontology of the previous page; the second value is the
        next page's cursor, None on the last page.
        """
        conditions: list[str] = ["organization_id = ?"]
        params: list[Any] = [self.organization.id]
        if search:
            conditions.append("instr(lower(name), lower(?)) > 0")
            params.append(search)
        if after:
            conditions.append("seq > ?")
            params.append(self._seq("ontologies", after))
        rows = self._db.execute(
            f"SELECT * FROM ontologies WHERE {' AND '.join(conditions)} ORDER BY seq LIMIT ?",  # noqa: S608
            (*params, limit + 1),
        ).fetchall()
        page = [_ontology(r) for r in rows[:limit]]
        return page, (page[-1].id if len(rows) > limit and page else None)

    def _seq(self, table: str, entity_id: str) -> int:
        row = self._db.execute(f"SELECT seq FROM {table} WHERE id = ?", (entity_id,)).fetchone()  # noqa: S608
        if row is None:
            raise UnknownCursor(f"unknown cursor {entity_id!r}: pass the cursor of the previous page")
        return int(row["seq"])

    # --- projects --------------------------------------------------------------------------------

    def create_project(self, new: NewProject, queues: Sequence[tuple[str, str, str, str]]) -> Project:
        """Create a project with its task queues, given as (queueType, name, description, state)."""
        stamp, project_id = now(), new_id()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO projects (id, organization_id, name, description, media_type, editor_task_type, "
                "upload_type, audit_labels, audit_percentage, benchmark, consensus, labeling_frontend_id, "
                "created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (project_id, self.organization.id, new.name, new.description, new.media_type,
                 new.editor_task_type, new.upload_type, new.audit_labels, new.audit_percentage,
                 int(new.benchmark), int(new.consensus), new.labeling_frontend_id, self.user.id, stamp, stamp),
            )  # fmt: skip
            db.executemany(
                "INSERT INTO task_queues VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(new_id(), project_id, position, *queue) for position, queue in enumerate(queues)],
            )
        return _created(self.get_project(project_id))

    def get_project(self, project_id: str, *, include_deleted: bool = False) -> Project | None:
        return _first_live(self._projects("id = ?", (project_id,)), include_deleted)

    def list_projects(self, name: str | None = None) -> list[Project]:
        """Every project of the organisation (deleted ones too, flagged), oldest first."""
        return _named(self._projects, name)

    def _projects(self, condition: str, params: tuple[Any, ...]) -> list[Project]:
        rows = self._db.execute(
            "SELECT p.*, (SELECT COUNT(*) FROM project_data_rows m WHERE m.project_id = p.id) "  # noqa: S608
            f"AS data_row_count FROM projects p WHERE organization_id = ? AND {condition} ORDER BY seq",
            (self.organization.id, *params),
        ).fetchall()
        return [_project(r) for r in rows]

    def update_project(
        self,
        project_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        labeling_frontend_id: str | None = None,
        ontology_id: str | None = None,
    ) -> Project | None:
        """Change a live project (None keeps a value); connecting an ontology completes its setup."""
        stamp = now()
        with self.transaction() as db:
            updated = db.execute(
                "UPDATE projects SET name = COALESCE(?, name), description = COALESCE(?, description), "
                "labeling_frontend_id = COALESCE(?, labeling_frontend_id), "
                "ontology_id = COALESCE(?, ontology_id), "
                "setup_complete = CASE WHEN ? IS NULL THEN setup_complete ELSE COALESCE(setup_complete, ?) END, "
                "updated_at = ? WHERE id = ? AND organization_id = ? AND deleted = 0",
                (name, description, labeling_frontend_id, ontology_id, ontology_id, stamp, stamp, project_id,
                 self.organization.id),
            ).rowcount  # fmt: skip
        return self.get_project(project_id) if updated else None

    def delete_project(self, project_id: str) -> Project | None:
        with self.transaction() as db:
            updated = db.execute(
                "UPDATE projects SET deleted = 1, updated_at = ? WHERE id = ? AND organization_id = ? "
                "AND deleted = 0",
                (now(), project_id, self.organization.id),
            ).rowcount
        return self.get_project(project_id, include_deleted=True) if updated else None

    def task_queues(self, project_id: str) -> list[TaskQueue]:
        rows = self._db.execute(
            "SELECT * FROM task_queues WHERE project_id = ? ORDER BY position", (project_id,)
        ).fetchall()
        return [
            TaskQueue(r["id"], r["project_id"], r["queue_type"], r["name"], r["description"], r["state"])
            for r in rows
        ]

    # --- batches ---------------------------------------------------------------------------------

    def create_batch(self, project_id: str, name: str, consensus_settings: dict[str, Any] | None) -> Batch:
        """An empty batch; raise BatchNameTaken when a live batch of the project has the name."""
        with self.batch_writer() as writer:
            batch_id = writer.create_batch(project_id, name, consensus_settings)
        return _created(self.get_batch(batch_id))

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
        return [_batch(r) for r in rows]

    @contextmanager
    def batch_writer(self) -> Iterator[BatchWriter]:
        """A write transaction for adding rows to a batch: look-ups and inserts, all or nothing."""
        with self.transaction() as db:
            yield BatchWriter(self, db)

    def count_live_rows(self, *, data_row_ids: Sequence[str] = (), global_keys: Sequence[str] = ()) -> int:
        """How many of these ids and keys name a live data row."""
        found = 0
        for column, values in (("id", data_row_ids), ("global_key", global_keys)):
            for batch in _batches(list(dict.fromkeys(values))):
                row = self._db.execute(
                    f"SELECT COUNT(*) AS n FROM data_rows WHERE organization_id = ? AND deleted = 0 "  # noqa: S608
                    f"AND {column} IN ({_marks(batch)})",
                    (self.organization.id, *batch),
                ).fetchone()
                found += int(row["n"])
        return found

    def has_unfinished_tasks(self, task_type: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM tasks WHERE organization_id = ? AND type = ? AND status = ? LIMIT 1",
            (self.organization.id, task_type, IN_PROGRESS),
        ).fetchone()
        return row is not None

    # --- workflow --------------------------------------------------------------------------------

    def state_counts(self, project_id: str, batch_ids: Sequence[str] | None = None) -> StateCounts:
        """Rows per workflow state in the project, or in some of its batches (unknown ids count 0)."""
        by_state: dict[str, int] = {}
        labeled = 0
        if batch_ids is None:
            groups: Iterable[tuple[str, Sequence[Any]]] = [("", ())]
        else:
            groups = [
                (f" AND batch_id IN ({_marks(chunk)})", chunk) for chunk in _batches(list(set(batch_ids)))
            ]
        for clause, values in groups:
            rows = self._db.execute(
                "SELECT state, COUNT(*) AS n, SUM(labeled) AS l FROM project_data_rows "  # noqa: S608
                f"WHERE project_id = ?{clause} GROUP BY state",
                (project_id, *values),
            ).fetchall()
            for r in rows:
                by_state[r["state"]] = by_state.get(r["state"], 0) + int(r["n"])
                labeled += int(r["l"] or 0)
        return StateCounts(by_state, labeled)

    def move_workflow(self, move: WorkflowMove) -> MoveResult:
        """Set the state of the selected rows (see `workflow`); LookupError if there is no such project."""
        if self.get_project(move.project_id) is None:
            raise LookupError(f"project {move.project_id!r} does not exist")
        stamp = now()
        with self.transaction() as db:
            selected, not_in_project = self._select_for_move(db, move)
            if move.limit is not None:
                selected = selected[: move.limit]
            db.executemany(
                "UPDATE project_data_rows SET state = ?, labeled = ?, updated_at = ? "
                "WHERE project_id = ? AND data_row_id = ?",
                [(move.state, int(move.labeled_after(bool(labeled))), stamp, move.project_id, row_id)
                 for row_id, _, labeled in selected],
            )  # fmt: skip
            db.executemany(
                "INSERT INTO workflow_history (project_id, data_row_id, from_state, to_state, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(move.project_id, row_id, state, move.state, stamp)
                 for row_id, state, _ in selected if state != move.state],
            )  # fmt: skip
            db.execute("UPDATE projects SET last_activity_time = ? WHERE id = ?", (stamp, move.project_id))
        return MoveResult(len(selected), not_in_project)

    def _select_for_move(
        self, db: sqlite3.Connection, move: WorkflowMove
    ) -> tuple[list[tuple[str, str, int]], list[str]]:
        """(row id, current state, labelled) of the rows a move selects, and what is not in the project."""
        if move.batch_id is not None:
            rows = db.execute(
                "SELECT data_row_id, state, labeled FROM project_data_rows WHERE project_id = ? AND batch_id = ? "
                "ORDER BY state = ?, CASE state WHEN ? THEN 0 WHEN ? THEN 1 WHEN ? THEN 2 WHEN ? THEN 3 ELSE 4 END, "
                "added_at, data_row_id",
                (move.project_id, move.batch_id, move.state, *PROGRESS_ORDER),
            ).fetchall()
            return [(r["data_row_id"], r["state"], r["labeled"]) for r in rows], []
        wanted = list(dict.fromkeys(move.data_row_ids))
        by_key: dict[str, str] = {}
        if move.global_keys:
            by_key = BatchWriter(self, db).row_ids_for_global_keys(move.global_keys)
            wanted = [by_key[k] for k in dict.fromkeys(move.global_keys) if k in by_key]
        members: dict[str, tuple[str, str, int]] = {}
        for chunk in _batches(wanted):
            rows = db.execute(
                "SELECT data_row_id, state, labeled FROM project_data_rows WHERE project_id = ? "  # noqa: S608
                f"AND data_row_id IN ({_marks(chunk)})",
                (move.project_id, *chunk),
            ).fetchall()
            members.update((r["data_row_id"], (r["data_row_id"], r["state"], r["labeled"])) for r in rows)
        if move.global_keys:
            missing = [k for k in dict.fromkeys(move.global_keys) if by_key.get(k) not in members]
        else:
            missing = [i for i in wanted if i not in members]
        return [members[i] for i in wanted if i in members], missing

    def workflow_of(self, project_id: str, data_row_id: str) -> dict[str, Any] | None:
        """A row's place in a project: batch, state, labelled, and its history of moves."""
        row = self._db.execute(
            "SELECT * FROM project_data_rows WHERE project_id = ? AND data_row_id = ?",
            (project_id, data_row_id),
        ).fetchone()
        if row is None:
            return None
        history = self._db.execute(
            "SELECT from_state, to_state, created_at FROM workflow_history WHERE project_id = ? "
            "AND data_row_id = ? ORDER BY seq",
            (project_id, data_row_id),
        ).fetchall()
        return {
            "project_id": project_id,
            "data_row_id": data_row_id,
            "batch_id": row["batch_id"],
            "priority": row["priority"],
            "state": row["state"],
            "labeled": bool(row["labeled"]),
            "history": [
                {"from": h["from_state"], "to": h["to_state"], "at": h["created_at"]} for h in history
            ],
        }


class DataRowWriter:
    """Bulk operations for one upsert, all inside the writer's transaction (so look-ups cannot race)."""

    def __init__(self, store: Store, db: sqlite3.Connection) -> None:
        self._store = store
        self.db = db
        self.organization_id = store.organization.id

    def metadata_schemas(self) -> list[MetadataSchema]:
        return self._store.metadata_schemas(self.db)

    def live_dataset_ids(self, dataset_ids: Iterable[str]) -> set[str]:
        wanted = list(set(dataset_ids))
        found: set[str] = set()
        for batch in _batches(wanted):
            rows = self.db.execute(
                f"SELECT id FROM datasets WHERE organization_id = ? AND deleted = 0 AND id IN ({_marks(batch)})",  # noqa: S608
                (self.organization_id, *batch),
            ).fetchall()
            found.update(r["id"] for r in rows)
        return found

    def rows_by_global_key(self, global_keys: Iterable[str]) -> dict[str, RowRef]:
        """Live rows owning these keys (ids and keys only: cheap for tens of thousands)."""
        refs = self._refs_where("global_key", global_keys)
        return {ref.global_key: ref for ref in refs if ref.global_key is not None}

    def rows_by_id(self, data_row_ids: Iterable[str]) -> dict[str, RowRef]:
        return {ref.id: ref for ref in self._refs_where("id", data_row_ids)}

    def _refs_where(self, column: str, values: Iterable[str]) -> list[RowRef]:
        found: list[RowRef] = []
        for batch in _batches(list(set(values))):
            rows = self.db.execute(
                "SELECT id, global_key, dataset_id FROM data_rows WHERE organization_id = ? AND deleted = 0 "  # noqa: S608
                f"AND {column} IN ({_marks(batch)})",
                (self.organization_id, *batch),
            ).fetchall()
            found.extend(RowRef(r["id"], r["global_key"], r["dataset_id"]) for r in rows)
        return found

    def insert(self, rows: Sequence[NewDataRow]) -> None:
        stamp, user_id = now(), self._store.user.id
        self.db.executemany(
            "INSERT INTO data_rows (id, organization_id, dataset_id, global_key, external_id, row_data, "
            "media_type, metadata, attachments, created_by, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (r.id, self.organization_id, r.dataset_id, r.global_key, r.external_id, r.row_data,
                 r.media_type, _dumps(r.metadata), _dumps(r.attachments), user_id, stamp, stamp)
                for r in rows
            ],
        )  # fmt: skip

    def update(self, updates: Sequence[DataRowUpdate]) -> None:
        self.db.executemany(
            "UPDATE data_rows SET global_key = COALESCE(?, global_key), "
            "external_id = COALESCE(?, external_id), row_data = COALESCE(?, row_data), "
            "media_type = COALESCE(?, media_type), metadata = COALESCE(?, metadata), "
            "attachments = COALESCE(?, attachments), updated_at = ? WHERE id = ?",
            [
                (u.global_key, u.external_id, u.row_data, u.media_type,
                 None if u.metadata is None else _dumps(u.metadata),
                 None if u.attachments is None else _dumps(u.attachments), now(), u.id)
                for u in updates
            ],
        )  # fmt: skip

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
            [(task_id, position, f.message, _dumps(_failed_spec(f))) for position, f in enumerate(failed)],
        )

    def finish_task(
        self, task_id: str, *, status: str, result: str | None, errors: str | None, metadata: Any
    ) -> None:
        self._store.finish_task(
            task_id, status=status, result=result, errors=errors, metadata=metadata, db=self.db
        )


def _failed_spec(failed: FailedRow) -> dict[str, Any]:
    return {
        "external_id": failed.external_id,
        "global_key": failed.global_key,
        "row_data": failed.row_data,
        "metadata": failed.metadata,
        "attachments": failed.attachments,
    }


class BatchWriter:
    """Bulk operations for filling one batch, inside the writer's transaction (so checks cannot race)."""

    def __init__(self, store: Store, db: sqlite3.Connection) -> None:
        self._store = store
        self.db = db
        self.organization_id = store.organization.id

    def live_row_ids(self, data_row_ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for batch in _batches(list(set(data_row_ids))):
            rows = self.db.execute(
                "SELECT id FROM data_rows WHERE organization_id = ? AND deleted = 0 "  # noqa: S608
                f"AND id IN ({_marks(batch)})",
                (self.organization_id, *batch),
            ).fetchall()
            found.update(r["id"] for r in rows)
        return found

    def row_ids_for_global_keys(self, global_keys: Iterable[str]) -> dict[str, str]:
        """global key -> id of the live row owning it."""
        found: dict[str, str] = {}
        for batch in _batches(list(set(global_keys))):
            rows = self.db.execute(
                "SELECT global_key, id FROM data_rows WHERE organization_id = ? AND deleted = 0 "  # noqa: S608
                f"AND global_key IN ({_marks(batch)})",
                (self.organization_id, *batch),
            ).fetchall()
            found.update((r["global_key"], r["id"]) for r in rows)
        return found

    def batch_of_rows(self, project_id: str, data_row_ids: Iterable[str]) -> dict[str, str]:
        """data row id -> the batch holding it in this project, for rows already in the project."""
        found: dict[str, str] = {}
        for batch in _batches(list(set(data_row_ids))):
            rows = self.db.execute(
                "SELECT data_row_id, batch_id FROM project_data_rows WHERE project_id = ? "  # noqa: S608
                f"AND data_row_id IN ({_marks(batch)})",
                (project_id, *batch),
            ).fetchall()
            found.update((r["data_row_id"], r["batch_id"]) for r in rows)
        return found

    def create_batch(self, project_id: str, name: str, consensus_settings: dict[str, Any] | None) -> str:
        """Insert an empty batch and return its id; BatchNameTaken if a live batch has the name."""
        taken = self.db.execute(
            "SELECT 1 FROM batches WHERE project_id = ? AND name = ? AND deleted = 0", (project_id, name)
        ).fetchone()
        if taken:
            raise BatchNameTaken(name)
        stamp, batch_id = now(), new_id()
        settings = None if consensus_settings is None else _dumps(consensus_settings)
        self.db.execute(
            "INSERT INTO batches (id, project_id, name, consensus_settings, created_by, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (batch_id, project_id, name, settings, self._store.user.id, stamp, stamp),
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

    def finish_task(
        self, task_id: str, *, status: str, result: str | None, errors: str | None, metadata: Any
    ) -> None:
        self._store.finish_task(
            task_id, status=status, result=result, errors=errors, metadata=metadata, db=self.db
        )
