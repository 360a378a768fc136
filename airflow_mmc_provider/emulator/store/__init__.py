"""The emulator's state: one SQLite database plus uploaded files, both under the data directory.

It knows nothing of GraphQL or HTTP (the split moto uses between backends and responses): resolvers
and background jobs call it with plain Python values and get frozen dataclasses back. State is kept
per resource, one module each (datasets, data rows, upserts, metadata, files, tasks, jobs,
frontends, ontologies, projects, batches, workflow, labels, imports, exports), every one a mixin
over `base.StoreBase` (connections, transactions, schema, account); `Store` is all of them.
"""

from __future__ import annotations

import os

from airflow_mmc_provider.emulator.store.base import Organization, UnknownCursor, User
from airflow_mmc_provider.emulator.store.batches import Batch, BatchNameTaken, BatchState, BatchWriter
from airflow_mmc_provider.emulator.store.data_rows import DATA_ROW_FILTERS, DataRow, DataRowState
from airflow_mmc_provider.emulator.store.datasets import Dataset, DatasetState
from airflow_mmc_provider.emulator.store.exports import ExportState
from airflow_mmc_provider.emulator.store.files import FileState, StoredFile
from airflow_mmc_provider.emulator.store.frontends import (
    EDITOR_FRONTEND,
    FrontendState,
    LabelingFrontend,
    LabelingFrontendOptions,
)
from airflow_mmc_provider.emulator.store.imports import AnnotationImport, ImportNameTaken, ImportState
from airflow_mmc_provider.emulator.store.jobs import Job, JobState
from airflow_mmc_provider.emulator.store.metadata import MetadataState
from airflow_mmc_provider.emulator.store.ontologies import Ontology, OntologyState
from airflow_mmc_provider.emulator.store.projects import NewProject, Project, TaskQueue
from airflow_mmc_provider.emulator.store.tasks import (
    COMPLETE,
    FAILED,
    IN_PROGRESS,
    TASK_FILTERS,
    Task,
    TaskState,
)
from airflow_mmc_provider.emulator.store.upserts import (
    DataRowUpdate,
    DataRowWriter,
    FailedRow,
    NewDataRow,
    RowRef,
    UpsertState,
)
from airflow_mmc_provider.emulator.store.workflow import WorkflowState

__all__ = [
    "COMPLETE", "DATA_ROW_FILTERS", "EDITOR_FRONTEND", "FAILED", "IN_PROGRESS", "TASK_FILTERS",
    "AnnotationImport", "Batch", "BatchNameTaken", "BatchWriter", "DataRow", "DataRowUpdate",
    "DataRowWriter", "Dataset", "FailedRow", "ImportNameTaken", "Job", "LabelingFrontend",
    "LabelingFrontendOptions", "NewDataRow", "NewProject", "Ontology", "Organization", "Project",
    "RowRef", "Store", "StoredFile", "Task", "TaskQueue", "UnknownCursor", "User",
]  # fmt: skip


class Store(
    DatasetState,
    DataRowState,
    UpsertState,
    MetadataState,
    FileState,
    TaskState,
    JobState,
    FrontendState,
    OntologyState,
    WorkflowState,
    BatchState,
    ImportState,
    ExportState,
):
    """All persistent state of one emulator: an organisation, its user, and what they created."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        super().__init__(data_dir)
        self._ensure_editor()
