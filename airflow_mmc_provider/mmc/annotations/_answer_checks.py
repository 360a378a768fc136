"""The rules of a classification line and of answers at any depth: kinds, options, nesting,
required nested classifications, message scope."""

from typing import Any

from airflow_mmc_provider.mmc.annotations._line import (
    _feature,
    _join,
    _kind,
    _Line,
    _listing,
)
from airflow_mmc_provider.mmc.annotations.types import (
    AnnotationLine,
    AnswerObject,
    AnswerValue,
    NestedClassification,
)
from airflow_mmc_provider.mmc.ontology.index import (
    ClassificationSpec,
    NestedScope,
    OptionSpec,
)

# --- classifications -----------------------------------------------------------------------------


def text_ok(answer: object) -> bool:
    """The rule of a text answer: a string with something besides whitespace."""
    return type(answer) is str and bool(answer) and not answer.isspace()


def scope_fault(spec: ClassificationSpec, message_id: str | None, message_ids: Any) -> str | None:
    """The message-scope rule of a classification line: which part it breaks ("missing" and
    "unknown" for a message-scoped one, "global" for a global one with a messageId), or None.
    `message_ids` are the conversation's (None: unknown, not checked)."""
    if spec.message_scoped:
        if message_id is None:
            return "missing"
        if message_ids is not None and message_id not in message_ids:
            return "unknown"
    elif message_id is not None:
        return "global"
    return None


def _check_classification(ctx: _Line, spec: ClassificationSpec, line: AnnotationLine) -> None:
    if line.message_evaluation_task is not None:
        ctx.add(
            "messageEvaluationTask",
            f"{spec.name!r} is a {spec.type} classification, not a message tool",
            "give answer instead, or the name of a message tool",
        )
    if line.classifications is not None:
        ctx.add(
            "classifications",
            "a classification line carries nested classifications inside its answer, not beside it",
            'move them into answer ({"name": <option>, "classifications": [...]})',
        )
    message_id = line.message_id
    fault = scope_fault(spec, message_id, ctx.conv.message_ids if ctx.conv is not None else None)
    if fault == "missing":
        ctx.add(
            "messageId",
            f"{spec.name!r} is message-scoped, so the line needs messageId",
            "give the id of the message it judges",
        )
    elif fault == "unknown":
        ctx.add(
            "messageId",
            f"message {message_id!r} is not in the conversation",
            "use the id of a message of this data row's conversation",
        )
    elif fault == "global":
        ctx.add(
            "messageId",
            f"{spec.name!r} is a global classification and takes no messageId",
            "remove messageId, or make the classification message-scoped in the ontology",
        )
    _check_answer(ctx, spec, line.answer, line.answers, "")


def _check_answer(
    ctx: _Line,
    spec: ClassificationSpec,
    answer: AnswerValue | None,
    answers: list[AnswerObject] | None,
    path: str,
) -> None:
    """The answer of a classification (a line, or a nested classification at `path`)."""
    kind = spec.type
    key = "answer"
    if answers is not None:
        if kind != "checklist":
            ctx.add(
                _join(path, "answers"), f"answers is for checklists; {spec.name!r} is {kind}", "use answer"
            )
        elif answer is not None:
            ctx.add(
                _join(path, "answers"),
                "both answer and answers are given",
                "give the options once, as answer",
            )
        else:
            answer, key = answers, "answers"
    if kind == "radio":
        if type(answer) is AnswerObject:
            _check_option(ctx, spec, answer, _join(path, key))
            return
        got = "no answer" if answer is None else f"got {_kind(answer)}"
        ctx.add(_join(path, key), f"a radio answer is one option object; {got}", _answer_fix(spec))
    elif kind == "checklist":
        field = _join(path, key)
        if type(answer) is not list or not answer:
            got = (
                "an empty list" if type(answer) is list else ("nothing" if answer is None else _kind(answer))
            )
            ctx.add(field, f"a checklist answer is a non-empty list of options, got {got}", _answer_fix(spec))
            return
        chosen: dict[str, int] = {}
        for index, item in enumerate(answer):
            option = _check_option(ctx, spec, item, field, index)
            if option is not None:
                if option.value in chosen:
                    ctx.add(
                        f"{field}[{index}]",
                        f"option {option.value!r} is chosen twice (also at index {chosen[option.value]})",
                        "choose each option once",
                    )
                chosen.setdefault(option.value, index)
    elif kind == "text":
        if text_ok(answer):
            return
        got = "an empty string" if type(answer) is str else ("nothing" if answer is None else _kind(answer))
        ctx.add(_join(path, key), f"a text answer is a non-empty string, got {got}", "give the text")
    else:
        ctx.add(
            _join(path, "name"),
            f"{spec.name!r} is a {kind!r} classification, which this import does not support",
            "use a radio, checklist or text classification",
        )


def _answer_fix(spec: ClassificationSpec) -> str:
    choices = _listing(spec.option_values())
    if spec.type == "radio":
        return f'give {{"name": <option>}}, one of {choices}'
    return f'give [{{"name": <option>}}, ...] with options from {choices}'


def _check_option(
    ctx: _Line, spec: ClassificationSpec, answer: AnswerObject, field: str, index: int | None = None
) -> OptionSpec | None:
    """The option `answer` chose (at `field`, or ``field[index]``, formatted only when needed)."""
    name = answer.name
    option = spec.choices.get(name) if answer.schema_id is None and name is not None else None
    if option is None:
        path = field if index is None else f"{field}[{index}]"
        option = _feature(ctx, name, answer.schema_id, spec.options_by_id, spec.choices, path, "option")
        if option is None:
            return None
    nested = answer.classifications
    if nested is not None:
        path = field if index is None else f"{field}[{index}]"
        _check_nested(ctx, option.nested, nested, f"{path}.classifications")
    elif ctx.required and option.nested.required:
        path = field if index is None else f"{field}[{index}]"
        _missing_required(ctx, option.nested, f"{path}.classifications", set())
    return option


def _check_nested(ctx: _Line, scope: NestedScope, items: list[NestedClassification], path: str) -> None:
    if items and not scope.by_name:
        ctx.add(path, "the ontology nests no classifications here", "remove them")
        return
    seen: set[str] = set()
    for index, item in enumerate(items):
        item_path = f"{path}[{index}]"
        name = item.name
        spec = scope.by_name.get(name) if item.schema_id is None and name is not None else None
        if spec is None:
            spec = _feature(
                ctx, name, item.schema_id, scope.by_id, scope.by_name, item_path, "nested classification"
            )
            if spec is None:
                continue
        if spec.name in seen:
            ctx.add(
                f"{item_path}.name",
                f"{spec.name!r} is answered twice here",
                "answer each classification once",
            )
        seen.add(spec.name)
        _check_answer(ctx, spec, item.answer, item.answers, item_path)
    if ctx.required and scope.required:
        _missing_required(ctx, scope, path, seen)


def _missing_required(ctx: _Line, scope: NestedScope, path: str, seen: set[str]) -> None:
    for name in scope.required:
        if name not in seen:
            ctx.add(
                path,
                f"the required nested classification {name!r} is missing",
                "answer it, or import without the required check (pre-labels)",
            )
