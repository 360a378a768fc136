"""A neutral description of annotations, written out with our builders (dict and typed) and with
the SDK's types. The differential tests compare what they serialize to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_mmc_provider.mmc.annotations import build as typed
from airflow_mmc_provider.mmc.annotations import ndjson as ann
from airflow_mmc_provider.mmc.annotations.rules import AnnotationLine, AnswerObject, NestedClassification

from .sdk_oracle import sdk


@dataclass(frozen=True)
class Option:
    name: str
    nested: tuple[Classification, ...] = ()


@dataclass(frozen=True)
class Classification:
    name: str
    kind: str  # radio, checklist, text
    value: Any  # radio: Option; checklist: tuple[Option, ...]; text: str
    message_id: str | None = None


@dataclass(frozen=True)
class Tool:
    name: str
    kind: str  # ranking (best first), single, multi
    parent: str
    messages: tuple[tuple[str, str], ...]  # (message id, model config name)


Annotation = Tool | Classification


@dataclass
class Label:
    data_row: dict[str, str]  # {"global_key": ...} or {"uid": ...}
    annotations: list[Annotation] = field(default_factory=list)
    benchmark: bool = False


# --- ours ----------------------------------------------------------------------------------------


def ours(label: Label) -> list[dict[str, Any]]:
    where = (
        {"global_key": label.data_row["global_key"]}
        if "global_key" in label.data_row
        else {"data_row_id": label.data_row["uid"]}
    )
    lines = []
    for item in label.annotations:
        message_id = item.message_id if isinstance(item, Classification) else None
        body = _our_tool(item) if isinstance(item, Tool) else _our_classification(item)
        lines.append(
            ann.annotation_line(body, message_id=message_id, benchmark_reference=label.benchmark, **where)
        )
    return lines


def _our_tool(tool: Tool) -> dict[str, Any]:
    if tool.kind == "single":
        return ann.single_selection(tool.name, tool.messages[0], parent_message_id=tool.parent)
    if tool.kind == "multi":
        return ann.multi_selection(tool.name, tool.messages, parent_message_id=tool.parent)
    return ann.message_ranking(tool.name, tool.messages, parent_message_id=tool.parent)


def _our_classification(item: Classification) -> dict[str, Any]:
    if item.kind == "text":
        return ann.text(item.name, item.value)
    if item.kind == "radio":
        return ann.radio(item.name, _our_option(item.value))
    return ann.checklist(item.name, [_our_option(o) for o in item.value])


def _our_option(option: Option) -> dict[str, Any] | str:
    if not option.nested:
        return option.name
    return ann.answer(option.name, [_our_classification(c) for c in option.nested])


# --- ours, typed ---------------------------------------------------------------------------------


def ours_typed(label: Label) -> list[AnnotationLine]:
    where = (
        {"global_key": label.data_row["global_key"]}
        if "global_key" in label.data_row
        else {"data_row_id": label.data_row["uid"]}
    )
    lines = typed.LabelLines(benchmark_reference=label.benchmark, **where)
    built = []
    for item in label.annotations:
        if isinstance(item, Tool):
            if item.kind == "single":
                built.append(
                    lines.single_selection(item.name, item.messages[0], parent_message_id=item.parent)
                )
            elif item.kind == "multi":
                built.append(lines.multi_selection(item.name, item.messages, parent_message_id=item.parent))
            else:
                built.append(lines.message_ranking(item.name, item.messages, parent_message_id=item.parent))
        elif item.kind == "text":
            built.append(lines.text(item.name, item.value, message_id=item.message_id))
        elif item.kind == "radio":
            built.append(lines.radio(item.name, _typed_option(item.value), message_id=item.message_id))
        else:
            options = [_typed_option(o) for o in item.value]
            built.append(lines.checklist(item.name, options, message_id=item.message_id))
    return built


def _typed_classification(item: Classification) -> NestedClassification:
    if item.kind == "text":
        return typed.text(item.name, item.value)
    if item.kind == "radio":
        return typed.radio(item.name, _typed_option(item.value))
    return typed.checklist(item.name, [_typed_option(o) for o in item.value])


def _typed_option(option: Option) -> AnswerObject | str:
    if not option.nested:
        return option.name
    return typed.answer(option.name, [_typed_classification(c) for c in option.nested])


# --- the SDK's -----------------------------------------------------------------------------------


def sdk_label(label: Label) -> Any:
    lb = sdk().types
    return lb.Label(
        data=label.data_row,
        annotations=[_sdk_annotation(a) for a in label.annotations],
        is_benchmark_reference=label.benchmark,
    )


def _sdk_annotation(item: Annotation) -> Any:
    lb = sdk().types
    if isinstance(item, Classification):
        return _sdk_classification(item)
    if item.kind == "single":
        (message_id, model), *_ = item.messages
        value = lb.MessageSingleSelectionTask(
            parent_message_id=item.parent, message_id=message_id, model_config_name=model
        )
    elif item.kind == "multi":
        value = lb.MessageMultiSelectionTask(
            parent_message_id=item.parent,
            selected_messages=[lb.MessageInfo(message_id=m, model_config_name=c) for m, c in item.messages],
        )
    else:
        value = lb.MessageRankingTask(
            parent_message_id=item.parent,
            ranked_messages=[
                lb.OrderedMessageInfo(message_id=m, model_config_name=c, order=i)
                for i, (m, c) in enumerate(item.messages, start=1)
            ],
        )
    return lb.MessageEvaluationTaskAnnotation(name=item.name, value=value)


def _sdk_classification(item: Classification) -> Any:
    lb = sdk().types
    if item.kind == "text":
        value = lb.Text(answer=item.value)
    elif item.kind == "radio":
        value = lb.Radio(answer=_sdk_option(item.value))
    else:
        value = lb.Checklist(answer=[_sdk_option(o) for o in item.value])
    return lb.ClassificationAnnotation(name=item.name, value=value, message_id=item.message_id)


def _sdk_option(option: Option) -> Any:
    lb = sdk().types
    nested = [_sdk_classification(c) for c in option.nested] or None
    return lb.ClassificationAnswer(name=option.name, classifications=nested)
