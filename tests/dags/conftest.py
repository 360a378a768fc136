"""Run example DAGs with `airflow dags test` in a throwaway AIRFLOW_HOME against the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("airflow-home")
    env = {**os.environ, "AIRFLOW_HOME": str(home)}
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    return home


@pytest.fixture
def run_dag(airflow_home: Path, lb_emulator) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`airflow dags test DAG_ID` with the labelbox_default connection on the emulator."""
    connection = {"conn_type": "labelbox", "host": lb_emulator.graphql_url, "password": lb_emulator.api_key}

    def run(
        dag_id: str, conf: dict | None = None, logical_date: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW_CONN_LABELBOX_DEFAULT": json.dumps(connection),
        }
        args = [AIRFLOW, "dags", "test", dag_id, *([logical_date] if logical_date else [])]
        if conf:
            args += ["--conf", json.dumps(conf)]
        return subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)

    return run
