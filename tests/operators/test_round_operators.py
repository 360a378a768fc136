"""Ontology, project, conversations, batch, annotation import and progress: operators on the emulator."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, TaskDeferred

from airflow_mmc_provider.client import LabelboxClient
from airflow_mmc_provider.operators.annotations import LabelboxImportAnnotationsOperator
from airflow_mmc_provider.operators.batches import LabelboxCreateBatchOperator
from airflow_mmc_provider.operators.conversations import LabelboxUploadConversationsOperator
from airflow_mmc_provider.operators.datasets import LabelboxCreateDatasetOperator
from airflow_mmc_provider.operators.ontologies import LabelboxCreateOntologyOperator
from airflow_mmc_provider.operators.projects import LabelboxCreateProjectOperator
from airflow_mmc_provider.sensors.labeling import LabelboxLabelingProgressSensor

DATA = Path(__file__).resolve().parents[2] / "example_dags" / "data"
SPEC = {
    "tools": [
        {"name": "Rank", "type": "message-ranking"},
        {"name": "Best", "type": "message-single-selection"},
    ],
    "classifications": [
        {"name": "Difficulty", "type": "radio", "options": ["easy", "hard"]},
        {"name": "Quality", "type": "radio", "scope": "message", "options": ["good", "bad"]},
    ],
}


class FakeTI:
    def __init__(self) -> None:
        self.pushed: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.pushed[key] = value


def records(prefix: str, count: int = 4) -> list[dict]:
    return [
        {
            "key": f"{prefix}-{i}",
            "prompt": {"text": f"Question {i}"},
            "responses": {"m-a": "A says", "m-b": "B says"},
        }
        for i in range(count)
    ]


@pytest.fixture
def round_setup(labelbox_conn, unique_name):
    """Ontology, project, dataset, 4 conversations and a batch, through the operators."""
    ti = FakeTI()
    ontology_id = LabelboxCreateOntologyOperator(
        task_id="o", ontology_name=f"{unique_name}-o", spec=SPEC, labelbox_conn_id=labelbox_conn
    ).execute({})
    project_id = LabelboxCreateProjectOperator(
        task_id="p", project_name=f"{unique_name}-p", ontology_id=ontology_id, labelbox_conn_id=labelbox_conn
    ).execute({"ti": ti})
    dataset_id = LabelboxCreateDatasetOperator(
        task_id="d", dataset_name=f"{unique_name}-d", labelbox_conn_id=labelbox_conn
    ).execute({})
    upload = LabelboxUploadConversationsOperator(
        task_id="u",
        dataset_id=dataset_id,
        records=records(unique_name),
        labelbox_conn_id=labelbox_conn,
        poll_interval=0.1,
    ).execute({})
    batch = LabelboxCreateBatchOperator(
        task_id="b",
        project_id=project_id,
        batch_name="round-1",
        global_keys=upload["global_keys"],
        labelbox_conn_id=labelbox_conn,
    ).execute({})
    return {"ontology_id": ontology_id, "project_id": project_id, "upload": upload, "batch": batch, "ti": ti}


def test_setup_operators_are_idempotent_and_link_the_project(
    round_setup, labelbox_conn, unique_name, lb_emulator
):
    assert round_setup["upload"]["created"] == 4
    assert round_setup["batch"]["size"] == 4 and round_setup["batch"]["created"]
    assert round_setup["ti"].pushed["project_url"].endswith(f"/projects/{round_setup['project_id']}")
    again = LabelboxCreateBatchOperator(
        task_id="b",
        project_id=round_setup["project_id"],
        batch_name="round-1",
        global_keys=round_setup["upload"]["global_keys"],
        labelbox_conn_id=labelbox_conn,
    ).execute({})
    assert again["id"] == round_setup["batch"]["id"] and not again["created"]
    with LabelboxClient(lb_emulator.api_key, lb_emulator.graphql_url) as client:
        assert client.projects.ontology_id(round_setup["project_id"]) == round_setup["ontology_id"]


def test_changed_ontology_spec_fails_with_the_difference_or_makes_a_version(
    round_setup, labelbox_conn, unique_name
):
    changed = {**SPEC, "classifications": [*SPEC["classifications"][:1]]}
    with pytest.raises(AirflowFailException, match="differs from the spec") as caught:
        LabelboxCreateOntologyOperator(
            task_id="o", ontology_name=f"{unique_name}-o", spec=changed, labelbox_conn_id=labelbox_conn
        ).execute({})
    assert "Quality" in str(caught.value)
    versioned = LabelboxCreateOntologyOperator(
        task_id="o",
        ontology_name=f"{unique_name}-o",
        spec=changed,
        create_new_version=True,
        labelbox_conn_id=labelbox_conn,
    )
    first = versioned.execute({})
    assert first != round_setup["ontology_id"] and versioned.execute({}) == first


def test_invalid_conversations_fail_before_upload(labelbox_conn, unique_name):
    bad = [*records(unique_name, 2), {"key": f"{unique_name}-0", "prompt": {"text": ""}, "responses": {}}]
    op = LabelboxUploadConversationsOperator(
        task_id="u", dataset_id="d", records=bad, labelbox_conn_id=labelbox_conn
    )
    with pytest.raises(AirflowFailException, match="line 3") as caught:
        op.execute({})
    assert unique_name in str(caught.value)


def test_annotations_are_validated_before_upload(round_setup, labelbox_conn, unique_name):
    bad = [
        {"key": f"{unique_name}-0", "ranking": ["m-a", "m-zzz"], "classifications": {"Difficulty": "medium"}}
    ]
    op = LabelboxImportAnnotationsOperator(
        task_id="i",
        project_id=round_setup["project_id"],
        import_type="ground_truth",
        annotations=bad,
        import_name=f"{unique_name}-bad",
        labelbox_conn_id=labelbox_conn,
    )
    with pytest.raises(AirflowFailException) as caught:
        op.execute({})
    text = str(caught.value)
    assert "m-zzz" in text and "medium" in text


@pytest.mark.parametrize("import_type", ["ground_truth", "model_assisted"])
def test_annotation_import_is_idempotent_per_name(round_setup, labelbox_conn, unique_name, import_type):
    good = [
        {
            "key": f"{unique_name}-{i}",
            "ranking": ["m-a", "m-b"],
            "best": "m-a",
            "classifications": {"Difficulty": "easy"},
        }
        for i in range(4)
    ]
    op = LabelboxImportAnnotationsOperator(
        task_id="i",
        project_id=round_setup["project_id"],
        import_type=import_type,
        annotations=good,
        import_name=f"{unique_name}-{import_type}",
        poll_interval=0.2,
        labelbox_conn_id=labelbox_conn,
    )
    first = op.execute({})
    assert first["accepted"] == 12 and first["failed"] == 0
    assert first["accepted_by_kind"]["message-ranking"] == 4
    assert op.execute({}) == first  # the retry finds the same import


def test_labeling_progress_sensor_defers_and_resumes(round_setup, labelbox_conn, lb_emulator):
    sensor = LabelboxLabelingProgressSensor(
        task_id="w",
        project_id=round_setup["project_id"],
        batch_ids=[round_setup["batch"]["id"]],
        deferrable=True,
        poke_interval=0.1,
        timeout=30,
        labelbox_conn_id=labelbox_conn,
    )
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    lb_emulator.move_workflow(
        project_id=round_setup["project_id"], batch_id=round_setup["batch"]["id"], state="Done"
    )
    events = asyncio.run(_collect(deferred.value.trigger))
    assert events[0].payload["status"] == "success"
    assert sensor.execute_complete({}, events[0].payload)["counts"]["Done"] == 4
    timeout_event = {"status": "timeout", "message": "2 of 4 Done"}
    with pytest.raises(AirflowException, match="Timed out"):
        sensor.execute_complete({}, timeout_event)


async def _collect(trigger):
    return [event async for event in trigger.run()]


def test_sample_prelabels_validate_against_the_sample_round():
    from airflow_mmc_provider.mmc.annotations import build_ndjson
    from airflow_mmc_provider.mmc.conversation import iter_payloads
    from airflow_mmc_provider.mmc.ontology import build_ontology, load_ontology_spec

    ontology = build_ontology(load_ontology_spec(DATA / "ontology.yaml"))
    lines = (DATA / "conversations.jsonl").read_bytes().splitlines()
    documents = {p["global_key"]: p["row_data"] for p in iter_payloads(lines)}
    body = build_ndjson((DATA / "prelabels.jsonl").read_bytes().splitlines(), ontology, documents)
    assert len(body.splitlines()) == 60 and all(json.loads(line)["uuid"] for line in body.splitlines())
