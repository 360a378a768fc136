"""Position bias: do raters prefer the response shown first, beyond what the ratings explain?

Two views of the decisive comparisons. ``first_shown`` takes those where one of the two responses
was shown first (position 0 of the parent's ``childMessageIds``) and tests a first-shown win rate
of 1/2 (exact binomial up to 20,000 comparisons); since that test is only valid when display order
was randomised, it also compares with what the Bradley-Terry ratings predict for the same model
pairs (``expected_first_wins``, ``z_adjusted``). ``by_position``: wins and comparisons per display
position.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from airflow_mmc_provider.evaluation.counts import FirstShownCount, PositionCount
from airflow_mmc_provider.evaluation.stats import binomial_two_sided, normal_two_sided

__all__ = ["POSITION_METHOD", "position_bias"]

POSITION_METHOD: Final = (
    "decisive pairwise outcomes where one response was shown first (position 0 of the parent's "
    "childMessageIds). z and p_value test a first-shown win rate of 1/2 (exact binomial up to 20,000 "
    "comparisons); expected_first_wins, z_adjusted and p_value_adjusted compare with what the "
    "Bradley-Terry ratings predict for the same model pairs, which stays valid when display order was not "
    "randomised. by_position: decisive outcomes by display position. Ties, responses without a display "
    "position and judgments with an unresolved or repeated model are left out."
)


def position_bias(
    positions: Iterable[PositionCount],
    first_shown: Iterable[FirstShownCount],
    theta: Sequence[float],
    index: Mapping[str, int],
) -> dict[str, Any]:
    """The position-bias section of a leaderboard; ``theta[index[model]]``: fitted log-strengths."""
    return {
        "first_shown": _first_shown(first_shown, theta, index),
        "by_position": _by_position(positions),
        "method": POSITION_METHOD,
    }


def _first_shown(
    counts: Iterable[FirstShownCount], theta: Sequence[float], index: Mapping[str, int]
) -> dict[str, Any]:
    n = k = 0
    games: dict[tuple[int, int], int] = {}  # (model shown first, the other) -> comparisons
    for winner, loser, first_won, count in counts:
        first, other = (index[winner], index[loser]) if first_won else (index[loser], index[winner])
        games[(first, other)] = games.get((first, other), 0) + count
        n += count
        k += count * first_won
    expected = variance = 0.0
    for (first, other), count in sorted(games.items()):  # a fixed order: merged counts give equal sums
        p = 1.0 / (1.0 + math.exp(theta[other] - theta[first]))
        expected += count * p
        variance += count * p * (1.0 - p)
    z_adjusted = (k - expected) / math.sqrt(variance) if variance > 0 else math.nan
    return {
        "comparisons": n,
        "first_wins": k,
        "win_rate": k / n if n else None,
        "z": (k - n / 2.0) / math.sqrt(n / 4.0) if n else math.nan,
        "p_value": binomial_two_sided(k, n) if n else None,
        "expected_first_wins": expected if n else None,
        "z_adjusted": z_adjusted,
        "p_value_adjusted": normal_two_sided(z_adjusted) if variance > 0 else None,
    }


def _by_position(counts: Iterable[PositionCount]) -> list[dict[str, Any]]:
    wins: dict[int, int] = {}
    games: dict[int, int] = {}
    for winner_position, loser_position, count in counts:
        wins[winner_position] = wins.get(winner_position, 0) + count
        games[winner_position] = games.get(winner_position, 0) + count
        games[loser_position] = games.get(loser_position, 0) + count
    return [
        {
            "position": position,
            "wins": wins.get(position, 0),
            "comparisons": total,
            "win_rate": wins.get(position, 0) / total,
        }
        for position, total in sorted(games.items())
    ]
