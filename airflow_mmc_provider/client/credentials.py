"""The shape of an API key, checked before it is ever sent.

A key read from a secrets file usually ends with the file's newline; sent as is, `requests`
refuses the header (`InvalidHeader`), which looks like a network failure and was retried for
14 s before the task failed and Airflow retried it. The client checks the key once, when it is
built, and refuses it with `ApiKeyFormatError`: permanent (an `AuthenticationError`), and a
message that says what is wrong and how to fix it without a single character of the key.

The key is refused, not repaired: stripping a newline silently would hide a secrets file that
differs from what its owner thinks it holds, and a key with white space inside is never valid.
"""

from __future__ import annotations

from typing import Any

from airflow_mmc_provider.client.errors import ApiKeyFormatError

_WHERE = "the password field of the Labelbox connection (or the api_key given to the client)"
_LINE_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def check_api_key(api_key: Any) -> str:
    """`api_key` unchanged when an HTTP `Authorization` header can carry it as a bearer token;
    `ApiKeyFormatError` naming the problem (never the key) otherwise."""
    problem = api_key_problem(api_key)
    if problem is not None:
        raise ApiKeyFormatError(f"The Labelbox API key {problem} (the key is not shown)")
    return str(api_key)


def api_key_problem(api_key: Any) -> str | None:
    """What is wrong with the key and the fix, in words that quote none of it; None if nothing."""
    if api_key is None or api_key == "":
        return f"is empty: put the key in {_WHERE}"
    if not isinstance(api_key, str):
        return f"is a {type(api_key).__name__}, not text: pass the key as a string"
    edge = _edge_problem(api_key)
    if edge is not None:
        return edge
    return _inner_problem(api_key)


def _edge_problem(api_key: str) -> str | None:
    if api_key[-1] in _LINE_BREAKS:
        return (
            "ends with a line break, as a key read from a file with its final newline does: strip "
            f"it where the key is read, or remove it from {_WHERE}"
        )
    if api_key[0] in _LINE_BREAKS:
        return f"starts with a line break: remove it from {_WHERE}"
    if api_key != api_key.strip():
        side = "starts" if api_key[0].isspace() else "ends"
        return f"{side} with white space: remove the spaces or tabs from {_WHERE}"
    return None


def _inner_problem(api_key: str) -> str | None:
    if any(char in _LINE_BREAKS for char in api_key):
        return f"contains a line break (two lines pasted?): keep only the key in {_WHERE}"
    if any(char.isspace() for char in api_key):
        return f"contains white space, which no Labelbox key does: keep only the key in {_WHERE}"
    if any(not char.isascii() for char in api_key):
        return (
            "contains a character outside ASCII (a typographic quote or a non-breaking space from "
            f"copied text?), which an HTTP header cannot carry: type or paste the key again in {_WHERE}"
        )
    if not api_key.isprintable():
        return f"contains a control character, which an HTTP header cannot carry: paste the key again in {_WHERE}"
    return None
