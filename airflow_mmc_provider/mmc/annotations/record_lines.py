"""Annotation records read into encoded lines in one validation pass (`RecordLines`).

One validation pass: a record is read first *trusting* (`RecordLines.lines`): the reader
resolves every model, option and nested classification against the compiled ontology and the
turn's responses, and the few rules resolution does not settle by itself (a ranking covers
every response, no option chosen twice, required nested classifications present, distinct
models) are proven on the way; lines built that way are valid by construction and go to the
validator's import rules only (`AnnotationValidator.admit`: uuids, per-feature limits, required
classifications per row). Anything that does not resolve plainly stops the trusting read, and the
record is read again *checked* (`_RecordReader`): every line through the validator's one entry
point, every problem reported with its record field. So the messages are the validator's, and a
record is never reported by the trusting read.

The trusting read builds typed lines directly with the typed builders' constructors
(`build.task_line`, `build.classification_line`: no dicts, no conversion), sharing one frozen
`DataRowRef` per record and one answer object per plain option, and stamps a record's lines in
one encoder call (`uuids.stamped_lines`): each line is encoded and hashed once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from airflow_mmc_provider.mmc.annotations.build import classification_line, task_line
from airflow_mmc_provider.mmc.annotations.records import AnnotationRecord, _RecordReader
from airflow_mmc_provider.mmc.annotations.rules import AnnotationValidator
from airflow_mmc_provider.mmc.annotations.types import (
    AnnotationLine,
    AnswerObject,
    AnswerValue,
    DataRowRef,
    MessageItem,
    NestedClassification,
    TaskData,
)
from airflow_mmc_provider.mmc.annotations.uuids import stamped_lines
from airflow_mmc_provider.mmc.conversation import ConversationIds, global_key_for
from airflow_mmc_provider.mmc.conversation.build import model_tag
from airflow_mmc_provider.mmc.conversation.index import prompt_responses_of
from airflow_mmc_provider.mmc.ontology.index import ClassificationSpec, NestedScope, OntologyIndex, ToolSpec


class _Refused(Exception):
    """The trusting read met something that does not resolve plainly: read the record checked."""


_REFUSED: Final = _Refused()  # raised often enough on bad files that one instance is kept


class RecordLines:
    """Reads the annotation records of one import into encoded lines (module docstring).

    `lines` gives a record's lines, trusting first and checked when that is refused; problems go
    to the validator's `issues`, as the batch's own do.
    """

    __slots__ = (
        "_lists",
        "_plain",
        "_required",
        "_tags",
        "_usable",
        "ontology",
        "prefix",
        "tools",
        "validator",
    )

    def __init__(
        self, validator: AnnotationValidator, tools: Mapping[str, ToolSpec | str], prefix: str
    ) -> None:
        self.validator = validator
        self.ontology: OntologyIndex = validator.ontology
        self.tools = tools
        self.prefix = prefix
        self._required = validator.check_required
        self._tags: dict[str, str] = {}  # model config name -> its tag in message ids
        # (classification, option as answered) -> the option's answer without nested ones: the
        # lines are encoded as soon as they are built, so they can share these
        self._plain: dict[tuple[ClassificationSpec, str], AnswerObject] = {}
        self._lists: dict[tuple[ClassificationSpec, tuple[str, ...]], list[AnswerObject]] = {}
        self._usable = {  # the tools a trusting read can fill: no required nested classification
            field: tool
            for field, tool in tools.items()
            if type(tool) is ToolSpec and not (self._required and tool.nested.required)
        }

    def lines(self, record: AnnotationRecord, line: int | None) -> list[bytes]:
        """The encoded lines of one record (keys sorted, uuid included)."""
        try:
            return self._trusted(record, line)
        except _Refused:
            return _RecordReader(self, record, line).lines()

    def _trusted(self, record: AnnotationRecord, number: int | None) -> list[bytes]:
        """The record's lines when everything resolves plainly; raises `_Refused` otherwise.

        The hot path of an import from records: each field is resolved by the deterministic ids
        alone and compared with the turn's responses in the document (read once, `_responses`).
        """
        key = record.key if type(record.key) is str else str(record.key)
        global_key = global_key_for(key, self.prefix)
        turn = record.turn
        if not global_key or turn < 0:
            raise _REFUSED
        stem = ConversationIds(key).turn_prefix(turn)
        parent = stem + "prompt"
        responses = self._responses(global_key, parent)
        row = DataRowRef(global_key=global_key)
        built: list[AnnotationLine] = []
        if record.ranking is not None:
            ranked = self._resolved(stem, record.ranking)
            if not ranked or (responses is not None and ranked != responses):
                raise _REFUSED  # every response of the parent, each once with its model's name
            items = [
                MessageItem(message_id=message_id, model_config_name=model, order=order)
                for order, (message_id, model) in enumerate(ranked.items(), start=1)
            ]
            data = TaskData(parent_message_id=parent, ranked_messages=items)
            built.append(task_line(row, self._tool("ranking"), "message-ranking", data))
        if record.best is not None:
            model = record.best
            message_id = self._response(stem, model, responses)
            data = TaskData(parent_message_id=parent, message_id=message_id, model_config_name=model)
            built.append(task_line(row, self._tool("best"), "message-single-selection", data))
        if record.good is not None:
            chosen = self._resolved(stem, record.good)
            if responses is not None and not chosen.items() <= responses.items():
                raise _REFUSED
            items = [MessageItem(message_id=m, model_config_name=n) for m, n in chosen.items()]
            data = TaskData(parent_message_id=parent, selected_messages=items)
            built.append(task_line(row, self._tool("good"), "message-multi-selection", data))
        if record.classifications:
            self._classifications(record.classifications, row, stem, responses, built)
        if record.prompt_classifications:
            features = self.ontology.features
            for name, value in record.prompt_classifications.items():
                spec = features.get(name)
                if type(spec) is not ClassificationSpec or not spec.message_scoped:
                    raise _REFUSED
                built.append(classification_line(row, name, self._answer(spec, value), parent))
        return self._admitted(global_key, built, number)

    def _responses(self, global_key: str, parent: str) -> dict[str, str | None] | None:
        """The model responses of the turn's prompt in the data row's document (message id ->
        model config name); None without documents, refused when the document has no such prompt."""
        documents = self.validator.documents
        if documents is None:
            return None
        responses: dict[str, str | None] | None = None
        raw = documents.get(global_key)
        if type(raw) is dict:  # one question of the document: no index, no cache
            responses = prompt_responses_of(raw, parent)
        elif raw is not None and (conv := self.validator.indexed_document(global_key)) is not None:
            responses = conv.prompts.get(parent)
            if responses is None:
                responses = conv.prompt_responses(parent)
        if responses is None:
            raise _REFUSED
        return responses

    def _classifications(
        self,
        answers: dict[str, Any],
        row: DataRowRef,
        stem: str,
        responses: dict[str, str | None] | None,
        built: list[AnnotationLine],
    ) -> None:
        features, answer, response = self.ontology.features, self._answer, self._response
        for name, value in answers.items():
            spec = features.get(name)
            if type(spec) is not ClassificationSpec:
                raise _REFUSED
            if not spec.message_scoped:
                built.append(classification_line(row, name, answer(spec, value), None))
                continue
            if type(value) is not dict or not value:
                raise _REFUSED
            for model, per_response in value.items():  # models of a JSON object: each once
                message_id = response(stem, model, responses)
                built.append(classification_line(row, name, answer(spec, per_response), message_id))

    def _admitted(self, key: str, built: list[AnnotationLine], number: int | None) -> list[bytes]:
        """The lines encoded with their uuids, once the import rules admit them all."""
        encoded, uuids = stamped_lines(built)
        if not self.validator.admit(key, built, uuids, number):
            raise _REFUSED
        return encoded

    def _tool(self, field: str) -> str:
        """The name of the tool behind a record field, refused when a trusting read cannot fill it."""
        tool = self._usable.get(field)
        if tool is None:
            raise _REFUSED
        return tool.name

    def _tag(self, model: str) -> str:
        """The tag of a model config name in message ids, refused for what is no model name."""
        tag = self._tags.get(model)
        if tag is None:
            if type(model) is not str or not model:
                raise _REFUSED
            tag = self._tags[model] = model_tag(model)
        return tag

    def _response(self, stem: str, model: str, responses: dict[str, str | None] | None) -> str:
        """The message id of `model`'s response in the turn whose ids start with `stem`, refused
        when the document has no such response of the turn's prompt."""
        tag = self._tags.get(model)
        message_id = stem + (tag if tag is not None else self._tag(model))
        if responses is not None and responses.get(message_id) != model:
            raise _REFUSED
        return message_id

    def _resolved(self, stem: str, models: list[str]) -> dict[str, str]:
        """Message id -> model of each of `models` in the turn whose ids start with `stem`, in
        order, by the deterministic ids alone (the caller compares them with the turn's
        responses); refused for a model listed twice."""
        tags = self._tags
        found = {}
        for model in models:
            tag = tags.get(model)
            found[stem + (tag if tag is not None else self._tag(model))] = model
        if len(found) != len(models):
            raise _REFUSED
        return found

    def _answer(self, spec: ClassificationSpec, value: Any) -> AnswerValue:
        kind = spec.type
        if kind == "text":
            if type(value) is not str or not value.strip():
                raise _REFUSED
            return value
        if kind == "radio":
            return self._option(spec, value)
        if kind != "checklist" or type(value) is not list or not value:
            raise _REFUSED
        try:  # options alone, the usual checklist answer: one shared list per choice of options
            known = (spec, tuple(value))
            chosen = self._lists.get(known)
        except TypeError:  # an option with nested classifications (a dict)
            known, chosen = None, None
        if chosen is None:
            chosen = [self._option(spec, item) for item in value]
            if len({option.name for option in chosen}) != len(chosen):
                raise _REFUSED
            if known is not None:
                self._lists[known] = chosen
        return chosen

    def _option(self, spec: ClassificationSpec, value: Any) -> AnswerObject:
        if type(value) is str:  # an option alone, the usual answer: one shared object per option
            plain = self._plain.get((spec, value))
            if plain is not None:
                return plain
        nested: Any = None
        if type(value) is dict:
            if (
                "answer" not in value
                or len(value) > 2
                or (len(value) == 2 and "classifications" not in value)
            ):
                raise _REFUSED
            nested, value = value.get("classifications"), value["answer"]
        option = spec.choices.get(value) if type(value) is str else None
        if option is None:
            raise _REFUSED
        scope = option.nested
        if not nested:
            if self._required and scope.required:
                raise _REFUSED
            plain = self._plain[spec, value] = AnswerObject(name=option.value)
            return plain
        return AnswerObject(name=option.value, classifications=self._nested(scope, nested))

    def _nested(self, scope: NestedScope, nested: Any) -> list[NestedClassification]:
        if type(nested) is not dict:
            raise _REFUSED
        result = []
        for name, value in nested.items():
            spec = scope.by_name.get(name)
            if spec is None:
                raise _REFUSED
            result.append(NestedClassification(name=name, answer=self._answer(spec, value)))
        if self._required and scope.required and not all(r in nested for r in scope.required):
            raise _REFUSED
        return result


__all__ = ["RecordLines"]
