"""Projects, created with their task queues (the workflow's steps), renamed, connected, deleted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from airflow_mmc_provider.emulator.ids import new_id, now
from airflow_mmc_provider.emulator.store.base import StoreBase
from airflow_mmc_provider.emulator.store.rows import Listing, created, from_rows, insert


@dataclass(frozen=True)
class NewProject:
    """A project to create; which values a variant sets is the resolver's business."""

    name: str
    description: str | None = None
    media_type: str | None = None
    editor_task_type: str | None = None
    upload_type: str | None = None
    audit_labels: int | None = None
    audit_percentage: float | None = None
    benchmark: bool = False
    consensus: bool = False
    labeling_frontend_id: str | None = None


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    description: str | None
    media_type: str | None
    editor_task_type: str | None
    upload_type: str | None
    audit_labels: int | None
    audit_percentage: float | None
    benchmark: bool
    consensus: bool
    ontology_id: str | None
    labeling_frontend_id: str | None
    setup_complete: str | None
    model_setup_complete: str | None
    last_activity_time: str | None
    deleted: bool
    data_row_count: int
    created_by: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class TaskQueue:
    id: str
    project_id: str
    queue_type: str
    name: str
    description: str | None
    state: str  # the workflow state of the rows this queue holds


_PROJECTS = Listing(
    Project,
    "SELECT p.*, (SELECT COUNT(*) FROM project_data_rows m WHERE m.project_id = p.id) AS data_row_count "
    "FROM projects p",
)


class ProjectState(StoreBase):
    def create_project(self, new: NewProject, queues: Sequence[tuple[str, str, str, str]]) -> Project:
        """Create a project with its task queues, given as (queueType, name, description, state)."""
        stamp, project_id = now(), new_id()
        with self.transaction() as db:
            insert(db, "projects", {
                "id": project_id, "organization_id": self.organization.id, **asdict(new),
                "benchmark": int(new.benchmark), "consensus": int(new.consensus),
                "created_by": self.user.id, "created_at": stamp, "updated_at": stamp,
            })  # fmt: skip
            db.executemany(
                "INSERT INTO task_queues VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(new_id(), project_id, position, *queue) for position, queue in enumerate(queues)],
            )
        return created(self.get_project(project_id))

    def get_project(self, project_id: str, *, include_deleted: bool = False) -> Project | None:
        return _PROJECTS.by_id(self._db, self.organization.id, project_id, include_deleted)

    def list_projects(self, name: str | None = None) -> list[Project]:
        """Every project of the organisation (deleted ones too, flagged), oldest first."""
        return _PROJECTS.named(self._db, self.organization.id, name)

    def update_project(
        self,
        project_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        labeling_frontend_id: str | None = None,
        ontology_id: str | None = None,
    ) -> Project | None:
        """Change a live project (None keeps a value); connecting an ontology completes its setup."""
        stamp = now()
        with self.transaction() as db:
            updated = db.execute(
                "UPDATE projects SET name = COALESCE(?, name), description = COALESCE(?, description), "
                "labeling_frontend_id = COALESCE(?, labeling_frontend_id), "
                "ontology_id = COALESCE(?, ontology_id), "
                "setup_complete = CASE WHEN ? IS NULL THEN setup_complete ELSE COALESCE(setup_complete, ?) END, "
                "updated_at = ? WHERE id = ? AND organization_id = ? AND deleted = 0",
                (name, description, labeling_frontend_id, ontology_id, ontology_id, stamp, stamp, project_id,
                 self.organization.id),
            ).rowcount  # fmt: skip
        return self.get_project(project_id) if updated else None

    def delete_project(self, project_id: str) -> Project | None:
        with self.transaction() as db:
            updated = db.execute(
                "UPDATE projects SET deleted = 1, updated_at = ? WHERE id = ? AND organization_id = ? "
                "AND deleted = 0",
                (now(), project_id, self.organization.id),
            ).rowcount
        return self.get_project(project_id, include_deleted=True) if updated else None

    def task_queues(self, project_id: str) -> list[TaskQueue]:
        rows = self._db.execute(
            "SELECT * FROM task_queues WHERE project_id = ? ORDER BY position", (project_id,)
        ).fetchall()
        return from_rows(TaskQueue, rows)
