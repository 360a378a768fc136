"""A counter's persisted state: its `RoundCounts` as versioned JSON, and back.

The state is what a round keeps beside its leaderboard, and what mapped tasks (one per export
part or round) hand to the task that merges them. Every list is sorted, so equal counts give equal
states whatever order the labels came in, and a state restored and written again is unchanged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, Final

from airflow_mmc_provider.evaluation.agreement import NominalAgreement
from airflow_mmc_provider.evaluation.counts import (
    Answer,
    CounterConfig,
    FirstShownCount,
    PairCount,
    PositionCount,
    Question,
    RoundCounts,
    RowTotals,
)
from airflow_mmc_provider.evaluation.pairwise import KINDS
from airflow_mmc_provider.evaluation.reservoir import TextReservoir

__all__ = ["STATE_VERSION", "counts_from_state", "counts_to_state"]

STATE_VERSION: Final = 1


def counts_to_state(counts: RoundCounts) -> dict[str, Any]:
    """JSON-ready state of ``counts`` (model names, not indices), read back by `counts_from_state`."""
    return {
        "version": STATE_VERSION,
        "config": counts.config.as_dict(),
        "pairs": sorted([list(pair) for pair in counts.pairs]),
        "positions": sorted([list(position) for position in counts.positions]),
        "first_shown": sorted([list(shown) for shown in counts.first_shown]),
        "answers": sorted([f, list(p), k, t, a, n] for (f, p, k, t, a), n in counts.answers.items()),
        "answered": sorted([f, list(p), k, t, n] for (f, p, k, t), n in counts.answered.items()),
        "texts": {question: reservoir.to_state() for question, reservoir in sorted(counts.texts.items())},
        "agreement": {"preferred": counts.preferred.to_state(), "pairwise": counts.pairwise.to_state()},
        "raters": sorted(counts.raters),
        "judgments": dict(counts.judgments),
        "scalars": counts.totals._asdict(),
    }


def counts_from_state(state: Mapping[str, Any]) -> RoundCounts:
    """The counts of a state written by `counts_to_state` (any earlier release of the same version)."""
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"unsupported accumulator state version {state.get('version')!r}")
    raw = state["config"]
    config = CounterConfig.of(
        seed=int(raw["seed"]),
        buckets=int(raw["buckets"]),
        text_sample_size=int(raw["text_sample_size"]),
        kinds=raw["kinds"],
        features=raw["features"],
        # states written before the rule counted every judgment
        per_prompt=raw.get("per_prompt", "all"),
    )
    texts: dict[str, TextReservoir] = {}
    for question, text_state in state["texts"].items():
        texts[question] = TextReservoir(config.text_sample_size, config.seed)
        texts[question].load_state(text_state)
    judgments = dict.fromkeys(KINDS, 0)
    for kind, n in state["judgments"].items():
        if kind not in judgments:
            raise ValueError(f"unknown judgment kind {kind!r} in the state; known: {list(KINDS)}")
        judgments[kind] += int(n)
    scalars = state["scalars"]
    return RoundCounts(
        config=config,
        pairs=tuple(PairCount(int(b), w, lo, int(t), int(n)) for b, w, lo, t, n in state["pairs"]),
        positions=tuple(PositionCount(int(w), int(lo), int(n)) for w, lo, n in state["positions"]),
        first_shown=tuple(FirstShownCount(w, lo, int(f), int(n)) for w, lo, f, n in state["first_shown"]),
        answers=_answers(state["answers"]),
        answered=_answered(state["answered"]),
        texts=texts,
        preferred=NominalAgreement.from_state(state["agreement"]["preferred"]),
        pairwise=NominalAgreement.from_state(state["agreement"]["pairwise"]),
        raters=frozenset(state["raters"]),
        judgments=judgments,
        totals=RowTotals(**{name: int(scalars[name]) for name in RowTotals._fields}),
    )


def _answers(rows: list[list[Any]]) -> Counter[Answer]:
    result: Counter[Answer] = Counter()
    for feature, path, kind, target, answer, n in rows:
        result[Answer(feature, tuple(path), kind, target, answer)] += int(n)
    return result


def _answered(rows: list[list[Any]]) -> Counter[Question]:
    result: Counter[Question] = Counter()
    for feature, path, kind, target, n in rows:
        result[Question(feature, tuple(path), kind, target)] += int(n)
    return result
