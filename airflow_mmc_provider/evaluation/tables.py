"""CSV files of a leaderboard: the ranking table and the win-rate matrix.

Both writers take a `Leaderboard` and either a text stream (``open(path, "w", newline="")``, an
``ObjectStoragePath.open("w")``, ``io.StringIO``) or a local path. Floats are written with
``repr`` precision; undefined values (a pair that never met) are empty cells.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from airflow_mmc_provider.evaluation.leaderboard import Leaderboard

__all__ = [
    "LEADERBOARD_COLUMNS",
    "leaderboard_csv",
    "win_rate_csv",
    "write_leaderboard_csv",
    "write_win_rate_csv",
]

LEADERBOARD_COLUMNS = (
    "rank",
    "model",
    "rating",
    "ci_low",
    "ci_high",
    "wins",
    "losses",
    "ties",
    "comparisons",
    "win_rate",
)

Target = TextIO | str | os.PathLike[str]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN
        return ""
    return value


def _write(rows: Iterable[Sequence[Any]], target: Target) -> None:
    if isinstance(target, (str, os.PathLike)):
        with open(target, "w", newline="", encoding="utf-8") as handle:
            _write(rows, handle)
        return
    writer = csv.writer(target, lineterminator="\n")
    for row in rows:
        writer.writerow([_cell(v) for v in row])


def _leaderboard_rows(leaderboard: Leaderboard) -> Iterable[Sequence[Any]]:
    yield LEADERBOARD_COLUMNS
    for row in leaderboard.rows:
        yield [getattr(row, column) for column in LEADERBOARD_COLUMNS]


def _win_rate_rows(leaderboard: Leaderboard) -> Iterable[Sequence[Any]]:
    models = leaderboard.models
    yield ["model", *models]
    for model, rates in zip(models, leaderboard.win_rates, strict=True):
        yield [model, *rates]


def write_leaderboard_csv(leaderboard: Leaderboard, target: Target) -> None:
    """One line per model, best first: rank, model, rating, ci_low, ci_high, wins, losses, ties, ..."""
    _write(_leaderboard_rows(leaderboard), target)


def write_win_rate_csv(leaderboard: Leaderboard, target: Target) -> None:
    """The win-rate matrix: row model beat column model this often (ties as half); blank = never met."""
    _write(_win_rate_rows(leaderboard), target)


def leaderboard_csv(leaderboard: Leaderboard) -> str:
    buffer = io.StringIO()
    write_leaderboard_csv(leaderboard, buffer)
    return buffer.getvalue()


def win_rate_csv(leaderboard: Leaderboard) -> str:
    buffer = io.StringIO()
    write_win_rate_csv(leaderboard, buffer)
    return buffer.getvalue()
