"""`upsertDataRows` semantics end to end over HTTP: AUTO/GKEY/ID keys, rejected rows, result pages."""

from __future__ import annotations

import json
import time

import requests

from .helpers import RawGraphQL, conversation, spec

DATA_ROW = (
    "createdAt externalId globalKey mediaAttributes customMetadata { schemaId value } "
    "metadataFields { schemaId name value kind } rowData id updatedAt"
)


def row(dataset_id: str, key: str | None, **extra: object) -> dict:
    payload = {"row_data": conversation(key or "no key"), "dataset_id": dataset_id, **extra}
    if key is not None:
        payload["global_key"] = key
    return payload


def get_row(gql: RawGraphQL, **where: str) -> dict | None:
    response = gql.post(
        f"query($w: DataRowWhereUniqueInput!){{dataRow(where: $w){{{DATA_ROW}}}}}", {"w": where}
    )
    found: dict | None = response.json()["data"]["dataRow"]
    return found


def row_count(gql: RawGraphQL, dataset_id: str) -> int:
    count: int = gql.data("query($id: ID!){dataset(where: {id: $id}){rowCount}}", {"id": dataset_id})[
        "dataset"
    ]["rowCount"]
    return count


def test_auto_creates_and_reports_duplicate_keys_within_and_across_requests(gql, unique_name):
    dataset = gql.create_dataset(unique_name)
    key, other = f"{unique_name}-a", f"{unique_name}-b"
    task = gql.upsert(
        [
            spec(row(dataset, key)),
            spec(row(dataset, key)),
            spec(row(dataset, other)),
            spec(row(dataset, None)),
        ]
    )
    assert (task["status"], task["type"], task["errors"]) == ("COMPLETE", "adv-upsert-data-rows", None)
    assert isinstance(task["result"], str) and task["result"]
    assert task["completionPercentage"] == 100
    assert task["metadata"] == {"createdDataRows": 3, "updatedDataRows": 0, "failedDataRows": 1}
    assert sorted(n["globalKey"] or "" for n in gql.successes(task["id"])) == sorted(["", key, other])
    [failure] = gql.failures(task["id"])
    assert failure["message"] == f"Duplicate global key: '{key}'"
    assert failure["spec"]["globalKey"] == key and json.loads(failure["spec"]["rowData"]) == conversation(key)

    again = gql.upsert([spec(row(dataset, key))])
    assert [f["message"] for f in gql.failures(again["id"])] == [f"Duplicate global key: '{key}'"]
    assert gql.successes(again["id"]) == [] and row_count(gql, dataset) == 3


def test_row_data_objects_are_stored_as_json_strings_and_strings_as_is(gql, unique_name):
    dataset = gql.create_dataset(unique_name)
    task = gql.upsert(
        [
            spec(row(dataset, f"{unique_name}-obj", external_id="e1", media_type="CONVERSATIONAL")),
            spec(
                {
                    "row_data": "https://example.com/c.json",
                    "global_key": f"{unique_name}-url",
                    "dataset_id": dataset,
                }
            ),
        ]
    )
    by_key = {n["globalKey"]: n for n in gql.successes(task["id"])}
    assert json.loads(by_key[f"{unique_name}-obj"]["rowData"]) == conversation(f"{unique_name}-obj")
    assert by_key[f"{unique_name}-url"]["rowData"] == "https://example.com/c.json"
    fetched = get_row(gql, globalKey=f"{unique_name}-obj")
    assert fetched is not None and fetched["externalId"] == "e1"
    assert fetched == get_row(gql, id=fetched["id"])
    assert fetched["customMetadata"] == [] and fetched["metadataFields"] == []


def test_gkey_upserts_in_place_and_rejects_a_repeated_key(gql, unique_name):
    dataset = gql.create_dataset(unique_name)
    key, new = f"{unique_name}-k", f"{unique_name}-new"
    created = gql.successes(gql.upsert([spec(row(dataset, key, external_id="v1"))])["id"])[0]
    payload = {"row_data": "v2 text", "dataset_id": dataset, "external_id": "v2"}
    task = gql.upsert(
        [spec(payload, "GKEY", key), spec(payload, "GKEY", key), spec(row(dataset, None), "GKEY", new)]
    )
    ok = {n["globalKey"]: n for n in gql.successes(task["id"])}
    assert (
        ok[key]["id"] == created["id"] and ok[key]["rowData"] == "v2 text" and ok[key]["externalId"] == "v2"
    )
    assert ok[new]["id"] != created["id"]  # an absent key is created
    assert [f["message"] for f in gql.failures(task["id"])] == [f"Duplicate global key: '{key}'"]
    assert row_count(gql, dataset) == 2
    assert task["metadata"] == {"createdDataRows": 1, "updatedDataRows": 1, "failedDataRows": 1}


def test_id_updates_an_existing_row_and_reports_an_unknown_id(gql, unique_name):
    dataset = gql.create_dataset(unique_name)
    key, renamed = f"{unique_name}-k", f"{unique_name}-renamed"
    created = gql.successes(gql.upsert([spec(row(dataset, key))])["id"])[0]
    task = gql.upsert(
        [
            spec({"global_key": renamed, "external_id": "x", "dataset_id": dataset}, "ID", created["id"]),
            spec({"external_id": "y", "dataset_id": dataset}, "ID", "cnosuchrow0000000000000000"),
        ]
    )
    [ok] = gql.successes(task["id"])
    assert (ok["id"], ok["globalKey"], ok["externalId"]) == (created["id"], renamed, "x")
    assert ok["rowData"] == created["rowData"]  # fields not given are kept
    [failure] = gql.failures(task["id"])
    assert "cnosuchrow0000000000000000" in failure["message"] and "does not exist" in failure["message"]
    assert get_row(gql, globalKey=key) is None and get_row(gql, globalKey=renamed)["id"] == created["id"]


def test_bad_specs_become_failed_rows_with_reasons_and_the_task_still_completes(gql, unique_name):
    dataset = gql.create_dataset(unique_name)
    good = f"{unique_name}-good"
    bad_specs = [
        (spec({**row(dataset, f"{unique_name}-1"), "colour": "red"}), "unknown data row field(s) 'colour'"),
        (spec({"global_key": f"{unique_name}-2", "dataset_id": dataset}), "row_data is required"),
        (spec(row(dataset, "k" * 201)), "the limit is 200"),
        (spec(row("cnosuchdataset000000000000", f"{unique_name}-3")), "Dataset 'cnosuchdataset000000000000'"),
        (spec(row(dataset, f"{unique_name}-4", attachments={"type": "RAW_TEXT"})), "attachments must be a list"),
        (spec(row(dataset, f"{unique_name}-5", attachments=[{"type": "NOPE", "value": "v"}])), "each attachment"),
        (spec(row(dataset, f"{unique_name}-6"), "GUESS", "x"), "id.type must be one of"),
        (spec({**row(dataset, f"{unique_name}-7"), "row_data": 42}), "row_data must be"),
        (spec(row(dataset, f"{unique_name}-8", metadata_fields=[{"schemaId": "s", "value": 1}] * 2)), "A schemaId can only be specified once per DataRow : [s]"),
        ({"not": "a spec"}, "each spec must be an object"),
    ]  # fmt: skip
    task = gql.upsert([spec(row(dataset, good)), *(s for s, _ in bad_specs)])
    assert task["status"] == "COMPLETE"
    assert [n["globalKey"] for n in gql.successes(task["id"])] == [good]
    failures = gql.failures(task["id"])
    assert len(failures) == len(bad_specs)
    for failure, (_, expected) in zip(failures, bad_specs, strict=True):
        assert expected in failure["message"]
    assert failures[0]["spec"]["globalKey"] == f"{unique_name}-1"


def test_attachments_and_metadata_are_kept(gql, unique_name):
    dataset = gql.create_dataset(unique_name)
    attachments = [{"type": "RAW_TEXT", "value": "context", "name": "note"}]
    schema = gql.data(
        "mutation($data: UpsertCustomMetadataSchemaInput!){upsertCustomMetadataSchema(data: $data){id}}",
        {"data": {"name": f"{unique_name}-tag", "kind": "CustomMetadataString"}},
    )["upsertCustomMetadataSchema"]
    metadata = [{"schemaId": schema["id"], "value": "tag value"}]
    task = gql.upsert([spec(row(dataset, unique_name, attachments=attachments, metadata_fields=metadata))])
    [ok] = gql.successes(task["id"])
    query = "query($id: ID!){dataRow(where: {id: $id}){customMetadata { schemaId value } attachments(skip: 0 first: 100){name type value id}}}"
    fetched = gql.data(query, {"id": ok["id"]})["dataRow"]
    assert fetched["customMetadata"] == metadata
    assert [{k: a[k] for k in ("name", "type", "value")} for a in fetched["attachments"]] == attachments


def test_results_and_failures_are_cursor_paginated(gql, unique_name):
    dataset = gql.create_dataset(unique_name)
    specs = [spec(row(dataset, f"{unique_name}-{i}")) for i in range(7)]
    specs += [spec({"dataset_id": dataset, "global_key": f"{unique_name}-bad-{i}"}) for i in range(5)]
    task = gql.upsert(specs, chunk_size=4)
    pages = gql.pages(
        "query($taskId: ID!, $first: Int, $from: String){successesfulDataRowImports(data: {taskId: $taskId, "
        "first: $first, from: $from}){nodes{id globalKey} after total}}",
        "successesfulDataRowImports",
        "nodes",
        task["id"],
        first=3,
    )
    assert [len(p["nodes"]) for p in pages] == [3, 3, 1] and {p["total"] for p in pages} == {7}
    assert [n["globalKey"] for p in pages for n in p["nodes"]] == [f"{unique_name}-{i}" for i in range(7)]
    failures = gql.failures(task["id"], first=2)
    assert [f["spec"]["globalKey"] for f in failures] == [f"{unique_name}-bad-{i}" for i in range(5)]
    bad_cursor = gql.post(
        'query($t: ID!){failedDataRowImports(data: {taskId: $t, from: "zz"}){total}}', {"t": task["id"]}
    )
    assert bad_cursor.json()["errors"][0]["extensions"]["exception"]["status"] == 400


def test_global_key_lookup_job_and_dataset_pages(gql, unique_name):
    dataset = gql.create_dataset(unique_name)
    keys = [f"{unique_name}-{i}" for i in range(5)]
    task = gql.upsert([spec(row(dataset, k, external_id=f"e{i}")) for i, k in enumerate(keys)])
    ids = {n["globalKey"]: n["id"] for n in gql.successes(task["id"])}
    start = gql.data(
        "query getDataRowsForGlobalKeysPyApi($globalKeys: [ID!]!) {dataRowsForGlobalKeys(where: {ids: $globalKeys}) { jobId}}",
        {"globalKeys": [keys[3], "missing-key", keys[0]]},
    )
    result = gql.data(
        "query($jobId: ID!) {dataRowsForGlobalKeysResult(jobId: {id: $jobId}) { data { fetchedDataRows { id } "
        "notFoundGlobalKeys accessDeniedGlobalKeys } jobStatus}}",
        {"jobId": start["dataRowsForGlobalKeys"]["jobId"]},
    )["dataRowsForGlobalKeysResult"]
    assert result["jobStatus"] == "COMPLETE"
    assert result["data"] == {
        "fetchedDataRows": [{"id": ids[keys[3]]}, {"id": ""}, {"id": ids[keys[0]]}],
        "notFoundGlobalKeys": ["missing-key"],
        "accessDeniedGlobalKeys": [],
    }
    page_query = (
        "query($id: ID!, $from: ID, $first: Int, $where: DatasetDataRowWhereInput){datasetDataRows(id: $id, "
        "from: $from, first: $first, where: $where){nodes { id globalKey } pageInfo { hasNextPage startCursor }}}"
    )
    seen, cursor = [], None
    while True:
        page = gql.data(page_query, {"id": dataset, "from": cursor, "first": 2})["datasetDataRows"]
        seen += [n["globalKey"] for n in page["nodes"]]
        cursor = page["pageInfo"]["startCursor"]
        if not cursor:
            break
    assert seen == list(reversed(keys))  # newest first
    by_external = gql.data(page_query, {"id": dataset, "where": {"externalId": "e2"}})["datasetDataRows"]
    assert [n["globalKey"] for n in by_external["nodes"]] == [keys[2]]


def test_deleting_a_dataset_frees_its_global_keys(gql, unique_name):
    dataset = gql.create_dataset(unique_name)
    gql.upsert([spec(row(dataset, unique_name))])
    gql.data(
        "mutation($id: ID!){updateDataset(where: {id: $id} data: {deleted: true}) {id}}", {"id": dataset}
    )
    assert get_row(gql, globalKey=unique_name) is None
    other = gql.create_dataset(unique_name + "-2")
    task = gql.upsert([spec(row(other, unique_name))])
    assert len(gql.successes(task["id"])) == 1 and gql.failures(task["id"]) == []


def test_an_unreadable_manifest_fails_the_task_with_a_clear_error(gql, unique_name):
    foreign = gql.wait(gql.start_upsert_from("https://storage.example.com/manifest.json")["id"])
    assert foreign["status"] == "FAILED" and "only reads files uploaded to it" in foreign["errors"]
    not_json = gql.wait(gql.start_upsert_from(gql.upload(b"{nope", "manifest.json"))["id"])
    assert not_json["status"] == "FAILED" and "not valid JSON" in not_json["errors"]
    no_chunks = gql.wait(gql.start_upsert_from(gql.upload(b'{"source": "SDK"}', "manifest.json"))["id"])
    assert no_chunks["status"] == "FAILED" and "chunk_uris" in no_chunks["errors"]
    legacy = requests.get(foreign["result"], timeout=10).json()  # what the SDK's plain Task.errors reads
    assert "only reads files uploaded to it" in legacy["error"]


def test_the_result_url_serves_the_legacy_result_document(gql, unique_name):
    dataset = gql.create_dataset(unique_name)
    task = gql.upsert([spec(row(dataset, unique_name)), spec(row(dataset, unique_name))])
    document = requests.get(task["result"], timeout=10).json()
    assert [r["globalKey"] for r in document["createdDataRows"]] == [unique_name]
    assert document["errors"][0]["message"] == f"Duplicate global key: '{unique_name}'"


def test_twenty_thousand_rows_are_processed_in_seconds(gql, unique_name):
    dataset = gql.create_dataset(unique_name)
    specs = [spec(row(dataset, f"{unique_name}-{i:05d}")) for i in range(20_000)]
    created = gql.start_upsert(specs, chunk_size=5000)
    started = time.monotonic()
    task = gql.wait(created["id"])
    elapsed = time.monotonic() - started
    assert task["metadata"] == {"createdDataRows": 20_000, "updatedDataRows": 0, "failedDataRows": 0}
    assert elapsed < 8, f"20,000 rows took {elapsed:.1f}s"  # typically 1-2 s; generous for a loaded CI box
    assert row_count(gql, dataset) == 20_000
    assert len(gql.successes(task["id"])) == 20_000  # four result pages of 5,000
