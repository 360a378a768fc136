"""The builders of annotations as plain dicts: the form to pass between tasks (XCom takes JSON).

The typed builders of `build`, as dicts: each builder here makes the typed piece (the Structs of
`types`, by `build`'s rules: `named`, `parent_of`, `message_pairs`, `task_line`) and gives its
``msgspec.to_builtins``, and `annotation_line` places it on a data row under `AnnotationLine`'s
own keys, so a format is written once, in `types`, and a field added there is in both families
(a dict is about 1.5x as costly to build this way as by hand, a tenth of the batch's work on it:
``benchmarks/annotations.py``). Unlike the typed builders, these check no argument's type: whatever
they are given is passed on, for the batch to report with the rest. To build a large import in
one process, use the typed ones: a dict line is converted to a typed one before it is checked::

    from airflow_mmc_provider.mmc import annotations as ann
    from airflow_mmc_provider.mmc.conversation import response_ref

    gpt, claude = response_ref("conv-0001", "gpt-4o"), response_ref("conv-0001", "claude")
    lines = [
        ann.annotation_line(ann.message_ranking("Rank", [gpt, claude]), global_key="conv-0001"),
        ann.annotation_line(ann.single_selection("Best", gpt), global_key="conv-0001"),
        ann.annotation_line(ann.multi_selection("Good", [gpt]), global_key="conv-0001"),
        ann.annotation_line(
            ann.radio("Overall quality", ann.answer("bad", [ann.text("Why", "too long")])),
            global_key="conv-0001",
        ),
        ann.annotation_line(ann.checklist("Issues", ["verbosity"]), data_row_id="clx..."),
        ann.annotation_line(
            ann.text("Response note", "cites a source"),
            global_key="conv-0001",
            message_id=gpt.message_id,  # message-scoped classifications name their message
        ),
    ]

Message tools take `ResponseRef`s (from `conversation.response_ref`, which derives the ids from
the record key alone, or `document.document_response_refs`) or ``(message_id,
model_config_name)`` pairs with ``parent_message_id=``. Rankings are given best first (order 1).
Nested classifications go into `answer(...)`, to any depth.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from msgspec import to_builtins
from msgspec.structs import fields

from airflow_mmc_provider.mmc.annotations.build import (
    MessageRef,
    message_pairs,
    named,
    parent_of,
    task_line,
)
from airflow_mmc_provider.mmc.annotations.types import (
    AnnotationLine,
    AnswerObject,
    DataRowRef,
    MessageItem,
    NestedClassification,
    TaskData,
)
from airflow_mmc_provider.mmc.conversation.document import ResponseRef

Annotation = dict[str, Any]
"""An annotation or nested classification without its data row, as the builders return it."""


def _json_names(struct: type) -> dict[str, str]:
    """Field -> JSON key of a Struct of `types` (where the wire's names are written, once)."""
    return {field.name: field.encode_name for field in fields(struct)}


_LINE: Final = _json_names(AnnotationLine)
_ROW: Final = _json_names(DataRowRef)
_DATA_ROW, _MESSAGE_ID, _BENCHMARK, _UUID = (
    _LINE[field] for field in ("data_row", "message_id", "is_benchmark_reference_label", "uuid")
)
_GLOBAL_KEY, _ROW_ID = _ROW["global_key"], _ROW["id"]
_NOWHERE: Final = DataRowRef()  # a tool's line before `annotation_line` places it on a data row

# --- builders ------------------------------------------------------------------------------------


def answer(
    name: str | None, classifications: Iterable[Annotation] = (), *, schema_id: str | None = None
) -> Annotation:
    """An option of a radio or checklist answer, with the classifications nested under it."""
    if name is None:
        named(name, schema_id, "answer")
    nested: Any = (list(classifications) or None) if classifications else None  # none: omitted
    return to_builtins(AnswerObject(name=name, schema_id=schema_id, classifications=nested))


def radio(name: str | None, choice: str | Annotation, *, schema_id: str | None = None) -> Annotation:
    """A radio classification: one option (its name, or an `answer(...)` with nested ones)."""
    if name is None:
        named(name, schema_id, "radio")
    option: Any = AnswerObject(name=choice) if type(choice) is str else choice  # a dict: as given
    return to_builtins(NestedClassification(name=name, schema_id=schema_id, answer=option))


def checklist(
    name: str | None, choices: Iterable[str | Annotation], *, schema_id: str | None = None
) -> Annotation:
    """A checklist classification: the chosen options (names, or `answer(...)`s)."""
    if name is None:
        named(name, schema_id, "checklist")
    options: list[Any] = [AnswerObject(name=c) if type(c) is str else c for c in choices]
    return to_builtins(NestedClassification(name=name, schema_id=schema_id, answer=options))


def text(name: str | None, content: str, *, schema_id: str | None = None) -> Annotation:
    """A free-text classification."""
    if name is None:
        named(name, schema_id, "text")
    return to_builtins(NestedClassification(name=name, schema_id=schema_id, answer=content))


def single_selection(
    name: str | None,
    message: MessageRef,
    *,
    parent_message_id: str | None = None,
    schema_id: str | None = None,
    classifications: Iterable[Annotation] = (),
) -> Annotation:
    """The message-single-selection tool: one chosen response."""
    if type(message) is ResponseRef:
        message_id, model = message.message_id, message.model_config_name
        parent = parent_of(parent_message_id, message.parent_message_id)
    else:
        message_id, model = message  # type: ignore[misc]
        parent = parent_of(parent_message_id, None)
    data = TaskData(message_id=message_id, model_config_name=model, parent_message_id=parent)
    return _task(name, schema_id, "message-single-selection", data, classifications)


def multi_selection(
    name: str | None,
    messages: Iterable[MessageRef],
    *,
    parent_message_id: str | None = None,
    schema_id: str | None = None,
    classifications: Iterable[Annotation] = (),
) -> Annotation:
    """The message-multi-selection tool: the chosen responses (possibly none)."""
    pairs, parent = message_pairs(messages, parent_message_id)
    items = [MessageItem(message_id=message_id, model_config_name=model) for message_id, model in pairs]
    data = TaskData(parent_message_id=parent, selected_messages=items)
    return _task(name, schema_id, "message-multi-selection", data, classifications)


def message_ranking(
    name: str | None,
    best_first: Iterable[MessageRef],
    *,
    parent_message_id: str | None = None,
    schema_id: str | None = None,
    classifications: Iterable[Annotation] = (),
) -> Annotation:
    """The message-ranking tool: the responses best first (orders 1..n)."""
    pairs, parent = message_pairs(best_first, parent_message_id)
    items = [
        MessageItem(message_id=message_id, model_config_name=model, order=order)
        for order, (message_id, model) in enumerate(pairs, start=1)
    ]
    data = TaskData(parent_message_id=parent, ranked_messages=items)
    return _task(name, schema_id, "message-ranking", data, classifications)


def annotation_line(
    annotation: Annotation,
    *,
    global_key: str | None = None,
    data_row_id: str | None = None,
    message_id: str | None = None,
    benchmark_reference: bool = False,
    uuid: str | None = None,
) -> dict[str, Any]:
    """One NDJSON line: the annotation on a data row (by global key or id).

    `message_id` is for message-scoped classifications; `benchmark_reference` marks the line as
    part of a benchmark reference label (``isBenchmarkReferenceLabel``). Without `uuid` the line
    has none yet: the batch functions give it the deterministic one (`annotation_uuid`).
    """
    if (global_key is None) == (data_row_id is None):
        raise ValueError("give exactly one of global_key and data_row_id")
    # the fields of `AnnotationLine` that are the line's own, under their names in `types`
    row = {_GLOBAL_KEY: global_key} if data_row_id is None else {_ROW_ID: data_row_id}
    line: dict[str, Any] = {_DATA_ROW: row, **annotation}
    if message_id is not None:
        line[_MESSAGE_ID] = message_id
    if benchmark_reference:
        line[_BENCHMARK] = True
    if uuid is not None:
        line[_UUID] = uuid
    return line


def _task(
    name: str | None,
    schema_id: str | None,
    fmt: str,
    data: TaskData,
    classifications: Iterable[Annotation],
) -> Annotation:
    """A message tool's line (`build.task_line`) not yet on a data row."""
    if name is None:
        named(name, schema_id, fmt)
    nested: Any = (list(classifications) or None) if classifications else None
    line = task_line(_NOWHERE, name, fmt, data, schema_id, nested)
    result: Annotation = to_builtins(line)
    del result[_DATA_ROW]
    return result


__all__ = [
    "Annotation",
    "annotation_line",
    "answer",
    "checklist",
    "message_ranking",
    "multi_selection",
    "radio",
    "single_selection",
    "text",
]
