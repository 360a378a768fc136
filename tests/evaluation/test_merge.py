"""Merging counts is the seam for scale-out (Airflow mapped tasks over export parts or rounds):
the merged states of parts equal one pass over all of them, and an empty state changes nothing."""

from __future__ import annotations

import json
import warnings
from itertools import chain, pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_mmc_provider.evaluation import LeaderboardAccumulator, compute_leaderboard, merge
from airflow_mmc_provider.mmc.export import ExportRow, LabelRecord

from .test_leaderboard import random_rows

ROWS = random_rows(11, count=300)
OPTIONS: dict[str, Any] = {"seed": 3, "buckets": 64, "text_sample_size": 3}


def state(accumulator: LeaderboardAccumulator) -> str:
    return json.dumps(accumulator.to_state(), sort_keys=True)


def count(rows: list[list[LabelRecord]], **options: Any) -> LeaderboardAccumulator:
    accumulator = LeaderboardAccumulator(**{**OPTIONS, **options})
    for labels in rows:
        accumulator.add_row(labels)
    return accumulator


ONE_PASS = state(count(ROWS))


@st.composite
def split_stream(draw: st.DrawFn) -> list[list[list[LabelRecord]]]:
    """The rows in a random order, cut into 1-5 parts at random points (a part may be empty)."""
    order = draw(st.permutations(range(len(ROWS))))
    parts = draw(st.integers(min_value=1, max_value=5))
    cuts = sorted(draw(st.lists(st.integers(0, len(ROWS)), min_size=parts - 1, max_size=parts - 1)))
    bounds = [0, *cuts, len(ROWS)]
    return [[ROWS[i] for i in order[a:b]] for a, b in pairwise(bounds)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=split_stream())
def test_merged_states_of_parts_equal_one_pass(parts: list[list[list[LabelRecord]]]) -> None:
    # each part counted apart and persisted, as a mapped task would; one task merges the states
    states = [json.loads(json.dumps(count(part).to_state())) for part in parts]
    merged = merge(*(LeaderboardAccumulator.from_state(s) for s in states))
    assert state(merged) == ONE_PASS


def test_merged_parts_give_the_leaderboard_of_one_pass() -> None:
    parts = [ROWS[:50], ROWS[50:220], ROWS[220:]]
    one = count(ROWS).leaderboard(resamples=50).to_dict(include_bootstrap=True)
    merged = merge(*(count(part) for part in parts))
    assert merged.leaderboard(resamples=50).to_dict(include_bootstrap=True) == one


@pytest.mark.parametrize("options", [{}, {"kinds": ["ranking"], "features": ["rank"]}])
def test_merging_an_empty_state_changes_nothing(options: dict[str, Any]) -> None:
    counted = count(ROWS, **options)
    before = state(counted)
    empty = LeaderboardAccumulator.from_state(LeaderboardAccumulator(**{**OPTIONS, **options}).to_state())
    assert state(counted.merge(empty)) == before
    assert state(empty.merge(counted)) == before
    assert state(merge(counted, LeaderboardAccumulator(**{**OPTIONS, **options}))) == before


def test_merge_leaves_its_inputs_unchanged() -> None:
    first, second = count(ROWS[:100]), count(ROWS[100:])
    before = (state(first), state(second))
    merge(first, second)
    assert (state(first), state(second)) == before


def test_rows_and_labels_count_alike() -> None:
    rows = [
        ExportRow(data_row_id=labels[0].data_row_id, global_key=None, project_id="p", labels=tuple(labels))
        for labels in ROWS
    ]
    rows.insert(7, ExportRow(data_row_id="empty", global_key=None, project_id="p", labels=()))
    by_rows = LeaderboardAccumulator(**OPTIONS).add_rows(rows)
    assert by_rows.rows_without_labels == 1
    by_labels = LeaderboardAccumulator(**OPTIONS).add_labels(chain.from_iterable(ROWS))
    assert by_labels.to_state()["pairs"] == by_rows.to_state()["pairs"]
    assert state(by_labels) == ONE_PASS


def test_workers_is_a_deprecated_no_op() -> None:
    labels = list(chain.from_iterable(ROWS[:100]))
    one = compute_leaderboard(labels, seed=4, resamples=20).to_dict(include_bootstrap=True)
    with pytest.warns(DeprecationWarning, match="mapped tasks"):
        two = compute_leaderboard(labels, seed=4, resamples=20, workers=2)
    assert two.to_dict(include_bootstrap=True) == one
    with pytest.warns(DeprecationWarning, match="merge"):
        LeaderboardAccumulator().add_conversations([("c", ROWS[0])], workers=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LeaderboardAccumulator().add_labels(labels, workers=1)  # the default warns nothing
