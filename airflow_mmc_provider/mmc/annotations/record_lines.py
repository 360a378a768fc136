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
from airflow_mmc_provider.mmc.annotations.uuids import WITH_UUID, encoder, uuid_hash
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

    __slots__ = ("_plain", "_required", "_tags", "_usable", "ontology", "prefix", "tools", "validator")

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

        The hot path of an import from records: written flat, with the ids of the turn's
        responses compared with the document's in C (`_resolved`).
        """
        key = record.key if type(record.key) is str else str(record.key)
        global_key = global_key_for(key, self.prefix)
        turn = record.turn
        if not global_key or turn < 0:
            raise _REFUSED
        stem = ConversationIds(key).turn_prefix(turn)
        parent = stem + "prompt"
        responses: dict[str, str | None] | None = None
        documents = self.validator.documents
        if documents is not None:
            raw = documents.get(global_key)
            if type(raw) is dict:  # one question of the document: no index, no cache
                responses = prompt_responses_of(raw, parent)
            elif raw is not None and (conv := self.validator.document_view(global_key)) is not None:
                responses = conv.prompts.get(parent)
                if responses is None:
                    responses = conv.prompt_responses(parent)
            if responses is None:
                raise _REFUSED
        row = DataRowRef(global_key=global_key)
        names: list[str] = []
        built: list[AnnotationLine] = []
        tags = self._tags
        if record.ranking is not None:
            tool = self._tool("ranking")
            ranked = _resolved(stem, record.ranking, tags)
            if not ranked or (responses is not None and ranked != responses):
                raise _REFUSED  # every response of the parent, each once with its model's name
            items = [
                MessageItem(message_id=message_id, model_config_name=model, order=order)
                for order, (message_id, model) in enumerate(ranked.items(), start=1)
            ]
            names.append(tool.name)
            built.append(
                task_line(
                    row,
                    tool.name,
                    "message-ranking",
                    TaskData(parent_message_id=parent, ranked_messages=items),
                )
            )
        if record.best is not None:
            tool = self._tool("best")
            chosen = _resolved(stem, [record.best], tags)
            if responses is not None and not chosen.items() <= responses.items():
                raise _REFUSED
            data = TaskData(
                parent_message_id=parent, message_id=next(iter(chosen)), model_config_name=record.best
            )
            names.append(tool.name)
            built.append(task_line(row, tool.name, "message-single-selection", data))
        if record.good is not None:
            tool = self._tool("good")
            chosen = _resolved(stem, record.good, tags)
            if responses is not None and not chosen.items() <= responses.items():
                raise _REFUSED
            items = [MessageItem(message_id=m, model_config_name=n) for m, n in chosen.items()]
            names.append(tool.name)
            built.append(
                task_line(
                    row,
                    tool.name,
                    "message-multi-selection",
                    TaskData(parent_message_id=parent, selected_messages=items),
                )
            )
        if record.classifications:
            self._classifications(record.classifications, row, stem, responses, names, built)
        if record.prompt_classifications:
            features = self.ontology.features
            for name, value in record.prompt_classifications.items():
                spec = features.get(name)
                if type(spec) is not ClassificationSpec or not spec.message_scoped:
                    raise _REFUSED
                names.append(name)
                built.append(classification_line(row, name, self._answer(spec, value), parent))
        return self._admitted(global_key, names, built, number)

    def _classifications(
        self,
        answers: dict[str, Any],
        row: DataRowRef,
        stem: str,
        responses: dict[str, str | None] | None,
        names: list[str],
        built: list[AnnotationLine],
    ) -> None:
        features, answer = self.ontology.features, self._answer
        for name, value in answers.items():
            spec = features.get(name)
            if type(spec) is not ClassificationSpec:
                raise _REFUSED
            if not spec.message_scoped:
                names.append(name)
                built.append(classification_line(row, name, answer(spec, value), None))
                continue
            if type(value) is not dict or not value:
                raise _REFUSED
            chosen = _resolved(stem, list(value), self._tags)
            if responses is not None and not chosen.items() <= responses.items():
                raise _REFUSED
            for message_id, per_response in zip(chosen, value.values(), strict=True):
                names.append(name)
                built.append(classification_line(row, name, answer(spec, per_response), message_id))

    def _admitted(
        self, key: str, names: list[str], built: list[AnnotationLine], number: int | None
    ) -> list[bytes]:
        """The lines encoded with their uuids, once the import rules admit them all."""
        encode, hashed, with_uuid = encoder.encode, uuid_hash, WITH_UUID
        encoded: list[bytes] = []
        uuids: list[str] = []
        for typed in built:
            canonical = encode(typed)
            uuid = hashed(canonical)
            encoded.append(with_uuid % (canonical[:-1], uuid.encode()))
            uuids.append(uuid)
        if not self.validator.admit(key, names, uuids, number):
            raise _REFUSED
        return encoded

    def _tool(self, field: str) -> ToolSpec:
        tool = self._usable.get(field)
        if tool is None:
            raise _REFUSED
        return tool

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
        chosen = [self._option(spec, item) for item in value]
        if len({option.name for option in chosen}) != len(chosen):
            raise _REFUSED
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


def _resolved(stem: str, models: list[str], tags: dict[str, str]) -> dict[str, str]:
    """Message id -> model of each of `models` in the turn whose ids start with `stem`, in order,
    by the deterministic ids alone (the caller compares them with the turn's responses in the
    document); refused for a model listed twice or not a non-empty string."""
    found = {}
    for model in models:
        tag = tags.get(model)
        if tag is None:
            if type(model) is not str or not model:
                raise _REFUSED
            tag = tags[model] = model_tag(model)
        found[stem + tag] = model
    if len(found) != len(models):
        raise _REFUSED
    return found


__all__ = ["RecordLines"]
