"""Every shape problem of a JSON value against a msgspec type, not just the first.

msgspec decodes well-formed input fast but stops at the first mismatch. Users fixing a file want
the whole list, so when decoding fails the value is decoded untyped and walked here against the
same type description (`msgspec.inspect`), which keeps one definition of each format: the Struct.
This path only runs for bad input, so it favours clear messages over speed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
import msgspec.inspect as mi


@dataclass(frozen=True, slots=True)
class ShapeProblem:
    """A mismatch at `path` (e.g. `responses['gpt'].files[0].uri`)."""

    path: str
    message: str
    fix: str


def shape_problems(value: Any, python_type: Any, path: str = "") -> list[ShapeProblem]:
    """All places where `value` (decoded JSON) does not fit `python_type`.

    Should the walk find nothing although msgspec rejects the value (a constraint this walker
    does not model), msgspec's own message is returned, so a rejected value is never silent.
    """
    problems = list(_walk(value, mi.type_info(python_type), path))
    if problems:
        return problems
    try:
        msgspec.convert(value, python_type)
    except msgspec.ValidationError as exc:
        return [ShapeProblem(path, str(exc), "make the value match the documented format")]
    return []


def _walk(value: Any, t: mi.Type, path: str) -> Iterator[ShapeProblem]:
    if isinstance(t, mi.AnyType):
        return
    if isinstance(t, mi.UnionType):
        yield from _walk_union(value, t, path)
    elif isinstance(t, mi.StructType):
        yield from _walk_struct(value, t, path)
    elif isinstance(t, mi.DictType):
        yield from _walk_dict(value, t, path)
    elif isinstance(t, mi.ListType):
        yield from _walk_list(value, t, path)
    elif not _scalar_fits(value, t):
        expected = describe(t)
        yield ShapeProblem(path, f"expected {expected}, got {json_kind(value)}", f"make it {expected}")


def _walk_union(value: Any, t: mi.UnionType, path: str) -> Iterator[ShapeProblem]:
    candidates = [member for member in t.types if _kind_matches(value, member)]
    tagged = [c for c in candidates if isinstance(c, mi.StructType) and c.tag_field is not None]
    if not candidates:
        expected = describe(t)
        yield ShapeProblem(path, f"expected {expected}, got {json_kind(value)}", f"make it {expected}")
    elif tagged and len(tagged) == len(candidates):
        yield from _walk_tagged(value, tagged, path)
    else:
        # Several members of the right kind: fine if any fits, else explain against the first.
        found = [list(_walk(value, c, path)) for c in candidates]
        if all(found):
            yield from found[0]


def _walk_tagged(value: dict[str, Any], members: list[mi.StructType], path: str) -> Iterator[ShapeProblem]:
    tag_field = str(members[0].tag_field)
    tags = {m.tag: m for m in members}
    tag = value.get(tag_field)
    if tag in tags:
        yield from _walk_struct(value, tags[tag], path)
        return
    allowed = ", ".join(repr(t) for t in tags)
    shown = "missing" if tag is None else f"{tag!r}, which is not supported"
    yield ShapeProblem(_join(path, tag_field), f"{tag_field} is {shown}", f"use one of {allowed}")


def _walk_struct(value: Any, t: mi.StructType, path: str) -> Iterator[ShapeProblem]:
    if not isinstance(value, dict):
        yield ShapeProblem(path, f"expected an object, got {json_kind(value)}", "make it a JSON object")
        return
    known = {f.encode_name for f in t.fields}
    if t.tag_field is not None:
        known.add(t.tag_field)
    if t.forbid_unknown_fields:
        allowed = ", ".join(sorted(known))
        for name in value:
            if name not in known:
                yield ShapeProblem(
                    _join(path, name), "unknown field", f"remove it or fix its spelling (allowed: {allowed})"
                )
    for f in t.fields:
        if f.encode_name in value:
            yield from _walk(value[f.encode_name], f.type, _join(path, f.encode_name))
        elif f.required:
            yield ShapeProblem(_join(path, f.encode_name), "required field is missing", "add it")


def _walk_dict(value: Any, t: mi.DictType, path: str) -> Iterator[ShapeProblem]:
    if not isinstance(value, dict):
        yield ShapeProblem(path, f"expected an object, got {json_kind(value)}", "make it a JSON object")
        return
    for key, item in value.items():
        if not _scalar_fits(key, t.key_type):
            yield ShapeProblem(f"{path}[{key!r}]", f"keys must be {describe(t.key_type)}", "use string keys")
        yield from _walk(item, t.value_type, f"{path}[{key!r}]")


def _walk_list(value: Any, t: mi.ListType, path: str) -> Iterator[ShapeProblem]:
    if not isinstance(value, list):
        yield ShapeProblem(path, f"expected a list, got {json_kind(value)}", "make it a JSON list")
        return
    for index, item in enumerate(value):
        yield from _walk(item, t.item_type, f"{path}[{index}]")


def _scalar_fits(value: Any, t: mi.Type) -> bool:
    if isinstance(t, mi.LiteralType):
        return value in t.values and type(value) in {type(v) for v in t.values}
    if isinstance(t, mi.StrType):
        return isinstance(value, str)
    if isinstance(t, mi.BoolType):
        return isinstance(value, bool)
    if isinstance(t, mi.IntType):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(t, mi.FloatType):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(t, mi.NoneType):
        return value is None
    return True


def _kind_matches(value: Any, t: mi.Type) -> bool:
    """Whether `value`'s JSON kind could be `t`, to pick the union member a user meant."""
    if isinstance(t, mi.StructType | mi.DictType):
        return isinstance(value, dict)
    if isinstance(t, mi.ListType):
        return isinstance(value, list)
    return _scalar_fits(value, t) or (
        isinstance(t, mi.LiteralType) and any(type(value) is type(v) for v in t.values)
    )


def describe(t: mi.Type) -> str:
    """A phrase for a type, as users know it from JSON."""
    if isinstance(t, mi.UnionType):
        return " or ".join(dict.fromkeys(describe(m) for m in t.types))
    if isinstance(t, mi.LiteralType):
        return "one of " + ", ".join(repr(v) for v in t.values)
    names = {
        mi.StrType: "a string",
        mi.IntType: "an integer",
        mi.FloatType: "a number",
        mi.BoolType: "true or false",
        mi.NoneType: "null",
        mi.ListType: "a list",
    }
    return names.get(type(t), "an object")


def json_kind(value: Any) -> str:
    """The JSON name of a decoded value's kind."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
