"""Annotation imports: ground truth (label imports) and pre-labels (MAL), created and found by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLResolveInfo

from airflow_mmc_provider.emulator import imports, upserts
from airflow_mmc_provider.emulator.errors import ConflictError, InvalidInputError
from airflow_mmc_provider.emulator.graphql.context import Resolvers, UploadedPart, request_context, store_of
from airflow_mmc_provider.emulator.graphql.projects import live_project, project_node
from airflow_mmc_provider.emulator.store import AnnotationImport, ImportNameTaken


def _import_node(info: GraphQLResolveInfo, found: AnnotationImport) -> dict[str, Any]:
    project = store_of(info).get_project(found.project_id, include_deleted=True)
    return imports.import_node(found, project_node(project) if project else None)


def _create_import(info: GraphQLResolveInfo, data: Mapping[str, Any], kind: str) -> dict[str, Any]:
    context = request_context(info)
    project = live_project(context.store, data["projectId"])
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
    found = store_of(info).find_import(where["projectId"], where["name"], kind)
    return None if found is None else _import_node(info, found)


def resolve_label_import(_: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> dict[str, Any] | None:
    return _find_import(info, where, imports.LABEL)


def resolve_mal_import(_: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> dict[str, Any] | None:
    return _find_import(info, where, imports.PRELABEL)


RESOLVERS: Resolvers = {
    "Query": {
        "labelImport": resolve_label_import,
        "modelAssistedLabelingPredictionImport": resolve_mal_import,
    },
    "Mutation": {
        "createLabelImport": resolve_create_label_import,
        "createModelAssistedLabelingPredictionImport": resolve_create_mal_import,
    },
}
