"""The judgments of one label: export annotations resolved against the row's conversation.

A response's model and display position come from the conversation (row_data v2, decoded with the
line into `mmc.conversation.types.DocumentView` and read through `conversation.index`, where every
reading of a document lives) and the project's model configs; the rules are in the `reader` module
docstring.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

import airflow_mmc_provider.mmc.export.wire as wire
from airflow_mmc_provider.mmc.conversation.index import ViewDocument
from airflow_mmc_provider.mmc.conversation.types import ActorMetadata, DocumentView
from airflow_mmc_provider.mmc.export.records import (
    ClassificationAnswer,
    MultiSelection,
    RankedResponse,
    Ranking,
    Response,
    Scope,
    SingleSelection,
)

RANKING: Final = "MessageRanking"
SINGLE_SELECTION: Final = "MessageSingleSelection"
MULTI_SELECTION: Final = "MessageMultiSelection"

LINE_FIX = (
    "each line must be one JSON object per data row as Labelbox exports it; re-download a truncated export"
)


class Problem(Exception):
    """A semantic problem in an otherwise well-formed line (field path, message)."""

    def __init__(self, field: str, message: str, fix: str = LINE_FIX) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.fix = fix


class RowConversation:
    """The conversation of one row as the judgments ask it: message -> model, parent -> responses
    in display order. The row's document is read through `ViewDocument` (the lazy form of
    `ConversationIndex` over the view decoded with the line: a label reads a few messages of it)
    and the project's model configs turn a config id into its name."""

    __slots__ = ("_configs", "_document", "_responses")

    def __init__(self, document: DocumentView | None, configs: dict[str, wire.ModelConfig] | None) -> None:
        self._document = ViewDocument(document if document is not None else _NO_DOCUMENT)
        self._configs = configs or {}
        self._responses: dict[str, tuple[Response, ...]] = {}

    def config_name(self, config_id: str | None) -> str | None:
        if config_id is None:
            return None
        config = self._configs.get(config_id)
        return config.name if config is not None and config.name else config_id

    def actor_model(self, message_id: str) -> str | None:
        """The model config name of a model response, None for human (or unknown) messages."""
        actor = self._document.model_response(message_id)
        return self._name(actor) if actor is not None else None

    def _name(self, actor: ActorMetadata) -> str | None:
        """A model actor's config name, else its config id's name in the project."""
        return actor.model_config_name or self.config_name(actor.model_config_id)

    def model(self, message_id: str, name: str | None, config_id: str | None) -> str | None:
        return name or self.actor_model(message_id) or self.config_name(config_id)

    def responses(self, parent_id: str) -> tuple[Response, ...]:
        """The model responses to a message, in display order, with their positions."""
        cached = self._responses.get(parent_id)
        if cached is None:
            found: list[Response] = []
            document = self._document
            for position, child in enumerate(document.children(parent_id)):
                actor = document.model_response(child)
                if actor is not None:
                    found.append(Response(child, self._name(actor), position))
            cached = self._responses[parent_id] = tuple(found)
        return cached

    def position(self, parent_id: str, message_id: str) -> int | None:
        for response in self.responses(parent_id):
            if response.message_id == message_id:
                return response.position
        return None

    def response(self, parent_id: str, ref: wire.ExportMessage) -> Response:
        return Response(
            ref.message_id,
            self.model(ref.message_id, ref.model_config_name, ref.model_config_id),
            self.position(parent_id, ref.message_id),
        )


_NO_DOCUMENT = DocumentView()


def _feature_name(item: wire.ToolObject | wire.Classification) -> str:
    value = item.value if isinstance(item.value, str) else None
    return item.name or value or item.feature_schema_id or "(unnamed)"


def _answer_name(answer: wire.Answer) -> str:
    return answer.name or answer.value or answer.feature_schema_id or "(unnamed)"


class LabelBuilder:
    """Collects the judgments of one label."""

    __slots__ = ("classifications", "conversation", "multi", "rankings", "single", "skipped")

    def __init__(self, conversation: RowConversation, skipped: dict[str, int]) -> None:
        self.conversation = conversation
        self.skipped = skipped
        self.rankings: list[Ranking] = []
        self.single: list[SingleSelection] = []
        self.multi: list[MultiSelection] = []
        self.classifications: list[ClassificationAnswer] = []

    def add_object(self, obj: wire.ToolObject, field: str) -> None:
        kind = obj.annotation_kind
        if kind is None:  # not sent by the service, but infer it from the payload rather than fail
            if wire.given(obj.ranked_messages):
                kind = RANKING
            elif wire.given(obj.selected_message):
                kind = SINGLE_SELECTION
            elif wire.given(obj.selected_messages):
                kind = MULTI_SELECTION
        name = _feature_name(obj)
        parent: str | None = None
        if kind == RANKING:
            parent = self._ranking(obj, name, field)
        elif kind == SINGLE_SELECTION:
            parent = self._single(obj, name, field)
        elif kind == MULTI_SELECTION:
            parent = self._multi(obj, name, field)
        else:
            key = f"object:{kind or 'unknown'}"
            self.skipped[key] = self.skipped.get(key, 0) + 1
            return
        for index, nested in enumerate(obj.classifications or ()):
            self.add_classification(
                nested, f"{field}.classifications[{index}]", scope="message", message_id=parent, path=(name,)
            )

    def _ranking(self, obj: wire.ToolObject, name: str, field: str) -> str:
        data = _required(obj.ranked_messages, wire.RankedMessages, field, "ranked_messages", RANKING)
        conv = self.conversation
        parent = data.parent_message_id
        ranked: list[RankedResponse] = []
        seen: set[str] = set()
        for index, ref in enumerate(data.ranked_messages):
            if ref.order is None:
                raise Problem(
                    f"{field}.ranked_messages.ranked_messages[{index}].order",
                    "a ranked message without `order`",
                )
            if ref.message_id in seen:
                raise Problem(
                    f"{field}.ranked_messages.ranked_messages[{index}].message_id",
                    f"message {ref.message_id!r} is ranked twice",
                )
            seen.add(ref.message_id)
            ranked.append(
                RankedResponse(
                    ref.message_id,
                    conv.model(ref.message_id, ref.model_config_name, ref.model_config_id),
                    ref.order,
                    conv.position(parent, ref.message_id),
                )
            )
        ranked.sort(key=_rank_key)
        unranked = tuple(r for r in conv.responses(parent) if r.message_id not in seen)
        self.rankings.append(Ranking(name, parent, tuple(ranked), unranked))
        return parent

    def _single(self, obj: wire.ToolObject, name: str, field: str) -> str:
        data = _required(
            obj.selected_message, wire.SelectedMessage, field, "selected_message", SINGLE_SELECTION
        )
        parent = data.parent_message_id
        selected, alternatives = self._split(parent, (data,))
        self.single.append(SingleSelection(name, parent, selected[0], alternatives))
        return parent

    def _multi(self, obj: wire.ToolObject, name: str, field: str) -> str:
        data = _required(
            obj.selected_messages, wire.SelectedMessages, field, "selected_messages", MULTI_SELECTION
        )
        parent = data.parent_message_id
        selected, unselected = self._split(parent, data.messages)
        self.multi.append(MultiSelection(name, parent, selected, unselected))
        return parent

    def _split(
        self, parent: str, refs: tuple[wire.ExportMessage, ...]
    ) -> tuple[tuple[Response, ...], tuple[Response, ...]]:
        """The selected responses to `parent`, and its other model responses in display order."""
        selected = tuple(self.conversation.response(parent, ref) for ref in refs)
        chosen = {r.message_id for r in selected}
        return selected, tuple(r for r in self.conversation.responses(parent) if r.message_id not in chosen)

    def add_classification(
        self,
        item: wire.Classification,
        field: str,
        *,
        scope: Scope | None = None,
        message_id: str | None = None,
        path: tuple[str, ...] = (),
    ) -> None:
        if scope is None:  # top level: the message id decides
            message_id = item.message_id if isinstance(item.message_id, str) else None
            scope = "message" if message_id is not None else "global"
        model = self.conversation.actor_model(message_id) if message_id is not None else None
        name = _feature_name(item)
        radio = _first(wire.Answer, item.radio_answer, item.conversational_radio_answer)
        checklist = _first(tuple, item.checklist_answers, item.conversational_checklist_answers)
        text = _first(wire.TextAnswer, item.text_answer, item.conversational_text_answer)
        if radio is not None:
            answer = _answer_name(radio)
            self.classifications.append(
                ClassificationAnswer(name, "radio", scope, message_id, model, (answer,), None, path)
            )
            self._nested(
                radio.classifications, f"{field}.radio_answer", scope, message_id, (*path, name, answer)
            )
        elif checklist is not None:
            names = tuple(_answer_name(a) for a in checklist)
            self.classifications.append(
                ClassificationAnswer(name, "checklist", scope, message_id, model, names, None, path)
            )
            for index, checked in enumerate(checklist):
                self._nested(
                    checked.classifications,
                    f"{field}.checklist_answers[{index}]",
                    scope,
                    message_id,
                    (*path, name, names[index]),
                )
        elif text is not None:
            self.classifications.append(
                ClassificationAnswer(name, "text", scope, message_id, model, (), text.content or "", path)
            )
            self._nested(text.classifications, f"{field}.text_answer", scope, message_id, (*path, name))
        else:
            self.skipped["classification:no answer"] = self.skipped.get("classification:no answer", 0) + 1

    def _nested(
        self,
        items: tuple[wire.Classification, ...] | None,
        field: str,
        scope: Scope,
        message_id: str | None,
        path: tuple[str, ...],
    ) -> None:
        for index, nested in enumerate(items or ()):
            self.add_classification(
                nested, f"{field}.classifications[{index}]", scope=scope, message_id=message_id, path=path
            )


def _rank_key(item: RankedResponse) -> tuple[int, int]:
    return (item.order, item.position if item.position is not None else 1 << 30)


_T = TypeVar("_T")


def _first(kind: type[_T], plain: Any, conversational: Any) -> _T | None:
    """The answer of a global classification, else of a message-scoped one (None when neither)."""
    if isinstance(plain, kind):
        return plain
    return conversational if isinstance(conversational, kind) else None


def _required(value: object, kind: type[_T], field: str, name: str, annotation_kind: str) -> _T:
    """A message tool's payload, or the `Problem` of a tool without it."""
    if not isinstance(value, kind):
        raise Problem(f"{field}.{name}", f"a {annotation_kind} without `{name}`")
    return value
