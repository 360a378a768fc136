"""`MmcLeaderboardOperator` over the round DAG's layout: found at any depth, each file and label once.

The round DAG writes ``<output_dir>/<project>/<batch>/export.ndjson`` with the round's
``leaderboard/`` folder beside it; a cross-round leaderboard is pointed at ``<output_dir>/<project>``.
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_mmc_provider.operators.leaderboard import MmcLeaderboardOperator
from tests.report.test_report import export_line

LOGGER = "tests.leaderboard_layout"


def write_export(path: Path, labels: range, *, labelled: bool = True) -> Path:
    """An export of one ranking label per row, label ids ``label-<i>`` for i in ``labels``."""
    rng = random.Random(labels.start)
    lines = []
    for index in labels:
        line = json.loads(export_line(index, rng))
        if not labelled:
            line["projects"]["proj"]["labels"] = []
        lines.append(json.dumps(line).encode() + b"\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(lines))
    return path


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Captures the operator's log (its task logger drops INFO outside a task runner)."""
    monkeypatch.setattr(MmcLeaderboardOperator, "log", logging.getLogger(LOGGER))
    caplog.set_level(logging.INFO, logger=LOGGER)
    return caplog


def lines(log: pytest.LogCaptureFixture, start: str) -> list[str]:
    return [r.getMessage() for r in log.records if r.name == LOGGER and r.getMessage().startswith(start)]


def leaderboard(paths: str | list[str], out: Path, **options: object) -> dict:
    operator = MmcLeaderboardOperator(
        task_id="cross_round", export_paths=paths, output_dir=str(out), resamples=20, **options
    )
    operator.execute(context={})  # type: ignore[arg-type]
    return json.loads((out / "leaderboard.json").read_text())


@pytest.fixture
def rounds(tmp_path: Path) -> Path:
    """Two rounds as the round DAG lays them out, with the files a folder search must pass over."""
    project = tmp_path / "mmc-rounds" / "mmc-sample-round"
    write_export(project / "round-1" / "export.ndjson", range(0, 100))
    write_export(project / "round-2" / "export.ndjson", range(100, 250))
    (project / "round-1" / "export.ndjson.errors.ndjson").write_text("not an export\n")
    (project / "round-1" / ".export.ndjson.partial-0123456789ab").write_text("half a file\n")
    (project / "round-1" / "leaderboard").mkdir()
    (project / "round-1" / "leaderboard" / "leaderboard.json").write_text("{}")
    (project / "round-1" / "leaderboard" / "judgments.ndjson").write_text("not an export\n")
    (project / ".cache").mkdir()
    (project / ".cache" / "old.ndjson").write_text("not an export\n")
    (project / "leaderboard").mkdir()  # an earlier cross-round leaderboard
    (project / "leaderboard" / "leaderboard.json").write_text("{}")
    (project / "leaderboard" / "latest.ndjson").write_text("not an export\n")
    return project


def test_a_project_folder_is_read_round_by_round_at_any_depth(
    rounds: Path, log: pytest.LogCaptureFixture
) -> None:
    (rounds / "cross-round").mkdir()  # this run's output folder, before its first leaderboard
    (rounds / "cross-round" / "latest.ndjson").write_text("not an export\n")
    board = leaderboard(str(rounds), rounds / "cross-round")
    assert board["counts"]["labels"] == 250
    assert board["counts"]["judgments"]["ranking"] == 250
    [reading] = lines(log, "Reading")
    first = reading.index("round-1/export.ndjson")
    assert reading.startswith("Reading 2 export files") and first < reading.index("round-2/export.ndjson")
    assert f"{rounds} (folder: 2 export files" in reading


def test_an_empty_folder_names_where_it_looked_and_the_fix(tmp_path: Path) -> None:
    folder = tmp_path / "mmc-rounds"
    (folder / "mmc-sample-round" / "round-1" / "leaderboard").mkdir(parents=True)
    out = tmp_path / "out"
    with pytest.raises(AirflowException) as caught:
        leaderboard(str(folder), out)
    message = str(caught.value)
    assert message.startswith("No export files found; looked at")
    assert f"{folder} (folder: 0 export files" in message
    assert "run the export first" in message and "<output_dir>/<project_name>" in message
    assert "[]" not in message
    assert not out.exists()  # refused before anything is written


def test_a_missing_path_is_named_beside_the_ones_found(rounds: Path, tmp_path: Path) -> None:
    missing = tmp_path / "mmc-rounds" / "typo"
    with pytest.raises(AirflowException) as caught:
        leaderboard([str(rounds), str(missing)], tmp_path / "out")
    message = str(caught.value)
    assert message.startswith("Export paths not found: file://") and f"{missing}; looked at" in message
    assert f"{missing} (does not exist)" in message and f"{rounds} (folder: 2 export files" in message
    assert not (tmp_path / "out").exists()


def test_an_unlabelled_export_names_its_file_and_says_to_wait_for_labels(tmp_path: Path) -> None:
    export = write_export(tmp_path / "p" / "round-1" / "export.ndjson", range(40), labelled=False)
    out = tmp_path / "p" / "round-1" / "leaderboard"
    with pytest.raises(AirflowException) as caught:
        leaderboard(str(tmp_path / "p"), out)
    message = str(caught.value)
    assert str(export) in message and "40 rows, 0 labels" in message
    assert "not labelled yet" in message
    assert not out.exists()


def test_another_project_id_is_named_as_the_likely_fix(tmp_path: Path) -> None:
    export = write_export(tmp_path / "round-1" / "export.ndjson", range(40))
    with pytest.raises(AirflowException, match=r"no row of project 'other'.*check project_id"):
        leaderboard(str(export), tmp_path / "out", project_id="other")


def test_the_same_file_named_twice_is_read_once(
    rounds: Path, tmp_path: Path, log: pytest.LogCaptureFixture
) -> None:
    export = rounds / "round-1" / "export.ndjson"
    relative = export.parent / ".." / "round-1" / "export.ndjson"
    twice = leaderboard([str(export), f"file://{relative.resolve()}", str(relative)], tmp_path / "twice")
    assert twice["counts"]["labels"] == 100 and twice["counts"]["judgments"]["ranking"] == 100
    folder_and_file = leaderboard([str(rounds), str(export)], tmp_path / "both")
    assert folder_and_file["counts"]["labels"] == 250
    assert folder_and_file["counts"]["judgments"]["ranking"] == 250
    said = [line.rsplit("; ", 1)[-1] for line in lines(log, "Reading")]
    assert said == ["2 named more than once, read once", "1 named more than once, read once"]


def test_two_exports_of_one_round_count_each_label_once(
    tmp_path: Path, log: pytest.LogCaptureFixture
) -> None:
    # a re-export after late labels: the first 60 labels are in both files
    write_export(tmp_path / "p" / "round-1" / "export.ndjson", range(0, 60))
    write_export(tmp_path / "p" / "round-1-again" / "export.ndjson", range(0, 90))
    board = leaderboard(str(tmp_path / "p"), tmp_path / "out")
    assert board["counts"]["labels"] == 90 and board["counts"]["rows"] == 90
    assert board["counts"]["judgments"] == {"ranking": 90, "single_selection": 0, "multi_selection": 0}
    assert lines(log, "Skipped") == [
        "Skipped 60 duplicate labels: their label ids were already counted from an earlier export "
        "(the same round exported twice?)"
    ]


def test_distinct_labels_are_all_counted_and_nothing_is_said_about_duplicates(
    rounds: Path, log: pytest.LogCaptureFixture
) -> None:
    board = leaderboard(str(rounds), rounds / "leaderboard")
    assert board["counts"]["labels"] == 250
    assert lines(log, "Skipped") == []
