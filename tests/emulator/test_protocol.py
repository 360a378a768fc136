"""The HTTP/GraphQL surface: authentication, error codes, `/_gql` parity, uploads and file URLs."""

from __future__ import annotations

import json

import pytest
import requests

from .helpers import UPLOAD, RawGraphQL

USER_QUERY = "query GetUserPyApi{user{createdAt email isExternalUser isViewer lastLoginAt nickname name picture id updatedAt}}"
AUTH_FAILURE = {
    "data": None,
    "errors": [{"message": "Invalid API key", "extensions": {"code": "AUTHENTICATION_ERROR"}}],
}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-key"}, {"Authorization": "Basic test-api-key-0123456789"}],
    ids=["missing", "wrong", "not-bearer"],
)
def test_requests_without_the_right_key_get_401_authentication_error(lb_emulator, headers):
    for path in ("/graphql", "/_gql"):
        response = requests.post(
            lb_emulator.base_url + path, json={"query": USER_QUERY}, headers=headers, timeout=10
        )
        assert response.status_code == 401
        assert response.json() == AUTH_FAILURE


def test_the_api_key_is_never_logged(gql, lb_emulator):
    gql.data(USER_QUERY)
    assert "listening on" in lb_emulator.log_text()
    assert lb_emulator.api_key not in lb_emulator.log_text()


def test_every_sdk_selected_field_comes_back(gql):
    user = gql.data(USER_QUERY)["user"]
    assert set(user) == {
        "createdAt", "email", "isExternalUser", "isViewer", "lastLoginAt", "nickname", "name", "picture", "id",
        "updatedAt",
    }  # fmt: skip
    assert len(user["id"]) == 25 and user["id"].startswith("c")
    assert len(user["createdAt"]) == 24 and user["createdAt"].endswith("Z") and user["createdAt"][19] == "."
    organization = gql.data("query GetOrganizationPyApi{organization{createdAt name id updatedAt}}")
    assert organization["organization"]["name"]


def test_iam_integrations_query_with_union_fragments_validates(gql):
    query = (
        "query getAllIntegrationsPyApi { iamIntegrations { createdAt isOrgDefault lastValidAt name provider id "
        "updatedAt valid settings { __typename ... on AwsIamIntegrationSettings {roleArn} ... on "
        "GcpIamIntegrationSettings {serviceAccountEmailId readBucket} } } }"
    )
    assert gql.data(query) == {"iamIntegrations": []}
    metadata = "query { customMetadataOntology { id name kind reserved options { id kind name reserved } } }"
    schemas = gql.data(metadata)["customMetadataOntology"]  # shared emulator: other tests add schemas
    assert isinstance(schemas, list) and all(s["reserved"] is False for s in schemas)


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ user { id notAField } }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("{ noSuchRoot }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("{ user { id ", None, "GRAPHQL_PARSE_FAILED"),
        ("query($id: ID!){dataset(where: {id: $id}){id}}", {}, "INTERNAL_SERVER_ERROR"),
        ("query($id: ID!){dataset(where: {id: $id}){id}}", {"id": 5.5}, "INTERNAL_SERVER_ERROR"),
    ],
    ids=["unknown-field", "unknown-root", "syntax", "missing-variable", "bad-variable"],
)
def test_bad_queries_get_400_with_the_service_error_code(gql, query, variables, code):
    for path in ("/graphql", "/_gql"):
        response = gql.post(query, variables, path=path)
        assert response.status_code == 400
        errors = response.json()["errors"]
        assert errors and all(e["extensions"]["code"] == code for e in errors)
    if code == "INTERNAL_SERVER_ERROR":  # the SDK maps status 400 to InvalidQueryError
        assert errors[0]["extensions"]["exception"]["status"] == 400


def test_missing_objects_are_null_with_resource_not_found(gql):
    response = gql.post(
        "query($id: ID!){dataset(where: {id: $id}){id name}}", {"id": "cnosuchdataset000000000000"}
    )
    body = response.json()
    assert response.status_code == 200 and body["data"] == {"dataset": None}
    assert body["errors"][0]["extensions"]["code"] == "RESOURCE_NOT_FOUND"


def test_bad_input_is_internal_server_error_with_status_400(gql):
    body = gql.post('mutation { createDataset(data: {name: "   "}) { id } }').json()
    assert body["errors"][0]["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "exception": {"status": 400, "message": "Dataset name must not be blank"},
    }


def test_a_body_that_is_not_graphql_is_a_malformed_request(lb_emulator, gql):
    response = gql.session.post(lb_emulator.graphql_url, data=b"not json", timeout=10)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "MALFORMED_REQUEST"
    batch = gql.session.post(lb_emulator.graphql_url, json=[{"query": USER_QUERY}], timeout=10)
    assert batch.status_code == 400 and "batches" in batch.json()["errors"][0]["message"]


def test_gql_endpoint_serves_the_same_schema_and_state(gql, unique_name):
    dataset_id = gql.create_dataset(unique_name)
    query = "query($id: ID!){dataset(where: {id: $id}){createdAt description name rowCount id updatedAt}}"
    assert gql.data(query, {"id": dataset_id}, path="/_gql") == gql.data(query, {"id": dataset_id})
    assert gql.data(USER_QUERY, path="/_gql") == gql.data(USER_QUERY)


def test_upload_then_download_round_trip_with_swapped_part_headers(gql):
    content = bytes(range(256)) * 100
    # The SDK sends data-row chunks with filename and content type swapped; both must be accepted.
    url = gql.upload(content, filename="application/json", content_type="json_import.json")
    assert url.startswith(gql.emulator.base_url + "/files/")
    download = requests.get(url, timeout=10)  # file URLs need no API key, like signed URLs
    assert download.status_code == 200 and download.content == content
    assert requests.head(url, timeout=10).status_code == 200


def test_upload_of_a_plain_form_field_and_an_unknown_file(gql, lb_emulator):
    operations = json.dumps(
        {"query": UPLOAD, "variables": {"file": None, "contentLength": 999, "sign": True}}
    )
    response = gql.session.post(
        lb_emulator.graphql_url,
        files={
            "operations": (None, operations),
            "map": (None, '{"1": ["variables.file"]}'),
            "1": (None, "text"),
        },
        timeout=10,
    )
    url = response.json()["data"]["uploadFile"]["url"]  # contentLength is not enforced
    assert requests.get(url, timeout=10).content == b"text"
    assert requests.get(lb_emulator.base_url + "/files/cnosuchfile", timeout=10).status_code == 404


def test_upload_errors_are_reported_not_crashed(gql, lb_emulator):
    as_json = gql.post(UPLOAD, {"file": "not a file", "contentLength": 3})
    assert as_json.json()["errors"][0]["extensions"]["exception"]["status"] == 400
    operations = json.dumps({"query": UPLOAD, "variables": {"file": None, "contentLength": 1}})
    missing_part = gql.session.post(
        lb_emulator.graphql_url,
        files={"operations": (None, operations), "map": (None, '{"7": ["variables.file"]}')},
        timeout=10,
    )
    assert missing_part.status_code == 400
    assert missing_part.json()["errors"][0]["extensions"]["code"] == "MALFORMED_REQUEST"


def test_datasets_list_filter_shapes(gql: RawGraphQL, unique_name):
    first, second = gql.create_dataset(unique_name), gql.create_dataset(unique_name)
    orm = (
        "query GetDatasetsPyApi($param_0: String!, $param_1: Boolean!){datasets(where: {AND: [{name: $param_0}, "
        "{deleted: $param_1}]} skip: %d first: %d){createdAt description name rowCount id updatedAt}}"
    )
    found = gql.data(orm % (0, 100), {"param_0": unique_name, "param_1": False})["datasets"]
    assert [d["id"] for d in found] == [first, second]
    assert [
        d["id"] for d in gql.data(orm % (1, 100), {"param_0": unique_name, "param_1": False})["datasets"]
    ] == [second]
    plain = gql.data("query($n: String!){datasets(where: {name: $n}){id}}", {"n": unique_name})["datasets"]
    assert [d["id"] for d in plain] == [first, second]
    delete = "mutation deleteDatasetPyApi($DatasetId: ID!){updateDataset(where: {id: $DatasetId} data: {deleted: true}) {id}}"
    gql.data(delete, {"DatasetId": first})
    assert [
        d["id"] for d in gql.data(orm % (0, 100), {"param_0": unique_name, "param_1": False})["datasets"]
    ] == [second]
    assert [
        d["id"] for d in gql.data(orm % (0, 100), {"param_0": unique_name, "param_1": True})["datasets"]
    ] == [first]
