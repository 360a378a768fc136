"""Small typed views of the Labelbox objects the provider reads; plain JSON in and out.

They are frozen dataclasses with `to_dict`/`from_dict` so they cross XCom and trigger payloads as
plain JSON, which Airflow 3 requires.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

TERMINAL_TASK_STATUSES = frozenset({"COMPLETE", "FAILED", "CANCELED"})


@dataclass(frozen=True)
class User:
    id: str
    email: str | None = None
    name: str | None = None

    @classmethod
    def from_graphql(cls, node: dict[str, Any]) -> User:
        return cls(id=node["id"], email=node.get("email"), name=node.get("name"))


@dataclass(frozen=True)
class Organization:
    id: str
    name: str | None = None

    @classmethod
    def from_graphql(cls, node: dict[str, Any]) -> Organization:
        return cls(id=node["id"], name=node.get("name"))


@dataclass(frozen=True)
class Dataset:
    id: str
    name: str
    description: str | None = None
    row_count: int | None = None
    created_at: str | None = None
    updated_at: str | None = None

    @classmethod
    def from_graphql(cls, node: dict[str, Any]) -> Dataset:
        return cls(
            id=node["id"],
            name=node["name"],
            description=node.get("description"),
            row_count=node.get("rowCount"),
            created_at=node.get("createdAt"),
            updated_at=node.get("updatedAt"),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Task:
    """A Labelbox background task (data row upsert, batch, export)."""

    id: str
    status: str
    type: str | None = None
    name: str | None = None
    completion_percentage: float | None = None
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

    @classmethod
    def from_graphql(cls, node: dict[str, Any]) -> Task:
        return cls(
            id=node["id"],
            status=str(node.get("status") or "UNKNOWN"),
            type=node.get("type"),
            name=node.get("name"),
            completion_percentage=node.get("completionPercentage"),
            result=node.get("result"),
            errors=node.get("errors"),
            metadata=node.get("metadata"),
            created_at=node.get("createdAt"),
            updated_at=node.get("updatedAt"),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Task:
        return cls(**data)


@dataclass(frozen=True)
class ImportedDataRow:
    """A data row an upsert task created or updated."""

    id: str
    global_key: str | None
    external_id: str | None = None


@dataclass(frozen=True)
class FailedDataRow:
    """A data row an upsert task rejected, with the service's reason."""

    global_key: str | None
    external_id: str | None
    message: str


@dataclass(frozen=True)
class DataRowUpsert:
    """What was submitted: the task to wait for and the plan it was built from."""

    dataset_id: str
    task_id: str
    row_count: int
    chunk_count: int
    # Global keys that already had a data row before the upload: these rows are updates.
    existing_global_keys: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["existing_global_keys"] = list(self.existing_global_keys)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataRowUpsert:
        return cls(**{**data, "existing_global_keys": tuple(data.get("existing_global_keys") or ())})


@dataclass(frozen=True)
class DataRowUpsertReport:
    """The outcome of an upsert: every row is either in `succeeded` or in `failed`."""

    dataset_id: str
    task_id: str
    status: str
    created: int
    updated: int
    succeeded: list[ImportedDataRow]
    failed: list[FailedDataRow]

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
            "failures": [asdict(f) for f in self.failed[:100]],
        }
        if include_ids:
            out["global_keys"] = [r.global_key for r in self.succeeded]
            out["data_row_ids"] = [r.id for r in self.succeeded]
        return out


@dataclass(frozen=True)
class Ontology:
    id: str
    name: str
    media_type: str | None
    normalized: dict[str, Any]
    description: str | None = None
    created_at: str | None = None

    @classmethod
    def from_graphql(cls, node: dict[str, Any]) -> Ontology:
        normalized = node.get("normalized") or {}
        if isinstance(normalized, str):  # some deployments return the Json scalar as a string
            import json

            normalized = json.loads(normalized)
        return cls(
            id=node["id"],
            name=node["name"],
            media_type=node.get("mediaType"),
            normalized=normalized,
            description=node.get("description"),
            created_at=node.get("createdAt"),
        )


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    media_type: str | None
    editor_task_type: str | None
    description: str | None = None
    is_consensus_enabled: bool | None = None
    created_at: str | None = None

    @classmethod
    def from_graphql(cls, node: dict[str, Any]) -> Project:
        return cls(
            id=node["id"],
            name=node["name"],
            media_type=node.get("allowedMediaType"),
            editor_task_type=node.get("editorTaskType"),
            description=node.get("description"),
            is_consensus_enabled=node.get("isConsensusEnabled"),
            created_at=node.get("createdAt"),
        )


@dataclass(frozen=True)
class Batch:
    id: str
    name: str
    size: int | None = None
    consensus_settings: Any = None
    created_at: str | None = None

    @classmethod
    def from_graphql(cls, node: dict[str, Any]) -> Batch:
        return cls(
            id=node["id"],
            name=node["name"],
            size=node.get("size"),
            consensus_settings=node.get("consensusSettingsJson"),
            created_at=node.get("createdAt"),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BatchCreation:
    """A batch and the rows Labelbox refused to put in it (unknown, or already in another batch)."""

    batch: Batch
    failed_data_row_ids: list[str]
    created: bool

    def summary(self) -> dict[str, Any]:
        return {
            **self.batch.to_dict(),
            "created": self.created,
            "failed_data_row_ids": self.failed_data_row_ids,
        }


@dataclass(frozen=True)
class PendingBatch:
    """A batch whose rows are still being added by a task."""

    batch_id: str
    task_id: str
    created: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ProjectOverview:
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
