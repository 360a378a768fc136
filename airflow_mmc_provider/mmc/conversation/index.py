"""The one index of a row_data v2 conversation document: what every reader of it asks.

A document (`types.ConversationDocument`, wire reference 10) is a graph of messages: a human
message's children are the competing model responses. The annotation rules, the record reader,
`document.document_response_refs` and the emulator (its raters, its export writer) ask the same
questions of it: each message's role and model (config name and id), its children and its parent,
its text, each human message's model responses, and the comparisons (turns) in order.
`ConversationIndex` answers them, built in one pass. Two lazy forms answer the same questions
where building it for every row would cost more than the work itself, each held to the index's
answers by a property test: `RowDocument`, for the hot path of an import, reads only the prompts a
line names from a dict document and builds the full index only when a check needs more;
`ViewDocument`, for the export reader, reads the document decoded with the export line into
`types.DocumentView` (content skipped, no dict made) message by message, for the parents a label
names. `IndexedDocument` is either form as the import's fast paths take it.

Every reading of a row_data graph is in this module: these three, and `prompt_responses_of`
(`RowDocument`'s one question, asked once per record by the record reader). The others go through
them: the emulator's raters and export writer through `stored_row_index`, the builders'
`document.document_response_refs` through the index, the annotation rules through
`IndexedDocument`, the export's judgments through `ViewDocument`. Outside it is only decoding:
`types.DocumentView` (with `document.document_view`) is the typed reading of the wire format.

Built defensively from the raw dict, so a document with problems still indexes (what is missing
simply fails the checks that need it).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

from airflow_mmc_provider.mmc.conversation.types import (
    ActorMetadata,
    ConversationDocument,
    DocumentView,
)


class ConversationIndex:
    """A row_data document, indexed: per message its actor's role (`roles`), its model config
    name (`models`, model messages only) and its children; per human message its model
    responses (`prompts`); on demand the comparisons by turn, each message's parent, its model
    config id and its text (read from the `document` kept beside the index).
    """

    __slots__ = (
        "_parents",
        "_responses",
        "_turns",
        "children",
        "document",
        "message_ids",
        "models",
        "prompts",
        "roles",
        "roots",
    )

    def __init__(
        self,
        roles: dict[str, str | None],
        models: dict[str, str | None],
        children: dict[str, list[str]],
        roots: list[str],
        prompts: dict[str, dict[str, str | None]] | None = None,
    ) -> None:
        self.roles = roles
        self.message_ids: Mapping[str, Any] = roles  # what the fast paths ask (as `RowDocument`)
        self.models = models
        self.children = children
        self.roots = roots
        if prompts is None:
            humans = [message_id for message_id, role in roles.items() if role == "human"]
            prompts = _prompts(humans, models, children)
        self.prompts = prompts
        self._responses: dict[str, list[str]] = {}
        self._turns: list[tuple[str, dict[str, str]]] | None = None
        self._parents: dict[str, str] | None = None
        self.document: Mapping[str, Any] = {}

    @classmethod
    def from_row_data(cls, row_data: Any) -> ConversationIndex:
        """From a row_data dict, its JSON text, or a `ConversationDocument`.

        Raises `TypeError` for anything that is not a JSON object and `msgspec.DecodeError` for
        text that is not JSON (a row_data given by URL has no document here: pass None instead).
        """
        if type(row_data) is dict:
            try:
                return cls._well_formed(row_data)
            except (AttributeError, KeyError, TypeError):
                return cls._defensive(row_data)
        if isinstance(row_data, ConversationDocument):
            row_data = msgspec.to_builtins(row_data)
        elif isinstance(row_data, str | bytes):
            row_data = msgspec.json.decode(row_data)
        if not isinstance(row_data, Mapping):
            raise TypeError(f"row_data must be a JSON object (dict), got {type(row_data).__name__}")
        try:
            return cls._well_formed(row_data)
        except (AttributeError, KeyError, TypeError):
            return cls._defensive(row_data)

    @classmethod
    def _well_formed(cls, document: Mapping[str, Any]) -> ConversationIndex:
        """`_defensive`'s index in one pass, for a document of the documented shape; raises on
        anything else (every type `_defensive` would filter is checked), so both agree (held to
        the documented reading, whichever of the two runs, by a property test of `from_row_data`).

        Every data row of an import is indexed once, so this pass is part of the import's cost.
        """
        actors = document["actors"]
        messages = document["messages"]
        roots = document["rootMessageIds"]
        if type(actors) is not dict or type(messages) is not dict or type(roots) is not list:
            raise TypeError("actors and messages are objects, rootMessageIds a list")
        "".join(roots)  # raises TypeError unless every id is a string (as `_defensive` keeps them)
        roles: dict[str, str | None] = {}
        models: dict[str, str | None] = {}
        children: dict[str, list[str]] = {}
        humans = []
        for message_id, message in messages.items():
            actor_id = message["actorId"]
            if type(actor_id) is not str:
                raise TypeError("actorId is a string")
            actor = actors[actor_id]
            role = roles[message_id] = actor["role"]
            if role == "model":
                name = models[message_id] = actor["metadata"]["modelConfigName"]
                if type(name) is not str:
                    raise TypeError("modelConfigName is a string")
            elif role == "human":
                humans.append(message_id)
            elif type(role) is not str:
                raise TypeError("role is a string")
            kids = children[message_id] = message["childMessageIds"]  # the document's own list
            if type(kids) is not list:
                raise TypeError("childMessageIds is a list")
            if kids:
                "".join(kids)  # raises TypeError unless every id is a string
        index = cls(roles, models, children, roots, _prompts(humans, models, children))
        index.document = document
        return index

    @classmethod
    def _defensive(cls, document: Mapping[str, Any]) -> ConversationIndex:
        """The index of a document with problems: what is missing fails the checks that need it."""
        actors = _mapping(document.get("actors"))
        messages = _mapping(document.get("messages"))
        roles: dict[str, str | None] = {}
        models: dict[str, str | None] = {}
        children: dict[str, list[str]] = {}
        for message_id, message in messages.items():
            message = _mapping(message)
            actor_id = message.get("actorId")
            actor = _mapping(actors.get(actor_id)) if isinstance(actor_id, str) else {}
            role = actor.get("role")
            roles[message_id] = role if isinstance(role, str) else None
            if role == "model":
                name = _mapping(actor.get("metadata")).get("modelConfigName")
                models[message_id] = name if isinstance(name, str) else None
            kids = message.get("childMessageIds")
            children[message_id] = [k for k in kids if isinstance(k, str)] if isinstance(kids, list) else []
        raw_roots = document.get("rootMessageIds")
        roots = [r for r in raw_roots if isinstance(r, str)] if isinstance(raw_roots, list) else []
        index = cls(roles, models, children, roots)
        index.document = document
        return index

    def prompt_responses(self, parent: str) -> dict[str, str | None] | None:
        """`prompts` of `parent` (None: not a human message); `prompts` is complete here."""
        return self.prompts.get(parent)

    def responses(self, parent: str) -> list[str]:
        """The model responses among the children of `parent`, in document order."""
        found = self._responses.get(parent)
        if found is None:
            roles = self.roles
            found = self._responses[parent] = [
                c for c in self.children.get(parent, ()) if roles.get(c) == "model"
            ]
        return found

    def comparisons(self) -> Iterator[str]:
        """The human messages with at least one named model response, breadth first from the
        roots: the comparisons, whose order numbers the turns (`turns`,
        `document.document_response_refs`)."""
        seen: set[str] = set()
        queue = deque(self.roots)
        while queue:
            current = queue.popleft()
            if current in seen or current not in self.roles:
                continue
            seen.add(current)
            if self.roles[current] == "human" and any(
                self.models.get(child) is not None for child in self.responses(current)
            ):
                yield current
            queue.extend(self.children.get(current, ()))

    def turns(self) -> list[tuple[str, dict[str, str]]]:
        """Comparisons in order (`comparisons`): (human parent, model config name -> response id)."""
        if self._turns is None:
            models = self.models
            self._turns = [
                (
                    parent,
                    {name: kid for kid in self.responses(parent) if (name := models.get(kid)) is not None},
                )
                for parent in self.comparisons()
            ]
        return self._turns

    def prompts_in_order(self) -> list[tuple[str, list[str]]]:
        """Human messages with model responses in document order, each with its responses in
        the order of its children (the order raters see them)."""
        return [(human, self.responses(human)) for human in self.prompts if self.responses(human)]

    def parent(self, message_id: str) -> str | None:
        """The message `message_id` answers or follows (the first that lists it as a child)."""
        if self._parents is None:
            parents: dict[str, str] = {}
            for message, kids in self.children.items():
                for kid in kids:
                    parents.setdefault(kid, message)
            self._parents = parents
        return self._parents.get(message_id)

    def model_config_id(self, message_id: str) -> str | None:
        """The ``modelConfigId`` of the model actor that wrote `message_id`, if it names one."""
        metadata = _mapping(self._actor(message_id).get("metadata"))
        found = metadata.get("modelConfigId")
        return found if isinstance(found, str) else None

    def model_config_ids(self) -> dict[str, str]:
        """message id -> ``modelConfigId`` of the actor that wrote it, for the messages whose actor
        names one (what the export's message items carry)."""
        found: dict[str, str] = {}
        for message_id in self.roles:
            config_id = self.model_config_id(message_id)
            if config_id is not None:
                found[message_id] = config_id
        return found

    @property
    def document_type(self) -> str | None:
        """The document's ``type`` (the MIME type of a v2 conversation), if it is a string."""
        found = self.document.get("type")
        return found if isinstance(found, str) else None

    def model(self, message_id: str) -> str | None:
        """The model config name of a response, or its model config id when it names none."""
        return self.models.get(message_id) or self.model_config_id(message_id)

    def text(self, message_id: str) -> str:
        """The text parts of a message, joined by blank lines (empty for files only)."""
        message = _mapping(_mapping(self.document.get("messages")).get(message_id))
        content = message.get("content")
        parts = content if isinstance(content, list) else []
        texts = [p.get("content") for p in parts if isinstance(p, Mapping) and p.get("type") == "text"]
        return "\n\n".join(t for t in texts if isinstance(t, str))

    def _actor(self, message_id: str) -> Mapping[str, Any]:
        message = _mapping(_mapping(self.document.get("messages")).get(message_id))
        actor_id = message.get("actorId")
        return (
            _mapping(_mapping(self.document.get("actors")).get(actor_id)) if isinstance(actor_id, str) else {}
        )


def as_conversation_index(document: Any) -> ConversationIndex:
    return document if isinstance(document, ConversationIndex) else ConversationIndex.from_row_data(document)


def stored_row_index(row_data: str | bytes) -> ConversationIndex | None:
    """The index of a stored row_data (the emulator's), None when it is no conversation (a URL,
    text, a JSON value without a ``messages`` object)."""
    try:
        document = msgspec.json.decode(row_data)
    except msgspec.DecodeError:
        return None
    if type(document) is not dict or type(document.get("messages")) is not dict:
        return None
    return ConversationIndex.from_row_data(document)


class RowDocument:
    """A row_data dict as the fast paths read it: only the messages a line names, on demand.

    The fast path of the annotation rules (`annotations.rules`' `_confirm`, behind `check_line`)
    needs, per line, the model responses of one human message and whether a message exists.
    Indexing the whole document for that (`ConversationIndex`) costs more than checking the line
    itself; here each prompt's responses are read from the document the first time a line names
    that prompt, and kept in `prompts`. Anything not shaped as documented gives None (the fast
    path refuses, and the detailed checks run on the full `index()`), so an answer here is always
    the full index's answer (held to that by a property test of the validation's verdicts: a
    dict document is judged as its index and its JSON text are).
    """

    __slots__ = ("_actors", "_document", "_index", "message_ids", "prompts")

    def __init__(self, document: dict[str, Any], messages: dict[str, Any], actors: dict[str, Any]) -> None:
        self._document = document
        self._actors = actors
        self._index: ConversationIndex | None = None
        self.message_ids: Mapping[str, Any] = messages  # the messages of a document are its keys
        self.prompts: dict[str, dict[str, str | None]] = {}

    @classmethod
    def of(cls, document: dict[str, Any]) -> RowDocument | ConversationIndex:
        """The lazy view when messages and actors are objects, else the full index at once."""
        messages, actors = document.get("messages"), document.get("actors")
        if type(messages) is dict and type(actors) is dict:
            return cls(document, messages, actors)
        return ConversationIndex.from_row_data(document)

    def index(self) -> ConversationIndex:
        """The full index, for the detailed checks and the record reader (built once)."""
        if self._index is None:
            self._index = ConversationIndex.from_row_data(self._document)
        return self._index

    def prompt_responses(self, parent: str) -> dict[str, str | None] | None:
        """The model responses of human message `parent` (message id -> model config name), as
        `ConversationIndex.prompts` has them; None when `parent` is no human message or anything
        read on the way is not shaped as documented. Kept in `prompts` once read."""
        responses = _read_prompt(self.message_ids, self._actors, parent)
        if responses is not None:
            self.prompts[parent] = responses
        return responses


_NO_METADATA = ActorMetadata()


class ViewDocument:
    """A document decoded into `types.DocumentView`, read per message on demand.

    The export reader decodes each row's row_data with its line and asks it only about the
    messages its labels name (a parent's children, and who wrote each: its model config name
    and id when it is a model response); indexing every row in full would cost about as much as
    decoding it. Each answer is `ConversationIndex.from_row_data`'s of the same document (held
    to that by a property test), as `RowDocument`'s are for a dict.
    """

    __slots__ = ("_actors", "_messages")

    def __init__(self, view: DocumentView) -> None:
        self._actors = view.actors or {}
        self._messages = view.messages or {}

    def model_response(self, message_id: str) -> ActorMetadata | None:
        """Who wrote a model response (its `models` name and `model_config_id`, in one look-up:
        the export asks this of every child of every parent its labels name); None for any
        other message, as the index's `roles` has it."""
        message = self._messages.get(message_id)
        actor_id = message.actor_id if message is not None else None
        actor = self._actors.get(actor_id) if actor_id is not None else None
        if actor is None or actor.role != "model":
            return None
        return actor.metadata if actor.metadata is not None else _NO_METADATA

    def children(self, message_id: str) -> tuple[str, ...]:
        """`ConversationIndex.children` of `message_id`, in document order (empty if unknown)."""
        message = self._messages.get(message_id)
        return (message.child_message_ids or ()) if message is not None else ()


def prompt_responses_of(document: dict[str, Any], parent: str) -> dict[str, str | None] | None:
    """`RowDocument.prompt_responses` of a row_data dict, read once and kept nowhere: for a
    reader that asks each document one question (the record reader, one record per turn)."""
    messages, actors = document.get("messages"), document.get("actors")
    if type(messages) is not dict or type(actors) is not dict:
        return None
    return _read_prompt(messages, actors, parent)


def _read_prompt(
    messages: Mapping[str, Any], actors: Mapping[str, Any], parent: str
) -> dict[str, str | None] | None:
    """The model responses of human message `parent`, read from the document's messages and
    actors; None for anything not shaped as documented (the full index then decides)."""
    try:
        message = messages[parent]
        actor_id = message["actorId"]
        if type(actor_id) is not str or actors[actor_id]["role"] != "human":
            return None
        kids = message["childMessageIds"]
        if type(kids) is not list:
            return None
        responses: dict[str, str | None] = {}
        for kid in kids:
            if type(kid) is not str:
                return None
            child = messages.get(kid)
            if child is None:
                continue  # not a message of the document: no response
            actor_id = child["actorId"]
            if type(actor_id) is not str:
                return None
            actor = actors[actor_id]
            if actor["role"] == "model":  # any other role: not a response, as in the index
                name = actor["metadata"]["modelConfigName"]
                if type(name) is not str:
                    return None
                responses[kid] = name
    except (KeyError, TypeError, AttributeError):
        return None
    return responses


def _prompts(
    humans: list[str], models: dict[str, str | None], children: dict[str, list[str]]
) -> dict[str, dict[str, str | None]]:
    """Human message -> its model responses (message id -> model config name).

    A message is in `models` exactly when its role is "model" (both constructors). Plain loops:
    comprehensions cost a function call each, and this runs for every data row of an import.
    """
    prompts: dict[str, dict[str, str | None]] = {}
    for human in humans:
        responses: dict[str, str | None] = {}
        prompts[human] = responses
        for kid in children[human]:
            if kid in models:
                responses[kid] = models[kid]
    return prompts


IndexedDocument = RowDocument | ConversationIndex
"""A data row's document indexed as the fast paths read it, lazily or in full (both answer
`prompts`, `prompt_responses` and `message_ids` alike). Not `types.DocumentView`, the decoded
reading view of a document that the export reader decodes."""


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


__all__ = [
    "ConversationIndex",
    "IndexedDocument",
    "RowDocument",
    "ViewDocument",
    "as_conversation_index",
    "prompt_responses_of",
    "stored_row_index",
]
