"""Data rows: by id or global key, a dataset's pages, and the global-key look-up job."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLResolveInfo

from airflow_mmc_provider.emulator.errors import InvalidInputError, NotFoundError
from airflow_mmc_provider.emulator.graphql.context import Resolvers, store_of
from airflow_mmc_provider.emulator.graphql.datasets import dataset_node
from airflow_mmc_provider.emulator.graphql.nodes import node_mapper
from airflow_mmc_provider.emulator.graphql.paging import DEFAULT_PAGE, page_size
from airflow_mmc_provider.emulator.graphql.projects import resolve_project_of
from airflow_mmc_provider.emulator.labels import StoredLabel
from airflow_mmc_provider.emulator.store import COMPLETE, DataRow

GLOBAL_KEYS_JOB = "data-rows-for-global-keys"


data_row_node = node_mapper(
    DataRow,
    renames={
        "metadata": "_metadata",
        "attachments": "_attachments",
    },
    extra=lambda row: {"mediaAttributes": {}},
)


label_node = node_mapper(
    StoredLabel,
    renames={"seconds_to_create": "secondsToLabel"},
    omitted=("annotations",),
    extra=lambda label: {
        "label": None,
        "agreement": None,
        "benchmarkAgreement": None,
        "isBenchmarkReference": False,
    },
)

_DATA_ROW_FILTER_COLUMNS = {"id": "id", "externalId": "external_id", "globalKey": "global_key"}


def resolve_data_row(_: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> dict[str, Any]:
    store = store_of(info)
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
    store = store_of(info)
    if store.get_dataset(id) is None:
        raise NotFoundError(f"Dataset '{id}' not found")
    columns = {_DATA_ROW_FILTER_COLUMNS[k]: v for k, v in (where or {}).items() if v is not None}
    rows, next_start = store.dataset_data_rows(
        id, start_id=arguments.get("from"), limit=page_size(first, 500), filters=columns
    )
    return {
        "nodes": [data_row_node(r) for r in rows],
        "pageInfo": {"hasNextPage": next_start is not None, "startCursor": next_start},
    }


def resolve_data_row_dataset(row: Mapping[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    dataset = store_of(info).get_dataset(row["_datasetId"], include_deleted=True)
    return dataset_node(dataset) if dataset else None


def resolve_data_row_attachments(
    row: Mapping[str, Any], info: GraphQLResolveInfo, skip: int | None = None, first: int | None = None
) -> list[dict[str, Any]]:
    start = max(0, skip or 0)
    attachments: list[dict[str, Any]] = row["_attachments"]
    return attachments[start : start + page_size(first, DEFAULT_PAGE)]


def resolve_data_row_labels(
    row: Mapping[str, Any], info: GraphQLResolveInfo, where: Mapping[str, Any] | None = None, **page: Any
) -> list[dict[str, Any]]:
    """The row's labels in every project (`page`: the SDK's skip and first); an upload's guard
    reads whether a row was judged."""
    if (where or {}).get("deleted"):
        return []  # no label is ever deleted here
    skip, first = max(0, page.get("skip") or 0), page_size(page.get("first"), DEFAULT_PAGE)
    return [label_node(label) for label in store_of(info).labels_of_row(row["id"], skip=skip, first=first)]


def resolve_data_rows_for_global_keys(
    _: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]
) -> dict[str, Any]:
    """Answered at once but exposed as a job, as the service does; the result is kept by job id."""
    keys: list[str] = list(where["ids"])
    store = store_of(info)
    found = store.data_row_ids_for_global_keys(keys)
    result = {"keys": keys, "ids": [found.get(k, "") for k in keys]}
    return {"jobId": store.create_job(GLOBAL_KEYS_JOB, COMPLETE, result).id}


def resolve_data_rows_for_global_keys_result(
    _: Any, info: GraphQLResolveInfo, jobId: Mapping[str, Any]
) -> dict[str, Any]:
    job = store_of(info).get_job(jobId["id"])
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


RESOLVERS: Resolvers = {
    "Query": {
        "dataRow": resolve_data_row,
        "datasetDataRows": resolve_dataset_data_rows,
        "dataRowsForGlobalKeys": resolve_data_rows_for_global_keys,
        "dataRowsForGlobalKeysResult": resolve_data_rows_for_global_keys_result,
    },
    "DataRow": {
        "dataset": resolve_data_row_dataset,
        "attachments": resolve_data_row_attachments,
        "labels": resolve_data_row_labels,
    },
    "Label": {"project": resolve_project_of},
}
