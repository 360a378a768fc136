"""The row_data document of a multimodal chat evaluation data row (version 2), and its checks.

Shape (wire reference section 10 and Labelbox's own pages)::

    {"type": "application/vnd.labelbox.conversational.model-chat-evaluation", "version": 2,
     "actors": {"<actorId>": {"role": "human"|"model",
                              "metadata": {"name": ..., "modelConfigName": ..., "modelConfigId": ...}}},
     "messages": {"<messageId>": {"actorId": "<actorId>", "content": [<part>, ...],
                                  "childMessageIds": ["<messageId>", ...]}},
     "rootMessageIds": ["<messageId>", ...]}

Content parts are ``{"type": "text", "content": "..."}`` or
``{"type": "fileData", "fileUri": "<url>", "mimeType": "<type>"}``. The file shape is the one in
Labelbox's export sample (seed 000: a prompt with a text part and an ``image/jpeg`` ``fileData``
part with flat ``fileUri``/``mimeType`` keys); neither the SDK nor its tests build file parts, so
that sample is the only evidence and the builder follows it exactly.

The messages form a graph: a human message's children are the competing model responses, and
several responses may share one child (the follow-up of a multi-turn comparison). The checks here
are the ones whose failure Labelbox would only show as a broken editor or a failed import: every
actor and child exists, there is a root, no cycle, every message is reachable, model actors name
their model config (annotations refer to models by that name), no content is empty, file parts
have an allowed MIME type and a fetchable URL, and the encoded document fits the inline limit.

This module knows neither HTTP nor Airflow; the client, the emulator and the operators share it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import msgspec

from airflow_mmc_provider.mmc import media
from airflow_mmc_provider.mmc._shapes import shape_problems
from airflow_mmc_provider.mmc.errors import IssueReport, ValidationError, ValidationIssue

MMC_TYPE: Final = "application/vnd.labelbox.conversational.model-chat-evaluation"
MMC_VERSION: Final = 2
# Labelbox's documented maximum for a conversation uploaded inline (characters of its JSON).
MAX_INLINE_CHARS = 2_621_440

_encoder = msgspec.json.Encoder()


class ActorMetadata(msgspec.Struct, gc=False, rename="camel", omit_defaults=True):
    """Who an actor is: a human's display name, or the model config a model actor stands for."""

    name: str | None = None
    model_config_name: str | None = None
    model_config_id: str | None = None


class Actor(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    role: Literal["human", "model"]
    metadata: ActorMetadata = msgspec.field(default_factory=ActorMetadata)


class TextContent(msgspec.Struct, gc=False, tag_field="type", tag="text", forbid_unknown_fields=True):
    content: str


class FileContent(
    msgspec.Struct, gc=False, tag_field="type", tag="fileData", rename="camel", forbid_unknown_fields=True
):
    file_uri: str
    mime_type: str


ContentPart = TextContent | FileContent


class Message(msgspec.Struct, gc=False, rename="camel", forbid_unknown_fields=True):
    actor_id: str
    content: list[ContentPart]
    child_message_ids: list[str] = msgspec.field(default_factory=list)


class ConversationDocument(msgspec.Struct, gc=False, rename="camel", omit_defaults=True):
    """A whole conversation as Labelbox stores it in `row_data`.

    `draft` appears only in the SDK's live-chat template; it is kept when given and never set by
    the builder. Unknown top-level keys are tolerated (a misspelt required key is still reported
    as missing); actors, messages and content parts are strict, where a typo would silently lose
    data (a misspelt `childMessageIds` would cut the conversation short).
    """

    type: Literal["application/vnd.labelbox.conversational.model-chat-evaluation"]
    version: Literal[2]
    actors: dict[str, Actor]
    messages: dict[str, Message]
    root_message_ids: list[str]
    draft: bool | None = None


@dataclass(frozen=True, slots=True)
class ResponseRef:
    """What an annotation needs to point at one model response.

    `turn` counts comparisons from 0 in conversation order; `parent_message_id` is the human
    message the response answers (the `parentMessageId` of message tools and the `messageId` of
    message-scoped classifications).
    """

    key: str
    turn: int
    model_config_name: str
    message_id: str
    parent_message_id: str


def to_row_data(document: ConversationDocument) -> dict[str, Any]:
    """The JSON-ready dict of a document (what the data-row payload carries)."""
    result: dict[str, Any] = msgspec.to_builtins(document)
    return result


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


# --- reading -------------------------------------------------------------------------------------


def document_response_refs(document: ConversationDocument, key: str = "") -> list[ResponseRef]:
    """Every model response that answers a human message, in breadth-first order from the roots.

    A comparison (one `turn`) is a human message with at least one model child; for documents
    the builder made from records with earlier `history` turns, each answered history turn counts
    as a comparison here too, because a document alone cannot tell them apart.
    """
    refs: list[ResponseRef] = []
    for turn, parent in enumerate(_comparison_parents(document)):
        for child in document.messages[parent].child_message_ids:
            name = _model_name(document, child)
            if name is not None:
                refs.append(ResponseRef(key, turn, name, child, parent))
    return refs


def _comparison_parents(document: ConversationDocument) -> Iterator[str]:
    seen: set[str] = set()
    queue = deque(document.root_message_ids)
    while queue:
        current = queue.popleft()
        if current in seen or current not in document.messages:
            continue
        seen.add(current)
        message = document.messages[current]
        human = _role(document, current) == "human"
        if human and any(_model_name(document, c) is not None for c in message.child_message_ids):
            yield current
        queue.extend(message.child_message_ids)


def _role(document: ConversationDocument, message_id: str) -> str | None:
    message = document.messages.get(message_id)
    actor = document.actors.get(message.actor_id) if message else None
    return actor.role if actor else None


def _model_name(document: ConversationDocument, message_id: str) -> str | None:
    message = document.messages.get(message_id)
    actor = document.actors.get(message.actor_id) if message else None
    if actor is None or actor.role != "model":
        return None
    return actor.metadata.model_config_name


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
