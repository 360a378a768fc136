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
