"""The round under a real scheduler, triggerer, DAG processor and API server (`airflow standalone`).

`airflow dags test` runs triggers inline, which hides the classic production failure: a trigger the
triggerer cannot import or deserialise. Here every wait is deferred to the real triggerer process
(the simulated raters only start after a delay, so the labelling wait must defer), and the run must
end in success.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def airflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "airflow"), *args], env=env, capture_output=True, text=True, timeout=120)


def wait_for(check, timeout: float, what: str, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(3)
    raise AssertionError(f"timed out waiting for {what}; standalone log tail:\n{log.read_text()[-4000:]}")


def test_round_succeeds_with_every_wait_deferred_to_the_real_triggerer(lb_emulator, unique_name, tmp_path):
    lb_emulator.set_raters({"seed": 5, "raters": 3, "delay_seconds": 12})
    port = free_port()
    connection = {"conn_type": "labelbox", "host": lb_emulator.graphql_url, "password": lb_emulator.api_key}
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(tmp_path / "home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW_CONN_LABELBOX_DEFAULT": json.dumps(connection),
    }
    log = tmp_path / "standalone.log"
    with log.open("w") as sink:
        standalone = subprocess.Popen(
            [str(BIN / "airflow"), "standalone"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(
            lambda: "mmc_evaluation_round" in airflow(env, "dags", "list", "-o", "plain").stdout,
            240,
            "the DAG",
            log,
        )
        assert airflow(env, "dags", "unpause", "mmc_evaluation_round").returncode == 0
        conf = {
            "ontology_name": f"{unique_name}-o",
            "project_name": f"{unique_name}-p",
            "dataset_name": f"{unique_name}-d",
            "global_key_prefix": f"{unique_name}/",
            "output_dir": str(tmp_path / "rounds"),
        }
        triggered = airflow(env, "dags", "trigger", "mmc_evaluation_round", "--conf", json.dumps(conf))
        assert triggered.returncode == 0, triggered.stderr[-2000:]

        def finished() -> str | None:
            runs = airflow(env, "dags", "list-runs", "mmc_evaluation_round", "-o", "plain").stdout
            for state in ("success", "failed"):
                if f" {state} " in runs:
                    return state
            return None

        state = wait_for(finished, 420, "the DAG run to finish", log)
        text = log.read_text()
        assert state == "success", text[-6000:]
        # The labelling wait really went to the triggerer: its task log records the deferral and the
        # trigger's own lines, and the task resumed afterwards.
        logs = tmp_path / "home" / "logs" / "dag_id=mmc_evaluation_round"
        wait_log = "".join(p.read_text() for p in logs.glob("run_id=*/task_id=wait_for_labels/*.log*"))
        assert "Pausing task as DEFERRED" in wait_log, wait_log[-4000:]
        assert "Trigger fired event" in wait_log and "'status': 'success'" in wait_log, wait_log[-4000:]
        board = tmp_path / "rounds" / conf["project_name"] / "round-1" / "leaderboard" / "leaderboard.json"
        assert json.loads(board.read_text())["counts"]["rows"] == 240
    finally:
        os.killpg(standalone.pid, signal.SIGTERM)
        try:
            standalone.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(standalone.pid, signal.SIGKILL)
