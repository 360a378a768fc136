"""The one-call path (`compute_leaderboard`), and the accumulator's names where they used to be.

The streaming counter is `counter.LeaderboardAccumulator`, its counts `counts.RoundCounts`, the
statistics plain functions over those (`assemble`, `ratings`, `bootstrap`, `position_bias`,
`tallies`, `agreement`). This module keeps ``evaluation.accumulator.LeaderboardAccumulator``,
``merge``, ``DEFAULT_BUCKETS`` and ``DEFAULT_RESAMPLES`` importable.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Unpack

from airflow_mmc_provider.evaluation.assemble import DEFAULT_RESAMPLES
from airflow_mmc_provider.evaluation.counter import LeaderboardAccumulator, merge, warn_workers
from airflow_mmc_provider.evaluation.counts import DEFAULT_BUCKETS, CounterSettings
from airflow_mmc_provider.evaluation.leaderboard import Leaderboard
from airflow_mmc_provider.mmc.export import LabelRecord

__all__ = ["DEFAULT_BUCKETS", "DEFAULT_RESAMPLES", "LeaderboardAccumulator", "compute_leaderboard", "merge"]


def compute_leaderboard(
    labels: Iterable[LabelRecord],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    prior: float = 1.0,
    anchor: float = 1000.0,
    anchor_model: str | None = None,
    workers: int = 1,
    **settings: Unpack[CounterSettings],
) -> Leaderboard:
    """One pass over labels (e.g. `mmc.export.iter_labels(lines)`) -> `Leaderboard`.

    ``settings`` are the counter's (`counts.CounterConfig.of`: seed, buckets, text_sample_size,
    kinds, features, per_prompt), the other options the leaderboard's. ``workers`` is deprecated
    and ignored: spread a large round over Airflow mapped tasks and merge their states instead
    (see `counter`).
    """
    warn_workers(workers)
    accumulator = LeaderboardAccumulator(**settings)
    accumulator.add_labels(labels)
    return accumulator.leaderboard(
        resamples=resamples, confidence=confidence, prior=prior, anchor=anchor, anchor_model=anchor_model
    )
