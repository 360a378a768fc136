"""The client's check of existing rows before an upsert, against the emulator: what it asks, how often."""

from __future__ import annotations

from collections import Counter

import pytest

from airflow_mmc_provider.client import LabelboxClient
from airflow_mmc_provider.client.batches import BatchRows
from airflow_mmc_provider.client.errors import BatchMismatchError, TaskFailedError
from airflow_mmc_provider.client.exports import Exports
from airflow_mmc_provider.client.models import Task
from airflow_mmc_provider.client.row_changes import RowChangeError, RowChanges, UpsertGuard
from airflow_mmc_provider.client.transport import operation_name
from tests.client.rows import chat_row

ROWS = 1000


@pytest.fixture
def client(lb_emulator):
    with LabelboxClient(lb_emulator.api_key, lb_emulator.graphql_url) as c:
        yield c


def calls(client: LabelboxClient, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts the client's GraphQL operations by name, and its file uploads as `uploadFile`."""
    seen: Counter[str] = Counter()
    execute, upload = client.transport.execute, client.transport.upload

    def counted_execute(query, *args, **kwargs):
        seen[operation_name(query) or "?"] += 1
        return execute(query, *args, **kwargs)

    def counted_upload(*args, **kwargs):
        seen["uploadFile"] += 1
        return upload(*args, **kwargs)

    monkeypatch.setattr(client.transport, "execute", counted_execute)
    monkeypatch.setattr(client.transport, "upload", counted_upload)
    return seen


@pytest.fixture
def batched_round(client, unique_name):
    """1,000 rows in a batch 'round-1' of a project."""
    dataset, _ = client.datasets.get_or_create(unique_name)
    rows = [chat_row(f"{unique_name}/round-1/{i:04d}") for i in range(ROWS)]
    report = client.upsert_data_rows(dataset.id, rows, poll_interval=0.1)
    project = client.projects.create_model_chat_evaluation(f"{unique_name}-p")
    keys = [row["global_key"] for row in rows]
    client.batches.get_or_create(project.id, "round-1", BatchRows(global_keys=keys))
    return dataset.id, project.id, rows, report


def test_unchanged_rows_are_checked_in_batched_requests_and_nothing_is_uploaded(
    client, batched_round, monkeypatch
):
    dataset_id, project_id, rows, first = batched_round
    seen = calls(client, monkeypatch)
    guard = UpsertGuard(project_id, "round-1", round_key="round-1")
    upsert = client.data_rows.upsert(dataset_id, rows, client.row_changes(guard))
    assert (upsert.task_id, upsert.row_count, len(upsert.unchanged_global_keys)) == ("", 0, ROWS)
    assert dict(zip(upsert.unchanged_global_keys, upsert.unchanged_data_row_ids, strict=True)) == {
        r.global_key: r.id for r in first.succeeded
    }
    # per 1,000 existing rows: 10 row look-ups and one export, no upload and no upsert task
    assert seen["GetDataRowsWithLabels"] == ROWS // 100
    assert seen["exportDataRowsInProjectPyApi"] == 1
    assert seen["uploadFile"] == 0 and seen["UpsertDataRowsPyApi"] == 0


def test_only_the_changed_rows_go_up_and_the_report_still_names_every_row(client, batched_round):
    dataset_id, _, rows, first = batched_round
    changed = [chat_row(rows[0]["global_key"], "edited"), *rows[1:]]
    upsert = client.data_rows.upsert(dataset_id, changed, client.row_changes(UpsertGuard(allow_relabel=True)))
    assert (upsert.row_count, len(upsert.unchanged_global_keys)) == (1, ROWS - 1)
    task = client.tasks.wait(upsert.task_id, poll_interval=0.1)
    report = client.data_rows.report(upsert, task.status)
    assert (report.updated, report.created, len(report.unchanged)) == (1, 0, ROWS - 1)
    summary = report.summary()
    assert sorted(summary["data_row_ids"]) == sorted(r.id for r in first.succeeded)
    assert (
        client.data_rows.row_data(first.succeeded[0].id)["messages"]["m"]["content"][0]["content"] == "edited"
    )


def test_a_changed_row_in_a_batch_is_refused_without_an_upload(client, batched_round, monkeypatch):
    dataset_id, _, rows, first = batched_round
    project_guard = UpsertGuard(batched_round[1], "round-1", round_key="round-1")
    seen = calls(client, monkeypatch)
    with pytest.raises(RowChangeError, match="queued for raters in batch 'round-1'") as refused:
        client.data_rows.upsert(
            dataset_id, [chat_row(rows[7]["global_key"], "edited")], client.row_changes(project_guard)
        )
    assert refused.value.global_keys == [rows[7]["global_key"]]
    assert seen["uploadFile"] == 0
    assert (
        client.data_rows.row_data(first.succeeded[7].id)["messages"]["m"]["content"][0]["content"] == "Hello"
    )


class FailingExports(Exports):
    """An export that Labelbox fails: the guard must stop rather than guess which batches hold rows."""

    def __init__(self) -> None:  # no transport: only `start` talks to Labelbox, and it is faked
        pass

    def start(self, project_id, **kwargs):
        return "export-task"


class FailedTasks:
    def wait(self, task_id, **kwargs):
        return Task(id=task_id, status="FAILED")


def test_a_failed_batch_export_stops_the_upload_instead_of_guessing():
    changes = RowChanges(None, FailingExports(), FailedTasks(), UpsertGuard("proj", "round-2"))  # type: ignore[arg-type]
    with pytest.raises(TaskFailedError, match="ended FAILED"):
        changes.unchanged({"round-2/a": "row-a"}, iter([("round-2/a", {"doc": 1})]))


def test_a_batch_found_by_name_must_hold_the_rows_asked_for(client, batched_round, unique_name):
    # The round DAG's retry finds its batch by name and goes on; the same name asked for other rows
    # (a reused batch name, or rows re-keyed since, e.g. by a round key) must not be taken for it.
    dataset_id, project_id, rows, _ = batched_round
    keys = [row["global_key"] for row in rows]
    again = client.batches.get_or_create(project_id, "round-1", BatchRows(global_keys=keys))
    assert not again.created and again.batch.size == ROWS
    others = [chat_row(f"{unique_name}/rekeyed/{i:04d}") for i in range(3)]
    client.upsert_data_rows(dataset_id, others, poll_interval=0.1)
    asked = keys[:10] + [row["global_key"] for row in others]
    with pytest.raises(BatchMismatchError) as caught:
        client.batches.get_or_create(project_id, "round-1", BatchRows(global_keys=asked))
    message = str(caught.value)
    assert (
        f"batch 'round-1' ({again.batch.id}) already exists in project {project_id} with 1000 data rows"
        in message
    )
    assert f"but 3 of the 13 rows asked for are not in it ('{unique_name}/rekeyed/0000'" in message
    assert "give this round its own batch name" in message
    assert client.batches.get(project_id, again.batch.id).size == ROWS  # nothing added
