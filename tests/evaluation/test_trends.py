"""Per-round and pooled views: families, the reference scale, and the one definition of a move."""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Mapping

import pytest

from airflow_mmc_provider.evaluation.families import Families, Reference
from airflow_mmc_provider.evaluation.round_state import RoundState
from airflow_mmc_provider.evaluation.trends import TREND_COLUMNS, CrossRoundView, cross_round_view, trends_csv
from airflow_mmc_provider.mmc.export import LabelRecord

from .records import label, plackett_luce, ranking
from .test_rounds import state_of

FAMILIES = {"atlas-large-*": "atlas-large", "atlas-large-legacy": "legacy"}


def week(key: str, skill: Mapping[str, float], *, prompts: int = 300, shown: int = 3) -> RoundState:
    """A round on the fixed evaluation set: the same prompts (global keys) every week, new labels."""
    rng = random.Random(key)
    models = sorted(skill)
    rows: list[list[LabelRecord]] = []
    for c in range(prompts):
        display = rng.sample(models, min(shown, len(models)))
        order = plackett_luce(rng, display, dict(skill))
        rows.append(
            [label(f"prompt-{c}", f"{key}-{c}", rankings=[ranking(order, shown=display, row=f"prompt-{c}")])]
        )
    return state_of(key, rows)


def view(*states: RoundState, reference: str | None = "ref", resamples: int = 200) -> CrossRoundView:
    return cross_round_view(states, families=FAMILIES, reference_model=reference, resamples=resamples)


def family(data: dict, name: str) -> dict:
    [found] = [f for f in data["families"] if f["family"] == name]
    return found


WEEK_1 = week("2026-04-07", {"ref": 0.0, "atlas-large-2026-04-07": 0.3, "stable": -0.5})
WEEK_2 = week("2026-04-14", {"ref": 0.0, "atlas-large-2026-04-14": 1.5, "stable": -0.5})


def test_families_map_exact_names_first_then_the_first_pattern_and_else_the_name() -> None:
    families = Families({"atlas-*": "atlas", "atlas-large-*": "atlas-large", "atlas-large-legacy": "legacy"})
    assert families.family("atlas-large-legacy") == "legacy"
    assert families.family("atlas-large-2026-04-14") == "atlas"  # the first pattern that matches
    assert families.family("borealis") == "borealis"


def test_the_reference_is_a_model_or_the_one_version_of_a_family() -> None:
    families = Families(FAMILIES)
    assert families.reference("ref", ["ref", "b"], "round 'w'") == Reference("ref")
    assert families.reference("atlas-large", ["atlas-large-1", "b"], "round 'w'") == Reference(
        "atlas-large-1"
    )
    two = families.reference("atlas-large", ["atlas-large-1", "atlas-large-2"], "round 'w'")
    assert two == Reference(
        None, "reference 'atlas-large' has 2 versions in round 'w': atlas-large-1, atlas-large-2"
    )
    assert families.reference("gone", ["b"], "round 'w'") == Reference(
        None, "reference 'gone' is not in round 'w'"
    )


def test_a_family_moves_significantly_and_a_stable_model_does_not() -> None:
    result = view(WEEK_1, WEEK_2)
    data = result.to_dict()
    assert [r["key"] for r in data["rounds"]] == ["2026-04-07", "2026-04-14"]
    assert [r["scale"] for r in data["rounds"]] == ["rating(ref) = 1000 in every resample"] * 2
    week_2 = {row["model"]: row for row in data["rounds"][1]["models"]}
    assert set(week_2) == {"ref", "atlas-large-2026-04-14", "stable"} and week_2["ref"]["rating"] == 1000.0
    atlas = family(data, "atlas-large")
    assert atlas["versions"] == ["atlas-large-2026-04-07", "atlas-large-2026-04-14"]
    first, second = atlas["rounds"]
    assert first["change"] is None and first["model"] == "atlas-large-2026-04-07"
    change = second["change"]
    assert change["previous_round"] == "2026-04-07" and change["not_comparable"] is None
    assert change["difference"] == pytest.approx(second["rating"] - first["rating"])  # ref = 1000 in both
    assert change["ci_low"] < change["difference"] < change["ci_high"] and change["ci_low"] > 0
    assert change["significant"] is True
    stable = family(data, "stable")["rounds"][1]["change"]
    assert stable["ci_low"] < 0 < stable["ci_high"] and stable["significant"] is False
    reference = family(data, "ref")["rounds"][1]["change"]
    assert reference["difference"] is None and "the reference model" in reference["not_comparable"]


def test_a_change_interval_is_the_percentile_interval_of_the_paired_resampled_differences() -> None:
    result = view(WEEK_1, WEEK_2)
    before, after = (r.board for r in result.rounds)
    m0, m1 = "atlas-large-2026-04-07", "atlas-large-2026-04-14"
    i, j = before.models.index(m0), after.models.index(m1)
    r, s = before.models.index("ref"), after.models.index("ref")
    diffs = sorted(
        (b[j] - b[s]) - (a[i] - a[r]) for a, b in zip(before.bootstrap, after.bootstrap, strict=True)
    )
    change = result.entries("atlas-large")[1]["change"]
    assert (
        diffs[4] <= change["ci_low"] <= diffs[5] and diffs[-6] <= change["ci_high"] <= diffs[-5]
    )  # 2.5 %, 200


def test_without_the_reference_in_both_rounds_a_change_is_not_comparable_never_a_number() -> None:
    week_3 = week("2026-04-21", {"atlas-large-2026-04-21": 1.5, "stable": -0.5})
    data = view(WEEK_2, week_3).to_dict()
    assert data["rounds"][1]["reference"] is None
    assert (
        data["rounds"][1]["scale"]
        == "mean rating = 1000 (not on a reference scale: reference 'ref' is not in round '2026-04-21')"
    )
    for name in ("atlas-large", "stable"):
        change = family(data, name)["rounds"][1]["change"]
        assert change["difference"] is None and change["ci_low"] is None and change["significant"] is None
        assert (
            change["not_comparable"]
            == "no reference model in both rounds (reference 'ref' is not in round '2026-04-21')"
        )
    assert family(data, "ref")["missing_from"] == ["2026-04-21"]


def test_a_family_with_two_versions_in_a_round_has_no_entry_number_and_no_change() -> None:
    both = week("2026-04-14", {"ref": 0.0, "atlas-large-a": 1.0, "atlas-large-b": 0.5}, shown=3)
    atlas = family(view(WEEK_1, both).to_dict(), "atlas-large")["rounds"][1]
    assert atlas["versions"] == ["atlas-large-a", "atlas-large-b"] and atlas["rating"] is None
    rated = {row["model"] for row in view(WEEK_1, both).to_dict()["rounds"][1]["models"]}
    assert {"atlas-large-a", "atlas-large-b"} <= rated  # each version is still rated in its round
    assert atlas["not_comparable"].startswith(
        "2 versions in round '2026-04-14' (atlas-large-a, atlas-large-b)"
    )
    assert atlas["change"]["not_comparable"] == "'atlas-large' has several versions in one of the rounds"


def test_models_of_some_rounds_only_and_the_pooled_view() -> None:
    newcomer = week("2026-04-14", {"ref": 0.0, "atlas-large-2026-04-14": 1.5, "cirrus": 0.2})
    data = view(WEEK_1, newcomer).to_dict()
    assert family(data, "stable")["missing_from"] == ["2026-04-14"]
    assert family(data, "cirrus")["rounds_present"] == ["2026-04-14"]
    cirrus = family(data, "cirrus")["rounds"][0]["change"]
    assert cirrus["not_comparable"].startswith(
        "'cirrus' is not in the previous round '2026-04-07' (if it is a"
    )
    assert "declare its family: families=" in cirrus["not_comparable"]  # the likely cause: a new name
    models = {m["model"]: m for m in data["models"]}
    assert models["atlas-large-2026-04-07"] == {
        "model": "atlas-large-2026-04-07",
        "family": "atlas-large",
        "rounds_present": ["2026-04-07"],
    }
    pooled = {row["model"]: row for row in data["pooled"]["models"]}
    assert pooled["ref"]["rating"] == 1000.0 and data["pooled"]["reference"] == "ref"
    assert pooled["ref"]["comparisons"] == sum(
        r.board.row("ref").comparisons for r in view(WEEK_1, newcomer).rounds
    )


def test_rounds_json_is_reproducible_and_holds_no_service_ids() -> None:
    first = json.dumps(view(WEEK_1, WEEK_2).to_dict())
    assert json.dumps(view(WEEK_2, WEEK_1).to_dict()) == first
    assert "2026-04-07-0" not in first  # no label id
    assert json.loads(first)["version"] == 1 and "percentile interval" in json.loads(first)["definition"]


def test_trends_csv_has_one_row_per_family_and_round_with_empty_cells_where_undefined() -> None:
    result = view(WEEK_1, WEEK_2)
    rows = list(csv.DictReader(io.StringIO(trends_csv(result))))
    assert tuple(rows[0]) == TREND_COLUMNS
    assert [(r["family"], r["round"]) for r in rows] == [
        (f, k) for f in ("atlas-large", "ref", "stable") for k in ("2026-04-07", "2026-04-14")
    ]
    atlas = result.entries("atlas-large")[1]
    assert float(rows[1]["change"]) == atlas["change"]["difference"] and rows[1]["significant"] == "True"
    assert rows[0]["change"] == rows[0]["previous_round"] == "" and rows[0]["not_comparable"] == ""


def test_changes_need_bootstrap_resamples() -> None:
    with pytest.raises(ValueError, match="resamples must be >= 1"):
        view(WEEK_1, WEEK_2, resamples=0)
