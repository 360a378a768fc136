"""The export parser: Labelbox's sample line, every annotation shape of wire reference section 9,
nested classifications, tolerated unknown keys, malformed lines reported with their number."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_mmc_provider.mmc.errors import ValidationError
from airflow_mmc_provider.mmc.export import (
    ClassificationAnswer,
    ExportError,
    ExportReader,
    LabelRecord,
    Response,
    iter_chunk_rows,
    iter_labels,
    iter_rows,
    parse_line,
    split_lines,
)

from . import lines as L

SEED_LINE = Path(__file__).parent / "data" / "seed_sample_line.ndjson"


def only_label(line: dict[str, Any], **options: Any) -> LabelRecord:
    labels = list(iter_labels(L.ndjson(line), **options))
    assert len(labels) == 1
    return labels[0]


# --- Labelbox's own sample (seed 000) ----------------------------------------------------------


def test_the_seed_sample_line() -> None:
    with SEED_LINE.open("rb") as handle:
        reader = ExportReader(handle)
        rows = list(reader.rows())
    assert reader.lines_read == 1 and reader.rows_read == 1 and reader.labels_read == 1
    [row] = rows
    assert row.data_row_id == "clwrm93488cpd0734f740r9lr"
    assert row.global_key == "clwrm92sb0grg07wncr6dhihw"
    assert row.project_id == "clwrm92jc0grc07wncq654q5s"
    assert row.project_name == "Multi modal chat evalution"
    assert row.workflow_status == "IN_REVIEW"
    assert row.batch_id == "c2267a60-1d9c-11ef-9edf-ed6f8eede535"
    assert row.has_conversation
    [label] = row.labels
    raw = json.loads(SEED_LINE.read_text())
    details = raw["projects"][row.project_id]["labels"][0]["label_details"]
    assert label.label_id == "clwrsyrdp02mr07x5378j3ysr"
    assert label.rater == details["created_by"]
    assert label.created_at == "2024-05-29T12:33:21.000+00:00"
    assert label.workflow_status == "IN_REVIEW" and label.batch_id == row.batch_id
    # The sample names models only by config id (annotation and actor): the project's
    # project_model_configs turn them into names.
    [ranking] = label.rankings
    assert ranking.feature == "Rank given prompt"
    assert ranking.parent_message_id == "clwrt16zz00033b6p6ud7w233"
    assert ranking.models == ("GPT_4o_multi_modal", "Gemini_pro_vison_multi_modal")
    assert [(r.order, r.position) for r in ranking.ranked] == [(1, 0), (2, 1)]
    assert not ranking.has_ties and ranking.unranked == ()
    [selection] = label.multi_selections
    assert selection.feature == "Subject relevance"
    assert selection.selected == (Response("clwrt1fw700063b6pe8zpo1xp", "GPT_4o_multi_modal", 0),)
    assert selection.unselected == (Response("clwrt1fw700073b6p8k3vkh1x", "Gemini_pro_vison_multi_modal", 1),)
    assert label.single_selections == () and label.classifications == ()


# --- every annotation kind in its export shape (section 9) --------------------------------------


def full_line(**options: Any) -> dict[str, Any]:
    objects = [
        L.single("best", "claude"),
        L.multi("acceptable", ["gpt", "claude"]),
        L.ranking("rank", ["claude", "gpt", "gemini"]),
    ]
    classifications = [
        L.radio("overall", "Good"),
        L.checklist("issues", ["Too long", "Off topic"]),
        L.text("reason", "claude was concise"),
        L.radio("prompt quality", "Clear", message="prompt"),
        L.checklist("response issues", ["Wrong"], message="resp-gpt"),
        L.text("response note", "hallucinated a date", message="resp-gpt"),
    ]
    lab = L.label("label-1", objects=objects, classifications=classifications)
    return L.line("row-1", [lab], models=["gpt", "claude", "gemini"], **options)


def test_every_annotation_kind() -> None:
    label = only_label(full_line())
    assert (label.data_row_id, label.global_key, label.external_id) == ("row-1", "gk-row-1", "ext-row-1")
    assert (label.project_id, label.label_id, label.rater) == ("proj-1", "label-1", "rater@example.com")
    assert (label.workflow_status, label.batch_id, label.batch_name) == ("DONE", "batch-1", "round-1")
    assert label.line == 1 and label.has_conversation and label.judgment_count == 3

    [single] = label.single_selections
    assert single.feature == "best" and single.parent_message_id == "prompt"
    assert single.selected == Response("resp-claude", "claude", 1)
    assert single.alternatives == (Response("resp-gpt", "gpt", 0), Response("resp-gemini", "gemini", 2))

    [multi] = label.multi_selections
    assert [r.model for r in multi.selected] == ["gpt", "claude"]
    assert multi.unselected == (Response("resp-gemini", "gemini", 2),)

    [ranking] = label.rankings
    assert ranking.models == ("claude", "gpt", "gemini")
    assert [r.position for r in ranking.ranked] == [1, 0, 2]

    by_name = {c.feature: c for c in label.classifications}
    assert by_name["overall"] == ClassificationAnswer("overall", "radio", "global", answers=("Good",))
    assert by_name["issues"] == ClassificationAnswer(
        "issues", "checklist", "global", answers=("Too long", "Off topic")
    )
    assert by_name["reason"] == ClassificationAnswer("reason", "text", "global", text="claude was concise")
    # message-scoped on the prompt (a human message: no model) and on a model response
    assert by_name["prompt quality"] == ClassificationAnswer(
        "prompt quality", "radio", "message", "prompt", None, ("Clear",)
    )
    assert by_name["response issues"] == ClassificationAnswer(
        "response issues", "checklist", "message", "resp-gpt", "gpt", ("Wrong",)
    )
    assert by_name["response note"] == ClassificationAnswer(
        "response note", "text", "message", "resp-gpt", "gpt", text="hallucinated a date"
    )


def test_row_data_as_string_or_object_gives_the_same_records() -> None:
    as_string = only_label(full_line(row_data_as_string=True))
    as_object = only_label(full_line(row_data_as_string=False))
    assert as_string == as_object


def test_ties_unranked_responses_and_sorting() -> None:
    objects = [L.ranking("rank", [["gpt", "gemini"], "claude"])]
    label = only_label(
        L.line("row", [L.label("l", objects=objects)], models=["gpt", "claude", "gemini", "llama"])
    )
    [ranking] = label.rankings
    assert ranking.has_ties
    assert [(r.model, r.order) for r in ranking.ranked] == [("gpt", 1), ("gemini", 1), ("claude", 2)]
    assert ranking.unranked == (Response("resp-llama", "llama", 3),)


def test_nested_classifications_are_flattened_with_their_path() -> None:
    nested_text = L.text("why", "it named the city")
    nested_check = {**L.checklist("aspects", ["Accuracy"]), "value": "aspects"}
    nested_check["checklist_answers"][0]["classifications"] = [nested_text]
    top = L.radio("overall", "Good", nested=[nested_check])
    message_scoped = L.radio("verdict", "Bad", message="resp-gpt", nested=[L.text("detail", "wrong year")])
    tool = L.single("best", "gpt")
    tool["classifications"] = [L.radio("confidence", "High")]
    lab = L.label("l", objects=[tool], classifications=[top, message_scoped])
    label = only_label(L.line("row", [lab]))
    got = {(c.path, c.feature): c for c in label.classifications}
    assert got[((), "overall")].answers == ("Good",)
    aspects = got[(("overall", "Good"), "aspects")]
    assert (aspects.kind, aspects.scope, aspects.answers) == ("checklist", "global", ("Accuracy",))
    why = got[(("overall", "Good", "aspects", "Accuracy"), "why")]
    assert (why.kind, why.text, why.key) == (
        "text",
        "it named the city",
        "overall > Good > aspects > Accuracy > why",
    )
    # nested answers inherit the message scope and its model
    detail = got[(("verdict", "Bad"), "detail")]
    assert (detail.scope, detail.message_id, detail.model, detail.text) == (
        "message",
        "resp-gpt",
        "gpt",
        "wrong year",
    )
    # classifications nested under a message tool: message scope on the tool's parent message
    confidence = got[(("best",), "confidence")]
    assert (confidence.scope, confidence.message_id, confidence.model) == ("message", "prompt", None)


def test_unknown_keys_are_tolerated_everywhere() -> None:
    base = full_line()
    noisy = json.loads(json.dumps(base))
    noisy["new_top_level"] = {"anything": [1, 2]}
    noisy["data_row"]["new_field"] = None
    project = noisy["projects"]["proj-1"]
    project["new_project_field"] = 3
    project["project_details"]["new_detail"] = "x"
    lab = project["labels"][0]
    lab["new_label_field"] = True
    lab["annotations"]["new_annotation_list"] = []
    for obj in lab["annotations"]["objects"]:
        obj["new_object_field"] = {"k": 1}
    for cls in lab["annotations"]["classifications"]:
        cls["new_classification_field"] = [None]
    doc = json.loads(noisy["data_row"]["row_data"])
    doc["draft"] = False
    doc["actors"]["user"]["extra"] = 1
    doc["messages"]["prompt"]["timestamp"] = "2024-01-01"
    noisy["data_row"]["row_data"] = json.dumps(doc)
    assert only_label(noisy) == only_label(base)


def test_unknown_annotation_kinds_are_counted_not_errors() -> None:
    entity = {"name": "span", "annotation_kind": "ConversationalTextEntity", "conversational_location": {}}
    lab = L.label("l", objects=[entity, L.single("best", "gpt")], classifications=[{"name": "empty"}])
    reader = ExportReader(L.ndjson(L.line("row", [lab])))
    [label] = list(reader)
    assert len(label.single_selections) == 1
    assert reader.skipped == {"object:ConversationalTextEntity": 1, "classification:no answer": 1}


# --- models ------------------------------------------------------------------------------------


def test_model_names_come_from_annotation_then_actor_then_project_configs() -> None:
    models = ["gpt", "claude"]
    doc = L.conversation(models, with_names=False)  # actors carry only modelConfigId
    objects = [L.ranking("rank", ["gpt", "claude"], names=False)]
    row = L.line("row", [L.label("l", objects=objects)], document=doc)
    # no names anywhere: the config id stands in
    assert only_label(row).rankings[0].models == ("cfg-gpt", "cfg-claude")
    # the project's model configs name them
    row["projects"]["proj-1"]["project_model_configs"] = {
        "model_configs": {"cfg-gpt": {"name": "GPT-4o"}, "cfg-claude": {"name": "Claude 3.5"}}
    }
    assert only_label(row).rankings[0].models == ("GPT-4o", "Claude 3.5")
    # the annotation's own name wins
    row["projects"]["proj-1"]["labels"][0]["annotations"]["objects"] = [L.ranking("rank", ["gpt", "claude"])]
    assert only_label(row).rankings[0].models == ("gpt", "claude")


def test_row_data_by_url_needs_a_loader_for_alternatives() -> None:
    doc = L.conversation(["gpt", "claude", "gemini"])
    row = L.line("row", [L.label("l", objects=[L.single("best", "gpt")])], document=doc)
    row["data_row"]["row_data"] = "https://storage.example.com/conversation.json"
    label = only_label(row)
    assert not label.has_conversation
    assert label.single_selections[0].selected == Response("resp-gpt", "gpt", None)
    assert label.single_selections[0].alternatives == ()
    fetched: list[str] = []

    def loader(url: str) -> dict[str, Any]:
        fetched.append(url)
        return doc

    label = only_label(row, row_data_loader=loader)
    assert fetched == ["https://storage.example.com/conversation.json"]
    assert label.has_conversation
    assert [r.model for r in label.single_selections[0].alternatives] == ["claude", "gemini"]
    # the loader may return JSON text too
    assert only_label(row, row_data_loader=lambda url: json.dumps(doc)) == label


# --- projects -----------------------------------------------------------------------------------


def test_projects_are_selected_by_id() -> None:
    other = L.line("row", [L.label("other-label")], project_id="proj-2")["projects"]
    row = L.line("row", [L.label("l", objects=[L.single("best", "gpt")])], extra_projects=other)
    assert [r.project_id for r in iter_rows(L.ndjson(row))] == ["proj-1", "proj-2"]
    assert [label.label_id for label in iter_labels(L.ndjson(row), project_ids="proj-2")] == ["other-label"]
    assert [r.project_id for r in iter_rows(L.ndjson(row), project_ids=["proj-1"])] == ["proj-1"]
    assert list(iter_rows(L.ndjson(row), project_ids=["nope"])) == []


def test_rows_without_labels() -> None:
    reader = ExportReader(L.ndjson(L.line("row", [])))
    rows = list(reader.rows())
    assert len(rows) == 1 and rows[0].labels == ()
    assert reader.rows_without_labels == 1 and reader.labels_read == 0


# --- malformed lines ----------------------------------------------------------------------------


def bad_export() -> list[bytes]:
    good = L.ndjson(full_line())[0]
    wrong_type = json.loads(good)
    wrong_type["projects"]["proj-1"]["labels"][0]["id"] = 42
    no_messages = json.loads(good)
    del no_messages["projects"]["proj-1"]["labels"][0]["annotations"]["objects"][2]["ranked_messages"]
    return [
        good,
        b"",  # blank lines are skipped but keep the numbering
        b'{"data_row": {"id": "row-3"}, "projects": ',  # truncated
        json.dumps(wrong_type).encode(),
        good,
        json.dumps(no_messages).encode(),
    ]


def test_a_malformed_line_raises_with_its_number_by_default() -> None:
    reader = ExportReader(bad_export())
    with pytest.raises(ExportError) as caught:
        list(reader)
    [issue] = caught.value.issues
    assert issue.line == 3
    assert "export line 3" in str(caught.value)
    assert isinstance(caught.value, ValidationError)


def test_bad_lines_can_be_tolerated_up_to_a_limit() -> None:
    reader = ExportReader(bad_export(), max_bad_lines=3)
    labels = list(reader)
    assert [label.line for label in labels] == [1, 5]
    assert [issue.line for issue in reader.issues] == [3, 4, 6]
    wrong_type, no_messages = reader.issues[1], reader.issues[2]
    # msgspec elides dict keys in paths
    assert (
        wrong_type.field == "projects[...].labels[0].id" and "Expected `str`, got `int`" in wrong_type.message
    )
    assert wrong_type.key == "row-1"
    assert no_messages.field.endswith("objects[2].ranked_messages")
    assert "without `ranked_messages`" in no_messages.message
    # one more bad line than allowed raises, with every issue so far
    with pytest.raises(ExportError) as caught:
        list(ExportReader(bad_export(), max_bad_lines=2))
    assert [issue.line for issue in caught.value.issues] == [3, 4, 6]
    # None: never raise
    reader = ExportReader(bad_export(), max_bad_lines=None)
    assert len(list(reader)) == 2 and reader.bad_lines == 3


@pytest.mark.parametrize(
    ("mutate", "field", "words"),
    [
        (lambda d: d.__setitem__("data_row", {}), "data_row", "missing required field `id`"),
        (lambda d: d["data_row"].__setitem__("row_data", "{not json"), "data_row.row_data", "not a readable"),
        (lambda d: d["data_row"].__setitem__("row_data", 12), "data_row.row_data", "neither a JSON string"),
        (
            lambda d: d["data_row"].__setitem__("row_data", {"actors": 5}),
            "data_row.row_data",
            "not a readable",
        ),
        (
            lambda d: d["projects"]["proj-1"]["labels"][0]["annotations"]["objects"][2]["ranked_messages"][
                "ranked_messages"
            ][0].pop("order"),
            "ranked_messages[0].order",
            "without `order`",
        ),
        (
            lambda d: d["projects"]["proj-1"]["labels"][0]["annotations"]["objects"][2]["ranked_messages"][
                "ranked_messages"
            ].append({"message_id": "resp-gpt", "order": 3}),
            "ranked_messages[3].message_id",
            "ranked twice",
        ),
    ],
)
def test_each_problem_names_its_field(mutate: Any, field: str, words: str) -> None:
    data = full_line()
    mutate(data)
    with pytest.raises(ExportError) as caught:
        parse_line(json.dumps(data), line_number=9)
    [issue] = caught.value.issues
    assert issue.line == 9 and issue.record == "export line 9"
    assert field in issue.field and words in issue.message


def test_first_line_numbers_a_resumed_stream() -> None:
    reader = ExportReader(bad_export()[2:3], first_line=101, max_bad_lines=None)
    list(reader)
    assert reader.issues[0].line == 101


def test_a_reader_reads_once() -> None:
    reader = ExportReader(L.ndjson(full_line()))
    list(reader)
    with pytest.raises(RuntimeError):
        list(reader)


# --- input forms --------------------------------------------------------------------------------


def test_str_lines_and_a_binary_file() -> None:
    data = b"\n".join(L.ndjson(full_line(), full_line())) + b"\n"
    from_file = list(iter_labels(io.BytesIO(data)))
    from_str = list(iter_labels(data.decode().splitlines()))
    assert len(from_file) == 2 and from_file == from_str


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=30))
def test_split_lines_is_independent_of_chunk_boundaries(cuts: list[int]) -> None:
    lines = L.ndjson(full_line(), L.line("row-2", [L.label("x")]), full_line())
    data = b"\n".join(lines) + b"\n"
    chunks = []
    start = 0
    for cut in cuts:
        chunks.append(data[start : start + cut])
        start += cut
    chunks.append(data[start:])
    assert list(split_lines(chunks)) == lines
    assert list(split_lines([data.rstrip(b"\n")])) == lines  # no final newline


def test_records_serialise() -> None:
    label = only_label(full_line())
    encoded = msgspec.json.encode(label)
    assert msgspec.json.decode(encoded, type=LabelRecord) == label


def test_row_data_missing_or_null() -> None:
    row = full_line()
    row["data_row"]["row_data"] = None
    label = only_label(row)
    assert not label.has_conversation
    assert label.single_selections[0].alternatives == ()
    del row["data_row"]["row_data"]
    assert only_label(row) == label
    # a str line parses like bytes
    assert (
        parse_line(json.dumps(full_line()))[0].labels
        == parse_line(json.dumps(full_line()).encode())[0].labels
    )


# --- reading downloaded chunks directly ----------------------------------------------------------


def _odd_lines() -> list[bytes]:
    """Good lines mixed with every kind of line the block decoder must not read in one call."""
    good = L.ndjson(full_line())[0]
    no_labels = json.dumps(L.line("row-9", [], models=["gpt"])).encode()
    bad_row_data = json.loads(good)
    bad_row_data["data_row"]["row_data"] = 12
    return [
        *bad_export(),
        b"   ",  # whitespace only: skipped, numbered
        no_labels,
        good + b" " + good,  # two values on one line: malformed
        b"  " + good,  # leading whitespace: a good line
        json.dumps(bad_row_data).encode(),
        good + b"\r",
        no_labels,
    ]


def _cut(data: bytes, cuts: list[int]) -> list[bytes]:
    chunks, start = [], 0
    for cut in cuts:
        chunks.append(data[start : start + cut])
        start += cut
    chunks.append(data[start:])
    return chunks


def _read(reader: ExportReader) -> tuple[list[Any], list[Any], tuple[int, ...], dict[str, int]]:
    rows = list(reader.rows())
    counters = (reader.lines_read, reader.rows_read, reader.labels_read, reader.rows_without_labels)
    return rows, [(i.line, i.field, i.message, i.key) for i in reader.issues], counters, reader.skipped


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=len(_odd_lines()) - 1), min_size=1, max_size=40),
    st.lists(st.integers(min_value=1, max_value=9000), min_size=0, max_size=12),
    st.booleans(),
    st.integers(min_value=1, max_value=5),
)
def test_reading_chunks_equals_reading_their_lines(
    picks: list[int], cuts: list[int], final_newline: bool, first_line: int
) -> None:
    """Same rows, issues (line, field, message, data row), counters and skipped kinds as line by
    line, whatever the chunk boundaries and however odd the lines."""
    pool = _odd_lines()
    data = b"\n".join(pool[i] for i in picks) + (b"\n" if final_newline else b"")
    chunks = _cut(data, cuts)
    options: dict[str, Any] = {"max_bad_lines": None, "first_line": first_line}
    by_chunks = _read(ExportReader.from_chunks(chunks, **options))
    by_lines = _read(ExportReader(split_lines(chunks), **options))
    assert by_chunks == by_lines
    assert [row.line for row in by_chunks[0]] == [row.line for row in by_lines[0]]


def test_chunks_of_many_lines_keep_line_numbers_and_stop_at_the_first_bad_line() -> None:
    good = L.ndjson(full_line())[0]
    lines = [good] * 300
    lines[217] = b'{"data_row": {"id": "row-218"}, "projects": {"p": {"labels": [{"id": 7}]}}}'
    data = b"\n".join(lines) + b"\n"
    chunks = _cut(data, [len(data) // 3, len(data) // 3])  # blocks of many whole lines
    reader = ExportReader.from_chunks(chunks)
    seen: list[int] = []
    with pytest.raises(ExportError) as caught:
        for row in reader.rows():
            seen.append(row.line)
    [issue] = caught.value.issues
    assert (issue.line, issue.key) == (218, "row-218") and issue.field.endswith("labels[0].id")
    assert seen == list(range(1, 218))
    assert [r.line for r in iter_chunk_rows([data], project_ids="proj-1", max_bad_lines=1)] == [
        n for n in range(1, 301) if n != 218
    ]


@pytest.mark.parametrize("row_data", [12, {"actors": 5}, "{not json"])
def test_a_bad_conversation_only_matters_to_the_projects_read(row_data: Any) -> None:
    data = full_line()
    data["data_row"]["row_data"] = row_data
    line = json.dumps(data).encode()
    assert parse_line(line, project_ids="another-project") == []
    with pytest.raises(ExportError):
        parse_line(line, project_ids="proj-1")
