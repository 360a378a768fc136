"""Export operators and sensor against an emulator serving small chunks, with faults on the chunk URLs."""

from __future__ import annotations

import asyncio
import json

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, TaskDeferred

from airflow_mmc_provider.client import LabelboxClient
from airflow_mmc_provider.client.batches import BatchRows
from airflow_mmc_provider.client.exports import Exports
from airflow_mmc_provider.emulator.testing import run_emulator
from airflow_mmc_provider.operators.exports import LabelboxExportOperator, LabelboxStartExportOperator
from airflow_mmc_provider.sensors.exports import LabelboxExportSensor
from tests.client.rows import chat_row

KEY = "export-test-key-0123456789"


def row(key: str) -> dict:
    return chat_row(key, key * 3)


@pytest.fixture(scope="module")
def small_chunks(tmp_path_factory):
    """An emulator cutting exports into 700-byte chunks, with a project of 60 rows in a batch."""
    with run_emulator(
        tmp_path_factory.mktemp("lb-exports"), KEY, extra_args=("--export-chunk-bytes", "700")
    ) as emu:
        client = LabelboxClient(KEY, emu.graphql_url)
        dataset, _ = client.datasets.get_or_create("export-rows")
        report = client.upsert_data_rows(
            dataset.id, [row(f"export-{i}") for i in range(60)], poll_interval=0.1
        )
        project, _ = client.projects.get_or_create_model_chat_evaluation("export-project")
        client.batches.get_or_create(
            project.id, "b1", BatchRows(global_keys=[r.global_key for r in report.succeeded])
        )
        yield emu, client, project.id


@pytest.fixture
def conn(monkeypatch, small_chunks) -> str:
    emu = small_chunks[0]
    monkeypatch.setenv(
        "AIRFLOW_CONN_LB_EXPORTS",
        json.dumps({"conn_type": "labelbox", "host": emu.graphql_url, "password": KEY}),
    )
    return "lb_exports"


class FakeTI:
    def __init__(self) -> None:
        self.pushed: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.pushed[key] = value


def clean_copy(client: LabelboxClient, project_id: str) -> bytes:
    import io

    export_id = client.exports.start(project_id, params={"data_row_details": True})
    client.tasks.wait(export_id, poll_interval=0.1)
    out = io.BytesIO()
    client.exports.copy_to(export_id, out)
    return out.getvalue()


@pytest.mark.parametrize("deferrable", [False, True])
def test_export_resumes_through_dropped_and_truncated_chunks_byte_identically(
    small_chunks, conn, tmp_path, deferrable
):
    emu, client, project_id = small_chunks
    expected = clean_copy(client, project_id)
    assert expected.count(b"\n") == 60 and len(expected) > 700 * 5  # several chunks
    emu.set_faults(
        {"sequence": ["truncate:0.5", "drop", "none", "truncate:0.2", "drop"], "paths": ["/export-chunks/"]}
    )
    destination = tmp_path / "out" / "export.ndjson"
    op = LabelboxExportOperator(
        task_id="export",
        project_id=project_id,
        export_params={"data_row_details": True},
        destination=str(destination),
        deferrable=deferrable,
        poll_interval=0.1,
        labelbox_conn_id=conn,
    )
    ti = FakeTI()
    try:
        summary = op.execute({"ti": ti})
    except TaskDeferred as deferred:
        events = asyncio.run(_collect(deferred.trigger))
        summary = op.execute_complete({"ti": ti}, events[0].payload)
    emu.clear_faults()
    assert emu.fault_stats()["injected"] >= 4
    assert destination.read_bytes() == expected
    assert summary["rows"] == 60 and summary["bytes"] == len(expected)
    assert ti.pushed["path"] == destination.as_uri() and ti.pushed["export_task_id"]
    assert [p.name for p in destination.parent.iterdir()] == ["export.ndjson"]  # no partial file left


def test_a_download_that_keeps_failing_leaves_no_file(small_chunks, conn, tmp_path):
    emu, _, project_id = small_chunks
    emu.set_faults({"rate_limit": 0, "drop": 1.0, "seed": 1, "paths": ["/export-chunks/"]})
    destination = tmp_path / "export.ndjson"
    op = LabelboxExportOperator(
        task_id="export",
        project_id=project_id,
        destination=str(destination),
        poll_interval=0.1,
        labelbox_conn_id=conn,
    )
    op_client = op.client  # built once per operator: the task uses this very client
    op_client.exports = Exports(op_client.transport, chunk_attempts=2, sleep=lambda s: None)
    op_client.transport.retry = type(op_client.transport.retry)(max_attempts=1)
    with pytest.raises(Exception, match="could not download export"):
        op.execute({"ti": FakeTI()})
    emu.clear_faults()
    assert list(tmp_path.iterdir()) == []


def test_start_export_then_deferrable_sensor(small_chunks, conn):
    _, _, project_id = small_chunks
    ti = FakeTI()
    export_id = LabelboxStartExportOperator(
        task_id="start", project_id=project_id, filters={"workflow_status": "ToLabel"}, labelbox_conn_id=conn
    ).execute({"ti": ti})
    sensor = LabelboxExportSensor(
        task_id="wait",
        export_task_id=export_id,
        deferrable=True,
        poke_interval=0.1,
        timeout=30,
        labelbox_conn_id=conn,
    )
    try:
        sizes = sensor.execute({})
    except TaskDeferred as deferred:
        events = asyncio.run(_collect(deferred.trigger))
        sizes = sensor.execute_complete({}, events[0].payload)
    assert sizes["result"]["lines"] == 60 and sizes["errors"] is None


def test_bad_filters_fail_before_any_request(conn):
    op = LabelboxStartExportOperator(
        task_id="start",
        project_id="p",
        filters={"global_keys": ["a"], "data_row_ids": ["b"]},
        labelbox_conn_id=conn,
    )
    with pytest.raises(AirflowFailException, match="mutually exclusive"):
        op.execute({"ti": FakeTI()})


async def _collect(trigger):
    return [event async for event in trigger.run()]
