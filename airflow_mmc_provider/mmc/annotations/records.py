"""Annotation records: JSONL written against conversation records, read into typed lines.

One JSON object per line and comparison, naming models instead of message ids::

    {"key": "conv-0001",
     "ranking": ["gpt-4o", "claude"],
     "best": "gpt-4o",
     "good": ["gpt-4o"],
     "classifications": {"Overall quality": "good",
                         "Issues": ["verbosity"],
                         "Reason": "More specific.",
                         "Response quality": {"gpt-4o": "good", "claude": "bad"}}}

* ``key`` (required): the conversation record's key; the data row is its global key
  (`conversation.global_key_for` with the batch's ``global_key_prefix``).
* ``turn`` (default 0): which comparison of a multi-turn conversation; one line per turn.
* ``ranking``: model config names, best first, every model of the turn once -> the message-ranking
  tool. ``best``: one model -> the single-selection tool. ``good``: models (``[]`` = none) -> the
  multi-selection tool. Which tools these are is `FeatureNames`; by default the ontology's only
  tool of each kind.
* ``classifications``: ontology classification name -> answer. Radio: the option (value or
  label). Checklist: a list of options. Text: the string. An option with nested classifications
  is ``{"answer": "<option>", "classifications": {<name>: <answer>, ...}}``, to any depth.
  A message-scoped classification is answered per response: ``{"<model>": <answer>, ...}``.
* ``prompt_classifications``: message-scoped classifications of the turn's prompt (the human
  message), ``{<name>: <answer>}``.

Models resolve to message ids through the conversation builder's deterministic ids; when the
data row's document is given, through the document, so ready-made ``row_data`` works too.

The checked reading is here (`_RecordReader`: every line through the validator, problems
named by record field); `record_lines` reads trusting first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

import msgspec

from airflow_mmc_provider.mmc.annotations.build import LabelLines
from airflow_mmc_provider.mmc.annotations.rules import AnnotationValidator, line_issue
from airflow_mmc_provider.mmc.annotations.types import (
    AnnotationLine,
    AnswerObject,
    AnswerValue,
    NestedClassification,
)
from airflow_mmc_provider.mmc.annotations.uuids import canonical_line
from airflow_mmc_provider.mmc.conversation import ConversationIds, global_key_for
from airflow_mmc_provider.mmc.conversation.index import ConversationIndex
from airflow_mmc_provider.mmc.ontology.index import ClassificationSpec, NestedScope, OntologyIndex, ToolSpec


class AnnotationRecord(msgspec.Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    """One line of an annotations file written against conversation records (module docstring)."""

    key: str | int
    turn: int = 0
    ranking: list[str] | None = None
    best: str | None = None
    good: list[str] | None = None
    classifications: dict[str, Any] = {}
    prompt_classifications: dict[str, Any] = {}

    @property
    def key_text(self) -> str:
        return self.key if isinstance(self.key, str) else str(self.key)


@dataclass(frozen=True)
class FeatureNames:
    """The ontology tools behind a record's ``ranking``, ``best`` and ``good``.

    None means the ontology's only tool of that kind (message-ranking, message-single-selection,
    message-multi-selection).
    """

    ranking: str | None = None
    best: str | None = None
    good: str | None = None


_RECORD_TOOLS = (
    ("ranking", "message-ranking"),
    ("best", "message-single-selection"),
    ("good", "message-multi-selection"),
)
record_decoder: Final = msgspec.json.Decoder(AnnotationRecord)
_untyped_decoder = msgspec.json.Decoder()


def record_tools(ontology: OntologyIndex, names: FeatureNames) -> dict[str, ToolSpec | str]:
    """Record field -> its tool, or why there is none (reported when a record uses the field)."""
    tools: dict[str, ToolSpec | str] = {}
    for field, kind in _RECORD_TOOLS:
        chosen = getattr(names, field)
        if chosen is not None:
            feature = ontology.features.get(chosen)
            if not isinstance(feature, ToolSpec) or feature.tool != kind:
                raise ValueError(f"FeatureNames.{field}: the ontology has no {kind} tool named {chosen!r}")
            tools[field] = feature
            continue
        candidates = ontology.tools_of(kind)
        if len(candidates) == 1:
            tools[field] = candidates[0]
        elif candidates:
            listed = ", ".join(repr(t.name) for t in candidates)
            tools[field] = (
                f"the ontology has several {kind} tools ({listed}); choose one with FeatureNames({field}=...)"
            )
        else:
            tools[field] = f"the ontology has no {kind} tool"
    return tools


class _RecordReader:
    """The lines of one annotation record, resolving models to message ids, every line checked
    by the validator and every problem reported with its record field (the checked mode)."""

    def __init__(self, batch: RecordOwner, record: AnnotationRecord, line: int | None) -> None:
        self.batch = batch
        self.record = record
        self.line = line
        self.key = record.key_text
        self.global_key = global_key_for(self.key, batch.prefix)
        self.ids = ConversationIds(self.key)
        self.turn = record.turn
        self.lines_out: list[bytes] = []
        self.conv: ConversationIndex | None = None
        self.label = LabelLines(global_key=self.global_key)

    def lines(self) -> list[bytes]:
        batch, record = self.batch, self.record
        validator = batch.validator
        if validator.documents is not None:
            self.conv = validator.conversation(self.global_key)
            if self.conv is None:
                self.issue(
                    "key",
                    f"data row {self.global_key!r} is not among the conversations given for validation",
                    "check the key and the global key prefix, or add the conversation's document",
                )
                return []
        if record.turn < 0:
            self.issue("turn", f"turn is {record.turn}", "count comparison turns from 0")
            return []
        if record.ranking is not None:
            self._ranking(record.ranking)
        if record.best is not None:
            self._best(record.best)
        if record.good is not None:
            self._good(record.good)
        for name, value in record.classifications.items():
            self._classification(name, value, f"classifications[{name!r}]", prompt=False)
        for name, value in record.prompt_classifications.items():
            self._classification(name, value, f"prompt_classifications[{name!r}]", prompt=True)
        return self.lines_out

    def issue(self, field: str, message: str, fix: str, annotation: str | None = None) -> None:
        self.batch.validator.issues.append(
            line_issue(self.line, self.global_key, annotation, field, message, fix)
        )

    def emit(self, typed: AnnotationLine, origin: str) -> None:
        self.lines_out.extend(emit_checked(self.batch.validator, typed, self.line, self.conv, origin))

    # --- resolution ------------------------------------------------------------------------------

    def response(
        self, model: str, field: str, annotation: str, index: int | None = None
    ) -> tuple[str, str] | None:
        """(message id, parent id) of `model`'s response in the record's turn.

        Problems are reported at `field`, or ``field[index]`` (formatted only then).
        """
        message_id = self.ids.response(self.turn, model)
        parent = self.ids.prompt(self.turn)
        conv = self.conv
        if conv is None or (
            conv.models.get(message_id) == model and message_id in conv.children.get(parent, ())
        ):
            return message_id, parent
        if index is not None:
            field = f"{field}[{index}]"
        turns = conv.turns()
        if self.turn < len(turns):
            parent, answers = turns[self.turn]
            if model in answers:
                return answers[model], parent
            listed = ", ".join(map(repr, answers))
            self.issue(
                field,
                f"model {model!r} has no response in turn {self.turn} of {self.key!r}",
                f"use one of the models of that turn: {listed}",
                annotation,
            )
        else:
            self._no_turn(field, annotation, len(turns))
        return None

    def prompt(self, field: str, annotation: str) -> str | None:
        parent = self.ids.prompt(self.turn)
        conv = self.conv
        if conv is None or conv.roles.get(parent) == "human":
            return parent
        turns = conv.turns()
        if self.turn < len(turns):
            return turns[self.turn][0]
        self._no_turn(field, annotation, len(turns))
        return None

    def _no_turn(self, field: str, annotation: str, count: int) -> None:
        self.issue(
            "turn" if field == "turn" else field,
            f"the conversation {self.key!r} has {count} comparison turn(s); turn {self.turn} does not exist",
            f"use a turn from 0 to {count - 1}" if count else "check the conversation has model responses",
            annotation,
        )

    def _tool(self, field: str) -> ToolSpec | None:
        tool = self.batch.tools[field]
        if isinstance(tool, str):
            self.issue(field, tool, "add the tool to the ontology, or set FeatureNames")
            return None
        return tool

    def _models(
        self, models: list[str], field: str, annotation: str
    ) -> tuple[list[tuple[str, str]], str | None] | None:
        """(message id, model) of each model's response and the parent of the first, or None
        after reporting a model listed twice or without a response in the turn."""
        resolved: list[tuple[str, str]] = []
        parent: str | None = None
        seen: set[str] = set()
        ok = True
        for index, model in enumerate(models):
            if model in seen:
                self.issue(
                    f"{field}[{index}]",
                    f"model {model!r} is listed twice",
                    "list each model once",
                    annotation,
                )
                ok = False
                continue
            seen.add(model)
            found = self.response(model, field, annotation, index)
            if found is None:
                ok = False
            else:
                resolved.append((found[0], model))
                if parent is None:
                    parent = found[1]
        return (resolved, parent) if ok else None

    # --- tools -----------------------------------------------------------------------------------

    def _ranking(self, models: list[str]) -> None:
        tool = self._tool("ranking")
        if tool is None:
            return
        if not models:
            self.issue("ranking", "the ranking is empty", "list the turn's models, best first", tool.name)
            return
        resolved = self._models(models, "ranking", tool.name)
        if resolved is not None:
            pairs, parent = resolved
            self.emit(self.label.message_ranking(tool.name, pairs, parent_message_id=parent), "ranking")

    def _best(self, model: str) -> None:
        tool = self._tool("best")
        if tool is None:
            return
        found = self.response(model, "best", tool.name)
        if found is not None:
            message_id, parent = found
            self.emit(
                self.label.single_selection(tool.name, (message_id, model), parent_message_id=parent), "best"
            )

    def _good(self, models: list[str]) -> None:
        tool = self._tool("good")
        if tool is None:
            return
        resolved = self._models(models, "good", tool.name)
        if resolved is None:
            return
        pairs, parent = resolved
        if parent is None:
            parent = self.prompt("good", tool.name)
        if parent is not None:
            self.emit(self.label.multi_selection(tool.name, pairs, parent_message_id=parent), "good")

    # --- classifications -------------------------------------------------------------------------

    def _classification(self, name: str, value: Any, field: str, *, prompt: bool) -> None:
        spec = self.batch.ontology.features.get(name)
        if not isinstance(spec, ClassificationSpec):
            problem = (
                f"{name!r} is a message tool, not a classification"
                if spec is not None
                else f"the ontology has no classification named {name!r}"
            )
            names = [n for n, f in self.batch.ontology.features.items() if isinstance(f, ClassificationSpec)]
            fix = "use ranking/best/good for tools" if spec is not None else "use one of " + _names(names)
            self.issue(field, problem, fix, name)
            return
        if prompt:
            if not spec.message_scoped:
                self.issue(
                    field,
                    f"{name!r} is a global classification; prompt_classifications are message-scoped",
                    "move it to classifications",
                    name,
                )
                return
            message_id = self.prompt(field, name)
            answer = _Answers(self, name).answer(spec, value, field)
            if message_id is not None and answer is not None:
                self.emit(self._classified(spec, answer, message_id), field)
        elif spec.message_scoped:
            if not isinstance(value, Mapping) or not value:
                self.issue(
                    field,
                    f"{name!r} is message-scoped; answer it per response",
                    'give {"<model>": <answer>, ...}, or use prompt_classifications for the prompt',
                    name,
                )
                return
            for model, per_response in value.items():
                path = f"{field}[{model!r}]"
                found = self.response(str(model), path, name)
                answer = _Answers(self, name).answer(spec, per_response, path)
                if found is not None and answer is not None:
                    self.emit(self._classified(spec, answer, found[0]), path)
        else:
            answer = _Answers(self, name).answer(spec, value, field)
            if answer is not None:
                self.emit(self._classified(spec, answer, None), field)

    def _classified(self, spec: ClassificationSpec, answer: Any, message_id: str | None) -> AnnotationLine:
        if spec.type == "text":
            return self.label.text(spec.name, answer, message_id=message_id)
        if spec.type == "radio":
            return self.label.radio(spec.name, answer, message_id=message_id)
        return self.label.checklist(spec.name, answer, message_id=message_id)


class _Answers:
    """Record answers -> typed classification answers, reporting with record paths."""

    def __init__(self, reader: _RecordReader, annotation: str) -> None:
        self.reader = reader
        self.annotation = annotation
        self.ok = True

    def issue(self, field: str, message: str, fix: str) -> None:
        self.ok = False
        self.reader.issue(field, message, fix, self.annotation)

    def answer(self, spec: ClassificationSpec, value: Any, path: str) -> AnswerValue | None:
        """The classification's answer (text, option or options), or None after reporting why not."""
        result = self._answer(spec, value, path)
        return result if self.ok else None

    def _answer(self, spec: ClassificationSpec, value: Any, path: str) -> Any:
        if spec.type == "text":
            if not isinstance(value, str) or not value.strip():
                self.issue(
                    path, f"{spec.name!r} is a text classification: give a non-empty string", "write the text"
                )
            return value
        if spec.type == "radio":
            if isinstance(value, list):
                self.issue(path, f"{spec.name!r} is a radio classification: give one option", self._fix(spec))
                return None
            return self._option(spec, value, path)
        if spec.type == "checklist":
            if not isinstance(value, list) or not value:
                self.issue(
                    path,
                    f"{spec.name!r} is a checklist classification: give a non-empty list",
                    self._fix(spec),
                )
                return None
            return [self._option(spec, item, f"{path}[{i}]") for i, item in enumerate(value)]
        self.issue(
            path, f"{spec.name!r} is a {spec.type!r} classification, which is not supported", "remove it"
        )
        return None

    def _option(self, spec: ClassificationSpec, value: Any, path: str) -> AnswerObject | None:
        nested: Any = None
        if isinstance(value, Mapping):
            unknown = [k for k in value if k not in ("answer", "classifications")]
            if unknown or "answer" not in value:
                self.issue(
                    path,
                    'an option with nested classifications is {"answer": <option>, "classifications": {...}}',
                    "write it in that form" + (f" (unknown keys: {unknown})" if unknown else ""),
                )
                return None
            nested, value = value.get("classifications"), value["answer"]
            path = f"{path}.answer"
        if not isinstance(value, str):
            self.issue(path, f"an option is named by a string, got {type(value).__name__}", self._fix(spec))
            return None
        option = spec.choices.get(value)
        if option is None:
            self.issue(path, f"{spec.name!r} has no option {value!r}", self._fix(spec))
            return None
        if not nested:
            return AnswerObject(name=option.value)
        classifications = self._nested(option.nested, nested, path.removesuffix(".answer"))
        return AnswerObject(name=option.value, classifications=classifications)

    def _nested(self, scope: NestedScope, nested: Any, path: str) -> list[NestedClassification]:
        at = f"{path}.classifications"
        if not isinstance(nested, Mapping):
            self.issue(at, "nested classifications are {<name>: <answer>, ...}", "write them as an object")
            return []
        result = []
        for name, value in nested.items():
            spec = scope.by_name.get(name)
            if spec is None:
                self.issue(
                    f"{at}[{name!r}]",
                    f"no classification {name!r} is nested under this option",
                    "use one of "
                    + (_names(scope.by_name) or "none (the option has no nested classifications)"),
                )
                continue
            answer = self._answer(spec, value, f"{at}[{name!r}]")
            result.append(NestedClassification(name=spec.name, answer=answer))
        return result

    @staticmethod
    def _fix(spec: ClassificationSpec) -> str:
        return "use one of " + _names(spec.option_values())


def _names(names: Iterable[str]) -> str:
    listed = list(names)
    shown = ", ".join(map(repr, listed[:8]))
    return shown + (", ..." if len(listed) > 8 else "")


class RecordOwner(Protocol):
    """What the checked reader needs of its owner (`record_lines.RecordLines`)."""

    validator: AnnotationValidator
    ontology: OntologyIndex
    tools: Mapping[str, ToolSpec | str]
    prefix: str


def emit_checked(
    validator: AnnotationValidator, typed: AnnotationLine, line: int | None, document: Any, origin: str
) -> list[bytes]:
    """The encoded line, checked by the validator's one entry point (`check_line`)."""
    encoded, uuid = canonical_line(typed)
    validator.check_line(typed, line, uuid=None if typed.uuid else uuid, document=document, origin=origin)
    return [encoded]


__all__ = [
    "AnnotationRecord",
    "FeatureNames",
    "RecordOwner",
    "emit_checked",
    "record_decoder",
    "record_tools",
]
