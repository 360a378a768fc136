"""Ontologies: by id, cursor pages by name search, and the upsert that normalises one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLResolveInfo

from airflow_mmc_provider.emulator import ontologies
from airflow_mmc_provider.emulator.errors import InvalidInputError
from airflow_mmc_provider.emulator.graphql.account import resolve_created_by
from airflow_mmc_provider.emulator.graphql.context import Resolvers, store_of
from airflow_mmc_provider.emulator.graphql.nodes import node_mapper
from airflow_mmc_provider.emulator.graphql.paging import by_id, checked_name, cursor_page_size
from airflow_mmc_provider.emulator.store import Ontology, UnknownCursor

CONVERSATIONAL = "CONVERSATIONAL"


ontology_node = node_mapper(
    Ontology,
    renames={
        "object_count": "objectSchemaCount",
        "classification_count": "classificationSchemaCount",
    },
)


resolve_ontology = by_id(
    "Ontology", lambda store, ontology_id: store.get_ontology(ontology_id), ontology_node
)


def resolve_ontologies(
    _: Any,
    info: GraphQLResolveInfo,
    where: Mapping[str, Any] | None = None,
    after: str | None = None,
    first: Any = None,
) -> dict[str, Any]:
    """Cursor pages: `nextCursor` is the id the next page starts after, null on the last page."""
    search = (where or {}).get("search")
    try:
        page, cursor = store_of(info).ontologies_page(
            search=search, after=after, limit=cursor_page_size(first)
        )
    except UnknownCursor as exc:
        raise InvalidInputError(str(exc)) from None
    return {"nodes": [ontology_node(o) for o in page], "nextCursor": cursor}


def resolve_upsert_ontology(_: Any, info: GraphQLResolveInfo, data: Mapping[str, Any]) -> dict[str, Any]:
    name = checked_name("Ontology", data["name"])
    media_type, editor_task_type = data.get("mediaType"), data.get("editorTaskType")
    if editor_task_type and media_type != CONVERSATIONAL:
        raise InvalidInputError(
            f"An ontology for {editor_task_type} must have mediaType CONVERSATIONAL, got {media_type}"
        )
    try:
        checked = ontologies.normalize(data["normalized"])
    except ontologies.OntologyError as exc:
        raise InvalidInputError(str(exc)) from None
    ontology = store_of(info).create_ontology(
        name=name,
        normalized=checked.normalized,
        object_count=checked.object_count,
        classification_count=checked.classification_count,
        media_type=media_type,
        editor_task_type=editor_task_type,
        description=data.get("description"),
    )
    return ontology_node(ontology)


RESOLVERS: Resolvers = {
    "Query": {"ontology": resolve_ontology, "ontologies": resolve_ontologies},
    "Mutation": {"upsertOntology": resolve_upsert_ontology},
    "Ontology": {"createdBy": resolve_created_by},
}
