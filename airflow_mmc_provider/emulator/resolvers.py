"""GraphQL field resolvers: arguments in, `models.Store` calls, GraphQL-shaped dicts out.

Nodes are plain dicts keyed by GraphQL field names (graphql-core's default resolver reads them), so
most fields need no resolver at all; keys starting with ``_`` carry ids for the few nested fields
that load more (``User.createdTasks``, ``DataRow.dataset``). Every node builder returns every field
the SDK selects (wire reference 1.3): the SDK raises ``KeyError`` on a missing one.

Resolvers are registered per type in `RESOLVERS`; each slice has its own section (account, files,
datasets, data rows, upserts, ontologies, labeling frontends, projects, batches, exports, imports)
and `bind` checks each one names a field of the SDL. The rules behind a resolver live in
their own modules (`upserts`, `metadata`, `ontologies`, `batches`, `workflow`, `exports`, `imports`):
resolvers only translate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema

from airflow_mmc_provider.emulator import batches, exports, filters, imports, ontologies, upserts, workflow
from airflow_mmc_provider.emulator.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    UnprocessableError,
)
from airflow_mmc_provider.emulator.jobs import TaskRunner
from airflow_mmc_provider.emulator.metadata import (
    MetadataError,
    SchemaIndex,
    parse_schema_request,
    schema_node,
)
from airflow_mmc_provider.emulator.store import (
    COMPLETE,
    AnnotationImport,
    Batch,
    BatchNameTaken,
    DataRow,
    Dataset,
    FailedRow,
    ImportNameTaken,
    LabelingFrontend,
    NewProject,
    Ontology,
    Organization,
    Project,
    Store,
    Task,
    UnknownCursor,
    User,
)
from airflow_mmc_provider.emulator.workflow import StateCounts

Resolver = Callable[..., Any]

DEFAULT_PAGE = 100
MAX_RESULTS_PAGE = 10_000
MAX_CURSOR_PAGE = 1_000
GLOBAL_KEYS_JOB = "data-rows-for-global-keys"
CONVERSATIONAL = "CONVERSATIONAL"
LIVE_CHAT_EVALUATION = "MODEL_CHAT_EVALUATION"


@dataclass(frozen=True)
class UploadedPart:
    """A file part of a GraphQL multipart request, substituted for its variable before execution."""

    content: bytes
    filename: str | None
    content_type: str | None


@dataclass
class RequestContext:
    """What a resolver may use: the state, the background runner, and the URL the client called."""

    store: Store
    runner: TaskRunner
    base_url: str  # scheme://host[:port][root path], without a trailing slash
    # Per-request memo: one overview asks for the same counts up to five times.
    _counts: dict[tuple[str, tuple[str, ...] | None], StateCounts] = field(default_factory=dict, repr=False)
    _metadata: SchemaIndex | None = field(default=None, repr=False)
    export_chunk_bytes: int = exports.DEFAULT_CHUNK_BYTES

    @property
    def netloc(self) -> str:
        return urlsplit(self.base_url).netloc

    def file_url(self, file_id: str) -> str:
        return f"{self.base_url}/files/{file_id}"

    def metadata_index(self) -> SchemaIndex:
        """The organisation's metadata schemas, read once per request."""
        if self._metadata is None:
            self._metadata = SchemaIndex(self.store.metadata_schemas())
        return self._metadata

    def state_counts(self, project_id: str, batch_ids: list[str] | None = None) -> StateCounts:
        """The project's workflow counts (see `workflow`), computed once per request."""
        key = (project_id, None if batch_ids is None else tuple(sorted(set(batch_ids))))
        if key not in self._counts:
            self._counts[key] = self.store.state_counts(project_id, batch_ids)
        return self._counts[key]


def _context(info: GraphQLResolveInfo) -> RequestContext:
    context: RequestContext = info.context
    return context


# --- node builders -------------------------------------------------------------------------------


def user_node(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "nickname": user.nickname,
        "picture": None,
        "isViewer": False,
        "isExternalUser": False,
        "timezone": None,  # the SDK then assumes UTC for export date filters
        "lastLoginAt": user.updated_at,
        "createdAt": user.created_at,
        "updatedAt": user.updated_at,
        "_organizationId": user.organization_id,
    }


def organization_node(organization: Organization) -> dict[str, Any]:
    return {
        "id": organization.id,
        "name": organization.name,
        "createdAt": organization.created_at,
        "updatedAt": organization.updated_at,
    }


def dataset_node(dataset: Dataset) -> dict[str, Any]:
    return {
        "id": dataset.id,
        "name": dataset.name,
        "description": dataset.description,
        "rowCount": dataset.row_count,
        "createdAt": dataset.created_at,
        "updatedAt": dataset.updated_at,
        "deleted": dataset.deleted,  # not in the SDL: only for `where` filters
        "_createdBy": dataset.created_by,
    }


def data_row_node(row: DataRow) -> dict[str, Any]:
    metadata = row.metadata
    return {
        "id": row.id,
        "externalId": row.external_id,
        "globalKey": row.global_key,
        "rowData": row.row_data,
        "mediaType": row.media_type,
        "mediaAttributes": {},
        "_metadata": metadata,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
        "_datasetId": row.dataset_id,
        "_attachments": row.attachments,
    }


def task_node(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "name": task.name,
        "type": task.type,
        "status": task.status,
        "completionPercentage": task.completion_percentage,
        "result": task.result,
        "errors": task.errors,
        "metadata": task.metadata,
        "createdAt": task.created_at,
        "updatedAt": task.updated_at,
        "_createdBy": task.created_by,
    }


def failed_row_node(failed: FailedRow) -> dict[str, Any]:
    return {
        "message": failed.message,
        "spec": {
            "externalId": failed.external_id,
            "globalKey": failed.global_key,
            "rowData": failed.row_data,
            "metadata": [
                {"schemaId": m.get("schemaId"), "value": m.get("value"), "name": m.get("name")}
                for m in failed.metadata
            ],
            "attachments": [
                {"type": a.get("type"), "value": a.get("value"), "name": a.get("name")}
                for a in failed.attachments
            ],
        },
    }


# --- account -------------------------------------------------------------------------------------


def resolve_user(_: Any, info: GraphQLResolveInfo, where: Mapping[str, Any] | None = None) -> dict[str, Any]:
    store = _context(info).store
    user_id = (where or {}).get("id") or store.user.id
    user = store.get_user(user_id)
    if user is None or user.organization_id != store.organization.id:
        raise NotFoundError(f"User '{user_id}' not found")
    return user_node(user)


def resolve_organization(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return organization_node(_context(info).store.organization)


def resolve_empty_list(_: Any, info: GraphQLResolveInfo) -> list[Any]:
    """No IAM integrations and no custom metadata schemas: the SDK handles both empty lists."""
    return []


def resolve_organization_of(node: Mapping[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    return organization_node(_context(info).store.organization)


def resolve_created_tasks(
    user: Mapping[str, Any],
    info: GraphQLResolveInfo,
    where: Mapping[str, Any] | None = None,
    skip: int | None = None,
    first: int | None = None,
) -> list[dict[str, Any]]:
    wanted = filters.equalities(where)
    unknown = set(wanted) - {"id", "status", "type"}
    if unknown:
        raise InvalidInputError(f"createdTasks cannot filter on {sorted(unknown)}")
    tasks = _context(info).store.tasks_created_by(
        user["id"], filters=wanted, skip=max(0, skip or 0), first=_page_size(first, DEFAULT_PAGE)
    )
    return [task_node(t) for t in tasks]


def resolve_created_by(node: Mapping[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    user = _context(info).store.get_user(node.get("_createdBy") or "")
    return user_node(user) if user else None


# --- files ---------------------------------------------------------------------------------------


def resolve_upload_file(
    _: Any, info: GraphQLResolveInfo, file: Any, contentLength: int, sign: bool | None = None
) -> dict[str, Any]:
    """Store the part as sent; `contentLength` is not enforced (the SDK computes it loosely)."""
    if not isinstance(file, UploadedPart):
        raise InvalidInputError(
            "uploadFile needs a GraphQL multipart request (parts 'operations', 'map' and the file)"
        )
    context = _context(info)
    stored = context.store.save_file(
        file.content, filename=file.filename, content_type=file.content_type, netloc=context.netloc
    )
    return {"url": context.file_url(stored.id), "filename": file.filename or stored.id}


# --- datasets ------------------------------------------------------------------------------------


def resolve_dataset(_: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> dict[str, Any]:
    dataset = _context(info).store.get_dataset(where["id"])
    if dataset is None:
        raise NotFoundError(f"Dataset '{where['id']}' not found")
    return dataset_node(dataset)


def resolve_datasets(
    _: Any,
    info: GraphQLResolveInfo,
    where: Mapping[str, Any] | None = None,
    skip: int | None = None,
    first: int | None = None,
) -> list[dict[str, Any]]:
    """The ORM list query; deleted datasets only appear when the filter asks for them."""
    name = filters.equalities(where).get("name")
    nodes = [dataset_node(d) for d in _context(info).store.list_datasets(name=name)]
    if not filters.mentions(where, "deleted"):
        nodes = [n for n in nodes if not n["deleted"]]
    try:
        selected = [n for n in nodes if filters.matches(n, where)]
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from None
    start = max(0, skip or 0)
    return selected[start : start + _page_size(first, DEFAULT_PAGE)]


def resolve_create_dataset(_: Any, info: GraphQLResolveInfo, data: Mapping[str, Any]) -> dict[str, Any]:
    name = data["name"]
    if not name.strip():
        raise InvalidInputError("Dataset name must not be blank")
    return dataset_node(_context(info).store.create_dataset(name, data.get("description")))


def resolve_update_dataset(
    _: Any, info: GraphQLResolveInfo, where: Mapping[str, Any], data: Mapping[str, Any]
) -> dict[str, Any]:
    store = _context(info).store
    if data.get("name") is not None and not data["name"].strip():
        raise InvalidInputError("Dataset name must not be blank")
    if data.get("deleted"):
        dataset = store.delete_dataset(where["id"])
    else:
        dataset = store.update_dataset(
            where["id"], name=data.get("name"), description=data.get("description")
        )
    if dataset is None:
        raise NotFoundError(f"Dataset '{where['id']}' not found")
    return dataset_node(dataset)


# --- data rows -----------------------------------------------------------------------------------

_DATA_ROW_FILTER_COLUMNS = {"id": "id", "externalId": "external_id", "globalKey": "global_key"}


def resolve_data_row(_: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> dict[str, Any]:
    store = _context(info).store
    if where.get("id"):
        row = store.get_data_row(where["id"])
    elif where.get("globalKey"):
        row = store.get_data_row_by_global_key(where["globalKey"])
    else:
        raise InvalidInputError("dataRow needs where: {id} or where: {globalKey}")
    if row is None:
        raise NotFoundError(f"Data row {dict(where)} not found")
    return data_row_node(row)


def resolve_dataset_data_rows(
    _: Any,
    info: GraphQLResolveInfo,
    id: str,
    first: int | None = None,
    where: Mapping[str, Any] | None = None,
    **arguments: Any,
) -> dict[str, Any]:
    """`from` is a Python keyword, hence `**arguments`; the cursor is the next page's first row id."""
    store = _context(info).store
    if store.get_dataset(id) is None:
        raise NotFoundError(f"Dataset '{id}' not found")
    columns = {_DATA_ROW_FILTER_COLUMNS[k]: v for k, v in (where or {}).items() if v is not None}
    rows, next_start = store.dataset_data_rows(
        id, start_id=arguments.get("from"), limit=_page_size(first, 500), filters=columns
    )
    return {
        "nodes": [data_row_node(r) for r in rows],
        "pageInfo": {"hasNextPage": next_start is not None, "startCursor": next_start},
    }


def resolve_data_row_dataset(row: Mapping[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    dataset = _context(info).store.get_dataset(row["_datasetId"], include_deleted=True)
    return dataset_node(dataset) if dataset else None


def resolve_data_row_attachments(
    row: Mapping[str, Any], info: GraphQLResolveInfo, skip: int | None = None, first: int | None = None
) -> list[dict[str, Any]]:
    start = max(0, skip or 0)
    attachments: list[dict[str, Any]] = row["_attachments"]
    return attachments[start : start + _page_size(first, DEFAULT_PAGE)]


def resolve_data_row_custom_metadata(
    row: Mapping[str, Any], info: GraphQLResolveInfo
) -> list[dict[str, Any]]:
    return _context(info).metadata_index().custom_metadata(row["_metadata"])


def resolve_data_row_metadata_fields(
    row: Mapping[str, Any], info: GraphQLResolveInfo
) -> list[dict[str, Any]]:
    return _context(info).metadata_index().graphql_fields(row["_metadata"])


def resolve_metadata_ontology(_: Any, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    return [schema_node(schema) for schema in _context(info).store.metadata_schemas()]


def resolve_upsert_metadata_schema(
    _: Any, info: GraphQLResolveInfo, data: Mapping[str, Any]
) -> dict[str, Any]:
    """Get-or-create a metadata schema by name (see `metadata`)."""
    try:
        request = parse_schema_request(data)
        return schema_node(_context(info).store.upsert_metadata_schema(request))
    except (MetadataError, ValueError) as exc:
        raise InvalidInputError(str(exc)) from None


def resolve_data_rows_for_global_keys(
    _: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]
) -> dict[str, Any]:
    """Answered at once but exposed as a job, as the service does; the result is kept by job id."""
    keys: list[str] = list(where["ids"])
    store = _context(info).store
    found = store.data_row_ids_for_global_keys(keys)
    result = {"keys": keys, "ids": [found.get(k, "") for k in keys]}
    return {"jobId": store.create_job(GLOBAL_KEYS_JOB, COMPLETE, result).id}


def resolve_data_rows_for_global_keys_result(
    _: Any, info: GraphQLResolveInfo, jobId: Mapping[str, Any]
) -> dict[str, Any]:
    job = _context(info).store.get_job(jobId["id"])
    if job is None or job.type != GLOBAL_KEYS_JOB:
        raise NotFoundError(f"Job '{jobId['id']}' not found")
    keys, ids = job.result["keys"], job.result["ids"]
    return {
        "jobStatus": job.status,
        "data": {
            "fetchedDataRows": [
                {"id": i, "globalKey": k if i else None} for k, i in zip(keys, ids, strict=True)
            ],
            "notFoundGlobalKeys": [k for k, i in zip(keys, ids, strict=True) if not i],
            "accessDeniedGlobalKeys": [],
        },
    }


# --- data-row upserts ----------------------------------------------------------------------------


def resolve_upsert_data_rows(_: Any, info: GraphQLResolveInfo, data: Mapping[str, Any]) -> dict[str, Any]:
    """Create the task and return it IN_PROGRESS; the runner reads the manifest in the background."""
    context = _context(info)
    task_input = {"manifestUri": data["manifestUri"], "baseUrl": context.base_url}
    task = context.store.create_task(upserts.TASK_TYPE, upserts.TASK_NAME, task_input)
    context.runner.submit(task.id)
    return task_node(task)


def resolve_successful_imports(_: Any, info: GraphQLResolveInfo, data: Mapping[str, Any]) -> dict[str, Any]:
    store, offset, limit = _results_page(info, data)
    rows, total = store.task_successes(data["taskId"], offset=offset, limit=limit)
    return {
        "nodes": [data_row_node(r) for r in rows],
        "after": _next_cursor(offset, len(rows), total),
        "total": total,
    }


def resolve_failed_imports(_: Any, info: GraphQLResolveInfo, data: Mapping[str, Any]) -> dict[str, Any]:
    store, offset, limit = _results_page(info, data)
    failures, total = store.task_failures(data["taskId"], offset=offset, limit=limit)
    return {
        "results": [failed_row_node(f) for f in failures],
        "after": _next_cursor(offset, len(failures), total),
        "total": total,
    }


def _results_page(info: GraphQLResolveInfo, data: Mapping[str, Any]) -> tuple[Store, int, int]:
    store = _context(info).store
    if store.get_task(data["taskId"]) is None:
        raise NotFoundError(f"Task '{data['taskId']}' not found")
    cursor = data.get("from")
    try:
        offset = int(cursor) if cursor else 0
    except ValueError:
        raise InvalidInputError(f"invalid cursor {cursor!r}: pass the 'after' of the previous page") from None
    return store, max(0, offset), _page_size(data.get("first"), 5000, limit=MAX_RESULTS_PAGE)


def _next_cursor(offset: int, count: int, total: int) -> str | None:
    end = offset + count
    return str(end) if count and end < total else None


def _page_size(first: int | None, default: int, *, limit: int = 10_000) -> int:
    if first is None:
        return default
    if first < 0:
        raise InvalidInputError("first must not be negative")
    return min(first, limit)


# --- ontologies ----------------------------------------------------------------------------------


def ontology_node(ontology: Ontology) -> dict[str, Any]:
    return {
        "id": ontology.id,
        "name": ontology.name,
        "description": ontology.description,
        "mediaType": ontology.media_type,
        "normalized": ontology.normalized,
        "objectSchemaCount": ontology.object_count,
        "classificationSchemaCount": ontology.classification_count,
        "createdAt": ontology.created_at,
        "updatedAt": ontology.updated_at,
        "_createdBy": ontology.created_by,
    }


def resolve_ontology(_: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> dict[str, Any]:
    ontology = _context(info).store.get_ontology(where["id"])
    if ontology is None:
        raise NotFoundError(f"Ontology '{where['id']}' not found")
    return ontology_node(ontology)


def resolve_ontologies(
    _: Any,
    info: GraphQLResolveInfo,
    where: Mapping[str, Any] | None = None,
    after: str | None = None,
    first: Any = None,
) -> dict[str, Any]:
    """Cursor pages: `nextCursor` is the id the next page starts after, null on the last page."""
    search = (where or {}).get("search")
    try:
        page, cursor = _context(info).store.ontologies_page(
            search=search, after=after, limit=_cursor_page_size(first)
        )
    except UnknownCursor as exc:
        raise InvalidInputError(str(exc)) from None
    return {"nodes": [ontology_node(o) for o in page], "nextCursor": cursor}


def resolve_upsert_ontology(_: Any, info: GraphQLResolveInfo, data: Mapping[str, Any]) -> dict[str, Any]:
    name = data["name"]
    if not name.strip():
        raise InvalidInputError("Ontology name must not be blank")
    media_type, editor_task_type = data.get("mediaType"), data.get("editorTaskType")
    if editor_task_type and media_type != CONVERSATIONAL:
        raise InvalidInputError(
            f"An ontology for {editor_task_type} must have mediaType CONVERSATIONAL, got {media_type}"
        )
    try:
        checked = ontologies.normalize(data["normalized"])
    except ontologies.OntologyError as exc:
        raise InvalidInputError(str(exc)) from None
    ontology = _context(info).store.create_ontology(
        name=name,
        normalized=checked.normalized,
        object_count=checked.object_count,
        classification_count=checked.classification_count,
        media_type=media_type,
        editor_task_type=editor_task_type,
        description=data.get("description"),
    )
    return ontology_node(ontology)


# --- labeling frontends --------------------------------------------------------------------------


def labeling_frontend_node(frontend: LabelingFrontend) -> dict[str, Any]:
    return {
        "id": frontend.id,
        "name": frontend.name,
        "description": frontend.description,
        "iframeUrlPath": frontend.iframe_url_path,
        "createdAt": frontend.created_at,
        "updatedAt": frontend.updated_at,
        "deleted": frontend.deleted,  # not in the SDL: only for `where` filters
    }


def resolve_labeling_frontend(_: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> dict[str, Any]:
    frontend = _context(info).store.get_labeling_frontend(where["id"])
    if frontend is None:
        raise NotFoundError(f"Labeling frontend '{where['id']}' not found")
    return labeling_frontend_node(frontend)


def resolve_labeling_frontends(
    _: Any,
    info: GraphQLResolveInfo,
    where: Mapping[str, Any] | None = None,
    skip: int | None = None,
    first: int | None = None,
) -> list[dict[str, Any]]:
    nodes = [labeling_frontend_node(f) for f in _context(info).store.labeling_frontends()]
    return _orm_page(nodes, where, skip, first)


def resolve_create_labeling_frontend_options(
    _: Any, info: GraphQLResolveInfo, data: Mapping[str, Any]
) -> dict[str, Any]:
    """Store the options; a project without an ontology gets one made from them (as the service
    does: the SDK's `is_empty_ontology` expects that default, empty ontology)."""
    store = _context(info).store
    project = _live_project(store, data["project"]["connect"]["id"])
    frontend_id = data["labelingFrontend"]["connect"]["id"]
    if store.get_labeling_frontend(frontend_id) is None:
        raise NotFoundError(f"Labeling frontend '{frontend_id}' not found")
    if project.ontology_id is None:
        try:
            default = ontologies.normalize(data["customizationOptions"])
        except ontologies.OntologyError:
            default = ontologies.empty_ontology()
        ontology = store.create_ontology(
            name=f"{project.name} ontology",
            normalized=default.normalized,
            object_count=default.object_count,
            classification_count=default.classification_count,
            media_type=project.media_type,
            editor_task_type=project.editor_task_type,
        )
        store.update_project(project.id, ontology_id=ontology.id)
    options = store.create_labeling_frontend_options(project.id, frontend_id, data["customizationOptions"])
    return {
        "id": options.id,
        "customizationOptions": options.customization_options,
        "_projectId": options.project_id,
        "_labelingFrontendId": options.labeling_frontend_id,
    }


def resolve_options_project(node: Mapping[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    project = _context(info).store.get_project(node["_projectId"], include_deleted=True)
    return project_node(project) if project else None


def resolve_labeling_frontend_of(node: Mapping[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    frontend_id = node.get("_labelingFrontendId")
    frontend = _context(info).store.get_labeling_frontend(frontend_id) if frontend_id else None
    return labeling_frontend_node(frontend) if frontend else None


# --- projects ------------------------------------------------------------------------------------


def project_node(project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "allowedMediaType": project.media_type,
        "editorTaskType": project.editor_task_type,
        "uploadType": project.upload_type,
        "autoAuditNumberOfLabels": project.audit_labels,
        "autoAuditPercentage": project.audit_percentage,
        "isBenchmarkEnabled": project.benchmark,
        "isConsensusEnabled": project.consensus,
        "dataRowCount": project.data_row_count,
        "setupComplete": project.setup_complete,
        "modelSetupComplete": project.model_setup_complete,
        "lastActivityTime": project.last_activity_time,
        "createdAt": project.created_at,
        "updatedAt": project.updated_at,
        "labelCount": None,  # resolved: labels come from imports and simulated raters
        "issues": {"totalCount": 0},
        "deleted": project.deleted,  # not in the SDL: only for `where` filters
        "_createdBy": project.created_by,
        "_ontologyId": project.ontology_id,
        "_labelingFrontendId": project.labeling_frontend_id,
    }


def _live_project(store: Store, project_id: str) -> Project:
    project = store.get_project(project_id)
    if project is None:
        raise NotFoundError(f"Project '{project_id}' not found")
    return project


def resolve_project(_: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> dict[str, Any]:
    return project_node(_live_project(_context(info).store, where["id"]))


def resolve_projects(
    _: Any,
    info: GraphQLResolveInfo,
    where: Mapping[str, Any] | None = None,
    skip: int | None = None,
    first: int | None = None,
) -> list[dict[str, Any]]:
    """The ORM list query; deleted projects only appear when the filter asks for them."""
    name = filters.equalities(where).get("name")
    nodes = [project_node(p) for p in _context(info).store.list_projects(name=name)]
    return _orm_page(nodes, where, skip, first)


def resolve_create_project(_: Any, info: GraphQLResolveInfo, data: Mapping[str, Any]) -> dict[str, Any]:
    """Plain, offline-MMC and live-MMC projects; live ones come with the Editor connected."""
    store = _context(info).store
    name, media_type, editor_task_type = (
        data["name"],
        data.get("allowedMediaType"),
        data.get("editorTaskType"),
    )
    if not name.strip():
        raise InvalidInputError("Project name must not be blank")
    if editor_task_type and media_type != CONVERSATIONAL:
        raise InvalidInputError(
            f"A {editor_task_type} project must have allowedMediaType CONVERSATIONAL, got {media_type}"
        )
    if data.get("datasetNameOrId"):
        raise UnprocessableError(
            "The emulator does not generate data rows for live model evaluation projects "
            "(datasetNameOrId); create the project without a dataset and add rows with a batch"
        )
    percentage, labels = data.get("autoAuditPercentage"), data.get("autoAuditNumberOfLabels")
    if percentage is not None and not 0 <= percentage <= 1:
        raise InvalidInputError(f"autoAuditPercentage must be between 0 and 1, got {percentage}")
    if labels is not None and labels < 1:
        raise InvalidInputError(f"autoAuditNumberOfLabels must be at least 1, got {labels}")
    new = NewProject(
        name=name,
        description=data.get("description"),
        media_type=media_type,
        editor_task_type=editor_task_type,
        upload_type="MANUAL" if editor_task_type else None,
        audit_labels=labels,
        audit_percentage=percentage,
        benchmark=bool(data.get("isBenchmarkEnabled")),
        consensus=bool(data.get("isConsensusEnabled")),
        labeling_frontend_id=store.editor_frontend().id if editor_task_type == LIVE_CHAT_EVALUATION else None,
    )
    return project_node(store.create_project(new, workflow.task_queue_specs()))


def resolve_update_project(
    _: Any, info: GraphQLResolveInfo, where: Mapping[str, Any], data: Mapping[str, Any]
) -> dict[str, Any]:
    store = _context(info).store
    if data.get("name") is not None and not data["name"].strip():
        raise InvalidInputError("Project name must not be blank")
    if data.get("deleted"):
        project = store.delete_project(where["id"])
    else:
        frontend_id = (data.get("labelingFrontend") or {}).get("connect", {}).get("id")
        if frontend_id is not None and store.get_labeling_frontend(frontend_id) is None:
            raise NotFoundError(f"Labeling frontend '{frontend_id}' not found")
        project = store.update_project(
            where["id"],
            name=data.get("name"),
            description=data.get("description"),
            labeling_frontend_id=frontend_id,
        )
    if project is None:
        raise NotFoundError(f"Project '{where['id']}' not found")
    return project_node(project)


def resolve_project_ontology(node: Mapping[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    ontology_id = node.get("_ontologyId")
    ontology = _context(info).store.get_ontology(ontology_id) if ontology_id else None
    return ontology_node(ontology) if ontology else None


def resolve_project_batches(
    project: Mapping[str, Any],
    info: GraphQLResolveInfo,
    where: Mapping[str, Any] | None = None,
    after: str | None = None,
    first: Any = None,
) -> dict[str, Any]:
    store = _context(info).store
    wanted = (where or {}).get("id")
    if wanted:
        batch = store.get_batch(wanted)
        found = [batch] if batch and batch.project_id == project["id"] else []
        return {
            "nodes": [batch_node(b) for b in found],
            "pageInfo": {"endCursor": None, "hasNextPage": False},
        }
    try:
        page, cursor = store.batches_page(project["id"], after=after, limit=_cursor_page_size(first))
    except UnknownCursor as exc:
        raise InvalidInputError(str(exc)) from None
    return {
        "nodes": [batch_node(b) for b in page],
        "pageInfo": {"endCursor": cursor, "hasNextPage": cursor is not None},
    }


def resolve_workstream_state_counts(
    project: Mapping[str, Any], info: GraphQLResolveInfo, batchIds: list[str] | None = None
) -> list[dict[str, Any]]:
    return workflow.state_counts(_context(info).state_counts(project["id"], batchIds))


def resolve_task_queues(project: Mapping[str, Any], info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    return [
        {
            "id": queue.id,
            "name": queue.name,
            "description": queue.description,
            "queueType": queue.queue_type,
            "_projectId": queue.project_id,
            "_state": queue.state,
        }
        for queue in _context(info).store.task_queues(project["id"])
    ]


def resolve_queue_data_row_count(
    queue: Mapping[str, Any], info: GraphQLResolveInfo, input: Mapping[str, Any] | None = None
) -> int:
    try:
        batch_ids = workflow.batch_ids_of_count_input(input)
    except workflow.WorkflowRequestError as exc:
        raise InvalidInputError(str(exc)) from None
    return _context(info).state_counts(queue["_projectId"], batch_ids).count(queue["_state"])


def resolve_completed_data_row_count(project: Mapping[str, Any], info: GraphQLResolveInfo) -> int:
    return _context(info).state_counts(project["id"]).count(workflow.DONE)


# --- project mutations: ontology and batches -----------------------------------------------------


def resolve_project_mutation(_: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": _live_project(_context(info).store, where["id"]).id}


def resolve_connect_ontology(
    node: Mapping[str, Any], info: GraphQLResolveInfo, ontologyId: str
) -> dict[str, Any]:
    """Media types must match unless the ontology has none (the SDK checks the same first)."""
    store = _context(info).store
    project = _live_project(store, node["id"])
    ontology = store.get_ontology(ontologyId)
    if ontology is None:
        raise NotFoundError(f"Ontology '{ontologyId}' not found")
    if ontology.media_type not in (None, "UNKNOWN") and ontology.media_type != project.media_type:
        raise UnprocessableError(
            f"Ontology '{ontology.name}' is for {ontology.media_type} data but project '{project.name}' "
            f"labels {project.media_type}; use an ontology of the project's media type"
        )
    updated = store.update_project(project.id, ontology_id=ontology.id)
    assert updated is not None
    return project_node(updated)


def batch_node(batch: Batch) -> dict[str, Any]:
    return {
        "id": batch.id,
        "name": batch.name,
        "size": batch.size,
        "consensusSettingsJson": batch.consensus_settings,
        "createdAt": batch.created_at,
        "updatedAt": batch.updated_at,
        "_createdBy": batch.created_by,
        "_projectId": batch.project_id,
    }


def resolve_batch_project(batch: Mapping[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    project = _context(info).store.get_project(batch["_projectId"], include_deleted=True)
    return project_node(project) if project else None


def _batch_arguments(data: Mapping[str, Any]) -> tuple[str, dict[str, Any] | None]:
    name = data["name"]
    if not name.strip():
        raise InvalidInputError("Batch name must not be blank")
    try:
        return name, batches.parse_consensus(data.get("consensusSettings"))
    except batches.BatchInputError as exc:
        raise InvalidInputError(str(exc)) from None


def _selection(data: Mapping[str, Any]) -> batches.RowSelection:
    try:
        return batches.parse_selection(data.get("dataRowIds"), data.get("globalKeys"), data.get("priority"))
    except batches.BatchInputError as exc:
        raise InvalidInputError(str(exc)) from None


def _name_taken(name: str, project_id: str) -> ConflictError:
    return ConflictError(
        f"A batch named '{name}' already exists in project '{project_id}'; batch names must be unique "
        "within a project"
    )


def resolve_create_batch_v2(
    node: Mapping[str, Any], info: GraphQLResolveInfo, input: Mapping[str, Any]
) -> dict[str, Any]:
    store = _context(info).store
    name, consensus = _batch_arguments(input)
    selection = _selection(input)
    try:
        batch_id, outcome = batches.create_batch_with_rows(store, node["id"], name, consensus, selection)
    except BatchNameTaken:
        raise _name_taken(name, node["id"]) from None
    except batches.NothingAdded as exc:
        raise InvalidInputError(str(exc)) from None
    batch = store.get_batch(batch_id)
    assert batch is not None
    return {"batch": batch_node(batch), "failedDataRowIds": outcome.failed}


def resolve_create_empty_batch(
    node: Mapping[str, Any], info: GraphQLResolveInfo, input: Mapping[str, Any]
) -> dict[str, Any]:
    name, consensus = _batch_arguments(input)
    try:
        batch = _context(info).store.create_batch(node["id"], name, consensus)
    except BatchNameTaken:
        raise _name_taken(name, node["id"]) from None
    return batch_node(batch)


def resolve_add_data_rows_to_batch_async(
    node: Mapping[str, Any], info: GraphQLResolveInfo, input: Mapping[str, Any]
) -> dict[str, Any]:
    """Create the task and return its id; the runner adds the rows in the background."""
    context = _context(info)
    batch = context.store.get_batch(input["batchId"])
    if batch is None or batch.project_id != node["id"]:
        raise NotFoundError(f"Batch '{input['batchId']}' not found in project '{node['id']}'")
    selection = _selection(input)
    task_input = {"projectId": node["id"], "batchId": batch.id, **selection.to_json()}
    task = context.store.create_task(batches.TASK_TYPE, batches.TASK_NAME, task_input)
    context.runner.submit(task.id)
    return {"taskId": task.id}


def resolve_data_rows_processed(
    _: Any, info: GraphQLResolveInfo, dataRowIds: list[str] | None = None, globalKeys: list[str] | None = None
) -> dict[str, Any]:
    """Rows are written with their upsert task's outcome, so a row that exists is processed; a
    missing one is still pending only while some upsert is running (else it will never come)."""
    store = _context(info).store
    ids, keys = list(dataRowIds or ()), list(globalKeys or ())
    wanted = len(set(ids)) + len(set(keys))
    processed = store.count_live_rows(data_row_ids=ids, global_keys=keys) >= wanted
    if not processed:
        processed = not store.has_unfinished_tasks(upserts.TASK_TYPE)
    return {"allDataRowsHaveBeenProcessed": processed}


# --- paging helpers ------------------------------------------------------------------------------


def _orm_page(
    nodes: list[dict[str, Any]], where: Mapping[str, Any] | None, skip: int | None, first: int | None
) -> list[dict[str, Any]]:
    """An ORM list page: deleted nodes only when the filter mentions `deleted`, then skip/first."""
    if not filters.mentions(where, "deleted"):
        nodes = [n for n in nodes if not n["deleted"]]
    try:
        selected = [n for n in nodes if filters.matches(n, where)]
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from None
    start = max(0, skip or 0)
    return selected[start : start + _page_size(first, DEFAULT_PAGE)]


def _cursor_page_size(first: Any) -> int:
    """`first` of a cursor-paged list (a PageSize scalar): a whole number, 100 by default."""
    if first is None:
        return DEFAULT_PAGE
    if not isinstance(first, int) or isinstance(first, bool) or first < 1:
        raise InvalidInputError(f"first must be a whole number of at least 1, got {first!r}")
    return min(first, MAX_CURSOR_PAGE)


# --- exports -------------------------------------------------------------------------------------


def resolve_label_count(project: Mapping[str, Any], info: GraphQLResolveInfo) -> int:
    return _context(info).store.label_count(project["id"])


def resolve_task(
    _: Any, info: GraphQLResolveInfo, where: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    task = _context(info).store.get_task(str((where or {}).get("id")))
    return task_node(task) if task is not None else None


def resolve_export_data_rows_in_project(
    _: Any, info: GraphQLResolveInfo, input: Mapping[str, Any]
) -> dict[str, Any]:
    """Start an export task (see `exports`); filters are checked before the task exists."""
    context = _context(info)
    name, task_input = exports.task_input(input)
    _live_project(context.store, task_input["projectId"])
    task = context.store.create_task(exports.TASK_TYPE, name, task_input)
    context.runner.submit(task.id, exports.TASK_TYPE)
    return {"taskId": task.id, "isStreamable": True}


def _export_stream_of(
    node: Mapping[str, Any], info: GraphQLResolveInfo, stream_type: str
) -> tuple[int, int] | None:
    if node["type"] != exports.TASK_TYPE or node["status"] != COMPLETE:
        return None
    return _context(info).store.export_stream(node["id"], stream_type)


def resolve_export_metadata_header(
    node: Mapping[str, Any], info: GraphQLResolveInfo, streamType: str
) -> dict[str, Any] | None:
    header = _export_stream_of(node, info, streamType)
    return None if header is None else {"totalSize": header[0], "totalLines": header[1]}


def resolve_export_file_from_offset(
    node: Mapping[str, Any], info: GraphQLResolveInfo, streamType: str, offset: Any
) -> dict[str, Any] | None:
    """A chunk starting exactly at `offset`, served at its own URL (see `exports`)."""
    if _export_stream_of(node, info, streamType) is None:
        return None
    context = _context(info)
    chunk = exports.chunk_at(
        context.store, node["id"], streamType, exports.parse_offset(offset), context.export_chunk_bytes
    )
    return {
        "offsets": {"start": str(chunk.start), "end": str(chunk.end)},
        "lines": {"start": str(chunk.first_line), "end": str(chunk.last_line)},
        "file": f"{context.base_url}/export-chunks/{node['id']}/{streamType}/{chunk.start}-{chunk.end}",
    }


# --- annotation imports --------------------------------------------------------------------------


def _import_node(info: GraphQLResolveInfo, found: AnnotationImport) -> dict[str, Any]:
    project = _context(info).store.get_project(found.project_id, include_deleted=True)
    return imports.import_node(found, project_node(project) if project else None)


def _create_import(info: GraphQLResolveInfo, data: Mapping[str, Any], kind: str) -> dict[str, Any]:
    context = _context(info)
    project = _live_project(context.store, data["projectId"])
    payload, url = data.get("filePayload"), data.get("fileUrl")
    if (payload is None) == (url is None):
        raise InvalidInputError("give exactly one of filePayload (a multipart file) and fileUrl")
    if payload is not None:
        part = payload.get("file")
        if not isinstance(part, UploadedPart):
            raise InvalidInputError("filePayload.file must be the file part of a GraphQL multipart request")
        content = part.content
    else:
        try:
            content = upserts.resolve_file_url(context.store, str(url))
        except upserts.ManifestError as exc:
            raise InvalidInputError(str(exc)) from None
    stored = context.store.save_file(
        content, filename=f"{project.id}__{data['name']}.ndjson", content_type="application/x-ndjson",
        netloc=context.netloc,
    )  # fmt: skip
    try:
        found = context.store.create_import(project.id, data["name"], kind, stored.id, context.base_url)
    except ImportNameTaken:
        raise ConflictError(
            f"Project {project.id} already has an import named {data['name']!r}: import names are unique per project"
        ) from None
    task = context.store.create_task(imports.TASK_TYPE, imports.TASK_NAME, {"importId": found.id})
    context.runner.submit(task.id, imports.TASK_TYPE)
    return _import_node(info, found)


def resolve_create_label_import(_: Any, info: GraphQLResolveInfo, data: Mapping[str, Any]) -> dict[str, Any]:
    return _create_import(info, data, imports.LABEL)


def resolve_create_mal_import(_: Any, info: GraphQLResolveInfo, data: Mapping[str, Any]) -> dict[str, Any]:
    return _create_import(info, data, imports.PRELABEL)


def _find_import(info: GraphQLResolveInfo, where: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    found = _context(info).store.find_import(where["projectId"], where["name"], kind)
    return None if found is None else _import_node(info, found)


def resolve_label_import(_: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> dict[str, Any] | None:
    return _find_import(info, where, imports.LABEL)


def resolve_mal_import(_: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> dict[str, Any] | None:
    return _find_import(info, where, imports.PRELABEL)


# --- registration --------------------------------------------------------------------------------

RESOLVERS: dict[str, dict[str, Resolver]] = {
    "Query": {
        "user": resolve_user,
        "organization": resolve_organization,
        "iamIntegrations": resolve_empty_list,
        "customMetadataOntology": resolve_metadata_ontology,
        "dataset": resolve_dataset,
        "datasets": resolve_datasets,
        "dataRow": resolve_data_row,
        "datasetDataRows": resolve_dataset_data_rows,
        "dataRowsForGlobalKeys": resolve_data_rows_for_global_keys,
        "dataRowsForGlobalKeysResult": resolve_data_rows_for_global_keys_result,
        "successesfulDataRowImports": resolve_successful_imports,
        "failedDataRowImports": resolve_failed_imports,
        "ontology": resolve_ontology,
        "ontologies": resolve_ontologies,
        "project": resolve_project,
        "projects": resolve_projects,
        "labelingFrontend": resolve_labeling_frontend,
        "labelingFrontends": resolve_labeling_frontends,
        "queryAllDataRowsHaveBeenProcessed": resolve_data_rows_processed,
        "task": resolve_task,
        "labelImport": resolve_label_import,
        "modelAssistedLabelingPredictionImport": resolve_mal_import,
    },
    "Mutation": {
        "uploadFile": resolve_upload_file,
        "createDataset": resolve_create_dataset,
        "updateDataset": resolve_update_dataset,
        "upsertCustomMetadataSchema": resolve_upsert_metadata_schema,
        "exportDataRowsInProject": resolve_export_data_rows_in_project,
        "createLabelImport": resolve_create_label_import,
        "createModelAssistedLabelingPredictionImport": resolve_create_mal_import,
        "upsertDataRows": resolve_upsert_data_rows,
        "upsertOntology": resolve_upsert_ontology,
        "createProject": resolve_create_project,
        "updateProject": resolve_update_project,
        "createLabelingFrontendOptions": resolve_create_labeling_frontend_options,
        "project": resolve_project_mutation,
    },
    "User": {"organization": resolve_organization_of, "createdTasks": resolve_created_tasks},
    "Dataset": {"createdBy": resolve_created_by, "organization": resolve_organization_of},
    "Task": {
        "createdBy": resolve_created_by,
        "organization": resolve_organization_of,
        "exportMetadataHeader": resolve_export_metadata_header,
        "exportFileFromOffset": resolve_export_file_from_offset,
    },
    "DataRow": {
        "dataset": resolve_data_row_dataset,
        "attachments": resolve_data_row_attachments,
        "metadataFields": resolve_data_row_metadata_fields,
        "customMetadata": resolve_data_row_custom_metadata,
    },
    "Ontology": {"createdBy": resolve_created_by},
    "LabelingFrontendOptions": {
        "project": resolve_options_project,
        "labelingFrontend": resolve_labeling_frontend_of,
        "organization": resolve_organization_of,
    },
    "Project": {
        "createdBy": resolve_created_by,
        "organization": resolve_organization_of,
        "labelingFrontend": resolve_labeling_frontend_of,
        "ontology": resolve_project_ontology,
        "batches": resolve_project_batches,
        "workstreamStateCounts": resolve_workstream_state_counts,
        "taskQueues": resolve_task_queues,
        "completedDataRowCount": resolve_completed_data_row_count,
        "labelCount": resolve_label_count,
    },
    "TaskQueue": {"dataRowCount": resolve_queue_data_row_count},
    "ProjectMutation": {
        "connectOntology": resolve_connect_ontology,
        "createBatchV2": resolve_create_batch_v2,
        "createEmptyBatch": resolve_create_empty_batch,
        "addDataRowsToBatchAsync": resolve_add_data_rows_to_batch_async,
    },
    "Batch": {"createdBy": resolve_created_by, "project": resolve_batch_project},
}


def bind(schema: GraphQLSchema, resolvers: Mapping[str, Mapping[str, Resolver]] = RESOLVERS) -> None:
    """Attach resolvers to the schema's fields; a name the SDL lacks is a bug, so fail loudly."""
    for type_name, fields in resolvers.items():
        graphql_type = schema.get_type(type_name)
        if not isinstance(graphql_type, GraphQLObjectType):
            raise LookupError(f"resolver registered for unknown object type {type_name!r}")
        for field_name, resolver in fields.items():
            if field_name not in graphql_type.fields:
                raise LookupError(f"resolver registered for unknown field {type_name}.{field_name}")
            graphql_type.fields[field_name].resolve = resolver
