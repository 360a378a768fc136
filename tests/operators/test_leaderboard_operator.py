"""`MmcLeaderboardOperator`: export files -> leaderboard files; ``workers=`` is a deprecated no-op."""

from __future__ import annotations

import json
import random
import warnings
from pathlib import Path

import pytest

from airflow_mmc_provider.operators.leaderboard import MmcLeaderboardOperator
from tests.report.test_report import export_line


@pytest.fixture
def export_file(tmp_path: Path) -> Path:
    rng = random.Random(5)
    path = tmp_path / "exports" / "round-1.ndjson"
    path.parent.mkdir()
    path.write_bytes(b"".join(export_line(i, rng) + b"\n" for i in range(1500)))
    return path


def run(export_file: Path, out: Path, workers: int) -> dict:
    operator = MmcLeaderboardOperator(
        task_id=f"leaderboard_{workers}",
        export_paths=str(export_file.parent),
        output_dir=str(out),
        resamples=100,
        seed=3,
        workers=workers,
    )
    summary = operator.execute(context={})  # type: ignore[arg-type]
    assert summary["models"]
    return json.loads((out / "leaderboard.json").read_text())


def test_workers_write_the_leaderboard_of_one_process(export_file: Path, tmp_path: Path) -> None:
    one = run(export_file, tmp_path / "one", workers=1)
    with pytest.warns(DeprecationWarning, match="deprecated and ignored"):
        two = run(export_file, tmp_path / "two", workers=2)
    assert one["counts"]["labels"] == 1500
    assert two == one


def test_workers_warns_what_to_use_instead() -> None:
    with pytest.warns(DeprecationWarning, match=r"mapped tasks and merge their states"):
        MmcLeaderboardOperator(task_id="parallel", export_paths="x", output_dir="y", workers=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MmcLeaderboardOperator(task_id="default", export_paths="x", output_dir="y")


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="workers must be at least 1"):
        MmcLeaderboardOperator(task_id="bad", export_paths="x", output_dir="y", workers=0)


def test_each_outlet_event_carries_the_summary_without_the_models(export_file: Path, tmp_path: Path) -> None:
    from types import SimpleNamespace

    from airflow.sdk import Asset

    boards = Asset(uri="mmc://leaderboards/test", name="test_leaderboard")
    events = {boards: SimpleNamespace(extra={})}
    operator = MmcLeaderboardOperator(
        task_id="leaderboard",
        export_paths=str(export_file),
        output_dir=str(tmp_path / "out"),
        resamples=10,
        outlets=[boards],
    )
    summary = operator.execute(context={"outlet_events": events})  # type: ignore[arg-type]
    assert summary["models"] and "models" not in events[boards].extra
    assert events[boards].extra == {k: v for k, v in summary.items() if k != "models"}


def test_baseline_model_fixes_that_models_rating(export_file: Path, tmp_path: Path) -> None:
    mean = run(export_file, tmp_path / "mean", workers=1)
    models = [row["model"] for row in mean["models"]]
    baseline = models[-1]
    operator = MmcLeaderboardOperator(
        task_id="anchored",
        export_paths=str(export_file),
        output_dir=str(tmp_path / "anchored"),
        resamples=100,
        seed=3,
        baseline_model=baseline,
    )
    operator.execute(context={})  # type: ignore[arg-type]
    anchored = json.loads((tmp_path / "anchored" / "leaderboard.json").read_text())
    ratings = {row["model"]: row["rating"] for row in anchored["models"]}
    assert ratings[baseline] == pytest.approx(1000.0)
    assert anchored["settings"]["anchor_model"] == baseline
    # the scale moves, the differences between models do not
    before = {row["model"]: row["rating"] for row in mean["models"]}
    assert ratings[models[0]] - ratings[baseline] == pytest.approx(before[models[0]] - before[baseline])


def test_a_baseline_model_that_never_played_fails_naming_the_models(
    export_file: Path, tmp_path: Path
) -> None:
    from airflow.providers.common.compat.sdk import AirflowException

    operator = MmcLeaderboardOperator(
        task_id="typo",
        export_paths=str(export_file),
        output_dir=str(tmp_path / "out"),
        baseline_model="gtp-5",
    )
    with pytest.raises(
        AirflowException, match=r"baseline_model 'gtp-5' made no comparison.*models compared: "
    ):
        operator.execute(context={})  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"per_prompt": "twice"}, r"per_prompt must be one of \['one', 'all'\]"),
        ({"judgment_kinds": ["ranking", "likert"]}, r"unknown judgment kinds \['likert'\]"),
    ],
)
def test_counting_options_are_checked_when_the_dag_is_parsed(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MmcLeaderboardOperator(task_id="bad", export_paths="x", output_dir="y", **options)


def test_counting_options_reach_the_counter(export_file: Path, tmp_path: Path) -> None:
    operator = MmcLeaderboardOperator(
        task_id="selections_only",
        export_paths=str(export_file),
        output_dir=str(tmp_path / "out"),
        judgment_kinds=["single_selection"],
    )
    # the export holds rankings only: with selections only, nothing is comparable
    from airflow.providers.common.compat.sdk import AirflowException

    with pytest.raises(AirflowException, match="No comparable judgments"):
        operator.execute(context={})  # type: ignore[arg-type]
    ranked = MmcLeaderboardOperator(
        task_id="all", export_paths=str(export_file), output_dir=str(tmp_path / "all"), per_prompt="all"
    )
    ranked.execute(context={})  # type: ignore[arg-type]
    settings = json.loads((tmp_path / "all" / "leaderboard.json").read_text())["settings"]
    assert settings["per_prompt"] == "all" and settings["kinds"] == [
        "ranking",
        "single_selection",
        "multi_selection",
    ]


@pytest.mark.parametrize("breakdowns", [True, False])
def test_breakdowns_can_be_left_out_of_the_round_state(
    export_file: Path, tmp_path: Path, breakdowns: bool
) -> None:
    out = tmp_path / "out"
    MmcLeaderboardOperator(
        task_id="board",
        export_paths=str(export_file),
        output_dir=str(out),
        round_key="r1",
        breakdowns=breakdowns,
    ).execute(context={})  # type: ignore[arg-type]
    state = json.loads((out / "state.json").read_text())
    assert ("breakdowns" in state) is breakdowns
    if breakdowns:  # the export's one compared prompt per row: every comparison in turn 1
        assert set(state["breakdowns"]["turns"]) <= {"1"}
