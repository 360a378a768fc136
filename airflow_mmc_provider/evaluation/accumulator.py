"""The one-call path (`compute_leaderboard`), and the accumulator's names where they used to be.

The streaming counter is `counter.LeaderboardAccumulator`, its counts `counts.RoundCounts`, the
statistics plain functions over those (`assemble`, `ratings`, `bootstrap`, `position_bias`,
`tallies`, `agreement`). This module keeps ``evaluation.accumulator.LeaderboardAccumulator``,
``merge``, ``DEFAULT_BUCKETS`` and ``DEFAULT_RESAMPLES`` importable.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from airflow_mmc_provider.evaluation.assemble import DEFAULT_RESAMPLES
from airflow_mmc_provider.evaluation.counter import LeaderboardAccumulator, merge, warn_workers
from airflow_mmc_provider.evaluation.counts import DEFAULT_BUCKETS
from airflow_mmc_provider.evaluation.leaderboard import Leaderboard
from airflow_mmc_provider.evaluation.pairwise import KINDS, PerPrompt
from airflow_mmc_provider.mmc.export import LabelRecord

__all__ = ["DEFAULT_BUCKETS", "DEFAULT_RESAMPLES", "LeaderboardAccumulator", "compute_leaderboard", "merge"]


def compute_leaderboard(
    labels: Iterable[LabelRecord],
    *,
    seed: int = 0,
    buckets: int = DEFAULT_BUCKETS,
    text_sample_size: int = 20,
    kinds: Collection[str] = KINDS,
    features: Collection[str] | None = None,
    per_prompt: PerPrompt = "one",
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    prior: float = 1.0,
    anchor: float = 1000.0,
    anchor_model: str | None = None,
    workers: int = 1,
) -> Leaderboard:
    """One pass over labels (e.g. `mmc.export.iter_labels(lines)`) -> `Leaderboard`.

    ``workers`` is deprecated and ignored: spread a large round over Airflow mapped tasks and
    merge their states instead (see `counter`).
    """
    warn_workers(workers)
    accumulator = LeaderboardAccumulator(
        seed=seed,
        buckets=buckets,
        text_sample_size=text_sample_size,
        kinds=kinds,
        features=features,
        per_prompt=per_prompt,
    )
    accumulator.add_labels(labels)
    return accumulator.leaderboard(
        resamples=resamples, confidence=confidence, prior=prior, anchor=anchor, anchor_model=anchor_model
    )
