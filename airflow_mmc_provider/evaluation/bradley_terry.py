"""Bradley-Terry ratings by maximum likelihood (Newton's method on aggregated pair counts).

Model: response ``i`` beats ``j`` with probability ``1 / (1 + exp(theta_j - theta_i))``. The fit
works on aggregated counts, ``wins[i][j]`` = how often ``i`` beat ``j``, so its cost is
O(pairs * iterations) whatever the number of judgments. Ties count as half a win for each side
(the common convention, e.g. Chatbot Arena's; the Davidson model would add a tie parameter but
gives the same ordering and nearly the same ratings when ties are rare).

Prior: ``prior`` virtual games per model against a fixed reference of strength ``theta = 0``,
each ending in a tie (half a win, half a loss). It keeps ratings finite when a model won (or lost)
every comparison, or when a bootstrap resample leaves the comparison graph disconnected, and its
weight vanishes as real comparisons accumulate. ``prior=0`` gives the plain MLE (defined when the
comparison graph is strongly connected).

Scale: `elo_scale` maps log-strengths to an Elo-like scale, ``anchor + 400 * log10(odds)``, so
that 400 points mean 10:1 odds and ratings are centred on ``anchor`` (mean rating = anchor), or, with
``anchor_index``, that model sits exactly at ``anchor``.

Newton steps solve the 'minus Hessian' system by Cholesky; the log-likelihood is concave, and a
large step that would lower it is halved (a line search), so the iteration converges (to the MLE,
or to the MAP with a prior). Warm starts (the full-data estimate for every bootstrap resample)
need about three steps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["LN10_OVER_400", "PairCounts", "elo_scale", "fit_bradley_terry", "fit_pairs", "win_probability"]

# Elo points per natural-log unit of odds: 400 / ln(10).
ELO_PER_NAT = 400.0 / math.log(10.0)
LN10_OVER_400 = math.log(10.0) / 400.0

# Newton steps up to this size (in log-strength) are taken without a line search: that close to
# the optimum the quadratic model of the concave log-likelihood is accurate.
_TRUSTED_STEP = 0.5

# (i, j, half-wins of i over j, half-wins of j over i), i < j; only pairs that met.
PairCounts = list[tuple[int, int, float, float]]


def win_probability(rating_a: float, rating_b: float) -> float:
    """P(a beats b) for two ratings on the Elo-like scale."""
    return 1.0 / (1.0 + 10.0 ** ((rating_b - rating_a) / 400.0))


def elo_scale(
    theta: Sequence[float], *, anchor: float = 1000.0, anchor_index: int | None = None
) -> list[float]:
    """Log-strengths -> ratings: ``anchor + 400/ln(10) * (theta_i - centre)``.

    The centre is the mean of ``theta`` (ratings average ``anchor``) or ``theta[anchor_index]``.
    """
    if not theta:
        return []
    centre = theta[anchor_index] if anchor_index is not None else math.fsum(theta) / len(theta)
    return [anchor + ELO_PER_NAT * (t - centre) for t in theta]


def fit_bradley_terry(
    wins: Sequence[Sequence[float]],
    *,
    prior: float = 0.0,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> list[float]:
    """Log-strengths (mean 0) from a square matrix of (half-)win counts, ``wins[i][j]`` = i over j."""
    m = len(wins)
    pairs: PairCounts = []
    for i in range(m):
        if len(wins[i]) != m:
            raise ValueError("wins must be a square matrix")
        for j in range(i + 1, m):
            wij, wji = float(wins[i][j]), float(wins[j][i])
            if wij < 0 or wji < 0:
                raise ValueError("win counts must be non-negative")
            if wij or wji:
                pairs.append((i, j, wij, wji))
    theta = fit_pairs(m, pairs, prior=prior, tol=tol, max_iter=max_iter)
    mean = math.fsum(theta) / m if m else 0.0
    return [t - mean for t in theta]


def fit_pairs(
    m: int,
    pairs: PairCounts,
    *,
    prior: float = 0.0,
    start: Sequence[float] | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> list[float]:
    """The fit on sparse pair counts; `start` warm-starts it. Returns log-strengths (not centred)."""
    theta = list(start) if start is not None else [0.0] * m
    if m == 0:
        return theta
    exp = math.exp
    current: float | None = None  # the log-likelihood at theta, when known
    for _ in range(max_iter):
        grad = [0.0] * m
        # A = minus the Hessian (positive semi-definite); dense m*m, m is the number of models.
        a = [[0.0] * m for _ in range(m)]
        for i, j, wij, wji in pairs:
            n = wij + wji
            d = theta[i] - theta[j]
            if d >= 0:
                q = exp(-d)
                p = 1.0 / (1.0 + q)
            else:
                q = exp(d)
                p = q / (1.0 + q)
            g = wij - n * p
            grad[i] += g
            grad[j] -= g
            h = n * p * (1.0 - p)
            ai, aj = a[i], a[j]
            ai[i] += h
            aj[j] += h
            ai[j] -= h
            aj[i] -= h
        if prior > 0:
            for i in range(m):
                s = 1.0 / (1.0 + exp(-theta[i]))
                grad[i] += prior * (0.5 - s)
                a[i][i] += prior * s * (1.0 - s)
        else:
            # No prior: the likelihood is flat along (1, ..., 1); the gradient is orthogonal to it,
            # so adding 11'/m picks the minimum-norm Newton step.
            inv = 1.0 / m
            for row in a:
                for k in range(m):
                    row[k] += inv
        step = _solve(a, grad)
        largest = max(abs(s) for s in step)
        scale = 1.0
        if largest <= _TRUSTED_STEP:
            # Close to the optimum a full Newton step is safe; skip the likelihood evaluation.
            theta = [t + s for t, s in zip(theta, step, strict=True)]
            current = None
        else:
            if current is None:
                current = _log_likelihood(theta, pairs, prior)
            candidate = theta
            value = current
            for _halving in range(40):
                candidate = [t + scale * s for t, s in zip(theta, step, strict=True)]
                value = _log_likelihood(candidate, pairs, prior)
                if value >= current - 1e-12 * (1.0 + abs(current)):
                    break
                scale *= 0.5
            theta = candidate
            current = value
        if largest * scale < tol:
            break
    return theta


def _log_likelihood(theta: Sequence[float], pairs: PairCounts, prior: float) -> float:
    total = 0.0
    for i, j, wij, wji in pairs:
        lp, lq = _log_sigmoids(theta[i] - theta[j])
        total += wij * lp + wji * lq
    if prior > 0:
        half = 0.5 * prior
        for t in theta:
            lp, lq = _log_sigmoids(t)
            total += half * (lp + lq)
    return total


def _log_sigmoids(d: float) -> tuple[float, float]:
    """(log sigmoid(d), log sigmoid(-d)), computed stably on both sides: -log1p(exp(-|d|)) first."""
    if d >= 0:
        lp = -math.log1p(math.exp(-d))
        return lp, lp - d
    lq = -math.log1p(math.exp(d))
    return lq + d, lq


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Solve A x = b for symmetric positive (semi-)definite A by Cholesky, with a ridge if needed."""
    m = len(b)
    ridge = 0.0
    scale = max((a[i][i] for i in range(m)), default=1.0) or 1.0
    for _attempt in range(8):
        lower = _cholesky(a, ridge)
        if lower is not None:
            y = [0.0] * m
            for i in range(m):
                row = lower[i]
                s = b[i]
                for k in range(i):
                    s -= row[k] * y[k]
                y[i] = s / row[i]
            x = [0.0] * m
            for i in range(m - 1, -1, -1):
                s = y[i]
                for k in range(i + 1, m):
                    s -= lower[k][i] * x[k]
                x[i] = s / lower[i][i]
            return x
        ridge = scale * (1e-12 if ridge == 0.0 else ridge / scale * 100.0)
    raise ArithmeticError("the Bradley-Terry system is singular")


def _cholesky(a: list[list[float]], ridge: float) -> list[list[float]] | None:
    m = len(a)
    lower = [[0.0] * m for _ in range(m)]
    for i in range(m):
        li = lower[i]
        ai = a[i]
        for j in range(i + 1):
            lj = lower[j]
            s = ai[j]
            for k in range(j):
                s -= li[k] * lj[k]
            if i == j:
                s += ridge
                if s <= 0.0:
                    return None
                li[i] = math.sqrt(s)
            else:
                li[j] = s / lj[j]
    return lower
