"""Records -> row_data v2 documents and upsert payloads: shapes, ids, keys and every validation rule."""

from __future__ import annotations

import io
import itertools
import json
from typing import Any

import msgspec
import pytest

from airflow_mmc_provider.mmc.conversation import (
    ConversationIds,
    ConversationRecord,
    build_document,
    build_payload,
    build_row_data,
    collect_issues,
    global_key_for,
    iter_payloads,
    parse_record,
    prompt_message_id,
    read_lines,
    record_issues,
    response_ref,
    response_refs,
)
from airflow_mmc_provider.mmc.conversation import build as conv
from airflow_mmc_provider.mmc.conversation.document import MAX_INLINE_CHARS, MMC_TYPE, document_issues
from airflow_mmc_provider.mmc.errors import ValidationError

from .samples import canonical

GPT4, GPT5 = "GPT 4 with temperature 0.7", "GPT 5"


def record(**fields: Any) -> ConversationRecord:
    return msgspec.convert({"key": "conv-1", **fields}, ConversationRecord)


def simple(**extra: Any) -> ConversationRecord:
    return record(**{"prompt": "Which is better?", "responses": {"model-a": "A", "model-b": "B"}, **extra})


def fields_of(issues: list[Any]) -> list[str]:
    return [issue.field for issue in issues]


# --- building --------------------------------------------------------------------------------------


def test_multi_turn_record_builds_labelbox_restaurant_sample(restaurant_row_data):
    """Two responses share the follow-up prompt, exactly as in Labelbox's own sample document."""
    messages = restaurant_row_data["messages"]
    text = {m: messages[m]["content"][0]["content"] for m in messages}
    turns = [
        {
            "prompt": text["clxfzhair00023b6vb607bqo6"],
            "responses": {GPT4: text["clxfzi3r400053b6vm5udpdgo"], GPT5: text["clxfzi3r400063b6vuaeajylo"]},
        },
        {
            "prompt": text["clxfznjb800073b6v43ppx9ca"],
            "responses": {GPT4: text["clxfzocbm00083b6v8vczsept"], GPT5: text["clxfzocbm00093b6vx4ndisub"]},
        },
    ]
    built = build_row_data(record(key="restaurant", turns=turns))
    assert canonical(built) == canonical(restaurant_row_data)


def test_single_turn_document_shape_and_key_order():
    built = build_row_data(simple())
    assert list(built) == ["type", "version", "actors", "messages", "rootMessageIds"]
    assert built["type"] == MMC_TYPE and built["version"] == 2
    ids = ConversationIds("conv-1")
    prompt = built["messages"][ids.prompt(0)]
    assert prompt == {
        "actorId": ids.user_actor,
        "content": [{"type": "text", "content": "Which is better?"}],
        "childMessageIds": [ids.response(0, "model-a"), ids.response(0, "model-b")],
    }
    assert built["actors"][ids.model_actor("model-b")] == {
        "role": "model",
        "metadata": {"modelConfigName": "model-b"},
    }
    assert built["actors"][ids.user_actor] == {"role": "human", "metadata": {"name": "User"}}
    assert built["rootMessageIds"] == [ids.prompt(0)]


def test_files_become_file_data_parts_after_the_text():
    prompt = {
        "text": "Is there a car in this image?",
        "files": [
            {"uri": "https://example.com/car.JPG"},
            {"uri": "gs://bucket/report.pdf", "mime_type": "Application/PDF; charset=binary"},
        ],
    }
    built = build_row_data(
        record(prompt=prompt, responses={"m": {"files": [{"uri": "https://x.io/a.webp"}]}})
    )
    ids = ConversationIds("conv-1")
    assert built["messages"][ids.prompt(0)]["content"] == [
        {"type": "text", "content": "Is there a car in this image?"},
        {"type": "fileData", "fileUri": "https://example.com/car.JPG", "mimeType": "image/jpeg"},
        {"type": "fileData", "fileUri": "gs://bucket/report.pdf", "mimeType": "application/pdf"},
    ]
    assert built["messages"][ids.response(0, "m")]["content"] == [
        {"type": "fileData", "fileUri": "https://x.io/a.webp", "mimeType": "image/webp"}
    ]


def test_seed_export_prompt_shape_is_what_the_builder_writes(car_image_row_data):
    """Labelbox's export sample is the evidence for the flat fileData shape; match it key for key."""
    sample = next(
        p for m in car_image_row_data["messages"].values() for p in m["content"] if p["type"] == "fileData"
    )
    built = build_row_data(
        record(prompt={"text": "x", "files": [{"uri": sample["fileUri"]}]}, responses={"m": "y"})
    )
    part = built["messages"][ConversationIds("conv-1").prompt(0)]["content"][1]
    assert part == sample
    assert list(part) == list(sample)


def test_history_is_a_chain_before_the_first_comparison():
    history = [
        {"role": "user", "text": "Hi"},
        {"role": "assistant", "text": "Hello!", "model": "model-a"},
        {"role": "user", "text": "Plan a trip"},
        {"role": "assistant", "text": "Where to?"},
    ]
    built = build_row_data(simple(history=history))
    ids = ConversationIds("conv-1")
    assert built["rootMessageIds"] == [ids.history(0)]
    chain = [ids.history(i) for i in range(4)] + [ids.prompt(0)]
    for parent, child in itertools.pairwise(chain):
        assert built["messages"][parent]["childMessageIds"] == [child]
    assert built["messages"][ids.history(1)]["actorId"] == ids.model_actor("model-a")
    assert built["actors"][ids.model_actor("assistant")]["metadata"] == {"modelConfigName": "assistant"}
    assert document_issues(built) == []


def test_model_config_ids_go_into_actor_metadata():
    built = build_row_data(simple(model_config_ids={"model-a": "e606593e-def3"}))
    actor = built["actors"][ConversationIds("conv-1").model_actor("model-a")]
    assert actor["metadata"] == {"modelConfigName": "model-a", "modelConfigId": "e606593e-def3"}


def test_same_record_builds_the_same_document_and_other_keys_other_ids():
    first, again = build_row_data(simple()), build_row_data(simple())
    assert first == again
    other = build_row_data(
        record(key="conv-2", prompt="Which is better?", responses={"model-a": "A", "model-b": "B"})
    )
    assert not set(first["messages"]) & set(other["messages"])
    assert canonical(first) == canonical(other)


def test_build_document_returns_the_typed_model():
    document = build_document(simple())
    assert document.messages[ConversationIds("conv-1").prompt(0)].child_message_ids
    assert msgspec.to_builtins(document) == build_row_data(simple())


def test_integer_keys_are_used_in_decimal():
    payload = build_payload(parse_record(b'{"key": 42, "prompt": "p", "responses": {"m": "r"}}'))
    assert payload["global_key"] == "42" and payload["external_id"] == "42"
    assert response_ref("42", "m").message_id in payload["row_data"]["messages"]


# --- resolver --------------------------------------------------------------------------------------


def test_response_ref_from_key_matches_the_built_document():
    turns = [
        {"prompt": "p0", "responses": {"a": "x", "b": "y"}},
        {"prompt": "p1", "responses": {"a": "x2", "b": "y2"}},
    ]
    rec = record(key="k", turns=turns)
    built = build_row_data(rec)
    for turn in (0, 1):
        for model in ("a", "b"):
            ref = response_ref("k", model, turn)
            assert ref == response_ref(rec, model, turn)
            assert ref.model_config_name == model and ref.turn == turn and ref.key == "k"
            assert ref.message_id in built["messages"][ref.parent_message_id]["childMessageIds"]
            actor = built["actors"][built["messages"][ref.message_id]["actorId"]]
            assert actor["metadata"]["modelConfigName"] == model
        assert prompt_message_id("k", turn) == response_ref("k", "a", turn).parent_message_id


def test_response_ref_names_what_a_record_has_when_asked_for_something_else():
    with pytest.raises(LookupError, match=r"no response of model 'c' in turn 0.*\(0, 'model-a'\)"):
        response_ref(simple(), "c")
    with pytest.raises(LookupError, match="no comparison turn 3"):
        prompt_message_id(simple(), 3)


def test_response_refs_of_a_ready_document(restaurant_row_data):
    refs = response_refs(record(key="r", row_data=restaurant_row_data))
    assert [(r.turn, r.model_config_name, r.message_id, r.parent_message_id) for r in refs] == [
        (0, GPT4, "clxfzi3r400053b6vm5udpdgo", "clxfzhair00023b6vb607bqo6"),
        (0, GPT5, "clxfzi3r400063b6vuaeajylo", "clxfzhair00023b6vb607bqo6"),
        (1, GPT4, "clxfzocbm00083b6v8vczsept", "clxfznjb800073b6v43ppx9ca"),
        (1, GPT5, "clxfzocbm00093b6vx4ndisub", "clxfznjb800073b6v43ppx9ca"),
    ]
    assert response_ref(record(key="r", row_data=restaurant_row_data), GPT5, 1).message_id == (
        "clxfzocbm00093b6vx4ndisub"
    )


# --- global keys -----------------------------------------------------------------------------------


def test_global_keys_that_fit_are_the_key_with_its_prefix():
    assert global_key_for("conv-1") == "conv-1"
    assert global_key_for("conv-1", "round-7/") == "round-7/conv-1"
    assert global_key_for("x" * 200) == "x" * 200


def test_long_global_keys_are_truncated_with_a_stable_hash_suffix():
    long_a, long_b = "a" * 300, "a" * 299 + "b"
    key_a = global_key_for(long_a)
    assert len(key_a) == 200 and key_a.startswith("a" * 183 + "~")
    assert key_a == global_key_for(long_a)
    assert key_a != global_key_for(long_b)
    assert global_key_for(long_a, "p/") != key_a


def test_global_key_length_counts_utf16_units():
    emoji_key = "😀" * 100  # 100 code points, 200 UTF-16 units: fits exactly
    assert global_key_for(emoji_key) == emoji_key
    longer = global_key_for("😀" * 101)
    assert len(longer.encode("utf-16-le")) // 2 == 199  # a surrogate pair is never split
    assert longer[:91] == "😀" * 91 and longer[91] == "~" and len(longer) == 91 + 17


def test_bad_prefixes_are_a_caller_error():
    with pytest.raises(ValueError, match="white space"):
        build_payload(simple(), global_key_prefix=" r/")
    with pytest.raises(ValueError, match="at most 100"):
        list(iter_payloads([], global_key_prefix="p" * 101))


# --- payloads --------------------------------------------------------------------------------------


def test_payload_has_every_upsert_key_in_shape():
    rec = simple(
        metadata={"prompt_category": "vision", "tags": ["a", "b"], "score": 3.5, "skipped": None},
        attachments=[
            {"type": "raw_text", "value": "Guide", "name": "guide"},
            {"type": "IMAGE", "value": "https://x.io/i.png"},
        ],
        external_id="ext-1",
    )
    payload = build_payload(rec, global_key_prefix="r7/")
    assert list(payload) == [
        "row_data",
        "global_key",
        "external_id",
        "media_type",
        "metadata_fields",
        "attachments",
    ]
    assert payload["global_key"] == "r7/conv-1" and payload["external_id"] == "ext-1"
    assert payload["media_type"] == "CONVERSATIONAL"
    assert payload["metadata_fields"] == [
        {"name": "prompt_category", "value": "vision"},
        {"name": "tags", "value": "a"},
        {"name": "tags", "value": "b"},
        {"name": "score", "value": 3.5},
    ]
    assert payload["attachments"] == [
        {"type": "RAW_TEXT", "value": "Guide", "name": "guide"},
        {"type": "IMAGE", "value": "https://x.io/i.png"},
    ]


def test_empty_optional_payload_keys_are_left_out():
    payload = build_payload(simple(metadata={"only": None}))
    assert set(payload) == {"row_data", "global_key", "external_id", "media_type"}


def test_ready_row_data_is_uploaded_as_given(restaurant_row_data):
    payload = build_payload(record(key="restaurant", row_data=restaurant_row_data))
    assert payload["row_data"] == restaurant_row_data
    assert payload["global_key"] == "restaurant"


def test_payloads_pass_the_data_row_clients_checks():
    """The lead's client validates rows again before upload; our payloads must sail through."""
    from airflow_mmc_provider.client.data_rows import row_problems_of

    payload = build_payload(simple(metadata={"a": 1}, attachments=[{"type": "RAW_TEXT", "value": "t"}]))
    assert row_problems_of(0, payload, {}) == []


# --- validation of records -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"key": ""}, "key", "empty"),
        ({"key": " k"}, "key", "white space"),
        ({"prompt": "  "}, "prompt", "empty content"),
        ({"responses": {}}, "responses", "no responses"),
        ({"responses": {"m": ""}}, "responses['m']", "empty content"),
        ({"responses": {" ": "x"}}, "responses[' ']", "model config name is empty"),
        ({"responses": {"m": {"text": " "}}}, "responses['m']", "no text and no files"),
        (
            {"prompt": {"text": "t", "files": [{"uri": "/local/a.png"}]}},
            "prompt.files[0].uri",
            "absolute URL",
        ),
        ({"prompt": {"text": "t", "files": [{"uri": "s3://b/a.png"}]}}, "prompt.files[0].uri", "s3://"),
        (
            {"prompt": {"text": "t", "files": [{"uri": "https://x.io/a"}]}},
            "prompt.files[0].mime_type",
            "no mime_type",
        ),
        (
            {"prompt": {"text": "t", "files": [{"uri": "https://x.io/a.bmp", "mime_type": "image/bmp"}]}},
            "prompt.files[0].mime_type",
            "unsupported MIME type 'image/bmp'",
        ),
        ({"history": [{"role": "user", "text": "x", "model": "m"}]}, "history[0].model", "user turn"),
        ({"history": [{"role": "assistant", "text": ""}]}, "history[0]", "empty content"),
        ({"metadata": {" ": "x"}}, "metadata[' ']", "no name"),
        ({"attachments": [{"type": "PDF", "value": "x"}]}, "attachments[0].type", "unknown attachment type"),
        ({"attachments": [{"type": "IMAGE", "value": "img.png"}]}, "attachments[0].value", "absolute URL"),
        ({"attachments": [{"type": "RAW_TEXT", "value": " "}]}, "attachments[0].value", "empty"),
        ({"model_config_ids": {"other": "id"}}, "model_config_ids['other']", "no model named 'other'"),
    ],
)
def test_each_record_problem_names_its_field(fields, field, words):
    base = {"prompt": "p", "responses": {"m": "r"}}
    issues = record_issues(record(**{**base, **fields}), line=7)
    assert len(issues) == 1, issues
    issue = issues[0]
    assert issue.field == field and words in issue.message
    assert issue.line == 7 and issue.fix
    assert str(issue).startswith("line 7 (key ")


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({}, "prompt", "no conversation"),
        ({"prompt": "p"}, "responses", "responses is missing"),
        ({"responses": {"m": "r"}}, "prompt", "prompt is missing"),
        ({"turns": []}, "turns", "turns is empty"),
        (
            {"prompt": "p", "responses": {"m": "r"}, "turns": [{"prompt": "p", "responses": {"m": "r"}}]},
            "turns",
            "mixes",
        ),
    ],
)
def test_conversation_form_problems(fields, field, words):
    issues = record_issues(record(**fields))
    assert any(i.field == field and words in i.message for i in issues), issues


def test_row_data_records_cannot_carry_history(restaurant_row_data):
    issues = record_issues(record(row_data=restaurant_row_data, history=[{"role": "user", "text": "x"}]))
    assert fields_of(issues) == ["history"]


def test_ready_documents_are_checked_with_row_data_paths(car_image_row_data):
    """Labelbox's export sample names models by id only; annotations could not refer to them."""
    issues = record_issues(record(row_data=car_image_row_data))
    assert sorted(fields_of(issues)) == [
        "row_data.actors['clwrt17a900043b6py2tepemd'].metadata.modelConfigName",
        "row_data.actors['clwrt17a900053b6p0xtyv1im'].metadata.modelConfigName",
    ]


def test_oversized_conversation_is_reported_before_upload():
    big = "x" * (MAX_INLINE_CHARS // 2)
    issues = collect_issues([simple(responses={"a": big, "b": big})])
    assert fields_of(issues) == ["row_data"]
    assert "2,621,440" in issues[0].message


def test_document_just_under_the_limit_passes():
    base = len(msgspec.json.encode(build_row_data(simple(responses={"a": "x"}))))
    payload = build_payload(simple(responses={"a": "x" * (MAX_INLINE_CHARS - base + 1)}))
    assert len(msgspec.json.encode(payload["row_data"])) == MAX_INLINE_CHARS


def test_build_refuses_invalid_records():
    with pytest.raises(ValidationError, match=r"responses\['m'\]: empty content"):
        build_row_data(record(prompt="p", responses={"m": ""}))


# --- parsing and batches ---------------------------------------------------------------------------


def test_shape_problems_are_all_listed_with_paths():
    line = json.dumps(
        {
            "key": "k",
            "prompt": 3,
            "responses": {"a": {"txt": "x"}, "b": {"files": [{"url": "u"}]}},
            "history": [{"role": "robot"}],
            "extra": True,
        }
    )
    with pytest.raises(ValidationError) as caught:
        parse_record(line, line=3)
    assert sorted(fields_of(list(caught.value.issues))) == [
        "extra",
        "history[0].role",
        "prompt",
        "responses['a'].txt",
        "responses['b'].files[0].uri",
        "responses['b'].files[0].url",
    ]
    assert all(issue.key == "k" and issue.line == 3 for issue in caught.value.issues)


def test_a_batch_reports_every_problem_with_its_line_and_uploads_nothing():
    lines = [
        b'{"key": "a", "prompt": "p", "responses": {"m": "r"}}',
        b"",
        b'{"key": "b", "prompt": "", "responses": {"m": "r"}}',
        b'{"key": "a", "prompt": "p", "responses": {"m": "r"}}',
        b'{"key": "c", "prompt": "p"',
        b"[1, 2]",
        b'{"key": "d", "prompt": 1, "responses": {"m": "r"}}',
        b'{"key": "d", "prompt": "p", "responses": {"m": "r"}}',
    ]
    produced = []
    with pytest.raises(ValidationError) as caught:
        for payload in iter_payloads(lines, subject="conversations.jsonl"):
            produced.append(payload)
    assert [p["global_key"] for p in produced] == ["a"]
    found = [(i.line, i.field) for i in caught.value.issues]
    assert found == [(3, "prompt"), (4, "key"), (5, ""), (6, ""), (7, "prompt"), (8, "key")]
    message = str(caught.value)
    assert message.startswith("conversations.jsonl: 6 problems")
    assert "duplicate global key 'a': line 1 has it too" in message
    assert "not valid JSON" in message and "not a JSON object" in message


def test_a_clean_batch_streams_payloads_in_order():
    lines = (json.dumps({"key": f"k{i}", "prompt": "p", "responses": {"m": "r"}}) for i in range(50))
    keys = [p["global_key"] for p in iter_payloads(lines, global_key_prefix="r/")]
    assert keys == [f"r/k{i}" for i in range(50)]


def test_batches_accept_dicts_and_records():
    items = [{"key": "a", "prompt": "p", "responses": {"m": "r"}}, simple()]
    assert [p["global_key"] for p in iter_payloads(items)] == ["a", "conv-1"]
    assert collect_issues([{"key": "a", "prompt": 1, "responses": {"m": "r"}}])[0].field == "prompt"


def test_truncated_keys_that_collide_are_reported_as_duplicates():
    long_key = "k" * 250
    lines = [{"key": long_key, "prompt": "p", "responses": {"m": "r"}}] * 2
    issues = collect_issues(lines)
    assert [(i.line, i.field) for i in issues] == [(2, "key")]


def test_error_message_is_capped_but_issues_are_complete():
    lines = [{"key": f"k{i}", "prompt": "", "responses": {"m": "r"}} for i in range(120)]
    with pytest.raises(ValidationError) as caught:
        list(iter_payloads(lines))
    assert len(caught.value.issues) == 120
    assert "... and 70 more" in str(caught.value)


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 1 << 20])
def test_read_lines_splits_any_chunking_the_same(chunk_size):
    data = b'{"a": 1}\n\n{"b": 2}\r\nlast-without-newline'
    assert list(read_lines(io.BytesIO(data), chunk_size)) == data.split(b"\n")
    assert list(read_lines(io.BytesIO(b"x\n"), chunk_size)) == [b"x"]


def test_the_module_documents_its_public_api():
    for name in conv.__all__:
        assert hasattr(conv, name), name


def test_lone_surrogates_in_keys_do_not_break_a_batch():
    """msgspec refuses them in JSON text (a reported issue); Python dicts can still carry them."""
    assert "not valid JSON" in collect_issues([b'{"key": "k\\ud800"}'])[0].message
    [payload] = list(iter_payloads([{"key": "k\ud800", "prompt": "p", "responses": {"m\udfff": "r"}}]))
    assert payload["global_key"] == "k\ud800"
    assert response_ref("k\ud800", "m\udfff").message_id in payload["row_data"]["messages"]
    assert global_key_for("\ud800" * 300)[-17] == "~"
