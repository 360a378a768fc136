"""Conversation records in, Labelbox data-row payloads out (multimodal chat evaluation, row_data v2).

Records
-------
Users keep one JSON object per JSONL line and conversation::

    {"key": "conv-0001",
     "history": [{"role": "user", "text": "I am planning a trip."},
                 {"role": "assistant", "text": "Where to?", "model": "gpt-4o"}],
     "prompt": {"text": "Is there a car in this image?",
                "files": [{"uri": "https://example.com/car.jpg", "mime_type": "image/jpeg"}]},
     "responses": {"gpt-4o": "Yes, a white hatchback.",
                   "gemini-1.5": {"text": "Yes.", "files": []}},
     "metadata": {"prompt_category": "vision", "source": "support-tickets", "model_version": "2024-05"},
     "attachments": [{"type": "RAW_TEXT", "value": "Rater guide v3", "name": "guide"}],
     "model_config_ids": {"gpt-4o": "e606593e-def3-4662-9737-3fc4ac412dd3"}}

* ``key`` (string or integer; required): the record's identity. Message ids, actor ids and the
  global key derive from it, so a re-run yields the same documents and upserts, not duplicates.
* Exactly one conversation form:

  - ``prompt`` + ``responses``: one comparison. A prompt or response is a string (text) or
    ``{"text": ..., "files": [{"uri": ..., "mime_type": ...}]}``; ``mime_type`` may be left out
    when the URI ends in a known extension (`media.EXTENSION_MIME_TYPES`). ``responses`` maps
    model config name to response.
  - ``turns``: several comparisons, ``[{"prompt": ..., "responses": {...}}, ...]``. Each turn's
    prompt is the child of *every* response of the turn before, as in Labelbox's restaurant
    sample, where two responses share one follow-up::

        {"key": "wroclaw", "turns": [
           {"prompt": "The best restaurant in Wroclaw",
            "responses": {"GPT 4 with temperature 0.7": "It's impossible to say ...", "GPT 5": "Szynkarnia ..."}},
           {"prompt": "Tell me more",
            "responses": {"GPT 4 with temperature 0.7": "Alright, tell me more ...", "GPT 5": "Sure, ..."}}]}

  - ``row_data``: a ready v2 document, uploaded as given after the checks of `document`.

* ``history`` (optional, prompt/turns forms): earlier turns shown before the first comparison, a
  chain of ``{"role": "user"|"assistant", "text": ..., "files": [...], "model": ...}``; assistant
  turns belong to ``model`` (default ``"assistant"``).
* ``metadata`` (optional): name -> string, number, or list of them (one metadata field per list
  item, as Labelbox wants for multi-valued enums); null values are left out.
* ``attachments`` (optional): ``[{"type": "RAW_TEXT"|"IMAGE"|..., "value": ..., "name": ...}]``.
* ``model_config_ids`` (optional): model config name -> Labelbox model config id, written to the
  model actor's ``modelConfigId``.
* ``external_id`` (optional): defaults to the key.

Ids
---
With ``t`` = the first 12 hex digits of BLAKE2b(key) and ``m`` = the same of the model config
name: the user actor is ``{t}-user``, a model actor ``{t}-model-{m}``, history message ``i`` is
``{t}-h{i}``, the prompt of comparison turn ``n`` is ``{t}-t{n}-prompt`` and a model's response
to it ``{t}-t{n}-{m}``. Annotations can therefore be written from (key, model, turn) alone, see
`response_ref`. Content parts are a text part (when the text is not blank) followed by one
``fileData`` part per file (shape: see `document`).

Global keys
-----------
``global_key_for(key, prefix)``: ``prefix + key`` when that is at most 200 characters (counted in
UTF-16 code units, as Labelbox's limit is enforced, so no key is ever rejected for length);
otherwise its first 183 characters, ``~`` and 16 hex digits of BLAKE2b of the full
``prefix + key``: stable across runs, unique in practice, and still readable.

Payloads
--------
`build_payload` turns a record into the data-row upsert item ``{"row_data", "global_key",
"external_id", "media_type": "CONVERSATIONAL", "metadata_fields", "attachments"}`` (empty
optional keys left out; metadata is name-based, the client resolves schema ids). `iter_payloads`
does this for a stream of JSONL lines with flat memory and collects every problem of the batch
into one `ValidationError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import IO, Any, Literal

import msgspec

from airflow_mmc_provider.mmc import media
from airflow_mmc_provider.mmc._shapes import shape_problems
from airflow_mmc_provider.mmc.conversation.document import (
    MAX_INLINE_CHARS,
    MMC_TYPE,
    MMC_VERSION,
    ConversationDocument,
    ResponseRef,
    check_document,
    check_size,
    document_response_refs,
)
from airflow_mmc_provider.mmc.errors import IssueReport, ValidationError, ValidationIssue

MAX_GLOBAL_KEY_LENGTH = 200
MAX_PREFIX_LENGTH = 100
_HASH_SUFFIX_LENGTH = 17  # "~" + 16 hex digits
HUMAN_NAME = "User"
HISTORY_MODEL = "assistant"
MEDIA_TYPE = "CONVERSATIONAL"
ATTACHMENT_TYPES = frozenset(
    {"AUDIO", "VIDEO", "IMAGE", "IMAGE_OVERLAY", "HTML", "RAW_TEXT", "TEXT_URL", "PDF_URL"}
)
_URL_ATTACHMENT_TYPES = frozenset({"AUDIO", "VIDEO", "IMAGE", "IMAGE_OVERLAY", "TEXT_URL", "PDF_URL"})

# --- the record format ---------------------------------------------------------------------------


class FileRef(msgspec.Struct, gc=False, forbid_unknown_fields=True, frozen=True):
    uri: str
    mime_type: str | None = None


class Utterance(msgspec.Struct, gc=False, forbid_unknown_fields=True, frozen=True):
    """What one side says in one turn: text, files, or both."""

    text: str | None = None
    files: list[FileRef] = []


class HistoryTurn(msgspec.Struct, gc=False, forbid_unknown_fields=True, frozen=True):
    role: Literal["user", "assistant"]
    text: str | None = None
    files: list[FileRef] = []
    model: str | None = None


class Turn(msgspec.Struct, gc=False, forbid_unknown_fields=True, frozen=True):
    prompt: str | Utterance
    responses: dict[str, str | Utterance]


class Attachment(msgspec.Struct, gc=False, forbid_unknown_fields=True, frozen=True):
    type: str
    value: str
    name: str | None = None


MetadataValue = str | int | float | list[str | int | float] | None


class ConversationRecord(msgspec.Struct, gc=False, forbid_unknown_fields=True, frozen=True):
    """One line of a conversations file (format in the module docstring)."""

    key: str | int
    prompt: str | Utterance | None = None
    responses: dict[str, str | Utterance] | None = None
    turns: list[Turn] | None = None
    history: list[HistoryTurn] = []
    row_data: dict[str, Any] | None = None
    metadata: dict[str, MetadataValue] = {}
    attachments: list[Attachment] = []
    model_config_ids: dict[str, str] = {}
    external_id: str | None = None

    @property
    def key_text(self) -> str:
        """The key as a string (integer keys in decimal)."""
        return self.key if isinstance(self.key, str) else str(self.key)

    def comparison_turns(self) -> list[Turn]:
        """The comparisons in order, whichever form the record uses (none for row_data)."""
        if self.turns is not None:
            return self.turns
        if self.prompt is None or self.responses is None:
            return []
        return [Turn(self.prompt, self.responses)]


RecordInput = bytes | str | Mapping[str, Any] | ConversationRecord

# --- ids and global keys -------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def model_tag(name: str) -> str:
    """The 12 hex digits that stand for a model config name in ids (cached: names repeat)."""
    return _digest(name, 6)


def _digest(text: str, size: int) -> str:
    # surrogatepass: a lone surrogate (legal in JSON text) must hash, not crash the batch
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=size).hexdigest()


class ConversationIds:
    """The actor and message ids of a record's document, from its key alone (rule: module doc)."""

    __slots__ = ("key", "tag")

    def __init__(self, key: str) -> None:
        self.key = key
        self.tag = _digest(key, 6)

    @property
    def user_actor(self) -> str:
        return f"{self.tag}-user"

    def model_actor(self, model: str) -> str:
        return self.model_actor_of_tag(model_tag(model))

    def model_actor_of_tag(self, tag: str) -> str:
        return f"{self.tag}-model-{tag}"

    def history(self, index: int) -> str:
        return f"{self.tag}-h{index}"

    def prompt(self, turn: int) -> str:
        return f"{self.turn_prefix(turn)}prompt"

    def response(self, turn: int, model: str) -> str:
        return f"{self.turn_prefix(turn)}{model_tag(model)}"

    def turn_prefix(self, turn: int) -> str:
        """What every message id of comparison `turn` starts with."""
        return f"{self.tag}-t{turn}-"


def global_key_for(key: str | int, prefix: str = "") -> str:
    """The data row's global key (rule: module docstring)."""
    candidate = f"{prefix}{key}"
    if _utf16_length(candidate) <= MAX_GLOBAL_KEY_LENGTH:
        return candidate
    head = _utf16_truncate(candidate, MAX_GLOBAL_KEY_LENGTH - _HASH_SUFFIX_LENGTH)
    return f"{head}~{_digest(candidate, 8)}"


def _utf16_length(text: str) -> int:
    return len(text) if text.isascii() else sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def _utf16_truncate(text: str, units: int) -> str:
    if text.isascii():
        return text[:units]
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            return text[:index]
    return text


def check_prefix(prefix: str) -> None:
    """Reject a global-key prefix that would make keys Labelbox refuses (a caller's mistake)."""
    if prefix != prefix.lstrip():
        raise ValueError("global_key_prefix must not start with white space; Labelbox rejects such keys")
    if len(prefix) > MAX_PREFIX_LENGTH:
        raise ValueError(f"global_key_prefix is {len(prefix)} characters; use at most {MAX_PREFIX_LENGTH}")


# --- resolving responses for annotations ---------------------------------------------------------


def response_refs(record: ConversationRecord) -> list[ResponseRef]:
    """Every model response of a record, in turn order then response order."""
    key = record.key_text
    if record.row_data is not None:
        return document_response_refs(msgspec.convert(record.row_data, ConversationDocument), key)
    ids = ConversationIds(key)
    return [
        ResponseRef(key, turn, model, ids.response(turn, model), ids.prompt(turn))
        for turn, comparison in enumerate(record.comparison_turns())
        for model in comparison.responses
    ]


def response_ref(record: ConversationRecord | str | int, model: str, turn: int = 0) -> ResponseRef:
    """The message ids an annotation needs for `model`'s response in comparison `turn`.

    Given only a key, the ids are derived without checking that the model answered (and only
    for records built from prompt/turns; a ready row_data document keeps its own ids); given a
    record, an unknown model or turn raises `LookupError` naming what the record has.
    """
    if isinstance(record, str | int):
        key = str(record)
        ids = ConversationIds(key)
        return ResponseRef(key, turn, model, ids.response(turn, model), ids.prompt(turn))
    refs = response_refs(record)
    for ref in refs:
        if ref.turn == turn and ref.model_config_name == model:
            return ref
    available = sorted({(r.turn, r.model_config_name) for r in refs})
    raise LookupError(
        f"record {record.key_text!r} has no response of model {model!r} in turn {turn}; "
        f"it has (turn, model): {available}"
    )


def prompt_message_id(record: ConversationRecord | str | int, turn: int = 0) -> str:
    """The human message of comparison `turn` (message-scoped classifications point here)."""
    if isinstance(record, str | int):
        return ConversationIds(str(record)).prompt(turn)
    for ref in response_refs(record):
        if ref.turn == turn:
            return ref.parent_message_id
    raise LookupError(f"record {record.key_text!r} has no comparison turn {turn}")


# --- validation of one record --------------------------------------------------------------------
# These run for every record of a batch, so they check first and format only on failure.


def record_issues(record: ConversationRecord, *, line: int | None = None) -> list[ValidationIssue]:
    """Every problem of a well-typed record, each naming the record, the field and the fix."""
    report = IssueReport(record.key_text, line)
    check_record(record, report)
    return report.issues


def check_record(record: ConversationRecord, report: IssueReport) -> None:
    """`record_issues` into an existing report."""
    _check_key(record.key_text, report)
    _check_form(record, report)
    for index, past in enumerate(record.history):
        _check_history(past, report, index)
    if record.turns is not None:
        for index, turn in enumerate(record.turns):
            _check_turn(turn.prompt, turn.responses, report, f"turns[{index}].")
    elif record.prompt is not None and record.responses is not None:
        _check_turn(record.prompt, record.responses, report, "")
    if record.metadata:
        _check_metadata(record.metadata, report)
    for index, attachment in enumerate(record.attachments):
        _check_attachment(attachment, report, f"attachments[{index}]")
    if record.model_config_ids:
        _check_model_config_ids(record, report)
    if record.row_data is not None:
        check_document(record.row_data, report, "row_data")


def _check_key(key: str, report: IssueReport) -> None:
    if not key.strip():
        report.add("key", "the key is empty", "give every record a unique, stable key")
    elif key[0].isspace() or key[-1].isspace():
        report.add("key", "the key starts or ends with white space, which global keys may not", "strip it")


def _check_form(record: ConversationRecord, report: IssueReport) -> None:
    single = record.prompt is not None or record.responses is not None
    turns, row_data = record.turns is not None, record.row_data is not None
    if single + turns + row_data != 1:
        used = {"prompt": single, "turns": turns, "row_data": row_data}
        _report_forms([name for name, present in used.items() if present], report)
    if single and (record.prompt is None or record.responses is None):
        missing = "prompt" if record.prompt is None else "responses"
        report.add(missing, f"{missing} is missing", "give both prompt and responses")
    if record.turns == []:
        report.add("turns", "turns is empty", "give at least one turn with prompt and responses")
    if record.row_data is not None:
        for name in ("history", "model_config_ids"):
            if getattr(record, name):
                report.add(
                    name, f"{name} does not apply to a ready row_data document", "put it into the document"
                )


def _report_forms(forms: list[str], report: IssueReport) -> None:
    if not forms:
        report.add(
            "prompt", "the record has no conversation", "give prompt and responses, turns, or row_data"
        )
    else:
        report.add(
            forms[1],
            f"the record mixes {' and '.join(forms)}",
            "use exactly one of prompt/responses, turns, row_data",
        )


def _check_turn(
    prompt: str | Utterance, responses: dict[str, str | Utterance], report: IssueReport, prefix: str
) -> None:
    _check_said(prompt, report, f"{prefix}prompt")
    if not responses:
        report.add(f"{prefix}responses", "no responses", "add at least one model's response")
    for model, response in responses.items():
        if type(response) is str and response and not response.isspace() and model and not model.isspace():
            continue  # the common case, decided without formatting a path
        path = f"{prefix}responses[{model!r}]"
        if not model or model.isspace():
            report.add(path, "the model config name is empty", "name the model config that answered")
        _check_said(response, report, path)


def _check_said(said: str | Utterance, report: IssueReport, path: str) -> None:
    if type(said) is str:
        if not said or said.isspace():
            report.add(path, "empty content", "give the text, or leave this entry out")
    elif isinstance(said, Utterance):
        _check_content(said.text, said.files, report, path)


def _check_history(past: HistoryTurn, report: IssueReport, index: int) -> None:
    path = f"history[{index}]"
    _check_content(past.text, past.files, report, path)
    if past.role == "user" and past.model is not None:
        report.add(f"{path}.model", "model is set on a user turn", "remove it or make the role assistant")
    if past.model is not None and not past.model.strip():
        report.add(f"{path}.model", "the model config name is empty", "name the model or leave it out")


def _check_content(text: str | None, files: list[FileRef], report: IssueReport, path: str) -> None:
    if (text is None or not text.strip()) and not files:
        report.add(path, "empty content: no text and no files", "give text, files, or both")
    for index, file in enumerate(files):
        _check_file(file, report, f"{path}.files[{index}]")


def _check_file(file: FileRef, report: IssueReport, path: str) -> None:
    problem = media.uri_problem(file.uri)
    if problem:
        report.add(f"{path}.uri", *problem)
    if media.resolve_mime_type(file.uri, file.mime_type) is not None:
        return
    if file.mime_type is None:
        message = f"no mime_type, and none follows from the URI {file.uri!r}"
    else:
        message = f"unsupported MIME type {file.mime_type!r}"
    report.add(f"{path}.mime_type", message, media.mime_fix())


def _check_metadata(metadata: dict[str, MetadataValue], report: IssueReport) -> None:
    for name in metadata:
        if not name.strip():
            report.add(
                f"metadata[{name!r}]", "a metadata field has no name", "name it as in Labelbox's schema"
            )


def _check_attachment(attachment: Attachment, report: IssueReport, path: str) -> None:
    kind = attachment.type.upper()
    if kind not in ATTACHMENT_TYPES:
        report.add(
            f"{path}.type",
            f"unknown attachment type {attachment.type!r}",
            "use one of " + ", ".join(sorted(ATTACHMENT_TYPES)),
        )
    if not attachment.value.strip():
        report.add(f"{path}.value", "the attachment value is empty", "give its text or URL")
    elif kind in _URL_ATTACHMENT_TYPES and (problem := media.uri_problem(attachment.value)):
        report.add(f"{path}.value", *problem)


def _check_model_config_ids(record: ConversationRecord, report: IssueReport) -> None:
    models = {m for turn in record.comparison_turns() for m in turn.responses}
    models.update(t.model or HISTORY_MODEL for t in record.history if t.role == "assistant")
    for name, config_id in record.model_config_ids.items():
        path = f"model_config_ids[{name!r}]"
        if name not in models:
            known = ", ".join(map(repr, sorted(models))) or "none"
            report.add(path, f"no model named {name!r} answers in this record", f"use one of: {known}")
        if not config_id.strip():
            report.add(path, "the model config id is empty", "give the id or leave the entry out")


# --- building ------------------------------------------------------------------------------------


def build_row_data(record: ConversationRecord) -> dict[str, Any]:
    """The record's v2 document as the upsert payload carries it; raises `ValidationError`."""
    issues = record_issues(record)
    if issues:
        raise ValidationError(issues, subject="conversation record")
    return record.row_data if record.row_data is not None else _Builder(record).build()


def build_document(record: ConversationRecord) -> ConversationDocument:
    """The record's v2 document, typed; raises `ValidationError` if the record has problems."""
    return msgspec.convert(build_row_data(record), ConversationDocument)


class _Builder:
    """Assembles one row_data dict; assumes the record passed `check_record`.

    This is the hot path of a batch, so it writes plain dicts in the shape of
    `ConversationDocument` (tests pin that the two agree) instead of Structs that would then be
    converted, computes per-model ids once per record, and tallies what `size_bound` needs.
    """

    def __init__(self, record: ConversationRecord) -> None:
        self.record = record
        self.ids = ConversationIds(record.key_text)
        self.user = self.ids.user_actor
        self.actors: dict[str, Any] = {self.user: {"role": "human", "metadata": {"name": HUMAN_NAME}}}
        self.messages: dict[str, Any] = {}
        self.roots: list[str] = []
        self.leaves: list[str] = []
        self.models: dict[str, tuple[str, str]] = {}  # name -> (actor id, model tag)
        self.user_chars = 0  # characters of user-given strings in the document
        self.links = 0  # message ids mentioned in childMessageIds

    def build(self) -> dict[str, Any]:
        for index, past in enumerate(self.record.history):
            actor = self.user if past.role == "user" else self._model(past.model or HISTORY_MODEL)[0]
            self._follow_leaves(self.ids.history(index), actor, self._parts(past.text, past.files))
        record = self.record
        if record.turns is not None:
            for turn, comparison in enumerate(record.turns):
                self._comparison(turn, comparison.prompt, comparison.responses)
        elif record.prompt is not None and record.responses is not None:
            self._comparison(0, record.prompt, record.responses)
        return {
            "type": MMC_TYPE,
            "version": MMC_VERSION,
            "actors": self.actors,
            "messages": self.messages,
            "rootMessageIds": self.roots,
        }

    def size_bound(self) -> int:
        """An upper bound of the document's JSON length, to skip encoding documents far below it.

        JSON escaping turns one character into at most six (`\\u001f`); ids, keys and
        punctuation are bounded per message, actor and link.
        """
        structure = len(self.messages) + len(self.actors)
        return 6 * self.user_chars + 400 * structure + 64 * self.links + 256

    def _comparison(self, turn: int, prompt: str | Utterance, responses: dict[str, str | Utterance]) -> None:
        prefix = self.ids.turn_prefix(turn)
        asked = [{"type": "text", "content": prompt}] if type(prompt) is str else self._said(prompt)
        children = self._follow_leaves(prefix + "prompt", self.user, asked)
        messages, models = self.messages, self.models
        chars = 0
        for model, response in responses.items():
            actor_id, tag = models.get(model) or self._model(model)
            if type(response) is str:
                chars += len(response)
                content: list[dict[str, str]] = [{"type": "text", "content": response}]
            else:
                content = self._said(response)
            message_id = prefix + tag
            messages[message_id] = {"actorId": actor_id, "content": content, "childMessageIds": []}
            children.append(message_id)
        self.user_chars += chars
        self.leaves = children
        self.links += len(children)

    def _follow_leaves(self, message_id: str, actor_id: str, content: list[dict[str, str]]) -> list[str]:
        """Add a message that answers every current leaf (or starts the conversation)."""
        children: list[str] = []
        self.messages[message_id] = {"actorId": actor_id, "content": content, "childMessageIds": children}
        for leaf in self.leaves:
            self.messages[leaf]["childMessageIds"].append(message_id)
        self.links += len(self.leaves)
        if not self.leaves:
            self.roots.append(message_id)
        self.leaves = [message_id]
        return children

    def _model(self, name: str) -> tuple[str, str]:
        tag = model_tag(name)
        actor_id = self.ids.model_actor_of_tag(tag)
        metadata = {"modelConfigName": name}
        config_id = self.record.model_config_ids.get(name) if self.record.model_config_ids else None
        if config_id is not None:
            metadata["modelConfigId"] = config_id
        self.actors[actor_id] = {"role": "model", "metadata": metadata}
        self.user_chars += len(name) + len(config_id or "")
        found = self.models[name] = (actor_id, tag)
        return found

    def _said(self, said: str | Utterance) -> list[dict[str, str]]:
        if type(said) is str:
            self.user_chars += len(said)
            return [{"type": "text", "content": said}]
        assert isinstance(said, Utterance)
        return self._parts(said.text, said.files)

    def _parts(self, text: str | None, files: list[FileRef]) -> list[dict[str, str]]:
        parts = []
        if text is not None and text.strip():
            parts.append({"type": "text", "content": text})
            self.user_chars += len(text)
        for file in files:
            mime_type = media.resolve_mime_type(file.uri, file.mime_type)
            if mime_type is None:
                raise ValueError(f"file {file.uri!r} has no allowed MIME type; validate the record first")
            parts.append({"type": "fileData", "fileUri": file.uri, "mimeType": mime_type})
            self.user_chars += len(file.uri) + len(mime_type)
        return parts


# --- payloads ------------------------------------------------------------------------------------

_encoder = msgspec.json.Encoder()


def metadata_fields(record: ConversationRecord) -> list[dict[str, Any]]:
    """Name-based metadata fields; the client resolves names to schema ids."""
    fields: list[dict[str, Any]] = []
    for name, value in record.metadata.items():
        if isinstance(value, list):
            fields.extend({"name": name, "value": item} for item in value)
        elif value is not None:
            fields.append({"name": name, "value": value})
    return fields


def attachments(record: ConversationRecord) -> list[dict[str, Any]]:
    """Attachments in the upsert shape, with the type upper-cased as Labelbox's enum spells it."""
    result: list[dict[str, Any]] = []
    for attachment in record.attachments:
        item = {"type": attachment.type.upper(), "value": attachment.value}
        if attachment.name is not None:
            item["name"] = attachment.name
        result.append(item)
    return result


def build_payload(record: ConversationRecord, *, global_key_prefix: str = "") -> dict[str, Any]:
    """The data-row upsert item of a record; raises `ValidationError` listing its problems."""
    check_prefix(global_key_prefix)
    report = IssueReport(record.key_text)
    payload = _payload(record, global_key_for(record.key_text, global_key_prefix), report)
    if payload is None:
        raise ValidationError(report.issues, subject="conversation record")
    return payload


def _payload(record: ConversationRecord, global_key: str, report: IssueReport) -> dict[str, Any] | None:
    """The payload, or None after adding the record's problems to `report`."""
    check_record(record, report)
    if report.issues:
        return None
    if record.row_data is not None:
        row_data = record.row_data
    else:
        builder = _Builder(record)
        row_data = builder.build()
        if builder.size_bound() > MAX_INLINE_CHARS:
            check_size(_encoder.encode(row_data), report)
            if report.issues:
                return None
    payload: dict[str, Any] = {
        "row_data": row_data,
        "global_key": global_key,
        "external_id": record.external_id if record.external_id is not None else record.key_text,
        "media_type": MEDIA_TYPE,
    }
    if record.metadata and (fields := metadata_fields(record)):
        payload["metadata_fields"] = fields
    if record.attachments:
        payload["attachments"] = attachments(record)
    return payload


# --- parsing and batches -------------------------------------------------------------------------

_decoder = msgspec.json.Decoder(ConversationRecord)


def parse_record(raw: RecordInput, *, line: int | None = None) -> ConversationRecord:
    """A typed record from a JSON line, a dict or a record; raises `ValidationError` on bad shape."""
    report = IssueReport(None, line)
    record = _parse(raw, report)
    if record is None:
        raise ValidationError(report.issues, subject="conversation record")
    return record


def _parse(raw: RecordInput, report: IssueReport) -> ConversationRecord | None:
    """The typed record, or None after reporting why it has none (and setting the report's key)."""
    if isinstance(raw, ConversationRecord):
        return raw
    try:
        if isinstance(raw, bytes | str):
            return _decoder.decode(raw)
        return msgspec.convert(dict(raw), ConversationRecord)
    except msgspec.ValidationError:
        pass  # the slow path below lists every problem, not just msgspec's first
    except msgspec.DecodeError as exc:
        report.add("", f"the line is not valid JSON ({exc})", "fix the JSON syntax of this line")
        return None
    try:
        untyped = msgspec.json.decode(raw) if isinstance(raw, bytes | str) else dict(raw)
    except msgspec.DecodeError as exc:  # typed decoding can stop before a late syntax error
        report.add("", f"the line is not valid JSON ({exc})", "fix the JSON syntax of this line")
        return None
    _report_shape(untyped, report)
    return None


def _report_shape(untyped: Any, report: IssueReport) -> None:
    if not isinstance(untyped, dict):
        report.add("", "the line is not a JSON object", "write one conversation object per line")
        return
    key = untyped.get("key")
    if isinstance(key, str | int) and not isinstance(key, bool):
        report.key = str(key)
    for problem in shape_problems(untyped, ConversationRecord):
        report.add(problem.path, problem.message, problem.fix)


class ConversationBatch:
    """Validates and builds records one at a time, remembering only what duplicate checks need.

    Once a problem has been seen, later records are still validated (so the final error lists
    everything) but no more payloads are produced: a batch with problems must not be uploaded.
    """

    def __init__(self, *, global_key_prefix: str = "") -> None:
        check_prefix(global_key_prefix)
        self.prefix = global_key_prefix
        self.issues: list[ValidationIssue] = []
        self._first_line: dict[str, int] = {}

    def add(self, raw: RecordInput, line: int) -> dict[str, Any] | None:
        """The payload of one record, or None when it (or an earlier record) had a problem."""
        report = IssueReport(None, line)
        record = _parse(raw, report)
        payload = None
        if record is not None:
            report.key = record.key_text
            global_key = self._claim(report)
            payload = _payload(record, global_key, report)
        elif report.key is not None:
            self._claim(report)
        self.issues.extend(report.issues)
        return None if self.issues else payload

    def _claim(self, report: IssueReport) -> str:
        """The record's global key, reporting it if an earlier line already has it."""
        key = str(report.key)
        global_key = global_key_for(key, self.prefix)
        first = self._first_line.setdefault(global_key, report.line or 0)
        if first != report.line:
            report.add(
                "key",
                f"duplicate global key {global_key!r}: line {first} has it too",
                "give each conversation its own key (keys longer than 183 characters must differ early)",
            )
        return global_key

    def raise_if_invalid(self, subject: str = "conversations") -> None:
        if self.issues:
            raise ValidationError(self.issues, subject=subject)


def read_lines(stream: IO[bytes], chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """The lines of a binary stream, read in large chunks.

    Conversation lines run to several kilobytes, where `for line in stream` refills its small
    buffer for nearly every line; splitting megabyte chunks is several times faster. Works on any
    binary file object (local files, `ObjectStoragePath.open("rb")`, HTTP bodies).
    """
    rest = b""
    while chunk := stream.read(chunk_size):
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        yield from lines
    if rest:
        yield rest


def iter_payloads(
    records: Iterable[RecordInput], *, global_key_prefix: str = "", subject: str = "conversations"
) -> Iterator[dict[str, Any]]:
    """Upsert payloads of a stream of records (JSONL lines, dicts or records), in input order.

    Line numbers count from 1 over the iterable; blank lines are skipped (but counted). At the end,
    if any record had a problem, raises one `ValidationError` listing all of them; payloads stop
    as soon as the first problem appears, so a consumer that spools before uploading (as the
    client does) uploads nothing from a bad batch.
    """
    batch = ConversationBatch(global_key_prefix=global_key_prefix)
    for line, raw in enumerate(records, start=1):
        if isinstance(raw, bytes | str) and not raw.strip():
            continue
        payload = batch.add(raw, line)
        if payload is not None:
            yield payload
    batch.raise_if_invalid(subject)


def collect_issues(records: Iterable[RecordInput], *, global_key_prefix: str = "") -> list[ValidationIssue]:
    """Every problem of a batch without raising (a dry run before scheduling an upload)."""
    batch = ConversationBatch(global_key_prefix=global_key_prefix)
    for line, raw in enumerate(records, start=1):
        if not (isinstance(raw, bytes | str) and not raw.strip()):
            batch.add(raw, line)
    return batch.issues


__all__ = [
    "ATTACHMENT_TYPES",
    "HISTORY_MODEL",
    "HUMAN_NAME",
    "MAX_GLOBAL_KEY_LENGTH",
    "MEDIA_TYPE",
    "Attachment",
    "ConversationBatch",
    "ConversationIds",
    "ConversationRecord",
    "FileRef",
    "HistoryTurn",
    "RecordInput",
    "ResponseRef",
    "Turn",
    "Utterance",
    "attachments",
    "build_document",
    "build_payload",
    "build_row_data",
    "check_prefix",
    "check_record",
    "collect_issues",
    "global_key_for",
    "iter_payloads",
    "metadata_fields",
    "parse_record",
    "prompt_message_id",
    "read_lines",
    "record_issues",
    "response_ref",
    "response_refs",
]
