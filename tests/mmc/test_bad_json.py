"""Every parser of user input names what a decoder's words do not: nesting too deep to read, a
byte-order mark, NaN/Infinity. Each is the project's `ValidationError` naming the line and the fix,
never a bare `RecursionError` (which Airflow would retry, and which names no line)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_mmc_provider.mmc.annotations import ndjson as ann
from airflow_mmc_provider.mmc.conversation import iter_payloads
from airflow_mmc_provider.mmc.conversation.mapping import parse_mapping_text
from airflow_mmc_provider.mmc.errors import ValidationError
from airflow_mmc_provider.mmc.export.reader import ExportReader
from airflow_mmc_provider.mmc.jsonl import MAX_NESTING
from airflow_mmc_provider.mmc.ontology import build_ontology
from airflow_mmc_provider.mmc.ontology.spec import MAX_CLASSIFICATION_LEVELS, parse_ontology_spec
from airflow_mmc_provider.operators.storage import JsonLinesError, iter_jsonl
from tests.export import lines as L
from tests.export.test_export import full_line
from tests.specs import SCENARIO_SPEC

GOOD = json.dumps({"key": "a", "prompt": "Hi?", "responses": {"m": "Hello", "n": "Hey"}}).encode()
DEEP = 3_000  # far beyond what any decoder follows


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def with_metadata(value: bytes) -> bytes:
    return b'{"key": "b", "prompt": "p", "responses": {"m": "x"}, "metadata": {"v": ' + value + b"}}"


def conversation_issues(lines: list[bytes]) -> list[Any]:
    with pytest.raises(ValidationError) as caught:
        list(iter_payloads(lines))
    return list(caught.value.issues)


def test_a_conversation_line_nested_too_deep_names_its_line_and_the_limit() -> None:
    [issue] = conversation_issues([GOOD, with_metadata(nested(DEEP))])
    assert issue.line == 2 and "nested too deeply" in issue.message
    assert f"{MAX_NESTING} levels" in issue.fix


def test_nesting_up_to_the_documented_limit_is_read(tmp_path: Any) -> None:
    source = tmp_path / "rows.jsonl"
    source.write_bytes(b'{"row_data": ' + nested(MAX_NESTING - 1) + b"}\n")
    [(_, row)] = list(iter_jsonl(str(source)))
    assert isinstance(row["row_data"], list)


def test_a_leading_bom_is_accepted_and_one_elsewhere_is_named(tmp_path: Any) -> None:
    source = tmp_path / "rows.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + GOOD + b"\n")
    assert [number for number, _ in iter_jsonl(str(source))] == [1]
    from airflow_mmc_provider.operators.storage import iter_lines

    assert len(list(iter_payloads(iter_lines(str(source))))) == 1
    [issue] = conversation_issues([GOOD, b"\xef\xbb\xbf" + GOOD])
    assert issue.line == 2 and "byte-order mark (BOM)" in issue.message


@pytest.mark.parametrize("word", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_named(word: str) -> None:
    [issue] = conversation_issues([with_metadata(word.encode())])
    assert "is not a JSON number" in issue.message and word.lstrip("-") in issue.message
    assert "null" in issue.fix


def test_a_data_row_file_nested_too_deep_names_the_file_and_line(tmp_path: Any) -> None:
    source = tmp_path / "rows.jsonl"
    source.write_bytes(GOOD + b"\n" + with_metadata(nested(DEEP)) + b"\n")
    with pytest.raises(
        JsonLinesError, match=r"rows.jsonl line 2: not valid JSON \(the line is nested too deeply"
    ):
        list(iter_jsonl(str(source)))


def test_an_annotation_line_nested_too_deep_is_an_issue_of_its_line() -> None:
    ontology = build_ontology(SCENARIO_SPEC)
    deep = b'{"key": "conv-1", "ranking": ' + nested(DEEP) + b"}"
    line = b'{"dataRow": {"globalKey": "conv-1"}, "name": "Rank", "x": ' + nested(DEEP) + b"}"
    issues = ann.collect_annotation_issues([deep, line], ontology)
    assert [(i.line, "nested too deeply" in i.message) for i in issues] == [(1, True), (2, True)]


def test_an_export_line_nested_too_deep_counts_against_max_bad_lines() -> None:
    good = L.ndjson(full_line())[0]
    deep = good[:-1] + b', "extra": ' + nested(DEEP) + b"}"
    reader = ExportReader([good, deep, good], max_bad_lines=1)
    assert [label.line for label in reader] == [1, 3]
    [issue] = reader.issues
    assert issue.line == 2 and "nested too deeply" in issue.message
    with pytest.raises(ValidationError, match="export line 2"):
        list(ExportReader([good, deep]))


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_spec_nested_too_deep_is_a_problem_of_the_spec(fmt: str) -> None:
    with pytest.raises(ValidationError, match="nested too deeply") as caught:
        parse_ontology_spec(nested(DEEP).decode(), fmt=fmt, source="deep.spec")
    assert caught.value.subject == "deep.spec"
    with pytest.raises(ValidationError, match="nested too deeply"):
        parse_mapping_text(nested(DEEP).decode(), source="mapping.yaml")


def test_a_json_spec_may_start_with_a_bom_and_names_nan() -> None:
    assert parse_ontology_spec('\ufeff{"tools": []}', fmt="json") == {"tools": []}
    with pytest.raises(ValidationError, match="NaN is not a JSON number"):
        parse_ontology_spec('{"tools": NaN}', fmt="json")


def chain(levels: int) -> dict[str, Any]:
    """A spec whose classifications nest `levels` deep, each under the option of the one above."""
    top: dict[str, Any] = {"name": "c0", "type": "radio", "options": [{"value": "o"}]}
    node = top
    for level in range(1, levels):
        child = {"name": f"c{level}", "type": "radio", "options": [{"value": "o"}]}
        node["options"][0]["classifications"] = [child]
        node = child
    return {"classifications": [top]}


def test_an_ontology_deeper_than_labelbox_takes_is_refused_locally() -> None:
    build_ontology(chain(MAX_CLASSIFICATION_LEVELS))
    with pytest.raises(ValidationError, match=f"nested more than {MAX_CLASSIFICATION_LEVELS} levels"):
        build_ontology(chain(MAX_CLASSIFICATION_LEVELS + 1))
    with pytest.raises(ValidationError, match="nested more than"):
        build_ontology(chain(300))


def test_a_response_file_line_nested_too_deep_names_its_file_and_line() -> None:
    from airflow_mmc_provider.mmc.conversation.mapping import join_responses
    from tests.mmc.test_mapping import SPEC

    evaluation_set = [json.dumps({"key": "k", "prompt": "Hi"}).encode()]
    responses = [b'{"x": ' + nested(DEEP) + b"}"]
    joined = join_responses(("eval", evaluation_set), [("week.jsonl", responses)], SPEC)
    [issue] = [i for i in joined.issues if "nested too deeply" in i.message]
    assert issue.line == 1 and "week.jsonl" in issue.record
