"""Round states in the round DAG's layout and `MmcCrossRoundLeaderboardOperator` over them.

Each round's leaderboard task writes ``<project>/<round>/leaderboard/state.json``; the cross-round
task finds them at any depth (or takes their paths from mapped tasks), merges them and writes
``rounds.json``, ``trends.csv`` and the pooled leaderboard.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_mmc_provider.operators.leaderboard import MmcLeaderboardOperator
from airflow_mmc_provider.operators.rounds import MmcCrossRoundLeaderboardOperator
from tests.operators.test_leaderboard_layout import write_export

LOGGER = "tests.cross_round"


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for operator in (MmcLeaderboardOperator, MmcCrossRoundLeaderboardOperator):
        monkeypatch.setattr(operator, "log", logging.getLogger(LOGGER))
    caplog.set_level(logging.INFO, logger=LOGGER)
    return caplog


def said(log: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in log.records if r.name == LOGGER]


def round_leaderboard(round_dir: Path, **options: Any) -> dict[str, Any]:
    """The round DAG's leaderboard task over ``<round>/export.ndjson``."""
    operator = MmcLeaderboardOperator(
        task_id="leaderboard",
        export_paths=str(round_dir / "export.ndjson"),
        output_dir=str(round_dir / "leaderboard"),
        resamples=20,
        **options,
    )
    return operator.execute(context={})  # type: ignore[arg-type]


def cross_round(paths: Any, out: Path, **options: Any) -> dict[str, Any]:
    operator = MmcCrossRoundLeaderboardOperator(
        task_id="cross_round", state_paths=paths, output_dir=str(out), resamples=20, **options
    )
    return operator.execute(context={})  # type: ignore[arg-type]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Two labelled rounds as the round DAG lays them out, each with its leaderboard and state."""
    folder = tmp_path / "mmc-rounds" / "mmc-sample-round"
    write_export(folder / "round-1" / "export.ndjson", range(0, 100))
    write_export(folder / "round-2" / "export.ndjson", range(100, 250))
    round_leaderboard(folder / "round-1", metadata={"batch_name": "round-1", "batch_id": "b1"})
    round_leaderboard(folder / "round-2", metadata={"batch_name": "round-2", "batch_id": "b2"})
    return folder


def test_each_round_writes_its_state_beside_its_leaderboard(tmp_path: Path) -> None:
    round_dir = tmp_path / "p" / "round-1"
    export = write_export(round_dir / "export.ndjson", range(0, 40))
    summary = round_leaderboard(
        round_dir, project_id="proj", metadata={"batch_name": "week-15", "batch_id": "b"}
    )
    state = json.loads((round_dir / "leaderboard" / "state.json").read_text())
    assert summary["state"] == f"file://{round_dir / 'leaderboard' / 'state.json'}"
    assert state["version"] == 2 and state["label_ids"] == sorted(f"label-{i}" for i in range(40))
    assert {k: state["round"][k] for k in ("key", "project_id", "batch_id", "batch_name")} == {
        "key": "week-15",
        "project_id": "proj",
        "batch_id": "b",
        "batch_name": "week-15",
    }
    assert state["round"]["exports"] == [f"file://{export}"]
    assert state["comparison_questions"] == [["Rank the responses", "ranking"]]
    assert state["counts"]["scalars"]["labels"] == 40


def test_the_round_key_is_the_given_one_else_the_export_folder(
    tmp_path: Path, log: pytest.LogCaptureFixture
) -> None:
    write_export(tmp_path / "p" / "round-1" / "export.ndjson", range(0, 40))
    assert round_leaderboard(tmp_path / "p" / "round-1")["round_key"] == "round-1"
    assert round_leaderboard(tmp_path / "p" / "round-1", round_key="2026-04-14")["round_key"] == "2026-04-14"
    write_export(tmp_path / "p" / "round-2" / "export.ndjson", range(40, 80))
    running = MmcLeaderboardOperator(
        task_id="running", export_paths=str(tmp_path / "p"), output_dir=str(tmp_path / "running"), resamples=5
    )
    assert "state" not in running.execute(context={})  # type: ignore[arg-type]
    assert not (tmp_path / "running" / "state.json").exists()
    assert any(line.startswith("No state.json written: the exports are not one round") for line in said(log))


def test_the_cross_round_leaderboard_merges_the_rounds_found_at_any_depth(
    project: Path, tmp_path: Path, log: pytest.LogCaptureFixture
) -> None:
    out = project / "cross-round"
    summary = cross_round(str(project.parent), out)
    assert summary["rounds"] == ["round-1", "round-2"]
    assert sorted(p.name for p in out.iterdir()) == [
        "leaderboard.csv",
        "leaderboard.json",
        "rounds.json",
        "trends.csv",
    ]
    assert (
        f"Reading 2 state.json files from file://{project.parent} (folder: 2 state.json files at any depth)"
        in said(log)
    )
    assert "Merged 2 rounds (round-1, round-2) from 2 state files" in said(log)
    rounds = json.loads((out / "rounds.json").read_text())
    assert [r["labels"] for r in rounds["rounds"]] == [100, 150]
    trends = list(csv.DictReader(io.StringIO((out / "trends.csv").read_text())))
    assert {r["round"] for r in trends} == {"round-1", "round-2"}
    # the pooled leaderboard is the one a single pass over both exports gives
    one_pass = MmcLeaderboardOperator(
        task_id="one_pass", export_paths=str(project), output_dir=str(tmp_path / "one"), resamples=20
    )
    one_pass.execute(context={})  # type: ignore[arg-type]
    assert (out / "leaderboard.json").read_bytes() == (tmp_path / "one" / "leaderboard.json").read_bytes()
    # run again: its own output (a leaderboard.json, no state.json) is not read back as a round
    assert cross_round(str(project.parent), out)["rounds"] == ["round-1", "round-2"]


def test_a_round_given_twice_is_counted_once_and_said_so(
    project: Path, tmp_path: Path, log: pytest.LogCaptureFixture
) -> None:
    state = project / "round-1" / "leaderboard" / "state.json"
    copy = tmp_path / "copy" / "state.json"
    copy.parent.mkdir()
    copy.write_bytes(state.read_bytes())
    twice = cross_round([str(project), str(copy), str(state)], tmp_path / "twice")
    once = cross_round(str(project), tmp_path / "once")
    assert twice["rounds"] == once["rounds"] == ["round-1", "round-2"]
    assert json.loads((tmp_path / "twice" / "leaderboard.json").read_text()) == json.loads(
        (tmp_path / "once" / "leaderboard.json").read_text()
    )
    assert f"round 'round-1' given twice (file://{state} and file://{copy}): counted once" in said(log)


def test_a_re_export_after_late_labels_replaces_its_round(project: Path, tmp_path: Path) -> None:
    late = tmp_path / "late" / "round-2"
    write_export(late / "export.ndjson", range(100, 280))  # round-2 with 30 late labels
    round_leaderboard(late, metadata={"batch_name": "round-2"})
    summary = cross_round([str(project), str(late)], tmp_path / "out")
    assert any("replaces" in note and "30 more" in note for note in summary["notes"])
    pooled = json.loads((tmp_path / "out" / "leaderboard.json").read_text())
    assert pooled["counts"]["labels"] == 280  # 100 of round-1 and 180 of round-2, none twice


def test_rounds_sharing_labels_are_refused_naming_both(project: Path, tmp_path: Path) -> None:
    write_export(project / "round-3" / "export.ndjson", range(200, 260))
    round_leaderboard(project / "round-3")
    with pytest.raises(AirflowException) as caught:
        cross_round(str(project), tmp_path / "out")
    state_2, state_3 = (project / name / "leaderboard" / "state.json" for name in ("round-2", "round-3"))
    assert str(caught.value).startswith(
        f"round 'round-2' (file://{state_2}) and round 'round-3' (file://{state_3}) share 50 label ids"
    )
    assert not (tmp_path / "out").exists()


def test_nothing_found_names_every_path_looked_at_and_writes_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "mmc-rounds"
    (empty / "p" / "round-1" / "leaderboard").mkdir(parents=True)
    missing = tmp_path / "typo"
    with pytest.raises(AirflowException) as caught:
        cross_round([str(empty), str(missing)], tmp_path / "out")
    message = str(caught.value)
    assert message.startswith(f"Round state paths not found: file://{missing}; looked at file://{empty}")
    assert f"file://{empty} (folder: 0 state.json files at any depth)" in message
    assert (
        f"file://{missing} (does not exist)" in message
        and "run the rounds' leaderboard tasks first" in message
    )
    with pytest.raises(AirflowException, match=r"^No round states found; looked at .*\(folder: 0 state.json"):
        cross_round(str(empty), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_version_one_state_is_refused_with_its_path(project: Path, tmp_path: Path) -> None:
    old = project / "round-0" / "leaderboard" / "state.json"
    old.parent.mkdir(parents=True)
    old.write_bytes((Path(__file__).parents[1] / "evaluation" / "data" / "state_v1.json").read_bytes())
    with pytest.raises(AirflowException, match=rf"^Cannot merge file://{old}: it is a version-1"):
        cross_round(str(project), tmp_path / "out")


def test_mapped_leaderboard_summaries_hand_their_states_over(tmp_path: Path) -> None:
    summaries = []
    for n, labels in enumerate((range(0, 60), range(60, 120)), start=1):
        write_export(tmp_path / "p" / f"week-{n}" / "export.ndjson", labels)
        summaries.append(round_leaderboard(tmp_path / "p" / f"week-{n}"))
    summary = cross_round(summaries, tmp_path / "out", reference_model="gamma")
    assert summary["rounds"] == ["week-1", "week-2"]
    rounds = json.loads((tmp_path / "out" / "rounds.json").read_text())
    assert [r["reference"] for r in rounds["rounds"]] == ["gamma", "gamma"]
    with pytest.raises(AirflowException, match="names no state"):
        cross_round([{"output_dir": "x"}], tmp_path / "out")
