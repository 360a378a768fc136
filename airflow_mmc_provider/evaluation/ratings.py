"""From pair counts to ratings: the win and tie totals of each pair, and the Bradley-Terry fit on them.

Everything is in the indices of a sorted list of models (``index[name]``), so the result does not
depend on the order a counter met them in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from airflow_mmc_provider.evaluation.bradley_terry import PairCounts, fit_pairs
from airflow_mmc_provider.evaluation.counts import PairCount

__all__ = ["PairTotals", "fit_totals", "pair_totals"]


class PairTotals(NamedTuple):
    """``wins[i][j]``: how often model i beat j; ``ties[i][j]`` (= ``ties[j][i]``): how often they tied."""

    wins: list[list[int]]
    ties: list[list[int]]

    def won(self, i: int) -> int:
        return sum(self.wins[i])

    def lost(self, i: int) -> int:
        return sum(row[i] for row in self.wins)

    def tied(self, i: int) -> int:
        return sum(self.ties[i])

    def met(self, i: int, j: int) -> int:
        """Comparisons of i and j (0 on the diagonal)."""
        return self.wins[i][j] + self.wins[j][i] + self.ties[i][j] if i != j else 0

    def win_rate(self, i: int, j: int) -> float | None:
        """How often i beat j, a tie counting half; None if they never met."""
        met = self.met(i, j)
        return (self.wins[i][j] + self.ties[i][j] / 2.0) / met if met else None

    def decisive(self) -> int:
        return sum(sum(row) for row in self.wins)

    def tie_total(self) -> int:
        m = len(self.ties)
        return sum(self.ties[i][j] for i in range(m) for j in range(i + 1, m))


def pair_totals(pairs: Iterable[PairCount], index: Mapping[str, int]) -> PairTotals:
    """Sum the bucketed counts of every pair."""
    m = len(index)
    wins = [[0] * m for _ in range(m)]
    ties = [[0] * m for _ in range(m)]
    for _, first, second, tie, n in pairs:
        i, j = index[first], index[second]
        if tie:
            ties[i][j] += n
            ties[j][i] += n
        else:
            wins[i][j] += n
    return PairTotals(wins, ties)


def fit_totals(totals: PairTotals, *, prior: float) -> list[float]:
    """Bradley-Terry log-strengths, a tie counting as half a win for each side."""
    m = len(totals.wins)
    wins, ties = totals.wins, totals.ties
    pairs: PairCounts = []
    for i in range(m):
        for j in range(i + 1, m):
            wij = wins[i][j] + ties[i][j] / 2.0
            wji = wins[j][i] + ties[i][j] / 2.0
            if wij or wji:
                pairs.append((i, j, wij, wji))
    return fit_pairs(m, pairs, prior=prior)
