"""Differential test: for generated specs, `build_ontology` equals the SDK's `OntologyBuilder.asdict()`.

Each spec is also translated, independently of the code under test, into SDK objects; the two
outputs must serialize to the same JSON text (so key order is compared too, not just content).
"""

from __future__ import annotations

import json
from typing import Any

import labelbox as lb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_mmc_provider.mmc.errors import ValidationError
from airflow_mmc_provider.mmc.ontology import build_ontology

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TOOL_TYPES = {
    "message-single-selection": lb.Tool.Type.MESSAGE_SINGLE_SELECTION,
    "single-selection": lb.Tool.Type.MESSAGE_SINGLE_SELECTION,
    "message-multi-selection": lb.Tool.Type.MESSAGE_MULTI_SELECTION,
    "multi-selection": lb.Tool.Type.MESSAGE_MULTI_SELECTION,
    "message-ranking": lb.Tool.Type.MESSAGE_RANKING,
    "ranking": lb.Tool.Type.MESSAGE_RANKING,
}
CLASS_TYPES = {
    "radio": lb.Classification.Type.RADIO,
    "checklist": lb.Classification.Type.CHECKLIST,
    "text": lb.Classification.Type.TEXT,
    "free-text": lb.Classification.Type.TEXT,
}
SCOPES = {
    "global": lb.Classification.Scope.GLOBAL,
    "message": lb.Classification.Scope.INDEX,
    "index": lb.Classification.Scope.INDEX,
}

names = st.text(min_size=1, max_size=12).filter(lambda s: bool(s.strip()))
colors = st.from_regex(r"#[0-9a-fA-F]{6}", fullmatch=True)


def unique_by_name(items: st.SearchStrategy[dict[str, Any]], max_size: int) -> st.SearchStrategy[list[Any]]:
    return st.lists(items, max_size=max_size, unique_by=lambda item: item["name"])


@st.composite
def options(draw: st.DrawFn, depth: int) -> list[Any]:
    values = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    result: list[Any] = []
    for value in values:
        if draw(st.booleans()):
            result.append(value)
            continue
        option: dict[str, Any] = {"value": value}
        if draw(st.booleans()):
            option["label"] = draw(names)
        if depth > 0 and draw(st.booleans()):
            option["classifications"] = draw(unique_by_name(classifications(depth - 1, top=False), 2))
        result.append(option)
    return result


@st.composite
def classifications(draw: st.DrawFn, depth: int, *, top: bool) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(CLASS_TYPES)))
    spec: dict[str, Any] = {"name": draw(names), "type": kind}
    if draw(st.booleans()):
        spec["required"] = draw(st.booleans())
    if draw(st.booleans()):
        spec["instructions"] = draw(names)
    if top and draw(st.booleans()):
        spec["scope"] = draw(st.sampled_from(sorted(SCOPES)))
    if kind in {"radio", "checklist"}:
        spec["options"] = draw(options(depth))
        if draw(st.booleans()):
            spec["ui_mode"] = draw(st.sampled_from(["hotkey", "searchable"]))
    if kind == "radio" and draw(st.booleans()):
        spec["likert_scale"] = draw(st.booleans())
    return spec


@st.composite
def tools(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": draw(names), "type": draw(st.sampled_from(sorted(TOOL_TYPES)))}
    if draw(st.booleans()):
        spec["required"] = draw(st.booleans())
    if draw(st.booleans()):
        spec["color"] = draw(colors)
    if draw(st.booleans()):
        spec["classifications"] = draw(unique_by_name(classifications(1, top=False), 2))
    return spec


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    features = draw(
        st.lists(
            st.one_of(
                st.tuples(st.just("tools"), tools()),
                st.tuples(st.just("classifications"), classifications(2, top=True)),
            ),
            max_size=6,
            unique_by=lambda pair: pair[1]["name"],
        )
    )
    spec: dict[str, Any] = {"tools": [], "classifications": []}
    for where, feature in features:
        spec[where].append(feature)
    return spec


# --- the same spec, written with the SDK ------------------------------------------------------------


def sdk_option(spec: Any) -> lb.Option:
    if isinstance(spec, str):
        return lb.Option(value=spec)
    nested = [sdk_classification(c) for c in spec.get("classifications", [])]
    return lb.Option(value=spec["value"], label=spec.get("label"), options=nested)


def sdk_classification(spec: dict[str, Any]) -> lb.Classification:
    arguments: dict[str, Any] = {
        "class_type": CLASS_TYPES[spec["type"]],
        "name": spec["name"],
        "required": spec.get("required", False),
        "options": [sdk_option(o) for o in spec.get("options", [])],
        "is_likert_scale": spec.get("likert_scale", False),
    }
    if "instructions" in spec:
        arguments["instructions"] = spec["instructions"]
    if "scope" in spec:
        arguments["scope"] = SCOPES[spec["scope"]]
    if "ui_mode" in spec:
        arguments["ui_mode"] = lb.Classification.UIMode(spec["ui_mode"])
    return lb.Classification(**arguments)


def sdk_tool(spec: dict[str, Any]) -> lb.Tool:
    return lb.Tool(
        tool=TOOL_TYPES[spec["type"]],
        name=spec["name"],
        required=spec.get("required", False),
        color=spec.get("color"),
        classifications=[sdk_classification(c) for c in spec.get("classifications", [])],
    )


def sdk_asdict(spec: dict[str, Any]) -> dict[str, Any]:
    builder = lb.OntologyBuilder(
        tools=[sdk_tool(t) for t in spec["tools"]],
        classifications=[sdk_classification(c) for c in spec["classifications"]],
    )
    result: dict[str, Any] = builder.asdict()
    return result


@SETTINGS
@given(specs())
def test_generated_specs_normalize_exactly_like_the_sdk(spec):
    assert json.dumps(build_ontology(spec)) == json.dumps(sdk_asdict(spec))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)


@SETTINGS
@given(
    st.dictionaries(
        st.sampled_from(["tools", "classifications", "x"]),
        st.lists(
            st.dictionaries(
                st.sampled_from(["name", "type", "options", "scope", "classifications"]), json_values
            )
        ),
    )
    | json_values
)
def test_any_input_either_builds_or_lists_its_problems(spec):
    try:
        build_ontology(spec)
    except ValidationError as error:
        assert error.issues
