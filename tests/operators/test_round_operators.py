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
        {"name": "Difficulty", "type": "radio", "options": ["easy", "hard"], "required": True},
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
    return set_up_round(labelbox_conn, unique_name, SPEC, records(unique_name))


def set_up_round(
    labelbox_conn: str, name: str, spec: object, conversations: list[dict], **batch_options: object
) -> dict:
    """A round set up through the operators, as the round DAG does: ontology, project, dataset,
    the conversations uploaded, and their batch (``batch_options``: e.g. ``consensus``)."""
    ti = FakeTI()
    ontology_id = LabelboxCreateOntologyOperator(
        task_id="o", ontology_name=f"{name}-o", spec=spec, labelbox_conn_id=labelbox_conn
    ).execute({})
    project_id = LabelboxCreateProjectOperator(
        task_id="p", project_name=f"{name}-p", ontology_id=ontology_id, labelbox_conn_id=labelbox_conn
    ).execute({"ti": ti})
    dataset_id = LabelboxCreateDatasetOperator(
        task_id="d", dataset_name=f"{name}-d", labelbox_conn_id=labelbox_conn
    ).execute({})
    upload = LabelboxUploadConversationsOperator(
        task_id="u",
        dataset_id=dataset_id,
        records=conversations,
        labelbox_conn_id=labelbox_conn,
        poll_interval=0.1,
    ).execute({})
    batch = LabelboxCreateBatchOperator(
        task_id="b",
        project_id=project_id,
        batch_name="round-1",
        global_keys=upload["global_keys"],
        labelbox_conn_id=labelbox_conn,
        **batch_options,
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


def test_a_round_whose_create_answers_are_lost_is_set_up_in_one_attempt_each(
    labelbox_conn, unique_name, lb_emulator
):
    """Each create is made, then its answer dropped or cut off: every operator finds what it made
    and goes on, in its first attempt (no Airflow retry), and nothing exists twice."""
    creates = ["upsertOntology", "createProject", "createDataset", "upsertDataRows", "createBatchV2"]
    lost = ["drop_after", "truncate:0.5", "drop_after", "truncate:0.3", "none", "drop_after"]
    lb_emulator.set_faults({"sequence": lost, "operations": creates})
    made = set_up_round(labelbox_conn, unique_name, SPEC, records(unique_name))
    assert lb_emulator.fault_stats()["remaining_sequence"] == []
    lb_emulator.clear_faults()
    assert made["upload"]["created"] == 4 and made["upload"]["failed"] == 0
    assert made["batch"]["size"] == 4 and made["batch"]["created"]
    with LabelboxClient(lb_emulator.api_key, lb_emulator.graphql_url) as client:
        assert [o.id for o in client.ontologies.find_by_name(f"{unique_name}-o")] == [made["ontology_id"]]
        assert [p.id for p in client.projects.find_by_name(f"{unique_name}-p")] == [made["project_id"]]
        (dataset,) = client.datasets.find_by_name(f"{unique_name}-d")
        assert dataset.row_count == 4


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


# --- annotation imports: what reaches the service, parts, retries, failures ------------------------


def import_op(round_setup, labelbox_conn, name, annotations, **kwargs):
    kwargs.setdefault("import_type", "ground_truth")
    return LabelboxImportAnnotationsOperator(
        task_id="i",
        project_id=round_setup["project_id"],
        annotations=annotations,
        import_name=name,
        poll_interval=0.1,
        labelbox_conn_id=labelbox_conn,
        **kwargs,
    )


def good_records(unique_name, count=4, **extra):
    return [
        {
            "key": f"{unique_name}-{i}",
            "ranking": ["m-a", "m-b"],
            "classifications": {"Difficulty": "easy"},
            **extra,
        }
        for i in range(count)
    ]


def test_pre_labels_may_leave_out_required_classifications_ground_truth_may_not(
    round_setup, labelbox_conn, unique_name
):
    partial = [{"key": f"{unique_name}-0", "ranking": ["m-a", "m-b"]}]  # no Difficulty (required)
    summary = import_op(
        round_setup, labelbox_conn, f"{unique_name}-mal", partial, import_type="model_assisted"
    ).execute({})
    assert summary["accepted"] == 1 and summary["failed"] == 0
    with pytest.raises(AirflowFailException, match="Difficulty"):
        import_op(round_setup, labelbox_conn, f"{unique_name}-gt", partial).execute({})


def test_lines_by_data_row_id_are_checked_against_their_conversation(round_setup, labelbox_conn, unique_name):
    from airflow_mmc_provider.hooks.labelbox import LabelboxHook
    from airflow_mmc_provider.mmc.annotations import ndjson as ann
    from airflow_mmc_provider.mmc.conversation import response_ref

    client = LabelboxHook(labelbox_conn).get_conn()
    key = f"{unique_name}-1"
    (row_id,) = client.data_rows.data_row_ids_for_global_keys([key])
    refs = [response_ref(key, "m-a"), response_ref(key, "m-b")]
    good = [
        ann.annotation_line(ann.message_ranking("Rank", refs), data_row_id=row_id),
        ann.annotation_line(ann.radio("Difficulty", "hard"), data_row_id=row_id),
    ]
    assert import_op(round_setup, labelbox_conn, f"{unique_name}-ok", good).execute({})["accepted"] == 2
    other = response_ref(f"{unique_name}-2", "m-a")  # a response of another conversation
    bad = [
        ann.annotation_line(
            ann.single_selection(
                "Best", (other.message_id, "m-a"), parent_message_id=refs[0].parent_message_id
            ),
            data_row_id=row_id,
        ),
        good[1],
    ]
    with pytest.raises(AirflowFailException, match=other.message_id) as caught:
        import_op(round_setup, labelbox_conn, f"{unique_name}-bad", bad).execute({})
    assert row_id in str(caught.value)
    assert client.imports.find(round_setup["project_id"], f"{unique_name}-bad", "ground_truth") is None


def test_a_data_row_that_does_not_exist_fails_before_upload(round_setup, labelbox_conn, unique_name):
    from airflow_mmc_provider.mmc.annotations import ndjson as ann

    lines = [*good_records(unique_name, 1), {"key": "no-such-row", "ranking": ["m-a", "m-b"]}]
    with pytest.raises(AirflowFailException, match="no-such-row"):
        import_op(round_setup, labelbox_conn, f"{unique_name}-x", lines).execute({})
    by_id = [ann.annotation_line(ann.radio("Difficulty", "easy"), data_row_id="no-such-row-id")]
    with pytest.raises(AirflowFailException, match=r"no-such-row-id.*not among the conversations"):
        import_op(round_setup, labelbox_conn, f"{unique_name}-y", by_id).execute({})


def test_large_imports_go_up_in_parts_each_holding_whole_data_rows(round_setup, labelbox_conn, unique_name):
    from airflow_mmc_provider.hooks.labelbox import LabelboxHook

    # Two records per data row, far apart: one row's annotations must still land in one part.
    lines = [*good_records(unique_name), *({"key": f"{unique_name}-{i}", "best": "m-b"} for i in range(4))]
    summary = import_op(round_setup, labelbox_conn, f"{unique_name}-big", lines, max_part_bytes=1500).execute(
        {}
    )
    assert summary["accepted"] == 12 and summary["failed"] == 0
    names = summary["imports"]
    assert len(names) > 1 and names[0] == f"{unique_name}-big-part-0001"
    client = LabelboxHook(labelbox_conn).get_conn()
    rows_per_part = []
    for name in names:
        found = client.imports.find(round_setup["project_id"], name, "ground_truth")
        rows_per_part.append(
            {line["dataRow"]["globalKey"] for line in client.imports.read_report(found.input_file_url)}
        )
    assert sum(len(rows) for rows in rows_per_part) == len(set().union(*rows_per_part)) == 4
    again = import_op(round_setup, labelbox_conn, f"{unique_name}-big", lines, max_part_bytes=1500).execute(
        {}
    )
    assert again == summary  # a retry finds every part


def test_a_retry_whose_input_changed_fails_naming_the_import(round_setup, labelbox_conn, unique_name):
    name = f"{unique_name}-run"
    import_op(round_setup, labelbox_conn, name, good_records(unique_name)).execute({})
    changed = good_records(unique_name, best="m-b")
    with pytest.raises(AirflowFailException, match=f"{name}.*already exists.*input changed"):
        import_op(round_setup, labelbox_conn, name, changed).execute({})


def test_annotations_the_service_rejects_are_listed_unless_tolerated(
    round_setup, labelbox_conn, unique_name, tmp_path
):
    # A stale conversations file: it knows a third response the uploaded data rows do not have,
    # so the lines pass locally and the service rejects the rankings.
    stale = tmp_path / "conversations.jsonl"
    stale.write_text(
        "\n".join(
            json.dumps({**r, "responses": {**r["responses"], "m-c": "C says"}}) for r in records(unique_name)
        )
    )
    lines = [
        {
            "key": f"{unique_name}-{i}",
            "ranking": ["m-a", "m-b", "m-c"],
            "classifications": {"Difficulty": "easy"},
        }
        for i in range(2)
    ]
    with pytest.raises(AirflowException) as caught:
        import_op(round_setup, labelbox_conn, f"{unique_name}-a", lines, conversations=str(stale)).execute({})
    text = str(caught.value)
    assert text.startswith("2 annotation(s) failed (tolerated: 0)")
    for i in range(2):
        assert f"(Rank, message-ranking) on data row {unique_name}-{i}: " in text
    from airflow_mmc_provider.mmc.conversation import response_ref

    assert response_ref(f"{unique_name}-0", "m-c").message_id in text  # the service's reason
    summary = import_op(
        round_setup,
        labelbox_conn,
        f"{unique_name}-b",
        lines,
        conversations=str(stale),
        max_failed_annotations=2,
    ).execute({})
    assert summary["failed"] == 2 and summary["accepted"] == 2  # the Difficulty answers


def test_the_import_wait_defers_and_a_timeout_fails_clearly(round_setup, labelbox_conn, unique_name):
    import importlib

    op = import_op(round_setup, labelbox_conn, f"{unique_name}-d", good_records(unique_name), deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute({})
    classpath, kwargs = deferred.value.trigger.serialize()
    module, _, name = classpath.rpartition(".")
    trigger = getattr(importlib.import_module(module), name)(**json.loads(json.dumps(kwargs)))
    (event,) = asyncio.run(_collect(trigger))
    assert event.payload["status"] == "success"
    assert op.execute_complete({}, event.payload)["accepted"] == 8
    with pytest.raises(AirflowException, match="timeout: imports"):
        op.execute_complete({}, {"status": "timeout", "message": "imports {...} at the deadline", **kwargs})


def test_an_import_that_disappeared_ends_the_wait_at_once(round_setup, labelbox_conn, unique_name):
    from airflow_mmc_provider.triggers.imports import LabelboxImportTrigger

    trigger = LabelboxImportTrigger(
        project_id=round_setup["project_id"],
        import_names=[f"{unique_name}-never-started"],
        import_kind="ground_truth",
        labelbox_conn_id=labelbox_conn,
        end_time=10**10,
        poll_interval=0.1,
    )
    (event,) = asyncio.run(asyncio.wait_for(_collect(trigger), 20))
    assert event.payload["status"] == "failed" and "MISSING" in event.payload["message"]


def test_an_import_that_failed_as_a_whole_fails_the_task_at_once(round_setup, labelbox_conn, unique_name):
    from airflow_mmc_provider.hooks.labelbox import LabelboxHook

    client = LabelboxHook(labelbox_conn).get_conn()
    name = f"{unique_name}-broken"
    client.imports.start_from_bytes(round_setup["project_id"], name, "ground_truth", b"\xff\xfe not text")
    found = client.imports.wait(
        round_setup["project_id"], name, "ground_truth", timeout=30, poll_interval=0.1
    )
    assert found.state == "FAILED"
    with pytest.raises(AirflowFailException, match=f"{name}.*FAILED as a whole.*new import_name"):
        import_op(round_setup, labelbox_conn, name, good_records(unique_name)).execute({})


def test_a_failed_import_names_its_errors_but_not_the_signature_of_their_url():
    from airflow_mmc_provider.client.imports import AnnotationImport

    signed = "https://storage.example/errors.ndjson?X-Goog-Signature=SECRET123&X-Goog-Expires=600"
    found = AnnotationImport("i1", "gt", "FAILED", None, signed, None, None)
    reported = []

    class Imports:
        def read_report(self, url):
            reported.append(url)
            yield {"uuid": "u-1", "dataRow": {"globalKey": "k-1"}, "errors": [{"message": "bad file"}]}

    class Client:
        imports = Imports()

    op = LabelboxImportAnnotationsOperator(
        task_id="i", project_id="p1", import_type="ground_truth", annotations=[]
    )
    text = op._failed_import(Client(), found)
    assert reported == [signed]
    assert "annotation u-1 on data row k-1: bad file" in text
    assert "https://storage.example/errors.ndjson" in text and "SECRET123" not in text


def test_the_client_imports_by_url_and_by_upload_and_reads_every_report(
    round_setup, labelbox_conn, unique_name
):
    """`Imports` on its own: start by file URL or multipart upload, find by (project, name), wait,
    and read the inputs, status and errors files; a name is taken once per project."""
    from airflow_mmc_provider.client.errors import ConflictError, LabelboxError
    from airflow_mmc_provider.hooks.labelbox import LabelboxHook
    from airflow_mmc_provider.mmc.annotations import ndjson as ann
    from airflow_mmc_provider.mmc.conversation import response_ref

    client = LabelboxHook(labelbox_conn).get_conn()
    project = round_setup["project_id"]
    key = f"{unique_name}-0"
    good = ann.annotation_line(ann.radio("Difficulty", "hard"), global_key=key)
    stranger = ann.annotation_line(ann.radio("Difficulty", "easy"), global_key="not-in-this-project")
    ranking = ann.annotation_line(
        ann.message_ranking("Rank", [response_ref(key, "m-a"), response_ref(key, "m-b")]), global_key=key
    )
    ontology = client.projects.ontology(project).normalized
    body = ann.build_ndjson([good, ranking], ontology, check_required=False)
    bad_body = (
        body + b"\n" + json.dumps({**stranger, "uuid": "5b0e0c0e-0000-4000-8000-000000000001"}).encode()
    )
    url = client.transport.upload(bad_body, filename="labels.ndjson", content_type="application/x-ndjson")
    started = client.imports.start_from_url(project, f"{unique_name}-url", "model_assisted", url)
    assert started.name == f"{unique_name}-url"
    done = client.imports.wait(project, f"{unique_name}-url", "model_assisted", poll_interval=0.1)
    assert done.state == "FINISHED" and done.id == started.id
    assert [s["status"] for s in client.imports.read_report(done.status_file_url)] == ["SUCCESS"] * 2 + [
        "FAILURE"
    ]
    (error,) = client.imports.read_report(done.error_file_url)
    assert error["uuid"] == "5b0e0c0e-0000-4000-8000-000000000001" and error["errors"]
    sent = client.imports.input_uuids(done)
    assert sent is not None and len(sent) == 3 and ann.annotation_uuid(good) in sent
    uploaded, started_now = client.imports.ensure(project, f"{unique_name}-up", "ground_truth", body)
    again, started_again = client.imports.ensure(project, f"{unique_name}-up", "ground_truth", body)
    assert started_now and not started_again and again.id == uploaded.id
    with pytest.raises(ConflictError):
        client.imports.start_from_bytes(project, f"{unique_name}-up", "ground_truth", body)
    assert client.imports.find(project, f"{unique_name}-nothing", "ground_truth") is None
    with pytest.raises(LabelboxError, match="not found"):
        client.imports.wait(project, f"{unique_name}-nothing", "ground_truth", poll_interval=0.1)


def test_annotations_from_object_storage_mix_records_and_ndjson_lines(
    round_setup, labelbox_conn, unique_name, tmp_path
):
    """`source` at an ObjectStoragePath: records and ready NDJSON lines in one file, each line numbered."""
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    from airflow_mmc_provider.mmc.annotations import ndjson as ann

    key = f"{unique_name}-3"
    ndjson = ann.annotation_line(ann.radio("Difficulty", "hard"), global_key=key)
    path = tmp_path / "labels.jsonl"
    path.write_text(
        "\n".join([*map(json.dumps, good_records(unique_name, 3)), "", json.dumps(ndjson)]) + "\n"
    )
    summary = LabelboxImportAnnotationsOperator(
        task_id="i",
        project_id=round_setup["project_id"],
        import_type="ground_truth",
        source=ObjectStoragePath(f"file://{path}"),
        import_name=f"{unique_name}-file",
        poll_interval=0.1,
        labelbox_conn_id=labelbox_conn,
    ).execute({})
    assert (summary["accepted"], summary["failed"]) == (7, 0)
    path.write_text(path.read_text() + json.dumps({"key": key, "best": "m-zzz"}) + "\n")
    with pytest.raises(AirflowFailException, match=r"line 6.*m-zzz"):
        LabelboxImportAnnotationsOperator(
            task_id="i",
            project_id=round_setup["project_id"],
            import_type="ground_truth",
            source=str(path),
            import_name=f"{unique_name}-file-2",
            labelbox_conn_id=labelbox_conn,
        ).execute({})
