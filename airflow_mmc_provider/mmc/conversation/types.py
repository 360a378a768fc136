"""The conversation formats as msgspec Structs: the record a team uploads and the row_data v2 document.

This is the one definition of both; the builder (`build`), the checks (`checks`), the export reader
and the emulator read and write these types.

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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import msgspec

MMC_TYPE: Final = "application/vnd.labelbox.conversational.model-chat-evaluation"
MMC_VERSION: Final = 2
# Labelbox's documented maximum for a conversation uploaded inline (characters of its JSON).
MAX_INLINE_CHARS = 2_621_440


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


# --- the reading view -----------------------------------------------------------------------------
# A reader of a document it did not build (an export's row_data, a stored data row) needs only who
# wrote each message and what follows it, and must not fail on what it does not know: these are the
# same fields under the same names, every one optional, unknown keys ignored and content skipped.
# `ActorMetadata` is shared: a field added there reaches builders and readers alike.


class ActorView(msgspec.Struct, gc=False):
    role: str | None = None
    metadata: ActorMetadata | None = None


class MessageView(msgspec.Struct, gc=False, rename="camel"):
    actor_id: str | None = None
    child_message_ids: tuple[str, ...] | None = None


class DocumentView(msgspec.Struct, gc=False, rename="camel"):
    """Any row_data v2 document as a reader sees it (see the section comment)."""

    type: str | None = None
    actors: dict[str, ActorView] | None = None
    messages: dict[str, MessageView] | None = None
    root_message_ids: tuple[str, ...] | None = None


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
