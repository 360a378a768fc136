"""Daily incremental export of a Labelbox project: the rows with activity in each data interval.

Each run exports the rows whose last activity falls in its data interval (`last_activity_at`),
streams them to one file per interval and records an asset event, on which `mmc_leaderboard` runs.
Catch-up and backfills work interval by interval; a re-run of an interval rewrites its own file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pendulum
from airflow.sdk import Asset, Param, dag
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_mmc_provider.operators.exports import LabelboxExportOperator

DAILY_EXPORTS = Asset(uri="mmc://exports/daily", name="mmc_daily_export")
OUTPUT_DIR = str(Path(tempfile.gettempdir()) / "mmc-exports")


@dag(
    dag_id="mmc_scheduled_export",
    # Interval-based on purpose: each run covers [data_interval_start, data_interval_end), the day
    # before it runs (a plain cron string in Airflow 3 gives runs without a data interval).
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    tags=["labelbox", "mmc", "example"],
    default_args={"retries": 3, "retry_delay": pendulum.duration(minutes=2)},
    params={
        "project_name": Param("mmc-sample-round", type="string"),
        "output_dir": Param(OUTPUT_DIR, type="string", description="any object storage URL or local path"),
    },
)
def mmc_scheduled_export() -> None:
    LabelboxExportOperator(
        task_id="export_interval",
        project_name="{{ params.project_name }}",
        filter_by_data_interval=True,
        allow_empty=True,  # a day without activity is normal: an empty file, and the event says so
        destination="{{ params.output_dir }}/{{ params.project_name }}/{{ data_interval_start | ds_nodash }}.ndjson",
        deferrable=True,
        poll_interval=2,
        outlets=[DAILY_EXPORTS],
    )


mmc_scheduled_export()
