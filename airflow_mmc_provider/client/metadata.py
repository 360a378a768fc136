"""Data row metadata by name: names resolve to the organisation's metadata schema ids.

Users write `{"name": "prompt_category", "value": "vision"}`; Labelbox wants
`{"schemaId": ..., "value": ...}` (enum values as option ids). Missing string and number fields
are created on first use (get-or-create by name, so repeats are harmless), as teams slice rounds
by fields they add over time.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from airflow_mmc_provider.client.transport import Transport

_ONTOLOGY_QUERY = (
    "query GetMetadataOntologyBetaPyApi { customMetadataOntology { id name kind reserved "
    "options { id kind name reserved } } }"
)
_UPSERT_SCHEMA = (
    "mutation UpsertCustomMetadataSchemaPyApi($data: UpsertCustomMetadataSchemaInput!) { "
    "upsertCustomMetadataSchema(data: $data){ id name kind options { id name kind } } }"
)


@dataclass
class MetadataSchema:
    id: str
    name: str
    kind: str
    options: dict[str, str] = field(default_factory=dict)  # option name -> option id


class MetadataResolver:
    """Caches the metadata ontology for one upload and turns name-based fields into wire fields."""

    def __init__(self, transport: Transport, *, create_missing: bool = True) -> None:
        self._transport = transport
        self._create_missing = create_missing
        self._by_name: dict[str, MetadataSchema] | None = None
        self._lock = threading.Lock()

    def resolve(self, fields: list[Any]) -> list[dict[str, Any]]:
        """Wire-ready fields; raises ValueError naming the field and the fix."""
        return [self._resolve_one(f) for f in fields]

    def _resolve_one(self, item: Any) -> dict[str, Any]:
        if not isinstance(item, Mapping) or "value" not in item:
            raise ValueError(f"metadata field {item!r} needs a 'value' and a 'name' or 'schemaId'")
        schema_id = item.get("schemaId") or item.get("schema_id")
        if schema_id:
            return {"schemaId": str(schema_id), "value": _wire_value(item["value"])}
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"metadata field {item!r} needs a 'name' or a 'schemaId'")
        schema = self._schema(name, item["value"])
        if schema.kind == "CustomMetadataEnum":
            option = schema.options.get(str(item["value"]))
            if option is None:
                raise ValueError(
                    f"metadata field {name!r} is an enum without option {item['value']!r}; "
                    f"use one of {sorted(schema.options)}"
                )
            return {"schemaId": schema.id, "value": option}
        return {"schemaId": schema.id, "value": _wire_value(item["value"])}

    def _schema(self, name: str, value: Any) -> MetadataSchema:
        with self._lock:
            schemas = self._load()
            if name not in schemas:
                if not self._create_missing:
                    raise ValueError(
                        f"metadata field {name!r} does not exist in the organisation; create it first"
                    )
                schemas[name] = self._create(name, value)
            return schemas[name]

    def _load(self) -> dict[str, MetadataSchema]:
        if self._by_name is None:
            nodes = self._transport.execute(_ONTOLOGY_QUERY).get("customMetadataOntology") or []
            self._by_name = {
                n["name"]: _schema_of(n) for n in nodes if n.get("kind") != "CustomMetadataEnumOption"
            }
        return self._by_name

    def _create(self, name: str, value: Any) -> MetadataSchema:
        kind = (
            "CustomMetadataNumber"
            if isinstance(value, int | float) and not isinstance(value, bool)
            else ("CustomMetadataDateTime" if isinstance(value, datetime | date) else "CustomMetadataString")
        )
        node = self._transport.execute(_UPSERT_SCHEMA, {"data": {"name": name, "kind": kind}})
        return _schema_of(node["upsertCustomMetadataSchema"])


def _schema_of(node: Mapping[str, Any]) -> MetadataSchema:
    options = {o["name"]: o["id"] for o in node.get("options") or []}
    return MetadataSchema(id=node["id"], name=node["name"], kind=node.get("kind") or "", options=options)


def _wire_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
