"""Annotation imports (ground truth and pre-labels) and the labels and pre-labels they leave."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_mmc_provider.emulator.ids import new_id, now
from airflow_mmc_provider.emulator.labels import StoredLabel
from airflow_mmc_provider.emulator.store.labels import LabelState, record_move
from airflow_mmc_provider.emulator.store.rows import created, dumps, from_rows, select_in
from airflow_mmc_provider.emulator.workflow import DONE, TO_LABEL


@dataclass(frozen=True)
class AnnotationImport:
    id: str
    project_id: str
    name: str
    kind: str  # "label" (ground truth) or "mal" (pre-labels)
    state: str
    progress: str
    input_file_id: str
    status_file_id: str | None
    error_file_id: str | None
    base_url: str
    created_at: str


class ImportNameTaken(ValueError):
    """The project already has an import of this kind with this name."""


class ImportState(LabelState):
    def create_import(
        self, project_id: str, name: str, kind: str, input_file_id: str, base_url: str
    ) -> AnnotationImport:
        """A RUNNING import; ImportNameTaken when the project has one of this kind and name."""
        stamp, import_id = now(), new_id()
        try:
            with self.transaction() as db:
                db.execute(
                    "INSERT INTO annotation_imports (id, project_id, name, kind, state, progress, input_file_id, "
                    "base_url, created_at, updated_at) VALUES (?, ?, ?, ?, 'RUNNING', '0%', ?, ?, ?, ?)",
                    (import_id, project_id, name, kind, input_file_id, base_url, stamp, stamp),
                )
        except sqlite3.IntegrityError:
            raise ImportNameTaken(name) from None
        return created(self.get_import(import_id))

    def _imports(self, condition: str, params: tuple[Any, ...]) -> list[AnnotationImport]:
        rows = self._db.execute(
            f"SELECT * FROM annotation_imports WHERE {condition} ORDER BY seq",  # noqa: S608
            params,
        ).fetchall()
        return from_rows(AnnotationImport, rows)

    def get_import(self, import_id: str) -> AnnotationImport | None:
        found = self._imports("id = ?", (import_id,))
        return found[0] if found else None

    def find_import(self, project_id: str, name: str, kind: str) -> AnnotationImport | None:
        found = self._imports("project_id = ? AND name = ? AND kind = ?", (project_id, name, kind))
        return found[0] if found else None

    def finish_import(
        self, import_id: str, *, state: str, status_file_id: str | None, error_file_id: str | None
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE annotation_imports SET state = ?, progress = '100%', status_file_id = ?, "
                "error_file_id = ?, updated_at = ? WHERE id = ?",
                (state, status_file_id, error_file_id, now(), import_id),
            )

    def project_members(
        self, project_id: str, data_row_ids: Iterable[str], global_keys: Iterable[str]
    ) -> dict[str, tuple[str, str]]:
        """Rows of the project named by id or global key: that name -> (row id, row data)."""
        found: dict[str, tuple[str, str]] = {}
        for column, values in (("id", data_row_ids), ("global_key", global_keys)):
            rows = select_in(
                self._db,
                "SELECT r.id, r.global_key, r.row_data FROM data_rows r JOIN project_data_rows m "  # noqa: S608 - column is id or global_key
                f"ON m.data_row_id = r.id AND m.project_id = ? WHERE r.deleted = 0 AND r.{column} IN ({{marks}})",
                values,
                project_id,
            )
            found.update((r[column], (r["id"], r["row_data"])) for r in rows)
        return found

    def store_import_results(
        self, found: AnnotationImport, labels: Sequence[StoredLabel], *, prelabels: bool
    ) -> None:
        """Pre-labels apart; ground-truth labels as labels, their ToLabel rows moved to Done."""
        with self.transaction() as db:
            if prelabels:
                db.executemany(
                    "INSERT INTO prelabels (id, project_id, data_row_id, import_id, annotations, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [(lb.id, lb.project_id, lb.data_row_id, found.id, dumps(lb.annotations), lb.created_at)
                     for lb in labels],
                )  # fmt: skip
                return
            self.add_labels(labels, db)
            stamp = now()
            for label in labels:
                moved = db.execute(
                    "UPDATE project_data_rows SET state = ?, labeled = 1, updated_at = ? "
                    "WHERE project_id = ? AND data_row_id = ? AND state = ?",
                    (DONE, stamp, label.project_id, label.data_row_id, TO_LABEL),
                ).rowcount
                if moved:
                    record_move(db, label.project_id, label.data_row_id, (TO_LABEL, DONE, stamp))
