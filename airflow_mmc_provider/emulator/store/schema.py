"""The emulator database's tables, as an ordered list of migrations.

Later issues add tables by appending a step rather than by editing one, so a data directory of an
earlier version is upgraded in place (`StoreBase._migrate` runs the steps it has not seen yet).
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
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

# Wiped by `reset`; the organisation, its user and its labeling frontends survive so ids a client
# cached (its user id, the Editor frontend) stay valid.
RESETTABLE_TABLES = (
    "datasets", "data_rows", "files", "tasks", "task_results", "jobs", "ontologies", "projects",
    "labeling_frontend_options", "task_queues", "batches", "project_data_rows", "workflow_history",
    "metadata_schemas", "labels", "export_streams", "annotation_imports", "prelabels",
)  # fmt: skip
