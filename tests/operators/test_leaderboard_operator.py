"""`MmcLeaderboardOperator`: export files -> leaderboard files, the same in one process or several."""

from __future__ import annotations

import json
import random
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
    two = run(export_file, tmp_path / "two", workers=2)
    assert one["counts"]["labels"] == 1500
    assert two == one


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="workers must be at least 1"):
        MmcLeaderboardOperator(task_id="bad", export_paths="x", output_dir="y", workers=0)
