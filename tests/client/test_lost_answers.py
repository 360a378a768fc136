"""Every create path under each way an answer can be lost after the server acted.

The emulator performs the create and then cuts the answer off mid-body (`truncate`), drops the
connection without a byte of it (`drop_after`), or holds it past the client's read timeout
(`delay_after`). Each time exactly one object must exist afterwards, and the call must return it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from airflow_mmc_provider.client import CannotTellError, LabelboxClient, RetryPolicy
from airflow_mmc_provider.client.batches import MAX_SYNC_BATCH_ROWS, BatchRows
from airflow_mmc_provider.client.models import Dataset
from airflow_mmc_provider.emulator.testing import EmulatorProcess
from tests.client.rows import chat_row

READ_TIMEOUT = 1.0
LOST_ANSWERS = ["truncate:0.5", "drop_after", f"delay_after:{READ_TIMEOUT + 1}"]
FAST_RETRY = RetryPolicy(max_attempts=6, initial_wait=0.05, max_wait=0.2, deadline=60)
SPEC = Path(__file__).resolve().parents[2] / "example_dags" / "data" / "ontology.yaml"


@pytest.fixture
def client(lb_emulator: EmulatorProcess) -> Iterator[LabelboxClient]:
    with LabelboxClient(
        lb_emulator.api_key, lb_emulator.graphql_url, read_timeout=READ_TIMEOUT, retry=FAST_RETRY
    ) as c:
        yield c


def lose_answer_of(emulator: EmulatorProcess, operation: str, fault: str) -> Callable[[], None]:
    """Aim one fault at the first request naming `operation`; the returned check says it was used."""
    emulator.set_faults({"sequence": [fault], "operations": [operation]})

    def used() -> None:
        assert emulator.fault_stats()["remaining_sequence"] == [], f"no request named {operation}"
        emulator.clear_faults()

    return used


# (operation aimed at, get-or-create, create, look-up by name) of the objects named by their name
NAMED = {
    "dataset": (
        "createDataset",
        lambda c, name: c.datasets.get_or_create(name),
        lambda c, name: c.datasets.create(name),
        lambda c, name: c.datasets.find_by_name(name),
    ),
    "project": (
        "createProject",
        lambda c, name: c.projects.get_or_create_model_chat_evaluation(name),
        lambda c, name: c.projects.create_model_chat_evaluation(name),
        lambda c, name: c.projects.find_by_name(name),
    ),
}


@pytest.mark.parametrize("fault", LOST_ANSWERS)
@pytest.mark.parametrize("get_or_create", [True, False], ids=["get_or_create", "create"])
@pytest.mark.parametrize("kind", sorted(NAMED))
def test_a_dataset_or_project_is_made_once(client, lb_emulator, unique_name, kind, fault, get_or_create):
    operation, find_or_make, make, find = NAMED[kind]
    used = lose_answer_of(lb_emulator, operation, fault)
    if get_or_create:
        made, created = find_or_make(client, unique_name)
        assert created
    else:
        made = make(client, unique_name)
    used()
    assert [found.id for found in find(client, unique_name)] == [made.id]


@pytest.mark.parametrize("fault", LOST_ANSWERS)
def test_an_ontology_is_made_once(client, lb_emulator, unique_name, fault):
    used = lose_answer_of(lb_emulator, "upsertOntology", fault)
    ontology = client.ontologies.create(unique_name, _normalized())
    used()
    assert [o.id for o in client.ontologies.find_by_name(unique_name)] == [ontology.id]


@pytest.mark.parametrize("fault", LOST_ANSWERS)
def test_an_upsert_whose_rows_were_made_is_a_success(client, lb_emulator, unique_name, fault):
    dataset = client.datasets.create(unique_name)
    rows = [chat_row(f"{unique_name}-{i}", f"text {i}") for i in range(20)]
    used = lose_answer_of(lb_emulator, "upsertDataRows", fault)
    report = client.upsert_data_rows(dataset.id, rows, poll_interval=0.1)
    used()
    assert (report.created, report.updated, report.failed) == (20, 0, [])
    assert client.datasets.get(dataset.id).row_count == 20
    ids = client.data_rows.data_row_ids_for_global_keys([row["global_key"] for row in rows])
    assert sorted(ids) == sorted(r.id for r in report.succeeded)


@pytest.mark.parametrize("fault", LOST_ANSWERS)
def test_a_batch_is_made_once(client, lb_emulator, unique_name, fault):
    project = client.projects.create_model_chat_evaluation(unique_name)
    dataset = client.datasets.create(unique_name)
    rows = [chat_row(f"{unique_name}-{i}") for i in range(5)]
    keys = [r.global_key for r in client.upsert_data_rows(dataset.id, rows, poll_interval=0.1).succeeded]
    used = lose_answer_of(lb_emulator, "createBatchV2", fault)
    made = client.batches.get_or_create(project.id, "round-1", BatchRows(global_keys=keys))
    used()
    assert made.created and made.batch.size == 5
    found = client.batches.find_by_name(project.id, "round-1")
    assert found is not None and found.id == made.batch.id


@pytest.fixture(scope="module")
def large_round(emulator: EmulatorProcess) -> list[str]:
    """Global keys of 1,000 rows: a batch of them is made empty, then filled by a task."""
    name = f"lost-answers-{uuid.uuid4().hex[:10]}"
    with LabelboxClient(emulator.api_key, emulator.graphql_url, retry=FAST_RETRY) as client:
        dataset = client.datasets.create(name)
        rows = [chat_row(f"{name}-{i:04d}") for i in range(MAX_SYNC_BATCH_ROWS)]
        return [r.global_key for r in client.upsert_data_rows(dataset.id, rows, poll_interval=0.1).succeeded]


@pytest.mark.parametrize("fault", LOST_ANSWERS)
@pytest.mark.parametrize("operation", ["createEmptyBatch", "addDataRowsToBatchAsync"])
def test_a_large_batch_is_made_and_filled_once(
    client, lb_emulator, unique_name, large_round, operation, fault
):
    project = client.projects.create_model_chat_evaluation(unique_name)
    used = lose_answer_of(lb_emulator, operation, fault)
    made = client.batches.get_or_create(project.id, "round-1", BatchRows(global_keys=large_round))
    used()
    assert made.created and made.batch.size == MAX_SYNC_BATCH_ROWS and made.failed_data_row_ids == []
    found = client.batches.find_by_name(project.id, "round-1")
    assert found is not None and found.id == made.batch.id


@pytest.mark.parametrize("fault", LOST_ANSWERS)
def test_an_import_is_started_once(client, lb_emulator, unique_name, fault):
    project = client.projects.create_model_chat_evaluation(unique_name)
    body = json.dumps({"uuid": "5b0e0c0e-0000-4000-8000-000000000001", "dataRow": {"globalKey": "k"}})
    used = lose_answer_of(lb_emulator, "createLabelImport", fault)
    started, started_now = client.imports.ensure(project.id, unique_name, "ground_truth", body.encode())
    used()
    assert started_now and started.name == unique_name
    found = client.imports.find(project.id, unique_name, "ground_truth")
    assert found is not None and found.id == started.id


def test_two_new_objects_of_one_name_are_reported_not_guessed(client, lb_emulator, unique_name, monkeypatch):
    """Another writer made one at the same time: the look-up cannot tell which is this call's."""
    lb_emulator.set_faults({"sequence": ["none", "drop_after"], "operations": ["createDataset"]})
    other = LabelboxClient(lb_emulator.api_key, lb_emulator.graphql_url)
    original = client.datasets._create

    def racing(name: str, description: str | None) -> Dataset:
        other.datasets._create(name, description)  # the other writer's create gets through
        return original(name, description)  # this one is made, then its answer dropped

    monkeypatch.setattr(client.datasets, "_create", racing)
    with pytest.raises(CannotTellError, match="2 new ones of that name exist now") as caught:
        client.datasets.get_or_create(unique_name)
    found = client.datasets.find_by_name(unique_name)
    assert len(found) == 2 and all(d.id in str(caught.value) for d in found)


def _normalized() -> dict:
    from airflow_mmc_provider.mmc.ontology import build_ontology, parse_ontology_spec

    return build_ontology(parse_ontology_spec(SPEC.read_text(), fmt="yaml"))
