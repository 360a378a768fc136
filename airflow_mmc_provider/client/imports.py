"""Annotation imports: ground truth (`LabelImport`) and pre-labels (model-assisted labelling).

An import is named and looked up by (project, name), so a retried task finds the import its first
try started instead of starting another. Large inputs are split into parts named
`<name>-part-0001`... of at most `max_part_bytes`, each idempotent on its own. A part holds whole
data rows: a ground-truth import makes one label per data row it touches, so a data row whose
annotations were spread over two parts would get two labels, each missing what the other has.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import msgspec

from airflow_mmc_provider.client.errors import ConflictError, LabelboxError, NotFoundError
from airflow_mmc_provider.client.models import AnnotationImport
from airflow_mmc_provider.client.projects import PROJECT_FIELDS
from airflow_mmc_provider.client.transport import Transport

GROUND_TRUTH = "ground_truth"
MODEL_ASSISTED = "model_assisted"
IMPORT_FIELDS = f"errorFileUrl inputFileUrl name progress state statusFileUrl id project{{{PROJECT_FIELDS}}}"
DEFAULT_MAX_PART_BYTES = 50_000_000
_KINDS = {
    GROUND_TRUTH: ("createLabelImport", "labelImport", "LabelImport"),
    MODEL_ASSISTED: (
        "createModelAssistedLabelingPredictionImport",
        "modelAssistedLabelingPredictionImport",
        "MALPredictionImport",
    ),
}


class Imports:
    """Start, find and read annotation imports."""

    def __init__(self, transport: Transport, sleep: Callable[[float], None] = time.sleep) -> None:
        self._transport = transport
        self._sleep = sleep

    def find(self, project_id: str, name: str, kind: str) -> AnnotationImport | None:
        _, root, label = _kind(kind)
        query = (
            f"query get{label}PyApi($projectId: ID!, $name: String!) {{ {root}(where: "
            f"{{projectId: $projectId, name: $name}}){{ {IMPORT_FIELDS} }} }}"
        )
        try:
            node = self._transport.execute(query, {"projectId": project_id, "name": name}).get(root)
        except NotFoundError:
            return None
        return AnnotationImport.from_graphql(node) if node else None

    def start_from_bytes(self, project_id: str, name: str, kind: str, ndjson: bytes) -> AnnotationImport:
        """Upload the NDJSON in the same request (GraphQL multipart), as the SDK does."""
        create, _, label = _kind(kind)
        query = (
            f"mutation create{label}ByFilePyApi($projectId: ID!, $name: String!, $file: Upload!, "
            f"$contentLength: Int!) {{ {create}(data: {{ projectId: $projectId name: $name "
            f"filePayload: {{ file: $file, contentLength: $contentLength}} }}) {{ {IMPORT_FIELDS} }} }}"
        )
        part = f"{project_id}__{name}.ndjson"
        data = self._transport.execute_multipart(
            query,
            {"projectId": project_id, "name": name, "contentLength": len(ndjson)},
            file_variable="file",
            content=ndjson,
            filename=part,
            content_type="application/x-ndjson",
            part_name=part,
            idempotent=False,
            timeout=300,
        )
        return AnnotationImport.from_graphql(data[create])

    def start_from_url(self, project_id: str, name: str, kind: str, url: str) -> AnnotationImport:
        create, _, label = _kind(kind)
        query = (
            f"mutation create{label}ByUrlPyApi($projectId: ID!, $name: String!, $fileUrl: String!) {{ "
            f"{create}(data: {{ projectId: $projectId name: $name fileUrl: $fileUrl }}) {{ {IMPORT_FIELDS} }} }}"
        )
        data = self._transport.execute(
            query, {"projectId": project_id, "name": name, "fileUrl": url}, idempotent=False
        )
        return AnnotationImport.from_graphql(data[create])

    def ensure(self, project_id: str, name: str, kind: str, ndjson: bytes) -> tuple[AnnotationImport, bool]:
        """(import, started now): find the import by name or start it. A lost answer to the start
        is looked up by name and sent again only when the import is not there; a start refused
        because the name is taken (another try of this task got there first) is the import found."""
        existing = self.find(project_id, name, kind)
        if existing is not None:
            return existing, False

        def start() -> AnnotationImport:
            try:
                return self.start_from_bytes(project_id, name, kind, ndjson)
            except ConflictError:
                found = self.find(project_id, name, kind)
                if found is None:
                    raise
                return found

        return self._transport.resolve(start, lambda: self.find(project_id, name, kind)), True

    def wait(
        self, project_id: str, name: str, kind: str, *, timeout: float = 3600, poll_interval: float = 5
    ) -> AnnotationImport:
        deadline = time.monotonic() + timeout
        interval = min(0.5, poll_interval)
        while True:
            found = self.find(project_id, name, kind)
            if found is None:
                raise NotFoundError(
                    f"import {name!r} not found in project {project_id}", operation="wait for import"
                )
            if found.is_terminal:
                return found
            if time.monotonic() + interval > deadline:
                raise LabelboxError(
                    f"import {name!r} is still {found.state} ({found.progress}) after {timeout:.0f}s",
                    operation="wait for import",
                )
            self._sleep(interval)
            interval = min(poll_interval, interval * 2)

    def input_uuids(self, found: AnnotationImport) -> set[str] | None:
        """The uuids of the annotations an import was given (None: it has no inputs file; an
        inputs file that is not NDJSON gives none)."""
        if not found.input_file_url:
            return None
        try:
            return {str(line.get("uuid")) for line in self.read_report(found.input_file_url)}
        except msgspec.DecodeError:
            return set()

    def read_report(self, url: str | None) -> Iterator[dict[str, Any]]:
        """The lines of an import's status, errors or inputs file (empty when there is none)."""
        if not url:
            return
        body = self._transport.download(url)
        decoder = msgspec.json.Decoder()
        for line in body.splitlines():
            if line.strip():
                yield decoder.decode(line)


class _LineDataRow(msgspec.Struct, rename="camel"):
    data_row: dict[str, Any] = {}


_data_row_decoder = msgspec.json.Decoder(_LineDataRow)


def split_parts(lines: Iterable[bytes], max_part_bytes: int = DEFAULT_MAX_PART_BYTES) -> Iterator[bytes]:
    """NDJSON parts of at most `max_part_bytes`, each holding every line of its data rows.

    Lines are grouped by data row (``dataRow.globalKey`` or ``dataRow.id``) in order of first
    appearance, and whole groups are packed into parts in that order; a group longer than
    `max_part_bytes` is a part of its own. The same lines always give the same parts.
    """
    rows: dict[Any, list[bytes]] = {}
    for line in lines:
        line = line.rstrip(b"\n")
        row = _data_row_decoder.decode(line).data_row
        key = (row.get("globalKey"), row.get("id"))
        rows.setdefault(key, []).append(line)
    part: list[bytes] = []
    size = 0
    for group in rows.values():
        length = sum(len(line) + 1 for line in group)
        if part and size + length - 1 > max_part_bytes:
            yield b"\n".join(part)
            part, size = [], 0
        part.extend(group)
        size += length
    if part:
        yield b"\n".join(part)


def line_uuids(ndjson: bytes) -> set[str]:
    """The uuids of an NDJSON body's annotations."""
    return {_uuid_decoder.decode(line).uuid for line in ndjson.splitlines() if line.strip()}


class _LineUuid(msgspec.Struct):
    uuid: str = ""


_uuid_decoder = msgspec.json.Decoder(_LineUuid)


def part_name(name: str, index: int, count: int) -> str:
    """The import name of part `index` (0-based): the bare name when there is only one part."""
    return name if count == 1 else f"{name}-part-{index + 1:04d}"


def _kind(kind: str) -> tuple[str, str, str]:
    try:
        return _KINDS[kind]
    except KeyError:
        raise ValueError(
            f"import kind must be {GROUND_TRUTH!r} or {MODEL_ASSISTED!r}, not {kind!r}"
        ) from None
