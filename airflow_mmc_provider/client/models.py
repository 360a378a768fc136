"""Small typed views of the Labelbox objects the provider reads, declared as msgspec Structs.

Two kinds, two bases:

- `GraphQLNode`: an object as a GraphQL query returns it. Its fields are the wire's camelCase
  names (`rename="camel"`, or an explicit `name=` where Labelbox calls a field otherwise), so
  `Model.from_graphql(node)` is one declared conversion instead of a hand-written mapping per
  model; fields the query asks for but the model does not keep are ignored.
- `Record`: a value the client builds itself (an upsert plan, a batch creation, a report).

Both are frozen and cross XCom and trigger payloads as plain JSON (`to_dict` / `from_dict`, with
the attribute names), which Airflow 3 requires.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

TERMINAL_TASK_STATUSES = frozenset({"COMPLETE", "FAILED", "CANCELED"})

_Node = TypeVar("_Node", bound="GraphQLNode")
_Rec = TypeVar("_Rec", bound="Record")


class GraphQLNode(msgspec.Struct, frozen=True, rename="camel"):
    """Base of the models read from GraphQL answers."""

    @classmethod
    def from_graphql(cls: type[_Node], node: Mapping[str, Any]) -> _Node:
        """The model of one answer node. A null field counts as an absent one, so it takes the
        model's default (the service sends null for unset optional fields)."""
        return msgspec.convert({k: v for k, v in node.items() if v is not None}, cls)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON under the attribute names (not the wire's)."""
        return msgspec.structs.asdict(self)

    @classmethod
    def from_dict(cls: type[_Node], data: Mapping[str, Any]) -> _Node:
        return cls(**data)


class Record(msgspec.Struct, frozen=True):
    """Base of the values the client builds itself."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (tuples become lists), as XCom and trigger payloads need."""
        data: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(self))
        return data

    @classmethod
    def from_dict(cls: type[_Rec], data: Mapping[str, Any]) -> _Rec:
        return msgspec.convert(data, cls)


class NamedNode(GraphQLNode, frozen=True):
    """An object that has a name besides its id (dataset, ontology, project, batch, import)."""

    id: str
    name: str


class User(GraphQLNode, frozen=True):
    id: str
    email: str | None = None
    name: str | None = None


class Organization(GraphQLNode, frozen=True):
    id: str
    name: str | None = None


class Dataset(NamedNode, frozen=True):
    description: str | None = None
    row_count: int | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Task(GraphQLNode, frozen=True):
    """A Labelbox background task (data row upsert, batch, export)."""

    id: str
    status: str = "UNKNOWN"
    type: str | None = None
    name: str | None = None
    completion_percentage: int | float | None = None  # as sent: a whole 50 stays 50 in payloads
    result: str | None = None
    errors: Any = None
    metadata: Any = None
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_TASK_STATUSES

    @property
    def succeeded(self) -> bool:
        return self.status == "COMPLETE"


class Ontology(NamedNode, frozen=True):
    """An ontology; `normalized` is its tools and classifications with the server's ids."""

    media_type: str | None = None
    normalized: dict[str, Any] = {}
    description: str | None = None
    created_at: str | None = None


class Project(NamedNode, frozen=True):
    media_type: str | None = msgspec.field(default=None, name="allowedMediaType")
    editor_task_type: str | None = None
    description: str | None = None
    is_consensus_enabled: bool | None = None
    created_at: str | None = None


class Batch(NamedNode, frozen=True):
    size: int | None = None
    consensus_settings: Any = msgspec.field(default=None, name="consensusSettingsJson")
    created_at: str | None = None


class AnnotationImport(NamedNode, frozen=True):
    """A ground-truth (`LabelImport`) or pre-label (`MALPredictionImport`) import and its files."""

    state: str
    progress: str | None = None
    error_file_url: str | None = None
    status_file_url: str | None = None
    input_file_url: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.state in ("FINISHED", "FAILED")


class ImportedDataRow(GraphQLNode, frozen=True):
    """A data row an upsert task created or updated."""

    id: str
    global_key: str | None
    external_id: str | None = None


class FailedDataRow(Record, frozen=True):
    """A data row an upsert task rejected, with the service's reason."""

    global_key: str | None
    external_id: str | None
    message: str


class DataRowUpsert(Record, frozen=True):
    """What was submitted: the task to wait for and the plan it was built from."""

    dataset_id: str
    task_id: str
    row_count: int
    chunk_count: int
    # Global keys that already had a data row before the upload: these rows are updates.
    existing_global_keys: tuple[str, ...] = ()
    # Existing rows left out of the upload because their row_data is unchanged (`row_changes`);
    # when every row is, no task was started and `task_id` is "".
    unchanged_global_keys: tuple[str, ...] = ()
    unchanged_data_row_ids: tuple[str, ...] = ()


class DataRowUpsertReport(msgspec.Struct, frozen=True):
    """The outcome of an upsert: every row is either in `succeeded` or in `failed`.

    It crosses XCom as its `summary`, never as itself."""

    dataset_id: str
    task_id: str
    status: str
    created: int
    updated: int
    succeeded: list[ImportedDataRow]
    failed: list[FailedDataRow]
    # Rows left out of the upload as unchanged: not re-uploaded, but part of the round.
    unchanged: list[ImportedDataRow] = msgspec.field(default_factory=list)

    def summary(self, *, include_ids: bool = True) -> dict[str, Any]:
        """The JSON an operator pushes to XCom."""
        out: dict[str, Any] = {
            "dataset_id": self.dataset_id,
            "task_id": self.task_id,
            "status": self.status,
            "created": self.created,
            "updated": self.updated,
            "succeeded": len(self.succeeded),
            "failed": len(self.failed),
            "unchanged": len(self.unchanged),
            "failures": [f.to_dict() for f in self.failed[:100]],
        }
        if include_ids:
            rows = [*self.succeeded, *self.unchanged]
            out["global_keys"] = [r.global_key for r in rows]
            out["data_row_ids"] = [r.id for r in rows]
        return out


class BatchCreation(msgspec.Struct, frozen=True):
    """A batch and the rows Labelbox refused to put in it (unknown, or already in another batch).

    It crosses XCom as its `summary`, never as itself."""

    batch: Batch
    failed_data_row_ids: list[str]
    created: bool

    def summary(self) -> dict[str, Any]:
        return {
            **self.batch.to_dict(),
            "created": self.created,
            "failed_data_row_ids": self.failed_data_row_ids,
        }


class PendingBatch(Record, frozen=True):
    """A batch whose rows are still being added by a task."""

    batch_id: str
    task_id: str
    created: bool


class ProjectOverview(Record, frozen=True):
    """Workflow state counts (`Unlabeled`, `InReview`, `InRework`, `Skipped`, `Done`, `All`...)."""

    counts: dict[str, int]

    @property
    def total(self) -> int:
        return self.counts.get("All", 0)

    @property
    def done(self) -> int:
        return self.counts.get("Done", 0)

    def share_done(self, *, include_skipped: bool = False) -> float:
        finished = self.done + (self.counts.get("Skipped", 0) if include_skipped else 0)
        return finished / self.total if self.total else 0.0
