"""Judgments -> pairwise preferences -> ratings, win rates, tallies, agreement: a round's leaderboard.

Pure Python, no HTTP and no Airflow. The usual path::

    from airflow_mmc_provider.mmc.export import iter_labels
    from airflow_mmc_provider.evaluation import compute_leaderboard, write_leaderboard_csv

    with open("export.ndjson", "rb") as lines:
        board = compute_leaderboard(iter_labels(lines), seed=7)
    board.to_dict()                      # JSON-ready
    write_leaderboard_csv(board, "leaderboard.csv")

For running leaderboards keep a `LeaderboardAccumulator` per round (or per export part, one
Airflow mapped task each), `merge` them, or persist them with `to_state` / `from_state`. Modules:
`counter` (the streaming counter), `counts` (what it counts, by name: the seam to the statistics),
`state` (counts as versioned JSON), `pair_table` and `signatures` (the counter's compact codes),
`answer_counts` (tallies and text samples while counting), and plain functions over counts:
`ratings` (pair totals and the fit, with `bradley_terry`), `bootstrap` (conversation-level Poisson
bootstrap), `position_bias`, `agreement` (Krippendorff's alpha), `tallies`, `assemble` (the
leaderboard); `pairwise` (extraction rules), `reservoir` (text samples), `stats` (tests and
percentiles); presentation: `leaderboard` (result type), `tables` (CSV), `report` (HTML);
`judgments_table` (one row per counted comparison, CSV / Parquet) with `style` (markdown counts).
`accumulator` keeps the old import path and `compute_leaderboard`, the one-call path.
Across rounds: `round_state` (a round's persisted ``state.json``), `rounds` (merging round states),
`families` (model identity across rounds) and `trends` (per-round, trend and pooled views).
"""

from __future__ import annotations

from airflow_mmc_provider.evaluation.accumulator import (
    DEFAULT_BUCKETS,
    DEFAULT_RESAMPLES,
    LeaderboardAccumulator,
    compute_leaderboard,
    merge,
)
from airflow_mmc_provider.evaluation.bradley_terry import elo_scale, fit_bradley_terry, win_probability
from airflow_mmc_provider.evaluation.leaderboard import Leaderboard, LeaderboardRow
from airflow_mmc_provider.evaluation.pairwise import KINDS, Outcome, pairwise_outcomes
from airflow_mmc_provider.evaluation.tables import (
    leaderboard_csv,
    win_rate_csv,
    write_leaderboard_csv,
    write_win_rate_csv,
)

__all__ = [
    "DEFAULT_BUCKETS",
    "DEFAULT_RESAMPLES",
    "KINDS",
    "Leaderboard",
    "LeaderboardAccumulator",
    "LeaderboardRow",
    "Outcome",
    "compute_leaderboard",
    "elo_scale",
    "fit_bradley_terry",
    "leaderboard_csv",
    "merge",
    "pairwise_outcomes",
    "win_probability",
    "win_rate_csv",
    "write_leaderboard_csv",
    "write_win_rate_csv",
]
