"""Merging round states (`round_state`) into one set of rounds and their pooled counts.

The rules, in the order they are applied by `merge_rounds`:

1. **One state per round key.** The same round given twice (equal label ids) is counted once, and
   said so. Two states of one round with different label ids (a re-export after late labels, run
   through the round's leaderboard task again): the one whose label ids are a strict superset of
   the other's replaces it; when neither is (labels deleted and redone), the one written later
   (``round.written_at``) replaces the other; when that does not decide either, the merge is
   refused, naming both files.
2. **No label in two rounds.** Different rounds sharing label ids are refused, naming both rounds
   and how many they share: a round's counts cannot be split, so the shared labels would count
   twice.
3. **The same settings.** Seed, bootstrap buckets and text-sample size must be equal (the seed and
   buckets make the per-round bootstraps paired; see `bootstrap`).
4. **The same ranking question.** Pair counts are summed over a round's ranking and selection
   questions and cannot be split, so rounds whose ranking questions differ are refused (a new
   ranking question is a new evaluation). Selection questions that made comparisons in some rounds
   only are pooled as they are, and said so.
5. **Tallies on the shared questions.** Rounds whose ontologies differ otherwise (a question added
   or dropped: a new ontology version) pool their answer tallies and text samples on the questions
   every round has; the rest are left out of the pooled counts, and `MergedRounds.notes` says which.

Scale-out stays Airflow's: mapped tasks each write a round's state, one task merges them here.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_mmc_provider.evaluation.counter import LeaderboardAccumulator
from airflow_mmc_provider.evaluation.counts import CounterConfig, RoundCounts
from airflow_mmc_provider.evaluation.pairwise import KINDS, RANKING
from airflow_mmc_provider.evaluation.round_state import RoundState, RoundStateError

__all__ = ["MergedRounds", "distinct_rounds", "merge_rounds", "round_order", "tallied_questions"]

_SHARED_SETTINGS = ("seed", "buckets", "text_sample_size")


@dataclass(frozen=True)
class MergedRounds:
    """The rounds (one state per key, in `round_order`), their pooled counts, and what the merge
    did that a reader should know (rounds given twice, replaced, questions left out)."""

    rounds: tuple[RoundState, ...]
    pooled: RoundCounts
    notes: tuple[str, ...]
    left_out: dict[str, list[str]]  # round key -> tallied questions left out of the pooled counts


def round_order(key: str) -> tuple[Any, ...]:
    """Sort key of round keys: digit runs compare as numbers (``round-2`` before ``round-10``;
    ISO dates, as the weekly DAG names rounds, sort by date)."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", key))


def merge_rounds(states: Iterable[RoundState]) -> MergedRounds:
    """The rules of the module docstring applied to ``states``; `RoundStateError` when refused."""
    rounds, notes = distinct_rounds(states)
    if not rounds:
        raise RoundStateError("No round states to merge")
    _refuse_shared_labels(rounds)
    _refuse_other_settings(rounds)
    notes += _refuse_other_rankings(rounds)
    shared = set.intersection(*(tallied_questions(r.counts) for r in rounds))
    config = _pooled_config([r.counts.config for r in rounds])
    left_out: dict[str, list[str]] = {}
    pooled: LeaderboardAccumulator | None = None
    for state in rounds:
        extra = sorted(f"{name} ({kind})" for name, kind in tallied_questions(state.counts) - shared)
        counts = _on_questions(state.counts, shared) if extra else state.counts
        counts = dataclasses.replace(counts, config=config)
        if extra:
            left_out[state.key] = extra
            notes.append(
                f"{state.name}: questions left out of the pooled tallies (not in every round): {', '.join(extra)}"
            )
        if pooled is None:
            pooled = LeaderboardAccumulator.from_counts(counts)
        else:
            pooled.add_counts(counts)
    assert pooled is not None
    return MergedRounds(tuple(rounds), pooled.counts(), tuple(notes), left_out)


def distinct_rounds(states: Iterable[RoundState]) -> tuple[list[RoundState], list[str]]:
    """One state per round key (rule 1), in `round_order`, and a note for each state not kept."""
    kept: dict[str, RoundState] = {}
    notes: list[str] = []
    for state in states:
        other = kept.get(state.key)
        if other is None:
            kept[state.key] = state
            continue
        winner, note = _newer(other, state)
        kept[state.key] = winner
        notes.append(note)
    return sorted(kept.values(), key=lambda s: round_order(s.key)), notes


def _newer(kept: RoundState, new: RoundState) -> tuple[RoundState, str]:
    """Of two states of one round, the one that counts (rule 1), and what to say about it."""
    a, b = kept.label_ids, new.label_ids
    where = f"{_source(kept)} and {_source(new)}"
    if a == b:
        return kept, f"round {kept.key!r} given twice ({where}): counted once"
    if a < b or b < a:
        winner, loser = (new, kept) if a < b else (kept, new)
        more = len(winner.label_ids) - len(loser.label_ids)
        return winner, (
            f"round {kept.key!r}: {_source(winner)} replaces {_source(loser)} "
            f"(its label ids include the other's and {more} more: a re-export after late labels)"
        )
    times = (kept.round.written_at or "", new.round.written_at or "")
    if times[0] and times[1] and times[0] != times[1]:
        winner, loser = (new, kept) if times[1] > times[0] else (kept, new)
        return winner, (
            f"round {kept.key!r}: {_source(winner)} (written {winner.round.written_at}) replaces "
            f"{_source(loser)} (written {loser.round.written_at}): different labels, the later state counts"
        )
    raise RoundStateError(
        f"Two states of round {kept.key!r} hold different labels and neither is the later one: {where}. "
        "Keep the state of the round's latest export (run the round's leaderboard task again) and "
        "remove the other, or give them different round keys if they are different rounds"
    )


def _source(state: RoundState) -> str:
    return state.source or "a state given without a path"


def _refuse_shared_labels(rounds: Sequence[RoundState]) -> None:
    """Rule 2: one pass over every label id, then the first pair of rounds that share some."""
    owner: dict[str, int] = {}
    shared: Counter[tuple[int, int]] = Counter()
    for index, state in enumerate(rounds):
        for label_id in state.label_ids:
            first = owner.setdefault(label_id, index)
            if first != index:
                shared[(first, index)] += 1
    if shared:
        (i, j), n = min(shared.items())
        raise RoundStateError(
            f"{rounds[i].name} and {rounds[j].name} share {n} label id{'s' if n != 1 else ''}: the same "
            "labels in two rounds would be counted twice, and a round's counts cannot be split. Give "
            "both states one round key if they are the same round; otherwise recount one round "
            "without the other's export (its leaderboard task's export_paths)"
        )


def _refuse_other_settings(rounds: Sequence[RoundState]) -> None:
    """Rule 3: seed, buckets and text-sample size of every round equal to the first round's."""
    first = rounds[0]
    for state in rounds[1:]:
        for name in _SHARED_SETTINGS:
            mine, theirs = getattr(first.counts.config, name), getattr(state.counts.config, name)
            if mine != theirs:
                raise RoundStateError(
                    f"{first.name} and {state.name} were counted with different {name} ({mine} and "
                    f"{theirs}): their counts do not merge. Run the rounds' leaderboard tasks with the "
                    f"same {name} (MmcLeaderboardOperator(seed=...) for the seed)"
                )


def _refuse_other_rankings(rounds: Sequence[RoundState]) -> list[str]:
    """Rule 4: one set of ranking questions; a note per selection question not in every round."""
    first = rounds[0]
    for state in rounds[1:]:
        if _rankings(state) != _rankings(first):
            raise RoundStateError(
                f"{first.name} ranks models on {_names(_rankings(first))}, {state.name} on "
                f"{_names(_rankings(state))}: a round's comparisons are summed over its questions and "
                "cannot be split, so rounds of different ranking questions cannot be pooled (a new "
                "ranking question is a new evaluation). Merge the rounds of one ranking question"
            )
    every = set.intersection(*(set(s.comparison_questions) for s in rounds))
    notes = []
    for question, kind in sorted(set().union(*(s.comparison_questions for s in rounds)) - every):
        having = [s.key for s in rounds if (question, kind) in s.comparison_questions]
        notes.append(
            f"comparisons of {question} ({kind}) come from rounds {', '.join(map(repr, having))} only "
            "(the other rounds have no such judgment)"
        )
    return notes


def _rankings(state: RoundState) -> set[str]:
    return {question for question, kind in state.comparison_questions if kind == RANKING}


def _names(questions: set[str]) -> str:
    return ", ".join(sorted(questions)) or "no ranking question"


def tallied_questions(counts: RoundCounts) -> set[tuple[str, str]]:
    """The (question, kind) of every tallied classification and free-text question of ``counts``."""
    found = {(_name(a.path, a.feature), a.kind) for a in counts.answers}
    found |= {(_name(q.path, q.feature), q.kind) for q in counts.answered}
    found |= {(question, "text") for question in counts.texts}
    return found


def _name(path: tuple[str, ...], feature: str) -> str:
    return " > ".join((*path, feature))


def _on_questions(counts: RoundCounts, questions: set[tuple[str, str]]) -> RoundCounts:
    """``counts`` with the tallies and text samples of ``questions`` only (pairs unchanged)."""
    return dataclasses.replace(
        counts,
        answers={a: n for a, n in counts.answers.items() if (_name(a.path, a.feature), a.kind) in questions},
        answered={
            q: n for q, n in counts.answered.items() if (_name(q.path, q.feature), q.kind) in questions
        },
        texts={name: r for name, r in counts.texts.items() if (name, "text") in questions},
    )


def _pooled_config(configs: Sequence[CounterConfig]) -> CounterConfig:
    """One config for the pooled counts: the rounds' own when equal, else every kind and feature
    any round counted."""
    first = configs[0]
    if all(config == first for config in configs):
        return first
    kinds = {kind for config in configs for kind in config.kinds}
    features: frozenset[str] | None = None
    if all(config.features is not None for config in configs):
        features = frozenset().union(*(config.features or () for config in configs))
    return dataclasses.replace(first, kinds=tuple(k for k in KINDS if k in kinds), features=features)
