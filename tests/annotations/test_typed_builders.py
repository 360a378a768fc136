"""The typed builders: the dict builders' lines as Structs, arguments checked when built, and the
batch treating a typed line exactly as the dict line it stands for."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from airflow_mmc_provider.mmc.annotations import build as typed
from airflow_mmc_provider.mmc.annotations import ndjson as ann
from airflow_mmc_provider.mmc.conversation import build_row_data, global_key_for, parse_record, response_ref
from airflow_mmc_provider.mmc.ontology import build_ontology
from tests.specs import ROUND_SPEC

ONTOLOGY = build_ontology(ROUND_SPEC)
MODELS = ("gpt", "claude")
GK = global_key_for("conv-1")
DOCUMENTS = {
    GK: build_row_data(
        parse_record({"key": "conv-1", "prompt": "Q?", "responses": {m: f"A by {m}" for m in MODELS}})
    )
}
GPT, CLAUDE = (response_ref("conv-1", m) for m in MODELS)
PAIRS = [(r.message_id, r.model_config_name) for r in (GPT, CLAUDE)]


def both(benchmark: bool = False, **where: Any) -> tuple[list[dict[str, Any]], list[Any]]:
    """One label of every kind, written with the dict builders and with the typed ones."""
    if benchmark:
        where["benchmark_reference"] = True
    dict_lines = [
        ann.annotation_line(ann.message_ranking("Rank the responses", [CLAUDE, GPT]), **where),
        ann.annotation_line(ann.single_selection("Best response", CLAUDE), **where),
        ann.annotation_line(
            ann.multi_selection("Acceptable responses", PAIRS, parent_message_id=GPT.parent_message_id),
            **where,
        ),
        ann.annotation_line(
            ann.radio("Overall quality", ann.answer("bad", [ann.text("Why", "long")])), **where
        ),
        ann.annotation_line(
            ann.checklist("Response issues", ["verbosity"]), message_id=GPT.message_id, **where
        ),
        ann.annotation_line(
            ann.text("Reason", "claude cites"), uuid="0f8fad5b-d9cb-469f-a165-70867728950e", **where
        ),
    ]
    label = typed.LabelLines(
        global_key=where.get("global_key"),
        data_row_id=where.get("data_row_id"),
        benchmark_reference=benchmark,
    )
    typed_lines = [
        label.message_ranking("Rank the responses", [CLAUDE, GPT]),
        label.single_selection("Best response", CLAUDE),
        label.multi_selection("Acceptable responses", PAIRS, parent_message_id=GPT.parent_message_id),
        label.radio("Overall quality", typed.answer("bad", [typed.text("Why", "long")])),
        label.checklist("Response issues", ["verbosity"], message_id=GPT.message_id),
        label.text("Reason", "claude cites", uuid="0f8fad5b-d9cb-469f-a165-70867728950e"),
    ]
    return dict_lines, typed_lines


@pytest.mark.parametrize(
    ("where", "benchmark"), [({"global_key": GK}, False), ({"data_row_id": "ck-row-1"}, True)]
)
def test_typed_lines_are_the_dict_lines(where: dict[str, str], benchmark: bool) -> None:
    dict_lines, typed_lines = both(benchmark, **where)
    assert [msgspec.to_builtins(x) for x in typed_lines] == dict_lines
    assert all(line.get("isBenchmarkReferenceLabel", False) is benchmark for line in dict_lines)


def test_the_batch_gives_typed_and_dict_lines_the_same_body_and_uuids() -> None:
    dict_lines, typed_lines = both(global_key=GK)
    body = ann.build_ndjson(dict_lines, ONTOLOGY, DOCUMENTS)
    assert ann.build_ndjson(typed_lines, ONTOLOGY, DOCUMENTS) == body
    assert b"0f8fad5b-d9cb-469f-a165-70867728950e" in body  # a given uuid is kept
    mixed = [line for pair in zip(dict_lines, typed_lines, strict=True) for line in pair]
    issues = ann.collect_annotation_issues(mixed, ONTOLOGY, DOCUMENTS)
    # each typed line repeats the dict line before it: same uuid, reported as a duplicate of it
    assert [(i.line, i.field) for i in issues] == [(n, "uuid") for n in range(2, 13, 2)]


def test_typed_lines_are_validated_and_reported_like_dict_lines() -> None:
    label = typed.LabelLines(global_key=GK)
    wrong = [
        label.radio("Overall quality", "terrible"),  # no such option
        label.checklist("Response issues", ["verbosity"]),  # message-scoped without a message id
        label.single_selection("Best response", ("nope", "claude"), parent_message_id=GPT.parent_message_id),
        label.text("Nonexistent", "x"),
    ]
    as_dicts = [msgspec.to_builtins(x) for x in wrong]
    typed_issues = ann.collect_annotation_issues(wrong, ONTOLOGY, DOCUMENTS)
    assert typed_issues == ann.collect_annotation_issues(as_dicts, ONTOLOGY, DOCUMENTS)
    assert [i.line for i in typed_issues] == [1, 2, 3, 4]
    with pytest.raises(ann.ValidationError) as raised:
        ann.build_ndjson(wrong, ONTOLOGY, DOCUMENTS)
    assert "terrible" in str(raised.value)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda lb: lb.text("Reason", 42), "text 'Reason': the content is a str, got int"),
        (lambda lb: lb.text(7, "x"), "text: the name is a str, got int"),
        (lambda lb: lb.radio("Overall quality", 3), "radio: an option is its name .* got int"),
        (
            lambda lb: lb.checklist("Response issues", ["ok", {"name": "x"}]),
            "checklist: an option .* got dict",
        ),
        (
            lambda lb: lb.radio("Overall quality", typed.answer("bad", [{"name": "Why"}])),
            "nested .* got dict",
        ),
        (lambda lb: lb.text("Reason", "x", message_id=5), "message_id is a str, got int"),
        (lambda lb: lb.message_ranking("Rank the responses", [GPT], uuid=1), "uuid is a str, got int"),
        (
            lambda lb: lb.single_selection("Best response", "m1", parent_message_id="p"),
            "a message is a ResponseRef or",
        ),
        (
            lambda lb: lb.multi_selection("Acceptable responses", [("m1", None)], parent_message_id="p"),
            "are strings",
        ),
        (
            lambda lb: lb.message_ranking("Rank the responses", [("m1", "a")], parent_message_id=5),
            "parent_message_id is a str",
        ),
    ],
)
def test_typed_builders_check_their_arguments(build: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        build(typed.LabelLines(global_key=GK))


def test_typed_builders_share_the_dict_builders_value_rules() -> None:
    with pytest.raises(ValueError, match="exactly one of global_key and data_row_id"):
        typed.LabelLines()
    with pytest.raises(ValueError, match="exactly one of global_key and data_row_id"):
        typed.LabelLines(global_key="a", data_row_id="b")
    with pytest.raises(ValueError, match="name or schema_id"):
        typed.LabelLines(global_key=GK).text(None, "x")
    with pytest.raises(ValueError, match="one annotation has one parent"):
        typed.LabelLines(global_key=GK).message_ranking(
            "Rank the responses", [GPT], parent_message_id="other"
        )
    by_schema = typed.LabelLines(global_key=GK).radio(None, "good", schema_id="ckschema")
    assert msgspec.to_builtins(by_schema) == ann.annotation_line(
        ann.radio(None, "good", schema_id="ckschema"), global_key=GK
    )
