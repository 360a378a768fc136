"""Batches: sending data rows to a project (`createBatchV2`, `createEmptyBatch` + `addDataRowsToBatchAsync`).

Semantics (wire reference 5.3; the service's rules as its docs and the SDK describe them):

* batch names are unique among a project's live batches; a second one is a ``RESOURCE_CONFLICT``;
* rows are named by id, by global key, or both (the SDK may send both); a row named twice counts once;
* a data row belongs to at most one batch per project: a row already in *another* batch of the
  project is refused, as are unknown (or deleted) rows -- refused rows come back as
  ``failedDataRowIds`` (the id, or the global key for a key that names no row), the rest are added;
* a row already in *this* batch is kept silently (so repeating an add after a lost answer is safe);
* if nothing at all could be added, `createBatchV2` fails instead of creating an empty batch, and an
  add task ends ``FAILED`` with ``result`` = ``{"failedDataRowIds": [...], "message": ...}`` (the
  SDK parses a failed task's result as JSON for this task type);
* added rows enter the project's workflow as ``ToLabel`` (see `workflow`).

Large batches go through a task of type ``add-data-rows-to-batch``, run by `jobs.TaskRunner`; it ends
``COMPLETE`` with ``result`` = ``{"failedDataRowIds": [...]}`` when some rows were refused (null when
none were).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from airflow_mmc_provider.emulator.store import COMPLETE, FAILED, BatchWriter, Store, Task
from airflow_mmc_provider.emulator.workflow import TO_LABEL

TASK_TYPE = "add-data-rows-to-batch"
TASK_NAME = "Add data rows to batch"
MAX_BATCH_ROWS = 100_000
DEFAULT_PRIORITY = 5
_encoder = msgspec.json.Encoder()


class BatchInputError(ValueError):
    """Arguments no batch can be made of; the message says what to send instead."""


class NothingAdded(ValueError):
    """Every row was refused; the message gives the reasons."""


@dataclass(frozen=True)
class RowSelection:
    """The rows a request names, and the priority they get."""

    data_row_ids: tuple[str, ...]
    global_keys: tuple[str, ...]
    priority: int

    @property
    def count(self) -> int:
        return len(self.data_row_ids) + len(self.global_keys)

    def to_json(self) -> dict[str, Any]:
        return {
            "dataRowIds": list(self.data_row_ids),
            "globalKeys": list(self.global_keys),
            "priority": self.priority,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RowSelection:
        return cls(tuple(data["dataRowIds"]), tuple(data["globalKeys"]), int(data["priority"]))


@dataclass
class AddOutcome:
    """What adding rows did: ids added, ids already in this batch, refusals with their reasons."""

    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    reasons: dict[str, list[str]] = field(default_factory=dict)

    def refuse(self, name: str, reason: str) -> None:
        self.failed.append(name)
        self.reasons.setdefault(reason, []).append(name)

    def describe_failures(self, limit: int = 5) -> str:
        return "; ".join(
            f"{len(names)} {reason}: {', '.join(names[:limit])}{' ...' if len(names) > limit else ''}"
            for reason, names in self.reasons.items()
        )


def parse_selection(data_row_ids: Any, global_keys: Any, priority: Any) -> RowSelection:
    """Check the rows and priority of a batch request; raise BatchInputError with the fix."""
    ids = tuple(data_row_ids or ())
    keys = tuple(global_keys or ())
    if not ids and not keys:
        raise BatchInputError("A batch needs at least one data row: give dataRowIds or globalKeys")
    if priority is None:
        priority = DEFAULT_PRIORITY
    if not isinstance(priority, int) or not 1 <= priority <= 5:
        raise BatchInputError(f"priority must be 1 (highest) to 5 (lowest), got {priority!r}")
    selection = RowSelection(ids, keys, priority)
    if len(set(ids)) + len(set(keys)) > MAX_BATCH_ROWS:
        raise BatchInputError(
            f"A batch holds at most {MAX_BATCH_ROWS} data rows, got {selection.count}; split it into several batches"
        )
    return selection


def parse_consensus(settings: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Consensus settings as stored and returned in `consensusSettingsJson` (camelCase)."""
    if settings is None:
        return None
    labels, coverage = settings.get("numberOfLabels"), settings.get("coveragePercentage")
    if not isinstance(labels, int) or labels < 1:
        raise BatchInputError(f"consensusSettings.numberOfLabels must be at least 1, got {labels!r}")
    if not isinstance(coverage, (int, float)) or not 0 <= coverage <= 1:
        raise BatchInputError(
            f"consensusSettings.coveragePercentage must be between 0 and 1, got {coverage!r}"
        )
    return {"numberOfLabels": labels, "coveragePercentage": float(coverage)}


def add_rows(writer: BatchWriter, project_id: str, batch_id: str, selection: RowSelection) -> AddOutcome:
    """Add the selected rows to the batch, inside the writer's transaction (see the module rules).

    Refusals are listed in request order: the ids first, then the global keys.
    """
    live = writer.live_row_ids(selection.data_row_ids)
    by_key = writer.row_ids_for_global_keys(selection.global_keys)
    named: list[tuple[str, str | None, str]] = [
        (row_id, row_id if row_id in live else None, "data rows do not exist (or were deleted)")
        for row_id in selection.data_row_ids
    ]
    named += [(key, by_key.get(key), "global keys name no data row") for key in selection.global_keys]
    holders = writer.batch_of_rows(project_id, [row_id for _, row_id, _ in named if row_id])
    outcome, seen = AddOutcome(), set[str]()
    for name, row_id, unknown in named:
        if row_id is None:
            if name not in seen:
                outcome.refuse(name, unknown)
        elif row_id not in seen:
            holder = holders.get(row_id)
            if holder is None:
                outcome.added.append(row_id)
            elif holder == batch_id:
                outcome.kept.append(row_id)
            else:
                outcome.refuse(row_id, "data rows are already in another batch of this project")
        seen.update((name, row_id or name))
    writer.add(project_id, batch_id, outcome.added, priority=selection.priority, state=TO_LABEL)
    return outcome


def failed_result(outcome: AddOutcome, message: str | None = None) -> str | None:
    """The task `result` JSON: the refused rows (and why the task failed, when it did)."""
    if not outcome.failed and message is None:
        return None
    document: dict[str, Any] = {"failedDataRowIds": outcome.failed}
    if message is not None:
        document["message"] = message
    return _encoder.encode(document).decode("utf-8")


def create_batch_with_rows(
    store: Store, project_id: str, name: str, consensus: dict[str, Any] | None, selection: RowSelection
) -> tuple[str, AddOutcome]:
    """`createBatchV2`: the batch and its rows in one transaction, so a refused request (a taken
    name, BatchNameTaken; no row that can be added, NothingAdded) leaves no batch behind."""
    with store.batch_writer() as writer:
        batch_id = writer.create_batch(project_id, name, consensus)
        outcome = add_rows(writer, project_id, batch_id, selection)
        if not outcome.added:
            raise NothingAdded(f"No data row could be added to batch '{name}': {outcome.describe_failures()}")
    return batch_id, outcome


def run_add_to_batch_task(store: Store, task: Task) -> None:
    """Background handler for `add-data-rows-to-batch` tasks (registered with the task runner)."""
    project_id, batch_id = task.input["projectId"], task.input["batchId"]
    selection = RowSelection.from_json(task.input)
    with store.batch_writer() as writer:
        if not writer.batch_is_live(project_id, batch_id):
            message = f"Batch '{batch_id}' of project '{project_id}' no longer exists"
            writer.finish_task(
                task.id,
                status=FAILED,
                result=failed_result(AddOutcome(), message),
                errors=message,
                metadata=None,
            )
            return
        outcome = add_rows(writer, project_id, batch_id, selection)
        if outcome.failed and not outcome.added and not outcome.kept:
            message = f"No data row could be added to the batch: {outcome.describe_failures()}"
            writer.finish_task(
                task.id, status=FAILED, result=failed_result(outcome, message), errors=message, metadata=None
            )
            return
        writer.finish_task(
            task.id,
            status=COMPLETE,
            result=failed_result(outcome),
            errors=None,
            metadata={"addedDataRows": len(outcome.added), "failedDataRows": len(outcome.failed)},
        )
