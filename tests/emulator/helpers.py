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
