"""The reader's view of an export line and of its row's conversation (see `reader`)."""

from __future__ import annotations

import msgspec
from msgspec import UNSET, UnsetType

import airflow_mmc_provider.mmc.export.wire as wire
from airflow_mmc_provider.mmc.conversation.types import DocumentView
from airflow_mmc_provider.mmc.export.judgments import Problem
from airflow_mmc_provider.mmc.export.records import RowDataLoader

# The reader's view of a line: the `wire` Structs, with the parts no record needs kept undecoded
# (`msgspec.Raw`: scanned, not turned into objects). The subclasses redefine only those fields, in
# place, so every other field (and any field added to `wire`) is read as `wire` declares it; an
# instance is still an instance of its `wire` class. `decode_line` decodes every field.


class DataRowView(wire.DataRow, kw_only=True):
    details: msgspec.Raw | UnsetType = UNSET  # type: ignore[assignment]


class _ProjectDetails(wire.ProjectDetails, kw_only=True):
    workflow_history: msgspec.Raw | UnsetType = UNSET  # type: ignore[assignment]


class _TextAnswer(wire.TextAnswer, kw_only=True):
    classifications: tuple[_Classification, ...] | None = None


class _Answer(wire.Answer, kw_only=True):
    feature_id: msgspec.Raw | UnsetType = UNSET  # type: ignore[assignment]
    classifications: tuple[_Classification, ...] | None = None


class _Classification(wire.Classification, kw_only=True):
    feature_id: msgspec.Raw | UnsetType = UNSET  # type: ignore[assignment]
    text_answer: _TextAnswer | UnsetType | None = UNSET
    checklist_answers: tuple[_Answer, ...] | UnsetType | None = UNSET
    radio_answer: _Answer | UnsetType | None = UNSET
    conversational_text_answer: _TextAnswer | UnsetType | None = UNSET
    conversational_checklist_answers: tuple[_Answer, ...] | UnsetType | None = UNSET
    conversational_radio_answer: _Answer | UnsetType | None = UNSET


class _ToolObject(wire.ToolObject, kw_only=True):
    feature_id: msgspec.Raw | UnsetType = UNSET  # type: ignore[assignment]
    classifications: tuple[_Classification, ...] | None = None


class _Annotations(wire.Annotations, kw_only=True):
    objects: tuple[_ToolObject, ...] | None = None
    classifications: tuple[_Classification, ...] | None = None


class _Label(wire.Label, kw_only=True):
    performance_details: msgspec.Raw | UnsetType = UNSET  # type: ignore[assignment]
    annotations: _Annotations | None = None


class _Project(wire.Project, kw_only=True):
    labels: tuple[_Label, ...] | None = None
    project_details: _ProjectDetails | UnsetType | None = UNSET


class LineView(wire.Line, kw_only=True):
    data_row: DataRowView
    media_attributes: msgspec.Raw | UnsetType = UNSET  # type: ignore[assignment]
    attachments: msgspec.Raw | UnsetType = UNSET  # type: ignore[assignment]
    metadata_fields: msgspec.Raw | UnsetType = UNSET  # type: ignore[assignment]
    embeddings: msgspec.Raw | UnsetType = UNSET  # type: ignore[assignment]
    projects: dict[str, _Project] | None = None  # type: ignore[assignment]


class LineWithoutRowData(LineView, kw_only=True):
    data_row: wire.DataRowIds  # type: ignore[assignment]


view_decoder = wire.line_decoder(LineView)
full_decoder = wire.line_decoder()
ids_decoder = msgspec.json.Decoder(LineWithoutRowData)
_document_decoder = msgspec.json.Decoder(DocumentView)


def decode_document(row_data: str | DocumentView | None, loader: RowDataLoader | None) -> DocumentView | None:
    """The conversation of a row: row_data as decoded with the line, or loaded from its URL."""
    if type(row_data) is str and row_data.startswith("{"):  # the usual v2 document, without a call
        try:
            return _document_decoder.decode(row_data)
        except msgspec.DecodeError as exc:
            raise unreadable_document(str(exc)) from None
    if row_data is None or isinstance(row_data, DocumentView):
        return row_data
    stripped = row_data.lstrip()
    if stripped.startswith("{"):
        return _decode_document_text(stripped)
    if loader is None or not stripped:
        return None
    loaded = loader(row_data)
    if loaded is None:
        return None
    if isinstance(loaded, (bytes, bytearray, memoryview, str)):
        return _decode_document_text(loaded)
    try:
        return msgspec.convert(loaded, DocumentView)
    except msgspec.ValidationError as exc:
        raise Problem("data_row.row_data", f"the loaded row_data is not a v2 conversation: {exc}") from None


def _decode_document_text(text: str | bytes | bytearray | memoryview) -> DocumentView:
    try:
        return _document_decoder.decode(text)
    except msgspec.DecodeError as exc:
        raise unreadable_document(str(exc)) from None


def unreadable_document(reason: str) -> Problem:
    return Problem(
        "data_row.row_data",
        f"row_data is not a readable conversation (version 2: actors and messages maps): {reason}",
        "export rows of a multimodal chat evaluation project; row_data must be the v2 document",
    )
