"""The rules of a conversation record and of a row_data v2 document, each problem named.

The messages form a graph: a human message's children are the competing model responses, and
several responses may share one child (the follow-up of a multi-turn comparison). The checks here
are the ones whose failure Labelbox would only show as a broken editor or a failed import: every
actor and child exists, there is a root, no cycle, every message is reachable, model actors name
their model config (annotations refer to models by that name), no content is empty, file parts
have an allowed MIME type and a fetchable URL, and the encoded document fits the inline limit.

Record rules run for every record of a batch, so they check first and format only on failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from airflow_mmc_provider.mmc import media
from airflow_mmc_provider.mmc._shapes import shape_problems
from airflow_mmc_provider.mmc.conversation.types import (
    MAX_INLINE_CHARS,
    Attachment,
    ConversationDocument,
    ConversationRecord,
    FileRef,
    HistoryTurn,
    MetadataValue,
    Utterance,
)
from airflow_mmc_provider.mmc.errors import IssueReport, ValidationError, ValidationIssue

HISTORY_MODEL = "assistant"
ATTACHMENT_TYPES = frozenset(
    {"AUDIO", "VIDEO", "IMAGE", "IMAGE_OVERLAY", "HTML", "RAW_TEXT", "TEXT_URL", "PDF_URL"}
)
_URL_ATTACHMENT_TYPES = frozenset({"AUDIO", "VIDEO", "IMAGE", "IMAGE_OVERLAY", "TEXT_URL", "PDF_URL"})

_encoder = msgspec.json.Encoder()


def encoded_chars(encoded: bytes) -> int:
    """Characters of UTF-8 JSON; decoding is only needed when the bytes could be over the limit."""
    return len(encoded) if len(encoded) <= MAX_INLINE_CHARS else len(encoded.decode("utf-8"))


def check_size(encoded: bytes, report: IssueReport, field: str = "row_data") -> None:
    """Report an encoded document longer than Labelbox accepts inline."""
    chars = encoded_chars(encoded)
    if chars > MAX_INLINE_CHARS:
        report.add(
            field,
            f"the conversation is {chars:,} characters of JSON; Labelbox accepts at most "
            f"{MAX_INLINE_CHARS:,} inline",
            "shorten or split the conversation, or move long texts into attachments",
        )


# --- validation ---------------------------------------------------------------------------------


def document_issues(
    row_data: Any, *, key: str | None = None, line: int | None = None, field: str = ""
) -> list[ValidationIssue]:
    """Every problem of a row_data document, each naming the record and the field path.

    `field` prefixes the paths (e.g. `row_data` when the document sits inside a record). Shape
    problems (wrong types, unknown keys, unsupported content types) and graph problems are
    reported together; the checks read the raw dict defensively so one does not hide the other.
    """
    report = IssueReport(key, line)
    check_document(row_data, report, field)
    return report.issues


def check_document(row_data: Any, report: IssueReport, field: str = "") -> None:
    """`document_issues` into an existing report."""
    if not isinstance(row_data, Mapping):
        report.add(field or "row_data", "expected a JSON object", "give the v2 document as an object")
        return
    doc = dict(row_data)
    before = len(report.issues)
    for problem in shape_problems(doc, ConversationDocument):
        report.add(_path(field, problem.path), problem.message, problem.fix)
    messages = _dict(doc.get("messages"))
    _check_graph(doc, messages, report, field)
    _check_actors(doc, messages, report, field)
    _check_contents(messages, report, field)
    if len(report.issues) == before:
        check_size(_encoder.encode(doc), report, field or "row_data")


def validate_document(row_data: Any, *, key: str | None = None) -> ConversationDocument:
    """The typed document, or a `ValidationError` listing every problem."""
    issues = document_issues(row_data, key=key)
    if issues:
        raise ValidationError(issues, subject="row_data document")
    return msgspec.convert(row_data, ConversationDocument)


def _check_graph(doc: dict[str, Any], messages: dict[str, Any], report: IssueReport, field: str) -> None:
    if not messages:
        report.add(
            _path(field, "messages"), "the conversation has no messages", "add the prompt and its responses"
        )
        return
    roots = [r for r in _list(doc.get("rootMessageIds")) if isinstance(r, str)]
    if not roots:
        report.add(
            _path(field, "rootMessageIds"),
            "no root message",
            "list the id of the conversation's first message in rootMessageIds",
        )
    for index, root in enumerate(roots):
        if root not in messages:
            report.add(
                _path(field, f"rootMessageIds[{index}]"),
                f"root {root!r} is not a message",
                "use the id of a message in messages",
            )
    _check_children(messages, report, field)
    _check_cycles(messages, report, field)
    _check_reachable(messages, roots, report, field)


def _check_children(messages: dict[str, Any], report: IssueReport, field: str) -> None:
    for message_id, message in messages.items():
        seen: set[str] = set()
        for index, child in enumerate(_children(message)):
            path = _path(field, f"messages[{message_id!r}].childMessageIds[{index}]")
            if child not in messages:
                report.add(path, f"child {child!r} is not a message", "add that message or remove the id")
            elif child in seen:
                report.add(path, f"child {child!r} is listed twice", "list each child once")
            seen.add(child)


def _check_cycles(messages: dict[str, Any], report: IssueReport, field: str) -> None:
    """Depth-first search over all messages (not only roots, so detached cycles are found too)."""
    done: set[str] = set()
    for start in messages:
        if start in done:
            continue
        path = [start]
        on_path = {start}
        pending = [iter(_children(messages[start]))]
        while pending:
            child = next(pending[-1], None)
            if child is None:
                done.add(path[-1])
                on_path.discard(path.pop())
                pending.pop()
            elif child in on_path:
                loop = [*path[path.index(child) :], child]
                report.add(
                    _path(field, f"messages[{path[-1]!r}].childMessageIds"),
                    "messages form a cycle: " + " -> ".join(repr(m) for m in loop),
                    "a reply cannot lead back to an earlier message; remove the id that closes the loop",
                )
            elif child in messages and child not in done:
                path.append(child)
                on_path.add(child)
                pending.append(iter(_children(messages[child])))


def _check_reachable(messages: dict[str, Any], roots: list[str], report: IssueReport, field: str) -> None:
    if not roots:
        return
    reached = set()
    queue = [r for r in roots if r in messages]
    while queue:
        current = queue.pop()
        if current not in reached:
            reached.add(current)
            queue.extend(c for c in _children(messages[current]) if c in messages)
    for message_id in messages:
        if message_id not in reached:
            report.add(
                _path(field, f"messages[{message_id!r}]"),
                "the message is not reachable from rootMessageIds, so raters never see it",
                "list it in its parent's childMessageIds or in rootMessageIds",
            )


def _check_actors(doc: dict[str, Any], messages: dict[str, Any], report: IssueReport, field: str) -> None:
    actors = _dict(doc.get("actors"))
    used_by: dict[str, list[str]] = {}
    for message_id, message in messages.items():
        actor_id = _dict(message).get("actorId")
        if not isinstance(actor_id, str):
            continue
        if actor_id not in actors:
            report.add(
                _path(field, f"messages[{message_id!r}].actorId"),
                f"unknown actor {actor_id!r}",
                "add the actor to actors or use one of " + (", ".join(map(repr, actors)) or "no actor yet"),
            )
        used_by.setdefault(actor_id, []).append(message_id)
    for actor_id, actor in actors.items():
        _check_model_name(actor_id, _dict(actor), used_by.get(actor_id, []), report, field)


def _check_model_name(
    actor_id: str, actor: dict[str, Any], used_by: list[str], report: IssueReport, field: str
) -> None:
    name = _dict(actor.get("metadata")).get("modelConfigName")
    if actor.get("role") != "model" or (isinstance(name, str) and name.strip()):
        return
    users = ", ".join(repr(m) for m in used_by[:3]) + (" ..." if len(used_by) > 3 else "")
    detail = f" (used by messages {users})" if used_by else ""
    report.add(
        _path(field, f"actors[{actor_id!r}].metadata.modelConfigName"),
        f"model actor has no modelConfigName{detail}",
        "set metadata.modelConfigName to the model config's name; annotations refer to models by it",
    )


def _check_contents(messages: dict[str, Any], report: IssueReport, field: str) -> None:
    for message_id, message in messages.items():
        content = _dict(message).get("content")
        path = _path(field, f"messages[{message_id!r}].content")
        if isinstance(content, list) and not content:
            report.add(path, "empty content", "give the message at least one text or file part")
        for index, part in enumerate(_list(content)):
            _check_part(_dict(part), report, f"{path}[{index}]")


def _check_part(part: dict[str, Any], report: IssueReport, path: str) -> None:
    kind = part.get("type")
    if kind == "text" and isinstance(part.get("content"), str) and not part["content"].strip():
        report.add(f"{path}.content", "empty content", "give the text or remove the part")
    if kind != "fileData":
        return
    uri, mime_type = part.get("fileUri"), part.get("mimeType")
    if isinstance(uri, str) and (problem := media.uri_problem(uri)):
        report.add(f"{path}.fileUri", *problem)
    if isinstance(mime_type, str) and media.normalize_mime_type(mime_type) not in media.ALLOWED_MIME_TYPES:
        report.add(f"{path}.mimeType", f"unsupported MIME type {mime_type!r}", media.mime_fix())


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


# --- helpers -------------------------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _children(message: Any) -> list[str]:
    return [c for c in _list(_dict(message).get("childMessageIds")) if isinstance(c, str)]


def _path(prefix: str, path: str) -> str:
    if not prefix:
        return path
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"
