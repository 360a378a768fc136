"""Upload multimodal chat conversations as Labelbox data rows.

The first slice of an evaluation round: ensure the dataset exists, upsert the conversations keyed by
global key (a re-run updates them instead of duplicating), and report what landed. Run it against
the local emulator with `make demo`, or against Labelbox by pointing the `labelbox_default`
connection at https://api.labelbox.com/graphql with your API key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import Param, dag, task

from airflow_mmc_provider.operators.data_rows import LabelboxUploadDataRowsOperator
from airflow_mmc_provider.operators.datasets import LabelboxCreateDatasetOperator

SAMPLE = Path(__file__).parent / "data" / "data_rows.jsonl"


@dag(
    dag_id="mmc_upload_data_rows",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["labelbox", "mmc", "example"],
    params={
        "dataset_name": Param("mmc-demo-conversations", type="string", description="Labelbox dataset"),
        "source": Param(str(SAMPLE), type="string", description="JSONL of data rows (any object storage)"),
    },
    default_args={"retries": 2, "retry_delay": pendulum.duration(seconds=30)},
)
def mmc_upload_data_rows() -> None:
    dataset = LabelboxCreateDatasetOperator(
        task_id="ensure_dataset",
        dataset_name="{{ params.dataset_name }}",
        description="Conversations for multimodal chat evaluation",
    )
    upload = LabelboxUploadDataRowsOperator(
        task_id="upsert_data_rows",
        dataset_id=dataset.output,
        source="{{ params.source }}",
    )

    @task
    def report(summary: dict[str, Any]) -> None:
        print(
            f"Dataset {summary['dataset_id']}: {summary['created']} created, "
            f"{summary['updated']} updated, {summary['failed']} failed"
        )
        for key, row_id in zip(summary["global_keys"], summary["data_row_ids"], strict=True):
            print(f"  data row {row_id}  global key {key}")

    report(upload.output)


mmc_upload_data_rows()
