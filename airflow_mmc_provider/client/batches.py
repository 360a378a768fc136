"""Batches: put data rows into a project's labelling queue, idempotently by name."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_mmc_provider.client.errors import (
    BatchMismatchError,
    ConflictError,
    LabelboxError,
    NotFoundError,
    TaskFailedError,
)
from airflow_mmc_provider.client.models import Batch, BatchCreation, PendingBatch, Task
from airflow_mmc_provider.client.tasks import Tasks
from airflow_mmc_provider.client.transport import Transport

if TYPE_CHECKING:
    from airflow_mmc_provider.client.exports import Exports

BATCH_FIELDS = "consensusSettingsJson createdAt name size id updatedAt"
MAX_SYNC_BATCH_ROWS = 1000
MAX_BATCH_ROWS = 100_000
_PROCESSING_CHUNK = 100_000


class Batches:
    """Batch calls. Labelbox wants batch names unique within a project; we rely on that."""

    def __init__(
        self,
        transport: Transport,
        tasks: Tasks,
        sleep: Callable[[float], None] = time.sleep,
        exports: Exports | None = None,
    ) -> None:
        self._transport = transport
        self._tasks = tasks
        self._sleep = sleep
        self._exports = exports

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

    def begin(self, project_id: str, name: str, rows: BatchRows) -> BatchCreation | PendingBatch:
        """Create the batch, or find it by name; a large one comes back pending on its task.

        Idempotent by name: a retry returns the existing batch, and fills it when an earlier try
        created it empty and stopped before adding its rows.
        """
        existing = self.find_by_name(project_id, name)
        created = existing is None
        if existing is None:
            # A lost answer is looked up by name (`Transport.resolve`): the batch found is this call's.
            made = self._transport.resolve(
                lambda: self._create_or_find(project_id, name, rows),
                lambda: self.find_by_name(project_id, name),
            )
            if not isinstance(made, Batch):
                return made
            existing = made
        # A crash between creating the empty batch and adding its rows leaves it empty: fill it.
        # A smaller but non-empty batch had rows refused; asking again would only repeat that.
        if existing.size == 0:
            task_id = self.add_data_rows_async(project_id, existing.id, rows)
            return PendingBatch(existing.id, task_id, created=created)
        self.check_holds(project_id, existing, rows)
        return BatchCreation(existing, [], created=created)

    def check_holds(self, project_id: str, batch: Batch, rows: BatchRows) -> None:
        """Refuse an existing batch that does not hold the rows asked for (one export of the batch).

        A batch name names one round's rows: found by name, it is the answer to a retry only when
        it holds them. Otherwise (another round's batch under a reused name, or rows keyed
        differently since it was made) returning it would label the wrong rows, so the call fails,
        naming the batch, what is missing and the fix. Without an `Exports` nothing is checked.
        """
        if self._exports is None:
            return
        held_keys, held_ids = self._members(project_id, batch.id)
        wanted, held = (
            (rows.global_keys, held_keys) if rows.global_keys else (rows.data_row_ids or [], held_ids)
        )
        missing = [item for item in wanted if item not in held]
        if missing:
            shown = ", ".join(repr(m) for m in missing[:5]) + (
                f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            )
            raise BatchMismatchError(
                f"batch {batch.name!r} ({batch.id}) already exists in project {project_id} with {batch.size} "
                f"data rows, but {len(missing)} of the {rows.count} rows asked for are not in it ({shown}). "
                "A batch name names one round's rows: give this round its own batch name, or, if the "
                "rows were re-keyed since the batch was made (e.g. by a round key), remove the old batch",
                operation="createBatch",
            )

    def _members(self, project_id: str, batch_id: str) -> tuple[set[str], set[str]]:
        """Global keys and data row ids of a batch's rows, from an export filtered to the batch."""
        assert self._exports is not None
        keys: set[str] = set()
        ids: set[str] = set()
        lines = self._exports.read(
            self._tasks, project_id, what=f"the rows of batch {batch_id}", filters={"batch_ids": [batch_id]}
        )
        for line in lines:
            data_row = line.get("data_row") or {}
            ids.add(data_row.get("id") or "")
            keys.add(data_row.get("global_key") or "")
        return keys, ids

    def finish(self, project_id: str, pending: PendingBatch, task: Task) -> BatchCreation:
        """Turn a pending batch whose task has ended into the batch and its failed rows."""
        if not task.succeeded:
            raise TaskFailedError(
                f"adding rows to batch {pending.batch_id} ended {task.status}: {task.errors or task.result}",
                operation="addDataRowsToBatchAsync",
            )
        return BatchCreation(
            self.get(project_id, pending.batch_id), _failed_ids(task.result), pending.created
        )

    def get_or_create(
        self, project_id: str, name: str, rows: BatchRows, *, task_timeout: float = 3600.0
    ) -> BatchCreation:
        """`begin`, then wait for the task if there is one."""
        started = self.begin(project_id, name, rows)
        if isinstance(started, BatchCreation):
            return started
        task = self._tasks.wait(started.task_id, timeout=task_timeout)
        return self.finish(project_id, started, task)

    def _create_or_find(
        self, project_id: str, name: str, rows: BatchRows
    ) -> BatchCreation | PendingBatch | Batch:
        """`_create`; a create refused because the name is taken gives the batch of that name
        (an earlier try whose answer was lost made it), which `begin` then checks."""
        try:
            return self._create(project_id, name, rows)
        except ConflictError:
            found = self.find_by_name(project_id, name)
            if found is None:
                raise
            return found

    def _create(self, project_id: str, name: str, rows: BatchRows) -> BatchCreation | PendingBatch:
        """Synchronously under 1,000 rows and through a task above, as the SDK does."""
        self.wait_until_processed(data_row_ids=rows.data_row_ids, global_keys=rows.global_keys)
        if rows.count < MAX_SYNC_BATCH_ROWS:
            return self._create_sync(project_id, name, rows)
        batch_id = self._transport.execute(
            "mutation createEmptyBatchPyApi($projectId: ID!, $input: CreateEmptyBatchInput!) { project(where: "
            "{id: $projectId}) { createEmptyBatch(input: $input) { id } } }",
            {"projectId": project_id, "input": {"name": name, "consensusSettings": rows.consensus_settings}},
            experimental=True,
            idempotent=False,
        )["project"]["createEmptyBatch"]["id"]
        return PendingBatch(batch_id, self.add_data_rows_async(project_id, batch_id, rows), created=True)

    def _create_sync(self, project_id: str, name: str, rows: BatchRows) -> BatchCreation:
        query = (
            "mutation createBatchV2PyApi($projectId: ID!, $batchInput: CreateBatchInput!) { project(where: "
            f"{{id: $projectId}}) {{ createBatchV2(input: $batchInput) {{ batch {{ {BATCH_FIELDS} }} failedDataRowIds }} }} }}"
        )
        batch_input = {
            "name": name,
            "dataRowIds": rows.data_row_ids or [],
            "globalKeys": rows.global_keys or None,
            "priority": rows.priority,
            "consensusSettings": rows.consensus_settings,
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

    def add_data_rows_async(self, project_id: str, batch_id: str, rows: BatchRows) -> str:
        """Start the task that fills a batch; returns the task id (operators may defer on it).

        Safe to repeat after a lost answer: a row already in this batch is kept as it is, so the
        transport retries it like a read.
        """
        result = self._transport.execute(
            "mutation addDataRowsToBatchAsyncPyApi($projectId: ID!, $input: AddDataRowsToBatchInput!) { project(where: "
            "{id: $projectId}) { addDataRowsToBatchAsync(input: $input) { taskId } } }",
            {
                "projectId": project_id,
                "input": {
                    "batchId": batch_id,
                    "dataRowIds": rows.data_row_ids or None,
                    "globalKeys": rows.global_keys or None,
                    "priority": rows.priority,
                },
            },
            experimental=True,
            idempotent=True,
            timeout=180,
        )
        return str(result["project"]["addDataRowsToBatchAsync"]["taskId"])


@dataclass(frozen=True)
class BatchRows:
    """What goes into a batch: rows by id or by global key, priority and consensus settings.

    Validated on construction, so a bad batch fails before any request.
    """

    data_row_ids: list[str] | None = None
    global_keys: list[str] | None = None
    priority: int = 5
    consensus: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if bool(self.data_row_ids) == bool(self.global_keys):
            raise ValueError("Give a batch either data_row_ids or global_keys (exactly one, not empty)")
        if self.count > MAX_BATCH_ROWS:
            raise ValueError(
                f"A batch holds at most {MAX_BATCH_ROWS} data rows; got {self.count}; split it into several batches"
            )
        if not isinstance(self.priority, int) or not 1 <= self.priority <= 5:
            raise ValueError(f"Batch priority must be 1 (highest) to 5 (lowest); got {self.priority!r}")
        _consensus(self.consensus)

    @property
    def count(self) -> int:
        return len(self.data_row_ids or self.global_keys or [])

    @property
    def consensus_settings(self) -> dict[str, Any] | None:
        return _consensus(self.consensus)


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
