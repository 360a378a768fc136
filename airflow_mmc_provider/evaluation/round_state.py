"""A round's persisted aggregate state (``state.json`` beside its leaderboard): format version 2.

Written by `MmcLeaderboardOperator` for each round, read by the cross-round leaderboard
(`rounds`), which merges rounds from these states alone: no export is read twice and no label is
counted twice. Later releases keep reading every version-2 state; a reader ignores top-level
fields it does not know (a later release may add some within version 2; a change of meaning gets
a new version). The fields, all written by `RoundState.to_dict`::

    {"version": 2,
     "round": {                      # the round's identity
        "key": "2026-04-14",         # the round key: rounds are merged and ordered by it
        "project_id": "..." | null,  # the Labelbox project the labels were read from
        "batch_id": "..." | null,    # the round's batch, when the round DAG knew it
        "batch_name": "..." | null,
        "exports": ["file:///.../export.ndjson", ...],  # the export files counted, in reading order
        "written_at": "2026-04-15T06:00:00+00:00" | null  # when the state was written (UTC, ISO 8601)
     },
     "counts": {...},                # the counter's counts: `state.counts_to_state`, with its own
                                     # "version" (1); `state.counts_from_state` reads it
     "label_ids": ["...", ...],      # every label id counted, sorted: what makes merges exact
     "comparison_questions": [["rank", "ranking"], ...],  # (question, kind) pairs whose
                                     # judgments made the comparisons, sorted
     "breakdowns": {...} | absent}   # the comparisons per metadata value and per turn, for the
                                     # report's breakdowns: `breakdowns` documents the format

``comparison_questions`` are the ranking and selection questions of the round's labels whose
kind made comparisons (a kind with counted judgments, a question the counter's ``features``
allow). A round's pair counts are not kept per question, so two rounds can pool their ratings
only when their ranking questions are the same; answer tallies are kept per question and pool on
the questions the rounds share (`rounds`).

Version 1 was the bare counts (``LeaderboardAccumulator.to_state()``, ``{"version": 1, "config":
..., "pairs": ...}``), with neither a round identity nor label ids: merging it could count the
same labels twice without a sign, so `RoundState.from_dict` refuses it, naming the file and the
fix (run the round's leaderboard task again; it writes version 2).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Final

from airflow_mmc_provider.evaluation.counts import RoundCounts
from airflow_mmc_provider.evaluation.pairwise import MULTI_SELECTION, RANKING, SINGLE_SELECTION
from airflow_mmc_provider.evaluation.state import counts_from_state, counts_to_state

if TYPE_CHECKING:
    from airflow_mmc_provider.mmc.export import LabelRecord

__all__ = ["ROUND_STATE_VERSION", "QuestionsSeen", "RoundIdentity", "RoundState", "RoundStateError"]

ROUND_STATE_VERSION: Final = 2
_V1_FIX = (
    "it is a version-1 accumulator state (counts only, from LeaderboardAccumulator.to_state()): it "
    "has no round key and no label ids, so merging it could count the same labels twice. Run the "
    "round's leaderboard task (MmcLeaderboardOperator) again: it writes a version-2 state.json "
    "beside leaderboard.json"
)


class RoundStateError(ValueError):
    """A state that cannot be read or merged; the message names the file or rounds and the fix."""


@dataclass(frozen=True, slots=True)
class RoundIdentity:
    """Which round a state is (the ``round`` object of the format)."""

    key: str
    project_id: str | None = None
    batch_id: str | None = None
    batch_name: str | None = None
    exports: tuple[str, ...] = ()
    written_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "exports": list(self.exports)}


@dataclass(frozen=True, slots=True)
class RoundState:
    """A round's counts with its identity, the label ids counted and its comparison questions.

    ``source`` is where the state was read from (a path), for messages; it is not persisted.
    """

    round: RoundIdentity
    counts: RoundCounts
    label_ids: frozenset[str]
    comparison_questions: frozenset[tuple[str, str]]
    source: str = ""
    breakdowns: Mapping[str, Any] | None = None  # `breakdowns.BreakdownCounts.to_dict()`

    @property
    def key(self) -> str:
        return self.round.key

    @property
    def name(self) -> str:
        """The round for messages: its key and, when known, the file it came from."""
        return f"round {self.key!r}" + (f" ({self.source})" if self.source else "")

    def to_dict(self) -> dict[str, Any]:
        """The version-2 format of the module docstring (JSON-ready, lists sorted)."""
        data = {
            "version": ROUND_STATE_VERSION,
            "round": self.round.to_dict(),
            "counts": counts_to_state(self.counts),
            "label_ids": sorted(self.label_ids),
            "comparison_questions": sorted([list(q) for q in self.comparison_questions]),
        }
        if self.breakdowns is not None:
            data["breakdowns"] = dict(self.breakdowns)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "") -> RoundState:
        """Read a version-2 state; refuse version 1 and unknown versions, naming ``source``."""
        where = source or "the state"
        version = data.get("version") if isinstance(data, Mapping) else None
        if version == 1:
            raise RoundStateError(f"Cannot merge {where}: {_V1_FIX}")
        if version != ROUND_STATE_VERSION:
            raise RoundStateError(
                f"Cannot read {where}: round state version {version!r} is not one this release reads "
                f"(it reads version {ROUND_STATE_VERSION}); it was written by another release of "
                "airflow-mmc-provider: upgrade, or run the round's leaderboard task again with this one"
            )
        try:
            raw = data["round"]
            identity = RoundIdentity(
                key=str(raw["key"]),
                project_id=raw.get("project_id"),
                batch_id=raw.get("batch_id"),
                batch_name=raw.get("batch_name"),
                exports=tuple(raw.get("exports") or ()),
                written_at=raw.get("written_at"),
            )
            counts = counts_from_state(data["counts"])
            questions = frozenset((str(q), str(k)) for q, k in data["comparison_questions"])
            breakdowns = data.get("breakdowns")
            if breakdowns is not None and not isinstance(breakdowns, Mapping):
                raise TypeError("breakdowns must be an object")
            return cls(identity, counts, frozenset(data["label_ids"]), questions, source, breakdowns)
        except (KeyError, TypeError, ValueError) as exc:
            raise RoundStateError(f"Cannot read {where}: not a valid round state ({exc!r})") from None


class QuestionsSeen:
    """Passes labels through, noting the (question, kind) of each ranking and selection.

    The counter keeps comparisons summed over questions; this is how a state knows which
    questions they came from (`comparison_questions`). One set look-up per judgment.
    """

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    def __call__(self, labels: Iterable[LabelRecord]) -> Iterator[LabelRecord]:
        add = self.seen.add
        for label in labels:
            if label.rankings:
                for ranking in label.rankings:
                    add((ranking.feature, RANKING))
            if label.single_selections:
                for single in label.single_selections:
                    add((single.feature, SINGLE_SELECTION))
            if label.multi_selections:
                for multi in label.multi_selections:
                    add((multi.feature, MULTI_SELECTION))
            yield label

    def comparison_questions(self, counts: RoundCounts) -> frozenset[tuple[str, str]]:
        """The questions seen whose judgments made comparisons under ``counts``' settings."""
        features = counts.config.features
        return frozenset(
            (feature, kind)
            for feature, kind in self.seen
            if counts.judgments.get(kind, 0) and (features is None or feature in features)
        )
