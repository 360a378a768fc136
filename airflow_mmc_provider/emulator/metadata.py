"""Custom data-row metadata: the organisation's schemas and the checks on the values rows carry.

The service keeps one metadata ontology per organisation (`customMetadataOntology`): schemas of
kind ``CustomMetadataString``, ``Number``, ``DateTime``, ``Enum`` (with ``CustomMetadataEnumOption``
children) and ``Embedding``. `upsertCustomMetadataSchema` is get-or-create by name here (a retried
create finds its schema again); for an enum it adds the options not there yet. Asking for an existing
name with another kind is refused, as changing a schema's kind would orphan stored values.

Rows give metadata as ``[{"schemaId", "value"}]`` (the SDK resolves names client-side; a ``name``
without a ``schemaId`` is resolved here too). Each field must name a schema of the organisation and
its value must fit the kind: an enum value is one of the enum's option ids (an option *name* is
accepted and stored as its id), a number is a number, a datetime an ISO-8601 string, an embedding a
list of numbers. A bad field fails its row with a message naming the field, like the service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

STRING = "CustomMetadataString"
NUMBER = "CustomMetadataNumber"
DATETIME = "CustomMetadataDateTime"
ENUM = "CustomMetadataEnum"
ENUM_OPTION = "CustomMetadataEnumOption"
EMBEDDING = "CustomMetadataEmbedding"
SCHEMA_KINDS = (STRING, NUMBER, DATETIME, ENUM, EMBEDDING)
MAX_NAME_LENGTH = 100


class MetadataError(ValueError):
    """A schema request or a row's metadata field is unacceptable; the message says what to fix."""


@dataclass(frozen=True)
class MetadataSchema:
    id: str
    name: str
    kind: str
    reserved: bool = False
    options: tuple[MetadataSchema, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class SchemaRequest:
    """A checked `upsertCustomMetadataSchema` input: name, kind and enum option names."""

    name: str
    kind: str
    options: tuple[str, ...]


def parse_schema_request(data: Mapping[str, Any]) -> SchemaRequest:
    name = data.get("name")
    kind = data.get("kind")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME_LENGTH:
        raise MetadataError(f"A metadata schema needs a name of 1 to {MAX_NAME_LENGTH} characters")
    if kind not in SCHEMA_KINDS:
        raise MetadataError(f"kind must be one of {', '.join(SCHEMA_KINDS)}; got {kind!r}")
    options: list[str] = []
    for option in data.get("options") or []:
        option_name = option.get("name") if isinstance(option, Mapping) else None
        option_kind = option.get("kind", ENUM_OPTION) if isinstance(option, Mapping) else None
        if not isinstance(option_name, str) or not option_name.strip() or option_kind != ENUM_OPTION:
            raise MetadataError(f"enum options need a name and kind {ENUM_OPTION}; got {option!r}")
        if option_name.strip() not in options:
            options.append(option_name.strip())
    if options and kind != ENUM:
        raise MetadataError(f"Kind '{kind}' must be an Enum, if Enum options are provided")
    return SchemaRequest(name.strip(), kind, tuple(options))


def schema_node(schema: MetadataSchema) -> dict[str, Any]:
    """`CustomMetadataSchema` as the SDK reads it (options are schemas of kind EnumOption)."""
    return {
        "id": schema.id,
        "name": schema.name,
        "kind": schema.kind,
        "reserved": schema.reserved,
        "options": [schema_node(option) for option in schema.options],
    }


class SchemaIndex:
    """The organisation's schemas by id and name (options by id too), for checks and rendering."""

    def __init__(self, schemas: Sequence[MetadataSchema]) -> None:
        self.by_id = {s.id: s for s in schemas}
        self.by_name = {s.name: s for s in schemas}
        self.options = {o.id: o for s in schemas for o in s.options}
        self.parents = {o.id: s.id for s in schemas for o in s.options}

    def check(self, fields: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Stored form ``[{"schemaId", "value"}]`` of a row's fields; MetadataError names a bad one.

        The SDK sends an enum as two entries, ``{"schemaId": enum, "value": {}}`` and
        ``{"schemaId": option, "value": {}}``; they are stored as one ``{enum, option id}``.
        """
        checked: list[dict[str, Any]] = []
        chosen: dict[str, str] = {}  # enum id -> option id, from option entries
        for item in fields:
            option = self.options.get(str(item.get("schemaId")))
            if option is not None:
                chosen[self.parents[option.id]] = option.id
        for item in fields:
            if str(item.get("schemaId")) in self.options:
                continue
            schema = self.by_id.get(str(item.get("schemaId"))) if item.get("schemaId") else None
            if schema is None and not item.get("schemaId") and item.get("name"):
                schema = self.by_name.get(str(item["name"]))
            if schema is None:
                named = item.get("schemaId") or item.get("name")
                raise MetadataError(
                    f"Metadata schema '{named}' does not exist in the organisation: create it with "
                    "upsertCustomMetadataSchema first"
                )
            value = item.get("value")
            if schema.kind == ENUM and value in ({}, None) and schema.id in chosen:
                value = chosen.pop(schema.id)
            checked.append({"schemaId": schema.id, "value": _checked_value(schema, value)})
        for parent_id, option_id in chosen.items():
            if not any(c["schemaId"] == parent_id for c in checked):
                checked.append({"schemaId": parent_id, "value": option_id})
        return checked

    def custom_metadata(self, stored: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """`DataRow.customMetadata` in the service's form: an enum as its schema plus its option."""
        entries: list[dict[str, Any]] = []
        for item in stored:
            schema = self.by_id.get(str(item.get("schemaId")))
            if schema is not None and schema.kind == ENUM:
                entries += [
                    {"schemaId": schema.id, "value": {}},
                    {"schemaId": item.get("value"), "value": {}},
                ]
            else:
                entries.append({"schemaId": item.get("schemaId"), "value": item.get("value")})
        return entries

    def graphql_fields(self, stored: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """`DataRow.metadataFields`: schema id, name, value and kind of each stored field."""
        fields = []
        for item in stored:
            schema = self.by_id.get(str(item.get("schemaId")))
            fields.append(
                {"schemaId": item.get("schemaId"), "name": schema.name if schema else item.get("name"),
                 "value": item.get("value"), "kind": schema.kind if schema else None}
            )  # fmt: skip
        return fields

    def export_fields(self, stored: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Export ``metadata_fields``: ``{schema_id, schema_name, value}``; an enum value is its option
        as ``{schema_id, schema_name}`` (the export glossary's layout)."""
        fields: list[dict[str, Any]] = []
        for item in stored:
            schema = self.by_id.get(str(item.get("schemaId")))
            value = item.get("value")
            option = self.options.get(str(value)) if schema is not None and schema.kind == ENUM else None
            if option is not None:
                value = {"schema_id": option.id, "schema_name": option.name}
            fields.append(
                {"schema_id": item.get("schemaId"),
                 "schema_name": schema.name if schema else item.get("name"), "value": value}
            )  # fmt: skip
        return fields


def _checked_value(schema: MetadataSchema, value: Any) -> Any:
    if schema.kind == ENUM:
        by_name = {o.name: o.id for o in schema.options}
        option_ids = {o.id for o in schema.options}
        if isinstance(value, str) and value in option_ids:
            return value
        if isinstance(value, str) and value in by_name:
            return by_name[value]
        raise MetadataError(
            f"Metadata field '{schema.name}' is an enum: its value must be one of its option ids "
            f"(options {sorted(by_name)}); got {value!r}"
        )
    if schema.kind == NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise MetadataError(f"Metadata field '{schema.name}' is a number; got {value!r}")
        return value
    if schema.kind == DATETIME:
        try:
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise MetadataError(
                f"Metadata field '{schema.name}' is a datetime: give ISO 8601 text; got {value!r}"
            ) from None
        return value
    if schema.kind == EMBEDDING:
        if not isinstance(value, list) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value
        ):
            raise MetadataError(f"Metadata field '{schema.name}' is an embedding: a list of numbers")
        return value
    if not isinstance(value, str):
        raise MetadataError(f"Metadata field '{schema.name}' is a string; got {value!r}")
    return value
