"""Small builders of `LabelRecord`s and a Plackett-Luce simulator of raters."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from airflow_mmc_provider.mmc.export import (
    ClassificationAnswer,
    LabelRecord,
    MultiSelection,
    RankedResponse,
    Ranking,
    Response,
    SingleSelection,
)


def responses(models: Sequence[str], row: str = "row") -> list[Response]:
    """One response per model, displayed in the given order."""
    return [Response(f"{row}-{m}", m, i) for i, m in enumerate(models)]


def ranking(
    order: Sequence[str | Sequence[str]],
    *,
    shown: Sequence[str] | None = None,
    feature: str = "rank",
    row: str = "row",
) -> Ranking:
    """``order`` best first (a nested sequence is a tie group); ``shown``: the display order."""
    flat = [m for group in order for m in ([group] if isinstance(group, str) else group)]
    display = list(shown) if shown is not None else flat
    ranked = []
    for rank, group in enumerate(order, start=1):
        for model in [group] if isinstance(group, str) else group:
            ranked.append(RankedResponse(f"{row}-{model}", model, rank, display.index(model)))
    return Ranking(feature, f"{row}-prompt", tuple(ranked))


def single(chosen: str, shown: Sequence[str], *, feature: str = "best", row: str = "row") -> SingleSelection:
    all_responses = responses(shown, row)
    selected = next(r for r in all_responses if r.model == chosen)
    return SingleSelection(
        feature, f"{row}-prompt", selected, tuple(r for r in all_responses if r is not selected)
    )


def multi(
    chosen: Sequence[str], shown: Sequence[str], *, feature: str = "ok", row: str = "row"
) -> MultiSelection:
    all_responses = responses(shown, row)
    return MultiSelection(
        feature,
        f"{row}-prompt",
        tuple(r for r in all_responses if r.model in chosen),
        tuple(r for r in all_responses if r.model not in chosen),
    )


def label(
    row: str = "row",
    label_id: str = "label",
    *,
    rater: str | None = "rater",
    rankings: Sequence[Ranking] = (),
    singles: Sequence[SingleSelection] = (),
    multis: Sequence[MultiSelection] = (),
    classifications: Sequence[ClassificationAnswer] = (),
    project: str = "project",
) -> LabelRecord:
    return LabelRecord(
        data_row_id=row,
        global_key=f"gk-{row}",
        project_id=project,
        label_id=label_id,
        rater=rater,
        rankings=tuple(rankings),
        single_selections=tuple(singles),
        multi_selections=tuple(multis),
        classifications=tuple(classifications),
        has_conversation=True,
    )


def plackett_luce(rng: random.Random, shown: Sequence[str], skill: dict[str, float]) -> list[str]:
    """A ranking of ``shown``: repeatedly pick the best of the rest with probability ~ exp(skill)."""
    remaining = list(shown)
    order: list[str] = []
    while remaining:
        weights = [math.exp(skill[m]) for m in remaining]
        pick = rng.choices(remaining, weights)[0]
        order.append(pick)
        remaining.remove(pick)
    return order


def simulate(
    seed: int,
    skill: dict[str, float],
    *,
    conversations: int,
    shown: int = 3,
    raters: Sequence[int] = (1,),
) -> list[list[LabelRecord]]:
    """Rows of labels: each conversation shows ``shown`` random models in random order; each of
    ``rng.choice(raters)`` raters ranks them by Plackett-Luce."""
    rng = random.Random(seed)
    models = sorted(skill)
    rows: list[list[LabelRecord]] = []
    for c in range(conversations):
        row = f"conv-{seed}-{c}"
        display = rng.sample(models, shown)
        labels = []
        for r in range(rng.choice(raters)):
            order = plackett_luce(rng, display, skill)
            labels.append(
                label(
                    row,
                    f"{row}-label-{r}",
                    rater=f"rater-{r}",
                    rankings=[ranking(order, shown=display, row=row)],
                )
            )
        rows.append(labels)
    return rows
