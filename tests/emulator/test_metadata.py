"""Custom metadata schemas (`customMetadataOntology`, `upsertCustomMetadataSchema`) and row metadata."""

from __future__ import annotations

import labelbox as lb
from labelbox.schema.data_row_metadata import DataRowMetadataField, DataRowMetadataKind

from .helpers import spec

UPSERT = (
    "mutation($data: UpsertCustomMetadataSchemaInput!){upsertCustomMetadataSchema(data: $data)"
    "{id name kind options {id name kind}}}"
)
ONTOLOGY = "{customMetadataOntology { id name kind reserved options { id kind name reserved } }}"
ROW = (
    "query($id: ID!){dataRow(where: {id: $id}){customMetadata {schemaId value} "
    "metadataFields {schemaId name value kind}}}"
)


def _schema(gql, name, kind, options=None):
    data = {"name": name, "kind": kind}
    if options:
        data["options"] = [{"name": o, "kind": "CustomMetadataEnumOption"} for o in options]
    return gql.data(UPSERT, {"data": data})["upsertCustomMetadataSchema"]


def test_upsert_is_get_or_create_by_name_and_adds_enum_options(gql, unique_name):
    first = _schema(gql, unique_name, "CustomMetadataEnum", ["a", "b"])
    again = _schema(gql, unique_name, "CustomMetadataEnum", ["b", "c"])
    assert again["id"] == first["id"]
    assert [o["name"] for o in again["options"]] == ["a", "b", "c"]
    assert {o["kind"] for o in again["options"]} == {"CustomMetadataEnumOption"}
    listed = {s["name"]: s for s in gql.data(ONTOLOGY)["customMetadataOntology"]}
    assert listed[unique_name]["reserved"] is False and len(listed[unique_name]["options"]) == 3


def test_kind_change_and_bad_kinds_are_refused(gql, unique_name):
    _schema(gql, unique_name, "CustomMetadataString")
    changed = gql.post(UPSERT, {"data": {"name": unique_name, "kind": "CustomMetadataNumber"}}).json()
    assert "exists with kind CustomMetadataString" in changed["errors"][0]["message"]
    bad = gql.post(UPSERT, {"data": {"name": unique_name + "x", "kind": "Text"}}).json()
    assert "kind must be one of" in bad["errors"][0]["message"]
    options_on_string = gql.post(
        UPSERT,
        {"data": {"name": unique_name + "y", "kind": "CustomMetadataString",
                  "options": [{"name": "o", "kind": "CustomMetadataEnumOption"}]}},
    ).json()  # fmt: skip
    assert "must be an Enum" in options_on_string["errors"][0]["message"]


def test_rows_keep_checked_metadata_and_bad_fields_fail_their_row(gql, unique_name):
    text = _schema(gql, f"{unique_name}-t", "CustomMetadataString")
    number = _schema(gql, f"{unique_name}-n", "CustomMetadataNumber")
    enum = _schema(gql, f"{unique_name}-e", "CustomMetadataEnum", ["vision", "text"])
    vision = enum["options"][0]["id"]
    dataset = gql.create_dataset(unique_name)

    def payload(key, metadata):
        return spec({"dataset_id": dataset, "row_data": "https://x/y.png", "global_key": key,
                     "metadata_fields": metadata})  # fmt: skip

    good = [{"schemaId": text["id"], "value": "hello"}, {"schemaId": number["id"], "value": 3},
            {"schemaId": enum["id"], "value": vision}]  # fmt: skip
    task = gql.upsert([
        payload(f"{unique_name}-ok", good),
        payload(f"{unique_name}-unknown", [{"schemaId": "cnope0000000000000000000", "value": "x"}]),
        payload(f"{unique_name}-enum", [{"schemaId": enum["id"], "value": "cnotanoption00000000000000"}]),
        payload(f"{unique_name}-num", [{"schemaId": number["id"], "value": "three"}]),
    ])  # fmt: skip
    [ok] = gql.successes(task["id"])
    failures = {f["spec"]["globalKey"]: f["message"] for f in gql.failures(task["id"])}
    assert "does not exist in the organisation" in failures[f"{unique_name}-unknown"]
    assert "must be one of its option ids" in failures[f"{unique_name}-enum"]
    assert "is a number" in failures[f"{unique_name}-num"]
    row = gql.data(ROW, {"id": ok["id"]})["dataRow"]
    assert row["customMetadata"] == [
        *good[:2],
        {"schemaId": enum["id"], "value": {}},
        {"schemaId": vision, "value": {}},
    ]
    assert row["metadataFields"] == [
        {
            "schemaId": text["id"],
            "name": f"{unique_name}-t",
            "value": "hello",
            "kind": "CustomMetadataString",
        },
        {"schemaId": number["id"], "name": f"{unique_name}-n", "value": 3, "kind": "CustomMetadataNumber"},
        {"schemaId": enum["id"], "name": f"{unique_name}-e", "value": vision, "kind": "CustomMetadataEnum"},
    ]


def test_sdk_metadata_ontology_creates_and_reads_schemas(lb_emulator, unique_name):
    client = lb.Client(api_key=lb_emulator.api_key, endpoint=lb_emulator.graphql_url)
    ontology = client.get_data_row_metadata_ontology()
    created = ontology.create_schema(unique_name, DataRowMetadataKind.enum, options=["red", "blue"])
    assert created.kind is DataRowMetadataKind.enum and [o.name for o in created.options] == ["red", "blue"]
    ontology.refresh_ontology()
    assert ontology.get_by_name(unique_name)["blue"].uid == created.options[1].uid
    dataset = client.create_dataset(name=unique_name)
    try:
        row = dataset.create_data_row(
            row_data="https://x/y.png",
            global_key=unique_name,
            metadata_fields=[DataRowMetadataField(name=unique_name, value="blue")],
        )
        [field] = row.metadata_fields
        assert field["schemaId"] == created.uid and field["value"] == created.options[1].uid
        [parsed] = row.metadata
        assert parsed.schema_id == created.uid and parsed.value == created.options[1].uid
    finally:
        dataset.delete()
