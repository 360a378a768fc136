"""Labels: annotations kept in their import (NDJSON) form and rendered in the export's shapes.

A label is one rater's (or one import's) set of annotations on one data row in one project. They
are stored as the NDJSON lines arrived (wire reference 8), so imports and simulated raters write the
same thing, and are rendered only when exported, into the shapes of wire reference 9 and the seed's
sample export line:

* message tools go to ``objects`` with ``annotation_kind`` ``MessageSingleSelection`` /
  ``MessageMultiSelection`` / ``MessageRanking`` and ``selected_message`` / ``selected_messages`` /
  ``ranked_messages`` (each message with ``message_id``, ``model_config_name`` and, when the row's
  actor has one, ``model_config_id``);
* classifications go to ``classifications``: ``radio_answer`` / ``checklist_answers`` /
  ``text_answer`` when global, ``message_id`` plus ``conversational_radio_answer`` /
  ``conversational_checklist_answers`` / ``conversational_text_answer`` when message-scoped; nested
  classifications sit in each answer's ``classifications`` list, in the same shapes.

Every object, classification and answer carries ``feature_schema_id`` (from the ontology) and
``feature_id`` (the instance id: derived from the label id and the annotation's uuid and path, so
repeated exports agree). ``value`` of a classification is its name in snake case (the docs sample:
"Context subject" -> ``context_subject``); ``value`` of an option is the option's value and its
``name`` the option's label.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import msgspec

from airflow_mmc_provider.mmc.annotations.types import MessageItem
from airflow_mmc_provider.mmc.export import wire
from airflow_mmc_provider.mmc.ontology.index import ClassificationSpec, NestedScope, OntologyIndex

TOOL_KINDS = {
    "message-single-selection": "MessageSingleSelection",
    "message-multi-selection": "MessageMultiSelection",
    "message-ranking": "MessageRanking",
}


@dataclass(frozen=True)
class StoredLabel:
    id: str
    project_id: str
    data_row_id: str
    annotations: list[dict[str, Any]]
    created_by: str
    seconds_to_create: float
    skipped: bool
    created_at: str
    updated_at: str


def snake(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def derived_id(*parts: str) -> str:
    """A 25-character cuid-like id that is always the same for the same parts."""
    return "c" + hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:24]  # noqa: S324 - not security


class Renderer:
    """Renders one label's NDJSON annotations for one row as the export's Structs (`mmc.export.wire`).

    The Structs are looked up on the `wire` module when a label is rendered, so the writer always
    builds the one definition the reader decodes.
    """

    def __init__(self, ontology: OntologyIndex, label_id: str, config_ids: Mapping[str, str]) -> None:
        self.ontology = ontology
        self.label_id = label_id
        self.config_ids = config_ids  # message id -> modelConfigId of its actor

    def annotations(self, lines: Iterable[Mapping[str, Any]]) -> wire.Annotations:
        objects: list[wire.ToolObject] = []
        classifications: list[wire.Classification] = []
        for position, line in enumerate(lines):
            key = str(line.get("uuid") or position)
            if "messageEvaluationTask" in line:
                objects.append(self._tool(line, key))
            else:
                feature = self.ontology.classification_for(line.get("name"), line.get("schemaId"))
                classifications.append(self._classification(line, feature, key))
        return wire.Annotations(
            objects=tuple(objects), classifications=tuple(classifications), relationships=()
        )

    def _feature_id(self, *path: str) -> str:
        return derived_id(self.label_id, *path)

    def _tool(self, line: Mapping[str, Any], key: str) -> wire.ToolObject:
        tool = self.ontology.tool_for(line.get("name"), line.get("schemaId"))
        task = line["messageEvaluationTask"]
        data: Mapping[str, Any] = task.get("data") or {}
        kind = task.get("format")
        nested = tool.nested if tool is not None else None
        rendered = wire.ToolObject(
            feature_id=self._feature_id(key),
            feature_schema_id=(tool.schema_id if tool else None) or line.get("schemaId"),
            name=(tool.name if tool else None) or line.get("name"),
            annotation_kind=TOOL_KINDS.get(str(kind), str(kind)),
            classifications=tuple(
                self._classification(c, _nested(nested, c), key, str(i), nested=True)
                for i, c in enumerate(line.get("classifications") or [])
            ),
        )
        parent = cast(str, data.get("parentMessageId"))  # required by the import rules
        if kind == "message-single-selection":
            rendered.selected_message = wire.SelectedMessage(**self._message(data), parent_message_id=parent)
        elif kind == "message-multi-selection":
            messages = tuple(
                wire.ExportMessage(**self._message(m)) for m in data.get("selectedMessages") or []
            )
            rendered.selected_messages = wire.SelectedMessages(messages=messages, parent_message_id=parent)
        else:
            ranked = tuple(
                wire.ExportMessage(**self._message(m))
                for m in sorted(data.get("rankedMessages") or [], key=lambda m: m.get("order") or 0)
            )
            rendered.ranked_messages = wire.RankedMessages(ranked_messages=ranked, parent_message_id=parent)
        return rendered

    def _message(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """The fields of an export message item from an import one, field by field of the one
        definition (`MessageItem`, of which `wire.ExportMessage` is the snake_case form), so a field
        added there is carried; the model config id comes from the row's actor."""
        fields = {name: item.get(key) for name, key in _MESSAGE_FIELDS}
        fields["model_config_id"] = self.config_ids.get(str(item.get("messageId"))) or None
        return fields

    def _classification(
        self,
        line: Mapping[str, Any],
        feature: ClassificationSpec | None,
        *path: str,
        nested: bool = False,
    ) -> wire.Classification:
        name = (feature.name or feature.instructions if feature else None) or line.get("name") or ""
        rendered = wire.Classification(
            feature_id=self._feature_id(*path),
            feature_schema_id=(feature.schema_id if feature else None) or line.get("schemaId"),
            name=name,
            value=snake(str(name)),
        )
        scoped = not nested and line.get("messageId") is not None
        prefix = "conversational_" if scoped else ""
        if scoped:
            rendered.message_id = line["messageId"]
        answer = line.get("answer", line.get("answers"))
        if isinstance(answer, str):
            setattr(rendered, prefix + "text_answer", wire.TextAnswer(content=answer, classifications=()))
        elif isinstance(answer, list):
            checked = tuple(
                self._answer(feature, a, *path, str(i))
                for i, a in enumerate(answer)
                if isinstance(a, Mapping)
            )
            setattr(rendered, prefix + "checklist_answers", checked)
        elif isinstance(answer, Mapping):
            setattr(rendered, prefix + "radio_answer", self._answer(feature, answer, *path, "0"))
        return rendered

    def _answer(
        self, feature: ClassificationSpec | None, answer: Mapping[str, Any], *path: str
    ) -> wire.Answer:
        option = feature.find_option(answer.get("name"), answer.get("schemaId")) if feature else None
        nested = option.nested if option is not None else None
        return wire.Answer(
            feature_id=self._feature_id(*path, "answer"),
            feature_schema_id=(option.schema_id if option else None) or answer.get("schemaId"),
            name=(option.label if option else None) or answer.get("name"),
            value=(option.value if option else None) or answer.get("name"),
            classifications=tuple(
                self._classification(c, _nested(nested, c), *path, "nested", str(i), nested=True)
                for i, c in enumerate(answer.get("classifications") or [])
                if isinstance(c, Mapping)
            ),
        )


def _nested(scope: NestedScope | None, line: Mapping[str, Any]) -> ClassificationSpec | None:
    """The nested classification a line's classification names in `scope` (None: unknown)."""
    return scope.find(line.get("name"), line.get("schemaId")) if scope is not None else None


# (export name, import name) of each field of a message item.
_MESSAGE_FIELDS = tuple((f.name, f.encode_name) for f in msgspec.structs.fields(MessageItem))
