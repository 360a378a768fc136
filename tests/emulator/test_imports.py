"""Annotation imports over raw GraphQL: the multipart upload, failures, and what becomes a label."""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from .helpers import Projects, RawGraphQL, conversation, mmc_ontology, spec
from .test_exports import export, rows_of

FIELDS = "id name state progress inputFileUrl statusFileUrl errorFileUrl project { id labelCount }"
CREATE = (
    "mutation($projectId: ID!, $name: String!, $file: Upload!, $contentLength: Int!) { ROOT(data: {"
    "projectId: $projectId name: $name filePayload: { file: $file, contentLength: $contentLength} }) {"
    + FIELDS
    + "} }"
)
FIND = (
    "query($projectId: ID!, $name: String!) { ROOT(where: {projectId: $projectId, name: $name}) {"
    + FIELDS
    + "} }"
)


def start_import(
    gql: RawGraphQL, project_id: str, name: str, body: bytes, root: str = "createLabelImport"
) -> Any:
    """The SDK's multipart request: part and filename `<projectId>__<name>.ndjson`; a wrong length."""
    part = f"{project_id}__{name}.ndjson"
    operations = {"query": CREATE.replace("ROOT", root),
                  "variables": {"file": None, "contentLength": len(body) + 3, "projectId": project_id, "name": name}}  # fmt: skip
    files: dict[str, Any] = {
        "operations": (None, json.dumps(operations)),
        "map": (None, json.dumps({part: ["variables.file"]})),
        part: (part, body, "application/x-ndjson"),
    }
    return gql.session.post(gql.emulator.graphql_url, files=files, timeout=30).json()


def finished(gql: RawGraphQL, project_id: str, name: str, root: str = "labelImport") -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        found: dict[str, Any] = gql.data(FIND.replace("ROOT", root), {"projectId": project_id, "name": name})[
            root
        ]
        if found["state"] != "RUNNING":
            return found
        assert time.monotonic() < deadline
        time.sleep(0.02)


def setup(gql: RawGraphQL, name: str) -> tuple[str, str, str]:
    """A project with the MMC test ontology and one conversation row in a batch: (project, row id, key)."""
    project_id, [(row_id, key)] = setup_rows(gql, name, [name])
    return project_id, row_id, key


def setup_rows(
    gql: RawGraphQL, name: str, keys: list[str], normalized: dict[str, Any] | None = None
) -> tuple[str, list[tuple[str, str]]]:
    """A project with an ontology (the MMC test one by default) and a conversation row per global
    key in one batch: (project, [(row id, key)])."""
    projects = Projects(gql)
    dataset = gql.create_dataset(name)
    task = gql.upsert(
        [spec({"row_data": conversation(), "dataset_id": dataset, "global_key": k}) for k in keys]
    )
    by_key = {row["globalKey"]: row["id"] for row in gql.successes(task["id"])}
    ontology = projects.create_ontology(name, normalized)
    project = projects.create_project(name)
    gql.data(
        "mutation($p: ID!, $o: ID!){project(where: {id: $p}){connectOntology(ontologyId: $o){id}}}",
        {"p": project["id"], "o": ontology["id"]},
    )
    projects.batch(project["id"], "b", global_keys=keys)
    return project["id"], [(by_key[k], k) for k in keys]


def selection(key: str, uuid: str, model: str = "model-a", row: str = "globalKey") -> dict[str, Any]:
    return {"uuid": uuid, "name": "Single message selection", "dataRow": {row: key},
            "messageEvaluationTask": {"format": "message-single-selection",
                                      "data": {"messageId": "r", "parentMessageId": "p", "modelConfigName": model}}}  # fmt: skip


def lines(url: str) -> list[dict[str, Any]]:
    text = requests.get(url, timeout=10).text
    return [json.loads(line) for line in text.splitlines() if line]


def test_a_multipart_import_reports_each_annotation_and_labels_the_good_ones(gql, unique_name):
    project_id, row_id, key = setup(gql, unique_name)
    body = "\n".join(json.dumps(line) for line in [
        selection(key, "00000000-0000-4000-8000-000000000001"),
        selection(key, "00000000-0000-4000-8000-000000000002", model="model-z"),
        selection("no-such-key", "00000000-0000-4000-8000-000000000003"),
    ]).encode()  # fmt: skip
    started = start_import(gql, project_id, "imp", body)["data"]["createLabelImport"]
    assert started["state"] == "RUNNING" and started["project"]["id"] == project_id
    done = finished(gql, project_id, "imp")
    assert done["state"] == "FINISHED" and done["progress"] == "100%"
    statuses = lines(done["statusFileUrl"])
    assert [s["status"] for s in statuses] == ["SUCCESS", "FAILURE", "FAILURE"]
    assert statuses[0] == {
        "uuid": "00000000-0000-4000-8000-000000000001",
        "dataRow": {"id": row_id},
        "status": "SUCCESS",
    }
    assert "model-z" in statuses[1]["errors"][0]["message"]
    assert statuses[2]["errors"][0]["name"] == "DataRowNotFound"
    assert [e["uuid"] for e in lines(done["errorFileUrl"])] == [s["uuid"] for s in statuses[1:]]
    assert requests.get(done["inputFileUrl"], timeout=10).content == body
    assert done["project"]["labelCount"] == 1
    again = start_import(gql, project_id, "imp", body)
    assert again["errors"][0]["extensions"]["code"] == "RESOURCE_CONFLICT"


def test_pre_labels_are_not_labels(gql, unique_name):
    project_id, _, key = setup(gql, unique_name)
    body = json.dumps(selection(key, "00000000-0000-4000-8000-000000000009")).encode()
    start_import(gql, project_id, "mal", body, root="createModelAssistedLabelingPredictionImport")
    done = finished(gql, project_id, "mal", root="modelAssistedLabelingPredictionImport")
    assert done["state"] == "FINISHED" and lines(done["errorFileUrl"]) == []
    assert done["project"]["labelCount"] == 0
    assert (
        gql.data(FIND.replace("ROOT", "labelImport"), {"projectId": project_id, "name": "mal"})["labelImport"]
        is None
    )


def test_a_file_that_is_not_ndjson_fails_the_import_and_foreign_urls_are_refused(gql, unique_name):
    project_id, _, _ = setup(gql, unique_name)
    start_import(gql, project_id, "empty", b"\n\n")
    assert finished(gql, project_id, "empty")["state"] == "FAILED"
    by_url = gql.post(
        "mutation($p: ID!, $n: String!, $u: String!){createLabelImport(data: {projectId: $p name: $n fileUrl: $u}){id}}",
        {"p": project_id, "n": "foreign", "u": "https://example.com/a.ndjson"},
    ).json()
    assert "only reads files uploaded to it" in by_url["errors"][0]["message"]
    neither = gql.post(
        "mutation($p: ID!, $n: String!){createLabelImport(data: {projectId: $p name: $n}){id}}",
        {"p": project_id, "n": "neither"},
    ).json()
    assert "exactly one of filePayload" in neither["errors"][0]["message"]


REQUIRED = "Choose the best response"


def required_radio_ontology() -> dict[str, Any]:
    """The MMC test ontology with its global radio required."""
    normalized = mmc_ontology()
    for classification in normalized["classifications"]:
        if classification["name"] == REQUIRED:
            classification["required"] = True
    return normalized


def radio(key: str, uuid: str) -> dict[str, Any]:
    return {"uuid": uuid, "name": REQUIRED, "dataRow": {"globalKey": key}, "answer": {"name": "Response B"}}


def partial_import(gql: RawGraphQL, name: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """Two rows; the first gets a selection and the required radio, the second a selection and a text."""
    project_id, rows = setup_rows(gql, name, [f"{name}-full", f"{name}-partial"], required_radio_ontology())
    (_, full), (_, partial) = rows
    body = "\n".join(json.dumps(line) for line in [
        selection(full, "00000000-0000-4000-8000-000000000011"),
        radio(full, "00000000-0000-4000-8000-000000000012"),
        selection(partial, "00000000-0000-4000-8000-000000000013"),
        {"uuid": "00000000-0000-4000-8000-000000000014", "name": "Provide a reason for your choice",
         "dataRow": {"globalKey": partial}, "answer": "because"},
    ]).encode()  # fmt: skip
    return project_id, rows, body


def test_ground_truth_fails_every_annotation_of_a_row_that_lacks_a_required_classification(gql, unique_name):
    project_id, [(full_id, _), (partial_id, partial)], body = partial_import(gql, unique_name)
    start_import(gql, project_id, "gt", body)
    done = finished(gql, project_id, "gt")
    assert done["state"] == "FINISHED"
    statuses = lines(done["statusFileUrl"])
    assert [(s["dataRow"]["id"], s["status"]) for s in statuses] == [
        (full_id, "SUCCESS"), (full_id, "SUCCESS"), (partial_id, "FAILURE"), (partial_id, "FAILURE"),
    ]  # fmt: skip
    for failed in statuses[2:]:
        [error] = failed["errors"]
        assert error["name"] == "ValidationError"
        assert f"required classification {REQUIRED!r}" in error["message"] and partial in error["message"]
    assert lines(done["errorFileUrl"]) == statuses[2:]
    assert done["project"]["labelCount"] == 1
    by_row = {
        row["data_row"]["id"]: row["projects"][project_id]["labels"]
        for row in rows_of(gql, export(gql, project_id))
    }
    assert by_row[partial_id] == []
    [label] = by_row[full_id]
    assert {c["name"] for c in label["annotations"]["classifications"]} == {REQUIRED}


def test_model_assisted_accepts_the_same_partial_pre_labels(gql, unique_name):
    project_id, _, body = partial_import(gql, unique_name)
    start_import(gql, project_id, "mal", body, root="createModelAssistedLabelingPredictionImport")
    done = finished(gql, project_id, "mal", root="modelAssistedLabelingPredictionImport")
    assert done["state"] == "FINISHED"
    assert [s["status"] for s in lines(done["statusFileUrl"])] == ["SUCCESS"] * 4
    assert lines(done["errorFileUrl"]) == [] and done["project"]["labelCount"] == 0
