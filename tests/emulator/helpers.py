"""Helpers for the emulator's own tests: a raw GraphQL caller that speaks the wire protocol by hand."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import requests

from airflow_mmc_provider.emulator.testing import EmulatorProcess

UPLOAD = (
    "mutation UploadFile($file: Upload!, $contentLength: Int!, $sign: Boolean) "
    "{ uploadFile(file: $file, contentLength: $contentLength, sign: $sign) {url filename} }"
)
UPSERT = (
    "mutation UpsertDataRowsPyApi($manifestUri: String!) { upsertDataRows(data: { manifestUri: $manifestUri }) "
    "{ id createdAt updatedAt name status completionPercentage result errors type metadata } }"
)
TASK = (
    "query GetUserCreatedTasksPyApi($param_0: ID!, $param_1: ID!){user(where: {id: $param_1}){"
    "createdTasks(where: {id: $param_0} skip: 0 first: 100){completionPercentage createdAt errors metadata "
    "name result status status type id updatedAt}}}"
)
SUCCESSES = (
    "query SuccessesfulDataRowImportsPyApi($taskId: ID!, $first: Int, $from: String) { "
    "successesfulDataRowImports(data: { taskId: $taskId, first: $first, from: $from}) { "
    "nodes { id externalId globalKey rowData } after total } }"
)
FAILURES = (
    "query FailedDataRowImportsPyApi($taskId: ID!, $first: Int, $from: String) { failedDataRowImports(data: "
    "{ taskId: $taskId, first: $first, from: $from}) { after total results { message spec { externalId "
    "globalKey rowData metadata { schemaId value name } attachments { type value name } } } } }"
)
MMC_TYPE = "application/vnd.labelbox.conversational.model-chat-evaluation"


def conversation(text: str = "Hello") -> dict[str, Any]:
    """A small multimodal-chat row_data (version 2) with one prompt and one model answer."""
    return {
        "type": MMC_TYPE,
        "version": 2,
        "actors": {
            "u": {"role": "human", "metadata": {"name": "User"}},
            "m": {"role": "model", "metadata": {"modelConfigName": "model-a"}},
        },
        "messages": {
            "p": {"actorId": "u", "content": [{"type": "text", "content": text}], "childMessageIds": ["r"]},
            "r": {"actorId": "m", "content": [{"type": "text", "content": "Hi"}], "childMessageIds": []},
        },
        "rootMessageIds": ["p"],
    }


def spec(payload: dict[str, Any], key_type: str = "AUTO", value: str = "") -> dict[str, Any]:
    return {"id": {"type": key_type, "value": value}, "payload": payload}


class RawGraphQL:
    """Sends GraphQL by hand (JSON and multipart), as any client of the wire protocol would."""

    def __init__(self, emulator: EmulatorProcess, api_key: str | None = None) -> None:
        self.emulator = emulator
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_key or emulator.api_key}"

    def post(
        self, query: str, variables: dict[str, Any] | None = None, *, path: str = "/graphql"
    ) -> requests.Response:
        return self.session.post(
            self.emulator.base_url + path, json={"query": query, "variables": variables}, timeout=30
        )

    def data(self, query: str, variables: dict[str, Any] | None = None, *, path: str = "/graphql") -> Any:
        response = self.post(query, variables, path=path)
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        return body["data"]

    def upload(
        self, content: bytes, filename: str = "data.json", content_type: str = "application/json"
    ) -> str:
        operations = json.dumps({"query": UPLOAD, "variables": {"file": None, "contentLength": len(content)}})
        response = self.session.post(
            self.emulator.graphql_url,
            files={
                "operations": (None, operations),
                "map": (None, json.dumps({"1": ["variables.file"]})),
                "1": (filename, content, content_type),
            },
            timeout=30,
        )
        assert response.status_code == 200, response.text
        url: str = response.json()["data"]["uploadFile"]["url"]
        return url

    def create_dataset(self, name: str) -> str:
        query = "mutation($name: String!){createDataset(data: {name: $name}){id}}"
        dataset_id: str = self.data(query, {"name": name})["createDataset"]["id"]
        return dataset_id

    def start_upsert(self, specs: Sequence[dict[str, Any]], *, chunk_size: int = 1000) -> dict[str, Any]:
        """Upload specs as chunks plus a manifest and start the upsert; return the task as created."""
        chunks = [
            self.upload(
                json.dumps(list(specs[i : i + chunk_size])).encode(), "application/json", "json_import.json"
            )
            for i in range(0, len(specs), chunk_size)
        ]
        manifest = {"source": "SDK", "item_count": len(specs), "chunk_uris": chunks}
        return self.start_upsert_from(self.upload(json.dumps(manifest).encode(), "manifest.json"))

    def start_upsert_from(self, manifest_url: str) -> dict[str, Any]:
        task: dict[str, Any] = self.data(UPSERT, {"manifestUri": manifest_url})["upsertDataRows"]
        return task

    def user_id(self) -> str:
        user_id: str = self.data("query GetUserPyApi{user{id}}")["user"]["id"]
        return user_id

    def task(self, task_id: str) -> dict[str, Any]:
        tasks = self.data(TASK, {"param_0": task_id, "param_1": self.user_id()})["user"]["createdTasks"]
        assert len(tasks) == 1
        found: dict[str, Any] = tasks[0]
        return found

    def wait(self, task_id: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            task = self.task(task_id)
            if task["status"] != "IN_PROGRESS":
                return task
            time.sleep(0.02)
        raise AssertionError(f"task {task_id} still in progress after {timeout}s")

    def upsert(self, specs: Sequence[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        return self.wait(self.start_upsert(specs, **kwargs)["id"])

    def pages(
        self, query: str, field: str, items: str, task_id: str, first: int = 5000
    ) -> list[dict[str, Any]]:
        """Every page of a cursor-paginated result query, as a list of the page objects."""
        pages, cursor = [], None
        while True:
            page = self.data(query, {"taskId": task_id, "first": first, "from": cursor})[field]
            pages.append(page)
            cursor = page["after"]
            if not cursor:
                return pages

    def successes(self, task_id: str, first: int = 5000) -> list[dict[str, Any]]:
        pages = self.pages(SUCCESSES, "successesfulDataRowImports", "nodes", task_id, first)
        return [node for page in pages for node in page["nodes"]]

    def failures(self, task_id: str, first: int = 5000) -> list[dict[str, Any]]:
        pages = self.pages(FAILURES, "failedDataRowImports", "results", task_id, first)
        return [result for page in pages for result in page["results"]]


# --- ontologies, projects, batches (queries exactly as the SDK 7.17.0 sends them) ------------------

ONTOLOGY_FIELDS = (
    "classificationSchemaCount createdAt description mediaType name normalized objectSchemaCount id updatedAt"
)
PROJECT_FIELDS = (
    "autoAuditNumberOfLabels autoAuditPercentage createdAt dataRowCount description editorTaskType "
    "isBenchmarkEnabled isConsensusEnabled lastActivityTime allowedMediaType modelSetupComplete name "
    "setupComplete id updatedAt uploadType"
)
BATCH_FIELDS = "consensusSettingsJson createdAt name size id updatedAt"
UPSERT_ONTOLOGY = (
    "mutation upsertRootSchemaNodePyApi($data: UpsertOntologyInput!){ upsertOntology(data: $data)"
    f"{{ {ONTOLOGY_FIELDS} }} }}"
)
GET_ONTOLOGY = (
    f"query GetOntologyPyApi($param_0: ID!){{ontology(where: {{id: $param_0}}){{{ONTOLOGY_FIELDS}}}}}"
)
GET_ONTOLOGIES = (
    "query getOntologiesPyApi($search: String, $filter: OntologyFilter, $from : String, $first: PageSize){"
    f"ontologies(where: {{filter: $filter, search: $search}}, after: $from, first: $first){{nodes {{{ONTOLOGY_FIELDS}}} "
    "nextCursor}}"
)
GET_PROJECT = f"query GetProjectPyApi($param_0: ID!){{project(where: {{id: $param_0}}){{{PROJECT_FIELDS}}}}}"
GET_PROJECTS = (
    "query GetProjectsPyApi($name: String!, $deleted: Boolean!){projects(where: {AND: [{name: $name}, "
    f"{{deleted: $deleted}}]}} skip: 0 first: 100){{{PROJECT_FIELDS}}}}}"
)
DELETE_PROJECT = (
    "mutation DeleteProjectPyApi($id: ID!){updateProject(where: {id: $id} data: {deleted: true}) {id}}"
)
CREATE_BATCH = (
    "mutation createBatchV2PyApi($projectId: ID!, $batchInput: CreateBatchInput!) { project(where: {id: $projectId}) "
    f"{{ createBatchV2(input: $batchInput) {{ batch {{ {BATCH_FIELDS} }} failedDataRowIds }} }} }}"
)
CREATE_EMPTY_BATCH = (
    "mutation createEmptyBatchPyApi($projectId: ID!, $input: CreateEmptyBatchInput!) { project(where: "
    "{id: $projectId}) { createEmptyBatch(input: $input) { id } } }"
)
ADD_TO_BATCH = (
    "mutation addDataRowsToBatchAsyncPyApi($projectId: ID!, $input: AddDataRowsToBatchInput!) { project(where: "
    "{id: $projectId}) { addDataRowsToBatchAsync(input: $input) { taskId } } }"
)
GET_BATCH = (
    "query getProjectBatchPyApi($projectId: ID!, $batchId: ID!) { project(where: {id: $projectId}) { "
    f"batches(where: {{id: $batchId}}) {{ nodes {{ {BATCH_FIELDS} }} }} }} }}"
)
GET_BATCHES = (
    "query GetProjectBatchesPyApi($from: String, $first: PageSize, $projectId: ID!) { project(where: "
    f"{{id: $projectId}}) {{id batches(after: $from, first: $first) {{ nodes {{ {BATCH_FIELDS} }} pageInfo {{ endCursor }}}}}}}}"
)
OVERVIEW = (
    "query ProjectGetOverviewPyApi($projectId: ID!, $batchIds: [String!], $countInput: DataRowCountQueryInput, "
    "$includeIssues: Boolean!) { project(where: { id: $projectId }) { workstreamStateCounts(batchIds: $batchIds) "
    "{ state count } taskQueues { queueType name dataRowCount(input: $countInput) } issues @include(if: "
    "$includeIssues) { totalCount } completedDataRowCount } }"
)
_CREATE_PROJECT_TYPES = {
    "name": "String!",
    "description": "String!",
    "allowedMediaType": "MediaType!",
    "autoAuditPercentage": "Float!",
    "autoAuditNumberOfLabels": "Int!",
    "isBenchmarkEnabled": "Boolean!",
    "isConsensusEnabled": "Boolean!",
    "editorTaskType": "EditorTaskType!",
    "appendToExistingDataset": "Boolean!",
    "datasetNameOrId": "String!",
    "dataRowCount": "Int!",
}
QUALITY_DEFAULTS = {
    "autoAuditPercentage": 0,
    "autoAuditNumberOfLabels": 3,
    "isBenchmarkEnabled": True,
    "isConsensusEnabled": True,
}


def create_project_query(variables: dict[str, Any]) -> str:
    """The ORM's createProject mutation for this variable set (every declaration with `!`)."""
    declared = ", ".join(f"${k}: {_CREATE_PROJECT_TYPES[k]}" for k in variables)
    fields = " ".join(f"{k}: ${k}" for k in variables)
    return (
        f"mutation CreateProjectPyApi({declared}){{createProject(data: {{{fields}}}) {{{PROJECT_FIELDS}}}}}"
    )


def mmc_ontology() -> dict[str, Any]:
    """OntologyBuilder.asdict() for the seed's ontology (message tools, radio, text, index checklist)."""

    def tool(kind: str, name: str, color: str) -> dict[str, Any]:
        return {"tool": kind, "name": name, "required": False, "color": color, "classifications": [],
                "schemaNodeId": None, "featureSchemaId": None, "attributes": None}  # fmt: skip

    def option(value: str) -> dict[str, Any]:
        return {"schemaNodeId": None, "featureSchemaId": None, "label": value, "value": value, "options": []}

    def classification(kind: str, name: str, options: list[str], scope: str) -> dict[str, Any]:
        return {"type": kind, "instructions": name, "name": name, "required": False,
                "options": [option(v) for v in options], "schemaNodeId": None, "featureSchemaId": None,
                "attributes": None, "scope": scope}  # fmt: skip

    return {
        "tools": [
            tool("message-single-selection", "Single message selection", "#ff0000"),
            tool("message-multi-selection", "Multi message selection", "#00ff00"),
            tool("message-ranking", "Message ranking", "#0000ff"),
        ],
        "classifications": [
            classification(
                "radio", "Choose the best response", ["Response A", "Response B", "Tie"], "global"
            ),
            classification("text", "Provide a reason for your choice", [], "global"),
            classification(
                "checklist", "checklist_convo", ["first_checklist_answer", "second_checklist_answer"], "index"
            ),
        ],
    }


def error_of(response: requests.Response) -> dict[str, Any]:
    """The first GraphQL error of a response (asserting there is one)."""
    body = response.json()
    assert body.get("errors"), body
    first: dict[str, Any] = body["errors"][0]
    return first


class Projects:
    """Ontology, project and batch calls over RawGraphQL, shaped as the SDK sends them."""

    def __init__(self, gql: RawGraphQL) -> None:
        self.gql = gql

    def create_ontology(
        self,
        name: str,
        normalized: dict[str, Any] | None = None,
        *,
        media_type: str | None = "CONVERSATIONAL",
        editor_task_type: str | None = "MODEL_CHAT_EVALUATION",
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": name,
            "normalized": json.dumps(mmc_ontology() if normalized is None else normalized),
        }
        data["mediaType"] = media_type
        if editor_task_type:
            data["editorTaskType"] = editor_task_type
        ontology: dict[str, Any] = self.gql.data(UPSERT_ONTOLOGY, {"data": data})["upsertOntology"]
        return ontology

    def create_project(self, name: str, kind: str = "offline", **extra: Any) -> dict[str, Any]:
        """kind: offline, live (model chat evaluation) or plain (conversational, no editor task type)."""
        variables: dict[str, Any] = {"name": name, "allowedMediaType": "CONVERSATIONAL", **QUALITY_DEFAULTS}
        if kind == "offline":
            variables["editorTaskType"] = "OFFLINE_MODEL_CHAT_EVALUATION"
        elif kind == "live":
            variables.update(editorTaskType="MODEL_CHAT_EVALUATION", appendToExistingDataset=False)
        variables.update(extra)
        project: dict[str, Any] = self.gql.data(create_project_query(variables), variables)["createProject"]
        return project

    def rows(self, name: str, count: int) -> tuple[str, list[str], list[str]]:
        """A dataset with `count` rows keyed `<name>-<i>`; returns (dataset id, row ids, global keys)."""
        dataset = self.gql.create_dataset(name)
        keys = [f"{name}-{i}" for i in range(count)]
        payload = {"row_data": "https://example.com/c.json", "dataset_id": dataset}
        task = self.gql.upsert([spec({**payload, "global_key": key}) for key in keys], chunk_size=5000)
        assert task["status"] == "COMPLETE", task
        ids = {node["globalKey"]: node["id"] for node in self.gql.successes(task["id"])}
        return dataset, [ids[key] for key in keys], keys

    def create_batch(
        self,
        project_id: str,
        name: str,
        *,
        data_row_ids: Sequence[str] = (),
        global_keys: Sequence[str] | None = None,
        priority: int = 5,
        consensus: dict[str, Any] | None = None,
    ) -> requests.Response:
        batch_input = {
            "name": name,
            "dataRowIds": list(data_row_ids),
            "globalKeys": list(global_keys) if global_keys is not None else None,
            "priority": priority,
            "consensusSettings": consensus,
        }
        return self.gql.post(CREATE_BATCH, {"projectId": project_id, "batchInput": batch_input}, path="/_gql")

    def batch(self, project_id: str, name: str, **kwargs: Any) -> dict[str, Any]:
        response = self.create_batch(project_id, name, **kwargs)
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        result: dict[str, Any] = body["data"]["project"]["createBatchV2"]
        return result

    def get_batch(self, project_id: str, batch_id: str) -> dict[str, Any] | None:
        nodes = self.gql.data(GET_BATCH, {"projectId": project_id, "batchId": batch_id})["project"][
            "batches"
        ]["nodes"]
        return nodes[0] if nodes else None

    def overview(self, project_id: str, batch_ids: list[str] | None = None) -> dict[str, Any]:
        count_input = None
        if batch_ids is not None:
            count_input = {
                "searchQuery": {
                    "scope": {"projectId": project_id},
                    "query": [{"ids": batch_ids, "operator": "is", "type": "batch"}],
                }
            }
        variables = {
            "projectId": project_id,
            "batchIds": batch_ids,
            "countInput": count_input,
            "includeIssues": batch_ids is None,
        }
        project: dict[str, Any] = self.gql.data(OVERVIEW, variables, path="/_gql")["project"]
        return project


def state_counts(overview: dict[str, Any]) -> dict[str, int]:
    return {entry["state"]: entry["count"] for entry in overview["workstreamStateCounts"]}
