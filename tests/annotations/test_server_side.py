"""What the emulator reuses when it processes an import: one line at a time, or a whole import."""

from __future__ import annotations

import json
from typing import Any

from airflow_mmc_provider.mmc.annotations.rules import (
    AnnotationValidator,
    ConversationIndex,
    OntologyIndex,
    annotation_line_errors,
)
from airflow_mmc_provider.mmc.conversation import response_ref

from .scenario import valid_lines


def test_a_valid_line_has_no_errors_in_any_form(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    row_data = documents["conv-1"]
    index = OntologyIndex.from_normalized(ontology)
    for line in valid_lines():
        text = json.dumps(line)
        assert annotation_line_errors(line, ontology, row_data) == []
        assert annotation_line_errors(text, json.dumps(ontology), json.dumps(row_data)) == []
        assert annotation_line_errors(text.encode(), index, ConversationIndex.from_row_data(row_data)) == []


def test_errors_are_readable_sentences(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    line = valid_lines()[1]
    line["messageEvaluationTask"]["data"]["modelConfigName"] = "gemini"
    claude = response_ref("conv-1", "claude").message_id
    assert annotation_line_errors(line, ontology, documents["conv-1"], line_no=4) == [
        "line 4 (data row 'conv-1', annotation 'Best'), messageEvaluationTask.data.modelConfigName: "
        f"modelConfigName 'gemini' is not the model of message '{claude}' ('claude'). "
        "Fix: use 'claude', the modelConfigName of the message's actor"
    ]
    assert annotation_line_errors(b"{oops", ontology, None, line_no=3) == [
        "line 3: the line is not valid JSON (JSON is malformed: object keys must be strings (byte 1)). "
        "Fix: fix the JSON syntax of this line"
    ]


def test_without_row_data_only_the_ontology_rules_apply(ontology: dict[str, Any]) -> None:
    line = valid_lines()[1]
    line["messageEvaluationTask"]["data"]["messageId"] = "unknown"
    assert annotation_line_errors(line, ontology, None) == []
    line["name"] = "Bestest"
    (error,) = annotation_line_errors(line, ontology, None)
    assert error.startswith(
        "data row 'conv-1', annotation 'Bestest', name: the ontology has no tool or classification"
    )


def test_nested_required_rules_can_be_relaxed_for_pre_labels(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    line = valid_lines()[3]
    line["answer"] = {"name": "bad"}
    assert len(annotation_line_errors(line, ontology, documents["conv-1"])) == 1
    assert annotation_line_errors(line, ontology, documents["conv-1"], check_required=False) == []


def test_a_whole_import(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    """Line numbers for the error file, duplicates across lines, and required features at the end."""

    class LazyDocuments(dict[str, Any]):
        fetched: list[str] = []

        def get(self, key: str, default: Any = None) -> Any:
            self.fetched.append(key)
            return documents.get(key, default)

    lazy = LazyDocuments()
    validator = AnnotationValidator(ontology, lazy)
    lines = [*valid_lines(), valid_lines()[5]]
    per_line = [validator.check(json.dumps(line), number) for number, line in enumerate(lines, start=1)]
    assert [len(found) for found in per_line] == [0] * 10 + [
        0
    ]  # no uuid yet: the repeat is not detected here
    assert lazy.fetched == ["conv-1"]  # indexed once
    uid = "0b7e0f6e-1111-4111-8111-111111111111"
    first = validator.check({**valid_lines()[5], "uuid": uid}, 12)
    second = validator.check({**valid_lines()[6], "uuid": uid}, 13)
    assert first == [] and [i.field for i in second] == ["uuid"]
    assert validator.finish() == []
    assert [i.line for i in validator.issues] == [13]


def test_a_document_given_by_url_skips_the_conversation_rules(ontology: dict[str, Any]) -> None:
    line = valid_lines()[1]
    line["messageEvaluationTask"]["data"]["messageId"] = "unknown"
    validator = AnnotationValidator(ontology, {"conv-1": "https://storage.example.com/conv-1.json"})
    assert validator.check(line, 1) == []
    assert validator.check({**line, "name": "Bestest"}, 2)[0].field == "name"
