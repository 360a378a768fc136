"""Ontologies: create (upsertOntology), get, find by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from airflow_mmc_provider.client.errors import NotFoundError
from airflow_mmc_provider.client.models import Ontology
from airflow_mmc_provider.client.transport import Transport

ONTOLOGY_FIELDS = (
    "classificationSchemaCount createdAt description mediaType name normalized objectSchemaCount id updatedAt"
)
_PAGE = 100


class Ontologies:
    """Ontology calls. For multimodal chat the media type is CONVERSATIONAL and the editor task
    type MODEL_CHAT_EVALUATION, also for offline projects (the SDK's own tests do the same)."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def create(
        self,
        name: str,
        normalized: Mapping[str, Any],
        *,
        media_type: str = "CONVERSATIONAL",
        editor_task_type: str | None = "MODEL_CHAT_EVALUATION",
    ) -> Ontology:
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
        result = self._transport.execute(query, {"data": data}, idempotent=False)
        return Ontology.from_graphql(result["upsertOntology"])

    def get(self, ontology_id: str) -> Ontology:
        query = f"query GetOntologyPyApi($id: ID!){{ontology(where: {{id: $id}}){{{ONTOLOGY_FIELDS}}}}}"
        try:
            node = self._transport.execute(query, {"id": ontology_id}).get("ontology")
        except NotFoundError:
            node = None
        if not node:
            raise NotFoundError(f"ontology {ontology_id!r} does not exist", operation="GetOntologyPyApi")
        return Ontology.from_graphql(node)

    def find_by_name(self, name: str) -> list[Ontology]:
        """Ontologies named exactly `name` (the API searches by substring), oldest first."""
        query = (
            "query getOntologiesPyApi($search: String, $filter: OntologyFilter, $from: String, $first: PageSize)"
            "{ontologies(where: {filter: $filter, search: $search}, after: $from, first: $first)"
            f"{{nodes {{{ONTOLOGY_FIELDS}}} nextCursor}}}}"
        )
        found: list[Ontology] = []
        cursor: str | None = None
        while True:
            variables = {"search": name, "filter": {"status": "ALL"}, "from": cursor, "first": _PAGE}
            page = self._transport.execute(query, variables).get("ontologies") or {}
            found.extend(Ontology.from_graphql(n) for n in page.get("nodes") or [] if n.get("name") == name)
            cursor = page.get("nextCursor")
            if not cursor:
                return sorted(found, key=lambda o: (o.created_at or "", o.id))
