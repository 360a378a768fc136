"""Ontology specs: normalized output, every spec problem, loading, the server view and diffs."""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

import pytest

from airflow_mmc_provider.mmc.errors import ValidationError
from airflow_mmc_provider.mmc.ontology import (
    OntologyView,
    build_ontology,
    diff_ontologies,
    load_ontology_spec,
    parse_ontology_spec,
    tool_color,
)
from tests.conformance.sdk_helpers import seed_ontology_builder
from tests.specs import SEED_SPEC


def seed_ontology_with_the_sdk() -> dict[str, Any]:
    """Step 2 of Labelbox's import page, verbatim in SDK calls (the conformance tests' builder)."""
    result: dict[str, Any] = seed_ontology_builder().asdict()
    return result


def test_seed_ontology_matches_the_sdk_exactly():
    assert json.dumps(build_ontology(SEED_SPEC)) == json.dumps(seed_ontology_with_the_sdk())


def test_wire_reference_capture_is_reproduced():
    """The `OntologyBuilder.asdict()` output captured in wire reference 4.2, literally."""
    spec = {
        "tools": [
            {"name": "single", "type": "message-single-selection"},
            {"name": "multi", "type": "message-multi-selection"},
            {"name": "rank", "type": "message-ranking"},
        ],
        "classifications": [
            {"name": "g_text", "type": "text"},
            {
                "name": "g_radio",
                "type": "radio",
                "options": [
                    {"value": "a", "classifications": [{"name": "nested_text", "type": "text"}]},
                    "b",
                ],
            },
            {"name": "i_check", "type": "checklist", "scope": "index", "options": ["x", "y"]},
        ],
    }
    ids = {"schemaNodeId": None, "featureSchemaId": None}
    nothing = {**ids, "attributes": None}

    def tool(kind: str, name: str, color: str) -> dict[str, Any]:
        return {
            "tool": kind,
            "name": name,
            "required": False,
            "color": color,
            "classifications": [],
            **nothing,
        }

    def option(value: str, nested: list[Any]) -> dict[str, Any]:
        return {**ids, "label": value, "value": value, "options": nested}

    nested_text = {"type": "text", "instructions": "nested_text", "name": "nested_text", "required": False}
    expected = {
        "tools": [
            tool("message-single-selection", "single", "#ff0000"),
            tool("message-multi-selection", "multi", "#00ff00"),
            tool("message-ranking", "rank", "#0000ff"),
        ],
        "classifications": [
            {"type": "text", "instructions": "g_text", "name": "g_text", "required": False, "options": [], **nothing,
             "scope": "global"},
            {"type": "radio", "instructions": "g_radio", "name": "g_radio", "required": False,
             "options": [option("a", [{**nested_text, "options": [], **nothing}]), option("b", [])], **nothing,
             "scope": "global"},
            {"type": "checklist", "instructions": "i_check", "name": "i_check", "required": False,
             "options": [option("x", []), option("y", [])], **nothing, "scope": "index"},
        ],
    }  # fmt: skip
    assert build_ontology(spec) == expected


def test_colors_given_are_kept_and_the_rest_follow_the_sdk_palette():
    spec = {
        "tools": [
            {"name": "a", "type": "ranking", "color": "#123ABC"},
            {"name": "b", "type": "ranking"},
            {"name": "c", "type": "ranking"},
            {"name": "d", "type": "ranking"},
        ]
    }
    colors = [t["color"] for t in build_ontology(spec)["tools"]]
    assert colors == ["#123ABC", tool_color(1, 4), tool_color(2, 4), tool_color(3, 4)]
    assert [tool_color(i, 3) for i in range(3)] == ["#ff0000", "#00ff00", "#0000ff"]


def test_instructions_required_ui_mode_and_likert_are_written_like_the_sdk():
    spec = {
        "classifications": [
            {
                "name": "Quality",
                "type": "radio",
                "instructions": "Rate it",
                "required": True,
                "ui_mode": "hotkey",
                "likert_scale": True,
                "options": [{"value": "1", "label": "Bad"}, "2"],
            }
        ]
    }
    built = build_ontology(spec)["classifications"][0]
    assert (built["instructions"], built["required"], built["uiMode"], built["isLikertScale"]) == (
        "Rate it",
        True,
        "hotkey",
        True,
    )
    assert [(o["value"], o["label"]) for o in built["options"]] == [("1", "Bad"), ("2", "2")]
    assert list(built)[-3:] == ["isLikertScale", "uiMode", "scope"]


# --- invalid specs ---------------------------------------------------------------------------------


def problems_of(spec: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        build_ontology(spec)
    assert all(i.record == "ontology spec" and i.fix for i in caught.value.issues)
    return [(i.field, i.message) for i in caught.value.issues]


RADIO = {"name": "r", "type": "radio", "options": ["a"]}


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        ({"classifications": [{"name": "r", "type": "radio"}]}, "classifications[0].options", "needs options"),
        ({"classifications": [{"name": "c", "type": "checklist", "options": []}]}, "classifications[0].options",
         "needs options"),
        ({"tools": [{"name": "x", "type": "ranking"}, {"name": "x", "type": "ranking"}]}, "tools[1].name",
         "duplicate top-level feature name 'x', also at tools[0].name"),
        ({"tools": [{"name": "r", "type": "ranking"}], "classifications": [RADIO]}, "classifications[0].name",
         "duplicate top-level feature name 'r'"),
        ({"classifications": [RADIO, RADIO]}, "classifications[1].name", "duplicate top-level feature name"),
        ({"tools": [{"name": "t", "type": "ranking", "classifications": [RADIO, RADIO]}]},
         "tools[0].classifications[1].name", "duplicate name among sibling classifications 'r'"),
        ({"classifications": [{**RADIO, "options": ["a", {"value": "a"}]}]}, "classifications[0].options[1].value",
         "duplicate option value 'a'"),
        ({"classifications": [{**RADIO, "options": [{"value": "a", "classifications": [{**RADIO, "scope": "global"}]}]}]},
         "classifications[0].options[0].classifications[0].scope", "only allowed on top-level"),
        ({"tools": [{"name": "t", "type": "ranking", "classifications": [{**RADIO, "scope": "message"}]}]},
         "tools[0].classifications[0].scope", "only allowed on top-level"),
        ({"tools": [{"name": "t", "type": "bounding-box"}]}, "tools[0].type", "unknown tool type 'bounding-box'"),
        ({"tools": [{"name": "t"}]}, "tools[0].type", "type is missing"),
        ({"classifications": [{"name": "c", "type": "dropdown"}]}, "classifications[0].type",
         "unknown classification type 'dropdown'"),
        ({"classifications": [{**RADIO, "scope": "conversation"}]}, "classifications[0].scope",
         "bad scope 'conversation'"),
        ({"classifications": [{**RADIO, "options": [True]}]}, "classifications[0].options[0].value",
         "must be a string, got bool (YAML reads yes/no"),
        ({"classifications": [{"name": 5, "type": "text"}]}, "classifications[0].name", "must be a string"),
        ({"classifications": [{"type": "text"}]}, "classifications[0].name", "name is missing"),
        ({"classifications": [{"name": " ", "type": "text"}]}, "classifications[0].name", "name is empty"),
        ({"classifications": [{"name": "t", "type": "text", "options": ["a"]}]}, "classifications[0].options",
         "text classifications have no options"),
        ({"classifications": [{"name": "t", "type": "text", "ui_mode": "hotkey"}]}, "classifications[0].ui_mode",
         "radio and checklist only"),
        ({"classifications": [{**RADIO, "ui_mode": "fast"}]}, "classifications[0].ui_mode", "unknown ui_mode"),
        ({"classifications": [{**RADIO, "type": "checklist", "likert_scale": True}]},
         "classifications[0].likert_scale", "radio only"),
        ({"classifications": [{**RADIO, "required": "yes"}]}, "classifications[0].required", "true or false"),
        ({"tools": [{"name": "t", "type": "ranking", "color": "red"}]}, "tools[0].color", "bad color 'red'"),
        ({"tools": [{"name": "t", "type": "ranking", "colour": "#ffffff"}]}, "tools[0].colour", "unknown key"),
        ({"tools": {"name": "t"}}, "tools", "must be a list"),
        ({"tools": ["t"]}, "tools[0]", "a tool must be a mapping, got str"),
        ({"classifications": [{**RADIO, "options": [["a"]]}]}, "classifications[0].options[0]",
         "an option must be a string or a mapping"),
        ({"ontology": []}, "ontology", "unknown key"),
        ([], "", "the spec is not a mapping"),
    ],
)  # fmt: skip
def test_each_spec_problem_is_reported_at_its_path(spec, field, words):
    found = problems_of(spec)
    assert len(found) == 1, found
    assert found[0][0] == field and words in found[0][1], found


def test_every_problem_of_a_spec_is_listed_at_once():
    spec = {
        "tools": [{"name": "a", "type": "lasso"}, {"name": "a", "type": "ranking", "color": "blue"}],
        "classifications": [
            {"name": "q", "type": "radio", "scope": "row"},
            {"name": "c", "type": "checklist", "options": [{"value": "x", "classifications": [
                {"name": "n", "type": "text", "scope": "global"}, {"name": "n", "type": "text"}]}]},
        ],
    }  # fmt: skip
    assert [field for field, _ in problems_of(spec)] == [
        "tools[0].type",
        "tools[1].color",
        "classifications[0].options",
        "classifications[0].scope",
        "classifications[1].options[0].classifications[0].scope",
        "classifications[1].options[0].classifications[1].name",
        "tools[1].name",
    ]


# --- loading ---------------------------------------------------------------------------------------


YAML_SPEC = """
tools:
  - name: Single message selection
    type: message-single-selection
  - name: Multi message selection
    type: multi-selection
  - name: Message ranking
    type: ranking
classifications:
  - name: Choose the best response
    type: radio
    scope: global
    options: [Response A, Response B, Tie]
  - name: Provide a reason for your choice
    type: text
  - name: checklist_convo
    type: checklist
    scope: message
    options:
      - first_checklist_answer
      - value: second_checklist_answer
"""


def test_yaml_and_json_files_load_to_the_same_ontology(tmp_path):
    (tmp_path / "spec.yaml").write_text(YAML_SPEC, encoding="utf-8")
    (tmp_path / "spec.json").write_text(json.dumps(SEED_SPEC), encoding="utf-8")
    from_yaml = build_ontology(load_ontology_spec(tmp_path / "spec.yaml"))
    assert from_yaml == build_ontology(load_ontology_spec(str(tmp_path / "spec.json")))
    assert from_yaml == seed_ontology_with_the_sdk()


def test_yaml_booleans_are_caught_with_a_quoting_hint():
    spec = parse_ontology_spec("classifications:\n  - {name: Safe, type: radio, options: [yes, no]}\n")
    found = problems_of(spec)
    assert [f for f, _ in found] == [
        "classifications[0].options[0].value",
        "classifications[0].options[1].value",
    ]


def test_syntax_errors_name_the_file(tmp_path):
    (tmp_path / "spec.yml").write_text("tools: [unclosed\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"spec\.yml: 1 problem\n.*not valid YAML") as caught:
        load_ontology_spec(tmp_path / "spec.yml")
    assert caught.value.issues[0].fix == "fix the YAML syntax"
    with pytest.raises(ValidationError, match="not valid JSON"):
        parse_ontology_spec("{", fmt="json")


def test_unknown_spec_files_and_formats_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"\.json, \.yaml or \.yml"):
        load_ontology_spec(tmp_path / "spec.toml")
    with pytest.raises(ValueError, match="unknown ontology spec format"):
        parse_ontology_spec("{}", fmt="toml")


# --- the server's view -----------------------------------------------------------------------------


def as_server_returns(normalized: dict[str, Any]) -> dict[str, Any]:
    """Fill in ids the way Labelbox does, and add a key the spec never has."""
    server = copy.deepcopy(normalized)
    counter = itertools.count()

    def stamp(node: dict[str, Any]) -> None:
        node["featureSchemaId"] = f"fs{next(counter):023d}"
        node["schemaNodeId"] = f"sn{next(counter):023d}"
        for child in node.get("classifications", []) + node.get("options", []):
            stamp(child)

    for node in server["tools"] + server["classifications"]:
        stamp(node)
    for index, option in enumerate(server["classifications"][0]["options"]):
        option["position"] = index
    return server


def test_view_looks_features_up_by_name_value_label_and_id():
    spec = copy.deepcopy(SEED_SPEC)
    spec["classifications"][0]["options"][2] = {
        "value": "tie",
        "label": "Tie",
        "classifications": [{"name": "Why", "type": "text"}],
    }
    server = as_server_returns(build_ontology(spec))
    view = OntologyView.from_normalized(json.dumps(server))
    assert view.tool("Message ranking").tool == "message-ranking"
    best = view.classification("Choose the best response")
    assert best.scope == "global" and not best.message_scoped
    assert view.classification("checklist_convo").message_scoped
    assert best.option("tie") is best.option("Tie")
    assert best.option("tie").classifications["Why"].scope is None
    assert view.feature("Message ranking") is view.tool("Message ranking")
    assert view.by_schema_id[best.feature_schema_id] is best
    nested = best.option("tie").classifications["Why"]
    assert view.by_schema_id[nested.feature_schema_id] is nested
    assert len(view.by_schema_id) == 3 + 3 + 3 + 1 + 2


def test_view_errors_name_what_exists():
    view = OntologyView.from_normalized(build_ontology(SEED_SPEC))
    with pytest.raises(KeyError, match="no option 'Maybe'; it has 'Response A', 'Response B', 'Tie'"):
        view.classification("Choose the best response").option("Maybe")
    with pytest.raises(KeyError, match="no tool named 'rank'; it has 'Single message selection'"):
        view.tool("rank")
    with pytest.raises(KeyError, match="no tool or classification named 'x'"):
        view.feature("x")
    with pytest.raises(TypeError):
        view.tools["new"] = view.tools["Message ranking"]  # type: ignore[index]


def test_view_refuses_ambiguous_names():
    normalized = build_ontology(SEED_SPEC)
    normalized["tools"].append(copy.deepcopy(normalized["tools"][0]))
    with pytest.raises(ValueError, match="two tools named 'Single message selection'"):
        OntologyView.from_normalized(normalized)


# --- diffs -----------------------------------------------------------------------------------------


def test_same_ontology_on_the_server_has_no_differences():
    spec = build_ontology(SEED_SPEC)
    server = as_server_returns(spec)
    server["tools"][0]["color"] = server["tools"][0]["color"].upper()
    server["classifications"].reverse()
    server["classifications"][0] = dict(reversed(list(server["classifications"][0].items())))
    del server["tools"][1]["attributes"]
    assert diff_ontologies(spec, server) == []
    assert diff_ontologies(spec, json.dumps(server)) == []


def test_differences_are_named_in_words():
    spec = build_ontology(SEED_SPEC)
    server = as_server_returns(spec)
    server["tools"].pop(2)
    server["tools"][0]["required"] = True
    best = server["classifications"][0]
    best["options"].reverse()
    best["options"][0]["label"] = "Draw"
    best["options"][1]["options"] = [{"type": "text", "name": "Why", "instructions": "Why", "options": []}]
    server["classifications"][2]["scope"] = "global"
    server["classifications"].append(
        {"type": "text", "name": "Extra", "instructions": "Extra", "options": []}
    )
    assert diff_ontologies(spec, server) == [
        "tool 'Message ranking' is in the spec but not on the server",
        "tool 'Single message selection': required is False in the spec but True on the server",
        "classification 'Extra' is on the server but not in the spec",
        "classification 'Choose the best response': options are ordered ['Response A', 'Response B', 'Tie'] in "
        "the spec but ['Tie', 'Response B', 'Response A'] on the server",
        "classification 'Choose the best response' > option 'Response B' > classification 'Why' is on the "
        "server but not in the spec",
        "classification 'Choose the best response' > option 'Tie': label is 'Tie' in the spec but 'Draw' on "
        "the server",
        "classification 'checklist_convo': scope is 'index' in the spec but 'global' on the server",
    ]
