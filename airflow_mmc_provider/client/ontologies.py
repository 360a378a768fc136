"""Ontologies: create (upsertOntology), get, find by name."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

from airflow_mmc_provider.client.idempotent import create_named
from airflow_mmc_provider.client.lookup import PAGE, Kind, NamedResource, named
from airflow_mmc_provider.client.models import Ontology

ONTOLOGY_FIELDS = (
    "classificationSchemaCount createdAt description mediaType name normalized objectSchemaCount id updatedAt"
)
ONTOLOGY = Kind("ontology", ONTOLOGY_FIELDS)


class Ontologies(NamedResource[Ontology]):
    """Ontology calls. For multimodal chat the media type is CONVERSATIONAL and the editor task
    type MODEL_CHAT_EVALUATION, also for offline projects (the SDK's own tests do the same)."""

    kind = ONTOLOGY

    def _model(self, node: Mapping[str, Any]) -> Ontology:
        return _ontology(node)

    def create(
        self,
        name: str,
        normalized: Mapping[str, Any],
        *,
        media_type: str = "CONVERSATIONAL",
        editor_task_type: str | None = "MODEL_CHAT_EVALUATION",
    ) -> Ontology:
        """Create an ontology (`upsertOntology` without an id always creates), once: a lost
        answer is resolved by a look-up by name (`create_named`)."""
        data: dict[str, Any] = {
            "name": name,
            "normalized": msgspec.json.encode(normalized).decode(),
            "mediaType": media_type,
        }
        if editor_task_type:
            data["editorTaskType"] = editor_task_type
        query = (
            "mutation upsertRootSchemaNodePyApi($data: UpsertOntologyInput!){ upsertOntology(data: $data)"
            f"{{ {ONTOLOGY_FIELDS} }} }}"
        )

        def create() -> Ontology:
            result = self._transport.execute(query, {"data": data}, idempotent=False)
            return _ontology(result["upsertOntology"])

        return create_named(self._transport, "ontology", name, lambda: self.find_by_name(name), create)

    def find_by_name(self, name: str) -> list[Ontology]:
        """Ontologies named exactly `name` (the API searches by substring), oldest first."""
        query = (
            "query getOntologiesPyApi($search: String, $filter: OntologyFilter, $from: String, $first: PageSize)"
            "{ontologies(where: {filter: $filter, search: $search}, after: $from, first: $first)"
            f"{{nodes {{{ONTOLOGY_FIELDS}}} nextCursor}}}}"
        )
        return named(self._cursor_pages(query, name), name, _ontology)

    def _cursor_pages(self, query: str, search: str) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            variables = {"search": search, "filter": {"status": "ALL"}, "from": cursor, "first": PAGE}
            page = self._transport.execute(query, variables).get("ontologies") or {}
            yield from page.get("nodes") or []
            cursor = page.get("nextCursor")
            if not cursor:
                return


def _ontology(node: Mapping[str, Any]) -> Ontology:
    """Some deployments return the `normalized` Json scalar as a string: decode it first."""
    normalized = node.get("normalized")
    if isinstance(normalized, str):
        node = {**node, "normalized": msgspec.json.decode(normalized)}
    return Ontology.from_graphql(node)
