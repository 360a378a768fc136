"""What Labelbox made of an annotation import, read from its files, in words a person can act on.

An import leaves three NDJSON files: the inputs it was given, a status per annotation, and the
errors of an import that failed as a whole. Reading them is plain client work (no Airflow), so a
notebook can ask the same questions the import operator asks:

    found = client.imports.find(project_id, "round-7-gt", "ground_truth")
    outcome = read_outcome(client.imports, [found])
    print(outcome.accepted, outcome.failures[:5])
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Protocol

from airflow_mmc_provider.client.errors import LabelboxError
from airflow_mmc_provider.client.imports import line_uuids
from airflow_mmc_provider.client.models import AnnotationImport

log = logging.getLogger(__name__)

_ERRORS_SHOWN = 10  # errors of a failed import its reason quotes


class ReportReader(Protocol):
    """What reading reports needs of `Imports` (a test may give less than a whole client)."""

    def read_report(self, url: str | None) -> Iterator[dict[str, Any]]: ...


class InputReader(ReportReader, Protocol):
    def input_uuids(self, found: AnnotationImport) -> set[str] | None: ...


@dataclass
class ImportOutcome:
    """Every annotation of one or more imports: accepted (counted by kind) or failed (with why)."""

    statuses: Counter[str] = field(default_factory=Counter)
    accepted_by_kind: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.statuses.get("SUCCESS", 0)


def read_outcome(reader: ReportReader, imports: Iterable[AnnotationImport]) -> ImportOutcome:
    """The status of each annotation of these imports, joined to the line that was sent (which
    names the feature and the data row by global key where the status may only have the id)."""
    outcome = ImportOutcome()
    for found in imports:
        sent = {line.get("uuid"): line for line in reader.read_report(found.input_file_url)}
        for status in reader.read_report(found.status_file_url):
            outcome.statuses[status.get("status", "UNKNOWN")] += 1
            line = sent.get(status.get("uuid"), {})
            if status.get("status") == "SUCCESS":
                outcome.accepted_by_kind[kind_of(line) if line else "unknown"] += 1
            else:
                outcome.failures.append(failure_text(status, line))
    return outcome


def failed_import_reason(reader: ReportReader, found: AnnotationImport, project_id: str) -> str:
    """Why a whole import FAILED, from its errors file; the file's address without its query
    (a signed URL's query is a credential)."""
    try:
        errors = [failure_text(e) for e in islice(reader.read_report(found.error_file_url), _ERRORS_SHOWN)]
    except LabelboxError as error:
        errors = [f"the errors file could not be read ({error})"]
    where = f" (errors file: {found.error_file_url.split('?', 1)[0]})" if found.error_file_url else ""
    reasons = "; ".join(errors) if errors else "Labelbox gave no errors file"
    return f"Labelbox import {found.name!r} in project {project_id} FAILED as a whole: {reasons}{where}."


def input_change(reader: InputReader, found: AnnotationImport, body: bytes, project_id: str) -> str | None:
    """How an existing import's inputs differ from `body` (None: the same annotations, or no
    inputs file to compare with). A retry finds the import its first try started: if the input
    changed since, the new annotations would silently never be imported."""
    theirs = reader.input_uuids(found)
    if theirs is None:
        log.warning("Import %r has no inputs file to compare with this input", found.name)
        return None
    ours = line_uuids(body)
    if theirs == ours:
        return None
    return (
        f"Labelbox import {found.name!r} already exists in project {project_id} with other "
        f"annotations ({len(ours - theirs)} of this input's {len(ours)} are not in it, "
        f"{len(theirs - ours)} of its {len(theirs)} are not in this input): the input changed "
        "since the first try."
    )


def kind_of(line: Mapping[str, Any]) -> str:
    """What an NDJSON annotation line is: a message evaluation task's format, or a
    classification's kind and scope, e.g. ``radio (message)``."""
    task = line.get("messageEvaluationTask")
    if isinstance(task, Mapping):
        return str(task.get("format"))
    answer = line.get("answer", line.get("answers"))
    kind = "text" if isinstance(answer, str) else "checklist" if isinstance(answer, list) else "radio"
    return f"{kind} ({'message' if line.get('messageId') else 'global'})"


def failure_text(status: Mapping[str, Any], sent: Mapping[str, Any] | None = None) -> str:
    """One rejected annotation: its uuid, feature and data row (from the line sent, which has the
    global key where the status may only have the id) and the service's reasons."""
    sent = sent or {}
    row = sent.get("dataRow") or status.get("dataRow") or {}
    feature = f" ({sent.get('name') or sent.get('schemaId')}, {kind_of(sent)})" if sent else ""
    errors = "; ".join(str(e.get("message")) for e in status.get("errors") or [] if isinstance(e, Mapping))
    where = row.get("globalKey") or row.get("id")
    return f"annotation {status.get('uuid')}{feature} on data row {where}: {errors or 'failed'}"
