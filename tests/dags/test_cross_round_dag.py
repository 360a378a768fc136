"""Scale-out is Airflow's: mapped leaderboard tasks count the rounds, one cross-round task merges
their states, handed over as the mapped tasks' return values, under `airflow dags test`."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

from tests.dags.conftest import AIRFLOW
from tests.operators.test_leaderboard_layout import write_export

DAG = """
import pendulum
from airflow.sdk import dag

from airflow_mmc_provider.operators.leaderboard import MmcLeaderboardOperator
from airflow_mmc_provider.operators.rounds import MmcCrossRoundLeaderboardOperator

ROOT = {root!r}


@dag(dag_id="cross_round_mapped", schedule=None, start_date=pendulum.datetime(2026, 4, 1, tz="UTC"))
def cross_round_mapped():
    rounds = MmcLeaderboardOperator.partial(task_id="round_leaderboard", resamples=20).expand_kwargs(
        [
            {{"export_paths": f"{{ROOT}}/{{key}}/export.ndjson", "output_dir": f"{{ROOT}}/{{key}}/leaderboard",
              "round_key": key}}
            for key in ("2026-04-07", "2026-04-14")
        ]
    )
    MmcCrossRoundLeaderboardOperator(
        task_id="cross_round", state_paths=rounds.output, output_dir=f"{{ROOT}}/cross-round",
        reference_model="gamma", resamples=20,
    )


cross_round_mapped()
"""


def test_mapped_round_tasks_hand_their_states_to_one_merging_task(airflow_home: Path, tmp_path: Path) -> None:
    root = tmp_path / "rounds"
    write_export(root / "2026-04-07" / "export.ndjson", range(0, 80))
    write_export(root / "2026-04-14" / "export.ndjson", range(80, 200))
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "cross_round_mapped.py").write_text(textwrap.dedent(DAG.format(root=str(root))))
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    run = subprocess.run(
        [AIRFLOW, "dags", "test", "cross_round_mapped"], env=env, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    rounds = json.loads((root / "cross-round" / "rounds.json").read_text())
    assert [r["key"] for r in rounds["rounds"]] == ["2026-04-07", "2026-04-14"]
    assert [r["labels"] for r in rounds["rounds"]] == [80, 120]
    pooled = json.loads((root / "cross-round" / "leaderboard.json").read_text())
    assert pooled["counts"]["labels"] == 200
