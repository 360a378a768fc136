"""Projects: the SDK's create variants, look-ups, deletion, and the captured connect_ontology sequence."""

from __future__ import annotations

import pytest

from .helpers import (
    DELETE_PROJECT,
    GET_PROJECT,
    GET_PROJECTS,
    ONTOLOGY_FIELDS,
    PROJECT_FIELDS,
    QUALITY_DEFAULTS,
    Projects,
    create_project_query,
    error_of,
)

LABEL_COUNT = "query LabelCountPyApi($projectId: ID!) { project(where: {id: $projectId}) { labelCount } }"
PROJECT_FRONTEND = (
    "query GetProjectLabelingFrontendPyApi($param_0: ID!){project(where: {id: $param_0})"
    "{labelingFrontend{description iframeUrlPath name id}}}"
)
FRONTENDS = (
    "query GetLabelingFrontendsPyApi($param_0: String!, $param_1: Boolean!){labelingFrontends(where: "
    "{AND: [{name: $param_0}, {deleted: $param_1}]} skip: 0 first: 100){description iframeUrlPath name id}}"
)
CONNECT_FRONTEND = (
    "mutation ConnectProjectAndLabelingFrontendPyApi($projectId: ID!, $labelingFrontendId: ID!){updateProject("
    " where: {id: $projectId} data: {labelingFrontend: {connect: {id: $labelingFrontendId}}}) {id}}"
)
FRONTEND_OPTIONS = (
    "mutation CreateLabelingFrontendOptionsPyApi($project: ID!, $labelingFrontend: ID!, $customizationOptions: "
    "String!){createLabelingFrontendOptions(data: {project: {connect: {id: $project}} labelingFrontend: "
    "{connect: {id: $labelingFrontend}} customizationOptions: $customizationOptions}) {customizationOptions id}}"
)
CONNECT_ONTOLOGY = (
    "mutation ConnectOntologyPyApi($projectId: ID!, $ontologyId: ID!){ project(where: {id: $projectId}) "
    "{connectOntology(ontologyId: $ontologyId) {id}}}"
)
PROJECT_ONTOLOGY = f"query GetProjectOntologyPyApi($param_0: ID!){{project(where: {{id: $param_0}}){{ontology{{{ONTOLOGY_FIELDS}}}}}}}"


def frontend_of(gql, project_id: str):
    return gql.data(PROJECT_FRONTEND, {"param_0": project_id})["project"]["labelingFrontend"]


@pytest.mark.parametrize(
    ("kind", "editor_task_type", "upload_type", "frontend"),
    [
        ("offline", "OFFLINE_MODEL_CHAT_EVALUATION", "MANUAL", None),
        ("live", "MODEL_CHAT_EVALUATION", "MANUAL", "Editor"),  # live projects come set up
        ("plain", None, None, None),
    ],
)
def test_the_sdk_project_variants(gql, unique_name, kind, editor_task_type, upload_type, frontend):
    project = Projects(gql).create_project(unique_name, kind, description="about it")
    assert set(PROJECT_FIELDS.split()) <= set(project)
    assert (project["name"], project["description"]) == (unique_name, "about it")
    assert (project["allowedMediaType"], project["editorTaskType"], project["uploadType"]) == (
        "CONVERSATIONAL",
        editor_task_type,
        upload_type,
    )
    assert (project["autoAuditNumberOfLabels"], project["autoAuditPercentage"]) == (3, 0)
    assert project["isBenchmarkEnabled"] is True and project["isConsensusEnabled"] is True
    assert project["dataRowCount"] == 0 and project["setupComplete"] is None
    assert project["modelSetupComplete"] is None and len(project["id"]) == 25
    assert gql.data(GET_PROJECT, {"param_0": project["id"]})["project"] == project
    assert (frontend_of(gql, project["id"]) or {}).get("name") == frontend


def test_find_by_name_then_delete(gql, unique_name):
    api = Projects(gql)
    first, second = api.create_project(unique_name), api.create_project(unique_name)
    api.create_project(f"{unique_name}-other")
    found = gql.data(GET_PROJECTS, {"name": unique_name, "deleted": False})["projects"]
    assert [p["id"] for p in found] == [first["id"], second["id"]]

    assert gql.data(DELETE_PROJECT, {"id": first["id"]})["updateProject"]["id"] == first["id"]
    found = gql.data(GET_PROJECTS, {"name": unique_name, "deleted": False})["projects"]
    assert [p["id"] for p in found] == [second["id"]]
    deleted = gql.data(GET_PROJECTS, {"name": unique_name, "deleted": True})["projects"]
    assert [p["id"] for p in deleted] == [first["id"]]
    assert (
        error_of(gql.post(GET_PROJECT, {"param_0": first["id"]}))["extensions"]["code"]
        == "RESOURCE_NOT_FOUND"
    )
    assert (
        error_of(gql.post(DELETE_PROJECT, {"id": first["id"]}))["extensions"]["code"] == "RESOURCE_NOT_FOUND"
    )


def test_rename_through_the_orm_update(gql, unique_name):
    project = Projects(gql).create_project(unique_name)
    query = "mutation($id: ID!, $name: String!){updateProject(where: {id: $id} data: {name: $name}){name}}"
    assert gql.data(query, {"id": project["id"], "name": f"{unique_name}-2"})["updateProject"]["name"] == (
        f"{unique_name}-2"
    )
    assert "blank" in error_of(gql.post(query, {"id": project["id"], "name": " "}))["message"]


@pytest.mark.parametrize(
    ("variables", "fragment"),
    [
        ({"name": "  "}, "must not be blank"),
        ({"editorTaskType": "OFFLINE_MODEL_CHAT_EVALUATION", "allowedMediaType": "IMAGE"}, "CONVERSATIONAL"),
        ({"autoAuditPercentage": 2.0}, "autoAuditPercentage"),
        (
            {"editorTaskType": "MODEL_CHAT_EVALUATION", "datasetNameOrId": "d", "dataRowCount": 10},
            "does not generate data rows",
        ),
    ],
)
def test_projects_that_cannot_be_made_are_refused(gql, unique_name, variables, fragment):
    full = {"name": unique_name, "allowedMediaType": "CONVERSATIONAL", **QUALITY_DEFAULTS, **variables}
    error = error_of(gql.post(create_project_query(full), full))
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR" and fragment in error["message"]


def test_the_captured_connect_ontology_sequence(gql, unique_name):
    """labelCount, labelingFrontend (null), the Editor, connect it, options, then connectOntology."""
    api = Projects(gql)
    ontology = api.create_ontology(unique_name)
    project = api.create_project(unique_name)
    pid = project["id"]
    assert gql.data(LABEL_COUNT, {"projectId": pid})["project"]["labelCount"] == 0
    assert frontend_of(gql, pid) is None
    [editor] = gql.data(FRONTENDS, {"param_0": "Editor", "param_1": False})["labelingFrontends"]
    assert editor["name"] == "Editor" and editor["iframeUrlPath"]
    gql.data(CONNECT_FRONTEND, {"projectId": pid, "labelingFrontendId": editor["id"]})
    options = gql.data(
        FRONTEND_OPTIONS,
        {
            "project": pid,
            "labelingFrontend": editor["id"],
            "customizationOptions": '{"tools": [], "classifications": []}',
        },
    )["createLabelingFrontendOptions"]
    assert options["customizationOptions"] == '{"tools": [], "classifications": []}' and options["id"]
    # As the service does, the options leave the project with a default, empty ontology.
    default = gql.data(PROJECT_ONTOLOGY, {"param_0": pid})["project"]["ontology"]
    assert default["normalized"] == {"tools": [], "classifications": []}

    connected = gql.data(CONNECT_ONTOLOGY, {"projectId": pid, "ontologyId": ontology["id"]})
    assert connected["project"]["connectOntology"]["id"] == pid
    assert frontend_of(gql, pid)["id"] == editor["id"]
    attached = gql.data(PROJECT_ONTOLOGY, {"param_0": pid})["project"]["ontology"]
    assert attached == ontology  # same ids as when created
    assert gql.data(GET_PROJECT, {"param_0": pid})["project"]["setupComplete"] is not None


def test_an_ontology_of_another_media_type_cannot_be_connected(gql, unique_name):
    api = Projects(gql)
    project = api.create_project(unique_name)
    image = api.create_ontology(f"{unique_name}-image", {}, media_type="IMAGE", editor_task_type=None)
    error = error_of(gql.post(CONNECT_ONTOLOGY, {"projectId": project["id"], "ontologyId": image["id"]}))
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["exception"]["status"] == 422  # the SDK: UnprocessableEntityError
    assert "IMAGE" in error["message"] and "CONVERSATIONAL" in error["message"]
    untyped = api.create_ontology(f"{unique_name}-untyped", {}, media_type=None, editor_task_type=None)
    gql.data(CONNECT_ONTOLOGY, {"projectId": project["id"], "ontologyId": untyped["id"]})


def test_connecting_unknown_things_is_resource_not_found(gql, unique_name):
    project = Projects(gql).create_project(unique_name)
    missing = "cnosuchthing0000000000000"
    for variables in (
        {"projectId": project["id"], "ontologyId": missing},
        {"projectId": missing, "ontologyId": missing},
    ):
        assert error_of(gql.post(CONNECT_ONTOLOGY, variables))["extensions"]["code"] == "RESOURCE_NOT_FOUND"
    frontend = {"projectId": project["id"], "labelingFrontendId": missing}
    assert error_of(gql.post(CONNECT_FRONTEND, frontend))["extensions"]["code"] == "RESOURCE_NOT_FOUND"


def test_the_same_schema_is_served_on_gql(gql, unique_name):
    project = Projects(gql).create_project(unique_name)
    assert gql.data(GET_PROJECT, {"param_0": project["id"]}, path="/_gql")["project"]["id"] == project["id"]
