"""Stable ids of a conversation: message and actor ids from the record's key, and global keys.

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
``global_key_for(key, prefix, round_key)``: ``prefix + round_key + "/" + key`` (without the round
part when ``round_key`` is empty) when that is at most 200 characters (counted in UTF-16 code
units, as Labelbox's limit is enforced, so no key is ever rejected for length); otherwise its first
183 characters, ``~`` and 16 hex digits of BLAKE2b of the whole key: stable across runs, unique in
practice, and still readable. A round key holds no ``/`` and prefix and round key together are at
most 100 characters, so the round always survives the shortening and the first ``/`` after the
prefix always ends it: round and record key can be told apart in every global key.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

MAX_GLOBAL_KEY_LENGTH = 200
MAX_PREFIX_LENGTH = 100
_HASH_SUFFIX_LENGTH = 17  # "~" + 16 hex digits


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


def key_prefix(global_key_prefix: str = "", round_key: str = "") -> str:
    """What comes before every record key of a round, both parts checked (`check_prefix`,
    `check_round_key`): the one place the global-key layout is spelled out."""
    check_prefix(global_key_prefix)
    check_round_key(round_key, global_key_prefix)
    return _joined(global_key_prefix, round_key)


def _joined(prefix: str, round_key: str) -> str:
    return f"{prefix}{round_key}/" if round_key else prefix


def global_key_for(key: str | int, prefix: str = "", round_key: str = "") -> str:
    """The data row's global key (rule: module docstring); the parts are not checked here (hot
    path): batches check them once, with `key_prefix`."""
    candidate = f"{_joined(prefix, round_key)}{key}"
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


def check_round_key(round_key: str, prefix: str = "") -> None:
    """Reject a round key that would make keys Labelbox refuses, or whose round could not be told
    apart from the record key (a caller's mistake; the message says the fix)."""
    if round_key != round_key.strip():
        raise ValueError(
            f"round_key {round_key!r} starts or ends with white space; Labelbox rejects such keys, strip it"
        )
    if "/" in round_key:
        raise ValueError(
            f"round_key {round_key!r} contains '/', which separates the round from the record key in "
            f"global keys; use another character (e.g. {round_key.replace('/', '-')!r}), or move the "
            "common part into global_key_prefix"
        )
    used = len(_joined(prefix, round_key))
    if used > MAX_PREFIX_LENGTH:
        raise ValueError(
            f"global_key_prefix and round_key make {used} characters before the record key; use at "
            f"most {MAX_PREFIX_LENGTH} (global keys are limited to {MAX_GLOBAL_KEY_LENGTH})"
        )
