"""The official SDK runs the seed's steps 2-4 (ontology, project, batch) against the emulator.

The seed is the "Import multimodal chat annotations" guide (shared/seeds/002): the code below is its
code, unchanged, except where it does not run on SDK 7.17.0 at all (step 3 passes ``media_type`` to
`create_offline_model_evaluation_project`, which takes no such argument: the first test pins that).
Step 2's `OntologyBuilder` is `sdk_helpers.seed_ontology_builder`, which every conformance module
shares: the seed's tools and classifications, its option lists written through one helper.
Rows and workflow moves are set up around the seed's calls; polling waits of the SDK (2 s each) are
avoided wherever the test, not the seed, does the waiting.
"""

from __future__ import annotations

import time

import labelbox as lb
import pytest
from labelbox import Dataset
from labelbox.schema.task import Task
from lbox.exceptions import InvalidQueryError, ResourceConflict, ResourceNotFoundError

from .sdk_helpers import MMC_ASSET, create_seed_ontology, seed_ontology_builder

pytestmark = pytest.mark.conformance


def create_rows(client: lb.Client, dataset: Dataset, keys: list[str]) -> dict[str, str]:
    """Rows with these global keys (waiting with get_task_by_id, not the SDK's 2 s sleeps); key -> id."""
    task = dataset.create_data_rows([{"row_data": MMC_ASSET, "global_key": key} for key in keys])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        fetched = client.get_task_by_id(task.uid)
        if fetched.status != "IN_PROGRESS":
            break
        time.sleep(0.05)
    assert fetched.status == "COMPLETE" and not fetched.errors
    return {row["global_key"]: row["id"] for row in fetched.result}


def test_the_seed_steps_2_to_4(client, dataset, unique_name, lb_emulator):
    # Step 1 (the seed's data row), with a global key unique to this run.
    global_key = f"offline-multimodal_chat_evaluation-{unique_name}"
    create_rows(client, dataset, [global_key])

    # Step 2: set up the ontology.
    ontology_builder = seed_ontology_builder()
    ontology = client.create_ontology(
        "MMC ontology",
        ontology_builder.asdict(),
        media_type=lb.MediaType.Conversational,
        ontology_kind=lb.OntologyKind.ModelEvaluation,
    )
    assert [(t.tool.value, t.name) for t in ontology.tools()] == [
        ("message-single-selection", "Single message selection"),
        ("message-multi-selection", "Multi message selection"),
        ("message-ranking", "Message ranking"),
    ]
    classifications = ontology.classifications()
    assert [(c.class_type.value, c.name, c.scope.value) for c in classifications] == [
        ("radio", "Choose the best response", "global"),
        ("text", "Provide a reason for your choice", "global"),
        ("checklist", "checklist_convo", "index"),
    ]
    assert [o.value for o in classifications[0].options] == ["Response A", "Response B", "Tie"]
    features = [*ontology.tools(), *classifications, *classifications[0].options, *classifications[2].options]
    assert all(f.schema_id and f.feature_schema_id for f in features)
    assert ontology.media_type == lb.MediaType.Conversational
    assert client.get_ontology(ontology.uid).normalized == ontology.normalized

    # Step 3: set up a labeling project. The seed's call, verbatim, does not run on SDK 7.17.0 ...
    with pytest.raises(TypeError, match="media_type"):
        client.create_offline_model_evaluation_project(
            name="Offline MMC Import Demo",
            description="<project_description>",  # optional
            media_type=lb.MediaType.Conversational,
        )
    # ... so it runs without the argument the method does not take (its media type is fixed anyway).
    project = client.create_offline_model_evaluation_project(
        name="Offline MMC Import Demo",
        description="<project_description>",  # optional
    )
    assert project.media_type == lb.MediaType.Conversational
    assert project.editor_task_type == lb.schema.ontology_kind.EditorTaskType.OfflineModelChatEvaluation
    with pytest.warns(UserWarning, match="Connecting default labeling editor"):
        project.connect_ontology(ontology)  # Connect the ontology to your project
    assert project.labeling_frontend().name == "Editor"
    assert project.ontology().name == ontology.name == "MMC ontology"
    assert project.ontology().normalized == ontology.normalized  # the same server-assigned ids

    # Step 4: send data rows to the project.
    batch = project.create_batch(
        "first-batch-convo-demo",  # Each batch in a project must have a unique name
        global_keys=[
            global_key
        ],  # Paginated collection of data row objects, list of data row ids or global keys
        priority=5,  # priority between 1(Highest) - 5(lowest)
    )
    print("Batch: ", batch)
    assert (batch.name, batch.size, list(batch.failed_data_row_ids)) == ("first-batch-convo-demo", 1, [])
    assert [b.uid for b in project.batches()] == [batch.uid]

    overview = project.get_overview()
    assert (overview.to_label, overview.total_data_rows, overview.done, overview.issues) == (1, 1, 0, 0)
    by_batch = project.get_overview(batch_ids=[batch.uid])
    assert (by_batch.to_label, by_batch.total_data_rows, by_batch.issues) == (1, 1, None)
    lb_emulator.move_workflow(project.uid, "Done", global_keys=[global_key])
    done = project.get_overview(batch_ids=[batch.uid])
    assert (done.to_label, done.done, done.labeled, done.total_data_rows) == (0, 1, 1, 1)


def test_batches_by_id_with_consensus_refusals_and_names(client, dataset, unique_name):
    ids = list(create_rows(client, dataset, [f"{unique_name}-{i}" for i in range(4)]).values())
    project = client.create_offline_model_evaluation_project(name=unique_name)
    first = project.create_batch(
        "first",
        data_rows=ids[:2],
        priority=1,
        consensus_settings={"number_of_labels": 3, "coverage_percentage": 0.5},
    )
    assert first.size == 2 and first.consensus_settings == {"numberOfLabels": 3, "coveragePercentage": 0.5}

    second = project.create_batch("second", data_rows=[ids[1], ids[2], ids[3]])  # ids[1] is in `first`
    assert (second.size, list(second.failed_data_row_ids)) == (2, [ids[1]])
    with pytest.raises(ResourceConflict, match="unique"):
        project.create_batch("second", data_rows=[ids[0]])
    with pytest.raises(InvalidQueryError, match="No data row could be added"):
        project.create_batch("third", data_rows=ids[:1])
    assert [b.name for b in project.batches()] == ["first", "second"]
    assert client.get_batch(project.uid, second.uid).size == 2


def test_a_large_batch_goes_through_a_task_and_its_progress_shows_in_the_overview(
    client, dataset, unique_name, lb_emulator
):
    keys = [f"{unique_name}-{i}" for i in range(1500)]
    create_rows(client, dataset, keys)
    project = client.create_offline_model_evaluation_project(name=unique_name)
    small = project.create_batch("small", global_keys=keys[:100])
    big = project.create_batch("big", global_keys=keys[100:], priority=2)  # >= 1,000 rows: the async path
    assert (big.name, big.size) == ("big", 1400)
    tasks = client.get_user().created_tasks(where=Task.type == "add-data-rows-to-batch")
    assert next(iter(tasks)).status == "COMPLETE"

    lb_emulator.move_workflow(project.uid, "Done", batch_id=big.uid, limit=1000)
    lb_emulator.move_workflow(project.uid, "InReview", batch_id=big.uid, limit=300)
    lb_emulator.move_workflow(project.uid, "InRework", batch_id=small.uid, limit=10)
    overview = project.get_overview(batch_ids=[big.uid])
    assert (overview.done, overview.in_review, overview.to_label, overview.total_data_rows) == (
        1000,
        300,
        100,
        1400,
    )
    everything = project.get_overview(details=True)
    assert (everything.done, everything.in_rework["total"], everything.to_label) == (1000, 10, 190)
    assert everything.in_review == {"data": [{"Initial review task": 300}], "total": 300}
    assert everything.total_data_rows == 1500 and everything.labeled == 1310
    assert {b.name: b.size for b in project.batches()} == {"small": 100, "big": 1400}


def test_live_projects_media_types_and_deletion(client, dataset, unique_name):
    [row_id] = create_rows(client, dataset, [f"{unique_name}-live"]).values()
    ontology = create_seed_ontology(client, unique_name)
    live = client.create_model_evaluation_project(name=unique_name)
    assert live.is_chat_evaluation() and live.model_setup_complete is None
    assert live.labeling_frontend().name == "Editor"  # set up when the project is created
    live.connect_ontology(ontology)
    assert live.ontology().uid == ontology.uid
    assert live.create_batch("live", data_rows=[row_id]).size == 1

    images = client.create_project(name=f"{unique_name}-images", media_type=lb.MediaType.Image)
    with pytest.raises(ValueError, match="same type"):
        images.connect_ontology(ontology)

    live.delete()
    with pytest.raises(ResourceNotFoundError):
        client.get_project(live.uid)


def test_a_malformed_ontology_is_an_invalid_query(client, unique_name):
    with pytest.raises(InvalidQueryError, match=r"classifications\[0\].*needs at least one option"):
        client.create_ontology(
            unique_name, {"tools": [], "classifications": [{"type": "radio", "name": "r"}]}
        )
    found = list(client.get_ontologies(unique_name))
    assert found == []
