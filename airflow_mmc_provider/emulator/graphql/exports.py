"""Exports: the task that starts one, and a finished export's streams read by offset."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLResolveInfo

from airflow_mmc_provider.emulator import exports
from airflow_mmc_provider.emulator.graphql.context import Resolvers, request_context, store_of
from airflow_mmc_provider.emulator.graphql.projects import live_project
from airflow_mmc_provider.emulator.store import COMPLETE


def resolve_export_data_rows_in_project(
    _: Any, info: GraphQLResolveInfo, input: Mapping[str, Any]
) -> dict[str, Any]:
    """Start an export task (see `exports`); filters are checked before the task exists."""
    context = request_context(info)
    name, task_input = exports.task_input(input)
    live_project(context.store, task_input["projectId"])
    task = context.store.create_task(exports.TASK_TYPE, name, task_input)
    context.runner.submit(task.id, exports.TASK_TYPE)
    return {"taskId": task.id, "isStreamable": True}


def _export_stream_of(
    node: Mapping[str, Any], info: GraphQLResolveInfo, stream_type: str
) -> tuple[int, int] | None:
    if node["type"] != exports.TASK_TYPE or node["status"] != COMPLETE:
        return None
    return store_of(info).export_stream(node["id"], stream_type)


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
    context = request_context(info)
    chunk = exports.chunk_at(
        context.store, node["id"], streamType, exports.parse_offset(offset), context.export_chunk_bytes
    )
    return {
        "offsets": {"start": str(chunk.start), "end": str(chunk.end)},
        "lines": {"start": str(chunk.first_line), "end": str(chunk.last_line)},
        "file": f"{context.base_url}/export-chunks/{node['id']}/{streamType}/{chunk.start}-{chunk.end}",
    }


RESOLVERS: Resolvers = {
    "Mutation": {"exportDataRowsInProject": resolve_export_data_rows_in_project},
    "Task": {
        "exportMetadataHeader": resolve_export_metadata_header,
        "exportFileFromOffset": resolve_export_file_from_offset,
    },
}
