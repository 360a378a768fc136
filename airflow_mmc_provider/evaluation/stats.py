"""Small statistics helpers (pure Python, no numpy): percentiles, binomial and normal tests."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["binomial_two_sided", "normal_two_sided", "percentile", "spearman"]

# Above this many trials the binomial test uses the normal approximation (continuity-corrected).
EXACT_BINOMIAL_LIMIT = 20_000


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of already sorted values, linear interpolation (numpy's default)."""
    if not sorted_values:
        return math.nan
    position = (len(sorted_values) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    fraction = position - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


def normal_two_sided(z: float) -> float:
    """Two-sided p-value of a standard normal statistic."""
    return math.erfc(abs(z) / math.sqrt(2.0))


def binomial_two_sided(successes: int, trials: int) -> float:
    """Two-sided p-value of ``successes`` in ``trials`` under p = 1/2 (exact up to 20,000 trials)."""
    if trials <= 0:
        return 1.0
    k = min(successes, trials - successes)
    if trials > EXACT_BINOMIAL_LIMIT:
        z = (abs(successes - trials / 2.0) - 0.5) / math.sqrt(trials / 4.0)
        return min(1.0, normal_two_sided(max(z, 0.0)))
    log_half = trials * math.log(0.5)
    lg_n = math.lgamma(trials + 1)
    tail = math.fsum(
        math.exp(lg_n - math.lgamma(i + 1) - math.lgamma(trials - i + 1) + log_half) for i in range(k + 1)
    )
    return min(1.0, 2.0 * tail)


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman rank correlation (average ranks for ties)."""
    if len(a) != len(b) or len(a) < 2:
        raise ValueError("need two sequences of the same length >= 2")
    ra, rb = _ranks(a), _ranks(b)
    ma, mb = math.fsum(ra) / len(ra), math.fsum(rb) / len(rb)
    cov = math.fsum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    va = math.fsum((x - ma) ** 2 for x in ra)
    vb = math.fsum((y - mb) ** 2 for y in rb)
    return cov / math.sqrt(va * vb) if va and vb else math.nan


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks
