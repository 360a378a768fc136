"""The official `labelbox` SDK (7.17.0, unchanged) against the emulator: the oracle for fidelity.

Where one of these fails, the emulator is wrong. The SDK sleeps at least 2 s in every
`wait_till_done` while a task is in progress, so only a few tests wait that way; the others let the
task finish and read it back with `client.get_task_by_id`, which is also part of the contract.
"""

from __future__ import annotations

import json
import time
from typing import Any

import labelbox as lb
import pytest
import requests
from labelbox import Dataset, GlobalKey, UniqueId
from labelbox.schema.data_row_payload_templates import ModelEvaluationTemplate
from labelbox.schema.task import DataUpsertTask
from lbox.exceptions import ApiLimitError, AuthenticationError, ResourceNotFoundError

pytestmark = pytest.mark.conformance

MMC_TYPE = "application/vnd.labelbox.conversational.model-chat-evaluation"


def conversation(prompt: str, answers: dict[str, str]) -> dict[str, Any]:
    """row_data v2 for one prompt answered by several models (wire reference 10)."""
    actors: dict[str, Any] = {"human": {"role": "human", "metadata": {"name": "User"}}}
    messages: dict[str, Any] = {
        "prompt": {
            "actorId": "human",
            "content": [{"type": "text", "content": prompt}],
            "childMessageIds": [f"answer-{model}" for model in answers],
        }
    }
    for model, text in answers.items():
        actors[f"actor-{model}"] = {
            "role": "model",
            "metadata": {"modelConfigName": model, "modelConfigId": model},
        }
        messages[f"answer-{model}"] = {
            "actorId": f"actor-{model}",
            "content": [{"type": "text", "content": text}],
            "childMessageIds": [],
        }
    return {
        "type": MMC_TYPE,
        "version": 2,
        "actors": actors,
        "messages": messages,
        "rootMessageIds": ["prompt"],
    }


def finished(client: lb.Client, task: DataUpsertTask, timeout: float = 30) -> DataUpsertTask:
    """Poll with `get_task_by_id` (no 2 s sleeps) until the task is done."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fetched = client.get_task_by_id(task.uid)
        assert isinstance(fetched, DataUpsertTask)
        if fetched.status != "IN_PROGRESS":
            return fetched
        time.sleep(0.05)
    raise AssertionError(f"task {task.uid} did not finish in {timeout}s")


def test_bad_api_key_raises_authentication_error(lb_emulator):
    bad = lb.Client(api_key="not-the-key", endpoint=lb_emulator.graphql_url)
    with pytest.raises(AuthenticationError):
        bad.get_user()
    with pytest.raises(AuthenticationError):
        bad.create_dataset(name="never")


def test_datasets_create_get_find_update_delete(client: lb.Client, unique_name: str):
    dataset = client.create_dataset(name=unique_name, description="first")
    assert (dataset.name, dataset.description, dataset.row_count) == (unique_name, "first", 0)
    assert dataset.created_at is not None and dataset.created_at.tzinfo is not None
    assert client.get_dataset(dataset.uid).name == unique_name
    assert [d.uid for d in client.get_datasets(where=Dataset.name == unique_name)] == [dataset.uid]
    dataset.update(description="second")
    assert client.get_dataset(dataset.uid).description == "second"
    assert client.get_user().email and client.get_organization().name
    dataset.delete()
    with pytest.raises(ResourceNotFoundError):
        client.get_dataset(dataset.uid)
    assert list(client.get_datasets(where=Dataset.name == unique_name)) == []


def test_create_multimodal_chat_rows_reports_a_duplicate_global_key(client, dataset, unique_name):
    first, second = f"{unique_name}-1", f"{unique_name}-2"
    rows = [
        {"row_data": conversation("Hello?", {"model-a": "Hi!", "model-b": "Hey."}), "global_key": first, "media_type": "CONVERSATIONAL"},
        {"row_data": conversation("Again?", {"model-a": "Yes", "model-b": "No"}), "global_key": first},
        {"row_data": conversation("Third?", {"model-a": "3", "model-b": "three"}), "global_key": second, "external_id": "ext-2"},
    ]  # fmt: skip
    task = dataset.create_data_rows(rows)
    assert task.status == "IN_PROGRESS"
    task.wait_till_done()
    assert task.status == "COMPLETE"
    assert isinstance(task.result_url, str)
    assert [e["message"] for e in task.errors] == [f"Duplicate global key: '{first}'"]
    assert task.failed_data_rows == task.errors
    assert task.errors[0]["failedDataRows"][0]["globalKey"] == first
    created = {r["global_key"]: r for r in task.result}
    assert set(created) == {first, second} and created[second]["external_id"] == "ext-2"

    fetched = client.get_data_row(created[second]["id"])
    assert json.loads(fetched.row_data) == rows[2]["row_data"]
    assert (fetched.global_key, fetched.external_id) == (second, "ext-2")
    assert fetched.dataset().uid == dataset.uid
    assert client.get_dataset(dataset.uid).row_count == 2


def test_upsert_by_global_key_updates_instead_of_duplicating(client, dataset, unique_name):
    key = f"{unique_name}-k"
    created = finished(
        client, dataset.create_data_rows([{"row_data": conversation("v1", {"m": "a"}), "global_key": key}])
    )
    [original] = created.result
    again = finished(
        client, dataset.create_data_rows([{"row_data": conversation("v1", {"m": "a"}), "global_key": key}])
    )
    assert [e["message"] for e in again.errors] == [f"Duplicate global key: '{key}'"] and again.result is None

    updated_data = conversation("v2", {"m": "b"})
    task = dataset.upsert_data_rows([{"key": GlobalKey(key), "row_data": updated_data, "external_id": "v2"}])
    task.wait_till_done()
    assert task.status == "COMPLETE" and task.errors is None
    [updated] = task.result
    assert updated["id"] == original["id"]
    assert json.loads(client.get_data_row(original["id"]).row_data) == updated_data
    assert client.get_dataset(dataset.uid).row_count == 1

    by_id = finished(
        client, dataset.upsert_data_rows([{"key": UniqueId(original["id"]), "external_id": "v3"}])
    )
    assert by_id.result[0]["external_id"] == "v3"


def test_lookups_by_global_key_external_id_and_dataset_pages(client, dataset, unique_name):
    keys = [f"{unique_name}-{i}" for i in range(3)]
    rows = [{"row_data": conversation(k, {"m": k}), "global_key": k, "external_id": f"ext-{k}"} for k in keys]
    task = finished(client, dataset.create_data_rows(rows))
    ids = {r["global_key"]: r["id"] for r in task.result}

    lookup = client.get_data_row_ids_for_global_keys([keys[1], f"{unique_name}-missing"])
    assert lookup["status"] == "PARTIAL SUCCESS"
    assert lookup["results"] == [ids[keys[1]], ""]
    assert lookup["errors"] == [{"global_key": f"{unique_name}-missing", "error": "Data Row not found"}]
    assert client.get_data_row_by_global_key(keys[2]).uid == ids[keys[2]]
    assert dataset.data_row_for_external_id(f"ext-{keys[0]}").uid == ids[keys[0]]
    # The SDK prepares rows on a thread pool, so their order on the wire (and thus age) is not input order.
    assert sorted(row.global_key for row in dataset.data_rows()) == keys


def test_create_data_row_singular_and_the_model_evaluation_template(client, dataset, unique_name):
    template = ModelEvaluationTemplate(global_key=f"{unique_name}-template").model_dump()
    row = dataset.create_data_row(template)  # synchronous: waits for the task, then fetches the row
    assert row.global_key == f"{unique_name}-template"
    assert json.loads(row.row_data)["type"] == MMC_TYPE
    assert row.metadata == [] and row.media_attributes == {}


def test_upload_data_returns_a_url_serving_the_bytes(client):
    url = client.upload_data(b'{"hello": "world"}', content_type="application/json", filename="hello.json")
    assert requests.get(url, timeout=10).content == b'{"hello": "world"}'


def test_unknown_task_raises_resource_not_found(client):
    with pytest.raises(ResourceNotFoundError):
        client.get_task_by_id("cnosuchtask000000000000000")


def test_rate_limits_raise_api_limit_error_and_5xx_are_retried(client, lb_emulator):
    lb_emulator.set_faults({"sequence": ["429"], "paths": ["/graphql"]})
    with pytest.raises(ApiLimitError):
        client.get_user()
    lb_emulator.set_faults({"sequence": ["503", "502"], "paths": ["/graphql"]})
    assert client.get_user().uid  # the SDK retries InternalServerError itself
    assert lb_emulator.fault_stats()["injected"] == 2
