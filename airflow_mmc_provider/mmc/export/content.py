"""A row's content beside its judgments, read only on request: metadata fields and response texts.

The reader's view of a line keeps ``metadata_fields`` undecoded and the conversation without its
message content (`view`): the leaderboard's pass needs neither. A caller that does (the judgments
table) asks ``ExportReader(row_content=True)``; then each row's `RowContent` is read here, from the
same decoded line: the raw ``metadata_fields`` decoded, and row_data's JSON text read once more,
with the message contents, by the one `ConversationIndex` (response texts, the turn of each
prompt). `metadata_field_names` is the light pass over a whole export that names
the fields before the first row is written (a table's columns are fixed by its header).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from airflow_mmc_provider.mmc.conversation.index import ConversationIndex
from airflow_mmc_provider.mmc.export.records import MetadataValue, RowContent


class _MetadataField(msgspec.Struct, gc=False):
    schema_id: str | None = None
    schema_name: str | None = None
    value: Any = None


class _MetadataOnly(msgspec.Struct, gc=False):
    metadata_fields: tuple[_MetadataField, ...] | None = None


_fields_decoder = msgspec.json.Decoder(tuple[_MetadataField, ...] | None)
_names_decoder = msgspec.json.Decoder(_MetadataOnly)
_NO_CONTENT = RowContent({}, {}, {})


# metadata_fields as the reader's view leaves it (Raw), or decoded as `wire.Line` declares it
MetadataFields = msgspec.Raw | tuple[dict[str, Any], ...] | UnsetType | None


def read_row_content(metadata_fields: MetadataFields, row_data: object) -> RowContent:
    """The `RowContent` of a line's raw ``metadata_fields`` and its data row's ``row_data``.

    A line whose metadata is not a list of fields, or whose row_data is not readable JSON text,
    gives empty parts rather than an error: the judgments, read from the same line, already say
    whether the line is well formed.
    """
    metadata = _metadata(metadata_fields)
    index = _conversation(row_data)
    if index is None:
        return RowContent(metadata, {}, {}) if metadata else _NO_CONTENT
    texts = {message: index.text(message) for message, role in index.roles.items() if role == "model"}
    turns = {parent: number for number, (parent, _) in enumerate(index.turns(), 1)}
    return RowContent(metadata, texts, turns)


def _metadata(given: MetadataFields) -> dict[str, MetadataValue]:
    if given is None or given is UNSET:
        return {}
    try:
        if isinstance(given, msgspec.Raw):
            fields = _fields_decoder.decode(given)
        else:
            fields = msgspec.convert(given, tuple[_MetadataField, ...])
    except (msgspec.DecodeError, msgspec.ValidationError):
        return {}
    return {name: value for name, value in map(_field, fields or ()) if name is not None}


def _field(field: _MetadataField) -> tuple[str | None, MetadataValue]:
    """(name, value): an enum's value is its option ``{schema_id, schema_name}``, named by its name."""
    value = field.value
    if isinstance(value, dict):
        value = value.get("schema_name") or value.get("schema_id")
    if not isinstance(value, str | int | float | bool | None):
        value = msgspec.json.encode(value).decode()
    return field.schema_name or field.schema_id, value


def _conversation(row_data: object) -> ConversationIndex | None:
    """The conversation of a row_data given as JSON text, read by the one `ConversationIndex`."""
    if not isinstance(row_data, str) or not row_data.lstrip().startswith("{"):
        return None
    try:
        return ConversationIndex.from_row_data(row_data)
    except (msgspec.DecodeError, TypeError):
        return None


def metadata_field_names(lines: Iterable[bytes | str]) -> list[str]:
    """The metadata field names of every line of an export, sorted: a pass that decodes only
    ``metadata_fields`` (everything else is skipped by the decoder). Blank or malformed lines are
    passed over; the reading of the judgments reports them."""
    names: set[str] = set()
    for line in lines:
        if not line or line.isspace():
            continue
        try:
            fields = _names_decoder.decode(line).metadata_fields
        except msgspec.DecodeError:
            continue
        names.update(name for f in fields or () if (name := f.schema_name or f.schema_id))
    return sorted(names)
