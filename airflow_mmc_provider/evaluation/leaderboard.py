"""The result of an evaluation round: `Leaderboard` and its rows, JSON-ready through `to_dict`.

`Leaderboard.to_dict()` layout (every value is JSON-serialisable; None where undefined)::

    {"models": [{"rank", "model", "rating", "ci_low", "ci_high", "wins", "losses", "ties",
                 "comparisons", "win_rate"}, ...],              # best first
     "win_rates": {"models": [...], "win_rate": [[...]], "comparisons": [[...]]},
     "tallies": [{"question", "kind", "targets": {"<target>": {"answered", "answers": {...}}}}],
     "text_samples": {"<question>": {"answers": n, "samples": [{"text", "global_key", "message_id",
                                                               "model"}, ...]}},
     "agreement": {"preferred": {...}, "pairwise": {...}, "method": "..."},
     "position_bias": {"first_shown": {...}, "by_position": [...], "method": "..."},
     "counts": {"labels", "rows", "raters", "judgments": {...}, "comparisons", ...},
     "settings": {"scale": ..., "bootstrap": {...}, ...}}

``win_rate[a][b]`` is how often the row model ``a`` beat column model ``b`` (ties as half), None
when they never met. The matrix order is the leaderboard order. Tally targets are ``(global)``
for global questions, the model config name for questions on a model response, ``(prompt)`` for
questions on a human message, ``(message)`` when the conversation was not available.

The JSON is a function of the labels' content alone: the same round run again, or against a fresh
service that assigns new ids, gives the same bytes. So it holds no id the service assigns (data
row and label ids, times): a text sample names its row by global key and its message by the id
derived from the record's key. `Leaderboard.text_samples` keeps the data row and label ids of each
sample for a caller who wants to open it in Labelbox.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from airflow_mmc_provider.evaluation.stats import percentile

__all__ = ["Leaderboard", "LeaderboardRow"]


@dataclass(frozen=True, slots=True)
class LeaderboardRow:
    rank: int
    model: str
    rating: float
    ci_low: float
    ci_high: float
    wins: int
    losses: int
    ties: int
    comparisons: int
    win_rate: float

    def to_dict(self) -> dict[str, Any]:
        """The row under its field names, in their order: an entry of ``models`` in the JSON."""
        return asdict(self)


@dataclass(frozen=True)
class Leaderboard:
    """Ratings with intervals and everything else a round report needs (see the module docstring).

    ``bootstrap`` holds the resampled ratings (one tuple per resample, in ``models`` order); it is
    left out of `to_dict` unless asked for, and serves `difference_interval`.
    """

    rows: tuple[LeaderboardRow, ...]
    win_rates: tuple[tuple[float | None, ...], ...]
    comparisons: tuple[tuple[int, ...], ...]
    tallies: list[dict[str, Any]]
    text_samples: dict[str, dict[str, Any]]
    agreement: dict[str, Any]
    position_bias: dict[str, Any]
    counts: dict[str, Any]
    settings: dict[str, Any]
    bootstrap: tuple[tuple[float, ...], ...] = field(default=(), repr=False)

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(row.model for row in self.rows)

    def row(self, model: str) -> LeaderboardRow:
        for row in self.rows:
            if row.model == model:
                return row
        raise KeyError(model)

    def ratings(self) -> dict[str, float]:
        return {row.model: row.rating for row in self.rows}

    def difference_interval(
        self, model_a: str, model_b: str, confidence: float | None = None
    ) -> tuple[float, float]:
        """Percentile bootstrap interval of ``rating(a) - rating(b)``."""
        if not self.bootstrap:
            raise ValueError("this leaderboard has no bootstrap resamples")
        level = confidence if confidence is not None else float(self.settings["bootstrap"]["confidence"])
        i, j = self.models.index(model_a), self.models.index(model_b)
        diffs = sorted(sample[i] - sample[j] for sample in self.bootstrap)
        alpha = (1.0 - level) / 2.0
        return percentile(diffs, alpha), percentile(diffs, 1.0 - alpha)

    def to_dict(self, *, include_bootstrap: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = {
            "models": [row.to_dict() for row in self.rows],
            "win_rates": {
                "models": list(self.models),
                "win_rate": [list(r) for r in self.win_rates],
                "comparisons": [list(r) for r in self.comparisons],
            },
            "tallies": self.tallies,
            "text_samples": _without_service_ids(self.text_samples),
            "agreement": self.agreement,
            "position_bias": self.position_bias,
            "counts": self.counts,
            "settings": self.settings,
        }
        if include_bootstrap:
            result["bootstrap"] = [list(sample) for sample in self.bootstrap]
        return _json_ready(result)


# Sample fields Labelbox assigns anew on every upload: left out of the JSON (module docstring).
_SERVICE_IDS = frozenset({"data_row_id", "label_id"})


def _without_service_ids(text_samples: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        question: {
            **section,
            "samples": [
                {k: v for k, v in sample.items() if k not in _SERVICE_IDS} for sample in section["samples"]
            ],
        }
        for question, section in text_samples.items()
    }


def _json_ready(value: Any) -> Any:
    """NaN/inf -> None (JSON has neither), recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    return value
