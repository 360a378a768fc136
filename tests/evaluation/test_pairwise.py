"""Pairwise extraction rules for every judgment kind."""

from __future__ import annotations

from airflow_mmc_provider.evaluation.pairwise import Outcome, judgments, pairwise_outcomes
from airflow_mmc_provider.mmc.export import RankedResponse, Ranking, Response, SingleSelection

from . import records as R


def pairs(label: R.LabelRecord) -> set[tuple[str, str, bool]]:
    return {(o.winner, o.loser, o.tie) for o in pairwise_outcomes(label)}


def test_a_ranking_gives_every_pair() -> None:
    label = R.label(rankings=[R.ranking(["a", "b", "c", "d"])])
    assert pairs(label) == {
        ("a", "b", False),
        ("a", "c", False),
        ("a", "d", False),
        ("b", "c", False),
        ("b", "d", False),
        ("c", "d", False),
    }


def test_repeated_orders_are_ties() -> None:
    label = R.label(rankings=[R.ranking([["a", "b"], "c"])])
    assert pairs(label) == {("a", "b", True), ("a", "c", False), ("b", "c", False)}


def test_ranking_entries_need_not_be_sorted() -> None:
    ranked = (
        RankedResponse("m3", "c", 3, 0),
        RankedResponse("m1", "a", 1, 1),
        RankedResponse("m2", "b", 2, 2),
    )
    label = R.label(rankings=[Ranking("rank", "p", ranked)])
    assert pairs(label) == {("a", "b", False), ("a", "c", False), ("b", "c", False)}
    positions = {(o.winner, o.loser): (o.winner_position, o.loser_position) for o in pairwise_outcomes(label)}
    assert positions[("a", "c")] == (1, 0)
    [judgment] = judgments(label)
    assert judgment.preferred == ("a",)


def test_a_single_selection_beats_the_other_responses() -> None:
    label = R.label(singles=[R.single("b", ["a", "b", "c"])])
    outcomes = pairwise_outcomes(label)
    assert {(o.winner, o.loser, o.tie) for o in outcomes} == {("b", "a", False), ("b", "c", False)}
    assert {(o.winner_position, o.loser_position) for o in outcomes} == {(1, 0), (1, 2)}
    assert all(o.kind == "single_selection" and o.feature == "best" for o in outcomes)


def test_a_multi_selection_beats_only_the_unselected() -> None:
    label = R.label(multis=[R.multi(["a", "c"], ["a", "b", "c", "d"])])
    assert pairs(label) == {("a", "b", False), ("a", "d", False), ("c", "b", False), ("c", "d", False)}
    # all or nothing selected: no preference at all
    assert pairs(R.label(multis=[R.multi(["a", "b"], ["a", "b"])])) == set()
    assert pairs(R.label(multis=[R.multi([], ["a", "b"])])) == set()


def test_unknown_and_same_model_pairs_are_not_outcomes() -> None:
    selection = SingleSelection(
        "best",
        "p",
        Response("m1", "a", 0),
        (Response("m2", None, 1), Response("m3", "a", 2), Response("m4", "b", 3)),
    )
    assert pairs(R.label(singles=[selection])) == {("a", "b", False)}


def test_preferred_responses() -> None:
    label = R.label(
        rankings=[R.ranking([["b", "a"], "c"])],
        singles=[R.single("c", ["a", "b", "c"])],
        multis=[R.multi(["a"], ["a", "b"])],
    )
    assert [j.preferred for j in judgments(label, per_prompt="all")] == [("a", "b"), ("c",), None]


def test_kinds_and_features_filter() -> None:
    label = R.label(
        rankings=[R.ranking(["a", "b"], feature="rank"), R.ranking(["b", "a"], feature="other rank")],
        singles=[R.single("b", ["a", "b"])],
    )
    every = pairwise_outcomes(label, kinds=("ranking",), per_prompt="all")
    assert {o.feature for o in every} == {"rank", "other rank"}
    assert pairwise_outcomes(label, features={"rank"}) == [
        Outcome("a", "b", False, "ranking", "rank", "row-prompt", 0, 1)
    ]


def test_by_default_a_raters_preference_on_a_prompt_counts_once() -> None:
    # The demo ontology asks for a ranking, a best response and the acceptable ones on each
    # prompt: one rater's view of the prompt, which must weigh once in the fit, not three times.
    everything = {
        "rankings": [R.ranking(["b", "a", "c"])],
        "singles": [R.single("b", ["a", "b", "c"])],
        "multis": [R.multi(["a", "b"], ["a", "b", "c"])],
    }
    label = R.label(**everything)
    assert [j.kind for j in judgments(label)] == ["ranking"]
    assert [j.kind for j in judgments(label, per_prompt="all")] == [
        "ranking",
        "single_selection",
        "multi_selection",
    ]
    # without a ranking the single selection is the preference, and `kinds` narrows first
    assert [
        j.kind for j in judgments(R.label(singles=everything["singles"], multis=everything["multis"]))
    ] == ["single_selection"]
    assert [j.kind for j in judgments(label, kinds=("multi_selection",))] == ["multi_selection"]


def test_once_per_prompt_keeps_each_prompt_and_picks_questions_by_name() -> None:
    label = R.label(
        rankings=[
            R.ranking(["a", "b"], feature="style", row="r1"),
            R.ranking(["b", "a"], feature="helpfulness", row="r1"),
            R.ranking(["a", "b"], feature="style", row="r2"),
        ]
    )
    # two prompts (parent messages r1-prompt and r2-prompt): one judgment each; on r1 the
    # question first in name order, whatever order the export lists them in
    assert [(j.parent_message_id, j.feature) for j in judgments(label)] == [
        ("r1-prompt", "helpfulness"),
        ("r2-prompt", "style"),
    ]
