"""Annotation imports: ground truth (`createLabelImport`) and pre-labels (`createModelAssisted...`).

Protocol (wire reference 6): the NDJSON arrives as the multipart file part (``filePayload.file``;
``contentLength`` is not enforced, the SDK computes it loosely) or by ``fileUrl`` (a URL this
emulator handed out; the SDK sends a HEAD to it first, which ``/files/{id}`` answers). The import
is keyed by (project, name) per kind: a second import of the same kind and name in a project is
refused. It is ``RUNNING`` until a background task (type ``annotation-import``, after
``--task-delay``) checks every line and ends it ``FINISHED`` -- or ``FAILED`` when the file is
not NDJSON at all or holds no line.

Each line is checked by `airflow_mmc_provider.mmc.annotations.rules` against the project's
ontology and the data row's conversation (one definition for the provider and the emulator);
a line must also name a data row that exists and is in the project. The status file has one line
per annotation, ``{"uuid", "dataRow": {"id"}, "status": "SUCCESS"|"FAILURE", "errors": [{"name",
"message"}]}`` (``errors`` only on failures), and the error file the failed ones; both are served at
plain ``/files/{id}`` URLs (``statusFileUrl``, ``errorFileUrl``; ``inputFileUrl`` is the upload).
The rules over a whole data row (``AnnotationValidator.finish``: required top-level classifications,
for ground truth only -- pre-labels may be partial, as the client allows) run once every line is
checked; each of their issues fails every annotation of its data row, which then gets no label.

Ground truth becomes labels (one per data row and import, by the API user, exported later), and the
rows it labels move from ToLabel to Done. Pre-labels are stored apart: they are not labels and are
not exported as labels.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import msgspec

from airflow_mmc_provider.emulator.ids import new_id, now
from airflow_mmc_provider.emulator.labels import StoredLabel
from airflow_mmc_provider.emulator.store import AnnotationImport, Store, Task
from airflow_mmc_provider.mmc.annotations.rules import AnnotationValidator

TASK_TYPE = "annotation-import"
TASK_NAME = "Annotation import"
LABEL = "label"
PRELABEL = "mal"
FINISHED = "FINISHED"
FAILED = "FAILED"
_encoder = msgspec.json.Encoder()


class ImportFileError(ValueError):
    """The uploaded file is not NDJSON annotations at all: the import fails."""


def parse_ndjson(content: bytes) -> list[Any]:
    """The file's lines, decoded (a line that is not JSON stays as text, to be reported)."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise ImportFileError("the import file is not UTF-8 text") from None
    lines: list[Any] = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        try:
            lines.append(json.loads(raw))
        except ValueError:
            lines.append(raw)
    if not lines:
        raise ImportFileError("the import file holds no annotation")
    return lines


def _row_key(line: Any) -> tuple[str | None, str | None]:
    data_row = line.get("dataRow") if isinstance(line, Mapping) else None
    if not isinstance(data_row, Mapping):
        return None, None
    return data_row.get("id"), data_row.get("globalKey")


def run_import_task(store: Store, task: Task) -> None:
    """Background handler: check every line, write the status and error files, store the results."""
    found = store.get_import(task.input["importId"])
    if found is None:
        return
    try:
        _run_import(store, task, found)
    except Exception:
        # The runner fails the task; the import must not stay RUNNING (the SDK would wait forever).
        store.finish_import(found.id, state=FAILED, status_file_id=None, error_file_id=None)
        raise


def _document(row_data: str) -> str | None:
    """The row's conversation document, or None for row data that is not one (e.g. a URL)."""
    try:
        return row_data if isinstance(json.loads(row_data), dict) else None
    except ValueError:
        return None


def _run_import(store: Store, task: Task, found: AnnotationImport) -> None:
    try:
        lines = parse_ndjson(store.read_file(found.input_file_id))
    except ImportFileError as exc:
        store.finish_import(found.id, state=FAILED, status_file_id=None, error_file_id=None)
        store.finish_task(task.id, status="FAILED", result=None, errors=str(exc), metadata=None)
        return
    project = store.get_project(found.project_id, include_deleted=True)
    ontology = store.get_ontology(project.ontology_id) if project and project.ontology_id else None
    ids = {i for i, _ in map(_row_key, lines) if i}
    keys = {k for _, k in map(_row_key, lines) if k}
    rows = store.project_members(found.project_id, ids, keys)  # key (id or global key) -> (row id, row data)
    validator = AnnotationValidator(
        ontology.normalized if ontology else {"tools": [], "classifications": []},
        check_required=found.kind == LABEL,
    )
    statuses: list[dict[str, Any]] = []
    checked: list[tuple[str | None, Any]] = []  # per status: the line's data row (id, else its key), line
    for number, line in enumerate(lines, start=1):
        row_id, key = _row_key(line)
        member = rows.get(row_id or "") or rows.get(key or "")
        document = _document(member[1]) if member else None  # None: no conversation rules (URL rows)
        issues = validator.check(line, number, document=document)
        errors = [{"name": "ValidationError", "message": str(issue)} for issue in issues]
        if member is None and isinstance(line, Mapping):
            errors.insert(0, {"name": "DataRowNotFound",
                              "message": f"Data row {row_id or key!r} does not exist or is not in the project"})  # fmt: skip
        uuid = line.get("uuid") if isinstance(line, Mapping) else None
        status: dict[str, Any] = {"uuid": uuid, "dataRow": {"id": member[0] if member else row_id},
                                  "status": "FAILURE" if errors else "SUCCESS"}  # fmt: skip
        if errors:
            status["errors"] = errors
        statuses.append(status)
        checked.append((member[0] if member else key or row_id, line))
    _fail_incomplete_rows(validator, rows, statuses, checked)
    accepted: dict[str, list[dict[str, Any]]] = {}
    for status, (row, line) in zip(statuses, checked, strict=True):
        if status["status"] == "SUCCESS":
            assert row is not None and isinstance(line, Mapping)
            accepted.setdefault(row, []).append({**line, "dataRow": {"id": row}})
    status_file = _save_lines(store, found, statuses)
    error_file = _save_lines(store, found, [s for s in statuses if s["status"] == "FAILURE"])
    stamp = now()
    labels = [
        StoredLabel(
            new_id(), found.project_id, row_id, annotations, store.user.email, 0.0, False, stamp, stamp
        )
        for row_id, annotations in accepted.items()
    ]
    store.store_import_results(found, labels, prelabels=found.kind == PRELABEL)
    store.finish_import(found.id, state=FINISHED, status_file_id=status_file, error_file_id=error_file)
    store.finish_task(
        task.id, status="COMPLETE", result=None, errors=None, metadata={"annotations": len(statuses)}
    )


def _fail_incomplete_rows(
    validator: AnnotationValidator,
    rows: Mapping[str, tuple[str, str]],
    statuses: list[dict[str, Any]],
    checked: list[tuple[str | None, Any]],
) -> None:
    """Apply the rules over whole data rows (`AnnotationValidator.finish`: required top-level
    classifications, for ground truth only) once every line is checked: each issue fails every
    annotation of its data row, so that row gets no label."""
    per_row: dict[str, list[dict[str, Any]]] = {}
    for issue in validator.finish():
        if issue.key is None:
            continue
        member = rows.get(issue.key)
        per_row.setdefault(member[0] if member else issue.key, []).append(
            {"name": "ValidationError", "message": str(issue)}
        )
    if not per_row:
        return
    for status, (row, _) in zip(statuses, checked, strict=True):
        found = per_row.get(row) if row is not None else None
        if found:
            status["status"] = "FAILURE"
            status["errors"] = [*status.get("errors", []), *found]


def _save_lines(store: Store, found: AnnotationImport, lines: list[dict[str, Any]]) -> str:
    body = b"\n".join(_encoder.encode(line) for line in lines)
    netloc = found.base_url.split("://", 1)[-1].split("/", 1)[0]
    return store.save_file(body, filename=None, content_type="application/x-ndjson", netloc=netloc).id


def import_node(found: AnnotationImport, project: dict[str, Any] | None) -> dict[str, Any]:
    """`LabelImport` / `MALPredictionImport` with every field the SDK selects."""

    def url(file_id: str | None) -> str | None:
        return f"{found.base_url}/files/{file_id}" if file_id else None

    return {
        "id": found.id,
        "name": found.name,
        "state": found.state,
        "progress": found.progress,
        "inputFileUrl": url(found.input_file_id),
        "statusFileUrl": url(found.status_file_id),
        "errorFileUrl": url(found.error_file_id),
        "createdAt": found.created_at,
        "project": project,
    }
