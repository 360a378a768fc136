"""A round's counts -> its `Leaderboard`: the fit, the bootstrap, and every section of the report.

`assemble_leaderboard` is a function of `RoundCounts` alone, so a leaderboard computed from merged
counts (mapped tasks, rounds) is the one a single pass over all the labels gives.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final, NamedTuple, TypedDict

from airflow_mmc_provider.evaluation.bootstrap import bootstrap_ratings
from airflow_mmc_provider.evaluation.bradley_terry import elo_scale
from airflow_mmc_provider.evaluation.counts import RoundCounts
from airflow_mmc_provider.evaluation.leaderboard import Leaderboard, LeaderboardRow
from airflow_mmc_provider.evaluation.position_bias import position_bias
from airflow_mmc_provider.evaluation.ratings import PairTotals, fit_totals, pair_totals
from airflow_mmc_provider.evaluation.stats import percentile
from airflow_mmc_provider.evaluation.tallies import answer_tallies, text_samples

__all__ = ["DEFAULT_RESAMPLES", "LeaderboardOptions", "assemble_leaderboard"]

DEFAULT_RESAMPLES: Final = 1000

_TIE_HANDLING = "half: a tie counts as half a win for each side (in the fit and in win rates)"
_SCALE = "rating = anchor + 400 * log10(strength / centre), centre = geometric mean of strengths (or the anchor model)"
_FIT = "Bradley-Terry maximum likelihood (MAP with the prior), Newton's method on aggregated pair counts"
_BOOTSTRAP_METHOD = (
    "Poisson bootstrap over conversations (data rows): conversations hashed into buckets by global "
    "key, each bucket weighted by a discretised Poisson(1) per resample"
)
_AGREEMENT_METHOD = (
    "units are judgments several raters made on the same data row: 'preferred' = the top of a ranking or "
    "the single selection per (question, parent message); 'pairwise' = each model pair per (question, "
    "parent message) with values win/loss/tie (counted in both orientations for alpha). agreement = share "
    "of agreeing rater pairs; krippendorff_alpha = Krippendorff's alpha, nominal."
)


class LeaderboardOptions(TypedDict, total=False):
    """The keyword arguments of `assemble_leaderboard`, for the methods that pass them on."""

    resamples: int
    confidence: float
    prior: float
    anchor: float
    anchor_model: str | None


class _Rated(NamedTuple):
    """One model's rating, interval and totals, before ranking (fields named as `LeaderboardRow`'s)."""

    rating: float
    model: str
    ci_low: float
    ci_high: float
    wins: int
    losses: int
    ties: int


def assemble_leaderboard(
    counts: RoundCounts,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    prior: float = 1.0,
    anchor: float = 1000.0,
    anchor_model: str | None = None,
) -> Leaderboard:
    """Fit the ratings, bootstrap their intervals and assemble the `Leaderboard`.

    ``prior``: virtual tied games per model against a reference (see `bradley_terry`);
    ``anchor``: the mean rating, or ``anchor_model``'s rating when that is given;
    ``resamples``: bootstrap resamples (0 = no intervals: ci_low = ci_high = rating).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be between 0 and 1")
    if resamples < 0:
        raise ValueError("resamples must be >= 0")
    names = counts.models
    if anchor_model is not None and anchor_model not in names:
        raise ValueError(f"anchor model {anchor_model!r} has no comparisons; models: {names}")
    anchor_index = names.index(anchor_model) if anchor_model is not None else None
    index = {name: i for i, name in enumerate(names)}
    totals = pair_totals(counts.pairs, index)
    theta = fit_totals(totals, prior=prior)
    ratings = elo_scale(theta, anchor=anchor, anchor_index=anchor_index)
    samples = bootstrap_ratings(
        counts.pairs,
        index,
        theta,
        seed=counts.config.seed,
        resamples=resamples,
        prior=prior,
        anchor=anchor,
        anchor_index=anchor_index,
    )
    rated = _rated(names, ratings, samples, totals, confidence)
    order = sorted(range(len(names)), key=lambda i: (-rated[i].rating, rated[i].model))
    return Leaderboard(
        rows=tuple(_row(rank, rated[i]) for rank, i in enumerate(order, start=1)),
        win_rates=tuple(tuple(totals.win_rate(i, j) for j in order) for i in order),
        comparisons=tuple(tuple(totals.met(i, j) for j in order) for i in order),
        tallies=answer_tallies(counts.answers, counts.answered),
        text_samples=text_samples(counts.texts),
        agreement={
            "preferred": counts.preferred.to_dict(),
            "pairwise": counts.pairwise.to_dict(),
            "method": _AGREEMENT_METHOD,
        },
        position_bias=position_bias(counts.positions, counts.first_shown, theta, index),
        counts=_count_section(counts, totals),
        settings=_settings(counts, resamples, confidence, prior, anchor, anchor_model),
        bootstrap=tuple(tuple(sample[i] for i in order) for sample in samples),
    )


def _rated(
    names: Sequence[str],
    ratings: Sequence[float],
    samples: Sequence[Sequence[float]],
    totals: PairTotals,
    confidence: float,
) -> list[_Rated]:
    """Per model (in ``names`` order): rating, percentile interval and totals."""
    alpha = (1.0 - confidence) / 2.0
    rated: list[_Rated] = []
    for i, name in enumerate(names):
        if samples:
            column = sorted(sample[i] for sample in samples)
            low, high = percentile(column, alpha), percentile(column, 1.0 - alpha)
        else:
            low = high = ratings[i]
        rated.append(_Rated(ratings[i], name, low, high, totals.won(i), totals.lost(i), totals.tied(i)))
    return rated


def _row(rank: int, rated: _Rated) -> LeaderboardRow:
    comparisons = rated.wins + rated.losses + rated.ties
    win_rate = (rated.wins + rated.ties / 2.0) / comparisons if comparisons else math.nan
    return LeaderboardRow(rank=rank, comparisons=comparisons, win_rate=win_rate, **rated._asdict())


def _count_section(counts: RoundCounts, totals: PairTotals) -> dict[str, Any]:
    decisive, ties = totals.decisive(), totals.tie_total()
    read = counts.totals._asdict()
    return {
        **{name: read.pop(name) for name in ("labels", "rows", "rows_without_labels")},
        "raters": len(counts.raters),
        "models": len(totals.wins),
        "judgments": dict(counts.judgments),
        "judgments_total": sum(counts.judgments.values()),
        "comparisons": decisive + ties,
        "decisive": decisive,
        "ties": ties,
        **read,  # labels_without_judgments, judgments_without_outcomes, unresolved_pairs, same_model_pairs
    }


def _settings(
    counts: RoundCounts,
    resamples: int,
    confidence: float,
    prior: float,
    anchor: float,
    anchor_model: str | None,
) -> dict[str, Any]:
    config = counts.config
    return {
        "scale": _SCALE,
        "anchor": anchor,
        "anchor_model": anchor_model,
        "ties": _TIE_HANDLING,
        "prior_games": prior,
        "fit": _FIT,
        "bootstrap": {
            "resamples": resamples,
            "confidence": confidence,
            "seed": config.seed,
            "buckets": config.buckets,
            "interval": "percentile",
            "method": _BOOTSTRAP_METHOD,
        },
        "kinds": list(config.kinds),
        "features": sorted(config.features) if config.features is not None else None,
        "per_prompt": config.per_prompt,
    }
