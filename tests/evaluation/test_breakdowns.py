"""Breakdown counts: the leaderboard's comparisons per metadata value and per turn, bounded, mergeable."""

from __future__ import annotations

import json
import random

import msgspec

from airflow_mmc_provider.evaluation import LeaderboardAccumulator
from airflow_mmc_provider.evaluation.breakdowns import BreakdownCounts, merge_breakdowns
from airflow_mmc_provider.evaluation.round_state import RoundIdentity, RoundState
from airflow_mmc_provider.mmc.export import LabelRecord, RowContent

from . import records as R

MODELS = ["atlas", "borealis", "cirrus", "dynamo"]
CATEGORIES = ["coding", "reasoning", "writing"]


def labelled_rows(seed: int, count: int) -> list[LabelRecord]:
    """Labels whose rows carry a category, a unique id field and two compared turns."""
    rng = random.Random(seed)
    labels = []
    for n in range(count):
        row = f"row{n}"
        content = RowContent(
            {"category": rng.choice(CATEGORIES), "ticket": f"T-{n}"},
            {},
            {f"{row}-prompt": 1, f"{row}-second": 2},
        )
        shown = rng.sample(MODELS, 3)
        first = R.ranking(rng.sample(shown, 3), shown=shown, row=row)
        second = msgspec.structs.replace(
            R.ranking(rng.sample(shown, 3), shown=shown, row=row), parent_message_id=f"{row}-second"
        )
        best = R.single(shown[0], shown, row=row)  # on the first prompt, beside its ranking
        label = R.label(row, f"label{n}", rankings=[first, second], singles=[best])
        labels.append(msgspec.structs.replace(label, content=content))
    return labels


def count(labels: list[LabelRecord], **options: object) -> tuple[dict, LeaderboardAccumulator]:
    breakdowns = BreakdownCounts(**options)  # type: ignore[arg-type]
    accumulator = LeaderboardAccumulator(**options)  # type: ignore[arg-type]
    accumulator.add_labels(breakdowns(labels))
    return breakdowns.to_dict(), accumulator


def test_each_cell_holds_the_comparisons_the_leaderboard_counts() -> None:
    result, accumulator = count(labelled_rows(1, 90))
    comparisons = sum(p.times for p in accumulator.counts().pairs)
    by_category = result["metadata"]["category"]
    assert set(by_category) == set(CATEGORIES)
    # every comparison is in exactly one category and exactly one turn
    assert sum(n for cell in by_category.values() for *_, n in cell["pairs"]) == comparisons
    assert sum(n for cell in result["turns"].values() for *_, n in cell["pairs"]) == comparisons
    assert list(result["turns"]) == ["1", "2"]
    # by default the selection beside a ranking on the first prompt does not count: one judgment
    # per prompt and label, so each turn holds one judgment per label
    assert result["turns"]["1"]["judgments"] == result["turns"]["2"]["judgments"] == 90
    every, _ = count(labelled_rows(1, 90), per_prompt="all")
    assert every["turns"]["1"]["judgments"] == 180 and every["turns"]["2"]["judgments"] == 90


def test_a_field_with_too_many_values_is_dropped_and_said_so() -> None:
    result, _ = count(labelled_rows(2, 80))  # 80 distinct tickets, more than MAX_VALUES
    assert "ticket" not in result["metadata"]
    assert result["dropped_fields"] == {"ticket": 51}
    small, _ = count(labelled_rows(2, 20))
    assert len(small["metadata"]["ticket"]) == 20 and small["dropped_fields"] == {}


def test_breakdowns_of_rounds_merge_as_one_pass() -> None:
    labels = labelled_rows(3, 40)
    whole, _ = count(labels)
    halves = [count(labels[:25])[0], count(labels[25:])[0], None]
    assert merge_breakdowns(halves) == whole
    assert json.dumps(merge_breakdowns(halves)) == json.dumps(whole)  # same order, same bytes


def test_a_state_carries_its_breakdowns_and_reads_without_them() -> None:
    result, accumulator = count(labelled_rows(4, 10))
    state = RoundState(
        RoundIdentity("week-1"), accumulator.counts(), frozenset({"l"}), frozenset(), breakdowns=result
    )
    again = RoundState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again.breakdowns == result
    data = state.to_dict()
    del data["breakdowns"]  # a version-2 state written before breakdowns
    assert RoundState.from_dict(data).breakdowns is None
