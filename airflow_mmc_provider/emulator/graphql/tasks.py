"""Tasks as nodes: by id, a user's `createdTasks`, and who made them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLResolveInfo

from airflow_mmc_provider.emulator import filters
from airflow_mmc_provider.emulator.errors import InvalidInputError
from airflow_mmc_provider.emulator.graphql.account import resolve_created_by, resolve_organization_of
from airflow_mmc_provider.emulator.graphql.context import Resolvers, store_of
from airflow_mmc_provider.emulator.graphql.nodes import node_mapper
from airflow_mmc_provider.emulator.graphql.paging import DEFAULT_PAGE, page_size
from airflow_mmc_provider.emulator.store import Task

task_node = node_mapper(Task, omitted=("input_json",))  # the task's input stays in the store


def resolve_task(
    _: Any, info: GraphQLResolveInfo, where: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    task = store_of(info).get_task(str((where or {}).get("id")))
    return task_node(task) if task is not None else None


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
    tasks = store_of(info).tasks_created_by(
        user["id"], filters=wanted, skip=max(0, skip or 0), first=page_size(first, DEFAULT_PAGE)
    )
    return [task_node(t) for t in tasks]


RESOLVERS: Resolvers = {
    "Query": {"task": resolve_task},
    "User": {"createdTasks": resolve_created_tasks},
    "Task": {"createdBy": resolve_created_by, "organization": resolve_organization_of},
}
