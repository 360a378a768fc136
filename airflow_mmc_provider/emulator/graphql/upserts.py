"""Data-row upserts: the task that starts one, its results' pages, and whether rows are processed."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from graphql import GraphQLResolveInfo

from airflow_mmc_provider.emulator import upserts
from airflow_mmc_provider.emulator.errors import InvalidInputError, NotFoundError
from airflow_mmc_provider.emulator.graphql.context import Node, Resolvers, request_context, store_of
from airflow_mmc_provider.emulator.graphql.data_rows import data_row_node
from airflow_mmc_provider.emulator.graphql.paging import next_cursor, page_size
from airflow_mmc_provider.emulator.graphql.tasks import task_node
from airflow_mmc_provider.emulator.store import FailedRow, Store

MAX_RESULTS_PAGE = 10_000
_Result = TypeVar("_Result")


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


def resolve_upsert_data_rows(_: Any, info: GraphQLResolveInfo, data: Mapping[str, Any]) -> dict[str, Any]:
    """Create the task and return it IN_PROGRESS; the runner reads the manifest in the background."""
    context = request_context(info)
    task_input = {"manifestUri": data["manifestUri"], "baseUrl": context.base_url}
    task = context.store.create_task(upserts.TASK_TYPE, upserts.TASK_NAME, task_input)
    context.runner.submit(task.id)
    return task_node(task)


def resolve_successful_imports(_: Any, info: GraphQLResolveInfo, data: Mapping[str, Any]) -> dict[str, Any]:
    return _results(info, data, "nodes", Store.task_successes, data_row_node)


def resolve_failed_imports(_: Any, info: GraphQLResolveInfo, data: Mapping[str, Any]) -> dict[str, Any]:
    return _results(info, data, "results", Store.task_failures, failed_row_node)


def _results(
    info: GraphQLResolveInfo,
    data: Mapping[str, Any],
    key: str,
    read: Callable[..., tuple[Sequence[_Result], int]],
    node: Callable[[_Result], Node],
) -> dict[str, Any]:
    """A page of an upsert task's results under `key`, with the next page's cursor and the total."""
    store, offset, limit = _results_page(info, data)
    results, total = read(store, data["taskId"], offset=offset, limit=limit)
    return {
        key: [node(r) for r in results],
        "after": next_cursor(offset, len(results), total),
        "total": total,
    }


def _results_page(info: GraphQLResolveInfo, data: Mapping[str, Any]) -> tuple[Store, int, int]:
    store = store_of(info)
    if store.get_task(data["taskId"]) is None:
        raise NotFoundError(f"Task '{data['taskId']}' not found")
    cursor = data.get("from")
    try:
        offset = int(cursor) if cursor else 0
    except ValueError:
        raise InvalidInputError(f"invalid cursor {cursor!r}: pass the 'after' of the previous page") from None
    return store, max(0, offset), page_size(data.get("first"), 5000, limit=MAX_RESULTS_PAGE)


def resolve_data_rows_processed(
    _: Any, info: GraphQLResolveInfo, dataRowIds: list[str] | None = None, globalKeys: list[str] | None = None
) -> dict[str, Any]:
    """Rows are written with their upsert task's outcome, so a row that exists is processed; a
    missing one is still pending only while some upsert is running (else it will never come)."""
    store = store_of(info)
    ids, keys = list(dataRowIds or ()), list(globalKeys or ())
    wanted = len(set(ids)) + len(set(keys))
    processed = store.count_live_rows(data_row_ids=ids, global_keys=keys) >= wanted
    if not processed:
        processed = not store.has_unfinished_tasks(upserts.TASK_TYPE)
    return {"allDataRowsHaveBeenProcessed": processed}


RESOLVERS: Resolvers = {
    "Query": {
        "successesfulDataRowImports": resolve_successful_imports,
        "failedDataRowImports": resolve_failed_imports,
        "queryAllDataRowsHaveBeenProcessed": resolve_data_rows_processed,
    },
    "Mutation": {"upsertDataRows": resolve_upsert_data_rows},
}
