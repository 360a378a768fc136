"""Round keys in global keys: the layout, its validation, and the same keys on the annotation side."""

from __future__ import annotations

import json

import pytest

from airflow_mmc_provider.mmc.annotations import referenced_data_rows
from airflow_mmc_provider.mmc.conversation import (
    build_payload,
    global_key_for,
    iter_payloads,
    key_prefix,
    parse_record,
)


def line(key: str) -> bytes:
    return json.dumps({"key": key, "prompt": {"text": "Q"}, "responses": {"m-a": "A", "m-b": "B"}}).encode()


def test_a_round_key_sits_between_prefix_and_record_key_and_the_external_id_stays_the_record_key():
    payloads = list(iter_payloads([line("c-1"), line("c/2")], global_key_prefix="team/", round_key="round-1"))
    assert [p["global_key"] for p in payloads] == ["team/round-1/c-1", "team/round-1/c/2"]
    assert [p["external_id"] for p in payloads] == ["c-1", "c/2"]
    record = parse_record(line("c-1"))
    assert build_payload(record, round_key="2026-W15")["global_key"] == "2026-W15/c-1"
    # the round is what lies between the prefix and the first "/" after it, even for keys with "/"
    assert payloads[1]["global_key"].removeprefix("team/").split("/", 1) == ["round-1", "c/2"]


def test_an_empty_round_key_keeps_the_keys_of_before():
    assert [p["global_key"] for p in iter_payloads([line("c-1")], global_key_prefix="p/")] == ["p/c-1"]
    assert global_key_for("c-1", "p/", "") == "p/c-1" == global_key_for("c-1", key_prefix("p/", ""))


def test_the_round_survives_when_a_long_record_key_is_shortened():
    round_key = "r" * 60
    shortened = global_key_for("k" * 300, "p" * 39, round_key)
    assert len(shortened) == 200 and shortened.startswith("p" * 39 + round_key + "/k")
    assert shortened != global_key_for("k" * 300, "p" * 39, "s" * 60)


@pytest.mark.parametrize(
    ("round_key", "message"),
    [
        (" round-1", "white space"),
        ("round-1 ", "white space"),
        ("week/15", "contains '/'.*'week-15'.*global_key_prefix"),
        ("r" * 100, "make 101 characters before the record key; use at most 100"),
    ],
)
def test_bad_round_keys_fail_before_any_record_is_built(round_key, message):
    with pytest.raises(ValueError, match=message):
        list(iter_payloads([line("c-1")], round_key=round_key))
    with pytest.raises(ValueError, match=message):
        build_payload(parse_record(line("c-1")), round_key=round_key)


def test_annotations_find_the_rows_of_their_round_through_the_same_prefix():
    keys, _ = referenced_data_rows([{"key": "c-1", "ranking": ["m-a", "m-b"]}], key_prefix("p/", "round-2"))
    assert keys == {"p/round-2/c-1"}
