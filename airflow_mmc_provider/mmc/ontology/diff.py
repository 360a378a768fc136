"""How an ontology on the server differs from the one a spec describes, ignoring server ids."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any


def diff_ontologies(
    spec_normalized: Mapping[str, Any], server_normalized: Mapping[str, Any] | str
) -> list[str]:
    """How the server's ontology differs from the spec's, as readable lines (empty: the same).

    Server-assigned ids, key order and keys the server adds are ignored; features are matched by
    name and options by value. Option order is compared, because raters see options in order.
    """
    server = json.loads(server_normalized) if isinstance(server_normalized, str) else server_normalized
    differences: list[str] = []
    _diff_features(spec_normalized.get("tools") or [], server.get("tools") or [], "tool", "", differences)
    _diff_features(
        spec_normalized.get("classifications") or [],
        server.get("classifications") or [],
        "classification",
        "",
        differences,
    )
    return differences


def _diff_features(
    spec: list[Mapping[str, Any]], server: list[Mapping[str, Any]], what: str, where: str, out: list[str]
) -> None:
    ours = {f.get("name"): f for f in spec}
    theirs = {f.get("name"): f for f in server}
    out.extend(f"{where}{what} {n!r} is in the spec but not on the server" for n in ours if n not in theirs)
    out.extend(f"{where}{what} {n!r} is on the server but not in the spec" for n in theirs if n not in ours)
    for name in (n for n in ours if n in theirs):
        label = f"{where}{what} {name!r}"
        for key, mine, other in _compared_fields(ours[name], theirs[name], top_level=not where):
            if mine != other:
                out.append(f"{label}: {key} is {mine!r} in the spec but {other!r} on the server")
        nested_key = "classifications" if what == "tool" else None
        if nested_key:
            _diff_features(
                ours[name].get(nested_key) or [],
                theirs[name].get(nested_key) or [],
                "classification",
                f"{label} > ",
                out,
            )
        else:
            _diff_options(ours[name].get("options") or [], theirs[name].get("options") or [], label, out)


def _compared_fields(
    spec: Mapping[str, Any], server: Mapping[str, Any], *, top_level: bool
) -> Iterator[tuple[str, Any, Any]]:
    """The user-visible settings of a tool or classification, with server defaults filled in."""
    if "tool" in spec:
        yield "tool", spec.get("tool"), server.get("tool")
        yield "color", str(spec.get("color")).lower(), str(server.get("color")).lower()
    else:
        yield "type", spec.get("type"), server.get("type")
        yield "instructions", spec.get("instructions"), server.get("instructions", server.get("name"))
        yield "uiMode", spec.get("uiMode"), server.get("uiMode")
        yield "isLikertScale", bool(spec.get("isLikertScale")), bool(server.get("isLikertScale"))
        if top_level:
            yield "scope", spec.get("scope", "global"), server.get("scope", "global")
    yield "required", bool(spec.get("required")), bool(server.get("required"))


def _diff_options(
    spec: list[Mapping[str, Any]], server: list[Mapping[str, Any]], where: str, out: list[str]
) -> None:
    ours = {str(o.get("value")): o for o in spec}
    theirs = {str(o.get("value")): o for o in server}
    out.extend(f"{where}: option {v!r} is in the spec but not on the server" for v in ours if v not in theirs)
    out.extend(f"{where}: option {v!r} is on the server but not in the spec" for v in theirs if v not in ours)
    common_ours = [v for v in ours if v in theirs]
    common_theirs = [v for v in theirs if v in ours]
    if common_ours != common_theirs:
        out.append(
            f"{where}: options are ordered {common_ours} in the spec but {common_theirs} on the server"
        )
    for value in common_ours:
        label = f"{where} > option {value!r}"
        mine, other = ours[value].get("label", value), theirs[value].get("label", value)
        if str(mine) != str(other):
            out.append(f"{label}: label is {mine!r} in the spec but {other!r} on the server")
        _diff_features(
            ours[value].get("options") or [],
            theirs[value].get("options") or [],
            "classification",
            f"{label} > ",
            out,
        )


__all__ = ["diff_ontologies"]
