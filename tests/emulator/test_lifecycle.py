"""The process: CLI flags, the start line, signals, task timing, restarts and reset."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import requests

from airflow_mmc_provider.emulator.testing import EmulatorProcess

from .helpers import RawGraphQL, conversation, spec


def test_tasks_are_in_progress_until_the_delay_has_passed(fresh_emulator: EmulatorProcess, unique_name):
    fresh_emulator.task_delay = 0.6
    gql = RawGraphQL(fresh_emulator.start())
    dataset = gql.create_dataset(unique_name)
    created = gql.start_upsert([spec({"row_data": "x", "global_key": unique_name, "dataset_id": dataset})])
    assert (created["status"], created["completionPercentage"], created["result"]) == ("IN_PROGRESS", 0, None)
    started = time.monotonic()
    assert gql.task(created["id"])["status"] == "IN_PROGRESS"
    done = gql.wait(created["id"])
    assert time.monotonic() - started < 5
    assert (done["status"], done["errors"]) == ("COMPLETE", None) and done["result"]
    assert done["updatedAt"] >= done["createdAt"]


def test_state_survives_a_restart_and_unfinished_tasks_resume(fresh_emulator: EmulatorProcess, unique_name):
    fresh_emulator.task_delay = 60  # the task cannot finish before the stop
    gql = RawGraphQL(fresh_emulator.start())
    user_id, dataset = gql.user_id(), gql.create_dataset(unique_name)
    pending = gql.start_upsert(
        [spec({"row_data": conversation(), "global_key": unique_name, "dataset_id": dataset})]
    )
    assert fresh_emulator.stop() == 0  # SIGTERM is a clean stop

    fresh_emulator.task_delay = 0
    gql = RawGraphQL(fresh_emulator.start())
    assert gql.user_id() == user_id
    name = gql.data("query($id: ID!){dataset(where: {id: $id}){name}}", {"id": dataset})["dataset"]["name"]
    assert name == unique_name
    finished = gql.wait(pending["id"])
    assert finished["status"] == "COMPLETE"
    assert [n["globalKey"] for n in gql.successes(pending["id"])] == [unique_name]
    assert fresh_emulator.log_text().count("Labelbox emulator listening on") == 2


def test_reset_wipes_data_but_keeps_the_key_and_the_user(fresh_emulator: EmulatorProcess, unique_name):
    gql = RawGraphQL(fresh_emulator.start())
    user_id, dataset = gql.user_id(), gql.create_dataset(unique_name)
    file_url = gql.upload(b"payload")
    fresh_emulator.reset()
    assert gql.user_id() == user_id
    assert gql.post("query($id: ID!){dataset(where: {id: $id}){id}}", {"id": dataset}).json()["data"] == {
        "dataset": None
    }
    assert requests.get(file_url, timeout=10).status_code == 404


def test_faults_given_at_start_apply_at_once(fresh_emulator: EmulatorProcess):
    fresh_emulator.extra_args = ("--faults", json.dumps({"sequence": ["503"], "paths": ["/graphql"]}))
    gql = RawGraphQL(fresh_emulator.start())
    assert gql.post("{ user { id } }").status_code == 503
    assert gql.post("{ user { id } }").status_code == 200
    assert fresh_emulator.fault_stats()["injected"] == 1


def _cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airflow_mmc_provider.emulator", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_cli_refuses_to_start_without_an_api_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "LABELBOX_EMULATOR_API_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "airflow_mmc_provider.emulator", "serve", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )
    assert result.returncode == 2 and "LABELBOX_EMULATOR_API_KEY" in result.stderr


def test_cli_rejects_bad_fault_settings(tmp_path):
    result = _cli("serve", "--data-dir", str(tmp_path), "--api-key", "k", "--faults", '{"rate_limit": 2}')
    assert result.returncode == 2 and "rates" in result.stderr


def test_cli_logs_one_line_without_the_key_and_exits_0_on_sigint(tmp_path):
    key = "secret-key-that-must-not-be-logged"
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_mmc_provider.emulator", "serve", "--port", "0", "--data-dir", str(tmp_path), "--api-key", key],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "Labelbox emulator listening on http://127.0.0.1:" in line and f"(data dir {tmp_path})" in line
    url = line.split("listening on ", 1)[1].split(" ", 1)[0]
    response = requests.post(
        url, json={"query": "{ user { id } }"}, headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert response.status_code == 200
    process.send_signal(signal.SIGINT)
    rest = process.stdout.read()
    assert process.wait(timeout=15) == 0
    assert rest == "" and key not in line
