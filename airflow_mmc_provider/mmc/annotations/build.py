"""The builders of `annotations`, giving typed lines (msgspec Structs) instead of dicts.

The same annotations with the same arguments, and the same lines: ``msgspec.to_builtins`` of a
typed line is the dict line `annotations.annotation_line` gives (keys aside, which come out
sorted). A `LabelLines` stands for one data row's label; its methods give the row's lines, and
the module's `answer`, `radio`, `checklist` and `text` give the classifications nested under an
option or a tool. Use these when one Python process builds a large import and hands it to
`annotations.build_ndjson` or `annotations.iter_ndjson_lines`: a typed line goes to validation
and encoding as it is, while a dict line is converted first, and building dicts, then
converting them, costs about as much as validating and encoding the line
(``benchmarks/annotations.py``). Dicts stay the form for passing annotations between tasks
(XCom takes JSON, not Structs), and `dicts` makes them from the same typed pieces::

    from airflow_mmc_provider.mmc import annotations as ann, typed_annotations as typed

    def lines(rows):
        for global_key, (gpt, claude) in rows:
            label = typed.LabelLines(global_key=global_key)
            yield label.message_ranking("Rank", [gpt, claude])
            yield label.radio("Overall quality", typed.answer("bad", [typed.text("Why", "too long")]))
            yield label.text("Response note", "cites a source", message_id=gpt.message_id)

    body = ann.build_ndjson(lines(rows), project_ontology, documents)

A typed line is encoded as it is, so its values must have the types its fields declare: these
builders check every argument they store and raise `TypeError` (or `ValueError`, as the dict
builders do) at once; a `ResponseRef`'s fields are taken as strings, as `response_ref` and
`document_response_refs` make them. An `AnnotationLine` built by other means (its constructor
does not check types) must respect its annotations too. Every other rule (the ontology, the
conversation, the import) is checked by the batch, as for dicts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from airflow_mmc_provider.mmc.annotations.types import (
    AnnotationLine,
    AnswerObject,
    AnswerValue,
    DataRowRef,
    MessageItem,
    MessageTask,
    NestedClassification,
    TaskData,
)
from airflow_mmc_provider.mmc.conversation.document import ResponseRef

MessageRef = ResponseRef | tuple[str, str]
"""A model response: a `ResponseRef`, or ``(message_id, model_config_name)``."""

ClassificationAnnotation = NestedClassification
"""A radio, checklist or text classification nested under an option or a message tool."""


def answer(
    name: str | None,
    classifications: Iterable[ClassificationAnnotation] = (),
    *,
    schema_id: str | None = None,
) -> AnswerObject:
    """An option of a radio or checklist answer, with the classifications nested under it."""
    if type(name) is not str or schema_id is not None:  # the usual case is a name alone
        _identity(name, schema_id, "answer")
    nested = _nested(classifications, "answer") if classifications else None
    return AnswerObject(name=name, schema_id=schema_id, classifications=nested)


def radio(
    name: str | None, choice: str | AnswerObject, *, schema_id: str | None = None
) -> ClassificationAnnotation:
    """A nested radio classification: one option (its name, or an `answer(...)`)."""
    if type(name) is not str or schema_id is not None:
        _identity(name, schema_id, "radio")
    option = AnswerObject(name=choice) if type(choice) is str else _option(choice, "radio")
    return NestedClassification(name=name, schema_id=schema_id, answer=option)


def checklist(
    name: str | None, choices: Iterable[str | AnswerObject], *, schema_id: str | None = None
) -> ClassificationAnnotation:
    """A nested checklist classification: the chosen options (names, or `answer(...)`s)."""
    if type(name) is not str or schema_id is not None:
        _identity(name, schema_id, "checklist")
    return NestedClassification(name=name, schema_id=schema_id, answer=_options(choices))


def text(name: str | None, content: str, *, schema_id: str | None = None) -> ClassificationAnnotation:
    """A nested free-text classification."""
    if type(name) is not str or schema_id is not None:
        _identity(name, schema_id, "text")
    if type(content) is not str:
        _content(content, name)
    return NestedClassification(name=name, schema_id=schema_id, answer=content)


class LabelLines:
    """The typed lines of one data row's label (by global key or data row id).

    Each method gives one `AnnotationLine`, the line `annotations.annotation_line` gives for the
    builder of the same name. `benchmark_reference` marks every line as part of a benchmark
    reference label; ``message_id`` is for message-scoped classifications; a given ``uuid``
    replaces the deterministic one.
    """

    __slots__ = ("_benchmark", "_row")

    def __init__(
        self,
        *,
        global_key: str | None = None,
        data_row_id: str | None = None,
        benchmark_reference: bool = False,
    ) -> None:
        if data_row_id is None:
            if type(global_key) is not str:
                if global_key is None:
                    raise ValueError("give exactly one of global_key and data_row_id")
                _text(global_key, "global_key")
            self._row = DataRowRef(global_key=global_key)
        elif global_key is None:
            self._row = DataRowRef(id=_text(data_row_id, "data_row_id"))
        else:
            raise ValueError("give exactly one of global_key and data_row_id")
        self._benchmark = True if benchmark_reference else None

    def radio(
        self,
        name: str | None,
        choice: str | AnswerObject,
        *,
        message_id: str | None = None,
        schema_id: str | None = None,
        uuid: str | None = None,
    ) -> AnnotationLine:
        """A radio classification: one option (its name, or an `answer(...)` with nested ones)."""
        option = AnswerObject(name=choice) if type(choice) is str else _option(choice, "radio")
        return self._classification(name, schema_id, option, message_id, uuid, "radio")

    def checklist(
        self,
        name: str | None,
        choices: Iterable[str | AnswerObject],
        *,
        message_id: str | None = None,
        schema_id: str | None = None,
        uuid: str | None = None,
    ) -> AnnotationLine:
        """A checklist classification: the chosen options (names, or `answer(...)`s)."""
        return self._classification(name, schema_id, _options(choices), message_id, uuid, "checklist")

    def text(
        self,
        name: str | None,
        content: str,
        *,
        message_id: str | None = None,
        schema_id: str | None = None,
        uuid: str | None = None,
    ) -> AnnotationLine:
        """A free-text classification."""
        if type(content) is not str:
            _content(content, name)
        return self._classification(name, schema_id, content, message_id, uuid, "text")

    def single_selection(
        self,
        name: str | None,
        message: MessageRef,
        *,
        parent_message_id: str | None = None,
        schema_id: str | None = None,
        classifications: Iterable[ClassificationAnnotation] = (),
        uuid: str | None = None,
    ) -> AnnotationLine:
        """The message-single-selection tool: one chosen response."""
        if type(message) is ResponseRef:
            message_id, model = message.message_id, message.model_config_name
            parent = message.parent_message_id
            if parent_message_id is not None or type(parent) is not str:
                parent = _text(parent_of(parent_message_id, parent), "parent_message_id")
        else:
            message_id, model = _pair(message)
            parent = _text(parent_of(parent_message_id, None), "parent_message_id")
        data = TaskData(parent_message_id=parent, message_id=message_id, model_config_name=model)
        return self._task(name, schema_id, "message-single-selection", data, classifications, uuid)

    def multi_selection(
        self,
        name: str | None,
        messages: Iterable[MessageRef | MessageItem],
        *,
        parent_message_id: str | None = None,
        schema_id: str | None = None,
        classifications: Iterable[ClassificationAnnotation] = (),
        uuid: str | None = None,
    ) -> AnnotationLine:
        """The message-multi-selection tool: the chosen responses (possibly none)."""
        selected, parent = _message_items(messages, parent_message_id, ranked=False)
        data = TaskData(parent_message_id=parent, selected_messages=selected)
        return self._task(name, schema_id, "message-multi-selection", data, classifications, uuid)

    def message_ranking(
        self,
        name: str | None,
        best_first: Iterable[MessageRef | MessageItem],
        *,
        parent_message_id: str | None = None,
        schema_id: str | None = None,
        classifications: Iterable[ClassificationAnnotation] = (),
        uuid: str | None = None,
    ) -> AnnotationLine:
        """The message-ranking tool: the responses best first (orders 1..n); a `MessageItem` is
        a response with every field of the ranked message (its order is replaced)."""
        ranked, parent = _message_items(best_first, parent_message_id, ranked=True)
        data = TaskData(parent_message_id=parent, ranked_messages=ranked)
        return self._task(name, schema_id, "message-ranking", data, classifications, uuid)

    def _classification(
        self,
        name: str | None,
        schema_id: str | None,
        value: Any,
        message_id: str | None,
        uuid: str | None,
        what: str,
    ) -> AnnotationLine:
        if type(name) is not str or schema_id is not None:  # the usual case is a name alone
            _identity(name, schema_id, what)
        if (message_id is not None and type(message_id) is not str) or (
            uuid is not None and type(uuid) is not str
        ):
            _line_ids(message_id, uuid, name)
        return classification_line(self._row, name, value, message_id, schema_id, self._benchmark, uuid)

    def _task(
        self,
        name: str | None,
        schema_id: str | None,
        fmt: str,
        data: TaskData,
        classifications: Iterable[ClassificationAnnotation],
        uuid: str | None,
    ) -> AnnotationLine:
        if type(name) is not str or schema_id is not None:
            _identity(name, schema_id, fmt)
        if uuid is not None and type(uuid) is not str:
            _line_ids(None, uuid, name)
        nested = _nested(classifications, fmt) if classifications else None
        return task_line(self._row, name, fmt, data, schema_id, nested, self._benchmark, uuid)


def task_line(
    row: DataRowRef,
    name: str | None,
    fmt: str,
    data: TaskData,
    schema_id: str | None = None,
    classifications: list[NestedClassification] | None = None,
    benchmark: bool | None = None,
    uuid: str | None = None,
) -> AnnotationLine:
    """A message tool's line from typed parts, unchecked: what `LabelLines` gives once it has
    checked its arguments, and what the record reader gives for what it resolved."""
    return AnnotationLine(
        data_row=row,
        name=name,
        schema_id=schema_id,
        message_evaluation_task=MessageTask(format=fmt, data=data),
        classifications=classifications,
        is_benchmark_reference_label=benchmark,
        uuid=uuid,
    )


def classification_line(
    row: DataRowRef,
    name: str | None,
    value: AnswerValue,
    message_id: str | None,
    schema_id: str | None = None,
    benchmark: bool | None = None,
    uuid: str | None = None,
) -> AnnotationLine:
    """A classification's line from typed parts, unchecked (as `task_line`)."""
    return AnnotationLine(
        data_row=row,
        name=name,
        schema_id=schema_id,
        answer=value,
        message_id=message_id,
        is_benchmark_reference_label=benchmark,
        uuid=uuid,
    )


def _message_items(
    refs: Iterable[MessageRef | MessageItem], explicit: str | None, *, ranked: bool
) -> tuple[list[MessageItem], str]:
    """`message_pairs` as `MessageItem`s (with orders 1..n when `ranked`), built in one loop; a
    given `MessageItem` is kept as it is (its order set), so the fields it carries are imported."""
    parent = explicit
    items: list[MessageItem] = []
    append = items.append
    order = 0
    for ref in refs:
        if type(ref) is ResponseRef:
            message_id, model, known = ref.message_id, ref.model_config_name, ref.parent_message_id
            if known != parent:
                parent = parent_of(parent, known) if parent is not None else known
        elif type(ref) is not tuple and isinstance(ref, MessageItem):  # with fields of its own
            if ranked:
                order += 1
                ref = msgspec.structs.replace(ref, order=order)
            append(ref)
            continue
        else:
            message_id, model = _pair(ref)
        if ranked:
            order += 1
            append(MessageItem(message_id=message_id, model_config_name=model, order=order))
        else:
            append(MessageItem(message_id=message_id, model_config_name=model))
    if type(parent) is not str:
        parent = _text(parent if parent is not None else parent_of(None, None), "parent_message_id")
    return items, parent


def message_pairs(refs: Iterable[MessageRef], explicit: str | None) -> tuple[list[tuple[str, str]], str]:
    """The (message id, model config name) of each response, and the parent they all answer."""
    parent = explicit
    pairs: list[tuple[str, str]] = []
    append = pairs.append
    for ref in refs:
        if type(ref) is ResponseRef:
            append((ref.message_id, ref.model_config_name))
            if ref.parent_message_id != parent:
                parent = (
                    parent_of(parent, ref.parent_message_id) if parent is not None else ref.parent_message_id
                )
        else:
            append(ref)  # type: ignore[arg-type]
    return pairs, parent if parent is not None else parent_of(None, None)


def parent_of(explicit: str | None, known: str | None) -> str:
    """The parent message of an annotation's responses: `explicit`, or the one they answer."""
    if explicit is None:
        if known is None:
            raise ValueError("no parent is known: give parent_message_id, or ResponseRefs of one comparison")
        return known
    if known is not None and known != explicit:
        raise ValueError(f"the responses answer {known!r} and {explicit!r}; one annotation has one parent")
    return explicit


def named(name: str | None, schema_id: str | None, what: str) -> None:
    """The rule every builder applies to a feature (typed or dict): it is named, by name or id."""
    if name is None and schema_id is None:
        raise ValueError(f"{what}: give the feature's name or schema_id")


def _identity(name: str | None, schema_id: str | None, what: str) -> None:
    named(name, schema_id, what)
    if name is not None and type(name) is not str:
        raise TypeError(f"{what}: the name is a str, got {type(name).__name__}")
    if schema_id is not None and type(schema_id) is not str:
        raise TypeError(f"{what}: the schema_id is a str, got {type(schema_id).__name__}")


def _line_ids(message_id: Any, uuid: Any, name: str | None) -> None:
    for field, value in (("message_id", message_id), ("uuid", uuid)):
        if value is not None and type(value) is not str:
            raise TypeError(f"{name!r}: {field} is a str, got {type(value).__name__}")


def _text(value: Any, field: str) -> str:
    if type(value) is not str:
        raise TypeError(f"{field} is a str, got {type(value).__name__}")
    return value


def _pair(message: Any) -> tuple[str, str]:
    """A ``(message_id, model_config_name)`` pair, both strings."""
    if type(message) is not tuple or len(message) != 2:
        raise TypeError(
            f"a message is a ResponseRef or a (message_id, model_config_name) pair, got {message!r}"
        )
    message_id, model = message
    if type(message_id) is not str or type(model) is not str:
        raise TypeError(f"a message's id and model config name are strings, got {message!r}")
    return message_id, model


def _option(choice: Any, what: str) -> AnswerObject:
    if type(choice) is str:
        return AnswerObject(name=choice)
    if type(choice) is AnswerObject:
        return choice
    raise TypeError(f"{what}: an option is its name (str) or answer(...), got {type(choice).__name__}")


def _options(choices: Iterable[str | AnswerObject]) -> list[AnswerObject]:
    return [AnswerObject(name=c) if type(c) is str else _option(c, "checklist") for c in choices]


def _content(content: Any, name: str | None) -> str:
    if type(content) is not str:
        raise TypeError(f"text {name!r}: the content is a str, got {type(content).__name__}")
    return content


def _nested(
    classifications: Iterable[ClassificationAnnotation], what: str
) -> list[NestedClassification] | None:
    if not classifications:
        return None
    nested = list(classifications)
    for item in nested:
        if type(item) is not NestedClassification:
            raise TypeError(
                f"{what}: nested classifications are radio(...), checklist(...) or text(...), "
                f"got {type(item).__name__}"
            )
    return nested or None


__all__ = [
    "ClassificationAnnotation",
    "LabelLines",
    "answer",
    "checklist",
    "radio",
    "text",
]
