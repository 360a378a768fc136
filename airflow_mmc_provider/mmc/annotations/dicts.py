"""The builders of annotations as plain dicts: the form to pass between tasks (XCom takes JSON).

The same annotations, arguments and lines as the typed builders of `build` (``msgspec.to_builtins``
of a typed line is the dict `annotation_line` gives, keys aside); both share `build`'s rules for
the parent of a comparison (`parent_of`, `message_pairs`). To build a large import in one
process, use the typed ones: a dict line is converted to a typed one before it is checked::

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
from typing import Any

from airflow_mmc_provider.mmc.annotations.build import MessageRef, message_pairs, parent_of
from airflow_mmc_provider.mmc.conversation.document import ResponseRef

Annotation = dict[str, Any]
"""An annotation or nested classification without its data row, as the builders return it."""

# --- builders ------------------------------------------------------------------------------------


def answer(
    name: str | None, classifications: Iterable[Annotation] = (), *, schema_id: str | None = None
) -> Annotation:
    """An option of a radio or checklist answer, with the classifications nested under it."""
    result: Annotation = (
        {"name": name} if schema_id is None and name is not None else _identity(name, schema_id, "answer")
    )
    if classifications:
        nested = list(classifications)
        if nested:
            result["classifications"] = nested
    return result


def radio(name: str | None, choice: str | Annotation, *, schema_id: str | None = None) -> Annotation:
    """A radio classification: one option (its name, or an `answer(...)` with nested ones)."""
    if schema_id is None and name is not None:
        return {"name": name, "answer": {"name": choice} if type(choice) is str else choice}
    result = _identity(name, schema_id, "radio")
    result["answer"] = {"name": choice} if isinstance(choice, str) else choice
    return result


def checklist(
    name: str | None, choices: Iterable[str | Annotation], *, schema_id: str | None = None
) -> Annotation:
    """A checklist classification: the chosen options (names, or `answer(...)`s)."""
    answers = [{"name": c} if isinstance(c, str) else c for c in choices]
    if schema_id is None and name is not None:
        return {"name": name, "answer": answers}
    result = _identity(name, schema_id, "checklist")
    result["answer"] = answers
    return result


def text(name: str | None, content: str, *, schema_id: str | None = None) -> Annotation:
    """A free-text classification."""
    if schema_id is None and name is not None:
        return {"name": name, "answer": content}
    result = _identity(name, schema_id, "text")
    result["answer"] = content
    return result


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
    data = {"messageId": message_id, "modelConfigName": model, "parentMessageId": parent}
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
    return _listed(name, messages, parent_message_id, schema_id, classifications, ranked=False)


def message_ranking(
    name: str | None,
    best_first: Iterable[MessageRef],
    *,
    parent_message_id: str | None = None,
    schema_id: str | None = None,
    classifications: Iterable[Annotation] = (),
) -> Annotation:
    """The message-ranking tool: the responses best first (orders 1..n)."""
    return _listed(name, best_first, parent_message_id, schema_id, classifications, ranked=True)


def _listed(
    name: str | None,
    refs: Iterable[MessageRef],
    parent_message_id: str | None,
    schema_id: str | None,
    classifications: Iterable[Annotation],
    *,
    ranked: bool,
) -> Annotation:
    """A multi-selection or (`ranked`, orders 1..n) a ranking of `refs`."""
    pairs, parent = message_pairs(refs, parent_message_id)
    if ranked:
        items = [
            {"messageId": message_id, "modelConfigName": model, "order": order}
            for order, (message_id, model) in enumerate(pairs, start=1)
        ]
        data = {"parentMessageId": parent, "rankedMessages": items}
        return _task(name, schema_id, "message-ranking", data, classifications)
    items = [{"messageId": message_id, "modelConfigName": model} for message_id, model in pairs]
    data = {"parentMessageId": parent, "selectedMessages": items}
    return _task(name, schema_id, "message-multi-selection", data, classifications)


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
    line: dict[str, Any] = {
        "dataRow": {"globalKey": global_key} if data_row_id is None else {"id": data_row_id},
        **annotation,
    }
    if message_id is not None:
        line["messageId"] = message_id
    if benchmark_reference:
        line["isBenchmarkReferenceLabel"] = True
    if uuid is not None:
        line["uuid"] = uuid
    return line


def _identity(name: str | None, schema_id: str | None, what: str) -> Annotation:
    if schema_id is None:
        if name is not None:
            return {"name": name}
        raise ValueError(f"{what}: give the feature's name or schema_id")
    result: Annotation = {}
    if name is not None:
        result["name"] = name
    if schema_id is not None:
        result["schemaId"] = schema_id
    return result


def _task(
    name: str | None,
    schema_id: str | None,
    fmt: str,
    data: dict[str, Any],
    classifications: Iterable[Annotation],
) -> Annotation:
    if schema_id is None and name is not None:  # the usual case, without a call
        result: Annotation = {"name": name, "messageEvaluationTask": {"format": fmt, "data": data}}
    else:
        result = _identity(name, schema_id, fmt)
        result["messageEvaluationTask"] = {"format": fmt, "data": data}
    if classifications:
        nested = list(classifications)
        if nested:
            result["classifications"] = nested
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
