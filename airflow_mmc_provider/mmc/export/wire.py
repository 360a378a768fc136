"""One line of a Labelbox project export (NDJSON) as msgspec Structs: the one definition.

The emulator's export writer builds these Structs and encodes them; `reader` decodes lines with the
same Structs (`line_decoder`). A field added here is written by the one and read by the other.

Shape (wire reference 7.5 and 9, the seed's sample line)::

    {"data_row": {"id", "global_key", "external_id", "row_data", "details"},
     "media_attributes": {...}, "attachments": [...], "metadata_fields": [...], "embeddings": [],
     "projects": {"<projectId>": {"name", "labels": [<label>], "project_details": {...},
                                  "project_model_configs": {"model_configs": {"<id>": {"name"}}}}}}

Two kinds of optional field, as the service writes them: a field written as ``null`` when it has no
value is typed ``X | None = None``; a field left out of the line is typed ``X | UnsetType = UNSET``
(also ``None`` when read, since other writers send ``null``). Reading is lenient: unknown keys are
ignored (the service adds fields) and every field but the ids has a default.

The message items of the message tools are built from the import line's `MessageItem`
(`mmc.annotations.types`), field by field, under the export's snake_case names, plus
``model_config_id``: a field added to `MessageItem` is an export field too, with no edit here.
(A subclass cannot do it: msgspec's ``rename`` applies only to the fields a class declares.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from msgspec import UNSET, Struct, UnsetType

from airflow_mmc_provider.mmc.annotations.types import MessageItem
from airflow_mmc_provider.mmc.conversation.types import DocumentView


class _Wire(Struct, kw_only=True, gc=False):
    """Base of the export's Structs (lenient reading, fields in the order the service writes them)."""


# --- annotations ------------------------------------------------------------------------------


def export_item(item: type[Struct], name: str, **extra: tuple[Any, Any]) -> type[Struct]:
    """The export's Struct of an import item: its fields under their Python (snake_case) names,
    each optional but ``message_id`` (the seed sample sends only ids), then `extra` (name ->
    (type, default)); unknown keys are ignored and defaults left out, as in `item`."""
    fields = [_export_field(f) for f in msgspec.structs.fields(item)]
    fields.extend((key, kind, default) for key, (kind, default) in extra.items())
    return msgspec.defstruct(name, fields, kw_only=True, omit_defaults=True, gc=False, module=__name__)


def _export_field(field: msgspec.structs.FieldInfo) -> tuple[str, Any] | tuple[str, Any, Any]:
    if field.name == "message_id":
        return field.name, field.type
    if field.required:
        return field.name, field.type | None, None
    if field.default_factory is not msgspec.NODEFAULT:
        return field.name, field.type, msgspec.field(default_factory=field.default_factory)
    return field.name, field.type, field.default


if TYPE_CHECKING:  # what the type checker sees: the item's fields, and what the export changes

    class ExportMessage(MessageItem, kw_only=True):
        model_config_name: str | None  # type: ignore[assignment]
        model_config_id: str | None = None

else:
    # A message named by a message tool: the import's item, snake_case, with its model config id.
    ExportMessage = export_item(MessageItem, "ExportMessage", model_config_id=(str | None, None))


class SelectedMessage(ExportMessage, kw_only=True, gc=False):
    parent_message_id: str


class SelectedMessages(_Wire, kw_only=True):
    messages: tuple[ExportMessage, ...]
    parent_message_id: str


class RankedMessages(_Wire, kw_only=True):
    ranked_messages: tuple[ExportMessage, ...]
    parent_message_id: str


class TextAnswer(_Wire, kw_only=True):
    content: str | None = None
    classifications: tuple[Classification, ...] | None = None


class Answer(_Wire, kw_only=True):
    """An option of a radio or checklist answer, with the classifications nested under it."""

    feature_id: str | None = None
    feature_schema_id: str | None = None
    name: str | None = None
    value: str | None = None
    classifications: tuple[Classification, ...] | None = None


class Classification(_Wire, kw_only=True):
    """A classification; message-scoped ones carry ``message_id`` and ``conversational_*`` answers."""

    feature_id: str | None = None
    feature_schema_id: str | None = None
    name: str | None = None
    value: str | None = None
    message_id: str | UnsetType | None = UNSET
    text_answer: TextAnswer | UnsetType | None = UNSET
    checklist_answers: tuple[Answer, ...] | UnsetType | None = UNSET
    radio_answer: Answer | UnsetType | None = UNSET
    conversational_text_answer: TextAnswer | UnsetType | None = UNSET
    conversational_checklist_answers: tuple[Answer, ...] | UnsetType | None = UNSET
    conversational_radio_answer: Answer | UnsetType | None = UNSET


class ToolObject(_Wire, kw_only=True):
    """A message tool's annotation: one of the three message payloads, by ``annotation_kind``."""

    feature_id: str | None = None
    feature_schema_id: str | None = None
    name: str | None = None
    value: str | UnsetType | None = UNSET
    annotation_kind: str | None = None
    classifications: tuple[Classification, ...] | None = None
    selected_message: SelectedMessage | UnsetType | None = UNSET
    selected_messages: SelectedMessages | UnsetType | None = UNSET
    ranked_messages: RankedMessages | UnsetType | None = UNSET


class Annotations(_Wire, kw_only=True):
    objects: tuple[ToolObject, ...] | None = None
    classifications: tuple[Classification, ...] | None = None
    relationships: tuple[Any, ...] | UnsetType | None = UNSET


# --- labels and projects ------------------------------------------------------------------------


class LabelDetails(_Wire, kw_only=True):
    created_at: str | None = None
    updated_at: str | UnsetType | None = UNSET
    created_by: str | None = None
    content_last_updated_at: str | UnsetType | None = UNSET
    reviews: tuple[Any, ...] | UnsetType | None = UNSET


class PerformanceDetails(_Wire, kw_only=True):
    seconds_to_create: int | float | None = None
    seconds_to_review: int | float | None = None
    skipped: bool | None = None


class Label(_Wire, kw_only=True):
    label_kind: str | UnsetType | None = UNSET
    version: str | UnsetType | None = UNSET
    id: str
    label_details: LabelDetails | UnsetType | None = UNSET
    performance_details: PerformanceDetails | UnsetType | None = UNSET
    annotations: Annotations | None = None


class WorkflowMove(_Wire, kw_only=True):
    action: str | None = None
    created_at: str | None = None
    created_by: str | None = None
    previous_task_name: str | UnsetType | None = UNSET
    previous_task_id: str | UnsetType | None = UNSET
    next_task_name: str | None = None
    next_task_id: str | UnsetType | None = UNSET


class ProjectDetails(_Wire, kw_only=True):
    ontology_id: str | UnsetType | None = UNSET
    task_id: str | UnsetType | None = UNSET
    task_name: str | UnsetType | None = UNSET
    batch_id: str | None = None
    batch_name: str | None = None
    workflow_status: str | None = None
    priority: int | float | UnsetType | None = UNSET
    consensus_expected_label_count: int | UnsetType | None = UNSET
    workflow_history: tuple[WorkflowMove, ...] | UnsetType | None = UNSET


class ModelConfig(_Wire, kw_only=True):
    name: str | None = None


class ProjectModelConfigs(_Wire, kw_only=True):
    model_configs: dict[str, ModelConfig] | None = None


class Project(_Wire, kw_only=True):
    name: str | None = None
    labels: tuple[Label, ...] | None = None
    project_details: ProjectDetails | UnsetType | None = UNSET
    project_model_configs: ProjectModelConfigs | UnsetType | None = UNSET


# --- the data row and the line -------------------------------------------------------------------


class DataRowDetails(_Wire, kw_only=True):
    dataset_id: str | None = None
    dataset_name: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    last_activity_at: str | None = None
    created_by: str | None = None


class DataRowIds(_Wire, kw_only=True):
    """What names a data row (all a reader keeps of a line whose row_data it cannot read)."""

    id: str
    global_key: str | None = None
    external_id: str | None = None


class DataRow(DataRowIds, kw_only=True):
    # The v2 document as a JSON string (decoded again by the reader: decoding it with the line
    # would cost a second pass over the line's largest value), the document itself, or a URL.
    row_data: str | DocumentView | None = None
    details: DataRowDetails | UnsetType | None = UNSET


class MediaAttributes(_Wire, kw_only=True):
    asset_type: str | UnsetType | None = UNSET
    mime_type: str | UnsetType | None = UNSET
    labelable_ids: tuple[str, ...] | UnsetType | None = UNSET
    message_count: int | UnsetType | None = UNSET


class Attachment(_Wire, kw_only=True):
    type: str | None = None
    value: str | None = None
    name: str | None = None


class Line(_Wire, kw_only=True):
    """One export line: one data row and its entry in each exported project."""

    data_row: DataRow
    media_attributes: MediaAttributes | UnsetType | None = UNSET
    attachments: tuple[Attachment, ...] | UnsetType | None = UNSET
    metadata_fields: tuple[dict[str, Any], ...] | UnsetType | None = UNSET
    embeddings: tuple[Any, ...] | UnsetType | None = UNSET
    projects: dict[str, Project] | None = None


class ErrorLine(_Wire, kw_only=True):
    """A line of the ERRORS stream (the emulator's layout; the service's is not documented)."""

    data_row_id: str
    global_key: str | None = None
    error: str | None = None


def given(value: Any) -> bool:
    """Whether an optional field has a value (neither left out nor ``null``)."""
    return value is not None and value is not UNSET


def line_decoder(line_type: type[Line] = Line) -> msgspec.json.Decoder[Line]:
    """A decoder of export lines (built once per reader; `line_type` for a line extended in a test)."""
    return msgspec.json.Decoder(line_type)


encoder = msgspec.json.Encoder()
