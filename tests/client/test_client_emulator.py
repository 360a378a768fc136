"""The client against the real emulator process: datasets, upserts, results, and faults."""

from __future__ import annotations

import pytest

from airflow_mmc_provider.client import LabelboxClient, NotFoundError, RetryPolicy
from airflow_mmc_provider.client.errors import AuthenticationError, NetworkError
from tests.client.rows import chat_row

FAST_RETRY = RetryPolicy(max_attempts=10, initial_wait=0.05, max_wait=0.2, deadline=30)


def row(key: str, text: str = "Hello") -> dict:
    return chat_row(key, text, external_id=f"ext-{key}")


@pytest.fixture
def client(lb_emulator):
    with LabelboxClient(
        lb_emulator.api_key, lb_emulator.graphql_url, retry=FAST_RETRY, chunk_bytes=40_000
    ) as c:
        yield c


def test_dataset_get_or_create_and_lookups(client, unique_name):
    dataset, created = client.datasets.get_or_create(unique_name, "evaluation round")
    assert created and dataset.name == unique_name and dataset.description == "evaluation round"
    again, created_again = client.datasets.get_or_create(unique_name)
    assert again.id == dataset.id and not created_again
    assert client.datasets.get(dataset.id).name == unique_name
    with pytest.raises(NotFoundError, match="does not exist"):
        client.datasets.get("cnosuchdataset0000000000000")


def test_upsert_many_rows_in_many_chunks_then_update_them(client, unique_name):
    dataset, _ = client.datasets.get_or_create(unique_name)
    rows = [row(f"{unique_name}-{i:05d}") for i in range(5200)]
    report = client.upsert_data_rows(dataset.id, rows, poll_interval=0.2)
    assert (report.created, report.updated, len(report.failed)) == (5200, 0, 0)
    assert len({r.id for r in report.succeeded}) == 5200  # more than one result page of 5000
    upsert = client.data_rows.upsert(dataset.id, [row(f"{unique_name}-00000", "changed")])
    assert upsert.existing_global_keys == (f"{unique_name}-00000",)
    task = client.tasks.wait(upsert.task_id, poll_interval=0.2)
    again = client.data_rows.report(upsert, task.status)
    assert (again.created, again.updated) == (0, 1)
    assert again.succeeded[0].id == next(
        r.id for r in report.succeeded if r.global_key == f"{unique_name}-00000"
    )
    assert client.datasets.get(dataset.id).row_count == 5200


def test_rows_the_service_rejects_come_back_with_their_reason(client, unique_name):
    report = client.upsert_data_rows(
        "cnosuchdataset0000000000000", [row(f"{unique_name}-x")], poll_interval=0.2
    )
    assert report.succeeded == []
    assert report.failed[0].global_key == f"{unique_name}-x" and report.failed[0].message


def test_retries_through_429_and_503_without_duplicating_rows(client, lb_emulator, unique_name):
    dataset, _ = client.datasets.get_or_create(unique_name)
    lb_emulator.set_faults({"sequence": ["429", "503", "drop", "429", "502", "503", "drop", "429"]})
    report = client.upsert_data_rows(
        dataset.id, [row(f"{unique_name}-{i}") for i in range(300)], poll_interval=0.1
    )
    assert lb_emulator.fault_stats()["injected"] >= 8
    assert (report.created, len(report.failed)) == (300, 0)
    lb_emulator.set_faults(
        {"rate_limit": 0.3, "server_error": 0.2, "server_error_status": 503, "retry_after": 0, "seed": 3}
    )
    rerun = client.upsert_data_rows(
        dataset.id, [row(f"{unique_name}-{i}") for i in range(300)], poll_interval=0.1
    )
    lb_emulator.clear_faults()
    assert (rerun.created, rerun.updated, len(rerun.failed)) == (0, 300, 0)
    assert client.datasets.get(dataset.id).row_count == 300


def test_a_create_whose_answer_was_lost_is_not_repeated(client, lb_emulator, unique_name):
    # The first request (the name look-up) passes; the create is performed, then its answer is dropped.
    lb_emulator.set_faults({"sequence": ["none", "drop_after"]})
    dataset, created = client.datasets.get_or_create(unique_name)
    lb_emulator.clear_faults()
    assert created
    assert [d.id for d in client.datasets.find_by_name(unique_name)] == [dataset.id]


def test_bad_api_key_is_one_clear_error(lb_emulator):
    bad = LabelboxClient("wrong-key-000000000", lb_emulator.graphql_url)
    with pytest.raises(AuthenticationError, match="password field of the Labelbox connection"):
        bad.current_user()


def test_unreachable_server_is_one_clear_error():
    policy = RetryPolicy(max_attempts=2, initial_wait=0.01)
    down = LabelboxClient("k" * 20, "http://127.0.0.1:9/graphql", retry=policy)
    with pytest.raises(NetworkError, match=r"connection to http://127.0.0.1:9 failed \(connection refused"):
        down.current_user()
