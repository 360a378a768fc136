"""The round state format (version 2): round trip, the comparison questions, and older or newer
versions refused with the file named and the fix.

``data/state_v1.json`` was written by the version-1 writer of this release
(``LeaderboardAccumulator(seed=5, buckets=16, text_sample_size=2).to_state()`` over
``records.simulate(17, {"atlas": 0.6, "borealis": 0.0, "cirrus": -0.4}, conversations=12)``) and is
kept as it was written: a state a user persisted before version 2.
"""

from __future__ import annotations

import json
from itertools import chain
from pathlib import Path

import pytest

from airflow_mmc_provider.evaluation import LeaderboardAccumulator
from airflow_mmc_provider.evaluation.round_state import (
    QuestionsSeen,
    RoundIdentity,
    RoundState,
    RoundStateError,
)
from airflow_mmc_provider.evaluation.state import counts_from_state

from .records import label, ranking, simulate, single

V1_STATE = Path(__file__).parent / "data" / "state_v1.json"


def a_state(**settings: object) -> RoundState:
    rows = simulate(3, {"a": 0.5, "b": 0.0, "c": -0.5}, conversations=30)
    labels = list(chain.from_iterable(rows))
    questions = QuestionsSeen()
    accumulator = LeaderboardAccumulator(seed=2, buckets=32, **settings)  # type: ignore[arg-type]
    accumulator.add_labels(questions(labels))
    counts = accumulator.counts()
    identity = RoundIdentity("2026-04-14", "project", "batch", "week-15", ("file:///x/export.ndjson",), "t")
    ids = frozenset(item.label_id for item in labels)
    return RoundState(identity, counts, ids, questions.comparison_questions(counts))


def test_a_state_reads_back_as_written_through_json() -> None:
    state = a_state()
    data = json.loads(json.dumps(state.to_dict()))
    assert data["version"] == 2 and data["round"]["key"] == "2026-04-14"
    assert data["label_ids"] == sorted(data["label_ids"]) and len(data["label_ids"]) == 30
    assert data["comparison_questions"] == [["rank", "ranking"]]
    again = RoundState.from_dict(data, source="state.json")
    assert again.to_dict() == data
    assert again.round == state.round and again.label_ids == state.label_ids


def test_the_counts_inside_are_the_version_one_body_read_by_its_own_reader() -> None:
    body = json.loads(V1_STATE.read_text())
    counts = counts_from_state(body)  # the persisted v1 counts still read
    assert counts.models == ["atlas", "borealis", "cirrus"] and counts.totals.labels == 12
    wrapped = RoundState(RoundIdentity("old"), counts, frozenset(), frozenset()).to_dict()
    # written back with the counting rule of its time made explicit: every judgment counted
    assert wrapped["counts"] == {**body, "config": {**body["config"], "per_prompt": "all"}}


def test_a_version_one_state_is_refused_naming_the_file_and_the_fix() -> None:
    with pytest.raises(RoundStateError) as caught:
        RoundState.from_dict(json.loads(V1_STATE.read_text()), source=str(V1_STATE))
    message = str(caught.value)
    assert message.startswith(f"Cannot merge {V1_STATE}: it is a version-1 accumulator state")
    assert "no round key and no label ids" in message and "count the same labels twice" in message
    assert "Run the round's leaderboard task (MmcLeaderboardOperator) again" in message


@pytest.mark.parametrize("version", [3, None, "2"])
def test_an_unknown_version_is_refused_clearly(version: object) -> None:
    data = {**a_state().to_dict(), "version": version}
    with pytest.raises(RoundStateError, match=rf"Cannot read s.json: round state version {version!r} is not"):
        RoundState.from_dict(data, source="s.json")


def test_a_broken_state_names_its_file() -> None:
    data = a_state().to_dict()
    del data["label_ids"]
    with pytest.raises(RoundStateError, match=r"Cannot read s.json: not a valid round state \(KeyError"):
        RoundState.from_dict(data, source="s.json")


def test_unknown_top_level_fields_of_version_two_are_ignored() -> None:
    data = {**a_state().to_dict(), "judgment_weights": {"category": {}}}  # a field of a later release
    assert "judgment_weights" not in RoundState.from_dict(data).to_dict()


def test_comparison_questions_are_the_questions_whose_kind_was_counted() -> None:
    rows = [
        [
            label(
                "r1",
                "l1",
                rankings=[ranking(["a", "b"], row="r1")],
                singles=[single("a", ["a", "b"], row="r1")],
            )
        ],
        [label("r2", "l2", rankings=[ranking(["b", "a"], feature="rank v2", row="r2")])],
    ]
    for kinds, features, per_prompt, expected in [
        (None, None, "all", {("rank", "ranking"), ("rank v2", "ranking"), ("best", "single_selection")}),
        # by default the selection on a ranked prompt does not count, so made no comparison
        (None, None, "one", {("rank", "ranking"), ("rank v2", "ranking")}),
        (["ranking"], None, "all", {("rank", "ranking"), ("rank v2", "ranking")}),
        (None, ["rank"], "all", {("rank", "ranking")}),
    ]:
        questions = QuestionsSeen()
        settings = {"kinds": kinds} if kinds else {}
        accumulator = LeaderboardAccumulator(features=features, per_prompt=per_prompt, **settings)  # type: ignore[arg-type]
        accumulator.add_labels(questions(chain.from_iterable(rows)))
        assert questions.comparison_questions(accumulator.counts()) == expected
