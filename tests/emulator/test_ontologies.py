"""`upsertOntology`, `ontology` and `ontologies`: ids at every depth, stable reads, checks, search pages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_mmc_provider.emulator.ontologies import features

from .helpers import GET_ONTOLOGIES, GET_ONTOLOGY, UPSERT_ONTOLOGY, Projects, error_of


def deep_ontology() -> dict[str, Any]:
    """Features at every depth: tool > classification > option > classification > option."""
    leaf = {"type": "checklist", "name": "leaf", "options": [{"value": "x"}, {"value": "y", "label": "Why"}]}
    nested_radio = {"type": "radio", "name": "nested radio", "options": [{"value": "a", "options": [leaf]}]}
    return {
        "tools": [
            {
                "tool": "message-ranking",
                "name": "rank",
                "color": "#123456",
                "classifications": [nested_radio],
            },
            {"tool": "message-single-selection", "name": "pick"},
        ],
        "classifications": [
            {
                "type": "radio",
                "name": "top radio",
                "scope": "index",
                "options": [{"value": "p", "options": [leaf]}],
            },
            {"type": "text", "name": "free text"},
        ],
    }


def ids_of(normalized: dict[str, Any]) -> list[tuple[str, str]]:
    return [(node["featureSchemaId"], node["schemaNodeId"]) for node in features(normalized)]


def test_every_feature_at_every_depth_gets_ids_that_stay_the_same(gql, unique_name):
    api = Projects(gql)
    created = api.create_ontology(unique_name, deep_ontology())
    normalized = created["normalized"]
    assert isinstance(normalized, dict)  # a JSON object, not the string that was sent
    pairs = ids_of(normalized)
    assert len(pairs) == 13  # 2 tools, 2 top classifications, and everything under them
    flat = [i for pair in pairs for i in pair]
    assert all(isinstance(i, str) and len(i) == 25 and i.isalnum() for i in flat)
    assert len(set(flat)) == len(flat)

    again = gql.data(GET_ONTOLOGY, {"param_0": created["id"]})["ontology"]
    assert again["normalized"] == normalized
    listed = gql.data(GET_ONTOLOGIES, {"search": unique_name, "filter": {"status": "ALL"}, "first": 10})
    assert listed["ontologies"]["nodes"][0]["normalized"] == normalized

    assert (created["objectSchemaCount"], created["classificationSchemaCount"]) == (2, 2)
    assert created["mediaType"] == "CONVERSATIONAL" and created["name"] == unique_name


def test_defaults_the_builder_would_write_are_filled_in(gql, unique_name):
    normalized = Projects(gql).create_ontology(unique_name, deep_ontology())["normalized"]
    rank, pick = normalized["tools"]
    assert rank["color"] == "#123456" and pick["color"] == "#00ffff"  # hue 1/2, as OntologyBuilder does
    assert pick["classifications"] == [] and pick["required"] is False
    text = normalized["classifications"][1]
    assert (text["instructions"], text["options"]) == ("free text", [])
    leaf_options = normalized["classifications"][0]["options"][0]["options"][0]["options"]
    assert [(o["value"], o["label"]) for o in leaf_options] == [("x", "x"), ("y", "Why")]


def test_a_given_feature_schema_id_is_reused_but_the_node_is_new(gql, unique_name):
    api = Projects(gql)
    first = api.create_ontology(f"{unique_name}-1")["normalized"]
    copied = api.create_ontology(f"{unique_name}-2", first)["normalized"]
    assert [f for f, _ in ids_of(copied)] == [f for f, _ in ids_of(first)]
    assert not {n for _, n in ids_of(copied)} & {n for _, n in ids_of(first)}


@pytest.mark.parametrize(
    ("normalized", "fragment"),
    [
        ("not json", "must be a JSON document"),
        ("[]", "must be a JSON object"),
        (json.dumps({"tools": {}}), "tools must be a list"),
        (json.dumps({"tools": [{"tool": "lasso", "name": "t"}]}), "tools[0].tool must be one of"),
        (json.dumps({"tools": [{"tool": "message-ranking"}]}), "tools[0].name must be a non-empty string"),
        (json.dumps({"classifications": [{"type": "radio", "name": "r"}]}), "needs at least one option"),
        (json.dumps({"classifications": [{"type": "slider", "name": "s"}]}), "classifications[0].type"),
        (
            json.dumps(
                {"classifications": [{"type": "radio", "name": "r", "options": [{"label": "no value"}]}]}
            ),
            "classifications[0].options[0].value",
        ),
        (
            json.dumps({"classifications": [{"type": "text", "name": "t"}, {"type": "text", "name": "t"}]}),
            "names must be unique among siblings",
        ),
        (
            json.dumps({"classifications": [{"type": "text", "name": "t", "scope": "message"}]}),
            "scope must be 'global' or 'index'",
        ),
        (json.dumps({"tools": [{"tool": "step-reasoning", "name": "s"}]}), "definition must be an object"),
    ],
)
def test_malformed_ontologies_are_refused_with_the_path_of_the_problem(
    gql, unique_name, normalized, fragment
):
    data = {"name": unique_name, "normalized": normalized, "mediaType": "CONVERSATIONAL"}
    error = error_of(gql.post(UPSERT_ONTOLOGY, {"data": data}))
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"  # the SDK: InvalidQueryError
    assert error["extensions"]["exception"]["status"] == 400
    assert fragment in error["message"]


def test_every_problem_is_reported_at_once(gql, unique_name):
    bad = {"tools": [{"tool": "nope"}], "classifications": [{"type": "checklist", "name": "c"}]}
    data = {"name": unique_name, "normalized": json.dumps(bad), "mediaType": "CONVERSATIONAL"}
    message = error_of(gql.post(UPSERT_ONTOLOGY, {"data": data}))["message"]
    assert "tools[0].tool" in message and "tools[0].name" in message and "classifications[0]" in message


def test_a_chat_evaluation_ontology_must_be_conversational(gql, unique_name):
    data = {
        "name": unique_name,
        "normalized": "{}",
        "mediaType": "IMAGE",
        "editorTaskType": "MODEL_CHAT_EVALUATION",
    }
    error = error_of(gql.post(UPSERT_ONTOLOGY, {"data": data}))
    assert "CONVERSATIONAL" in error["message"]


def test_an_empty_ontology_and_one_without_media_type_are_fine(gql, unique_name):
    created = Projects(gql).create_ontology(unique_name, {}, media_type=None, editor_task_type=None)
    assert created["normalized"] == {"tools": [], "classifications": []}
    assert created["mediaType"] is None


def test_unknown_ontology_is_resource_not_found(gql):
    error = error_of(gql.post(GET_ONTOLOGY, {"param_0": "cnosuchontology00000000000"}))
    assert error["extensions"]["code"] == "RESOURCE_NOT_FOUND"


def test_search_matches_a_substring_in_any_case_and_pages_by_cursor(gql, unique_name):
    api = Projects(gql)
    made = [api.create_ontology(f"{unique_name}-Onto-{i}")["id"] for i in range(5)]
    api.create_ontology(f"other-{unique_name[::-1]}")
    seen, cursor, pages = [], None, 0
    while True:
        variables = {
            "search": f"{unique_name}-onto".upper(),
            "filter": {"status": "ALL"},
            "from": cursor,
            "first": 2,
        }
        page = gql.data(GET_ONTOLOGIES, variables)["ontologies"]
        seen += [node["id"] for node in page["nodes"]]
        pages, cursor = pages + 1, page["nextCursor"]
        if not cursor:
            break
    assert seen == made and pages == 3
    everything = gql.data(GET_ONTOLOGIES, {"search": None, "filter": {"status": "ALL"}, "first": 1000})
    assert set(made) <= {node["id"] for node in everything["ontologies"]["nodes"]}


def test_a_cursor_that_names_nothing_is_refused(gql):
    variables = {"search": "x", "filter": {"status": "ALL"}, "from": "not-a-cursor", "first": 2}
    assert "cursor" in error_of(gql.post(GET_ONTOLOGIES, variables))["message"]
