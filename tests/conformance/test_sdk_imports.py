"""The official SDK runs the seed's import steps 5-6 (shared/seeds/002) against the emulator.

Step 5 builds its `Label` of six annotations from the SDK's own types (`labelbox.types`, which needs
the ``labelbox[data]`` extra the test dependencies pin); `seed_label` is the seed's code, verbatim.
It is imported as ground truth and as pre-labels, onto the seed's URL row (the emulator makes no
outbound requests, so conversation rules do not apply to it) and onto a conversation row whose
message ids and model config names are the seed's placeholders (so every rule applies and no id
has to change). The NDJSON variant (dicts, as `NDJsonConverter.serialize` writes the same Label)
and a failing import follow. The tests call ``wait_till_done(sleep_time_seconds=0.1)`` before the
seed's lines, which then run unchanged without the SDK's 10-second sleeps.
"""

from __future__ import annotations

import json
import time
import uuid

import labelbox as lb
import labelbox.types as lb_types
import pytest
import requests
from labelbox import Dataset
from labelbox.types import (
    Label,
    MessageEvaluationTaskAnnotation,
    MessageInfo,
    MessageMultiSelectionTask,
    MessageRankingTask,
    MessageSingleSelectionTask,
    OrderedMessageInfo,
)
from lbox.exceptions import ResourceConflict

from .sdk_helpers import MMC_ASSET, connected_project

pytestmark = pytest.mark.conformance


SIX = {"Message ranking", "Single message selection", "Multi message selection",
       "Provide a reason for your choice", "checklist_convo", "Choose the best response"}  # fmt: skip


def seed_label(global_key: str) -> list[Label]:
    """Step 5's `Label` of six annotations, from the seed's annotation definitions, verbatim."""
    message_ranking_annotation = lb_types.MessageEvaluationTaskAnnotation(
        name="Message ranking",
        value=MessageRankingTask(
            parent_message_id="message-0",
            ranked_messages=[
                OrderedMessageInfo(
                    message_id="message-1",
                    model_config_name="model-config-1",
                    order=1,
                ),
                OrderedMessageInfo(
                    message_id="message-2",
                    model_config_name="model-config-2",
                    order=2,
                ),
            ],
        ),
    )
    single_message_selection_annotation = lb_types.MessageEvaluationTaskAnnotation(
        name="Single message selection",
        value=MessageSingleSelectionTask(
            message_id="message-1",
            parent_message_id="message-0",
            model_config_name="model-config-1",
        ),
    )
    multiple_message_selection_annotation = lb_types.MessageEvaluationTaskAnnotation(
        name="Multi message selection",
        value=MessageMultiSelectionTask(
            parent_message_id="message-0",
            selected_messages=[
                MessageInfo(
                    message_id="message-1",
                    model_config_name="model-config-1",
                ),
                MessageInfo(
                    message_id="message-2",
                    model_config_name="model-config-2",
                ),
            ],
        ),
    )
    radio_annotation = lb_types.ClassificationAnnotation(
        name="Choose the best response",
        value=lb_types.Radio(answer=lb_types.ClassificationAnswer(name="Response B")),
    )
    checklist_annotation = lb_types.ClassificationAnnotation(
        name="checklist_convo",  # must match your ontology feature"s name
        value=lb_types.Checklist(
            answer=[
                lb_types.ClassificationAnswer(name="first_checklist_answer"),
                lb_types.ClassificationAnswer(name="second_checklist_answer"),
            ]
        ),
        message_id="message-1",  # Message specific annotation
    )
    text_annotation = lb_types.ClassificationAnnotation(
        name="Provide a reason for your choice",
        value=lb_types.Text(answer="the answer to the text questions right here"),
    )
    assert MessageEvaluationTaskAnnotation is lb_types.MessageEvaluationTaskAnnotation  # the seed's imports

    label = []
    label.append(
        lb_types.Label(
            data={"global_key": global_key},
            annotations=[
                message_ranking_annotation,
                single_message_selection_annotation,
                multiple_message_selection_annotation,
                text_annotation,
                checklist_annotation,
                radio_annotation,
            ],
        )
    )
    return label


def seed_label_lines(global_key: str) -> list[dict]:
    """`seed_label` as `NDJsonConverter.serialize` writes it (wire reference 8), written out: the
    NDJSON-dict variant of step 6 (`test_the_dicts_are_the_sdk_serialization_of_the_label` pins it)."""
    row = {"globalKey": global_key}
    return [
        {"uuid": str(uuid.uuid4()), "dataRow": row, "name": "Message ranking",
         "messageEvaluationTask": {"format": "message-ranking", "data": {"parentMessageId": "message-0",
            "rankedMessages": [{"messageId": "message-1", "modelConfigName": "model-config-1", "order": 1},
                               {"messageId": "message-2", "modelConfigName": "model-config-2", "order": 2}]}}},
        {"uuid": str(uuid.uuid4()), "dataRow": row, "name": "Single message selection",
         "messageEvaluationTask": {"format": "message-single-selection", "data": {
            "messageId": "message-1", "parentMessageId": "message-0", "modelConfigName": "model-config-1"}}},
        {"uuid": str(uuid.uuid4()), "dataRow": row, "name": "Multi message selection",
         "messageEvaluationTask": {"format": "message-multi-selection", "data": {"parentMessageId": "message-0",
            "selectedMessages": [{"messageId": "message-1", "modelConfigName": "model-config-1"},
                                 {"messageId": "message-2", "modelConfigName": "model-config-2"}]}}},
        {"uuid": str(uuid.uuid4()), "dataRow": row, "name": "Provide a reason for your choice",
         "answer": "the answer to the text questions right here"},
        {"uuid": str(uuid.uuid4()), "dataRow": row, "name": "checklist_convo", "messageId": "message-1",
         "answer": [{"name": "first_checklist_answer"}, {"name": "second_checklist_answer"}]},
        {"uuid": str(uuid.uuid4()), "dataRow": row, "name": "Choose the best response",
         "answer": {"name": "Response B"}},
    ]  # fmt: skip


def placeholder_conversation() -> dict:
    """A conversation whose message ids and model config names are the seed's placeholders."""
    return {
        "type": "application/vnd.labelbox.conversational.model-chat-evaluation", "version": 2,
        "actors": {"u": {"role": "human", "metadata": {"name": "User"}},
                   "a": {"role": "model", "metadata": {"modelConfigName": "model-config-1"}},
                   "b": {"role": "model", "metadata": {"modelConfigName": "model-config-2"}}},
        "messages": {"message-0": {"actorId": "u", "content": [{"type": "text", "content": "Hi"}],
                                   "childMessageIds": ["message-1", "message-2"]},
                     "message-1": {"actorId": "a", "content": [{"type": "text", "content": "A"}], "childMessageIds": []},
                     "message-2": {"actorId": "b", "content": [{"type": "text", "content": "B"}], "childMessageIds": []}},
        "rootMessageIds": ["message-0"],
    }  # fmt: skip


def seed_project(client: lb.Client, dataset: Dataset, name: str, row_data, global_key: str):
    """The seed's steps 1-4: one row (keyed for this test) in a batch of a connected project."""
    task = dataset.create_data_rows([{"row_data": row_data, "global_key": global_key}])
    task.wait_till_done()
    created, _ontology = connected_project(client, name)
    created.create_batch("first-batch-convo-demo", global_keys=[global_key], priority=5)
    return created, global_key


@pytest.fixture
def project(client: lb.Client, dataset: Dataset, unique_name: str):
    """The seed's own URL row."""
    global_key = f"offline-multimodal_chat_evaluation-{unique_name}"
    return seed_project(client, dataset, unique_name, MMC_ASSET, global_key)


@pytest.fixture(params=["url-row", "conversation-row"])
def any_project(request, client: lb.Client, dataset: Dataset, unique_name: str):
    """The seed's URL row, or a conversation row on which every conversation rule applies."""
    if request.param == "url-row":
        return seed_project(
            client, dataset, unique_name, MMC_ASSET, f"offline-multimodal_chat_evaluation-{unique_name}"
        )
    return seed_project(client, dataset, unique_name, placeholder_conversation(), unique_name)


def export_rows(project) -> list[dict]:
    task = project.export(params={"label_details": True, "project_details": True})
    task.wait_till_done()
    rows: list[dict] = []
    if task.has_result():
        task.get_buffered_stream().start(stream_handler=lambda output: rows.append(output.json))
    return rows


def assert_the_seed_label_is_exported(project, annotations: dict) -> None:
    """The six annotations of `seed_label` as the export shows them (wire reference 9)."""
    assert {o["name"] for o in annotations["objects"]} == {
        "Message ranking", "Single message selection", "Multi message selection",
    }  # fmt: skip
    ranking = next(o for o in annotations["objects"] if o["annotation_kind"] == "MessageRanking")
    assert ranking["ranked_messages"] == {
        "parent_message_id": "message-0",
        "ranked_messages": [
            {"message_id": "message-1", "model_config_name": "model-config-1", "order": 1},
            {"message_id": "message-2", "model_config_name": "model-config-2", "order": 2},
        ],
    }
    single = next(o for o in annotations["objects"] if o["annotation_kind"] == "MessageSingleSelection")
    assert single["selected_message"] == {
        "message_id": "message-1", "model_config_name": "model-config-1", "parent_message_id": "message-0",
    }  # fmt: skip
    multi = next(o for o in annotations["objects"] if o["annotation_kind"] == "MessageMultiSelection")
    assert [m["message_id"] for m in multi["selected_messages"]["messages"]] == ["message-1", "message-2"]
    by_name = {c["name"]: c for c in annotations["classifications"]}
    assert set(by_name) == SIX - {o["name"] for o in annotations["objects"]}
    assert by_name["Choose the best response"]["radio_answer"]["name"] == "Response B"
    assert "message_id" not in by_name["Choose the best response"]
    assert by_name["checklist_convo"]["message_id"] == "message-1"
    assert [a["value"] for a in by_name["checklist_convo"]["conversational_checklist_answers"]] == [
        "first_checklist_answer", "second_checklist_answer",
    ]  # fmt: skip
    assert by_name["Provide a reason for your choice"]["text_answer"]["content"] == (
        "the answer to the text questions right here"
    )
    assert all(c["feature_schema_id"] and c["feature_id"] for c in annotations["classifications"])


def test_the_dicts_are_the_sdk_serialization_of_the_label():
    """The NDJSON variant below sends what `create_from_objects` makes of `seed_label` (uuids aside)."""
    from labelbox.data.serialization import NDJsonConverter

    def comparable(lines) -> list[str]:
        return sorted(
            json.dumps({k: v for k, v in line.items() if k != "uuid"}, sort_keys=True) for line in lines
        )

    assert comparable(NDJsonConverter.serialize(seed_label("gk"))) == comparable(seed_label_lines("gk"))


def seed_ground_truth_import(client: lb.Client, project, label: list) -> lb.LabelImport:
    """Step 6, option B, verbatim (after a quick wait of the test's own), for either form of step 5."""
    upload_job = lb.LabelImport.create_from_objects(
        client = client,
        project_id = project.uid,
        name="label_import_job"+str(uuid.uuid4()),
        labels=label
    )  # fmt: skip
    upload_job.wait_till_done(sleep_time_seconds=0.1)

    print(f"Errors: {upload_job.errors}", )  # fmt: skip
    return upload_job


def assert_the_six_are_labelled(upload_job: lb.LabelImport, project, global_key: str, printed: str) -> None:
    """All six annotations succeeded (as printed and as the job says), and the row is exported as one
    DONE label holding them (`assert_the_seed_label_is_exported`)."""
    assert "Errors: []" in printed
    assert upload_job.state == lb.AnnotationImportState.FINISHED and upload_job.progress == "100%"
    statuses = upload_job.statuses
    assert len(statuses) == 6 and {s["status"] for s in statuses} == {"SUCCESS"}
    inputs = upload_job.inputs
    assert len(inputs) == 6 and {i["name"] for i in inputs} == SIX
    assert all(i["dataRow"] == {"globalKey": global_key} for i in inputs)
    assert {s["uuid"] for s in statuses} == {i["uuid"] for i in inputs}

    [row] = export_rows(project)
    [exported] = row["projects"][project.uid]["labels"]
    assert_the_seed_label_is_exported(project, exported["annotations"])
    assert row["projects"][project.uid]["project_details"]["workflow_status"] == "DONE"
    [sdk_label] = project.client.get_data_row_by_global_key(global_key).labels()  # DataRow.labels
    assert sdk_label.uid == exported["id"]


def test_the_seed_label_objects_import_as_ground_truth(client, any_project, capsys):
    """Steps 5-6 (option B) with the seed's `Label` of six `labelbox.types` annotations."""
    project, global_key = any_project
    label = seed_label(global_key)  # step 5
    assert len(label[0].annotations) == 6
    upload_job = seed_ground_truth_import(client, project, label)
    assert_the_six_are_labelled(upload_job, project, global_key, capsys.readouterr().out)


def test_the_seed_ndjson_ground_truth_import_of_six_annotations(client, project, capsys):
    project, global_key = project
    label = seed_label_lines(global_key)  # step 5, the NDJSON variant
    upload_job = seed_ground_truth_import(client, project, label)
    assert_the_six_are_labelled(upload_job, project, global_key, capsys.readouterr().out)
    with pytest.raises(ResourceConflict):
        lb.LabelImport.create_from_objects(client, project.uid, upload_job.name, label)


def test_the_seed_mal_import_of_label_objects_leaves_pre_labels_not_labels(client, any_project, capsys):
    """Step 6, option A, with the seed's `Label` objects: all six accepted, and no label."""
    project, global_key = any_project
    label = seed_label(global_key)  # step 5
    # Step 6, option A, verbatim (after a quick wait of the test's own).
    upload_job = lb.MALPredictionImport.create_from_objects(
        client = client,
        project_id = project.uid,
        name="mal_job"+str(uuid.uuid4()),
        predictions=label
    )  # fmt: skip
    upload_job.wait_till_done(sleep_time_seconds=0.1)

    print(f"Errors: {upload_job.errors}", )  # fmt: skip
    print(f"Status of uploads: {upload_job.statuses}")
    out = capsys.readouterr().out
    assert "Errors: []" in out and out.count("'status': 'SUCCESS'") == 6
    assert upload_job.state == lb.AnnotationImportState.FINISHED
    assert {i["name"] for i in upload_job.inputs} == SIX
    [row] = export_rows(project)
    assert row["projects"][project.uid]["labels"] == []
    assert row["projects"][project.uid]["project_details"]["workflow_status"] == "TO_LABEL"
    assert list(client.get_data_row_by_global_key(global_key).labels()) == []  # pre-labels are no labels


def test_a_bad_label_object_is_named_in_its_error_and_the_rest_is_labelled(client, dataset, unique_name):
    """The seed's Label with one annotation wrong for the conversation: only that one fails."""
    project, global_key = seed_project(client, dataset, unique_name, placeholder_conversation(), unique_name)
    label = seed_label(global_key)
    [single] = [a for a in label[0].annotations if a.name == "Single message selection"]
    single.value.model_config_name = "GPT 9"  # message-1 is model-config-1's
    upload_job = lb.LabelImport.create_from_objects(client, project.uid, "bad-object", label)
    upload_job.wait_till_done(sleep_time_seconds=0.1)
    [error] = upload_job.errors
    [bad_input] = [i for i in upload_job.inputs if i["name"] == "Single message selection"]
    assert error["uuid"] == bad_input["uuid"] and error["status"] == "FAILURE"
    message = json.dumps(error["errors"])
    assert "Single message selection" in message and "GPT 9" in message
    assert sorted(s["status"] for s in upload_job.statuses) == ["FAILURE"] + ["SUCCESS"] * 5
    [row] = export_rows(project)
    [exported] = row["projects"][project.uid]["labels"]
    names = {o["name"] for o in exported["annotations"]["objects"]}
    names |= {c["name"] for c in exported["annotations"]["classifications"]}
    assert names == SIX - {"Single message selection"}


def test_ndjson_import_by_url_with_a_bad_annotation_names_it(client, dataset, unique_name, lb_emulator):
    project, _ = seed_project(client, dataset, unique_name, placeholder_conversation(), unique_name)
    good = {"uuid": str(uuid.uuid4()), "name": "Single message selection", "dataRow": {"globalKey": unique_name},
            "messageEvaluationTask": {"format": "message-single-selection", "data": {
                "messageId": "message-2", "parentMessageId": "message-0", "modelConfigName": "model-config-2"}}}  # fmt: skip
    bad_uuid = str(uuid.uuid4())
    bad = {"uuid": bad_uuid, "name": "Choose the best response", "dataRow": {"globalKey": unique_name},
           "answer": {"name": "Response Z"}}  # fmt: skip
    wrong_model = {"uuid": str(uuid.uuid4()), "name": "Multi message selection", "dataRow": {"globalKey": unique_name},
                   "messageEvaluationTask": {"format": "message-multi-selection", "data": {
                       "parentMessageId": "message-0",
                       "selectedMessages": [{"messageId": "message-1", "modelConfigName": "GPT 9"}]}}}  # fmt: skip
    url = client.upload_data(
        "\n".join(json.dumps(line) for line in (good, bad, wrong_model)).encode(), content_type="application/x-ndjson",
        filename="annotations.ndjson",
    )  # fmt: skip
    upload_job = lb.LabelImport.create_from_url(client, project.uid, "by-url", url)
    upload_job.wait_till_done(sleep_time_seconds=0.1)
    errors = upload_job.errors
    assert {e["uuid"] for e in errors} == {bad_uuid, wrong_model["uuid"]}
    by_uuid = {e["uuid"]: e for e in errors}
    assert "Response Z" in by_uuid[bad_uuid]["errors"][0]["message"]
    assert "GPT 9" in json.dumps(by_uuid[wrong_model["uuid"]]["errors"])
    assert [s["status"] for s in upload_job.statuses] == ["SUCCESS", "FAILURE", "FAILURE"]
    assert requests.head(upload_job.error_file_url, timeout=10).status_code == 200
    # The NDJSON-dict variant of create_from_objects, with the import found again by name.
    again = lb.LabelImport.create_from_objects(client, project.uid, "dicts", [good])
    found = lb.LabelImport.from_name(client, project.uid, "dicts")
    assert found.uid == again.uid
    deadline = time.monotonic() + 20
    while found.state == lb.AnnotationImportState.RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.05)
        found.refresh()
    assert found.state == lb.AnnotationImportState.FINISHED and found.errors == []
