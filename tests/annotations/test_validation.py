"""One test per validation rule of NDJSON lines: each problem names the line, the data row, the
annotation and the field, and all problems of a file are reported together."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from airflow_mmc_provider.mmc import annotation_validation
from airflow_mmc_provider.mmc.annotations import ndjson as ann
from airflow_mmc_provider.mmc.annotations.rules import ConversationIndex
from airflow_mmc_provider.mmc.conversation import prompt_message_id, response_ref
from airflow_mmc_provider.mmc.conversation.document import ConversationDocument
from airflow_mmc_provider.mmc.errors import ValidationError, ValidationIssue
from airflow_mmc_provider.mmc.ontology import build_ontology

from .scenario import ONTOLOGY_SPEC, RESTAURANT_KEY, RESTAURANT_MODELS, valid_lines

# line -> index in `valid_lines()`
RANK, BEST, GOOD, OVERALL, ISSUES, REASON, RESPONSE_QUALITY, RESPONSE_ISSUES, PROMPT_CATEGORY, NOTE = range(
    10
)


def check(lines: list[Any], ontology: Any, documents: Any = None, **options: Any) -> list[ValidationIssue]:
    return ann.collect_annotation_issues(lines, ontology, documents, **options)


def one(issues: list[ValidationIssue]) -> ValidationIssue:
    assert len(issues) == 1, issues
    return issues[0]


def edit(line: dict[str, Any], path: str, value: Any = ...) -> dict[str, Any]:
    """A copy of `line` with `path` (dots and [i]) set to `value`, or removed when value is ...."""
    result = copy.deepcopy(line)
    parts = [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]
    target = result
    for part in parts[:-1]:
        target = target[part]
    if value is ...:
        del target[parts[-1]]
    else:
        target[parts[-1]] = value
    return result


def line_of(index: int, **edits: Any) -> dict[str, Any]:
    line = valid_lines()[index]
    for path, value in edits.items():
        line = edit(line, path.replace("__", "."), value)
    return line


def assert_names(
    issue: ValidationIssue, line: int, annotation: str | None, field: str, data_row: str = "conv-1"
) -> None:
    """The rendered issue names the line, the data row, the annotation and the field."""
    where = f"line {line} (data row {data_row!r}" + (f", annotation {annotation!r})" if annotation else ")")
    assert str(issue).startswith(f"{where}, {field}: "), str(issue)
    assert issue.line == line and issue.key == data_row and issue.field == field


# --- valid input ---------------------------------------------------------------------------------


def test_every_kind_passes_and_comes_out_sorted_with_a_uuid(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    lines = valid_lines()
    body = ann.build_ndjson(lines, ontology, documents)
    out = body.split(b"\n")
    assert len(out) == len(lines)
    for raw, built in zip(out, lines, strict=True):
        decoded = json.loads(raw)
        assert decoded == {**built, "uuid": ann.annotation_uuid(built)}
        assert raw == json.dumps(decoded, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert ann.build_annotation_lines(lines, ontology, documents) == [json.loads(x) for x in out]


def test_documents_in_every_form_give_the_same_result(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    wrong = line_of(BEST, messageEvaluationTask__data__modelConfigName="gemini")
    forms = [
        documents,
        {"conv-1": json.dumps(documents["conv-1"])},
        {"conv-1": msgspec.convert(documents["conv-1"], ConversationDocument)},
        {"conv-1": ConversationIndex.from_row_data(documents["conv-1"])},
    ]
    results = [[str(i) for i in check([*valid_lines(), wrong], ontology, form)] for form in forms]
    assert len(results[0]) == 1
    assert all(result == results[0] for result in results)


def test_lines_by_data_row_id(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    lines = [edit(line, "dataRow", {"id": "ck-row-1"}) for line in valid_lines()]
    assert check(lines, ontology, {"ck-row-1": documents["conv-1"]}) == []
    issue = check(lines[:1], ontology, documents)[0]
    assert_names(issue, 1, "Rank", "dataRow", data_row="ck-row-1")
    assert "not among the conversations" in issue.message


def test_without_documents_the_conversation_rules_are_skipped(ontology: dict[str, Any]) -> None:
    foreign = line_of(BEST, messageEvaluationTask__data__messageId="not-a-message")
    assert check([foreign], ontology, None) == []


# --- shape ---------------------------------------------------------------------------------------


def test_text_that_is_not_json_or_not_an_object(ontology: dict[str, Any]) -> None:
    issues = check(['{"dataRow": ', "[1, 2]", "", '"text"'], ontology)
    assert [str(i).split(":")[0] for i in issues] == ["line 1", "line 2", "line 4"]
    assert "not valid JSON" in issues[0].message
    assert issues[1].message == "expected a JSON object, got a list"


def test_shape_problems_are_listed_with_their_paths(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    broken = line_of(RANK, messageEvaluationTask__data__rankedMessages__0__order="1", extra=1)
    broken = edit(broken, "messageEvaluationTask.data.rankedMessages.1.messageId")
    issues = check([broken], ontology, documents)
    assert {i.field for i in issues} == {
        "extra",
        "messageEvaluationTask.data.rankedMessages[0].order",
        "messageEvaluationTask.data.rankedMessages[1].messageId",
    }
    for issue in issues:
        assert str(issue).startswith("line 1 (data row 'conv-1', annotation 'Rank'), ")
    by_field = {i.field: i for i in issues}
    assert by_field["extra"].message == "unknown field"
    assert (
        by_field["messageEvaluationTask.data.rankedMessages[0].order"].message
        == "expected an integer or null, got a string"
    )
    assert (
        by_field["messageEvaluationTask.data.rankedMessages[1].messageId"].message
        == "required field is missing"
    )


def test_data_row(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    missing = edit(valid_lines()[REASON], "dataRow")
    issue = one(check([missing], ontology, documents))
    assert (issue.field, issue.message) == ("dataRow", "required field is missing")
    assert str(issue).startswith("line 1 (annotation 'Reason'), dataRow:")

    both = line_of(REASON, dataRow={"globalKey": "conv-1", "id": "ck1"})
    issue = one(check([both], ontology, documents))
    assert issue.field == "dataRow" and "exactly one of globalKey and id" in issue.message

    empty = line_of(REASON, dataRow={"globalKey": ""})
    issue = one(check([empty], ontology, documents))
    assert issue.field == "dataRow.globalKey" and issue.message == "the data row key is empty"

    unknown = line_of(REASON, dataRow={"globalKey": "conv-9"})
    assert_names(one(check([unknown], ontology, documents)), 1, "Reason", "dataRow", data_row="conv-9")


def test_feature_name_and_schema_id(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    issue = one(check([line_of(REASON, name="Reasons")], ontology, documents))
    assert_names(issue, 1, "Reasons", "name")
    assert issue.message == "the ontology has no tool or classification named 'Reasons'"
    assert "'Rank', 'Best'" in issue.fix

    nameless = edit(valid_lines()[REASON], "name")
    issue = one(check([nameless], ontology, documents))
    assert issue.field == "name" and "neither name nor schemaId" in issue.message


def with_schema_ids(normalized: dict[str, Any]) -> dict[str, Any]:
    """The ontology as the server returns it: every feature and option with a featureSchemaId."""
    result = copy.deepcopy(normalized)
    counter = iter(range(10_000))

    def visit(node: dict[str, Any]) -> None:
        node["featureSchemaId"] = f"ck{next(counter):023d}"
        for child in node.get("classifications", []) + node.get("options", []):
            visit(child)

    for node in result["tools"] + result["classifications"]:
        visit(node)
    return result


def test_schema_ids_identify_features_and_options(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    server = with_schema_ids(ontology)
    reason_id = next(c["featureSchemaId"] for c in server["classifications"] if c["name"] == "Reason")
    quality = next(c for c in server["classifications"] if c["name"] == "Response quality")
    good_id = quality["options"][0]["featureSchemaId"]
    by_id = edit(valid_lines()[REASON], "name")
    by_id["schemaId"] = reason_id
    both = line_of(REASON, schemaId=reason_id)
    option_by_id = line_of(RESPONSE_QUALITY, answer={"schemaId": good_id})
    assert check([by_id, both, option_by_id], server, documents) == []

    mismatch = line_of(NOTE, schemaId=reason_id)
    issue = one(check([mismatch], server, documents))
    assert_names(issue, 1, "Note", "schemaId")
    assert issue.message == f"schemaId {reason_id!r} is 'Reason', not 'Note'"
    unknown = line_of(RESPONSE_QUALITY, answer={"schemaId": "ck-nope"})
    issue = one(check([unknown], server, documents))
    assert issue.field == "answer.schemaId" and "no option here has schemaId 'ck-nope'" in issue.message


def test_uuids_are_well_formed_and_unique(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    issue = one(check([line_of(REASON, uuid="123")], ontology, documents))
    assert_names(issue, 1, "Reason", "uuid")
    assert issue.message == "'123' is not a UUID"

    uid = "0b7e0f6e-1111-4111-8111-111111111111"
    carried = [line_of(REASON, uuid=uid), line_of(NOTE, uuid=uid.upper())]
    issue = one(check(carried, ontology, documents))
    assert_names(issue, 2, "Note", "uuid")
    assert issue.message == f"uuid {uid.upper()} is used twice in this import (first at line 1)"

    same = valid_lines()[REASON]
    issue = one(check([same, valid_lines()[BEST], same], ontology, documents))
    assert_names(issue, 3, "Reason", "uuid")
    assert "(first at line 1)" in issue.message

    # a carried uuid equal to the deterministic uuid of another line of the same data row
    copied = {**valid_lines()[NOTE], "uuid": ann.annotation_uuid(same)}
    assert_names(one(check([same, copied], ontology, documents)), 2, "Note", "uuid")


# --- message tools -------------------------------------------------------------------------------


def test_tools_take_no_answer_and_no_message_id(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    issues = check([line_of(BEST, answer="x", messageId="m")], ontology, documents)
    assert [i.field for i in issues] == ["answer", "messageId"]
    assert issues[0].message == "'Best' is a message-single-selection tool, which takes no answer"

    issue = one(check([edit(valid_lines()[BEST], "messageEvaluationTask")], ontology, documents))
    assert_names(issue, 1, "Best", "messageEvaluationTask")
    assert issue.message == "messageEvaluationTask is missing"


def test_format_must_be_the_tools(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    issue = one(
        check([line_of(RANK, messageEvaluationTask__format="message-multi-selection")], ontology, documents)
    )
    assert_names(issue, 1, "Rank", "messageEvaluationTask.format")
    assert issue.message == "format is 'message-multi-selection' but 'Rank' is a message-ranking tool"
    issue = one(check([line_of(RANK, messageEvaluationTask__format="ranking")], ontology, documents))
    assert issue.fix == "use format 'message-ranking'"


def test_data_fields_belong_to_the_format(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    extra = line_of(BEST, messageEvaluationTask__data__selectedMessages=[])
    issue = one(check([extra], ontology, documents))
    assert_names(issue, 1, "Best", "messageEvaluationTask.data.selectedMessages")
    missing = edit(valid_lines()[BEST], "messageEvaluationTask.data.modelConfigName")
    issue = one(check([missing], ontology, documents))
    assert (issue.field, issue.message) == (
        "messageEvaluationTask.data.modelConfigName",
        "modelConfigName is missing",
    )
    no_list = edit(valid_lines()[GOOD], "messageEvaluationTask.data.selectedMessages")
    issue = one(check([no_list], ontology, documents))
    assert issue.field == "messageEvaluationTask.data.selectedMessages"


def test_parent_is_a_human_message_of_the_conversation(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    claude = response_ref("conv-1", "claude")
    issue = one(
        check(
            [line_of(GOOD, messageEvaluationTask__data__parentMessageId=claude.message_id)],
            ontology,
            documents,
        )
    )
    assert_names(issue, 1, "Good", "messageEvaluationTask.data.parentMessageId")
    assert issue.message == f"message {claude.message_id!r} is a model message, not a human message"
    assert prompt_message_id("conv-1") in issue.fix

    issue = one(
        check([line_of(GOOD, messageEvaluationTask__data__parentMessageId="nope")], ontology, documents)
    )
    assert issue.message == "message 'nope' is not in the conversation"
    issue = one(
        check([edit(valid_lines()[GOOD], "messageEvaluationTask.data.parentMessageId")], ontology, documents)
    )
    assert issue.message == "parentMessageId is missing"


def test_selected_messages_are_responses_of_the_parent_with_their_model(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    data = "messageEvaluationTask.data"
    wrong_model = line_of(BEST, messageEvaluationTask__data__modelConfigName="gemini")
    issue = one(check([wrong_model], ontology, documents))
    assert_names(issue, 1, "Best", f"{data}.modelConfigName")
    claude = response_ref("conv-1", "claude")
    assert (
        issue.message
        == f"modelConfigName 'gemini' is not the model of message {claude.message_id!r} ('claude')"
    )
    assert issue.fix == "use 'claude', the modelConfigName of the message's actor"

    prompt = prompt_message_id("conv-1")
    issue = one(check([line_of(BEST, messageEvaluationTask__data__messageId=prompt)], ontology, documents))
    assert issue.field == f"{data}.messageId"
    assert issue.message == f"message {prompt!r} is a human message, not a model response"

    other_turn = response_ref("conv-2", "claude", turn=1)
    line = ann.annotation_line(
        ann.single_selection(
            "Best", (other_turn.message_id, "claude"), parent_message_id=prompt_message_id("conv-2", 0)
        ),
        global_key="conv-2",
    )
    issue = one(check([line], ontology, documents))
    assert_names(issue, 1, "Best", f"{data}.messageId", data_row="conv-2")
    assert (
        issue.message
        == f"message {other_turn.message_id!r} is not a response to parent {prompt_message_id('conv-2', 0)!r}"
    )

    issue = one(
        check(
            [line_of(GOOD, messageEvaluationTask__data__selectedMessages__1__messageId="x")],
            ontology,
            documents,
        )
    )
    assert_names(issue, 1, "Good", f"{data}.selectedMessages[1].messageId")
    assert issue.message == "message 'x' is not in the conversation"
    assert "use one of the responses to" in issue.fix and "'gemini'" in issue.fix


def test_a_message_is_selected_or_ranked_once(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    doubled = valid_lines()[GOOD]
    selected = doubled["messageEvaluationTask"]["data"]["selectedMessages"]
    selected.append(dict(selected[0]))
    issue = one(check([doubled], ontology, documents))
    assert_names(issue, 1, "Good", "messageEvaluationTask.data.selectedMessages[2].messageId")
    assert "is listed twice (also at index 0)" in issue.message
    ordered = line_of(GOOD, messageEvaluationTask__data__selectedMessages__0__order=1)
    issue = one(check([ordered], ontology, documents))
    assert (issue.field, issue.message) == (
        "messageEvaluationTask.data.selectedMessages[0].order",
        "selected messages have no order",
    )


@pytest.mark.parametrize(
    ("orders", "shown"), [([1, 1, 2], "[1, 1, 2]"), ([0, 1, 2], "[0, 1, 2]"), ([1, 2, 4], "[1, 2, 4]")]
)
def test_ranking_orders_are_one_to_n(
    ontology: dict[str, Any], documents: dict[str, Any], orders: list[int], shown: str
) -> None:
    line = valid_lines()[RANK]
    for item, order in zip(line["messageEvaluationTask"]["data"]["rankedMessages"], orders, strict=True):
        item["order"] = order
    issue = one(check([line], ontology, documents))
    assert_names(issue, 1, "Rank", "messageEvaluationTask.data.rankedMessages")
    assert issue.message == f"orders are {shown}; they must be exactly 1..3, each once (no ties)"


def test_ranking_covers_every_response_of_the_parent(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    line = valid_lines()[RANK]
    ranked = line["messageEvaluationTask"]["data"]["rankedMessages"]
    dropped = ranked.pop()  # gemini
    issue = one(check([line], ontology, documents))
    assert_names(issue, 1, "Rank", "messageEvaluationTask.data.rankedMessages")
    assert issue.message == (
        f"the ranking covers 2 of the 3 responses to {prompt_message_id('conv-1')!r}; "
        f"it leaves out {dropped['messageId']!r} ('gemini')"
    )
    empty = line_of(RANK, messageEvaluationTask__data__rankedMessages=[])
    messages = [i.message for i in check([empty], ontology, documents)]
    assert "the ranking is empty" in messages
    unordered = edit(valid_lines()[RANK], "messageEvaluationTask.data.rankedMessages.0.order")
    issue = one(check([unordered], ontology, documents))
    assert (issue.field, issue.message) == (
        "messageEvaluationTask.data.rankedMessages[0].order",
        "order is missing",
    )


# --- classifications -----------------------------------------------------------------------------


def test_scope_decides_message_id(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    issue = one(check([line_of(REASON, messageId=prompt_message_id("conv-1"))], ontology, documents))
    assert_names(issue, 1, "Reason", "messageId")
    assert issue.message == "'Reason' is a global classification and takes no messageId"

    issue = one(check([edit(valid_lines()[NOTE], "messageId")], ontology, documents))
    assert_names(issue, 1, "Note", "messageId")
    assert issue.message == "'Note' is message-scoped, so the line needs messageId"

    issue = one(check([line_of(NOTE, messageId="m-x")], ontology, documents))
    assert issue.message == "message 'm-x' is not in the conversation"


def test_classifications_take_no_task_and_nest_inside_answers(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    task = valid_lines()[BEST]["messageEvaluationTask"]
    issue = one(check([line_of(REASON, messageEvaluationTask=task)], ontology, documents))
    assert (issue.field, issue.message) == (
        "messageEvaluationTask",
        "'Reason' is a text classification, not a message tool",
    )
    beside = line_of(ISSUES, classifications=[{"name": "Why", "answer": "x"}])
    issue = one(check([beside], ontology, documents))
    assert issue.field == "classifications" and "inside its answer" in issue.message


def test_radio_answers(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    issue = one(check([line_of(RESPONSE_QUALITY, answer=[{"name": "good"}])], ontology, documents))
    assert_names(issue, 1, "Response quality", "answer")
    assert issue.message == "a radio answer is one option object; got a list"
    assert issue.fix == "give {\"name\": <option>}, one of 'good', 'bad'"

    issue = one(check([line_of(RESPONSE_QUALITY, answer={"name": "great"})], ontology, documents))
    assert_names(issue, 1, "Response quality", "answer.name")
    assert issue.message == "the classification has no option named 'great'"

    issue = one(check([edit(valid_lines()[RESPONSE_QUALITY], "answer")], ontology, documents))
    assert issue.message == "a radio answer is one option object; no answer"


def test_options_are_named_by_value_or_label(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    by_label = line_of(OVERALL, answer__name="Bad")
    assert check([by_label], ontology, documents) == []


def test_checklist_answers(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    issue = one(check([line_of(ISSUES, answer=[])], ontology, documents))
    assert_names(issue, 1, "Issues", "answer")
    assert issue.message == "a checklist answer is a non-empty list of options, got an empty list"

    issue = one(
        check([line_of(ISSUES, answer=[{"name": "unsafe"}, {"name": "unsafe"}])], ontology, documents)
    )
    assert_names(issue, 1, "Issues", "answer[1]")
    assert issue.message == "option 'unsafe' is chosen twice (also at index 0)"

    issue = one(check([line_of(ISSUES, answer={"name": "unsafe"})], ontology, documents))
    assert "got an option object" in issue.message


def test_checklists_may_say_answers(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    """The SDK's raw-dict fixtures (and the docs' sample) spell a checklist's options `answers`."""
    line = valid_lines()[ISSUES]
    plural = {**{k: v for k, v in line.items() if k != "answer"}, "answers": line["answer"]}
    assert check([plural], ontology, documents) == []
    out = json.loads(ann.build_ndjson([plural], ontology, documents))
    assert out["answers"] == line["answer"] and "answer" not in out

    issue = one(check([{**plural, "answer": line["answer"]}], ontology, documents))
    assert (issue.field, issue.message) == ("answers", "both answer and answers are given")
    radio = valid_lines()[RESPONSE_QUALITY]
    issue = check([{**radio, "answers": [radio["answer"]]}], ontology, documents)[0]
    assert (
        issue.field == "answers" and issue.message == "answers is for checklists; 'Response quality' is radio"
    )


def test_text_answers(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    issue = one(check([line_of(REASON, answer="   ")], ontology, documents))
    assert_names(issue, 1, "Reason", "answer")
    assert issue.message == "a text answer is a non-empty string, got an empty string"
    issue = one(check([line_of(REASON, answer={"name": "x"})], ontology, documents))
    assert issue.message == "a text answer is a non-empty string, got an option object"
    issue = one(check([line_of(REASON, answer=3)], ontology, documents))
    assert issue.field == "answer" and issue.message.startswith("expected a string or an object or a list")


def test_nested_classifications_to_any_depth(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    nested = "answer.classifications"
    issue, required = check([line_of(OVERALL, answer__classifications__0__name="Whys")], ontology, documents)
    assert required.message == "the required nested classification 'Why' is missing"
    assert_names(issue, 1, "Overall quality", f"{nested}[0].name")
    assert issue.message == "the ontology nests no classification here named 'Whys'"
    assert issue.fix == "use one of 'Why', 'Severity'"

    deep = line_of(OVERALL, answer__classifications__1__answer__classifications__0__answer="")
    issue = one(check([deep], ontology, documents))
    assert issue.field == f"{nested}[1].answer.classifications[0].answer"

    deeper = line_of(OVERALL, answer__classifications__1__answer__name="low")
    issue = one(check([deeper], ontology, documents))
    assert (issue.field, issue.message) == (
        f"{nested}[1].answer.classifications",
        "the ontology nests no classifications here",
    )

    twice = valid_lines()[OVERALL]
    twice["answer"]["classifications"].append({"name": "Why", "answer": "again"})
    issue = one(check([twice], ontology, documents))
    assert (issue.field, issue.message) == (f"{nested}[2].name", "'Why' is answered twice here")

    under_plain = line_of(
        OVERALL, answer={"name": "good", "classifications": [{"name": "Why", "answer": "x"}]}
    )
    issue = one(check([under_plain], ontology, documents))
    assert issue.field == nested


def test_required_nested_classifications(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    without_why = edit(valid_lines()[OVERALL], "answer.classifications.0")
    issue = one(check([without_why], ontology, documents))
    assert_names(issue, 1, "Overall quality", "answer.classifications")
    assert issue.message == "the required nested classification 'Why' is missing"
    bare = line_of(OVERALL, answer={"name": "bad"})
    assert one(check([bare], ontology, documents)).field == "answer.classifications"
    assert check([without_why, bare], ontology, documents, check_required=False) == []


def test_required_classifications_per_data_row(documents: dict[str, Any]) -> None:
    spec = copy.deepcopy(ONTOLOGY_SPEC)
    for classification in spec["classifications"]:
        if classification["name"] in {"Reason", "Note"}:
            classification["required"] = True
    required = build_ontology(spec)
    conv2 = ann.annotation_line(ann.text("Reason", "fine"), global_key="conv-2")
    lines = [*(line for i, line in enumerate(valid_lines()) if i != REASON), conv2]
    issues = check(lines, required, documents)
    assert [(str(i).split(":")[0], i.field, i.line) for i in issues] == [
        ("data row 'conv-1' (first at line 1), Reason", "Reason", 1),
        ("data row 'conv-2' (first at line 10), Note", "Note", 10),
    ]
    assert issues[0].message == "the required classification 'Reason' has no annotation on this data row"
    assert check(lines, required, documents, check_required=False) == []


def test_at_most_5000_annotations_per_feature_and_data_row(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    lines = [ann.annotation_line(ann.text("Reason", f"r{i}"), global_key="conv-1") for i in range(5001)]
    lines.append(ann.annotation_line(ann.text("Reason", "other row"), global_key="conv-2"))
    lines.append(ann.annotation_line(ann.text("Reason", "r5001"), global_key="conv-1"))
    issue = one(check(lines, ontology, documents))
    assert_names(issue, 5001, "Reason", "name")
    assert (
        issue.message
        == "more than 5,000 annotations of 'Reason' on this data row (this line is the first over the limit)"
    )


# --- files ---------------------------------------------------------------------------------------


def test_all_problems_are_raised_together_and_lines_stop_at_the_first(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    lines = [
        *valid_lines()[:2],
        line_of(REASON, answer=""),
        valid_lines()[ISSUES],
        line_of(NOTE, messageId="m-x"),
    ]
    produced = []
    with pytest.raises(ValidationError) as raised:
        for encoded in ann.iter_ndjson_lines(lines, ontology, documents):
            produced.append(encoded)
    assert len(produced) == 2
    assert [i.line for i in raised.value.issues] == [3, 5]
    assert str(raised.value).startswith(
        "annotations: 2 problems\n  - line 3 (data row 'conv-1', annotation 'Reason'), answer:"
    )


def test_a_generator_is_read_a_bounded_way_ahead_and_gives_the_lines_a_list_gives(
    ontology: dict[str, Any], documents: dict[str, Any]
) -> None:
    """A streamed import holds at most `READ_AHEAD` inputs besides the line being produced."""
    count = 2 * ann.READ_AHEAD + 7
    lines = [ann.annotation_line(ann.text("Reason", f"r{i}"), global_key="conv-1") for i in range(count)]
    taken = 0

    def produce() -> Iterator[dict[str, Any]]:
        nonlocal taken
        for line in lines:
            taken += 1
            yield line

    stream = ann.iter_ndjson_lines(produce(), ontology, documents)
    first = next(stream)
    assert taken == ann.READ_AHEAD
    assert [first, *stream] == list(ann.iter_ndjson_lines(lines, ontology, documents))
    assert taken == count


def test_a_data_row_that_comes_back_after_its_index_was_dropped_is_indexed_again_and_checked(
    ontology: dict[str, Any], documents: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the last `INDEXED_ROWS` conversation indexes are kept; the rules hold all the same."""
    monkeypatch.setattr(annotation_validation, "INDEXED_ROWS", 1)
    reads: list[str] = []

    class Reading(dict[str, Any]):
        def get(self, key: str, default: Any = None) -> Any:
            reads.append(key)
            return super().get(key, default)

    other = response_ref("conv-2", "claude").message_id
    lines = [
        line_of(NOTE),
        line_of(NOTE, dataRow__globalKey="conv-2", messageId=other),
        line_of(NOTE, messageId=other),  # conv-2's message on conv-1
        line_of(NOTE, answer="again"),
    ]
    issue = one(check(lines, ontology, Reading(documents), check_required=False))
    assert_names(issue, 3, "Note", "messageId")
    assert reads == ["conv-1", "conv-2", "conv-1"]


def test_blank_lines_are_skipped_but_counted(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    text = [json.dumps(valid_lines()[REASON]), "  ", json.dumps(line_of(NOTE, messageId="m-x")).encode()]
    issue = one(check(text, ontology, documents))
    assert issue.line == 3


def test_labelbox_multi_turn_sample(ontology: dict[str, Any], documents: dict[str, Any]) -> None:
    """Annotations on the second turn of the seed's restaurant conversation (ids are Labelbox's)."""
    row = documents[RESTAURANT_KEY]
    second_prompt = "clxfznjb800073b6v43ppx9ca"
    responses = row["messages"][second_prompt]["childMessageIds"]
    models = [row["actors"][row["messages"][m]["actorId"]]["metadata"]["modelConfigName"] for m in responses]
    assert tuple(models) == RESTAURANT_MODELS
    pairs = list(zip(responses, models, strict=True))
    lines = [
        ann.annotation_line(
            ann.message_ranking("Rank", pairs[::-1], parent_message_id=second_prompt),
            global_key=RESTAURANT_KEY,
        ),
        ann.annotation_line(
            ann.radio("Prompt category", "travel"), global_key=RESTAURANT_KEY, message_id=second_prompt
        ),
    ]
    assert check(lines, ontology, documents) == []
    first_turn_answer = row["messages"]["clxfzhair00023b6vb607bqo6"]["childMessageIds"][0]
    wrong = ann.annotation_line(
        ann.single_selection("Best", (first_turn_answer, models[0]), parent_message_id=second_prompt),
        global_key=RESTAURANT_KEY,
    )
    issue = one(check([wrong], ontology, documents))
    assert issue.field == "messageEvaluationTask.data.messageId"
    assert "is not a response to parent 'clxfznjb800073b6v43ppx9ca'" in issue.message
