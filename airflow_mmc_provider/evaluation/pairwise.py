"""Judgments -> pairwise outcomes between models.

Rules (one outcome per pair of responses to the same parent message):

* **Ranking**: every pair of ranked responses; the better ``order`` wins, equal orders are a tie.
  Responses the rater did not rank (``Ranking.unranked``) give no outcome.
* **Single selection**: the selected response beats each other model response to the parent.
* **Multiple selection**: each selected response beats each unselected one. Two selected (or two
  unselected) responses give no outcome: the selection says nothing about their order.

Pairs where a model is unknown (the export names neither the model nor the conversation) or where
both responses come from the same model config are not outcomes; the accumulator counts them.

Which judgments count (`counted`): by default (``per_prompt="one"``) one per label and parent
message, i.e. each rater's preference on a prompt once: the ranking where there is one, else the
single selection, else the multiple selection; among several judgments of one kind on one prompt,
the question first in name order. An ontology that asks for a ranking, a best response and the
acceptable responses of every prompt (the demo's) would otherwise count one rater's view of a
prompt three times, weighting that rater and that prompt threefold in the fit and narrowing the
intervals as if the three were independent. ``per_prompt="all"`` counts every judgment (the
behaviour before this rule); ``kinds`` and ``features`` restrict what is eligible first.

The *preferred* response of a judgment, used for rater agreement: the top of a ranking (all
responses sharing the best order when it is tied), the selected response of a single selection,
nothing for a multiple selection (a set of acceptable responses, not a preference).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple, TypeAlias, TypedDict, TypeVar, Unpack

from airflow_mmc_provider.mmc.export import LabelRecord, MultiSelection, Ranking, SingleSelection

if TYPE_CHECKING:
    from airflow_mmc_provider.mmc.export import RankedResponse, Response

__all__ = [
    "KINDS",
    "MULTI_SELECTION",
    "PER_PROMPT",
    "RANKING",
    "SINGLE_SELECTION",
    "Counting",
    "Judgment",
    "Outcome",
    "PerPrompt",
    "counted",
    "judgments",
    "one_per_prompt",
    "pair_indices",
    "pairwise_outcomes",
    "raw_pairs",
    "use_kinds_of",
]

RANKING: Final = "ranking"
SINGLE_SELECTION: Final = "single_selection"
MULTI_SELECTION: Final = "multi_selection"
KINDS: Final = (RANKING, SINGLE_SELECTION, MULTI_SELECTION)
PerPrompt: TypeAlias = Literal["one", "all"]
PER_PROMPT: Final[tuple[PerPrompt, ...]] = ("one", "all")  # "one" is the default (module docstring)

# A judgment as the export gives it, with the index of its kind in `KINDS`.
Annotation: TypeAlias = Ranking | SingleSelection | MultiSelection
Counted: TypeAlias = tuple[int, Annotation]

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
    ``responses``: the judged responses, one per entry in the same order (their message ids).
    """

    kind: str
    feature: str
    parent_message_id: str
    entries: list[Entry]
    ties: bool
    preferred: tuple[str | None, ...] | None
    responses: tuple[Response | RankedResponse, ...] = ()


def counted(
    label: LabelRecord,
    use_kinds: tuple[bool, bool, bool] = (True, True, True),
    features: Collection[str] | None = None,
    per_prompt: PerPrompt = "one",
) -> list[Counted]:
    """The judgments of a label that count, as (kind index, annotation), in kind order.

    ``use_kinds`` says for each of `KINDS` whether it is eligible. This is the one definition of
    what counts (module docstring): the counter, the reference outcomes and the judgments table
    all call it.
    """
    found: list[Counted] = []
    use_rankings, use_single, use_multi = use_kinds
    if use_rankings:
        found += [(0, r) for r in label.rankings if features is None or r.feature in features]
    if use_single:
        found += [(1, s) for s in label.single_selections if features is None or s.feature in features]
    if use_multi:
        found += [(2, m) for m in label.multi_selections if features is None or m.feature in features]
    if per_prompt == "one" and len(found) > 1:
        return one_per_prompt(found, _annotation_key)
    return found


T = TypeVar("T")


def one_per_prompt(found: list[T], key: Callable[[T], tuple[str, int, str]]) -> list[T]:
    """The rule of ``per_prompt="one"``: of the judgments on one prompt keep the one of the first
    kind in `KINDS` order, then the first question by name; ``key`` gives (parent message id, kind
    index, question) of an item. Shared by `counted` and the counter (which applies it to its
    signatures), so the rule is written once."""
    best: dict[str, tuple[tuple[int, str], T]] = {}
    for item in found:
        parent, kind, feature = key(item)
        current = best.get(parent)
        if current is None or (kind, feature) < current[0]:
            best[parent] = ((kind, feature), item)
    return [item for item in found if best[key(item)[0]][1] is item]


def _annotation_key(item: Counted) -> tuple[str, int, str]:
    kind, annotation = item
    return annotation.parent_message_id, kind, annotation.feature


def use_kinds_of(kinds: Collection[str]) -> tuple[bool, bool, bool]:
    """`counted`'s ``use_kinds`` for a collection of kind names."""
    return (RANKING in kinds, SINGLE_SELECTION in kinds, MULTI_SELECTION in kinds)


class Counting(TypedDict, total=False):
    """Which judgments count: the options of `judgments` and `pairwise_outcomes`."""

    kinds: Collection[str]  # default: every kind of `KINDS`
    features: Collection[str] | None  # default (None): every question
    per_prompt: PerPrompt  # default "one" (module docstring)


def judgments(
    label: LabelRecord,
    *,
    kinds: Collection[str] = KINDS,
    features: Collection[str] | None = None,
    per_prompt: PerPrompt = "one",
) -> Iterator[Judgment]:
    """The judgments of a label that count (`counted`), as rankings of entries."""
    for kind, annotation in counted(label, use_kinds_of(kinds), features, per_prompt):
        yield _JUDGMENT_OF[kind](annotation)


def _ranking(ranking: Ranking) -> Judgment:
    ranked = ranking.ranked
    entries: list[Entry] = [(r.model, r.order, r.position) for r in ranked]
    preferred: tuple[str | None, ...] | None = None
    if ranked:
        best = min(r.order for r in ranked)
        top = [r.model for r in ranked if r.order == best]
        preferred = (top[0],) if len(top) == 1 else tuple(sorted(top, key=_name_key))
    return Judgment(RANKING, ranking.feature, ranking.parent_message_id, entries, True, preferred, ranked)


def _single(single: SingleSelection) -> Judgment:
    sel = single.selected
    entries = [(sel.model, 1, sel.position)]
    entries.extend((alt.model, 2, alt.position) for alt in single.alternatives)
    shown = (sel, *single.alternatives)
    return Judgment(
        SINGLE_SELECTION, single.feature, single.parent_message_id, entries, False, (sel.model,), shown
    )


def _multi(multi: MultiSelection) -> Judgment:
    entries = [(s.model, 1, s.position) for s in multi.selected]
    entries.extend((u.model, 2, u.position) for u in multi.unselected)
    shown = (*multi.selected, *multi.unselected)
    return Judgment(MULTI_SELECTION, multi.feature, multi.parent_message_id, entries, False, None, shown)


_JUDGMENT_OF: Final[tuple[Callable[[Any], Judgment], ...]] = (_ranking, _single, _multi)


def pair_indices(judgment: Judgment) -> Iterator[tuple[int, int, bool]]:
    """The compared pairs of a judgment as entry indices (better, worse, tie); the rules' one home."""
    entries = judgment.entries
    for i, (_, rank_a, _) in enumerate(entries):
        for j in range(i + 1, len(entries)):
            rank_b = entries[j][1]
            if rank_a == rank_b:
                if judgment.ties:
                    yield (i, j, True)
            elif rank_a < rank_b:
                yield (i, j, False)
            else:
                yield (j, i, False)


def raw_pairs(judgment: Judgment) -> Iterator[RawPair]:
    """The pairs of a judgment, the better response first; unresolved (None) and same-model pairs included."""
    entries = judgment.entries
    for i, j, tie in pair_indices(judgment):
        yield (entries[i][0], entries[j][0], tie, entries[i][2], entries[j][2])


def _name_key(name: str | None) -> str:
    return "" if name is None else name


def pairwise_outcomes(label: LabelRecord, **counting: Unpack[Counting]) -> list[Outcome]:
    """Every pairwise outcome of the judgments that count (the rules: module docstring; the
    options: `judgments`)."""
    outcomes: list[Outcome] = []
    for judgment in judgments(label, **counting):
        for a, b, tie, pa, pb in raw_pairs(judgment):
            if a is None or b is None or a == b:
                continue
            outcomes.append(
                Outcome(a, b, tie, judgment.kind, judgment.feature, judgment.parent_message_id, pa, pb)
            )
    return outcomes
