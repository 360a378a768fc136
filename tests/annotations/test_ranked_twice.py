"""One label ranks each prompt once per ranking tool: a second ranking is refused, and the issue
names both lines (the client before an import, the emulator when it processes one)."""

from __future__ import annotations

import json
from typing import Any

from airflow_mmc_provider.mmc.annotations import ndjson as ann
from airflow_mmc_provider.mmc.annotations.rules import AnnotationValidator
from airflow_mmc_provider.mmc.conversation import response_ref

from .scenario import MODELS, valid_lines


def ranking(order: tuple[str, ...], key: str = "conv-1") -> dict[str, Any]:
    refs = [response_ref(key, model) for model in order]
    return ann.annotation_line(ann.message_ranking("Rank", refs), global_key=key)


def test_two_different_rankings_of_one_prompt_are_refused_naming_both_lines(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    first, second = ranking(MODELS), ranking(tuple(reversed(MODELS)))
    lines = [first, valid_lines()[1], second]
    [issue] = ann.collect_annotation_issues(lines, ontology, documents)
    assert (issue.line, issue.key, issue.field) == (3, "conv-1", "messageEvaluationTask.data.rankedMessages")
    assert "(first at line 1)" in issue.message and "ranked a second time" in issue.message
    # the emulator validates an import with the same validator, line by line, as text
    validator = AnnotationValidator(ontology, documents)
    for number, line in enumerate(lines, start=1):
        validator.check(json.dumps(line), number)
    assert [(i.line, i.field) for i in validator.issues] == [(3, "messageEvaluationTask.data.rankedMessages")]


def test_an_identical_second_ranking_is_refused_too_but_other_rows_and_tools_are_not(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    # with uuids of their own, two identical rankings are no duplicate uuid: this rule names them
    first = {**ranking(MODELS), "uuid": "0b7e0f6e-1111-4111-8111-111111111111"}
    again = {**ranking(MODELS), "uuid": "0b7e0f6e-2222-4111-8111-111111111111"}
    [issue] = ann.collect_annotation_issues([first, again], ontology, documents)
    assert issue.line == 2 and "(first at line 1)" in issue.message
    other_row = ranking(("gpt-4o", "claude"), key="conv-2")
    assert ann.collect_annotation_issues([ranking(MODELS), other_row], ontology, documents) == []


def test_records_that_rank_one_prompt_twice_are_refused(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    records = [
        {"key": "conv-1", "ranking": list(MODELS)},
        {"key": "conv-1", "ranking": list(reversed(MODELS))},
    ]
    [issue] = ann.collect_annotation_issues([json.dumps(r) for r in records], ontology, documents)
    assert (
        issue.line == 2 and "(first at line 1)" in issue.message and "ranked a second time" in issue.message
    )
