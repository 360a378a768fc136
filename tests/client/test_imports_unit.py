"""Import parts (`split_parts`, `part_name`) and the uuids a retry compares, without a server."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_mmc_provider.client.imports import line_uuids, part_name, split_parts


def line(row: str, n: int, *, by_id: bool = False) -> bytes:
    key = {"id": row} if by_id else {"globalKey": row}
    return json.dumps({"dataRow": key, "name": "Note", "answer": "x" * n, "uuid": f"{row}-{n}"}).encode()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("abcdefg"), st.integers(1, 120), st.booleans()), max_size=40),
    st.integers(50, 1500),
)
def test_parts_hold_whole_data_rows_in_order_within_the_limit(spec, limit):
    lines = [line(row, n, by_id=by_id) for row, n, by_id in spec]
    parts = list(split_parts(lines, limit))
    owners: dict[tuple[str | None, str | None], int] = {}
    for index, part in enumerate(parts):
        rows = {
            (r.get("globalKey"), r.get("id")) for r in (json.loads(x)["dataRow"] for x in part.split(b"\n"))
        }
        for row in rows:
            assert owners.setdefault(row, index) == index  # a data row is in one part only
        if len(rows) > 1:
            assert len(part) <= limit  # only a single data row's lines may exceed it
    sent = [x for part in parts for x in part.split(b"\n")]
    assert sorted(sent) == sorted(lines)  # nothing lost, nothing twice
    first_seen = list(dict.fromkeys((r, i) for r, _, i in spec))
    assert [owners[(None, r) if i else (r, None)] for r, i in first_seen] == sorted(owners.values())
    assert list(split_parts(lines, limit)) == parts  # the same lines give the same parts


def test_a_data_row_larger_than_a_part_is_a_part_of_its_own():
    big = [line("a", 300), line("a", 300)]
    parts = list(split_parts([line("b", 10), *big, line("c", 10)], 400))
    assert [len(p.split(b"\n")) for p in parts] == [1, 2, 1]


def test_part_names_and_uuids():
    assert part_name("round-7", 0, 1) == "round-7"
    assert [part_name("round-7", i, 3) for i in range(3)][-1] == "round-7-part-0003"
    assert line_uuids(b"\n".join([line("a", 1), b"  ", line("b", 2)])) == {"a-1", "b-2"}
