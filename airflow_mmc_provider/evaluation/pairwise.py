"""Judgments -> pairwise outcomes between models.

Rules (one outcome per pair of responses to the same parent message):

* **Ranking**: every pair of ranked responses; the better ``order`` wins, equal orders are a tie.
  Responses the rater did not rank (``Ranking.unranked``) give no outcome.
* **Single selection**: the selected response beats each other model response to the parent.
* **Multiple selection**: each selected response beats each unselected one. Two selected (or two
  unselected) responses give no outcome: the selection says nothing about their order.

Pairs where a model is unknown (the export names neither the model nor the conversation) or where
both responses come from the same model config are not outcomes; the accumulator counts them.

The *preferred* response of a judgment, used for rater agreement: the top of a ranking (all
responses sharing the best order when it is tied), the selected response of a single selection,
nothing for a multiple selection (a set of acceptable responses, not a preference).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Final, NamedTuple

from airflow_mmc_provider.mmc.export import LabelRecord

__all__ = [
    "KINDS",
    "MULTI_SELECTION",
    "RANKING",
    "SINGLE_SELECTION",
    "Judgment",
    "Outcome",
    "judgments",
    "pairwise_outcomes",
    "raw_pairs",
]

RANKING: Final = "ranking"
SINGLE_SELECTION: Final = "single_selection"
MULTI_SELECTION: Final = "multi_selection"
KINDS: Final = (RANKING, SINGLE_SELECTION, MULTI_SELECTION)

# (model a, model b, tie, position of a, position of b): a beats b unless tie.
RawPair = tuple[str | None, str | None, bool, int | None, int | None]
# (model, rank, display position): rank 1 is best.
Entry = tuple[str | None, int, int | None]


class Outcome(NamedTuple):
    """One pairwise outcome: ``winner`` beat ``loser``, or (``tie``) they drew (order as in the data)."""

    winner: str
    loser: str
    tie: bool
    kind: str
    feature: str
    parent_message_id: str
    winner_position: int | None = None
    loser_position: int | None = None


class Judgment(NamedTuple):
    """One judgment as a ranking of entries (a lower rank is better; the order of entries is free).

    A selection is a two-level ranking (selected: rank 1, the others: rank 2). ``ties`` says what
    equal ranks mean: a tie (rankings) or nothing (selections: two selected responses are not
    compared). ``preferred``: the models of the preferred response(s), None for multi selections.
    """

    kind: str
    feature: str
    parent_message_id: str
    entries: list[Entry]
    ties: bool
    preferred: tuple[str | None, ...] | None


def judgments(
    label: LabelRecord,
    *,
    kinds: Collection[str] = KINDS,
    features: Collection[str] | None = None,
) -> Iterator[Judgment]:
    """The judgments of a label (optionally only some kinds or feature names)."""
    if label.rankings and RANKING in kinds:
        for ranking in label.rankings:
            if features is not None and ranking.feature not in features:
                continue
            ranked = ranking.ranked
            entries: list[Entry] = [(r.model, r.order, r.position) for r in ranked]
            preferred: tuple[str | None, ...] | None = None
            if ranked:
                best = min(r.order for r in ranked)
                top = [r.model for r in ranked if r.order == best]
                preferred = (top[0],) if len(top) == 1 else tuple(sorted(top, key=_name_key))
            yield Judgment(RANKING, ranking.feature, ranking.parent_message_id, entries, True, preferred)
    if label.single_selections and SINGLE_SELECTION in kinds:
        for single in label.single_selections:
            if features is not None and single.feature not in features:
                continue
            sel = single.selected
            entries = [(sel.model, 1, sel.position)]
            entries.extend((alt.model, 2, alt.position) for alt in single.alternatives)
            yield Judgment(
                SINGLE_SELECTION, single.feature, single.parent_message_id, entries, False, (sel.model,)
            )
    if label.multi_selections and MULTI_SELECTION in kinds:
        for multi in label.multi_selections:
            if features is not None and multi.feature not in features:
                continue
            entries = [(s.model, 1, s.position) for s in multi.selected]
            entries.extend((u.model, 2, u.position) for u in multi.unselected)
            yield Judgment(MULTI_SELECTION, multi.feature, multi.parent_message_id, entries, False, None)


def raw_pairs(judgment: Judgment) -> Iterator[RawPair]:
    """The pairs of a judgment, the better response first; unresolved (None) and same-model pairs included."""
    entries = judgment.entries
    for i, (model_a, rank_a, position_a) in enumerate(entries):
        for model_b, rank_b, position_b in entries[i + 1 :]:
            if rank_a == rank_b:
                if judgment.ties:
                    yield (model_a, model_b, True, position_a, position_b)
            elif rank_a < rank_b:
                yield (model_a, model_b, False, position_a, position_b)
            else:
                yield (model_b, model_a, False, position_b, position_a)


def _name_key(name: str | None) -> str:
    return "" if name is None else name


def pairwise_outcomes(
    label: LabelRecord,
    *,
    kinds: Collection[str] = KINDS,
    features: Collection[str] | None = None,
) -> list[Outcome]:
    """Every pairwise outcome of a label (see the module docstring for the rules)."""
    outcomes: list[Outcome] = []
    for judgment in judgments(label, kinds=kinds, features=features):
        for a, b, tie, pa, pb in raw_pairs(judgment):
            if a is None or b is None or a == b:
                continue
            outcomes.append(
                Outcome(a, b, tie, judgment.kind, judgment.feature, judgment.parent_message_id, pa, pb)
            )
    return outcomes
