"""What every parser of user JSON and YAML says when input does not decode: the one definition.

Conversation and data-row lines, annotation lines, export lines, ontology specs and mapping specs
are written or produced by people and other tools, so a line that does not decode is reported as
a `ValidationIssue` naming the line and the fix, never as a bare decoder exception. Three causes
get their own words, because the decoders' messages do not say them:

- nesting deeper than the decoder can follow: msgspec, `json` and PyYAML recurse, and raise a
  `RecursionError` (which Airflow would retry and which names no line). Input nested up to
  `MAX_NESTING` levels is always read; deeper input may be refused, as a `ValidationError`.
  The check costs nothing on the hot path: parsers catch the `RecursionError` when it happens
  instead of measuring every line;
- a UTF-8 byte-order mark (Windows editors write one): accepted at the start of a file
  (`without_bom`), named anywhere else;
- ``NaN`` and ``Infinity``, which Python's `json.dumps` writes but JSON does not allow.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

import msgspec

from airflow_mmc_provider.mmc.errors import IssueReport, ValidationError

# Input nested this deep is always read (Python's default recursion limit of 1,000 leaves room for
# it under Airflow's own frames, and PyYAML spends two frames per level); README states it.
MAX_NESTING: Final = 200

BOM: Final = "\ufeff"
BOM_BYTES: Final = BOM.encode()

# What a failed decoding raises: catch both wherever a line of user input is decoded.
DECODE_ERRORS: Final = (msgspec.DecodeError, RecursionError)

_AT_BYTE = re.compile(r"\(byte (\d+)\)")
_NOT_NUMBERS = (b"NaN", b"Infinity", b"-Infinity", b"-NaN")
_FIX_SYNTAX = "fix the JSON syntax of this line"
TOO_DEEP_FIX: Final = f"flatten the nesting (input up to {MAX_NESTING} levels deep is always read)"


def too_deep(what: str = "the line") -> str:
    """The message for input nested deeper than its decoder could follow."""
    return f"{what} is nested too deeply to read (more than {MAX_NESTING} levels of objects and lists)"


def not_json(error: BaseException, raw: bytes | str | None = None) -> tuple[str, str]:
    """(message, fix) for a line that did not decode (`error` from `DECODE_ERRORS`)."""
    return named_cause(error, raw) or (f"the line is not valid JSON ({error})", _FIX_SYNTAX)


def named_cause(error: BaseException, raw: bytes | str | None = None) -> tuple[str, str] | None:
    """(message, fix) when the line failed over excessive nesting, a byte-order mark or
    NaN/Infinity, which the decoder's own words ("invalid character (byte 0)") do not say."""
    if isinstance(error, RecursionError):
        return too_deep(), TOO_DEEP_FIX
    data = raw.encode() if isinstance(raw, str) else raw
    at = _AT_BYTE.search(str(error))
    if data is None or at is None:
        return None
    offset = int(at.group(1))
    if data.startswith(BOM_BYTES, offset):
        return (
            f"the line has a UTF-8 byte-order mark (BOM) at byte {offset}",
            "save the file as UTF-8 without BOM (a BOM is accepted only at the start of a file)",
        )
    if data.startswith(_NOT_NUMBERS, offset):
        word = data[offset:].split(maxsplit=1)[0].rstrip(b",]}").decode(errors="replace")
        return (
            f"the line has {word} at byte {offset}, which is not a JSON number",
            "write null (or a number); Python's json.dumps writes NaN unless allow_nan=False",
        )
    return None


def without_bom(first_line: bytes) -> bytes:
    """A file's first line without the UTF-8 byte-order mark some editors put before it."""
    return first_line[len(BOM_BYTES) :] if first_line.startswith(BOM_BYTES) else first_line


def parse_spec_text(text: str, *, fmt: str, source: str, fix: str) -> Any:
    """The value of a spec file's JSON or YAML text (`fmt` "json" or "yaml"; JSON is YAML), or a
    `ValidationError` naming `source`: a leading BOM is dropped, NaN and Infinity in JSON are
    named, and nesting too deep for the parser is a problem of the file, not a crash."""
    import yaml  # here, not at the top: only spec files need it (Airflow installs PyYAML)

    word = "JSON" if fmt == "json" else "YAML"
    try:
        if fmt == "json":
            return json.loads(text.removeprefix(BOM), parse_constant=_refuse_constant)
        return yaml.safe_load(text)
    except RecursionError:
        message, fix = too_deep(f"the {word}"), TOO_DEEP_FIX
    except _SpecConstantError as exc:
        message, fix = str(exc), "write null (or a number) instead"
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        message = f"not valid {word}{' or JSON' if fmt == 'yaml' else ''}: {exc}"
    report = IssueReport(subject=source)
    report.add("", message, fix)
    raise ValidationError(report.issues, subject=source) from None


class _SpecConstantError(ValueError):
    """NaN or Infinity in a JSON spec, which `json.loads` would otherwise accept."""


def _refuse_constant(word: str) -> Any:
    raise _SpecConstantError(f"{word} is not a JSON number")
