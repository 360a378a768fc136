"""Projects: by id, the ORM list, create (plain, offline or live MMC), update, and the
project's workflow overview (queues, state counts); `project(where)` mutations connect an ontology."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLResolveInfo

from airflow_mmc_provider.emulator import workflow
from airflow_mmc_provider.emulator.errors import InvalidInputError, NotFoundError, UnprocessableError
from airflow_mmc_provider.emulator.graphql.account import resolve_created_by, resolve_organization_of
from airflow_mmc_provider.emulator.graphql.context import Resolvers, request_context, store_of
from airflow_mmc_provider.emulator.graphql.nodes import node_mapper
from airflow_mmc_provider.emulator.graphql.ontologies import CONVERSATIONAL, ontology_node
from airflow_mmc_provider.emulator.graphql.paging import (
    by_id,
    checked_name,
    found,
    orm_list,
    update_or_delete,
)
from airflow_mmc_provider.emulator.store import NewProject, Project, Store

LIVE_CHAT_EVALUATION = "MODEL_CHAT_EVALUATION"


project_node = node_mapper(
    Project,
    renames={
        "media_type": "allowedMediaType",
        "audit_labels": "autoAuditNumberOfLabels",
        "audit_percentage": "autoAuditPercentage",
        "benchmark": "isBenchmarkEnabled",
        "consensus": "isConsensusEnabled",
    },
    extra=lambda project: {
        "labelCount": None,  # resolved: labels come from imports and simulated raters
        "issues": {"totalCount": 0},
    },
)


def resolve_project_of(node: Mapping[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    """The `project` field of any node that belongs to one (``_projectId``), deleted or not."""
    project = store_of(info).get_project(node["_projectId"], include_deleted=True)
    return project_node(project) if project else None


def live_project(store: Store, project_id: str) -> Project:
    return found(store.get_project(project_id), "Project", project_id)


resolve_project = by_id("Project", lambda store, project_id: store.get_project(project_id), project_node)
resolve_projects = orm_list(lambda store, name: store.list_projects(name=name), project_node)


def resolve_create_project(_: Any, info: GraphQLResolveInfo, data: Mapping[str, Any]) -> dict[str, Any]:
    """Plain, offline-MMC and live-MMC projects; live ones come with the Editor connected."""
    store = store_of(info)
    name = checked_name("Project", data["name"])
    media_type, editor_task_type = data.get("allowedMediaType"), data.get("editorTaskType")
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
    store = store_of(info)

    def update(project_id: str) -> Project | None:
        frontend_id = (data.get("labelingFrontend") or {}).get("connect", {}).get("id")
        if frontend_id is not None:
            found(store.get_labeling_frontend(frontend_id), "Labeling frontend", frontend_id)
        return store.update_project(
            project_id,
            name=data.get("name"),
            description=data.get("description"),
            labeling_frontend_id=frontend_id,
        )

    return project_node(update_or_delete("Project", where, data, store.delete_project, update))


def resolve_project_ontology(node: Mapping[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    ontology_id = node.get("_ontologyId")
    ontology = store_of(info).get_ontology(ontology_id) if ontology_id else None
    return ontology_node(ontology) if ontology else None


def resolve_workstream_state_counts(
    project: Mapping[str, Any], info: GraphQLResolveInfo, batchIds: list[str] | None = None
) -> list[dict[str, Any]]:
    return workflow.state_counts(request_context(info).state_counts(project["id"], batchIds))


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
        for queue in store_of(info).task_queues(project["id"])
    ]


def resolve_queue_data_row_count(
    queue: Mapping[str, Any], info: GraphQLResolveInfo, input: Mapping[str, Any] | None = None
) -> int:
    try:
        batch_ids = workflow.batch_ids_of_count_input(input)
    except workflow.WorkflowRequestError as exc:
        raise InvalidInputError(str(exc)) from None
    return request_context(info).state_counts(queue["_projectId"], batch_ids).count(queue["_state"])


def resolve_completed_data_row_count(project: Mapping[str, Any], info: GraphQLResolveInfo) -> int:
    return request_context(info).state_counts(project["id"]).count(workflow.DONE)


def resolve_label_count(project: Mapping[str, Any], info: GraphQLResolveInfo) -> int:
    return store_of(info).label_count(project["id"])


def resolve_project_mutation(_: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": live_project(store_of(info), where["id"]).id}


def resolve_connect_ontology(
    node: Mapping[str, Any], info: GraphQLResolveInfo, ontologyId: str
) -> dict[str, Any]:
    """Media types must match unless the ontology has none (the SDK checks the same first)."""
    store = store_of(info)
    project = live_project(store, node["id"])
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


RESOLVERS: Resolvers = {
    "Query": {"project": resolve_project, "projects": resolve_projects},
    "Mutation": {
        "createProject": resolve_create_project,
        "updateProject": resolve_update_project,
        "project": resolve_project_mutation,
    },
    "Project": {
        "createdBy": resolve_created_by,
        "organization": resolve_organization_of,
        "ontology": resolve_project_ontology,
        "workstreamStateCounts": resolve_workstream_state_counts,
        "taskQueues": resolve_task_queues,
        "completedDataRowCount": resolve_completed_data_row_count,
        "labelCount": resolve_label_count,
    },
    "TaskQueue": {"dataRowCount": resolve_queue_data_row_count},
    "ProjectMutation": {"connectOntology": resolve_connect_ontology},
}
