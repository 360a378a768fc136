"""The annotation line of a Labelbox NDJSON import, as msgspec Structs: the one wire definition.

Builders (`build`), the record reader (`records`), the rules (`rules`) and the emulator's import all
read and write these types. Fields are declared in sorted order of their JSON names, so
``msgspec.json.encode(line)`` is the line's canonical form (keys sorted, nulls left out), which
`ndjson` hashes into uuids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from airflow_mmc_provider.mmc._shapes import shape_problems


class DataRowRef(
    msgspec.Struct,
    kw_only=True,
    rename="camel",
    forbid_unknown_fields=True,
    omit_defaults=True,
    gc=False,
    frozen=True,  # the lines of one label share theirs (typed_annotations.LabelLines)
):
    global_key: str | None = None
    id: str | None = None


class MessageItem(
    msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True, omit_defaults=True, gc=False
):
    """A selected (messageId, modelConfigName) or ranked (with order) message."""

    message_id: str
    model_config_name: str
    order: int | None = None


class TaskData(
    msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True, omit_defaults=True, gc=False
):
    """The data of any of the three formats; which fields a format allows is a rule."""

    message_id: str | None = None
    model_config_name: str | None = None
    parent_message_id: str | None = None
    ranked_messages: list[MessageItem] | None = None
    selected_messages: list[MessageItem] | None = None


class MessageTask(
    msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True, omit_defaults=True, gc=False
):
    data: TaskData
    format: str


class AnswerObject(
    msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True, omit_defaults=True, gc=False
):
    """An option of a radio or checklist answer, with the classifications nested under it."""

    classifications: list[NestedClassification] | None = None
    confidence: float | None = None
    custom_metrics: list[dict[str, Any]] | None = None
    name: str | None = None
    schema_id: str | None = None


AnswerValue = str | AnswerObject | list[AnswerObject]


class NestedClassification(
    msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True, omit_defaults=True, gc=False
):
    answer: AnswerValue | None = None
    answers: list[AnswerObject] | None = None
    confidence: float | None = None
    custom_metrics: list[dict[str, Any]] | None = None
    name: str | None = None
    schema_id: str | None = None


class AnnotationLine(
    msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True, omit_defaults=True, gc=False
):
    """One NDJSON annotation line, typed (shape rules only; the rest are checked separately)."""

    answer: AnswerValue | None = None
    answers: list[AnswerObject] | None = None
    classifications: list[NestedClassification] | None = None
    confidence: float | None = None
    custom_metrics: list[dict[str, Any]] | None = None
    data_row: DataRowRef
    is_benchmark_reference_label: bool | None = None
    message_evaluation_task: MessageTask | None = None
    message_id: str | None = None
    name: str | None = None
    schema_id: str | None = None
    uuid: str | None = None

    @property
    def data_row_key(self) -> str | None:
        return self.data_row.global_key or self.data_row.id


_line_decoder = msgspec.json.Decoder(AnnotationLine)


class LineShapeError(ValueError):
    """A line that is not an annotation object; `problems` are `_shapes.ShapeProblem`s."""

    def __init__(self, untyped: Any, problems: list[Any]) -> None:
        super().__init__(f"{len(problems)} shape problem(s)")
        self.untyped = untyped
        self.problems = problems


def parse_line(line: AnnotationLine | Mapping[str, Any] | str | bytes) -> AnnotationLine:
    """The typed line; raises `LineShapeError` listing every shape problem, or `msgspec.DecodeError`
    for text that is not JSON."""
    if type(line) is AnnotationLine:
        return line
    try:
        if isinstance(line, str | bytes):
            return _line_decoder.decode(line)
        if type(line) is not dict and isinstance(line, Mapping):
            line = dict(line)
        return msgspec.convert(line, AnnotationLine)
    except msgspec.ValidationError:
        pass
    untyped = msgspec.json.decode(line) if isinstance(line, str | bytes) else line
    if not isinstance(untyped, Mapping):
        raise LineShapeError(untyped, []) from None
    problems = shape_problems(dict(untyped), AnnotationLine)
    raise LineShapeError(untyped, problems) from None
