"""Bradley-Terry fits on hand-computed cases, ties, the prior and the Elo-like scale."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import pytest

from airflow_mmc_provider.evaluation.bradley_terry import elo_scale, fit_bradley_terry, win_probability

ELO_PER_NAT = 400 / math.log(10)


def zermelo(wins: Sequence[Sequence[float]], iterations: int = 20000) -> list[float]:
    """An independent reference: Zermelo's / Hunter's MM iteration, log-strengths centred."""
    m = len(wins)
    p = [1.0] * m
    for _ in range(iterations):
        new = []
        for i in range(m):
            total = sum(wins[i])
            denominator = sum((wins[i][j] + wins[j][i]) / (p[i] + p[j]) for j in range(m) if j != i)
            new.append(total / denominator)
        mean = math.exp(sum(math.log(x) for x in new) / m)
        p = [x / mean for x in new]
    return [math.log(x) for x in p]


def test_two_models_closed_form() -> None:
    # a beat b 3 times out of 4: the MLE odds are 3:1, so theta_a - theta_b = ln 3
    theta = fit_bradley_terry([[0, 3], [1, 0]])
    assert theta[0] - theta[1] == pytest.approx(math.log(3), abs=1e-9)
    assert sum(theta) == pytest.approx(0.0, abs=1e-12)
    ratings = elo_scale(theta)
    assert ratings[0] - ratings[1] == pytest.approx(400 * math.log10(3), abs=1e-6)  # 190.85
    assert sum(ratings) / 2 == pytest.approx(1000.0)
    assert win_probability(ratings[0], ratings[1]) == pytest.approx(0.75)


def test_ties_count_half() -> None:
    # 2 wins and 2 ties = 3 half-wins against 1: the same as 3 wins to 1
    assert fit_bradley_terry([[0, 3], [1, 0]]) == pytest.approx(fit_bradley_terry([[0, 2 + 1], [0 + 1, 0]]))


def test_a_cycle_is_a_draw() -> None:
    wins = [[0, 5, 0], [0, 0, 5], [5, 0, 0]]
    assert fit_bradley_terry(wins) == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)


def test_three_models_solve_the_score_equations() -> None:
    wins = [[0, 7, 4], [3, 0, 6], [2, 5, 0]]
    theta = fit_bradley_terry(wins)
    p = [math.exp(t) for t in theta]
    for i in range(3):
        expected = sum((wins[i][j] + wins[j][i]) * p[i] / (p[i] + p[j]) for j in range(3) if j != i)
        assert sum(wins[i]) == pytest.approx(expected, abs=1e-9)
    assert theta == pytest.approx(zermelo(wins), abs=1e-6)


def test_random_matrices_match_the_mm_reference() -> None:
    rng = random.Random(4)
    for _ in range(5):
        m = rng.randint(3, 6)
        wins = [[0.0 if i == j else float(rng.randint(1, 30)) for j in range(m)] for i in range(m)]
        assert fit_bradley_terry(wins) == pytest.approx(zermelo(wins, 5000), abs=1e-6)


def test_the_prior_keeps_an_undefeated_model_finite() -> None:
    wins = [[0, 10, 10], [0, 0, 5], [0, 5, 0]]
    theta = fit_bradley_terry(wins, prior=1.0)
    assert all(math.isfinite(t) for t in theta)
    assert theta[0] > theta[1] + 1.5
    assert theta[1] == pytest.approx(theta[2])
    # its weight vanishes with data: with 100x the games the MAP approaches the MLE
    big = [[100 * w for w in row] for row in [[0, 7, 4], [3, 0, 6], [2, 5, 0]]]
    assert fit_bradley_terry(big, prior=1.0) == pytest.approx(fit_bradley_terry(big), abs=1e-3)


def test_disconnected_without_prior_still_returns() -> None:
    theta = fit_bradley_terry([[0, 2, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]])
    assert all(math.isfinite(t) for t in theta)
    assert theta[0] - theta[1] == pytest.approx(math.log(2), abs=1e-6)


def test_elo_scale_anchor_model() -> None:
    ratings = elo_scale([0.5, 0.0, -1.0], anchor=1500, anchor_index=1)
    assert ratings == pytest.approx([1500 + 0.5 * ELO_PER_NAT, 1500, 1500 - ELO_PER_NAT])


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="square"):
        fit_bradley_terry([[0, 1]])
    with pytest.raises(ValueError, match="non-negative"):
        fit_bradley_terry([[0, -1], [1, 0]])
    assert fit_bradley_terry([]) == []


def test_newton_converges_from_a_cold_start_on_lopsided_data() -> None:
    # 1000:1 odds need a long way from theta = 0; the line search keeps Newton on track
    theta = fit_bradley_terry([[0, 1000], [1, 0]])
    assert theta[0] - theta[1] == pytest.approx(math.log(1000), abs=1e-8)
    wins = [[0, 500, 900, 999], [20, 0, 400, 800], [1, 30, 0, 300], [1, 2, 10, 0]]
    assert fit_bradley_terry(wins) == pytest.approx(zermelo(wins, 200000), abs=1e-5)
