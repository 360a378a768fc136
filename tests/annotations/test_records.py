"""Annotation records: the JSONL format a data team keeps, resolved through the conversation ids."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from airflow_mmc_provider.mmc.annotations import ndjson as ann
from airflow_mmc_provider.mmc.conversation import (
    build_row_data,
    parse_record,
    prompt_message_id,
    response_ref,
)
from airflow_mmc_provider.mmc.ontology import build_ontology

from .scenario import ONTOLOGY_SPEC, RESTAURANT_KEY, valid_lines

EXAMPLE = {
    "key": "conv-1",
    "ranking": ["claude", "gpt-4o", "gemini"],
    "best": "claude",
    "good": ["claude", "gemini"],
    "classifications": {
        "Overall quality": {
            "answer": "bad",
            "classifications": {
                "Why": "too long",
                "Severity": {"answer": "high", "classifications": {"Details": "x"}},
            },
        },
        "Issues": ["verbosity", "unsafe"],
        "Reason": "claude is more specific",
        "Response quality": {"claude": "good"},
        "Response issues": {
            "gpt-4o": [{"answer": "factual error", "classifications": {"Where": "2nd paragraph"}}]
        },
        "Note": {"gemini": "polite"},
    },
    "prompt_classifications": {"Prompt category": "coding"},
}


def build(records: list[Any], ontology: Any, documents: Any = None, **options: Any) -> list[dict[str, Any]]:
    return ann.build_annotation_lines(records, ontology, documents, **options)


def issues_of(records: list[Any], ontology: Any, documents: Any = None, **options: Any) -> list[Any]:
    return ann.collect_annotation_issues(records, ontology, documents, **options)


def test_a_record_says_what_the_builders_say(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    """Same lines and the same uuids: a team can switch between the two forms."""
    from_records = build([json.dumps(EXAMPLE)], ontology, documents)
    from_builders = build(valid_lines(), ontology, documents)
    key = lambda line: (line["name"], line.get("messageId", ""))  # noqa: E731
    assert sorted(from_records, key=key) == sorted(from_builders, key=key)


def test_without_documents_the_ids_are_derived_from_the_key(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    assert build([EXAMPLE], ontology) == build([EXAMPLE], ontology, documents)


def test_records_come_as_text_bytes_dicts_or_structs(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    record = {"key": "conv-1", "best": "gpt-4o"}
    forms = [
        json.dumps(record),
        json.dumps(record).encode(),
        record,
        ann.AnnotationRecord(key="conv-1", best="gpt-4o"),
    ]
    results = [build([form], ontology, documents) for form in forms]
    assert all(result == results[0] for result in results)
    assert (
        results[0][0]["messageEvaluationTask"]["data"]["messageId"]
        == response_ref("conv-1", "gpt-4o").message_id
    )


def test_integer_keys_and_a_global_key_prefix(ontology: dict[str, Any]) -> None:
    record = parse_record({"key": 7, "prompt": "p", "responses": {"a": "x", "b": "y"}})
    documents = {"round-3/7": build_row_data(record)}
    lines = build([{"key": 7, "ranking": ["b", "a"]}], ontology, documents, global_key_prefix="round-3/")
    assert lines[0]["dataRow"] == {"globalKey": "round-3/7"}
    issue = issues_of([{"key": 7, "ranking": ["b", "a"]}], ontology, documents)[0]
    assert (issue.field, issue.key) == ("key", "7")
    assert issue.message == "data row '7' is not among the conversations given for validation"


def test_turns_of_a_multi_turn_conversation(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    lines = build(
        [
            {"key": "conv-2", "turn": 0, "ranking": ["gpt-4o", "claude"]},
            {
                "key": "conv-2",
                "turn": 1,
                "ranking": ["claude", "gpt-4o"],
                "prompt_classifications": {"Prompt category": "travel"},
            },
        ],
        ontology,
        documents,
    )
    parents = [line["messageEvaluationTask"]["data"]["parentMessageId"] for line in lines[:2]]
    assert parents == [prompt_message_id("conv-2", 0), prompt_message_id("conv-2", 1)]
    assert lines[2]["messageId"] == prompt_message_id("conv-2", 1)
    issue = issues_of([{"key": "conv-2", "turn": 2, "best": "claude"}], ontology, documents)[0]
    assert (str(issue).split(":")[0], issue.field) == (
        "line 1 (data row 'conv-2', annotation 'Best'), best",
        "best",
    )
    assert issue.message == "the conversation 'conv-2' has 2 comparison turn(s); turn 2 does not exist"
    negative = issues_of([{"key": "conv-2", "turn": -1, "best": "claude"}], ontology, documents)[0]
    assert negative.field == "turn"


def test_ready_made_row_data_resolves_through_the_document(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    """Labelbox's restaurant sample keeps its own ids: models and turns are found in the document."""
    record = {
        "key": RESTAURANT_KEY,
        "turn": 1,
        "ranking": ["GPT 5", "GPT 4 with temperature 0.7"],
        "classifications": {"Note": {"GPT 5": "detailed"}},
        "prompt_classifications": {"Prompt category": "travel"},
    }
    ranking, note, category = build([record], ontology, documents)
    data = ranking["messageEvaluationTask"]["data"]
    assert data["parentMessageId"] == "clxfznjb800073b6v43ppx9ca"
    assert [m["messageId"] for m in data["rankedMessages"]] == [
        "clxfzocbm00093b6vx4ndisub",
        "clxfzocbm00083b6v8vczsept",
    ]
    assert note["messageId"] == "clxfzocbm00093b6vx4ndisub"
    assert category["messageId"] == "clxfznjb800073b6v43ppx9ca"
    issue = issues_of([{"key": RESTAURANT_KEY, "best": "GPT 6"}], ontology, documents)[0]
    assert issue.message == "model 'GPT 6' has no response in turn 0 of 'restaurant'"
    assert issue.fix == "use one of the models of that turn: 'GPT 4 with temperature 0.7', 'GPT 5'"


def test_model_problems_name_the_record_field(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    issues = issues_of(
        [
            {
                "key": "conv-1",
                "ranking": ["claude", "gpt-5", "claude"],
                "good": ["gpt-5"],
                "classifications": {"Note": {"gpt-5": "x"}},
            }
        ],
        ontology,
        documents,
    )
    assert [(i.field, i.message) for i in issues] == [
        ("ranking[1]", "model 'gpt-5' has no response in turn 0 of 'conv-1'"),
        ("ranking[2]", "model 'claude' is listed twice"),
        ("good[0]", "model 'gpt-5' has no response in turn 0 of 'conv-1'"),
        ("classifications['Note']['gpt-5']", "model 'gpt-5' has no response in turn 0 of 'conv-1'"),
    ]
    assert str(issues[0]).startswith("line 1 (data row 'conv-1', annotation 'Rank'), ranking[1]: ")


def test_conversation_rules_apply_to_what_records_produce(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    issues = issues_of([{"key": "conv-1", "ranking": ["claude", "gpt-4o"]}], ontology, documents)
    assert len(issues) == 1
    assert issues[0].field == "ranking (messageEvaluationTask.data.rankedMessages)"
    assert "leaves out" in issues[0].message and "'gemini'" in issues[0].message
    empty = issues_of([{"key": "conv-1", "ranking": []}], ontology, documents)[0]
    assert (empty.field, empty.message) == ("ranking", "the ranking is empty")


def test_nobody_good_is_an_empty_multi_selection(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    (line,) = build([{"key": "conv-1", "good": []}], ontology, documents)
    assert line["messageEvaluationTask"]["data"] == {
        "parentMessageId": prompt_message_id("conv-1"),
        "selectedMessages": [],
    }


def test_classification_answers_by_type(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    record = {
        "key": "conv-1",
        "classifications": {
            "Overall quality": ["good"],
            "Issues": "verbosity",
            "Reason": "",
            "Response quality": "good",
            "Nope": 1,
            "Rank": ["claude"],
        },
        "prompt_classifications": {"Reason": "x", "Prompt category": "sports"},
    }
    issues = issues_of([record], ontology, documents)
    got = [(i.field, i.message) for i in issues]
    assert got == [
        (
            "classifications['Overall quality']",
            "'Overall quality' is a radio classification: give one option",
        ),
        ("classifications['Issues']", "'Issues' is a checklist classification: give a non-empty list"),
        ("classifications['Reason']", "'Reason' is a text classification: give a non-empty string"),
        (
            "classifications['Response quality']",
            "'Response quality' is message-scoped; answer it per response",
        ),
        ("classifications['Nope']", "the ontology has no classification named 'Nope'"),
        ("classifications['Rank']", "'Rank' is a message tool, not a classification"),
        (
            "prompt_classifications['Reason']",
            "'Reason' is a global classification; prompt_classifications are message-scoped",
        ),
        ("prompt_classifications['Prompt category']", "'Prompt category' has no option 'sports'"),
    ]
    assert [i.record for i in issues][:2] == [
        "line 1 (data row 'conv-1', annotation 'Overall quality')",
        "line 1 (data row 'conv-1', annotation 'Issues')",
    ]
    assert issues[-1].fix == "use one of 'coding', 'travel'"


def test_nested_answers_in_records(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    bad_nested = {
        "key": "conv-1",
        "classifications": {
            "Overall quality": {"answer": "bad", "classifications": {"Why": "x", "When": "now"}},
            "Issues": [{"answer": "unsafe", "classifications": {"Why": "x"}}],
            "Reason": {"answer": "x"},
        },
    }
    got = [(i.field, i.message) for i in issues_of([bad_nested], ontology, documents)]
    assert got == [
        (
            "classifications['Overall quality'].classifications['When']",
            "no classification 'When' is nested under this option",
        ),
        (
            "classifications['Issues'][0].classifications['Why']",
            "no classification 'Why' is nested under this option",
        ),
        ("classifications['Reason']", "'Reason' is a text classification: give a non-empty string"),
    ]
    malformed = {"key": "conv-1", "classifications": {"Overall quality": {"option": "bad"}}}
    issue = issues_of([malformed], ontology, documents)[0]
    assert issue.field == "classifications['Overall quality']"
    assert "unknown keys: ['option']" in issue.fix
    by_label = build(
        [
            {
                "key": "conv-1",
                "classifications": {"Overall quality": {"answer": "Bad", "classifications": {"Why": "x"}}},
            }
        ],
        ontology,
        documents,
    )
    assert by_label[0]["answer"] == {"name": "bad", "classifications": [{"name": "Why", "answer": "x"}]}


def test_record_shape_problems(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    issues = issues_of(
        [{"key": "conv-1", "rnking": ["claude"], "best": 3}, {"ranking": ["x"]}], ontology, documents
    )
    got = [(i.line, i.key, i.field, i.message) for i in issues]
    assert got == [
        (1, "conv-1", "rnking", "unknown field"),
        (1, "conv-1", "best", "expected a string or null, got an integer"),
        (2, None, "key", "required field is missing"),
    ]
    assert issues[0].fix.endswith("; an NDJSON line needs dataRow")


def test_feature_names_choose_the_tools(documents: dict[str, Any]) -> None:
    spec = copy.deepcopy(ONTOLOGY_SPEC)
    spec["tools"].append({"name": "Rank again", "type": "message-ranking"})
    spec["tools"] = [t for t in spec["tools"] if t["type"] != "message-multi-selection"]
    two_rankings = build_ontology(spec)
    record = {"key": "conv-1", "ranking": ["claude", "gpt-4o", "gemini"], "good": ["claude"]}
    got = [(i.field, i.message) for i in issues_of([record], two_rankings, documents)]
    assert got == [
        (
            "ranking",
            "the ontology has several message-ranking tools ('Rank', 'Rank again'); choose one with FeatureNames(ranking=...)",
        ),
        ("good", "the ontology has no message-multi-selection tool"),
    ]
    (line,) = build(
        [{"key": "conv-1", "ranking": ["claude", "gpt-4o", "gemini"]}],
        two_rankings,
        documents,
        names=ann.FeatureNames(ranking="Rank again"),
    )
    assert line["name"] == "Rank again"
    with pytest.raises(
        ValueError, match=r"FeatureNames\.best: the ontology has no message-single-selection tool"
    ):
        ann.AnnotationBatch(two_rankings, names=ann.FeatureNames(best="Rank"))


def test_records_and_ndjson_lines_mix(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    raw = valid_lines()[1]
    text = [
        json.dumps({"key": "conv-1", "ranking": ["claude", "gpt-4o", "gemini"]}),
        "",
        json.dumps(raw),
        json.dumps(raw),
    ]
    issues = issues_of(text, ontology, documents)
    assert [(i.line, i.field) for i in issues] == [(4, "uuid")]
