"""The streaming accumulator and the leaderboard: same outcomes as the reference rules, merging,
reproducibility, tallies, text samples, agreement, position bias, CSV."""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter
from itertools import chain
from typing import Any

import pytest

from airflow_mmc_provider.evaluation import (
    LeaderboardAccumulator,
    compute_leaderboard,
    leaderboard_csv,
    merge,
    pairwise_outcomes,
    win_rate_csv,
    write_leaderboard_csv,
    write_win_rate_csv,
)
from airflow_mmc_provider.evaluation.pairwise import PerPrompt, judgments
from airflow_mmc_provider.mmc.export import (
    ClassificationAnswer,
    LabelRecord,
    RankedResponse,
    Ranking,
    Response,
)

from . import records as R

MODELS = ["alpha", "bravo", "charlie", "delta", "echo"]


def random_rows(seed: int, count: int = 120) -> list[list[LabelRecord]]:
    """Rows with every judgment kind, ties, unknown models, consensus and classifications."""
    rng = random.Random(seed)
    rows = []
    for c in range(count):
        row = f"row-{seed}-{c}"
        shown = rng.sample(MODELS, rng.randint(2, 4))
        labels = []
        for n in range(rng.choice([1, 1, 2, 3])):
            order: list[Any] = rng.sample(shown, len(shown))
            if len(order) > 2 and rng.random() < 0.3:
                order = [[order[0], order[1]], *order[2:]]  # a tie at the top
            rankings = [R.ranking(order, shown=shown, row=row)]
            singles = [R.single(rng.choice(shown), shown, row=row)] if rng.random() < 0.4 else []
            multis = [R.multi(rng.sample(shown, 1), shown, row=row)] if rng.random() < 0.3 else []
            if rng.random() < 0.05:  # an unresolved model
                singles.append(
                    R.SingleSelection(
                        "best", f"{row}-prompt", Response("x", None, 0), (Response("y", shown[0], 1),)
                    )
                )
            answers = [
                ClassificationAnswer("overall", "radio", "global", answers=(rng.choice(["good", "bad"]),)),
                ClassificationAnswer(
                    "issues",
                    "checklist",
                    "message",
                    f"{row}-{shown[0]}",
                    shown[0],
                    tuple(rng.sample(["long", "wrong"], rng.randint(0, 2))),
                ),
                ClassificationAnswer(
                    "clarity", "radio", "message", f"{row}-prompt", None, (rng.choice(["clear", "vague"]),)
                ),
            ]
            if rng.random() < 0.5:
                answers.append(ClassificationAnswer("reason", "text", "global", text=f"reason {c}-{n}"))
            labels.append(
                R.label(
                    row,
                    f"{row}-{n}",
                    rater=f"rater-{rng.randrange(6)}",
                    rankings=rankings,
                    singles=singles,
                    multis=multis,
                    classifications=answers,
                )
            )
        rows.append(labels)
    return rows


def accumulate(rows: list[list[LabelRecord]], **options: Any) -> LeaderboardAccumulator:
    accumulator = LeaderboardAccumulator(**options)
    for labels in rows:
        accumulator.add_row(labels)
    return accumulator


def board(rows: list[list[LabelRecord]], **options: Any) -> dict[str, Any]:
    resamples = options.pop("resamples", 200)
    return accumulate(rows, **options).leaderboard(resamples=resamples).to_dict(include_bootstrap=True)


# --- the hot loop applies the reference rules ---------------------------------------------------


@pytest.mark.parametrize("per_prompt", ["one", "all"])
def test_counts_equal_the_reference_outcomes(per_prompt: PerPrompt) -> None:
    rows = random_rows(1)
    result = accumulate(rows, per_prompt=per_prompt).leaderboard(resamples=0)
    wins: Counter[tuple[str, str]] = Counter()
    ties: Counter[frozenset[str]] = Counter()
    for labels in rows:
        for label in labels:
            for outcome in pairwise_outcomes(label, per_prompt=per_prompt):
                if outcome.tie:
                    ties[frozenset((outcome.winner, outcome.loser))] += 1
                else:
                    wins[(outcome.winner, outcome.loser)] += 1
    for row in result.rows:
        assert row.wins == sum(n for (w, _), n in wins.items() if w == row.model)
        assert row.losses == sum(n for (_, lost), n in wins.items() if lost == row.model)
        assert row.ties == sum(n for pair, n in ties.items() if row.model in pair)
    models = result.models
    for i, a in enumerate(models):
        for j, b in enumerate(models):
            if i != j:
                met = wins[(a, b)] + wins[(b, a)] + ties[frozenset((a, b))]
                assert result.comparisons[i][j] == met
                rate = result.win_rates[i][j]
                assert rate == (
                    pytest.approx((wins[(a, b)] + ties[frozenset((a, b))] / 2) / met) if met else None
                )
    counts = result.counts
    assert counts["comparisons"] == sum(wins.values()) + sum(ties.values())
    assert counts["ties"] == sum(ties.values())
    assert counts["labels"] == sum(len(labels) for labels in rows)
    assert counts["rows"] == len(rows)
    every = sum(len(x.rankings) + len(x.single_selections) + len(x.multi_selections) for x in chain(*rows))
    if per_prompt == "all":
        assert counts["unresolved_pairs"] > 0
        assert counts["judgments_total"] == every
    else:  # one per label and prompt: fewer than every judgment, and never two on one prompt
        prompts = sum(
            len({j.parent_message_id for j in judgments(x, per_prompt="all")}) for x in chain(*rows)
        )
        assert counts["judgments_total"] == prompts < every


def test_a_small_signature_cache_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = random_rows(2)
    reference = board(rows)
    monkeypatch.setattr("airflow_mmc_provider.evaluation.counter._CACHE_LIMIT", 3)
    assert board(rows) == reference


# --- merging, order, state, reproducibility -----------------------------------------------------


def test_merge_equals_one_pass() -> None:
    rows = random_rows(3)
    one_pass = board(rows)
    rng = random.Random(0)
    parts = [LeaderboardAccumulator() for _ in range(3)]
    for labels in rows:
        rng.choice(parts).add_row(labels)
    assert merge(*parts).leaderboard(resamples=200).to_dict(include_bootstrap=True) == one_pass
    # in place, in another order
    parts[2].merge(parts[0]).merge(parts[1])
    assert parts[2].leaderboard(resamples=200).to_dict(include_bootstrap=True) == one_pass


def test_row_order_does_not_matter() -> None:
    rows = random_rows(4)
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    assert board(shuffled) == board(rows)


def test_state_round_trips_through_json() -> None:
    rows = random_rows(5)
    accumulator = accumulate(rows)
    state = json.loads(json.dumps(accumulator.to_state()))
    restored = LeaderboardAccumulator.from_state(state)
    assert restored.leaderboard(resamples=100).to_dict() == accumulator.leaderboard(resamples=100).to_dict()
    assert restored.to_state() == state


def test_merging_needs_the_same_settings() -> None:
    with pytest.raises(ValueError, match="different settings"):
        LeaderboardAccumulator(seed=1).merge(LeaderboardAccumulator(seed=2))
    with pytest.raises(ValueError, match="different settings"):
        LeaderboardAccumulator(buckets=64).merge(LeaderboardAccumulator(buckets=128))


def test_bootstrap_is_reproducible() -> None:
    rows = random_rows(6)
    first = accumulate(rows, seed=11).leaderboard(resamples=300)
    again = accumulate(rows, seed=11).leaderboard(resamples=300)
    other = accumulate(rows, seed=12).leaderboard(resamples=300)
    assert first.to_dict(include_bootstrap=True) == again.to_dict(include_bootstrap=True)
    assert [r.rating for r in first.rows] == [r.rating for r in other.rows]
    assert [r.ci_low for r in first.rows] != [r.ci_low for r in other.rows]
    for row in first.rows:
        assert row.ci_low < row.rating < row.ci_high
    low, high = first.difference_interval(first.rows[0].model, first.rows[-1].model)
    assert low < first.rows[0].rating - first.rows[-1].rating < high


def test_add_label_groups_consecutive_labels_into_rows() -> None:
    rows = random_rows(7, 40)
    by_label = LeaderboardAccumulator()
    by_label.add_labels(label for labels in rows for label in labels)
    assert (
        by_label.leaderboard(resamples=50).to_dict() == accumulate(rows).leaderboard(resamples=50).to_dict()
    )


# --- the leaderboard ----------------------------------------------------------------------------


def test_ratings_order_and_table() -> None:
    # a > b > c, every pair 8 times
    labels = []
    for k in range(8):
        row = f"r{k}"
        labels.append([R.label(row, f"{row}-l", rankings=[R.ranking(["a", "b", "c"], row=row)])])
    labels.append([R.label("t", "t-l", rankings=[R.ranking([["b", "c"], "a"], row="t")])])
    result = accumulate(labels).leaderboard(resamples=100, prior=1.0)
    assert result.models == ("a", "b", "c")
    a, b, c = result.rows
    assert (a.rank, a.wins, a.losses, a.ties, a.comparisons) == (1, 16, 2, 0, 18)
    assert (b.wins, b.losses, b.ties) == (9, 8, 1)
    assert c.win_rate == pytest.approx((1 + 0.5) / 18)
    assert a.rating > b.rating > c.rating
    assert sum(r.rating for r in result.rows) / 3 == pytest.approx(1000.0)
    anchored = accumulate(labels).leaderboard(resamples=0, anchor_model="b", anchor=1200)
    assert anchored.row("b").rating == pytest.approx(1200.0)
    assert anchored.row("a").rating - anchored.row("c").rating == pytest.approx(a.rating - c.rating)
    assert anchored.row("a").ci_low == anchored.row("a").rating  # no resamples: no interval
    with pytest.raises(ValueError, match="anchor model"):
        accumulate(labels).leaderboard(anchor_model="nobody")


def test_to_dict_is_strict_json_and_complete() -> None:
    result = compute_leaderboard((x for labels in random_rows(8) for x in labels), resamples=50)
    data = result.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert set(json.loads(text)) == {
        "models",
        "win_rates",
        "tallies",
        "text_samples",
        "agreement",
        "position_bias",
        "counts",
        "settings",
    }
    assert [m["model"] for m in data["models"]] == data["win_rates"]["models"]
    assert data["settings"]["bootstrap"]["resamples"] == 50
    assert "bootstrap" not in data


def test_tallies_per_target() -> None:
    answers = [
        ClassificationAnswer("overall", "radio", "global", answers=("good",)),
        ClassificationAnswer("issues", "checklist", "message", "m1", "alpha", ("long", "wrong")),
        ClassificationAnswer("issues", "checklist", "message", "m2", "bravo", ()),
        ClassificationAnswer("clarity", "radio", "message", "p", None, ("clear",)),
        ClassificationAnswer("aspect", "radio", "global", answers=("speed",), path=("overall", "good")),
    ]
    rows = [[R.label(f"r{k}", f"l{k}", classifications=answers)] for k in range(3)]
    rows.append(
        [
            R.label(
                "r9",
                "l9",
                classifications=[ClassificationAnswer("overall", "radio", "global", answers=("bad",))],
            )
        ]
    )
    tallies = {
        (t["question"], t["kind"]): t["targets"] for t in accumulate(rows).leaderboard(resamples=0).tallies
    }
    assert tallies[("overall", "radio")] == {"(global)": {"answered": 4, "answers": {"good": 3, "bad": 1}}}
    assert tallies[("issues", "checklist")] == {
        "alpha": {"answered": 3, "answers": {"long": 3, "wrong": 3}},
        "bravo": {"answered": 3, "answers": {}},
    }
    assert tallies[("clarity", "radio")] == {"(prompt)": {"answered": 3, "answers": {"clear": 3}}}
    assert tallies[("overall > good > aspect", "radio")] == {
        "(global)": {"answered": 3, "answers": {"speed": 3}}
    }


def test_text_samples_are_bounded_and_reproducible() -> None:
    rows = [
        [
            R.label(
                f"r{k}",
                f"l{k}",
                classifications=[ClassificationAnswer("why", "text", "global", text=f"because {k}")],
            )
        ]
        for k in range(50)
    ]
    rows.append(
        [R.label("blank", "lb", classifications=[ClassificationAnswer("why", "text", "global", text="  ")])]
    )
    samples = accumulate(rows, text_sample_size=5).leaderboard(resamples=0).text_samples["why"]
    assert samples["answers"] == 50 and len(samples["samples"]) == 5
    assert {"text", "data_row_id", "global_key", "label_id", "message_id", "model"} <= set(
        samples["samples"][0]
    )
    reversed_rows = accumulate(rows[::-1], text_sample_size=5).leaderboard(resamples=0).text_samples["why"]
    assert reversed_rows == samples


# --- agreement through the accumulator ----------------------------------------------------------


def consensus_row(row: str, orders: list[list[str]]) -> list[LabelRecord]:
    return [
        R.label(row, f"{row}-{k}", rater=f"rater-{k}", rankings=[R.ranking(order, row=row)])
        for k, order in enumerate(orders)
    ]


def test_agreement_on_constructed_rows() -> None:
    unanimous = [
        consensus_row("r1", [["a", "b", "c"], ["a", "b", "c"]]),
        consensus_row("r2", [["c", "a", "b"], ["c", "a", "b"]]),
        consensus_row("r3", [["b", "c", "a"], ["b", "c", "a"]]),
    ]
    agreement = accumulate(unanimous).leaderboard(resamples=0).agreement
    assert agreement["preferred"]["units"] == 3 and agreement["preferred"]["agreement"] == 1.0
    assert agreement["preferred"]["krippendorff_alpha"] == pytest.approx(1.0)
    assert agreement["pairwise"]["units"] == 9 and agreement["pairwise"][
        "krippendorff_alpha"
    ] == pytest.approx(1.0)

    # two raters, reversed rankings: every pair disagrees
    reversed_rows = [consensus_row(f"r{k}", [["a", "b", "c"], ["c", "b", "a"]]) for k in range(3)]
    agreement = accumulate(reversed_rows).leaderboard(resamples=0).agreement
    assert agreement["pairwise"]["agreement"] == 0.0 and agreement["pairwise"]["krippendorff_alpha"] < 0
    assert agreement["preferred"]["agreement"] == 0.0

    # three raters on one row: top choices a, a, b -> one agreeing pair of three
    agreement = (
        accumulate([consensus_row("r", [["a", "b"], ["a", "b"], ["b", "a"]])])
        .leaderboard(resamples=0)
        .agreement
    )
    assert (agreement["preferred"]["rater_pairs"], agreement["preferred"]["agreeing_pairs"]) == (3, 1)
    # single-label rows carry no agreement information
    assert (
        accumulate([consensus_row("r", [["a", "b"]])]).leaderboard(resamples=0).agreement["pairwise"]["units"]
        == 0
    )


# --- position bias ------------------------------------------------------------------------------


def two_way_rows(
    count: int, first_wins: float, seed: int, skill_first: bool = False
) -> list[list[LabelRecord]]:
    rng = random.Random(seed)
    rows = []
    for k in range(count):
        pair = rng.sample(["a", "b", "c", "d"], 2)
        if skill_first:
            pair.sort()  # the better model (alphabetically first) is always shown first
        order = pair if rng.random() < first_wins else pair[::-1]
        rows.append([R.label(f"r{k}", f"l{k}", rankings=[R.ranking(order, shown=pair, row=f"r{k}")])])
    return rows


def test_position_bias_is_detected() -> None:
    biased = accumulate(two_way_rows(400, 0.7, 1)).leaderboard(resamples=0).position_bias["first_shown"]
    assert biased["comparisons"] == 400
    assert biased["win_rate"] == pytest.approx(0.7, abs=0.06)
    assert biased["z"] > 5 and biased["p_value"] < 1e-6
    fair = accumulate(two_way_rows(400, 0.5, 2)).leaderboard(resamples=0).position_bias
    assert fair["first_shown"]["p_value"] > 0.01
    assert [p["position"] for p in fair["by_position"]] == [0, 1]
    assert sum(p["wins"] for p in fair["by_position"]) == 400


def test_skill_adjusted_position_check() -> None:
    # the better model is always shown first and always wins: the raw test fires, the adjusted does not
    rows = []
    for k in range(300):
        shown = sorted(random.Random(k).sample(["a", "b", "c", "d"], 2))
        winner_first = random.Random(k + 1000).random() < {"a": 0.9, "b": 0.8, "c": 0.7}[shown[0]]
        order = shown if winner_first else shown[::-1]
        rows.append([R.label(f"r{k}", f"l{k}", rankings=[R.ranking(order, shown=shown, row=f"r{k}")])])
    bias = accumulate(rows).leaderboard(resamples=0).position_bias["first_shown"]
    assert bias["p_value"] < 1e-6
    assert abs(bias["z_adjusted"]) < 2.5


def test_responses_without_positions_are_left_out() -> None:
    ranked = (RankedResponse("m1", "a", 1, None), RankedResponse("m2", "b", 2, None))
    rows = [[R.label("r", "l", rankings=[Ranking("rank", "p", ranked)])]]
    bias = accumulate(rows).leaderboard(resamples=0).position_bias
    assert bias["first_shown"]["comparisons"] == 0 and bias["first_shown"]["p_value"] is None
    assert bias["by_position"] == []


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_writers(tmp_path: Any) -> None:
    result = accumulate(random_rows(9, 60)).leaderboard(resamples=50)
    table = list(csv.DictReader(io.StringIO(leaderboard_csv(result))))
    assert [row["model"] for row in table] == list(result.models)
    assert float(table[0]["rating"]) == pytest.approx(result.rows[0].rating)
    header = "rank,model,rating,ci_low,ci_high,wins,losses,ties,comparisons,win_rate"
    assert ",".join(table[0]) == header
    matrix = list(csv.reader(io.StringIO(win_rate_csv(result))))
    assert matrix[0] == ["model", *result.models]
    assert matrix[1][1] == ""  # a model against itself
    write_leaderboard_csv(result, tmp_path / "board.csv")
    write_win_rate_csv(result, str(tmp_path / "matrix.csv"))
    assert (tmp_path / "board.csv").read_text() == leaderboard_csv(result)
    assert (tmp_path / "matrix.csv").read_text() == win_rate_csv(result)


def test_empty_accumulator() -> None:
    result = LeaderboardAccumulator().leaderboard()
    assert result.rows == () and result.counts["comparisons"] == 0
    json.dumps(result.to_dict(), allow_nan=False)


def test_add_rows_counts_rows_without_labels() -> None:
    from airflow_mmc_provider.mmc.export import ExportRow

    rows = random_rows(10, 20)
    export_rows = [ExportRow(labels[0].data_row_id, None, "project", tuple(labels)) for labels in rows]
    export_rows.append(ExportRow("empty", None, "project", ()))
    accumulator = LeaderboardAccumulator().add_rows(export_rows)
    assert accumulator.rows_without_labels == 1
    got = accumulator.leaderboard(resamples=20).to_dict()
    expected = accumulate(rows).leaderboard(resamples=20).to_dict()
    assert got["counts"].pop("rows_without_labels") == 1
    expected["counts"].pop("rows_without_labels")
    assert got == expected
