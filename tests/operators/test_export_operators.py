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


def no_export_may_start(op) -> None:
    """The checks run before any export: starting one is a test failure."""

    def refuse(*args, **kwargs):
        pytest.fail("an export was started")

    op.client.exports.start = refuse


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"batch_ids": [None]}, r"batch_ids\[0\] is None"),
        ({"batch_ids": [""]}, r"batch_ids\[0\] is the empty string"),
        ({"batch_ids": [1, 2]}, r"batch_ids\[0\] is the int 1; .*quote it"),
        ({"global_keys": [float("nan")]}, r"global_keys\[0\] is the float nan"),
        (
            {"last_activity_at": ["2026-11-02", "2026-11-01"]},
            "starts at 2026-11-02 after it ends at 2026-11-01",
        ),
        ({"batch_ids": ["no-such-batch"]}, "'no-such-batch', which is not a batch of project"),
    ],
)
def test_filters_that_would_select_nothing_fail_before_the_export_starts(
    small_chunks, conn, filters, message
):
    _, _, project_id = small_chunks
    op = LabelboxStartExportOperator(
        task_id="start", project_id=project_id, filters=filters, labelbox_conn_id=conn
    )
    no_export_may_start(op)
    with pytest.raises(AirflowFailException, match=message):  # not retried: a retry cannot fix it
        op.execute({"ti": FakeTI()})


def test_a_batch_of_another_project_is_refused_in_one_look_up(small_chunks, conn):
    _, client, project_id = small_chunks
    other, _ = client.projects.get_or_create_model_chat_evaluation("export-other-project")
    batch = client.batches.get_or_create(other.id, "elsewhere", BatchRows(global_keys=["export-0"])).batch
    op = LabelboxExportOperator(
        task_id="export",
        project_id=project_id,
        filters={"batch_ids": [batch.id]},
        destination="unused.ndjson",
        labelbox_conn_id=conn,
    )
    no_export_may_start(op)
    sent: list[str] = []
    execute = op.client.transport.execute

    def recorded(query, *args, **kwargs):
        sent.append(query.split("(")[0])
        return execute(query, *args, **kwargs)

    op.client.transport.execute = recorded
    with pytest.raises(
        AirflowFailException, match=f"{batch.id!r}, which is not a batch of project {project_id!r}"
    ):
        op.execute({"ti": FakeTI()})
    assert sent == ["query getProjectBatchPyApi"]


def test_a_string_for_filters_fails_at_parse_time_naming_the_shape():
    with pytest.raises(ValueError, match=r"export filters must be a mapping .*got the str 'batch_ids=1'"):
        LabelboxStartExportOperator(task_id="start", project_id="p", filters="batch_ids=1")


def test_an_export_of_no_rows_fails_naming_its_filter_and_writes_nothing(small_chunks, conn, tmp_path):
    _, _, project_id = small_chunks
    op = LabelboxExportOperator(
        task_id="export",
        project_id=project_id,
        filters={"last_activity_at": ["2000-01-01", "2000-01-02"]},
        destination=str(tmp_path / "export.ndjson"),
        poll_interval=0.1,
        labelbox_conn_id=conn,
    )
    with pytest.raises(
        AirflowFailException,
        match=r'has no rows: the filter last_activity_at=\["2000-01-01", "2000-01-02"\] selected nothing.*allow_empty=True',
    ):
        op.execute({"ti": FakeTI()})
    assert list(tmp_path.iterdir()) == []  # no empty asset is published


def test_allow_empty_succeeds_and_the_summary_and_asset_event_say_empty(small_chunks, conn, tmp_path):
    from types import SimpleNamespace

    from airflow.sdk import Asset

    _, _, project_id = small_chunks
    daily = Asset(uri="mmc://exports/test-empty", name="test_empty_export")
    events = {daily: SimpleNamespace(extra={})}
    destination = tmp_path / "export.ndjson"
    op = LabelboxExportOperator(
        task_id="export",
        project_id=project_id,
        filters={"last_activity_at": ["2000-01-01", "2000-01-02"]},
        destination=str(destination),
        allow_empty=True,
        poll_interval=0.1,
        labelbox_conn_id=conn,
        outlets=[daily],
    )
    summary = op.execute({"ti": FakeTI(), "outlet_events": events})
    assert summary["empty"] is True and summary["rows"] == 0 and destination.read_bytes() == b""
    assert events[daily].extra["empty"] is True and events[daily].extra["rows"] == 0


def test_the_sensor_fails_on_an_empty_export_unless_allowed(small_chunks, conn):
    _, client, project_id = small_chunks
    export_id = client.exports.start(project_id, filters={"last_activity_at": ["2000-01-01", "2000-01-02"]})
    client.tasks.wait(export_id, poll_interval=0.1)
    sensor = LabelboxExportSensor(task_id="wait", export_task_id=export_id, labelbox_conn_id=conn)
    with pytest.raises(AirflowFailException, match=f"export {export_id} has no rows.*allow_empty=True"):
        sensor.poke({})
    allowed = LabelboxExportSensor(
        task_id="wait", export_task_id=export_id, allow_empty=True, labelbox_conn_id=conn
    )
    assert allowed.poke({}).xcom_value["empty"] is True


async def _collect(trigger):
    return [event async for event in trigger.run()]
