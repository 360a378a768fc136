"""Labeling frontends: by id, the ORM list, a project's frontend options and the frontend it uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLResolveInfo

from airflow_mmc_provider.emulator import ontologies
from airflow_mmc_provider.emulator.errors import NotFoundError
from airflow_mmc_provider.emulator.graphql.account import resolve_organization_of
from airflow_mmc_provider.emulator.graphql.context import Resolvers, store_of
from airflow_mmc_provider.emulator.graphql.nodes import node_mapper
from airflow_mmc_provider.emulator.graphql.paging import by_id, orm_list
from airflow_mmc_provider.emulator.graphql.projects import live_project, resolve_project_of
from airflow_mmc_provider.emulator.store import LabelingFrontend

labeling_frontend_node = node_mapper(LabelingFrontend)


resolve_labeling_frontend = by_id(
    "Labeling frontend",
    lambda store, frontend_id: store.get_labeling_frontend(frontend_id),
    labeling_frontend_node,
)
resolve_labeling_frontends = orm_list(lambda store, _: store.labeling_frontends(), labeling_frontend_node)


def resolve_create_labeling_frontend_options(
    _: Any, info: GraphQLResolveInfo, data: Mapping[str, Any]
) -> dict[str, Any]:
    """Store the options; a project without an ontology gets one made from them (as the service
    does: the SDK's `is_empty_ontology` expects that default, empty ontology)."""
    store = store_of(info)
    project = live_project(store, data["project"]["connect"]["id"])
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


def resolve_labeling_frontend_of(node: Mapping[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    frontend_id = node.get("_labelingFrontendId")
    frontend = store_of(info).get_labeling_frontend(frontend_id) if frontend_id else None
    return labeling_frontend_node(frontend) if frontend else None


RESOLVERS: Resolvers = {
    "Query": {"labelingFrontend": resolve_labeling_frontend, "labelingFrontends": resolve_labeling_frontends},
    "Mutation": {"createLabelingFrontendOptions": resolve_create_labeling_frontend_options},
    "LabelingFrontendOptions": {
        "project": resolve_project_of,
        "labelingFrontend": resolve_labeling_frontend_of,
        "organization": resolve_organization_of,
    },
    "Project": {"labelingFrontend": resolve_labeling_frontend_of},
}
