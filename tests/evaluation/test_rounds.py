"""Merging round states: equal to one pass over all rounds, a round given twice counted once, a
re-export replacing its round, shared labels and other questions or settings refused."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from itertools import chain, pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from airflow_mmc_provider.evaluation import LeaderboardAccumulator
from airflow_mmc_provider.evaluation.round_state import (
    QuestionsSeen,
    RoundIdentity,
    RoundState,
    RoundStateError,
)
from airflow_mmc_provider.evaluation.rounds import merge_rounds, round_order, tallied_questions
from airflow_mmc_provider.evaluation.state import counts_to_state
from airflow_mmc_provider.mmc.export import ClassificationAnswer, LabelRecord

from .records import label, ranking, simulate
from .test_leaderboard import random_rows

ROWS = random_rows(5, count=120)
OPTIONS: dict[str, Any] = {"seed": 3, "buckets": 32, "text_sample_size": 3}


def state_of(
    key: str, rows: Sequence[Sequence[LabelRecord]], *, written_at: str | None = None, **options: Any
) -> RoundState:
    """A round's state as the leaderboard task builds it, read back through JSON."""
    questions = QuestionsSeen()
    accumulator = LeaderboardAccumulator(**{**OPTIONS, **options})
    for labels in rows:
        accumulator.add_row(list(questions(labels)))
    counts = accumulator.counts()
    ids = frozenset(item.label_id for item in chain.from_iterable(rows))
    state = RoundState(
        RoundIdentity(key, written_at=written_at), counts, ids, questions.comparison_questions(counts)
    )
    return RoundState.from_dict(json.loads(json.dumps(state.to_dict())), source=f"{key}/state.json")


def one_pass(rows: Sequence[Sequence[LabelRecord]]) -> str:
    accumulator = LeaderboardAccumulator(**OPTIONS)
    for labels in rows:
        accumulator.add_row(labels)
    return json.dumps(counts_to_state(accumulator.counts()), sort_keys=True)


def pooled(states: Sequence[RoundState]) -> str:
    return json.dumps(counts_to_state(merge_rounds(states).pooled), sort_keys=True)


@st.composite
def rounds_given(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    """Where the rows are cut into 1-4 non-empty rounds, and the order (with repeats) in which
    the rounds' states are handed to the merge."""
    count = draw(st.integers(1, 4))  # rounds of 10 rows at least, so every round has every question
    cuts = sorted(
        draw(st.sets(st.sampled_from(range(10, len(ROWS), 10)), min_size=count - 1, max_size=count - 1))
    )
    repeats = draw(st.lists(st.integers(0, count - 1), max_size=3))
    order = draw(st.permutations([*range(count), *repeats]))
    return cuts, order


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(given_rounds=rounds_given())
def test_merged_round_states_equal_one_pass_and_a_round_given_twice_changes_nothing(
    given_rounds: tuple[list[int], list[int]],
) -> None:
    cuts, order = given_rounds
    bounds = [0, *cuts, len(ROWS)]
    rounds = [ROWS[a:b] for a, b in pairwise(bounds)]
    states = [state_of(f"round-{i}", rows) for i, rows in enumerate(rounds)]
    assume(len({frozenset(tallied_questions(s.counts)) for s in states}) == 1)  # one ontology
    merged = merge_rounds([states[i] for i in order])
    assert json.dumps(counts_to_state(merged.pooled), sort_keys=True) == one_pass(ROWS)
    assert [s.key for s in merged.rounds] == [f"round-{i}" for i in range(len(rounds))]
    repeats = sum(1 for n, k in enumerate(order) if k in order[:n])
    twice = [n for n in merged.notes if "given twice" in n and n.endswith("counted once")]
    assert len(twice) == repeats == len(order) - len(rounds)


def test_a_re_export_after_late_labels_replaces_its_round() -> None:
    early, late = state_of("week-1", ROWS[:40]), state_of("week-1", ROWS[:70])
    other = state_of("week-2", ROWS[70:])
    for states in ([early, late, other], [late, other, early]):
        merged = merge_rounds(states)
        assert pooled([late, other]) == json.dumps(counts_to_state(merged.pooled), sort_keys=True)
        [note] = merged.notes
        assert note == (
            "round 'week-1': week-1/state.json replaces week-1/state.json (its label ids include the "
            f"other's and {len(late.label_ids) - len(early.label_ids)} more: a re-export after late labels)"
        )


def test_states_of_one_round_with_other_labels_go_by_when_they_were_written() -> None:
    first = state_of("week-1", ROWS[:40], written_at="2026-04-15T06:00:00+00:00")
    redone = state_of("week-1", ROWS[20:60], written_at="2026-04-16T06:00:00+00:00")
    merged = merge_rounds([redone, first])
    assert merged.rounds == (redone,) and "the later state counts" in merged.notes[0]
    undated = state_of("week-1", ROWS[20:60])
    with pytest.raises(RoundStateError, match=r"Two states of round 'week-1' hold different labels"):
        merge_rounds([first, undated])


def test_two_rounds_sharing_labels_are_refused_naming_both_and_the_count() -> None:
    with pytest.raises(RoundStateError) as caught:
        merge_rounds([state_of("week-1", ROWS[:50]), state_of("week-2", ROWS[30:90])])
    shared = len(set(state_of("a", ROWS[30:50]).label_ids))
    assert str(caught.value).startswith(
        f"round 'week-1' (week-1/state.json) and round 'week-2' (week-2/state.json) share {shared} label ids"
    )
    assert "cannot be split" in str(caught.value)


def test_rounds_counted_with_another_seed_are_refused() -> None:
    with pytest.raises(RoundStateError, match=r"different seed \(3 and 4\).*same seed"):
        merge_rounds([state_of("week-1", ROWS[:50]), state_of("week-2", ROWS[50:], seed=4)])


def tallied_rows(
    seed: int, key: str, questions: Sequence[str], feature: str = "rank"
) -> list[list[LabelRecord]]:
    """Rows of one ranking each and a global radio answer per question in ``questions``."""
    rng = random.Random(seed)
    rows = []
    for c in range(30):
        row = f"{key}-{c}"
        order = rng.sample(["a", "b", "c"], 3)
        answers = [
            ClassificationAnswer(q, "radio", "global", answers=(rng.choice(["x", "y"]),)) for q in questions
        ]
        rows.append(
            [
                label(
                    row,
                    f"{row}-l",
                    rankings=[ranking(order, row=row, feature=feature)],
                    classifications=answers,
                )
            ]
        )
    return rows


def test_rounds_of_other_ontology_versions_pool_tallies_on_the_questions_they_share() -> None:
    week1 = state_of("week-1", tallied_rows(1, "w1", ["Difficulty", "Domain"]))
    week2 = state_of("week-2", tallied_rows(2, "w2", ["Difficulty", "Safety"]))
    merged = merge_rounds([week1, week2])
    assert {a.feature for a in merged.pooled.answers} == {"Difficulty"}
    assert merged.left_out == {"week-1": ["Domain (radio)"], "week-2": ["Safety (radio)"]}
    assert merged.notes == (
        "round 'week-1' (week-1/state.json): questions left out of the pooled tallies (not in every round): Domain (radio)",
        "round 'week-2' (week-2/state.json): questions left out of the pooled tallies (not in every round): Safety (radio)",
    )
    assert sum(p.times for p in merged.pooled.pairs) == sum(
        p.times for s in (week1, week2) for p in s.counts.pairs
    )  # the comparisons of both rounds, whole


def test_a_different_ranking_question_is_refused() -> None:
    week1 = state_of("week-1", tallied_rows(1, "w1", []))
    week2 = state_of("week-2", tallied_rows(2, "w2", [], feature="Rank the responses v2"))
    with pytest.raises(RoundStateError) as caught:
        merge_rounds([week1, week2])
    assert str(caught.value).startswith(
        "round 'week-1' (week-1/state.json) ranks models on rank, round 'week-2' "
        "(week-2/state.json) on Rank the responses v2: a round's comparisons are summed"
    )


def test_a_selection_question_of_some_rounds_only_is_pooled_and_said_so() -> None:
    # every judgment counts here, so week 1's selections make comparisons beside its rankings
    with_selection = state_of(
        "week-1", [rows for rows in ROWS[:60] if rows[0].single_selections], per_prompt="all"
    )
    without = state_of(
        "week-2", [rows for rows in ROWS[60:] if not any(x.single_selections for x in rows)], per_prompt="all"
    )
    merged = merge_rounds([with_selection, without])
    assert ("best", "single_selection") in with_selection.comparison_questions - without.comparison_questions
    assert "comparisons of best (single_selection) come from rounds 'week-1' only" in merged.notes[0]
    assert sum(p.times for p in merged.pooled.pairs) == sum(
        p.times for s in (with_selection, without) for p in s.counts.pairs
    )


def test_rounds_are_ordered_by_key_with_numbers_as_numbers() -> None:
    keys = ["round-10", "round-2", "2026-04-14", "2026-04-07", "round-1"]
    assert sorted(keys, key=round_order) == ["2026-04-07", "2026-04-14", "round-1", "round-2", "round-10"]
    states = [
        state_of(k, simulate(i, {"a": 0.0, "b": 1.0}, conversations=5, shown=2))
        for i, k in enumerate(["r-10", "r-9"])
    ]
    assert [s.key for s in merge_rounds(states).rounds] == ["r-9", "r-10"]


def test_nothing_to_merge_is_an_error() -> None:
    with pytest.raises(RoundStateError, match="No round states to merge"):
        merge_rounds([])


def test_rounds_counted_with_other_kinds_pool_when_their_comparisons_came_from_one_question() -> None:
    week1 = state_of("week-1", tallied_rows(1, "w1", ["Difficulty"]), kinds=["ranking"])
    week2 = state_of("week-2", tallied_rows(2, "w2", ["Difficulty"]))
    merged = merge_rounds([week1, week2])
    assert merged.pooled.config.kinds == ("ranking", "single_selection", "multi_selection")
    assert merged.pooled.judgments["ranking"] == 60 and merged.notes == ()
