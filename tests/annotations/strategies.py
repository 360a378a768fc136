"""Hypothesis strategies: an ontology spec, a conversation, and annotations valid for both."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from airflow_mmc_provider.mmc.conversation import (
    build_row_data,
    global_key_for,
    parse_record,
    prompt_message_id,
    response_ref,
)
from airflow_mmc_provider.mmc.ontology import build_ontology

from .neutral import Classification, Label, Option, Tool

names = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs", "S")), min_size=1, max_size=10
).filter(lambda s: bool(s.strip()))
model_names = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-. ", min_size=1, max_size=8).filter(
        lambda s: bool(s.strip())
    ),
    min_size=1,
    max_size=4,
    unique=True,
)


@st.composite
def classification_specs(draw: st.DrawFn, depth: int, *, top: bool) -> dict[str, Any]:
    kind = draw(st.sampled_from(["radio", "checklist", "text"]))
    spec: dict[str, Any] = {"name": draw(names), "type": kind}
    if top:
        spec["scope"] = draw(st.sampled_from(["global", "message"]))
    elif draw(st.booleans()):
        spec["required"] = True  # required nested ones are always answered below
    if kind != "text":
        options = []
        for value in draw(st.lists(names, min_size=1, max_size=3, unique=True)):
            option: dict[str, Any] = {"value": value}
            if depth > 0 and draw(st.booleans()):
                option["classifications"] = draw(
                    st.lists(
                        classification_specs(depth - 1, top=False), max_size=2, unique_by=lambda c: c["name"]
                    )
                )
            options.append(option)
        spec["options"] = options
    return spec


@st.composite
def ontology_specs(draw: st.DrawFn) -> dict[str, Any]:
    tool_names = draw(st.lists(names, min_size=3, max_size=3, unique=True))
    kinds = ["message-ranking", "message-single-selection", "message-multi-selection"]
    classifications = draw(
        st.lists(
            classification_specs(2, top=True), min_size=1, max_size=4, unique_by=lambda c: c["name"]
        ).filter(lambda cs: not {c["name"] for c in cs} & set(tool_names))
    )
    return {
        "tools": [{"name": n, "type": k} for n, k in zip(tool_names, kinds, strict=True)],
        "classifications": classifications,
    }


@dataclass
class Scenario:
    spec: dict[str, Any]
    ontology: dict[str, Any]
    documents: dict[str, Any]
    label: Label
    key: str
    models: list[str]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    spec = draw(ontology_specs())
    models = draw(model_names)
    key = draw(st.text(alphabet="abcdefghij0123456789-_", min_size=1, max_size=12))
    record = parse_record(
        {"key": key, "prompt": "question", "responses": {m: f"answer of {m}" for m in models}}
    )
    row_data = build_row_data(record)
    by_id = draw(st.booleans())
    data_row = {"uid": f"ck{key}"} if by_id else {"global_key": global_key_for(key)}
    documents = {data_row.get("uid") or data_row["global_key"]: row_data}
    refs = [response_ref(key, m) for m in models]
    parent = prompt_message_id(key)
    pairs = [(r.message_id, r.model_config_name) for r in refs]
    annotations: list[Any] = []
    rank, single, multi = (t["name"] for t in spec["tools"])
    if draw(st.booleans()):
        annotations.append(Tool(rank, "ranking", parent, tuple(draw(st.permutations(pairs)))))
    if draw(st.booleans()):
        annotations.append(Tool(single, "single", parent, (draw(st.sampled_from(pairs)),)))
    if draw(st.booleans()):
        chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs)))
        annotations.append(Tool(multi, "multi", parent, tuple(chosen)))
    messages = [parent, *(m for m, _ in pairs)]
    for classification in spec["classifications"]:
        if draw(st.booleans()) and annotations:
            continue
        message_id = draw(st.sampled_from(messages)) if classification["scope"] == "message" else None
        annotations.append(draw(_classification(classification, message_id)))
    annotations = draw(st.permutations(annotations))
    label = Label(data_row, list(annotations), benchmark=draw(st.booleans()))
    return Scenario(spec, build_ontology(spec), documents, label, key, models)


@st.composite
def _classification(draw: st.DrawFn, spec: dict[str, Any], message_id: str | None) -> Classification:
    kind = spec["type"]
    if kind == "text":
        value: Any = draw(names)
    elif kind == "radio":
        value = draw(_option(draw(st.sampled_from(spec["options"]))))
    else:
        chosen = draw(st.lists(st.sampled_from(spec["options"]), min_size=1, unique_by=lambda o: o["value"]))
        value = tuple(draw(_option(o)) for o in chosen)
    return Classification(spec["name"], kind, value, message_id)


@st.composite
def _option(draw: st.DrawFn, option: dict[str, Any]) -> Option:
    nested = []
    for child in option.get("classifications", []):
        if child.get("required") or draw(st.booleans()):
            nested.append(draw(_classification(child, None)))
    return Option(option["value"], tuple(draw(st.permutations(nested))))
