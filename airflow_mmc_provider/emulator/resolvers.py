"""GraphQL field resolvers: arguments in, `models.Store` calls, GraphQL-shaped dicts out.

Nodes are plain dicts keyed by GraphQL field names (graphql-core's default resolver reads them), so
most fields need no resolver at all; keys starting with ``_`` carry ids for the few nested fields
that load more (``User.createdTasks``, ``DataRow.dataset``). Every node builder returns every field
the SDK selects (wire reference 1.3): the SDK raises ``KeyError`` on a missing one.

Resolvers are registered per type in `RESOLVERS`; later slices add their own sections (ontologies,
projects, batches, imports, exports) and `bind` checks each one names a field of the SDL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema

from airflow_mmc_provider.emulator import filters, upserts
from airflow_mmc_provider.emulator.errors import InvalidInputError, NotFoundError
from airflow_mmc_provider.emulator.jobs import TaskRunner
from airflow_mmc_provider.emulator.models import (
    COMPLETE,
    DataRow,
    Dataset,
    FailedRow,
    Organization,
    Store,
    Task,
    User,
)

Resolver = Callable[..., Any]

DEFAULT_PAGE = 100
MAX_RESULTS_PAGE = 10_000
GLOBAL_KEYS_JOB = "data-rows-for-global-keys"


@dataclass(frozen=True)
class UploadedPart:
    """A file part of a GraphQL multipart request, substituted for its variable before execution."""

    content: bytes
    filename: str | None
    content_type: str | None


@dataclass(frozen=True)
class RequestContext:
    """What a resolver may use: the state, the background runner, and the URL the client called."""

    store: Store
    runner: TaskRunner
    base_url: str  # scheme://host[:port][root path], without a trailing slash

    @property
    def netloc(self) -> str:
        return urlsplit(self.base_url).netloc

    def file_url(self, file_id: str) -> str:
        return f"{self.base_url}/files/{file_id}"


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
        "customMetadata": [{"schemaId": m["schemaId"], "value": m["value"]} for m in metadata],
        "metadataFields": [
            {"schemaId": m["schemaId"], "name": m.get("name"), "value": m["value"], "kind": None}
            for m in metadata
        ],
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


# --- registration --------------------------------------------------------------------------------

RESOLVERS: dict[str, dict[str, Resolver]] = {
    "Query": {
        "user": resolve_user,
        "organization": resolve_organization,
        "iamIntegrations": resolve_empty_list,
        "customMetadataOntology": resolve_empty_list,
        "dataset": resolve_dataset,
        "datasets": resolve_datasets,
        "dataRow": resolve_data_row,
        "datasetDataRows": resolve_dataset_data_rows,
        "dataRowsForGlobalKeys": resolve_data_rows_for_global_keys,
        "dataRowsForGlobalKeysResult": resolve_data_rows_for_global_keys_result,
        "successesfulDataRowImports": resolve_successful_imports,
        "failedDataRowImports": resolve_failed_imports,
    },
    "Mutation": {
        "uploadFile": resolve_upload_file,
        "createDataset": resolve_create_dataset,
        "updateDataset": resolve_update_dataset,
        "upsertDataRows": resolve_upsert_data_rows,
    },
    "User": {"organization": resolve_organization_of, "createdTasks": resolve_created_tasks},
    "Dataset": {"createdBy": resolve_created_by, "organization": resolve_organization_of},
    "Task": {"createdBy": resolve_created_by, "organization": resolve_organization_of},
    "DataRow": {"dataset": resolve_data_row_dataset, "attachments": resolve_data_row_attachments},
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
