"""The upsert rules checked against a tiny reference model, in-process, for many generated requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_mmc_provider.emulator import filters
from airflow_mmc_provider.emulator.ids import new_id, now
from airflow_mmc_provider.emulator.store import Store
from airflow_mmc_provider.emulator.upserts import apply_upsert

KEYS = ["a", "b", "c"]
requests_strategy = st.lists(
    st.one_of(
        st.tuples(st.just("AUTO"), st.sampled_from([*KEYS, None])),
        st.tuples(st.just("GKEY"), st.sampled_from(KEYS)),
    ),
    max_size=10,
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    opened = Store(Path(tmp_path_factory.mktemp("rules")))
    yield opened
    opened.close()


def expected_outcomes(specs: list[tuple[str, str | None]], existing: set[str]) -> list[bool]:
    """The reference: AUTO fails on a key in use or used earlier; GKEY fails on a key used earlier."""
    claimed: set[str] = set()
    outcomes = []
    for key_type, key in specs:
        duplicate = key is not None and (key in claimed or (key_type == "AUTO" and key in existing))
        outcomes.append(not duplicate)
        if key is not None and not duplicate:
            claimed.add(key)
    return outcomes


def payload(dataset_id: str, key_type: str, key: str | None, text: str) -> dict:
    body: dict = {"row_data": text, "dataset_id": dataset_id}
    if key_type == "AUTO" and key is not None:
        body["global_key"] = key
    return {"id": {"type": key_type, "value": key if key_type == "GKEY" else ""}, "payload": body}


@settings(max_examples=60, deadline=None)
@given(specs=requests_strategy, existing=st.sets(st.sampled_from(KEYS)))
def test_upserts_follow_the_reference_rules(
    store: Store, specs: list[tuple[str, str | None]], existing: set[str]
):
    store.reset()
    dataset = store.create_dataset("rules", None)
    before = {}
    if existing:
        seed = store.create_task("adv-upsert-data-rows", "seed", {})
        with store.data_row_writer() as writer:
            apply_upsert(writer, seed.id, [payload(dataset.id, "AUTO", k, "old") for k in sorted(existing)])
        before = store.data_row_ids_for_global_keys(sorted(existing))
    task = store.create_task("adv-upsert-data-rows", "t", {})
    with store.data_row_writer() as writer:
        outcome = apply_upsert(
            writer, task.id, [payload(dataset.id, t, k, f"new-{i}") for i, (t, k) in enumerate(specs)]
        )

    expected = expected_outcomes(specs, existing)
    assert len(outcome.succeeded) == expected.count(True)
    assert [f.message for f in outcome.failed] == [
        f"Duplicate global key: '{key}'" for (_, key), ok in zip(specs, expected, strict=True) if not ok
    ]
    after = store.data_row_ids_for_global_keys(KEYS)
    assert all(after[key] == row_id for key, row_id in before.items())  # updates keep ids
    created = sum(
        1 for (t, k), ok in zip(specs, expected, strict=True) if ok and not (t == "GKEY" and k in existing)
    )
    assert store.get_dataset(dataset.id).row_count == len(existing) + created


def test_ids_and_timestamps_have_the_wire_shapes():
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 25 and i.startswith("c") and i.isalnum() and i == i.lower() for i in ids)
    stamp = now()
    assert len(stamp) == 24 and stamp[10] == "T" and stamp[19] == "." and stamp.endswith("Z")


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"AND": [{"name": "a"}, {"deleted": False}]}, True),
        ({"AND": [{"AND": [{"name": "a"}, {"description": "x"}]}, {"deleted": False}]}, False),
        ({"name_not": "b", "rowCount_gte": 3}, True),
        ({"createdAt_gt": "2024-01-01T00:00:00Z"}, True),
        ({"createdAt_lt": "2024-01-01T00:00:00Z"}, False),
        ({"OR": [{"name": "z"}, {"rowCount": 3}]}, True),
        ({"NOT": [{"name": "a"}]}, False),
    ],
)
def test_orm_where_filters(where, expected):
    node = {
        "name": "a",
        "description": None,
        "deleted": False,
        "rowCount": 3,
        "createdAt": "2024-05-01T10:00:00.000Z",
    }
    assert filters.matches(node, where) is expected
