"""One emulator in this process, driven through its state and task handlers (no server, no HTTP).

What the GraphQL resolvers do for a dataset, a data row, an ontology, a project with it connected,
a batch, an annotation import and a project export, in the same order and with the same modules
(`emulator.ontologies`, `batches`, `imports`, `exports`), so a test can follow one annotation from
the import file to the export stream in one interpreter (the one whose types module it edited).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_mmc_provider.emulator import batches, exports, imports, ontologies, workflow
from airflow_mmc_provider.emulator.ids import new_id
from airflow_mmc_provider.emulator.store import NewDataRow, NewProject, Store

CONVERSATIONAL = "CONVERSATIONAL"
BASE_URL = "http://emulator.test"


@dataclass(frozen=True)
class Emulated:
    """A project of one conversational data row, its ontology connected, in a batch."""

    store: Store
    project_id: str
    data_row_id: str

    def import_labels(self, body: bytes, name: str = "labels") -> list[dict[str, Any]]:
        """Run a ground-truth import of `body` (NDJSON) to the end; its status lines."""
        stored = self.store.save_file(
            body, filename=f"{name}.ndjson", content_type="application/x-ndjson", netloc="emulator.test"
        )
        found = self.store.create_import(self.project_id, name, imports.LABEL, stored.id, BASE_URL)
        task = self.store.create_task(imports.TASK_TYPE, imports.TASK_NAME, {"importId": found.id})
        imports.run_import_task(self.store, task)
        finished = self.store.get_import(found.id)
        assert finished is not None and finished.status_file_id is not None, finished
        status = self.store.file_path(finished.status_file_id).read_bytes()
        return [json.loads(line) for line in status.splitlines()]

    def export(self, **params: bool) -> bytes:
        """The RESULT stream of a project export (`params`: the `include*` switches)."""
        name, spec = exports.task_input({"filters": {"projectId": self.project_id}, "params": params})
        task = self.store.create_task(exports.TASK_TYPE, name, spec)
        exports.run_export_task(self.store, task)
        return exports.stream_path(self.store, task.id, exports.RESULT).read_bytes()


def emulated_project(data_dir: Path, normalized: dict[str, Any], row_data: str, global_key: str) -> Emulated:
    """A fresh emulator state under `data_dir` holding one data row (`row_data`, `global_key`) in a
    batch of a conversational project whose ontology is `normalized` (checked and completed as
    `upsertOntology` does)."""
    store = Store(data_dir)
    dataset = store.create_dataset("dataset", None)
    row = NewDataRow(
        id=new_id(), dataset_id=dataset.id, global_key=global_key, external_id=None,
        row_data=row_data, media_type=CONVERSATIONAL, metadata=[], attachments=[],
    )  # fmt: skip
    with store.data_row_writer() as writer:
        writer.insert([row])
    checked = ontologies.normalize(json.dumps(normalized))
    ontology = store.create_ontology(
        name="ontology",
        normalized=checked.normalized,
        object_count=checked.object_count,
        classification_count=checked.classification_count,
        media_type=CONVERSATIONAL,
    )
    project = store.create_project(
        NewProject(name="project", media_type=CONVERSATIONAL), workflow.task_queue_specs()
    )
    store.update_project(project.id, ontology_id=ontology.id)
    selection = batches.RowSelection((row.id,), (), batches.DEFAULT_PRIORITY)
    batches.create_batch_with_rows(store, project.id, "batch", None, selection)
    return Emulated(store, project.id, row.id)
