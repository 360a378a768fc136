"""LabelboxCreateDatasetOperator and LabelboxUploadDataRowsOperator, end to end on the emulator."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, TaskDeferred

from airflow_mmc_provider.client import LabelboxClient
from airflow_mmc_provider.operators.data_rows import LabelboxUploadDataRowsOperator
from airflow_mmc_provider.operators.datasets import LabelboxCreateDatasetOperator
from airflow_mmc_provider.triggers.tasks import LabelboxTaskTrigger
from tests.client.rows import chat_row


def row(key: str, text: str = "Hello") -> dict:
    return chat_row(key, text)


def upload_op(
    conn_id: str, dataset_id: str, task_id: str = "up", **arguments: Any
) -> LabelboxUploadDataRowsOperator:
    return LabelboxUploadDataRowsOperator(
        task_id=task_id, dataset_id=dataset_id, labelbox_conn_id=conn_id, **arguments
    )


def make_dataset(conn_id: str, name: str) -> str:
    return LabelboxCreateDatasetOperator(task_id="ds", dataset_name=name, labelbox_conn_id=conn_id).execute(
        {}
    )


def test_create_dataset_is_get_or_create(labelbox_conn, unique_name, lb_emulator):
    first = make_dataset(labelbox_conn, unique_name)
    again = make_dataset(labelbox_conn, unique_name)
    assert first == again
    with LabelboxClient(lb_emulator.api_key, lb_emulator.graphql_url) as client:
        assert [d.id for d in client.datasets.find_by_name(unique_name)] == [first]


def test_upload_from_jsonl_then_rerun_updates_without_duplicates(
    labelbox_conn, unique_name, tmp_path, lb_emulator
):
    dataset_id = make_dataset(labelbox_conn, unique_name)
    source = tmp_path / "rows.jsonl"
    source.write_text("\n".join(json.dumps(row(f"{unique_name}-{i}")) for i in range(7)) + "\n")
    op = upload_op(labelbox_conn, dataset_id, source=str(source), poll_interval=0.2)
    first = op.execute({})
    assert (first["created"], first["updated"], first["failed"]) == (7, 0, 0)
    second = op.execute({})
    assert (second["created"], second["updated"], second["failed"]) == (0, 7, 0)
    assert sorted(first["data_row_ids"]) == sorted(second["data_row_ids"])
    with LabelboxClient(lb_emulator.api_key, lb_emulator.graphql_url) as client:
        assert client.datasets.get(dataset_id).row_count == 7


def test_invalid_rows_fail_before_upload_without_retry(labelbox_conn, unique_name, lb_emulator):
    dataset_id = make_dataset(labelbox_conn, unique_name)
    rows = [row(f"{unique_name}-ok"), {"row_data": {"x": 1}}, row(f"{unique_name}-ok")]
    op = upload_op(labelbox_conn, dataset_id, rows=rows)
    with pytest.raises(AirflowFailException, match=r"row 1: field 'global_key' is missing") as caught:
        op.execute({})
    assert "row 2" in str(caught.value)
    with LabelboxClient(lb_emulator.api_key, lb_emulator.graphql_url) as client:
        assert client.data_rows.data_row_ids_for_global_keys([f"{unique_name}-ok"]) == [""]


def test_malformed_jsonl_names_the_line(labelbox_conn, unique_name, tmp_path):
    dataset_id = make_dataset(labelbox_conn, unique_name)
    source = tmp_path / "rows.jsonl"
    source.write_text(json.dumps(row("a")) + "\n{not json\n")
    op = upload_op(labelbox_conn, dataset_id, source=str(source))
    # named, and not retried: the line is as malformed a minute later
    with pytest.raises(AirflowFailException, match=r"rows.jsonl line 2: not valid JSON"):
        op.execute({})


def test_rows_rejected_by_labelbox_fail_the_task_listing_each(labelbox_conn, unique_name):
    # Rows are valid locally, but the service rejects them: the dataset does not exist.
    op = upload_op(labelbox_conn, "no-such-dataset", rows=[row(f"{unique_name}-1")])
    with pytest.raises(AirflowException, match=r"1 data row\(s\) failed \(tolerated: 0\)") as caught:
        op.execute({})
    assert f"{unique_name}-1" in str(caught.value)
    tolerant = upload_op(
        labelbox_conn, "no-such-dataset", task_id="up2", rows=[row(f"{unique_name}-2")], max_failed_rows=1
    )
    assert tolerant.execute({})["failed"] == 1


def test_a_failure_over_many_rows_lists_fifty_and_says_how_many_more(labelbox_conn, unique_name):
    op = upload_op(labelbox_conn, "no-such-dataset", rows=[row(f"{unique_name}-{i}") for i in range(53)])
    with pytest.raises(AirflowException, match=r"^53 data row\(s\) failed \(tolerated: 0\)") as caught:
        op.execute({})
    lines = str(caught.value).splitlines()
    assert sum(line.startswith("  - ") for line in lines) == 50
    assert lines[-1] == "  ... and 3 more (see the log)"


def test_deferrable_upload_resumes_from_the_trigger_event(labelbox_conn, unique_name):
    dataset_id = make_dataset(labelbox_conn, unique_name)
    rows = [row(f"{unique_name}-{i}") for i in range(3)]
    op = upload_op(labelbox_conn, dataset_id, rows=rows, deferrable=True, poll_interval=0.1)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, LabelboxTaskTrigger)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_mmc_provider.triggers.tasks.LabelboxTaskTrigger"
    json.dumps(kwargs)  # plain JSON, as the triggerer requires
    rebuilt = LabelboxTaskTrigger(**kwargs)
    events = asyncio.run(_collect(rebuilt))
    assert len(events) == 1 and events[0].payload["status"] == "success"
    summary = op.execute_complete({}, events[0].payload)
    assert summary["created"] == 3 and summary["failed"] == 0


def test_deferred_timeout_becomes_a_clear_failure(labelbox_conn):
    op = upload_op(labelbox_conn, "d", rows=[row("k")])
    event = {
        "status": "timeout",
        "labelbox_task_id": "t1",
        "message": "task still IN_PROGRESS at the deadline",
    }
    with pytest.raises(AirflowException, match="t1 ended in timeout: task still IN_PROGRESS"):
        op.execute_complete({}, event)


async def _collect(trigger: LabelboxTaskTrigger) -> list:
    return [event async for event in trigger.run()]


def test_sample_rows_shipped_with_the_examples_are_valid():
    from airflow_mmc_provider.client.data_rows import spool_rows

    sample = Path(__file__).resolve().parents[2] / "example_dags" / "data" / "data_rows.jsonl"
    rows = [json.loads(line) for line in sample.read_text().splitlines()]
    with open("/dev/null", "wb") as sink:
        assert len(spool_rows(rows, sink)) == len(rows) >= 5
