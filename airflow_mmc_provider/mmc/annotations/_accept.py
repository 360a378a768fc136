"""`AnnotationValidator._confirm`'s confirmations: a valid line passes with a fraction of the checks' work.

Private to `rules`: its yes/no answers never reach a caller, who sees only what `check_line`
reports. It evaluates the rules of `_tool_checks` and `_answer_checks`, not a copy of them: the
shape of a tool's line and of its data (`classified`, `stray_data`, their tables), the message scope
(`scope_fault`) and every answer, option and nested classification (the checks themselves, run
with a `_Verdict` that formats nothing). What it evaluates its own way is the conversation: a
selection or ranking is compared with the parent's model responses (`IndexedDocument.prompts`, read
lazily from the document) as a whole, in C, where the checks walk the full index message by
message -- a ranking's {message id: model} must equal them, a selection's be included in them.
It may refuse a valid line (the checks then find nothing: a ranking not listed best first, say),
never confirm an invalid one; the property tests hold `check_line` to that.
"""

from collections.abc import Callable
from typing import Any

from airflow_mmc_provider.mmc.annotations._answer_checks import _check_answer, scope_fault, text_ok
from airflow_mmc_provider.mmc.annotations._line import _MISSING, TOOL_FORMATS, _Verdict
from airflow_mmc_provider.mmc.annotations._tool_checks import (
    ABSENT,
    STRAY,
    UNCLASSIFIED,
    check_tool_classifications,
    classified_fields,
)
from airflow_mmc_provider.mmc.annotations.types import AnnotationLine, MessageItem, TaskData
from airflow_mmc_provider.mmc.conversation.index import IndexedDocument
from airflow_mmc_provider.mmc.ontology.index import ClassificationSpec, FeatureSpec, OntologyIndex, ToolSpec

FastCheck = Callable[[Any, AnnotationLine, "IndexedDocument | None", _Verdict], bool]


def _tool_ok(tool: ToolSpec, line: AnnotationLine, conv: IndexedDocument | None, verdict: _Verdict) -> bool:
    """A line of `tool`: its data shaped for its format, its nested classifications right, and
    its messages responses of a human parent with their models' names (with a conversation)."""
    task = line.message_evaluation_task
    fmt = tool.tool
    # `classified` and `stray_data`, their tables read inline: this runs for most tool lines
    if (
        task is None
        or task.format != fmt
        or classified_fields(line) != UNCLASSIFIED
        or STRAY[fmt](task.data) != ABSENT[fmt]
    ):
        return False
    if line.classifications is not None or (verdict.required and tool.nested.required):
        check_tool_classifications(verdict, tool, line)
        if not verdict.passed():
            return False
    data = task.data
    parent = data.parent_message_id
    if not parent:
        return False
    if fmt == "message-single-selection":
        return _single_ok(data, parent, conv)
    if fmt == "message-ranking":
        return _ranking_ok(data, parent, conv)
    return _multi_ok(data, parent, conv)


def _responses(conv: IndexedDocument, parent: str) -> dict[str, str | None] | None:
    """The model responses of `parent` (message id -> model config name), None: no human message."""
    responses = conv.prompts.get(parent)
    return responses if responses is not None else conv.prompt_responses(parent)


def _single_ok(data: TaskData, parent: str, conv: IndexedDocument | None) -> bool:
    message_id, model = data.message_id, data.model_config_name
    if not message_id or not model:
        return False
    if conv is None:
        return True
    responses = _responses(conv, parent)
    return responses is not None and responses.get(message_id, _MISSING) == model


def _multi_ok(data: TaskData, parent: str, conv: IndexedDocument | None) -> bool:
    chosen = _listed(data.selected_messages, ranked=False)
    if chosen is None:
        return False
    if conv is None:
        return all(chosen) and all(chosen.values())
    responses = _responses(conv, parent)
    return responses is not None and chosen.items() <= responses.items()


def _ranking_ok(data: TaskData, parent: str, conv: IndexedDocument | None) -> bool:
    ranked = _listed(data.ranked_messages, ranked=True)
    if not ranked:
        return False
    if conv is None:
        return all(ranked) and all(ranked.values())
    return _responses(conv, parent) == ranked


def _listed(items: list[MessageItem] | None, *, ranked: bool) -> dict[str, str] | None:
    """{message id: model} of the listed messages, or None when they are missing, one is listed
    twice, or an order is not where it should be: none for a selection, 1..n in the order listed
    for a ranking (best first is the usual order; others are checked in detail)."""
    if items is None:
        return None
    listed = {}
    order = 0
    for item in items:
        order += 1
        if item.order != (order if ranked else None):
            return None
        listed[item.message_id] = item.model_config_name
    return listed if len(listed) == order else None


def _classification_ok(
    spec: ClassificationSpec, line: AnnotationLine, conv: IndexedDocument | None, verdict: _Verdict
) -> bool:
    if line.message_evaluation_task is not None or line.classifications is not None:
        return False
    if scope_fault(spec, line.message_id, conv.message_ids if conv is not None else None) is not None:
        return False
    if spec.type == "text" and line.answers is None:  # the commonest answer, without a call
        return text_ok(line.answer)
    _check_answer(verdict, spec, line.answer, line.answers, "")
    return verdict.passed()


def _fast_checks(ontology: OntologyIndex) -> dict[str, tuple[FeatureSpec, FastCheck]]:
    """Feature name -> (feature, its fast path), for the features a fast path can confirm."""
    checks: dict[str, tuple[FeatureSpec, FastCheck]] = {}
    for name, feature in ontology.features.items():
        if isinstance(feature, ClassificationSpec):
            checks[name] = (feature, _classification_ok)
        elif feature.tool in TOOL_FORMATS:
            checks[name] = (feature, _tool_ok)
    return checks
