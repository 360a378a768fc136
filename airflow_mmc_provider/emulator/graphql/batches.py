"""Batches: a project's cursor pages of them, and the mutations that create and fill one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLResolveInfo

from airflow_mmc_provider.emulator import batches
from airflow_mmc_provider.emulator.errors import ConflictError, InvalidInputError, NotFoundError
from airflow_mmc_provider.emulator.graphql.account import resolve_created_by
from airflow_mmc_provider.emulator.graphql.context import Resolvers, request_context, store_of
from airflow_mmc_provider.emulator.graphql.nodes import node_mapper
from airflow_mmc_provider.emulator.graphql.paging import checked_name, cursor_page_size
from airflow_mmc_provider.emulator.graphql.projects import resolve_project_of
from airflow_mmc_provider.emulator.store import Batch, BatchNameTaken, UnknownCursor

batch_node = node_mapper(Batch, renames={"consensus_settings": "consensusSettingsJson"})


def resolve_project_batches(
    project: Mapping[str, Any],
    info: GraphQLResolveInfo,
    where: Mapping[str, Any] | None = None,
    after: str | None = None,
    first: Any = None,
) -> dict[str, Any]:
    store = store_of(info)
    wanted = (where or {}).get("id")
    if wanted:
        batch = store.get_batch(wanted)
        found = [batch] if batch and batch.project_id == project["id"] else []
        return {
            "nodes": [batch_node(b) for b in found],
            "pageInfo": {"endCursor": None, "hasNextPage": False},
        }
    try:
        page, cursor = store.batches_page(project["id"], after=after, limit=cursor_page_size(first))
    except UnknownCursor as exc:
        raise InvalidInputError(str(exc)) from None
    return {
        "nodes": [batch_node(b) for b in page],
        "pageInfo": {"endCursor": cursor, "hasNextPage": cursor is not None},
    }


def _batch_arguments(data: Mapping[str, Any]) -> tuple[str, dict[str, Any] | None]:
    name = checked_name("Batch", data["name"])
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
    store = store_of(info)
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
        batch = store_of(info).create_batch(node["id"], name, consensus)
    except BatchNameTaken:
        raise _name_taken(name, node["id"]) from None
    return batch_node(batch)


def resolve_add_data_rows_to_batch_async(
    node: Mapping[str, Any], info: GraphQLResolveInfo, input: Mapping[str, Any]
) -> dict[str, Any]:
    """Create the task and return its id; the runner adds the rows in the background."""
    context = request_context(info)
    batch = context.store.get_batch(input["batchId"])
    if batch is None or batch.project_id != node["id"]:
        raise NotFoundError(f"Batch '{input['batchId']}' not found in project '{node['id']}'")
    selection = _selection(input)
    task_input = {"projectId": node["id"], "batchId": batch.id, **selection.to_json()}
    task = context.store.create_task(batches.TASK_TYPE, batches.TASK_NAME, task_input)
    context.runner.submit(task.id)
    return {"taskId": task.id}


RESOLVERS: Resolvers = {
    "Project": {"batches": resolve_project_batches},
    "ProjectMutation": {
        "createBatchV2": resolve_create_batch_v2,
        "createEmptyBatch": resolve_create_empty_batch,
        "addDataRowsToBatchAsync": resolve_add_data_rows_to_batch_async,
    },
    "Batch": {"createdBy": resolve_created_by, "project": resolve_project_of},
}
