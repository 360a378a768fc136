"""`make demo`: run the example DAG against the local Labelbox emulator and show what it made.

Starts the emulator (state under .demo/emulator), points the `labelbox_default` connection at it,
runs `airflow dags test`, prints the dataset and data rows it created, and stops the emulator.
Run it twice: the second run updates the same rows instead of creating new ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / ".demo"
DAG_ID = "mmc_upload_data_rows"
DATASET = "mmc-demo-conversations"
SAMPLE = ROOT / "example_dags" / "data" / "data_rows.jsonl"
API_KEY = "emulator-demo-key-0123456789"


def airflow_env(graphql_url: str) -> dict[str, str]:
    home = DEMO / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    connection = {"conn_type": "labelbox", "host": graphql_url, "password": API_KEY}
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW_CONN_LABELBOX_DEFAULT": json.dumps(connection),
    }


def airflow(*args: str, env: dict[str, str]) -> str:
    command = [str(Path(sys.executable).with_name("airflow")), *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stdout.write(result.stdout[-4000:])
        sys.stderr.write(result.stderr[-4000:])
        raise SystemExit(f"`airflow {' '.join(args)}` failed with exit code {result.returncode}")
    return result.stdout + result.stderr


def show(graphql_url: str) -> None:
    from airflow_mmc_provider.client import LabelboxClient

    keys = [json.loads(line)["global_key"] for line in SAMPLE.read_text().splitlines() if line.strip()]
    with LabelboxClient(API_KEY, graphql_url) as client:
        (dataset,) = client.datasets.find_by_name(DATASET)
        ids = client.data_rows.data_row_ids_for_global_keys(keys)
    print(f"\nDataset {dataset.name!r}  id {dataset.id}  rows {dataset.row_count}")
    for key, row_id in zip(keys, ids, strict=True):
        print(f"  data row {row_id or '(missing)'}  global key {key}")


def main() -> None:
    from airflow_mmc_provider.emulator.testing import run_emulator

    DEMO.mkdir(exist_ok=True)
    with run_emulator(DEMO / "emulator", API_KEY) as emulator:
        print(f"Labelbox emulator running at {emulator.graphql_url}")
        env = airflow_env(emulator.graphql_url)
        airflow("db", "migrate", env=env)
        print(f"Running `airflow dags test {DAG_ID}` ...")
        airflow("dags", "test", DAG_ID, env=env)
        show(emulator.graphql_url)
    print(
        "Emulator stopped. Point the labelbox_default connection at https://api.labelbox.com/graphql to go live."
    )


if __name__ == "__main__":
    main()
