"""Row validation and chunking, the parts of an upsert that run before any byte is uploaded."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_mmc_provider.client.data_rows import _chunks, _specs, spool_rows
from airflow_mmc_provider.client.errors import DataRowSpecError


def conversation(key: str) -> dict:
    return {
        "global_key": key,
        "row_data": {
            "type": "application/vnd.labelbox.conversational.model-chat-evaluation",
            "version": 2,
            "actors": {},
            "messages": {},
            "rootMessageIds": [],
        },
    }


def test_every_bad_row_is_reported_with_row_field_and_fix():
    rows = [
        conversation("ok-1"),
        {"row_data": {"a": 1}},
        conversation("ok-1"),
        {**conversation("x" * 201)},
        {**conversation("typo"), "globalkey": "oops"},
        {"global_key": "empty", "row_data": ""},
        "not a row",
        {**conversation(" padded ")},
    ]
    with pytest.raises(DataRowSpecError) as caught:
        spool_rows(rows, io.BytesIO())
    text = str(caught.value)
    problems = caught.value.problems
    assert len(problems) == 7, problems
    assert "row 1: field 'global_key' is missing" in text
    assert "row 2 (global_key 'ok-1'): field 'global_key' repeats row 0" in text
    assert "has 201 characters; the limit is 200" in text
    assert "unknown field(s) 'globalkey'" in text
    assert "row 5 (global_key 'empty'): field 'row_data' is missing or empty" in text
    assert "row 6: expected an object" in text
    assert "white space" in text
    assert text.startswith("7 invalid data row(s), nothing was uploaded")


def test_empty_input_is_refused():
    with pytest.raises(DataRowSpecError, match="no rows were given"):
        spool_rows([], io.BytesIO())


def test_specs_mark_existing_keys_as_updates_and_new_ones_as_creates():
    spool = io.BytesIO()
    spool_rows([conversation("new"), conversation("old")], spool)
    spool.seek(0)
    specs = [json.loads(s) for s in _specs(spool, "ds1", {"old"})]
    assert specs[0]["id"] == {"type": "AUTO", "value": ""}
    assert specs[1]["id"] == {"type": "GKEY", "value": "old"}
    assert all(s["payload"]["dataset_id"] == "ds1" for s in specs)
    assert specs[1]["payload"]["row_data"]["version"] == 2
    assert specs[1]["payload"]["global_key"] == "old"


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=60),
    limit=st.integers(min_value=50, max_value=2000),
)
def test_chunks_are_json_arrays_under_the_limit_that_keep_every_spec_in_order(sizes, limit):
    specs = [json.dumps({"i": i, "pad": "x" * n}).encode() for i, n in enumerate(sizes)]
    chunks = list(_chunks(specs, limit))
    decoded = [item for chunk in chunks for item in json.loads(chunk)]
    assert [d["i"] for d in decoded] == list(range(len(sizes)))
    for chunk in chunks:
        assert len(chunk) <= limit or len(json.loads(chunk)) == 1
