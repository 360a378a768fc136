"""Judgments as flat signatures, and what a signature means for the counts (analysed once, cached).

The counter's hot loop works on two signatures per judgment instead of on pairs:

* the *order signature* (kind, the models and their ranks) fixes the pair outcomes, the agreement
  units, the preferred response and the first-shown outcomes of each response (`OrderAnalysis`);
* the *position signature* (kind, the ranks and the display positions) fixes the outcomes by
  display position and which response was shown first (`PositionAnalysis`).

A ranking's order signature is ``(0, model, rank, model, rank, ...)``, its position signature
``(0, rank, position, rank, position, ...)``; a selection's are ``(kind 1 = single | 2 = multi,
number selected, model, ...)`` and ``(kind, number selected, position, ...)``, the selected
responses first. With 10 models and 2-4 responses there are a few thousand order signatures and a
few dozen position signatures, so a judgment costs two dictionary look-ups.

The builders spell out the usual sizes (2-4 responses) because on CPython 3.11 a loop or a
comprehension over three responses costs about four times the unrolled tuple: building these keys
was the largest single cost of the pass (benchmarks/leaderboard.py). The analyses apply the rules
of `pairwise.raw_pairs`; `tests/evaluation/test_leaderboard.py` checks the counts against them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, NamedTuple

from airflow_mmc_provider.evaluation.pair_table import PairTable
from airflow_mmc_provider.mmc.export import MultiSelection, Ranking, Response, SingleSelection

__all__ = [
    "POSITION_BITS",
    "POSITION_MAX",
    "Anomaly",
    "Judgment",
    "OrderAnalysis",
    "PositionAnalysis",
    "Signature",
    "analyse_order",
    "analyse_positions",
    "multi_judgment",
    "ranking_judgment",
    "single_judgment",
]

# A position code is ``winner position << POSITION_BITS | loser position`` (capped at POSITION_MAX).
POSITION_BITS: Final = 8
POSITION_MAX: Final = (1 << POSITION_BITS) - 1

Signature = tuple[Any, ...]
# (question, parent message, order signature, position signature): built once per judgment and
# unpacked at once, so a plain tuple (a NamedTuple's constructor would cost a Python call here).
Judgment = tuple[str, str, Signature, Signature]


class Anomaly(NamedTuple):
    """Why a judgment gave no (or not only) clean comparisons."""

    unresolved_pairs: int
    same_model_pairs: int
    no_outcome: int


class OrderAnalysis(NamedTuple):
    """What an order signature contributes (model indices and pair keys of a `PairTable`)."""

    pair_codes: tuple[int, ...]  # pair keys of bucket 0 (add the row's bucket)
    first_shown: tuple[tuple[int, ...], ...]  # per entry: first-shown codes if it was shown first
    unit_pairs: tuple[tuple[int, int], ...]  # agreement units (low, high model index), sorted, interned
    unit_values: tuple[int, ...]  # per unit: 0 = low won, 1 = high won, 2 = tie
    preferred: str | None  # the top of a ranking or the single selection (ties joined by " = ")
    anomaly: Anomaly | None  # None: every pair resolved, at least one outcome


class PositionAnalysis(NamedTuple):
    """What a position signature contributes."""

    codes: tuple[int, ...]  # position codes of the decisive outcomes
    first: int  # index of the entry shown first, -1 if none (or not known)


def ranking_judgment(ranking: Ranking) -> Judgment:
    ranked = ranking.ranked
    size = len(ranked)
    if size == 3:
        a, b, c = ranked
        ao, bo, co = a.order, b.order, c.order
        order: Signature = (0, a.model, ao, b.model, bo, c.model, co)
        position: Signature = (0, ao, a.position, bo, b.position, co, c.position)
    elif size == 4:
        a, b, c, d = ranked
        ao, bo, co, do = a.order, b.order, c.order, d.order
        order = (0, a.model, ao, b.model, bo, c.model, co, d.model, do)
        position = (0, ao, a.position, bo, b.position, co, c.position, do, d.position)
    elif size == 2:
        a, b = ranked
        ao, bo = a.order, b.order
        order, position = (0, a.model, ao, b.model, bo), (0, ao, a.position, bo, b.position)
    else:
        orders: list[Any] = [0]
        positions: list[Any] = [0]
        for entry in ranked:
            orders += (entry.model, entry.order)
            positions += (entry.order, entry.position)
        order, position = tuple(orders), tuple(positions)
    return ranking.feature, ranking.parent_message_id, order, position


def single_judgment(single: SingleSelection) -> Judgment:
    selected, alternatives = single.selected, single.alternatives
    if len(alternatives) == 2:
        b, c = alternatives
        order: Signature = (1, 1, selected.model, b.model, c.model)
        position: Signature = (1, 1, selected.position, b.position, c.position)
    elif len(alternatives) == 1:
        b = alternatives[0]
        order, position = (1, 1, selected.model, b.model), (1, 1, selected.position, b.position)
    else:
        order, position = _selection_signatures(1, (selected, *alternatives), 1)
    return single.feature, single.parent_message_id, order, position


def multi_judgment(multi: MultiSelection) -> Judgment:
    order, position = _selection_signatures(2, (*multi.selected, *multi.unselected), len(multi.selected))
    return multi.feature, multi.parent_message_id, order, position


def _selection_signatures(kind: int, shown: Sequence[Response], selected: int) -> tuple[Signature, Signature]:
    order: list[Any] = [kind, selected]
    position: list[Any] = [kind, selected]
    for entry in shown:
        order.append(entry.model)
        position.append(entry.position)
    return tuple(order), tuple(position)


def _selection_ranks(signature: Signature) -> tuple[list[Any], list[int]]:
    """(the models or positions, their ranks) of a selection's signature: selected rank 1, others 2."""
    entries = list(signature[2:])
    return entries, [1 if k < signature[1] else 2 for k in range(len(entries))]


def analyse_order(
    signature: Signature,
    table: PairTable,
    interned: dict[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]],
) -> OrderAnalysis:
    """Pair outcomes of an order signature, registering its models and pairs in ``table``.

    ``interned`` maps agreement unit pairs to one shared tuple, so labels that judged the same
    responses can be recognised by identity (see `LeaderboardAccumulator`'s agreement).
    """
    kind = signature[0]
    if kind == 0:  # (0, model, rank, model, rank, ...)
        models, ranks = list(signature[1::2]), list(signature[2::2])
    else:
        models, ranks = _selection_ranks(signature)
    ties = kind == 0
    ids = [None if model is None else table.model(model) for model in models]
    codes: list[int] = []
    units: list[tuple[int, int, int]] = []
    firsts: list[list[int]] = [[] for _ in ids]
    unresolved = same_model = 0
    size = len(ids)
    for x in range(size):
        for y in range(x + 1, size):
            if ranks[x] == ranks[y] and not ties:
                continue  # two selected (or two unselected) responses are not compared
            a, b = ids[x], ids[y]
            if a is None or b is None:
                unresolved += 1
                continue
            if a == b:
                same_model += 1
                continue
            low, high = (a, b) if a < b else (b, a)
            if ranks[x] == ranks[y]:
                codes.append(table.key(0, a, b, 1))
                units.append((low, high, 2))
                continue
            winner, loser, w, lose = (a, b, x, y) if ranks[x] < ranks[y] else (b, a, y, x)
            codes.append(table.key(0, winner, loser, 0))
            units.append((low, high, 0 if winner == low else 1))
            first_code = table.pair_id(winner, loser, 0) * 2
            firsts[w].append(first_code + 1)  # the winner was shown first
            firsts[lose].append(first_code)  # the loser was shown first
    units.sort()
    unit_pairs = tuple([(low, high) for low, high, _ in units])
    anomaly = (
        Anomaly(unresolved, same_model, int(not codes)) if unresolved or same_model or not codes else None
    )
    return OrderAnalysis(
        pair_codes=tuple(codes),
        first_shown=tuple(tuple(f) for f in firsts),
        unit_pairs=interned.setdefault(unit_pairs, unit_pairs),
        unit_values=tuple([value for _, _, value in units]),
        preferred=_preferred(kind, models, ranks),
        anomaly=anomaly,
    )


def _preferred(kind: int, models: list[str | None], ranks: list[int]) -> str | None:
    """The preferred response of a ranking or single selection (a multi selection has none)."""
    if kind == 2 or not models:
        return None
    best = min(ranks)
    return " = ".join(
        sorted(
            "(unknown)" if model is None else model
            for model, rank in zip(models, ranks, strict=True)
            if rank == best
        )
    )


def analyse_positions(signature: Signature) -> PositionAnalysis:
    """Outcomes by display position of a position signature, and the entry shown first."""
    if signature[0] == 0:  # (0, rank, position, rank, position, ...)
        ranks, shown = list(signature[1::2]), list(signature[2::2])
    else:
        shown, ranks = _selection_ranks(signature)
    codes: list[int] = []
    size = len(shown)
    for x in range(size):
        for y in range(x + 1, size):
            if ranks[x] == ranks[y]:
                continue
            w, lose = (x, y) if ranks[x] < ranks[y] else (y, x)
            shown_w, shown_l = shown[w], shown[lose]
            if shown_w is not None and shown_l is not None and shown_w != shown_l:
                codes.append(min(shown_w, POSITION_MAX) << POSITION_BITS | min(shown_l, POSITION_MAX))
    first = shown.index(0) if None not in shown and shown.count(0) == 1 else -1
    return PositionAnalysis(tuple(codes), first)
