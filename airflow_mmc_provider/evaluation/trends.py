"""Per-round and pooled views of merged rounds, and the one definition of a move between rounds.

**A move** (`rating_change`): each round's ratings are fitted with the reference model's rating
fixed at the anchor in every bootstrap resample; the change of model ``m`` from round ``t-1`` to
``t`` is ``(r_t[m] - r_t[ref]) - (r_t-1[m] - r_t-1[ref])``, computed per resample; its interval is
the percentile interval of those differences, and the move is *significant* when the interval
excludes 0. The bootstrap weights are a pure function of (seed, bucket, resample), so rounds
counted with the same seed resample the conversations of the same evaluation set together: a
paired bootstrap. With no reference model in both rounds the change is *not comparable*, with
the reason, never a number.

A family's entry in a round is its one version there (the change follows the family from one
version to the next); with several versions in one round its entry has no number and says why:
map each version to its own family to follow them apart. The previous round is the one before in
round order; a family missing from it has no change ("not comparable", naming that round).

`cross_round_view` computes, from round states (`round_state`, merged by `rounds`): each round's
leaderboard on the reference scale, per model family (`families`) its entry in each round and the
change against the previous round, the models present in some rounds only, and the pooled
leaderboard of all rounds' counts. `CrossRoundView.to_dict` is ``rounds.json``, version 1::

    {"version": 1,
     "definition": "<the move definition above>",
     "settings": {"reference_model", "families": {pattern: family}, "resamples", "confidence",
                  "seed", "anchor"},
     "rounds": [{"key", "batch_name", "labels", "judgments", "models": [<leaderboard rows>],
                 "reference": model|null, "scale": "..."}],  # in round order (`rounds.round_order`)
     "families": [{"family", "versions": [...], "rounds_present": [...], "missing_from": [...],
                   "rounds": [{"round", "versions", "model"|null, "rating", "ci_low", "ci_high",
                               "comparisons", "not_comparable"|null,
                               "change": null (first round) | {"previous_round", "difference",
                                         "ci_low", "ci_high", "significant", "not_comparable"}}]}],
     "models": [{"model", "family", "rounds_present": [...]}],
     "pooled": {"reference": model|null, "scale": "...", "models": [<leaderboard rows>]},
     "merge": {"notes": [...], "left_out_questions": {round key: [...]}}}

Like ``leaderboard.json`` it holds no id the service assigns, so the same rounds give the same
bytes. `trends_csv` is the family-by-round table of the same numbers (`TREND_COLUMNS`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from airflow_mmc_provider.evaluation.assemble import DEFAULT_RESAMPLES, assemble_leaderboard
from airflow_mmc_provider.evaluation.counts import RoundCounts
from airflow_mmc_provider.evaluation.families import Families, Reference
from airflow_mmc_provider.evaluation.leaderboard import Leaderboard, _json_ready
from airflow_mmc_provider.evaluation.round_state import RoundState
from airflow_mmc_provider.evaluation.rounds import MergedRounds, merge_rounds
from airflow_mmc_provider.evaluation.stats import percentile

__all__ = [
    "MOVE_DEFINITION",
    "ROUNDS_VERSION",
    "TREND_COLUMNS",
    "Change",
    "CrossRoundView",
    "RoundBoard",
    "cross_round_view",
    "rating_change",
    "trends_csv",
]

ROUNDS_VERSION: Final = 1
MOVE_DEFINITION: Final = (
    "change of m from round t-1 to t = (r_t[m] - r_t[ref]) - (r_t-1[m] - r_t-1[ref]) with each round "
    "fitted on the reference's scale (rating(ref) = anchor in every resample); interval: percentile "
    "interval of that difference over the bootstrap resamples (same seed: paired); significant when "
    "the interval excludes 0; no reference model in both rounds: not comparable"
)
TREND_COLUMNS: Final = (
    "family",
    "round",
    "model",
    "rating",
    "ci_low",
    "ci_high",
    "comparisons",
    "previous_round",
    "change",
    "change_ci_low",
    "change_ci_high",
    "significant",
    "not_comparable",
)


class Change(NamedTuple):
    """A change between two rounds: a difference with its interval, or why it is not comparable."""

    difference: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    not_comparable: str | None = None

    @classmethod
    def refused(cls, reason: str) -> Change:
        return cls(not_comparable=reason)

    @property
    def significant(self) -> bool | None:
        """Whether the interval excludes 0 (None when there is no interval)."""
        if self.ci_low is None or self.ci_high is None:
            return None
        return not self.ci_low <= 0.0 <= self.ci_high

    def to_dict(self) -> dict[str, Any]:
        """The ``change`` object of ``rounds.json`` (without ``previous_round``)."""
        return {**self._asdict(), "significant": self.significant}


def rating_change(
    before: Leaderboard,
    after: Leaderboard,
    *,
    model: tuple[str, str],
    reference: tuple[str | None, str | None],
    confidence: float = 0.95,
) -> Change:
    """The move of ``model`` (its name before, after) against ``reference`` (before, after): the
    definition of the module docstring, on the two rounds' bootstrap resamples."""
    ref_before, ref_after = reference
    if ref_before is None or ref_after is None:
        return Change.refused("no reference model in both rounds")
    if not before.bootstrap or len(before.bootstrap) != len(after.bootstrap):
        return Change.refused("the rounds have no bootstrap resamples of the same number")
    i, r = before.models.index(model[0]), before.models.index(ref_before)
    j, s = after.models.index(model[1]), after.models.index(ref_after)
    point = (after.rows[j].rating - after.rows[s].rating) - (before.rows[i].rating - before.rows[r].rating)
    diffs = sorted(
        (late[j] - late[s]) - (early[i] - early[r])
        for early, late in zip(before.bootstrap, after.bootstrap, strict=True)
    )
    alpha = (1.0 - confidence) / 2.0
    low, high = percentile(diffs, alpha), percentile(diffs, 1.0 - alpha)
    return Change(point, low, high)


@dataclass(frozen=True)
class RoundBoard:
    """One round's leaderboard on the reference scale (when the round has the reference)."""

    state: RoundState
    board: Leaderboard
    reference: Reference


@dataclass(frozen=True)
class CrossRoundView:
    """The per-round and pooled views (see the module docstring); ``to_dict`` is ``rounds.json``."""

    rounds: tuple[RoundBoard, ...]
    pooled: Leaderboard
    pooled_reference: Reference
    merged: MergedRounds
    families: Families
    settings: dict[str, Any]

    def family_names(self) -> list[str]:
        models = {m for r in self.rounds for m in r.board.models}
        return sorted({self.families.family(m) for m in models})

    def entries(self, family: str) -> list[dict[str, Any]]:
        """The family's entry in each round where it is present, with the change since the previous round."""
        result: list[dict[str, Any]] = []
        for t, current in enumerate(self.rounds):
            versions = self.families.versions(family, current.board.models)
            if not versions:
                continue
            entry = _entry(current, versions)
            if t > 0:
                entry["change"] = self._change(family, self.rounds[t - 1], current, entry)
            else:
                entry["change"] = None
            result.append(entry)
        return result

    def _change(
        self, family: str, previous: RoundBoard, current: RoundBoard, entry: Mapping[str, Any]
    ) -> dict[str, Any]:
        before = self.families.versions(family, previous.board.models)
        after, key = entry["model"], previous.state.key
        change: Change
        if not before:
            change = Change.refused(
                f"{family!r} is not in the previous round {key!r} (if it is a new version of a model "
                "that was, declare its family: families={'<name>-*': '<name>'})"
            )
        elif len(before) > 1 or after is None:
            change = Change.refused(f"{family!r} has several versions in one of the rounds")
        elif current.reference.model is None or previous.reference.model is None:
            reason = current.reference.reason or previous.reference.reason
            change = Change.refused(f"no reference model in both rounds ({reason})")
        elif after == current.reference.model and before[0] == previous.reference.model:
            change = Change.refused("the reference model: its rating is the anchor in every round")
        else:
            change = rating_change(
                previous.board,
                current.board,
                model=(before[0], after),
                reference=(previous.reference.model, current.reference.model),
                confidence=float(self.settings["confidence"]),
            )
        return {"previous_round": key, **change.to_dict()}

    def to_dict(self) -> dict[str, Any]:
        keys = [r.state.key for r in self.rounds]
        families = []
        for family in self.family_names():
            entries = self.entries(family)
            present = [e["round"] for e in entries]
            families.append(
                {
                    "family": family,
                    "versions": sorted({v for e in entries for v in e["versions"]}),
                    "rounds_present": present,
                    "missing_from": [k for k in keys if k not in present],
                    "rounds": entries,
                }
            )
        return _json_ready(
            {
                "version": ROUNDS_VERSION,
                "definition": MOVE_DEFINITION,
                "settings": self.settings,
                "rounds": [_round_summary(r, self.settings["anchor"]) for r in self.rounds],
                "families": families,
                "models": self._models(),
                "pooled": {
                    "reference": self.pooled_reference.model,
                    "scale": _scale(self.pooled_reference, self.settings["anchor"]),
                    "models": [row.to_dict() for row in self.pooled.rows],
                },
                "merge": {"notes": list(self.merged.notes), "left_out_questions": self.merged.left_out},
            }
        )

    def _models(self) -> list[dict[str, Any]]:
        present: dict[str, list[str]] = {}
        for r in self.rounds:
            for model in r.board.models:
                present.setdefault(model, []).append(r.state.key)
        return [
            {"model": m, "family": self.families.family(m), "rounds_present": keys}
            for m, keys in sorted(present.items())
        ]


def _entry(current: RoundBoard, versions: Sequence[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"round": current.state.key, "versions": list(versions)}
    if len(versions) > 1:
        reason = (
            f"{len(versions)} versions in round {current.state.key!r} ({', '.join(versions)}): a family's "
            "entry is its one version; map each version to its own family to follow them apart"
        )
        return {**entry, "model": None, "rating": None, "ci_low": None, "ci_high": None,
                "comparisons": None, "not_comparable": reason}  # fmt: skip
    row = current.board.row(versions[0])
    return {**entry, "model": row.model, "rating": row.rating, "ci_low": row.ci_low,
            "ci_high": row.ci_high, "comparisons": row.comparisons, "not_comparable": None}  # fmt: skip


def _round_summary(current: RoundBoard, anchor: float) -> dict[str, Any]:
    counts = current.board.counts
    return {
        "key": current.state.key,
        "batch_name": current.state.round.batch_name,
        "labels": counts.get("labels"),
        "judgments": counts.get("judgments_total"),
        "models": [row.to_dict() for row in current.board.rows],  # every model's rating, best first
        "reference": current.reference.model,
        "scale": _scale(current.reference, anchor),
    }


def _scale(reference: Reference, anchor: float) -> str:
    if reference.model is not None:
        return f"rating({reference.model}) = {anchor:g} in every resample"
    return f"mean rating = {anchor:g} (not on a reference scale: {reference.reason})"


def cross_round_view(
    states: Iterable[RoundState],
    *,
    families: Mapping[str, str] | None = None,
    reference_model: str | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int | None = None,
    anchor: float = 1000.0,
) -> CrossRoundView:
    """Merge ``states`` (`rounds.merge_rounds`) and compute the views of the module docstring.

    ``seed``: the bootstrap seed of every round and of the pool (default: the rounds' own, which
    `merge_rounds` checked to be one); one seed for all keeps the rounds' bootstraps paired.
    """
    if resamples < 1:
        raise ValueError("resamples must be >= 1: the changes between rounds are bootstrap intervals")
    merged = merge_rounds(states)
    mapping = Families(dict(families or {}))
    used_seed = merged.pooled.config.seed if seed is None else seed
    options: dict[str, Any] = {"resamples": resamples, "confidence": confidence, "anchor": anchor}
    boards = []
    for state in merged.rounds:
        reference = mapping.reference(reference_model, state.counts.models, f"round {state.key!r}")
        board = _board(state.counts, used_seed, reference, options)
        boards.append(RoundBoard(state, board, reference))
    pooled_reference = mapping.reference(reference_model, merged.pooled.models, "the pooled rounds")
    settings = {
        "reference_model": reference_model,
        "families": dict(mapping.mapping),
        "resamples": resamples,
        "confidence": confidence,
        "seed": used_seed,
        "anchor": anchor,
    }
    pooled = _board(merged.pooled, used_seed, pooled_reference, options)
    return CrossRoundView(tuple(boards), pooled, pooled_reference, merged, mapping, settings)


def _board(counts: RoundCounts, seed: int, reference: Reference, options: Mapping[str, Any]) -> Leaderboard:
    config = dataclasses.replace(counts.config, seed=seed)
    return assemble_leaderboard(
        dataclasses.replace(counts, config=config), anchor_model=reference.model, **options
    )


def trends_csv(view: CrossRoundView) -> str:
    """``trends.csv``: one row per family and round it is in (`TREND_COLUMNS`; empty = undefined)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TREND_COLUMNS)
    for family in view.family_names():
        for entry in view.entries(family):
            change = entry["change"] or {}
            reason = change.get("not_comparable") or entry["not_comparable"]
            values = [
                family,
                entry["round"],
                entry["model"],
                entry["rating"],
                entry["ci_low"],
                entry["ci_high"],
                entry["comparisons"],
                change.get("previous_round"),
                change.get("difference"),
                change.get("ci_low"),
                change.get("ci_high"),
                change.get("significant"),
                reason,
            ]
            writer.writerow(["" if v is None else v for v in values])
    return out.getvalue()
