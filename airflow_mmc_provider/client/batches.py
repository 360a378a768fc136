"""Batches: put data rows into a project's labelling queue, idempotently by name."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from airflow_mmc_provider.client.errors import LabelboxError, NotFoundError, TaskFailedError
from airflow_mmc_provider.client.models import Batch, BatchCreation
from airflow_mmc_provider.client.tasks import Tasks
from airflow_mmc_provider.client.transport import Transport

BATCH_FIELDS = "consensusSettingsJson createdAt name size id updatedAt"
MAX_SYNC_BATCH_ROWS = 1000
MAX_BATCH_ROWS = 100_000
_PROCESSING_CHUNK = 100_000


class Batches:
    """Batch calls. Labelbox wants batch names unique within a project; we rely on that."""

    def __init__(
        self, transport: Transport, tasks: Tasks, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._transport = transport
        self._tasks = tasks
        self._sleep = sleep

    def find_by_name(self, project_id: str, name: str) -> Batch | None:
        query = (
            "query GetProjectBatchesPyApi($from: String, $first: PageSize, $projectId: ID!) {"
            "project(where: {id: $projectId}) {id batches(after: $from, first: $first) "
            f"{{ nodes {{ {BATCH_FIELDS} }} pageInfo {{ endCursor }}}}}}}}"
        )
        cursor: str | None = None
        while True:
            variables = {"projectId": project_id, "from": cursor, "first": 100}
            project = self._transport.execute(query, variables, experimental=True).get("project")
            if project is None:
                raise NotFoundError(
                    f"project {project_id!r} does not exist", operation="GetProjectBatchesPyApi"
                )
            page = project.get("batches") or {}
            for node in page.get("nodes") or []:
                if node.get("name") == name:
                    return Batch.from_graphql(node)
            cursor = (page.get("pageInfo") or {}).get("endCursor")
            if not cursor:
                return None

    def get(self, project_id: str, batch_id: str) -> Batch:
        query = (
            "query getProjectBatchPyApi($projectId: ID!, $batchId: ID!) { project(where: {id: $projectId}) { "
            f"batches(where: {{id: $batchId}}) {{ nodes {{ {BATCH_FIELDS} }} }} }} }}"
        )
        project = self._transport.execute(query, {"projectId": project_id, "batchId": batch_id}).get(
            "project"
        )
        nodes = ((project or {}).get("batches") or {}).get("nodes") or []
        if not nodes:
            raise NotFoundError(
                f"batch {batch_id!r} not found in project {project_id!r}", operation="getProjectBatchPyApi"
            )
        return Batch.from_graphql(nodes[0])

    def wait_until_processed(
        self,
        *,
        data_row_ids: list[str] | None = None,
        global_keys: list[str] | None = None,
        timeout: float = 3600,
    ) -> None:
        """Labelbox refuses batches of rows it is still processing; wait for them first."""
        argument, values = ("dataRowIds", data_row_ids) if data_row_ids else ("globalKeys", global_keys or [])
        query = (
            f"query CheckAllDataRowsHaveBeenProcessedPyApi(${argument}: [ID!]) {{ "
            f"queryAllDataRowsHaveBeenProcessed({argument}:${argument}) {{ allDataRowsHaveBeenProcessed }} }}"
        )
        deadline = time.monotonic() + timeout
        for start in range(0, len(values), _PROCESSING_CHUNK):
            chunk = values[start : start + _PROCESSING_CHUNK]
            interval = 0.5
            while True:
                result = self._transport.execute(query, {argument: chunk})[
                    "queryAllDataRowsHaveBeenProcessed"
                ]
                if result["allDataRowsHaveBeenProcessed"]:
                    break
                if time.monotonic() + interval > deadline:
                    raise LabelboxError(
                        f"data rows were still processing after {timeout:.0f}s",
                        operation="queryAllDataRowsHaveBeenProcessed",
                    )
                self._sleep(interval)
                interval = min(30.0, interval * 2)

    def create(
        self,
        project_id: str,
        name: str,
        *,
        data_row_ids: list[str] | None = None,
        global_keys: list[str] | None = None,
        priority: int = 5,
        consensus: dict[str, Any] | None = None,
        task_timeout: float = 3600.0,
    ) -> BatchCreation:
        """Create the batch, synchronously under 1,000 rows and through a task above, as the SDK does."""
        count = _check_rows(data_row_ids, global_keys, priority)
        self.wait_until_processed(data_row_ids=data_row_ids, global_keys=global_keys)
        settings = _consensus(consensus)
        if count < MAX_SYNC_BATCH_ROWS:
            return self._create_sync(project_id, name, data_row_ids, global_keys, priority, settings)
        return self._create_async(
            project_id, name, data_row_ids, global_keys, priority, settings, task_timeout
        )

    def get_or_create(
        self,
        project_id: str,
        name: str,
        *,
        data_row_ids: list[str] | None = None,
        global_keys: list[str] | None = None,
        priority: int = 5,
        consensus: dict[str, Any] | None = None,
        task_timeout: float = 3600.0,
    ) -> BatchCreation:
        """Idempotent by name: a retry returns the batch, completing it if a crash left it short."""
        count = _check_rows(data_row_ids, global_keys, priority)
        existing = self.find_by_name(project_id, name)
        if existing is None:
            try:
                return self.create(
                    project_id,
                    name,
                    data_row_ids=data_row_ids,
                    global_keys=global_keys,
                    priority=priority,
                    consensus=consensus,
                    task_timeout=task_timeout,
                )
            except LabelboxError as error:
                existing = self.find_by_name(project_id, name) if error.ambiguous else None
                if existing is None:
                    raise
        if existing.size is not None and existing.size < count:
            # An earlier try created the batch but did not finish filling it.
            task_id = self.add_data_rows_async(project_id, existing.id, data_row_ids, global_keys, priority)
            task = self._tasks.wait(task_id, timeout=task_timeout)
            return BatchCreation(self.get(project_id, existing.id), _failed_ids(task.result), False)
        return BatchCreation(existing, [], False)

    def _create_sync(
        self,
        project_id: str,
        name: str,
        data_row_ids: list[str] | None,
        global_keys: list[str] | None,
        priority: int,
        settings: dict[str, Any] | None,
    ) -> BatchCreation:
        query = (
            "mutation createBatchV2PyApi($projectId: ID!, $batchInput: CreateBatchInput!) { project(where: "
            f"{{id: $projectId}}) {{ createBatchV2(input: $batchInput) {{ batch {{ {BATCH_FIELDS} }} failedDataRowIds }} }} }}"
        )
        batch_input = {
            "name": name,
            "dataRowIds": data_row_ids or [],
            "globalKeys": global_keys or None,
            "priority": priority,
            "consensusSettings": settings,
        }
        result = self._transport.execute(
            query,
            {"projectId": project_id, "batchInput": batch_input},
            experimental=True,
            idempotent=False,
            timeout=180,
        )["project"]["createBatchV2"]
        return BatchCreation(
            Batch.from_graphql(result["batch"]), list(result.get("failedDataRowIds") or []), True
        )

    def _create_async(
        self,
        project_id: str,
        name: str,
        data_row_ids: list[str] | None,
        global_keys: list[str] | None,
        priority: int,
        settings: dict[str, Any] | None,
        task_timeout: float,
    ) -> BatchCreation:
        batch_id = self._transport.execute(
            "mutation createEmptyBatchPyApi($projectId: ID!, $input: CreateEmptyBatchInput!) { project(where: "
            "{id: $projectId}) { createEmptyBatch(input: $input) { id } } }",
            {"projectId": project_id, "input": {"name": name, "consensusSettings": settings}},
            experimental=True,
            idempotent=False,
        )["project"]["createEmptyBatch"]["id"]
        task_id = self.add_data_rows_async(project_id, batch_id, data_row_ids, global_keys, priority)
        task = self._tasks.wait(task_id, timeout=task_timeout)
        if not task.succeeded:
            raise TaskFailedError(
                f"adding rows to batch {name!r} ended {task.status}: {task.errors or task.result}",
                operation="addDataRowsToBatchAsync",
            )
        return BatchCreation(self.get(project_id, batch_id), _failed_ids(task.result), True)

    def add_data_rows_async(
        self,
        project_id: str,
        batch_id: str,
        data_row_ids: list[str] | None,
        global_keys: list[str] | None,
        priority: int,
    ) -> str:
        """Start the task that fills a batch; returns the task id (operators may defer on it)."""
        result = self._transport.execute(
            "mutation addDataRowsToBatchAsyncPyApi($projectId: ID!, $input: AddDataRowsToBatchInput!) { project(where: "
            "{id: $projectId}) { addDataRowsToBatchAsync(input: $input) { taskId } } }",
            {
                "projectId": project_id,
                "input": {
                    "batchId": batch_id,
                    "dataRowIds": data_row_ids or None,
                    "globalKeys": global_keys or None,
                    "priority": priority,
                },
            },
            experimental=True,
            idempotent=False,
            timeout=180,
        )
        return str(result["project"]["addDataRowsToBatchAsync"]["taskId"])


def _check_rows(data_row_ids: list[str] | None, global_keys: list[str] | None, priority: int) -> int:
    if bool(data_row_ids) == bool(global_keys):
        raise ValueError("Give a batch either data_row_ids or global_keys (one of them, not empty)")
    count = len(data_row_ids or global_keys or [])
    if count > MAX_BATCH_ROWS:
        raise ValueError(
            f"A batch holds at most {MAX_BATCH_ROWS} data rows; got {count}; split it into several batches"
        )
    if not 1 <= priority <= 5:
        raise ValueError(f"Batch priority must be 1 (highest) to 5 (lowest); got {priority}")
    return count


def _consensus(consensus: dict[str, Any] | None) -> dict[str, Any] | None:
    """Accept snake_case or camelCase consensus settings; send camelCase."""
    if not consensus:
        return None
    labels = consensus.get("number_of_labels", consensus.get("numberOfLabels"))
    coverage = consensus.get("coverage_percentage", consensus.get("coveragePercentage"))
    if not isinstance(labels, int) or labels < 1:
        raise ValueError("consensus number_of_labels must be a whole number of at least 1")
    if not isinstance(coverage, int | float) or not 0 <= coverage <= 1:
        raise ValueError("consensus coverage_percentage must be a share between 0 and 1")
    return {"numberOfLabels": labels, "coveragePercentage": float(coverage)}


def _failed_ids(result: Any) -> list[str]:
    """Failed row ids of an add-to-batch task, when the task result carries them."""
    if isinstance(result, str):
        import json

        try:
            result = json.loads(result)
        except ValueError:
            return []
    if isinstance(result, dict):
        return list(result.get("failedDataRowIds") or [])
    return []
