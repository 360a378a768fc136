"""What a round's counter holds, as plain named data: the seam between counting and statistics.

`LeaderboardAccumulator` (in `counter`) counts in compact integer codes for speed; `RoundCounts`
is the same content by model names, which is what everything else reads: the statistics (`ratings`,
`bootstrap`, `position_bias`, `tallies`, `assemble`), the persisted state (`state`) and `merge`. A
counter can always be rebuilt from its `RoundCounts`, so two counters merge by adding one's counts
to the other, and a state is these counts written as JSON.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final, NamedTuple, TypedDict

from airflow_mmc_provider.evaluation.agreement import NominalAgreement
from airflow_mmc_provider.evaluation.pairwise import KINDS, PER_PROMPT, PerPrompt
from airflow_mmc_provider.evaluation.reservoir import TextReservoir

__all__ = [
    "DEFAULT_BUCKETS",
    "Answer",
    "CounterConfig",
    "CounterSettings",
    "FirstShownCount",
    "PairCount",
    "PositionCount",
    "Question",
    "RoundCounts",
    "RowTotals",
]

DEFAULT_BUCKETS: Final = 1024


class CounterSettings(TypedDict, total=False):
    """The keyword arguments of `CounterConfig.of`, for the counter that passes them on."""

    seed: int
    buckets: int
    text_sample_size: int
    kinds: Collection[str]
    features: Collection[str] | None
    per_prompt: PerPrompt


@dataclass(frozen=True, slots=True)
class CounterConfig:
    """The settings two counters must share to be merged (seed, buckets and what counts).

    ``seed`` drives the bootstrap weights and the text samples, ``buckets`` is the number of
    bootstrap buckets, ``kinds`` / ``features`` restrict which judgments make comparisons (None:
    every feature), ``per_prompt`` says whether each rater's preference on a prompt counts once
    (``"one"``, the default) or every judgment counts (``"all"``): see `pairwise.counted`.
    """

    seed: int = 0
    buckets: int = DEFAULT_BUCKETS
    text_sample_size: int = 20
    kinds: tuple[str, ...] = KINDS
    features: frozenset[str] | None = None
    per_prompt: PerPrompt = "one"

    @classmethod
    def of(
        cls,
        *,
        seed: int = 0,
        buckets: int = DEFAULT_BUCKETS,
        text_sample_size: int = 20,
        kinds: Collection[str] = KINDS,
        features: Collection[str] | None = None,
        per_prompt: PerPrompt = "one",
    ) -> CounterConfig:
        """Checked and normalised settings (kinds in the order of `KINDS`, features as a set)."""
        if buckets < 1:
            raise ValueError("buckets must be >= 1")
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown judgment kinds {sorted(unknown)}; known: {list(KINDS)}")
        if per_prompt not in PER_PROMPT:
            raise ValueError(
                f"per_prompt must be one of {list(PER_PROMPT)} ('one': each rater's preference on a "
                f"prompt once; 'all': every judgment), got {per_prompt!r}"
            )
        return cls(
            seed=seed,
            buckets=buckets,
            text_sample_size=text_sample_size,
            kinds=tuple(k for k in KINDS if k in set(kinds)),
            features=frozenset(features) if features is not None else None,
            per_prompt=per_prompt,
        )

    def settings(self) -> CounterSettings:
        """The keyword arguments of `of` (and of a counter) that give these settings again."""
        return {
            "seed": self.seed,
            "buckets": self.buckets,
            "text_sample_size": self.text_sample_size,
            "kinds": self.kinds,
            "features": self.features,
            "per_prompt": self.per_prompt,
        }

    def as_dict(self) -> dict[str, Any]:
        """The keyword arguments of `of` as plain JSON data."""
        features = sorted(self.features) if self.features is not None else None
        return {**self.settings(), "kinds": list(self.kinds), "features": features}


class PairCount(NamedTuple):
    """Comparisons of two models in one bootstrap bucket.

    Decisive (``tie`` 0): ``first`` beat ``second`` ``times`` times. A tie has no direction, so
    its models are in name order: the same counts whatever order a counter met the models in.
    """

    bucket: int
    first: str
    second: str
    tie: int
    times: int


class PositionCount(NamedTuple):
    """Decisive comparisons by the display positions of the winner and the loser."""

    winner_position: int
    loser_position: int
    times: int


class FirstShownCount(NamedTuple):
    """Decisive comparisons of a model pair where one of the two was shown first (``first_won``:
    whether that was the winner)."""

    winner: str
    loser: str
    first_won: int
    times: int


class Question(NamedTuple):
    """A tallied question: the feature, its parent features, its kind and whom it is tallied for
    (a model, or `tallies.GLOBAL_TARGET` and the other targets)."""

    feature: str
    path: tuple[str, ...]
    kind: str
    target: str


class Answer(NamedTuple):
    """One answer option of a tallied question."""

    feature: str
    path: tuple[str, ...]
    kind: str
    target: str
    answer: str


class RowTotals(NamedTuple):
    """How much was read (labels, rows), and what could not be used (the other fields)."""

    labels: int
    rows: int
    rows_without_labels: int
    labels_without_judgments: int
    judgments_without_outcomes: int
    unresolved_pairs: int
    same_model_pairs: int


@dataclass(frozen=True, slots=True)
class RoundCounts:
    """Everything a leaderboard is computed from, by model names (see the module docstring).

    The reservoirs and agreement statistics are the counter's own copies taken for this snapshot;
    treat them as read-only.
    """

    config: CounterConfig
    pairs: tuple[PairCount, ...]
    positions: tuple[PositionCount, ...]
    first_shown: tuple[FirstShownCount, ...]
    answers: Mapping[Answer, int]
    answered: Mapping[Question, int]
    texts: Mapping[str, TextReservoir]
    preferred: NominalAgreement
    pairwise: NominalAgreement
    raters: frozenset[str]
    judgments: Mapping[str, int]  # judgments seen, by kind (every kind of `KINDS`)
    totals: RowTotals

    @property
    def models(self) -> list[str]:
        """Models that took part in at least one comparison, sorted by name."""
        return sorted({name for pair in self.pairs for name in (pair.first, pair.second)})
