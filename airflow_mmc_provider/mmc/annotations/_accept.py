"""`AnnotationValidator._confirm`'s confirmations: a valid line passes with a fraction of the checks' work.

Private to `rules`: its yes/no answers never reach a caller, who sees only what the checks in
`_tool_checks` and `_answer_checks` report. They may refuse a valid line (the checks then find
nothing), never confirm an invalid one; the property tests hold the validator's public answers
to that.
"""

from collections.abc import Callable
from typing import Any

from airflow_mmc_provider.mmc.annotations._line import (
    _MISSING,
    TOOL_FORMATS,
)
from airflow_mmc_provider.mmc.annotations.types import (
    AnnotationLine,
    AnswerObject,
    AnswerValue,
    NestedClassification,
    TaskData,
)
from airflow_mmc_provider.mmc.conversation.index import (
    DocumentView,
)
from airflow_mmc_provider.mmc.ontology.index import (
    ClassificationSpec,
    FeatureSpec,
    NestedScope,
    OntologyIndex,
    ToolSpec,
)

# --- fast paths ----------------------------------------------------------------------------------
# Most lines of an import are valid. These functions confirm that a line passes every rule of the
# detailed checks above with a fraction of their work, or answer False so that the detailed checks
# run and say what is wrong. They may answer False for a valid line (the checks then find nothing),
# never True for an invalid one; the property tests hold them to that. With a conversation, a
# selection or ranking is compared with the parent's responses (`ConversationIndex.prompts`) as a
# whole, in C: a ranking's {message id: model} must equal them, a selection's be included in them.

FastCheck = Callable[[Any, AnnotationLine, "DocumentView | None", bool], bool]


def _tool_ok(tool: ToolSpec, line: AnnotationLine, conv: DocumentView | None, required: bool) -> bool:
    """A plain line of `tool` (no nested classifications), its data shaped for its format, and
    its messages responses of a human parent with their models' names (with a conversation)."""
    task = line.message_evaluation_task
    fmt = tool.tool
    if (
        task is None
        or task.format != fmt
        or line.answer is not None
        or line.answers is not None
        or line.message_id is not None
        or line.classifications is not None
        or (required and tool.nested.required)
    ):
        return False
    data = task.data
    parent = data.parent_message_id
    if not parent:
        return False
    if fmt == "message-single-selection":
        return _single_ok(data, parent, conv)
    if data.message_id is not None or data.model_config_name is not None:
        return False
    if fmt == "message-ranking":
        return _ranking_ok(data, parent, conv)
    return fmt == "message-multi-selection" and _multi_ok(data, parent, conv)


def _single_ok(data: TaskData, parent: str, conv: DocumentView | None) -> bool:
    if data.ranked_messages is not None or data.selected_messages is not None:
        return False
    message_id, model = data.message_id, data.model_config_name
    if not message_id or model is None:
        return False
    if conv is None:
        return bool(model)
    responses = conv.prompts.get(parent)
    if responses is None:
        responses = conv.prompt_responses(parent)
    return responses is not None and responses.get(message_id, _MISSING) == model


def _multi_ok(data: TaskData, parent: str, conv: DocumentView | None) -> bool:
    items = data.selected_messages
    if items is None or data.ranked_messages is not None:
        return False
    chosen = {}
    for item in items:
        if item.order is not None:
            return False
        chosen[item.message_id] = item.model_config_name
    if len(chosen) != len(items):  # a message twice
        return False
    if conv is None:
        return all(chosen) and all(chosen.values())
    responses = conv.prompts.get(parent)
    if responses is None:
        responses = conv.prompt_responses(parent)
    return responses is not None and chosen.items() <= responses.items()


def _ranking_ok(data: TaskData, parent: str, conv: DocumentView | None) -> bool:
    items = data.ranked_messages
    if not items or data.selected_messages is not None:
        return False
    ranked = {}
    order = 0
    for item in items:
        order += 1
        if item.order != order:  # best first is the usual order; others are checked in detail
            return False
        ranked[item.message_id] = item.model_config_name
    if len(ranked) != order:  # a message twice
        return False
    if conv is None:
        return all(ranked) and all(ranked.values())
    responses = conv.prompts.get(parent)
    if responses is None:
        responses = conv.prompt_responses(parent)
    return responses == ranked


def _classification_ok(
    spec: ClassificationSpec, line: AnnotationLine, conv: DocumentView | None, required: bool
) -> bool:
    if (
        line.message_evaluation_task is not None
        or line.classifications is not None
        or line.answers is not None
    ):
        return False
    message_id = line.message_id
    if spec.message_scoped:
        if message_id is None or (conv is not None and message_id not in conv.message_ids):
            return False
    elif message_id is not None:
        return False
    answer = line.answer
    if spec.type == "text":  # the commonest answer, without a call
        return type(answer) is str and bool(answer) and not answer.isspace()
    return _answer_ok(spec, answer, required)


def _answer_ok(spec: ClassificationSpec, answer: AnswerValue | None, required: bool) -> bool:
    kind = spec.type
    if kind == "text":
        return type(answer) is str and bool(answer) and not answer.isspace()
    if kind == "radio":
        return type(answer) is AnswerObject and _option_ok(spec, answer, required) is not None
    if kind != "checklist" or type(answer) is not list or not answer:
        return False
    chosen = set()
    for item in answer:
        value = _option_ok(spec, item, required)
        if value is None or value in chosen:
            return False
        chosen.add(value)
    return True


def _option_ok(spec: ClassificationSpec, answer: AnswerObject, required: bool) -> str | None:
    """The chosen option's value when the option and what is nested under it pass."""
    if answer.schema_id is not None or answer.name is None:
        return None
    option = spec.choices.get(answer.name)
    if option is None:
        return None
    nested = answer.classifications
    if nested is None:
        return None if required and option.nested.required else option.value
    return option.value if _nested_ok(option.nested, nested, required) else None


def _nested_ok(scope: NestedScope, items: list[NestedClassification], required: bool) -> bool:
    seen = set()
    for item in items:
        if item.schema_id is not None or item.answers is not None or item.name is None:
            return False
        spec = scope.by_name.get(item.name)
        if spec is None or spec.name in seen or not _answer_ok(spec, item.answer, required):
            return False
        seen.add(spec.name)
    return not required or seen.issuperset(scope.required)


def _fast_checks(ontology: OntologyIndex) -> dict[str, tuple[FeatureSpec, FastCheck]]:
    """Feature name -> (feature, its fast path), for the features a fast path can confirm."""
    checks: dict[str, tuple[FeatureSpec, FastCheck]] = {}
    for name, feature in ontology.features.items():
        if isinstance(feature, ClassificationSpec):
            checks[name] = (feature, _classification_ok)
        elif feature.tool in TOOL_FORMATS:
            checks[name] = (feature, _tool_ok)
    return checks
