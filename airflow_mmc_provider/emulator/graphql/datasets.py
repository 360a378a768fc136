"""Datasets: by id, the ORM list, create, and update (a rename, or `deleted: true`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLResolveInfo

from airflow_mmc_provider.emulator.graphql.account import resolve_created_by, resolve_organization_of
from airflow_mmc_provider.emulator.graphql.context import Resolvers, store_of
from airflow_mmc_provider.emulator.graphql.nodes import node_mapper
from airflow_mmc_provider.emulator.graphql.paging import by_id, checked_name, orm_list, update_or_delete
from airflow_mmc_provider.emulator.store import Dataset

dataset_node = node_mapper(Dataset)


resolve_dataset = by_id("Dataset", lambda store, dataset_id: store.get_dataset(dataset_id), dataset_node)
resolve_datasets = orm_list(lambda store, name: store.list_datasets(name=name), dataset_node)


def resolve_create_dataset(_: Any, info: GraphQLResolveInfo, data: Mapping[str, Any]) -> dict[str, Any]:
    name = checked_name("Dataset", data["name"])
    return dataset_node(store_of(info).create_dataset(name, data.get("description")))


def resolve_update_dataset(
    _: Any, info: GraphQLResolveInfo, where: Mapping[str, Any], data: Mapping[str, Any]
) -> dict[str, Any]:
    store = store_of(info)

    def update(dataset_id: str) -> Dataset | None:
        return store.update_dataset(dataset_id, name=data.get("name"), description=data.get("description"))

    return dataset_node(update_or_delete("Dataset", where, data, store.delete_dataset, update))


RESOLVERS: Resolvers = {
    "Query": {"dataset": resolve_dataset, "datasets": resolve_datasets},
    "Mutation": {"createDataset": resolve_create_dataset, "updateDataset": resolve_update_dataset},
    "Dataset": {"createdBy": resolve_created_by, "organization": resolve_organization_of},
}
