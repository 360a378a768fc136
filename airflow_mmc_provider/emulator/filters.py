"""The SDK's ORM `where` filters, evaluated against GraphQL-shaped nodes.

The ORM writes comparisons as ``{field: v}`` or ``{field_<op>: v}`` (``_not``, ``_lt``, ``_gt``,
``_lte``, ``_gte``) and combines them with ``AND`` (wire reference 1.3, ``orm/query.py``), e.g.
``{AND: [{name: $p0}, {deleted: $p1}]}``. Lists are small (datasets, projects), so evaluating in
Python keeps every entity's filter support identical without per-entity SQL.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "not": operator.ne,
    "lt": operator.lt,
    "gt": operator.gt,
    "lte": operator.le,
    "gte": operator.ge,
}


def matches(node: Mapping[str, Any], where: Mapping[str, Any] | None) -> bool:
    """True when `node` satisfies every clause of `where` (None matches everything)."""
    for key, expected in (where or {}).items():
        if key == "AND":
            ok = all(matches(node, clause) for clause in expected or ())
        elif key == "OR":
            ok = any(matches(node, clause) for clause in expected or ())
        elif key == "NOT":
            ok = not any(matches(node, clause) for clause in expected or ())
        else:
            ok = _compare(node, key, expected)
        if not ok:
            return False
    return True


def mentions(where: Mapping[str, Any] | None, field: str) -> bool:
    """Whether any clause, at any depth, filters on `field` (e.g. whether `deleted` was asked for)."""
    for key, value in (where or {}).items():
        if key in ("AND", "OR", "NOT"):
            if any(mentions(clause, field) for clause in value or ()):
                return True
        elif key.split("_", 1)[0] == field:
            return True
    return False


def equalities(where: Mapping[str, Any] | None) -> dict[str, Any]:
    """The plain ``field: value`` clauses of a where (top level and nested ANDs), for pushdown."""
    found: dict[str, Any] = {}
    for key, value in (where or {}).items():
        if key == "AND":
            for clause in value or ():
                found.update(equalities(clause))
        elif key not in ("OR", "NOT") and "_" not in key:
            found[key] = value
    return found


def _compare(node: Mapping[str, Any], key: str, expected: Any) -> bool:
    field, _, suffix = key.partition("_")
    actual = node.get(field)
    if field.endswith("At"):
        actual, expected = _as_datetime(actual), _as_datetime(expected)
    if not suffix:
        return bool(actual == expected)
    compare = _OPERATORS.get(suffix)
    if compare is None:
        raise ValueError(f"unsupported filter {key!r}")
    if actual is None or expected is None:
        return suffix == "not" and actual != expected
    return compare(actual, expected)


def _as_datetime(value: Any) -> Any:
    """Compare instants, not strings: the SDK sends ``...:SSZ`` while nodes carry ``...:SS.fffZ``."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value
