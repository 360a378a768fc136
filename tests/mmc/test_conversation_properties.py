"""Properties of the record -> document pipeline over generated records (hypothesis)."""

from __future__ import annotations

import io
import json
from collections import Counter
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_mmc_provider.mmc import media
from airflow_mmc_provider.mmc.conversation import (
    ConversationRecord,
    build_payload,
    collect_issues,
    global_key_for,
    iter_payloads,
    read_lines,
    record_issues,
    response_ref,
    response_refs,
)
from airflow_mmc_provider.mmc.conversation import build as conv
from airflow_mmc_provider.mmc.conversation.document import ConversationDocument, document_issues

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

texts = st.text(min_size=1, max_size=30).filter(lambda s: bool(s.strip()))
names = st.text(min_size=1, max_size=12).filter(lambda s: bool(s.strip()))
extensions = st.sampled_from(sorted(media.EXTENSION_MIME_TYPES))
uris = st.builds(
    "https://{}.example.com/{}.{}".format,
    st.text("abcdefghij", min_size=1, max_size=5),
    st.text("abcxyz019-_", min_size=1, max_size=8),
    extensions,
)
file_refs = st.fixed_dictionaries(
    {"uri": uris}, optional={"mime_type": st.sampled_from(sorted(media.ALLOWED_MIME_TYPES))}
)
said = st.one_of(
    texts,
    st.fixed_dictionaries({"text": texts}, optional={"files": st.lists(file_refs, max_size=2)}),
    st.fixed_dictionaries({"files": st.lists(file_refs, min_size=1, max_size=2)}),
)
responses = st.dictionaries(names, said, min_size=1, max_size=4)
turns = st.fixed_dictionaries({"prompt": said, "responses": responses})
past = st.one_of(
    st.fixed_dictionaries({"role": st.just("user"), "text": texts}),
    st.fixed_dictionaries({"role": st.just("assistant"), "text": texts}, optional={"model": names}),
)
keys = st.one_of(
    st.text(min_size=1, max_size=260).filter(lambda k: k == k.strip() and bool(k)),
    st.integers(min_value=0, max_value=10**15),
)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    record: dict[str, Any] = {"key": draw(keys)}
    if draw(st.booleans()):
        record.update(draw(turns))
    else:
        record["turns"] = draw(st.lists(turns, min_size=1, max_size=3))
    if draw(st.booleans()):
        record["history"] = draw(st.lists(past, max_size=3))
    if draw(st.booleans()):
        values = st.one_of(texts, st.integers(), st.lists(texts, max_size=2), st.none())
        record["metadata"] = draw(st.dictionaries(names, values, max_size=3))
    return record


def typed(record: dict[str, Any]) -> ConversationRecord:
    return msgspec.convert(record, ConversationRecord)


def comparison_turns(record: dict[str, Any]) -> list[dict[str, Any]]:
    return record.get("turns") or [{"prompt": record["prompt"], "responses": record["responses"]}]


@SETTINGS
@given(records())
def test_valid_records_build_valid_documents_of_the_typed_shape(record):
    assert record_issues(typed(record)) == []
    row_data = build_payload(typed(record))["row_data"]
    assert document_issues(row_data) == []
    as_typed = msgspec.convert(row_data, ConversationDocument)
    assert msgspec.to_builtins(as_typed) == row_data
    assert json.loads(msgspec.json.encode(as_typed)) == row_data


@SETTINGS
@given(records())
def test_building_is_deterministic_from_any_input_form(record):
    line = json.dumps(record).encode()
    from_line = next(iter_payloads([line]))
    from_dict = next(iter_payloads([record]))
    from_record = build_payload(typed(record))
    assert from_line == from_dict == from_record


@SETTINGS
@given(records())
def test_every_text_and_file_reaches_the_document(record):
    expected: Counter[str] = Counter()

    def add(item: Any) -> None:
        if isinstance(item, str):
            expected[item] += 1
            return
        if item.get("text", "").strip():
            expected[item["text"]] += 1
        for file in item.get("files", []):
            expected[file["uri"]] += 1

    for earlier in record.get("history", []):
        add(earlier)
    for comparison in comparison_turns(record):
        add(comparison["prompt"])
        for response in comparison["responses"].values():
            add(response)
    row_data = build_payload(typed(record))["row_data"]
    found = Counter(
        part.get("content", part.get("fileUri"))
        for message in row_data["messages"].values()
        for part in message["content"]
    )
    assert found == expected


@SETTINGS
@given(records())
def test_response_refs_point_at_model_responses_under_their_prompt(record):
    rec = typed(record)
    row_data = build_payload(rec)["row_data"]
    refs = response_refs(rec)
    assert len(refs) == sum(len(t["responses"]) for t in comparison_turns(record))
    for ref in refs:
        assert ref == response_ref(rec.key_text, ref.model_config_name, ref.turn)
        assert ref.message_id in row_data["messages"][ref.parent_message_id]["childMessageIds"]
        actor = row_data["actors"][row_data["messages"][ref.message_id]["actorId"]]
        assert actor == {"role": "model", "metadata": {"modelConfigName": ref.model_config_name}}
        assert row_data["actors"][row_data["messages"][ref.parent_message_id]["actorId"]]["role"] == "human"


@SETTINGS
@given(records(), st.text(alphabet=st.characters(codec="utf-8"), max_size=50))
def test_size_bound_is_never_below_the_encoded_length(record, extra_text):
    """The encode is skipped below the bound, so the bound must hold even for escape-heavy text."""
    first = comparison_turns(record)[0]
    first["responses"]["escapes"] = '\x00\x1f"\\\u2028' * 20 + extra_text + "x"
    builder = conv._Builder(typed(record))
    row_data = builder.build()
    assert builder.size_bound() >= len(msgspec.json.encode(row_data).decode())


@SETTINGS
@given(records(), st.data())
def test_one_emptied_response_is_one_issue_at_its_path(record, data):
    comparisons = comparison_turns(record)
    index = data.draw(st.integers(0, len(comparisons) - 1))
    model = data.draw(st.sampled_from(sorted(comparisons[index]["responses"])))
    comparisons[index]["responses"][model] = " "
    if "turns" in record:
        record["turns"] = comparisons
    prefix = f"turns[{index}]." if "turns" in record else ""
    issues = collect_issues([record])
    assert [(i.field, i.message) for i in issues] == [(f"{prefix}responses[{model!r}]", "empty content")]


@SETTINGS
@given(st.text(min_size=1, max_size=400), st.text(max_size=20))
def test_global_keys_fit_and_stay_stable(key, prefix):
    result = global_key_for(key, prefix)
    assert len(result.encode("utf-16-le", "surrogatepass")) // 2 <= 200
    assert result == global_key_for(key, prefix)
    if len((prefix + key).encode("utf-16-le", "surrogatepass")) // 2 <= 200:
        assert result == prefix + key
    else:
        assert result[-17] == "~" and (prefix + key).startswith(result[:-17])


@SETTINGS
@given(st.lists(st.text(min_size=190, max_size=260), min_size=2, max_size=6, unique=True))
def test_distinct_long_keys_keep_distinct_global_keys(keys_):
    assert len({global_key_for(k) for k in keys_}) == len(keys_)


@SETTINGS
@given(st.binary(max_size=300), st.integers(min_value=1, max_value=40))
def test_read_lines_is_split_on_newlines_for_any_chunking(data, chunk_size):
    expected = data.split(b"\n")
    if expected and expected[-1] == b"":
        expected.pop()
    assert list(read_lines(io.BytesIO(data), chunk_size)) == expected


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=15,
)
record_like = st.dictionaries(
    st.sampled_from(
        ["key", "prompt", "responses", "turns", "history", "row_data", "metadata", "attachments"]
    ),
    json_values,
)


@SETTINGS
@given(st.lists(record_like | json_values, max_size=4))
def test_any_input_is_either_a_payload_or_an_issue_never_a_crash_or_silence(items):
    lines = [json.dumps(item) for item in items]
    issues = collect_issues(lines)
    produced = 0
    try:
        produced = sum(1 for _ in iter_payloads(lines))
    except Exception as error:  # only the documented error may escape
        assert type(error).__name__ == "ValidationError"
        assert issues
    else:
        assert not issues
    assert produced in (0, len([line for line in lines if line.strip()]))


@SETTINGS
@given(
    st.dictionaries(st.sampled_from(["type", "version", "actors", "messages", "rootMessageIds"]), json_values)
)
def test_any_document_gets_a_verdict(document):
    issues = document_issues(document)
    if not issues:
        msgspec.convert(document, ConversationDocument)
