"""Export lines of a multimodal chat evaluation project -> typed judgment records, streamed.

Labelbox exports a project as NDJSON, one JSON object per data row (wire reference section 7.5; the
annotation shapes are section 9, the conversation is row_data v2, section 10)::

    {"data_row": {"id", "global_key", "row_data": "<the v2 document as a JSON string, or an object>"},
     "projects": {"<projectId>": {
         "labels": [{"id", "label_details": {"created_by", "created_at"},
                     "annotations": {"objects": [<ranking | single | multi selection>],
                                     "classifications": [<radio | checklist | text, global or message>]}}],
         "project_details": {"batch_id", "workflow_status", ...},
         "project_model_configs": {"model_configs": {"<configId>": {"name": ...}}}}}}

`ExportReader` (and the shortcuts `iter_labels` / `iter_rows`) turns such lines into records;
`ExportReader.from_chunks` (`iter_chunk_rows`) reads downloaded chunks directly, with the same result:

* `ExportRow`: one data row within one project, with its `LabelRecord`s (several under consensus).
* `LabelRecord`: one rater's label: data row id, global key, project id, label id, rater
  (``label_details.created_by``), ``created_at``, workflow status and batch from ``project_details``,
  and the judgments: `Ranking`, `SingleSelection`, `MultiSelection` and `ClassificationAnswer`.

Models
------
Every response in a judgment is a `Response`: message id, model config name (``model``) and its
display ``position`` (index in the parent's ``childMessageIds``; raters see responses in that order).
The model of a message is, in this order: the annotation's ``model_config_name``; the message's
actor in row_data (``metadata.modelConfigName``, else its ``modelConfigId`` looked up in the
project's ``project_model_configs``, else the id itself); the annotation's ``model_config_id``
looked up the same way; else None (reported by the evaluation as an unresolved comparison). Labelbox's
own export sample carries only ids (``model_config_id`` on the annotation, ``modelConfigId`` on the
actor), so this chain is what makes that sample name its models.

The alternatives of a selection (the responses that were *not* chosen) and the unranked responses
of a ranking are the model children of the parent message in row_data. When row_data is a URL (data
rows uploaded by reference) the export does not carry the conversation: pass ``row_data_loader`` to
fetch it, otherwise ``LabelRecord.has_conversation`` is False, alternatives are empty and models
come from the annotations alone.

Classifications
---------------
Each answer is one `ClassificationAnswer`: question (``feature``), ``kind`` (radio, checklist,
text), ``scope`` (``global``, or ``message`` with ``message_id`` and, when that message is a model
response, its ``model``), ``answers`` (radio: one name, checklist: each checked name, text: empty),
``text`` (text answers), and ``path``: the questions and answers above a nested classification,
e.g. ``("Context subject", "Car")`` for a question nested under the answer "Car". Nested answers
inherit their parent's scope. Classifications nested under a message tool get ``message`` scope
on the tool's parent message and the tool's name as ``path``.

Errors
------
Unknown keys are ignored (the service adds fields). A malformed line (not JSON, a known field of
the wrong type, a ranking without its messages, ...) is never skipped silently: by default the
reader raises `ExportError` (a `ValidationError`) naming the line number, data row and field as
soon as it meets one. With ``max_bad_lines=N`` up to N bad lines are skipped and kept in
``reader.issues``; the (N+1)-th raises with all of them. ``max_bad_lines=None`` never raises.
Annotation kinds this module does not know (``ConversationalTextEntity``, future kinds) are not
errors; they are counted in ``reader.skipped``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any, Final, Literal

import msgspec
from msgspec import Struct

from airflow_mmc_provider.mmc.errors import ValidationError, ValidationIssue

__all__ = [
    "ClassificationAnswer",
    "ExportError",
    "ExportReader",
    "ExportRow",
    "LabelRecord",
    "MultiSelection",
    "RankedResponse",
    "Ranking",
    "Response",
    "RowDataLoader",
    "SingleSelection",
    "iter_chunk_rows",
    "iter_labels",
    "iter_rows",
    "parse_line",
    "split_lines",
]

RANKING: Final = "MessageRanking"
SINGLE_SELECTION: Final = "MessageSingleSelection"
MULTI_SELECTION: Final = "MessageMultiSelection"

Scope = Literal["global", "message"]
ClassificationKind = Literal["radio", "checklist", "text"]

# ---------------------------------------------------------------------------------------------
# Output records
# ---------------------------------------------------------------------------------------------


class Response(Struct, frozen=True, gc=False):
    """One model response as a judgment refers to it.

    `model` is the model config name (None when neither the annotation nor the conversation names
    it); `position` is the response's index among its parent's ``childMessageIds``, the order the
    editor shows them in (None when the conversation is unknown or does not list it).
    """

    message_id: str
    model: str | None
    position: int | None = None


class RankedResponse(Struct, frozen=True, gc=False):
    """A ranked response: ``order`` 1 is the best; equal orders are ties."""

    message_id: str
    model: str | None
    order: int
    position: int | None = None


class Ranking(Struct, frozen=True, gc=False):
    """A message ranking of the responses to ``parent_message_id``, best first.

    ``ranked`` is sorted by (order, position). ``unranked`` are the parent's other model responses
    (normally none: the editor makes raters rank every response).
    """

    feature: str
    parent_message_id: str
    ranked: tuple[RankedResponse, ...]
    unranked: tuple[Response, ...] = ()

    @property
    def has_ties(self) -> bool:
        orders = [r.order for r in self.ranked]
        return len(set(orders)) < len(orders)

    @property
    def models(self) -> tuple[str | None, ...]:
        return tuple(r.model for r in self.ranked)


class SingleSelection(Struct, frozen=True, gc=False):
    """The one response chosen among the parent's responses; ``alternatives`` are the others."""

    feature: str
    parent_message_id: str
    selected: Response
    alternatives: tuple[Response, ...] = ()


class MultiSelection(Struct, frozen=True, gc=False):
    """The responses selected among the parent's responses; ``unselected`` are the others."""

    feature: str
    parent_message_id: str
    selected: tuple[Response, ...]
    unselected: tuple[Response, ...] = ()


class ClassificationAnswer(Struct, frozen=True, gc=False):
    """One answered question (see the module docstring for ``scope`` and ``path``)."""

    feature: str
    kind: ClassificationKind
    scope: Scope
    message_id: str | None = None
    model: str | None = None
    answers: tuple[str, ...] = ()
    text: str | None = None
    path: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The question with its ancestors, e.g. ``"Context subject > Car > Why"``."""
        return " > ".join((*self.path, self.feature)) if self.path else self.feature


class LabelRecord(Struct, frozen=True, gc=False):
    """One label (one rater's work on one data row in one project) and its judgments.

    ``line`` is the 1-based export line. ``has_conversation`` tells whether row_data v2 was read
    (alternatives and display positions come from it).
    """

    data_row_id: str
    global_key: str | None
    project_id: str
    label_id: str
    rater: str | None = None
    created_at: str | None = None
    workflow_status: str | None = None
    batch_id: str | None = None
    batch_name: str | None = None
    rankings: tuple[Ranking, ...] = ()
    single_selections: tuple[SingleSelection, ...] = ()
    multi_selections: tuple[MultiSelection, ...] = ()
    classifications: tuple[ClassificationAnswer, ...] = ()
    external_id: str | None = None
    line: int = 0
    has_conversation: bool = False

    @property
    def judgment_count(self) -> int:
        return len(self.rankings) + len(self.single_selections) + len(self.multi_selections)


class ExportRow(Struct, frozen=True, gc=False):
    """One data row within one project: its labels (none when it is not labelled yet)."""

    data_row_id: str
    global_key: str | None
    project_id: str
    labels: tuple[LabelRecord, ...]
    project_name: str | None = None
    workflow_status: str | None = None
    batch_id: str | None = None
    batch_name: str | None = None
    external_id: str | None = None
    line: int = 0
    has_conversation: bool = False


class ExportError(ValidationError):
    """Malformed export lines; ``issues`` name each line (``issue.line``), data row and field."""


# A callable that fetches the row_data of a data row uploaded by URL: (url) -> the document as a
# dict, JSON text or bytes, or None when it cannot be had. Keep it pure from this module's view:
# the caller decides about HTTP, caching and credentials.
RowDataLoader = Callable[[str], Any]

# ---------------------------------------------------------------------------------------------
# Wire shapes (lenient: unknown keys ignored, optional keys nullable)
# ---------------------------------------------------------------------------------------------


class _ActorMetadata(Struct, rename="camel", gc=False):
    model_config_name: str | None = None
    model_config_id: str | None = None


class _Actor(Struct, gc=False):
    role: str | None = None
    metadata: _ActorMetadata | None = None


class _Message(Struct, rename="camel", gc=False):
    actor_id: str | None = None
    child_message_ids: tuple[str, ...] | None = None


class _Document(Struct, rename="camel", gc=False):
    actors: dict[str, _Actor] | None = None
    messages: dict[str, _Message] | None = None


class _MessageRef(Struct, gc=False):
    message_id: str
    model_config_name: str | None = None
    model_config_id: str | None = None
    order: int | None = None


class _RankedMessages(Struct, gc=False):
    parent_message_id: str
    ranked_messages: tuple[_MessageRef, ...]


class _SelectedMessage(Struct, gc=False):
    parent_message_id: str
    message_id: str
    model_config_name: str | None = None
    model_config_id: str | None = None


class _SelectedMessages(Struct, gc=False):
    parent_message_id: str
    messages: tuple[_MessageRef, ...]


class _Answer(Struct, gc=False):
    name: str | None = None
    value: str | None = None
    feature_schema_id: str | None = None
    classifications: tuple[_Classification, ...] | None = None


class _TextAnswer(Struct, gc=False):
    content: str | None = None
    classifications: tuple[_Classification, ...] | None = None


class _Classification(Struct, gc=False):
    name: str | None = None
    value: str | None = None
    feature_schema_id: str | None = None
    message_id: str | None = None
    radio_answer: _Answer | None = None
    checklist_answers: tuple[_Answer, ...] | None = None
    text_answer: _TextAnswer | None = None
    conversational_radio_answer: _Answer | None = None
    conversational_checklist_answers: tuple[_Answer, ...] | None = None
    conversational_text_answer: _TextAnswer | None = None


class _Object(Struct, gc=False):
    name: str | None = None
    value: str | None = None
    feature_schema_id: str | None = None
    annotation_kind: str | None = None
    classifications: tuple[_Classification, ...] | None = None
    ranked_messages: _RankedMessages | None = None
    selected_message: _SelectedMessage | None = None
    selected_messages: _SelectedMessages | None = None


class _Annotations(Struct, gc=False):
    objects: tuple[_Object, ...] | None = None
    classifications: tuple[_Classification, ...] | None = None


class _LabelDetails(Struct, gc=False):
    created_at: str | None = None
    created_by: str | None = None


class _Label(Struct, gc=False):
    id: str
    label_details: _LabelDetails | None = None
    annotations: _Annotations | None = None


class _ProjectDetails(Struct, gc=False):
    batch_id: str | None = None
    batch_name: str | None = None
    workflow_status: str | None = None


class _ModelConfig(Struct, gc=False):
    name: str | None = None


class _ProjectModelConfigs(Struct, gc=False):
    model_configs: dict[str, _ModelConfig] | None = None


class _Project(Struct, gc=False):
    name: str | None = None
    labels: tuple[_Label, ...] | None = None
    project_details: _ProjectDetails | None = None
    project_model_configs: _ProjectModelConfigs | None = None


class _DataRow(Struct, gc=False):
    id: str
    global_key: str | None = None
    external_id: str | None = None
    # The v2 document as a JSON string (decoded again in `_decode_document`), the document itself,
    # or a URL. Decoding the string here spares a second pass over the line's largest value.
    row_data: str | _Document | None = None


class _Line(Struct, gc=False):
    data_row: _DataRow
    projects: dict[str, _Project] | None = None


class _DataRowWithoutRowData(Struct, gc=False):
    id: str
    global_key: str | None = None
    external_id: str | None = None


class _LineWithoutRowData(Struct, gc=False):
    data_row: _DataRowWithoutRowData
    projects: dict[str, _Project] | None = None


_line_decoder = msgspec.json.Decoder(_Line)
_line_without_row_data_decoder = msgspec.json.Decoder(_LineWithoutRowData)
_document_decoder = msgspec.json.Decoder(_Document)

_LINE_FIX = (
    "each line must be one JSON object per data row as Labelbox exports it; re-download a truncated export"
)


class _Problem(Exception):
    """A semantic problem in an otherwise well-formed line (field path, message)."""

    def __init__(self, field: str, message: str, fix: str = _LINE_FIX) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.fix = fix


# ---------------------------------------------------------------------------------------------
# The conversation of one row: message -> model, parent -> responses in display order
# ---------------------------------------------------------------------------------------------


class _Conversation:
    __slots__ = ("_configs", "_responses", "actors", "messages")

    def __init__(self, document: _Document | None, configs: dict[str, _ModelConfig] | None) -> None:
        self.actors = (document.actors or {}) if document is not None else {}
        self.messages = (document.messages or {}) if document is not None else {}
        self._configs = configs or {}
        self._responses: dict[str, tuple[Response, ...]] = {}

    def config_name(self, config_id: str | None) -> str | None:
        if config_id is None:
            return None
        config = self._configs.get(config_id)
        return config.name if config is not None and config.name else config_id

    def actor_model(self, message_id: str) -> str | None:
        """The model config name of a model response, None for human (or unknown) messages."""
        message = self.messages.get(message_id)
        if message is None or message.actor_id is None:
            return None
        actor = self.actors.get(message.actor_id)
        if actor is None or actor.role != "model" or actor.metadata is None:
            return None
        return actor.metadata.model_config_name or self.config_name(actor.metadata.model_config_id)

    def model(self, message_id: str, name: str | None, config_id: str | None) -> str | None:
        return name or self.actor_model(message_id) or self.config_name(config_id)

    def responses(self, parent_id: str) -> tuple[Response, ...]:
        """The model responses to a message, in display order, with their positions."""
        cached = self._responses.get(parent_id)
        if cached is not None:
            return cached
        parent = self.messages.get(parent_id)
        found: list[Response] = []
        if parent is not None:
            for position, child in enumerate(parent.child_message_ids or ()):
                if self._is_model(child):
                    found.append(Response(child, self.actor_model(child), position))
        result = tuple(found)
        self._responses[parent_id] = result
        return result

    def _is_model(self, message_id: str) -> bool:
        message = self.messages.get(message_id)
        if message is None or message.actor_id is None:
            return False
        actor = self.actors.get(message.actor_id)
        return actor is not None and actor.role == "model"

    def position(self, parent_id: str, message_id: str) -> int | None:
        for response in self.responses(parent_id):
            if response.message_id == message_id:
                return response.position
        return None

    def response(self, parent_id: str, ref: _MessageRef | _SelectedMessage) -> Response:
        return Response(
            ref.message_id,
            self.model(ref.message_id, ref.model_config_name, ref.model_config_id),
            self.position(parent_id, ref.message_id),
        )


# ---------------------------------------------------------------------------------------------
# Parsing one line
# ---------------------------------------------------------------------------------------------


def _feature_name(item: _Object | _Classification) -> str:
    return item.name or item.value or item.feature_schema_id or "(unnamed)"


def _answer_name(answer: _Answer) -> str:
    return answer.name or answer.value or answer.feature_schema_id or "(unnamed)"


class _LabelBuilder:
    """Collects the judgments of one label."""

    __slots__ = ("classifications", "conversation", "multi", "rankings", "single", "skipped")

    def __init__(self, conversation: _Conversation, skipped: dict[str, int]) -> None:
        self.conversation = conversation
        self.skipped = skipped
        self.rankings: list[Ranking] = []
        self.single: list[SingleSelection] = []
        self.multi: list[MultiSelection] = []
        self.classifications: list[ClassificationAnswer] = []

    def add_object(self, obj: _Object, field: str) -> None:
        kind = obj.annotation_kind
        if kind is None:  # not sent by the service, but infer it from the payload rather than fail
            if obj.ranked_messages is not None:
                kind = RANKING
            elif obj.selected_message is not None:
                kind = SINGLE_SELECTION
            elif obj.selected_messages is not None:
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

    def _ranking(self, obj: _Object, name: str, field: str) -> str:
        data = obj.ranked_messages
        if data is None:
            raise _Problem(f"{field}.ranked_messages", "a MessageRanking without `ranked_messages`")
        conv = self.conversation
        parent = data.parent_message_id
        ranked: list[RankedResponse] = []
        seen: set[str] = set()
        for index, ref in enumerate(data.ranked_messages):
            if ref.order is None:
                raise _Problem(
                    f"{field}.ranked_messages.ranked_messages[{index}].order",
                    "a ranked message without `order`",
                )
            if ref.message_id in seen:
                raise _Problem(
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

    def _single(self, obj: _Object, name: str, field: str) -> str:
        data = obj.selected_message
        if data is None:
            raise _Problem(f"{field}.selected_message", "a MessageSingleSelection without `selected_message`")
        conv = self.conversation
        parent = data.parent_message_id
        selected = conv.response(parent, data)
        alternatives = tuple(r for r in conv.responses(parent) if r.message_id != data.message_id)
        self.single.append(SingleSelection(name, parent, selected, alternatives))
        return parent

    def _multi(self, obj: _Object, name: str, field: str) -> str:
        data = obj.selected_messages
        if data is None:
            raise _Problem(
                f"{field}.selected_messages", "a MessageMultiSelection without `selected_messages`"
            )
        conv = self.conversation
        parent = data.parent_message_id
        selected = tuple(conv.response(parent, ref) for ref in data.messages)
        chosen = {r.message_id for r in selected}
        unselected = tuple(r for r in conv.responses(parent) if r.message_id not in chosen)
        self.multi.append(MultiSelection(name, parent, selected, unselected))
        return parent

    def add_classification(
        self,
        item: _Classification,
        field: str,
        *,
        scope: Scope | None = None,
        message_id: str | None = None,
        path: tuple[str, ...] = (),
    ) -> None:
        if scope is None:  # top level: the message id decides
            message_id = item.message_id
            scope = "message" if message_id is not None else "global"
        model = self.conversation.actor_model(message_id) if message_id is not None else None
        name = _feature_name(item)
        radio = item.radio_answer or item.conversational_radio_answer
        checklist = (
            item.checklist_answers
            if item.checklist_answers is not None
            else item.conversational_checklist_answers
        )
        text = item.text_answer or item.conversational_text_answer
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
        items: tuple[_Classification, ...] | None,
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


def _decode_document(row_data: str | _Document | None, loader: RowDataLoader | None) -> _Document | None:
    """The conversation of a row: row_data as decoded with the line, or loaded from its URL."""
    if type(row_data) is str and row_data.startswith("{"):  # the usual v2 document, without a call
        try:
            return _document_decoder.decode(row_data)
        except msgspec.DecodeError as exc:
            raise _unreadable_document(str(exc)) from None
    if row_data is None or isinstance(row_data, _Document):
        return row_data
    stripped = row_data.lstrip()
    if stripped.startswith("{"):
        return _decode_document_text(stripped)
    if loader is None or not stripped:
        return None
    loaded = loader(row_data)
    if loaded is None:
        return None
    if isinstance(loaded, (bytes, bytearray, memoryview, str)):
        return _decode_document_text(loaded)
    try:
        return msgspec.convert(loaded, _Document)
    except msgspec.ValidationError as exc:
        raise _Problem("data_row.row_data", f"the loaded row_data is not a v2 conversation: {exc}") from None


def _decode_document_text(text: str | bytes | bytearray | memoryview) -> _Document:
    try:
        return _document_decoder.decode(text)
    except msgspec.DecodeError as exc:
        raise _unreadable_document(str(exc)) from None


def _unreadable_document(reason: str) -> _Problem:
    return _Problem(
        "data_row.row_data",
        f"row_data is not a readable conversation (version 2: actors and messages maps): {reason}",
        "export rows of a multimodal chat evaluation project; row_data must be the v2 document",
    )


_NO_DETAILS = _ProjectDetails()
_NO_LABEL_DETAILS = _LabelDetails()
_NO_ANNOTATIONS = _Annotations()


def _build_rows(
    line: _Line,
    number: int,
    project_ids: Collection[str] | None,
    loader: RowDataLoader | None,
    skipped: dict[str, int],
    row_data_problem: _Problem | None = None,
) -> list[ExportRow]:
    """The rows of one decoded line (one per selected project); raises `_Problem`."""
    projects = line.projects
    if not projects:
        return []
    selected: Iterable[tuple[str, _Project]]
    if project_ids is None:
        selected = projects.items()
    else:
        selected = [(pid, p) for pid, p in projects.items() if pid in project_ids]
        if not selected:
            return []
    if row_data_problem is not None:
        raise row_data_problem
    data_row = line.data_row
    document = _decode_document(data_row.row_data, loader)
    has_conversation = document is not None
    rows: list[ExportRow] = []
    for project_id, project in selected:
        details = project.project_details or _NO_DETAILS
        labels = (
            _build_labels(line, number, project_id, project, details, document, skipped)
            if project.labels
            else ()
        )
        rows.append(
            ExportRow(
                data_row.id,
                data_row.global_key,
                project_id,
                labels,
                project.name,
                details.workflow_status,
                details.batch_id,
                details.batch_name,
                data_row.external_id,
                number,
                has_conversation,
            )
        )
    return rows


def _build_labels(
    line: _Line,
    number: int,
    project_id: str,
    project: _Project,
    details: _ProjectDetails,
    document: _Document | None,
    skipped: dict[str, int],
) -> tuple[LabelRecord, ...]:
    data_row = line.data_row
    configs = project.project_model_configs.model_configs if project.project_model_configs else None
    conversation = _Conversation(document, configs)
    labels: list[LabelRecord] = []
    for label_index, label in enumerate(project.labels or ()):
        field = f"projects[{project_id!r}].labels[{label_index}].annotations"
        builder = _LabelBuilder(conversation, skipped)
        annotations = label.annotations or _NO_ANNOTATIONS
        for index, obj in enumerate(annotations.objects or ()):
            builder.add_object(obj, f"{field}.objects[{index}]")
        for index, item in enumerate(annotations.classifications or ()):
            builder.add_classification(item, f"{field}.classifications[{index}]")
        ld = label.label_details or _NO_LABEL_DETAILS
        labels.append(
            LabelRecord(
                data_row_id=data_row.id,
                global_key=data_row.global_key,
                project_id=project_id,
                label_id=label.id,
                rater=ld.created_by,
                created_at=ld.created_at,
                workflow_status=details.workflow_status,
                batch_id=details.batch_id,
                batch_name=details.batch_name,
                rankings=tuple(builder.rankings),
                single_selections=tuple(builder.single),
                multi_selections=tuple(builder.multi),
                classifications=tuple(builder.classifications),
                external_id=data_row.external_id,
                line=number,
                has_conversation=document is not None,
            )
        )
    return tuple(labels)


def _without_row_data(line: bytes | str, error: msgspec.DecodeError) -> tuple[_Line, _Problem]:
    """A line whose row_data is not a conversation: the rest of it, and the problem to report.

    The problem is only raised when a selected project needs the conversation, as when row_data
    was decoded on demand; any other decoding error is re-raised as it is.
    """
    field, message = _field_of(error)
    if field == "data_row.row_data":
        problem = _Problem(field, "row_data is neither a JSON string nor an object")
    elif field.startswith("data_row.row_data."):
        problem = _unreadable_document(f"{message} - at `$.{field.removeprefix('data_row.row_data.')}`")
    else:
        raise error
    rest = _line_without_row_data_decoder.decode(line)
    row = rest.data_row
    return _Line(_DataRow(row.id, row.global_key, row.external_id), rest.projects), problem


def _field_of(exc: msgspec.DecodeError) -> tuple[str, str]:
    """msgspec's "Expected `str`, got `int` - at `$.data_row.id`" -> ("data_row.id", message)."""
    text = str(exc)
    marker = " - at `$"
    if marker in text:
        message, _, rest = text.partition(marker)
        return rest.rstrip("`").lstrip("."), message
    return "", text


def _row_key(raw: bytes | str) -> str | None:
    """The data row id of a line that failed to parse, when it can still be read."""
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
    data_row = value.get("data_row") if isinstance(value, dict) else None
    row_id = data_row.get("id") if isinstance(data_row, dict) else None
    return row_id if isinstance(row_id, str) else None


def _normalize_projects(project_ids: str | Iterable[str] | None) -> frozenset[str] | None:
    if project_ids is None:
        return None
    if isinstance(project_ids, str):
        return frozenset((project_ids,))
    return frozenset(project_ids)


def parse_line(
    line: bytes | str,
    *,
    line_number: int = 1,
    project_ids: str | Iterable[str] | None = None,
    row_data_loader: RowDataLoader | None = None,
    skipped: dict[str, int] | None = None,
) -> list[ExportRow]:
    """One export line -> its rows (one per selected project), or `ExportError` naming the line."""
    projects = _normalize_projects(project_ids)
    counts = skipped if skipped is not None else {}
    try:
        try:
            decoded, problem = _line_decoder.decode(line), None
        except msgspec.DecodeError as exc:
            decoded, problem = _without_row_data(line, exc)
        return _build_rows(decoded, line_number, projects, row_data_loader, counts, problem)
    except msgspec.DecodeError as exc:
        field, message = _field_of(exc)
        issue = ValidationIssue(
            f"export line {line_number}", field, message, _LINE_FIX, key=_row_key(line), line=line_number
        )
    except _Problem as problem:
        issue = _problem_issue(problem, line_number, _row_key(line))
    raise ExportError([issue], subject="export")


def _problem_issue(problem: _Problem, line_number: int, key: str | None) -> ValidationIssue:
    return ValidationIssue(
        f"export line {line_number}", problem.field, problem.message, problem.fix, key=key, line=line_number
    )


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Downloaded chunks (arbitrary boundaries) -> lines without their ``\\n``."""
    pending = b""
    for chunk in chunks:
        if not chunk:
            continue
        data = pending + chunk if pending else chunk
        parts = data.split(b"\n")
        pending = parts.pop()
        yield from parts
    if pending:
        yield pending


# Lines decoded in one call: a run this size stays in the CPU cache between the two passes over
# it (the line, then the conversation in its row_data); a whole 1 MiB chunk does not, and decodes
# markedly slower than line by line.
_BLOCK_BYTES = 64 * 1024


def _line_blocks(chunks: Iterable[bytes]) -> Iterator[tuple[bytes, int, int]]:
    """Downloaded chunks -> runs of whole lines as ``(data, start, end)``.

    ``data[start:end]`` ends with a newline (except the stream's last line when it has none). A
    line cut by a chunk boundary is joined with its rest (a copy of one line); the lines between a
    chunk's first and last newline are used in place, without a copy, in runs of about
    `_BLOCK_BYTES`.
    """
    carry = b""
    for chunk in chunks:
        last = chunk.rfind(b"\n")
        if last < 0:
            carry += chunk
            continue
        first = 0
        if carry:
            first = chunk.find(b"\n") + 1
            yield carry + chunk[:first], 0, len(carry) + first
        while first <= last:
            stop = chunk.find(b"\n", first + _BLOCK_BYTES, last + 1) + 1 or last + 1
            yield chunk, first, stop
            first = stop
        carry = chunk[last + 1 :]
    if carry:
        yield carry, 0, len(carry)


def _object_lines(data: bytes, start: int, end: int) -> int:
    """How many lines ``data[start:end]`` holds if each starts with ``{``, else 0.

    A newline-only scan (``find`` is a memchr) that also checks the first byte of every line: a
    blank or otherwise odd line sends the block down the line-by-line path.
    """
    find, lines, pos = data.find, 0, start
    while pos < end:
        if data[pos] != 0x7B:  # "{"
            return 0
        lines += 1
        pos = find(b"\n", pos, end) + 1 or end
    return lines


def _decode_block(data: bytes, start: int, end: int) -> tuple[int, list[_Line] | None]:
    """(number of lines, each decoded) for a block; None instead of the list when one call to
    msgspec's ``decode_lines`` would not be exactly one value per line.

    ``decode_lines`` accepts any whitespace between values, so it is only used when every line
    starts with ``{`` (no blank line) and it returns one value per line; otherwise (or on any
    decoding error) the caller reads the block line by line, which names the bad line.
    """
    lines = _object_lines(data, start, end)
    if lines:
        try:
            decoded = _line_decoder.decode_lines(memoryview(data)[start:end])
        except msgspec.DecodeError:
            pass
        else:
            if len(decoded) == lines:
                return lines, decoded
    return data.count(b"\n", start, end) + (data[end - 1 : end] != b"\n"), None


class ExportReader:
    """Streams export lines into `ExportRow` / `LabelRecord` records (one pass, flat memory).

    ``lines`` is any iterable of bytes or str lines: a file opened in binary mode, or
    ``split_lines(chunks)``. ``project_ids`` keeps the given project(s) of each line (default: all).
    ``max_bad_lines``: see the module docstring (0 = raise at the first malformed line, N = skip up
    to N and keep them in ``issues``, None = never raise). ``first_line`` numbers lines when the
    stream resumes mid-file.

    After (or during) iteration: ``lines_read`` (non-blank lines), ``rows_read`` (data rows with at
    least one selected project), ``labels_read``, ``rows_without_labels``, ``bad_lines`` and
    ``issues``, and ``skipped`` (annotation kinds not handled here -> count).
    """

    def __init__(
        self,
        lines: Iterable[bytes | str],
        *,
        project_ids: str | Iterable[str] | None = None,
        max_bad_lines: int | None = 0,
        row_data_loader: RowDataLoader | None = None,
        first_line: int = 1,
    ) -> None:
        if max_bad_lines is not None and max_bad_lines < 0:
            raise ValueError("max_bad_lines must be >= 0 or None")
        self._lines = lines
        self.project_ids = _normalize_projects(project_ids)
        self.max_bad_lines = max_bad_lines
        self.row_data_loader = row_data_loader
        self.first_line = first_line
        self.lines_read = 0
        self.rows_read = 0
        self.labels_read = 0
        self.rows_without_labels = 0
        self.issues: list[ValidationIssue] = []
        self.skipped: dict[str, int] = {}
        self._chunks: Iterable[bytes] | None = None
        self._started = False

    @classmethod
    def from_chunks(cls, chunks: Iterable[bytes], **options: Any) -> ExportReader:
        """A reader over downloaded chunks with arbitrary boundaries (e.g. `Exports.iter_chunks`).

        The records, counters and errors are those of ``ExportReader(split_lines(chunks))``; it
        is faster because each run of whole lines in a chunk is decoded in one call, without a
        bytes object per line.
        """
        reader = cls((), **options)
        reader._chunks = chunks
        return reader

    @property
    def bad_lines(self) -> int:
        return len(self.issues)

    def rows(self) -> Iterator[ExportRow]:
        if self._started:
            raise RuntimeError("an ExportReader reads its lines once")
        self._started = True
        if self._chunks is not None:
            parsed = self._parse_blocks(self._chunks)
        else:
            parsed = self._parse_lines(self._lines, self.first_line)
        # The rows of each good line, counted in this one loop (it runs once per data row, so
        # the counting is not a call of its own).
        for rows in parsed:
            if rows:
                self.rows_read += 1
                for row in rows:
                    if row.labels:
                        self.labels_read += len(row.labels)
                    else:
                        self.rows_without_labels += 1
                    yield row

    def _parse_lines(self, lines: Iterable[bytes | str], first: int) -> Iterator[list[ExportRow]]:
        """The rows of each good line; blank lines are numbered but not read."""
        for number, line in enumerate(lines, first):
            if not line or line.isspace():
                continue
            self.lines_read += 1
            try:
                yield parse_line(
                    line,
                    line_number=number,
                    project_ids=self.project_ids,
                    row_data_loader=self.row_data_loader,
                    skipped=self.skipped,
                )
            except ExportError as exc:
                self._record(exc.issues)

    def _parse_blocks(self, chunks: Iterable[bytes]) -> Iterator[list[ExportRow]]:
        """The rows of each good line, runs of whole lines decoded in one call (see `_line_blocks`)."""
        number = self.first_line
        projects, loader, skipped = self.project_ids, self.row_data_loader, self.skipped
        for data, start, end in _line_blocks(chunks):
            count, decoded = _decode_block(data, start, end)
            if decoded is None:
                lines = data[start:end].split(b"\n")
                if data[end - 1 : end] == b"\n":
                    lines.pop()  # the empty piece after the last newline is not a line
                yield from self._parse_lines(lines, number)
                number += count
                continue
            for line in decoded:
                self.lines_read += 1
                try:
                    yield _build_rows(line, number, projects, loader, skipped)
                except _Problem as problem:
                    self._record([_problem_issue(problem, number, line.data_row.id)])
                number += 1

    def _record(self, issues: Iterable[ValidationIssue]) -> None:
        """Keep the issues of a bad line; raise with all of them once there are too many."""
        self.issues.extend(issues)
        if self.max_bad_lines is not None and len(self.issues) > self.max_bad_lines:
            raise ExportError(self.issues, subject="export") from None

    def labels(self) -> Iterator[LabelRecord]:
        for row in self.rows():
            yield from row.labels

    def __iter__(self) -> Iterator[LabelRecord]:
        return self.labels()


def iter_labels(lines: Iterable[bytes | str], **options: Any) -> Iterator[LabelRecord]:
    """`ExportReader(lines, **options).labels()`."""
    return ExportReader(lines, **options).labels()


def iter_rows(lines: Iterable[bytes | str], **options: Any) -> Iterator[ExportRow]:
    """`ExportReader(lines, **options).rows()`."""
    return ExportReader(lines, **options).rows()


def iter_chunk_rows(chunks: Iterable[bytes], **options: Any) -> Iterator[ExportRow]:
    """`ExportReader.from_chunks(chunks, **options).rows()`: rows straight from downloaded chunks."""
    return ExportReader.from_chunks(chunks, **options).rows()
