"""A running leaderboard over every exported interval: runs whenever `mmc_scheduled_export` lands.

Scheduled on the export asset, it combines all export files of the project (every round and every
day) into one leaderboard with bootstrap intervals, and writes JSON, CSV and an HTML report.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pendulum
from airflow.sdk import Asset, Param, dag

from airflow_mmc_provider.operators.leaderboard import MmcLeaderboardOperator

# The asset mmc_scheduled_export produces (assets are matched by name and URI across DAG files).
DAILY_EXPORTS = Asset(uri="mmc://exports/daily", name="mmc_daily_export")
OUTPUT_DIR = str(Path(tempfile.gettempdir()) / "mmc-exports")
RUNNING_LEADERBOARD = Asset(uri="mmc://leaderboards/running", name="mmc_running_leaderboard")


@dag(
    dag_id="mmc_leaderboard",
    schedule=[DAILY_EXPORTS],
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    tags=["labelbox", "mmc", "example"],
    default_args={"retries": 1, "retry_delay": pendulum.duration(minutes=1)},
    params={
        "project_name": Param("mmc-sample-round", type="string"),
        "output_dir": Param(OUTPUT_DIR, type="string", description="where mmc_scheduled_export writes"),
    },
)
def mmc_leaderboard() -> None:
    MmcLeaderboardOperator(
        task_id="running_leaderboard",
        export_paths="{{ params.output_dir }}/{{ params.project_name }}",
        output_dir="{{ params.output_dir }}/{{ params.project_name }}/leaderboard",
        metadata={"project": "{{ params.project_name }}", "scope": "all exported intervals"},
        outlets=[RUNNING_LEADERBOARD],
    )


mmc_leaderboard()
