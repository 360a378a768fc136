"""The builders write the exact NDJSON shapes of wire reference section 8, and uuids are deterministic."""

from __future__ import annotations

import json
import uuid
from typing import Any

import msgspec
import pytest

from airflow_mmc_provider.mmc.annotations import ndjson as ann
from airflow_mmc_provider.mmc.annotations.rules import AnnotationLine
from airflow_mmc_provider.mmc.conversation import response_ref
from airflow_mmc_provider.mmc.conversation.document import ResponseRef

GK = {"globalKey": "gk1"}


def without_uuid(line: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in line.items() if k != "uuid"}


# The exact lines of the reference (section 8), uuid aside.
REFERENCE_LINES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        ann.annotation_line(
            ann.single_selection("single", ("m2", "GPT-4"), parent_message_id="m1"), global_key="gk1"
        ),
        {
            "dataRow": GK,
            "name": "single",
            "messageEvaluationTask": {
                "format": "message-single-selection",
                "data": {"messageId": "m2", "modelConfigName": "GPT-4", "parentMessageId": "m1"},
            },
        },
    ),
    (
        ann.annotation_line(
            ann.multi_selection("multi", [("m2", "GPT-4"), ("m3", "Claude")], parent_message_id="m1"),
            global_key="gk1",
        ),
        {
            "dataRow": GK,
            "name": "multi",
            "messageEvaluationTask": {
                "format": "message-multi-selection",
                "data": {
                    "parentMessageId": "m1",
                    "selectedMessages": [
                        {"messageId": "m2", "modelConfigName": "GPT-4"},
                        {"messageId": "m3", "modelConfigName": "Claude"},
                    ],
                },
            },
        },
    ),
    (
        ann.annotation_line(
            ann.message_ranking("rank", [("m3", "Claude"), ("m2", "GPT-4")], parent_message_id="m1"),
            global_key="gk1",
        ),
        {
            "dataRow": GK,
            "name": "rank",
            "messageEvaluationTask": {
                "format": "message-ranking",
                "data": {
                    "parentMessageId": "m1",
                    "rankedMessages": [
                        {"messageId": "m3", "modelConfigName": "Claude", "order": 1},
                        {"messageId": "m2", "modelConfigName": "GPT-4", "order": 2},
                    ],
                },
            },
        },
    ),
    (
        ann.annotation_line(
            ann.radio("g_radio", ann.answer("a", [ann.text("nested_text", "why")])), global_key="gk1"
        ),
        {
            "name": "g_radio",
            "answer": {"name": "a", "classifications": [{"name": "nested_text", "answer": "why"}]},
            "dataRow": GK,
        },
    ),
    (
        ann.annotation_line(ann.checklist("g_check", ["x", "y"]), global_key="gk1"),
        {"name": "g_check", "answer": [{"name": "x"}, {"name": "y"}], "dataRow": GK},
    ),
    (
        ann.annotation_line(ann.text("g_text", "free text"), global_key="gk1"),
        {"name": "g_text", "answer": "free text", "dataRow": GK},
    ),
    (
        ann.annotation_line(ann.radio("i_radio", "good"), global_key="gk1", message_id="m2"),
        {"name": "i_radio", "answer": {"name": "good"}, "dataRow": GK, "messageId": "m2"},
    ),
    (
        ann.annotation_line(
            ann.checklist("i_check", [ann.answer("x", [ann.radio("nested_radio", "n1")])]),
            global_key="gk1",
            message_id="m2",
        ),
        {
            "name": "i_check",
            "answer": [
                {"name": "x", "classifications": [{"name": "nested_radio", "answer": {"name": "n1"}}]}
            ],
            "dataRow": GK,
            "messageId": "m2",
        },
    ),
    (
        ann.annotation_line(ann.text("i_text", "msg text"), global_key="gk1", message_id="m3"),
        {"name": "i_text", "answer": "msg text", "dataRow": GK, "messageId": "m3"},
    ),
]


@pytest.mark.parametrize(("built", "expected"), REFERENCE_LINES, ids=[e["name"] for _, e in REFERENCE_LINES])
def test_builders_write_the_reference_lines(built: dict[str, Any], expected: dict[str, Any]) -> None:
    assert "uuid" not in built  # the batch functions give the deterministic one
    assert built == expected


def test_annotation_line_by_data_row_id_with_benchmark_flag_and_uuid() -> None:
    line = ann.annotation_line(
        ann.text("t", "x"),
        data_row_id="ckabc",
        benchmark_reference=True,
        uuid="7d6f8c4e-0000-4000-8000-000000000001",
    )
    assert line == {
        "dataRow": {"id": "ckabc"},
        "name": "t",
        "answer": "x",
        "isBenchmarkReferenceLabel": True,
        "uuid": "7d6f8c4e-0000-4000-8000-000000000001",
    }


@pytest.mark.parametrize("where", [{}, {"global_key": "a", "data_row_id": "b"}])
def test_annotation_line_needs_exactly_one_data_row_key(where: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="exactly one of global_key and data_row_id"):
        ann.annotation_line(ann.text("t", "x"), **where)


def test_schema_id_identifies_a_feature_alone_or_with_the_name() -> None:
    assert ann.text(None, "x", schema_id="ck1") == {"schemaId": "ck1", "answer": "x"}
    assert ann.radio("r", ann.answer(None, schema_id="ck2"), schema_id="ck1") == {
        "name": "r",
        "schemaId": "ck1",
        "answer": {"schemaId": "ck2"},
    }
    with pytest.raises(ValueError, match="name or schema_id"):
        ann.text(None, "x")


def test_response_refs_carry_their_parent() -> None:
    gpt, claude = response_ref("conv-1", "gpt-4o"), response_ref("conv-1", "claude")
    built = ann.message_ranking("Rank", [gpt, claude])
    data = built["messageEvaluationTask"]["data"]
    assert data["parentMessageId"] == gpt.parent_message_id
    assert [m["modelConfigName"] for m in data["rankedMessages"]] == ["gpt-4o", "claude"]
    assert [m["order"] for m in data["rankedMessages"]] == [1, 2]
    assert (
        ann.single_selection("Best", claude)["messageEvaluationTask"]["data"]["messageId"]
        == claude.message_id
    )


def test_parents_must_agree() -> None:
    first = response_ref("conv-2", "gpt-4o", turn=0)
    second = response_ref("conv-2", "claude", turn=1)
    with pytest.raises(ValueError, match="one annotation has one parent"):
        ann.message_ranking("Rank", [first, second])
    with pytest.raises(ValueError, match="one annotation has one parent"):
        ann.single_selection("Best", first, parent_message_id="other")
    with pytest.raises(ValueError, match="no parent is known"):
        ann.multi_selection("Good", [("m1", "gpt-4o")])
    with pytest.raises(ValueError, match="no parent is known"):
        ann.multi_selection("Good", [])
    assert ann.multi_selection("Good", [], parent_message_id="p")["messageEvaluationTask"]["data"] == {
        "parentMessageId": "p",
        "selectedMessages": [],
    }
    ref = ResponseRef("k", 0, "m", "id", "p")
    assert (
        ann.single_selection("Best", ref, parent_message_id="p")["messageEvaluationTask"]["data"][
            "parentMessageId"
        ]
        == "p"
    )


# --- uuids ---------------------------------------------------------------------------------------


def test_uuid_is_uuid5_of_the_canonical_line() -> None:
    line = ann.annotation_line(ann.checklist("Issues", ["verbosity"]), global_key="conv-1")
    canonical = json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = str(uuid.uuid5(ann.ANNOTATION_NAMESPACE, canonical))
    assert ann.annotation_uuid(line) == expected
    # pinned: a changed rule would make a retried import a different import
    assert str(ann.ANNOTATION_NAMESPACE) == "0fe7bb10-23dc-5989-895e-a7b73e095b1c"
    assert expected == "34f8a881-88c1-5be6-a1f9-0d3d6e009712"
    assert ann.annotation_uuid(line) == ann.annotation_uuid(json.dumps(line).encode())


def test_uuid_ignores_key_order_nulls_and_a_present_uuid() -> None:
    line = ann.annotation_line(ann.radio("Overall quality", "good"), global_key="conv-1")
    reordered = dict(reversed(list(line.items())))
    with_null = {**line, "messageId": None, "uuid": "0b7e0f6e-1111-4111-8111-111111111111"}
    assert ann.annotation_uuid(line) == ann.annotation_uuid(reordered) == ann.annotation_uuid(with_null)


def test_uuid_depends_on_data_row_feature_and_content() -> None:
    base = ann.annotation_line(ann.text("Reason", "x"), global_key="a")
    others = [
        ann.annotation_line(ann.text("Reason", "x"), global_key="b"),
        ann.annotation_line(ann.text("Reason", "x"), data_row_id="a"),
        ann.annotation_line(ann.text("Note", "x"), global_key="a"),
        ann.annotation_line(ann.text("Reason", "y"), global_key="a"),
        ann.annotation_line(ann.text("Reason", "x"), global_key="a", message_id="m"),
    ]
    uuids = {ann.annotation_uuid(line) for line in [base, *others]}
    assert len(uuids) == 6


def test_canonical_line_splices_the_uuid_into_the_sorted_encoding() -> None:
    line = ann.annotation_line(
        ann.message_ranking("Rank", [("b", "B"), ("a", "A")], parent_message_id="p"), global_key="k"
    )
    typed = msgspec.convert(line, AnnotationLine)
    encoded, uid = ann.canonical_line(typed)
    assert uid == ann.annotation_uuid(line)
    assert json.loads(encoded) == {**line, "uuid": uid}
    assert encoded == json.dumps(json.loads(encoded), sort_keys=True, separators=(",", ":")).encode()
    # a line that carries its uuid keeps it
    carried = msgspec.convert({**line, "uuid": "0b7e0f6e-1111-4111-8111-111111111111"}, AnnotationLine)
    assert ann.canonical_line(carried)[1] == "0b7e0f6e-1111-4111-8111-111111111111"


def test_annotation_uuid_rejects_what_is_not_an_annotation() -> None:
    with pytest.raises(ValueError, match="shape problem"):
        ann.annotation_uuid({"name": "x", "answer": 3, "dataRow": {"globalKey": "k"}})
