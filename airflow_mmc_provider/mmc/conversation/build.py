"""Conversation records in, Labelbox data-row payloads out (multimodal chat evaluation, row_data v2).

The formats are in `types`, the rules in `checks`, the ids in `ids`.

Payloads
--------
`build_payload` turns a record into the data-row upsert item ``{"row_data", "global_key",
"external_id", "media_type": "CONVERSATIONAL", "metadata_fields", "attachments"}`` (empty
optional keys left out; metadata is name-based, the client resolves schema ids). `iter_payloads`
does this for a stream of JSONL lines with flat memory and collects every problem of the batch
into one `ValidationError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

import msgspec

from airflow_mmc_provider.mmc import media
from airflow_mmc_provider.mmc._shapes import shape_problems
from airflow_mmc_provider.mmc.conversation.checks import (
    ATTACHMENT_TYPES,
    HISTORY_MODEL,
    check_record,
    check_size,
    record_issues,
)
from airflow_mmc_provider.mmc.conversation.document import document_response_refs
from airflow_mmc_provider.mmc.conversation.ids import (
    MAX_GLOBAL_KEY_LENGTH,
    ConversationIds,
    check_prefix,
    check_round_key,
    global_key_for,
    key_prefix,
    model_tag,
)
from airflow_mmc_provider.mmc.conversation.types import (
    MAX_INLINE_CHARS,
    MMC_TYPE,
    MMC_VERSION,
    Attachment,
    ConversationDocument,
    ConversationRecord,
    FileRef,
    HistoryTurn,
    RecordInput,
    ResponseRef,
    Turn,
    Utterance,
)
from airflow_mmc_provider.mmc.errors import IssueReport, ValidationError, ValidationIssue
from airflow_mmc_provider.mmc.jsonl import DECODE_ERRORS, not_json, without_bom

HUMAN_NAME = "User"
MEDIA_TYPE = "CONVERSATIONAL"


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


def build_payload(
    record: ConversationRecord, *, global_key_prefix: str = "", round_key: str = ""
) -> dict[str, Any]:
    """The data-row upsert item of a record; raises `ValidationError` listing its problems."""
    prefix = key_prefix(global_key_prefix, round_key)
    report = IssueReport(record.key_text)
    payload = _payload(record, global_key_for(record.key_text, prefix), report)
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
    except DECODE_ERRORS as exc:
        report.add("", *not_json(exc, raw if isinstance(raw, bytes | str) else None))
        return None
    try:
        untyped = msgspec.json.decode(raw) if isinstance(raw, bytes | str) else dict(raw)
    except DECODE_ERRORS as exc:  # typed decoding can stop before a late syntax error
        report.add("", *not_json(exc, raw if isinstance(raw, bytes | str) else None))
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

    def __init__(self, *, global_key_prefix: str = "", round_key: str = "") -> None:
        self.prefix = key_prefix(global_key_prefix, round_key)
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
    rest, chunk = b"", without_bom(stream.read(chunk_size))  # a file may start with a BOM
    while chunk:
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        yield from lines
        chunk = stream.read(chunk_size)
    if rest:
        yield rest


def iter_payloads(
    records: Iterable[RecordInput],
    *,
    global_key_prefix: str = "",
    round_key: str = "",
    subject: str = "conversations",
) -> Iterator[dict[str, Any]]:
    """Upsert payloads of a stream of records (JSONL lines, dicts or records), in input order.

    Line numbers count from 1 over the iterable; blank lines are skipped (but counted). At the end,
    if any record had a problem, raises one `ValidationError` listing all of them; payloads stop
    as soon as the first problem appears, so a consumer that spools before uploading (as the
    client does) uploads nothing from a bad batch. Global keys: `ids.global_key_for`.
    """
    batch = ConversationBatch(global_key_prefix=global_key_prefix, round_key=round_key)
    for line, raw in enumerate(records, start=1):
        if isinstance(raw, bytes | str) and not raw.strip():
            continue
        payload = batch.add(raw, line)
        if payload is not None:
            yield payload
    batch.raise_if_invalid(subject)


def collect_issues(
    records: Iterable[RecordInput], *, global_key_prefix: str = "", round_key: str = ""
) -> list[ValidationIssue]:
    """Every problem of a batch without raising (a dry run before scheduling an upload)."""
    batch = ConversationBatch(global_key_prefix=global_key_prefix, round_key=round_key)
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
    "check_round_key",
    "collect_issues",
    "global_key_for",
    "iter_payloads",
    "key_prefix",
    "metadata_fields",
    "parse_record",
    "prompt_message_id",
    "read_lines",
    "record_issues",
    "response_ref",
    "response_refs",
]
