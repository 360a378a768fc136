"""Correctness against simulated raters (Plackett-Luce from known skills).

* Recovery: with enough judgments the order of the skills is recovered (Spearman >= 0.9).
* Coverage: over 40 independent rounds, the 95 % bootstrap intervals of rating differences contain
  the true differences about 95 % of the time (asserted in [0.85, 1.0]); the same machinery's 50 %
  intervals must not reach that band, so the check can fail.
* Buckets: resampling hashed groups of conversations gives intervals as wide as resampling single
  conversations.

Why Plackett-Luce works as ground truth for a Bradley-Terry fit: in a Plackett-Luce ranking, the
probability that i is ranked above j is exp(s_i) / (exp(s_i) + exp(s_j)), so every pair taken
from a ranking follows Bradley-Terry with the same skills (the pairs of one ranking are dependent,
which is why the bootstrap resamples conversations).
"""

from __future__ import annotations

import itertools
import math

from airflow_mmc_provider.evaluation import LeaderboardAccumulator
from airflow_mmc_provider.evaluation.stats import spearman

from . import records as R

ELO_PER_NAT = 400 / math.log(10)


def run_round(
    seed: int, skill: dict[str, float], conversations: int, **options: object
) -> LeaderboardAccumulator:
    accumulator = LeaderboardAccumulator(seed=seed, **options)  # type: ignore[arg-type]
    for labels in R.simulate(seed, skill, conversations=conversations, shown=3, raters=(1, 1, 2)):
        accumulator.add_row(labels)
    return accumulator


def test_the_order_of_skills_is_recovered() -> None:
    skill = {f"model-{k}": -1.2 + 0.3 * k for k in range(9)}
    result = run_round(1, skill, conversations=1500).leaderboard(resamples=0)
    ratings = result.ratings()
    models = sorted(skill)
    assert spearman([ratings[m] for m in models], [skill[m] for m in models]) >= 0.9
    # and the scale: rating differences estimate 400 * log10 of the odds
    top, bottom = ratings["model-8"] - ratings["model-0"], ELO_PER_NAT * (skill["model-8"] - skill["model-0"])
    assert abs(top - bottom) < 0.2 * bottom


def test_intervals_cover_the_true_differences() -> None:
    skill = {"a": 0.9, "b": 0.4, "c": 0.0, "d": -0.6}
    pairs = list(itertools.combinations(sorted(skill), 2))
    covered95 = covered50 = checks = 0
    for seed in range(40):
        result = run_round(seed, skill, conversations=150).leaderboard(resamples=400)
        for a, b in pairs:
            truth = ELO_PER_NAT * (skill[a] - skill[b])
            low, high = result.difference_interval(a, b)
            covered95 += low <= truth <= high
            low, high = result.difference_interval(a, b, confidence=0.5)
            covered50 += low <= truth <= high
            checks += 1
    coverage, control = covered95 / checks, covered50 / checks
    assert 0.85 <= coverage <= 1.0, coverage
    assert control < 0.75, control  # a wrong (too narrow) interval would be caught


def test_grouped_buckets_give_the_same_widths() -> None:
    skill = {"a": 0.6, "b": 0.2, "c": -0.1, "d": -0.5}
    fine = run_round(5, skill, conversations=600, buckets=8192).leaderboard(resamples=400)
    grouped = run_round(5, skill, conversations=600, buckets=128).leaderboard(resamples=400)
    ratios = []
    for a, b in itertools.combinations(sorted(skill), 2):
        low_f, high_f = fine.difference_interval(a, b)
        low_g, high_g = grouped.difference_interval(a, b)
        ratios.append((high_g - low_g) / (high_f - low_f))
    mean_ratio = sum(ratios) / len(ratios)
    assert 0.8 <= mean_ratio <= 1.25, ratios
