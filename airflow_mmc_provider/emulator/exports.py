"""Project exports (`exportDataRowsInProject`): a task that writes NDJSON once, then serves byte ranges.

Protocol (wire reference 7): the mutation answers ``{taskId, isStreamable: true}`` for a task of type
``export-data-rows`` that stays ``IN_PROGRESS`` for ``--export-delay`` seconds. When it runs, the
project's rows are read from SQLite one at a time, filtered, rendered and appended to
``<data dir>/exports/<task>.RESULT.ndjson`` (and ``.ERRORS.ndjson``), with a sidecar index of line
ends, so memory stays flat whatever the size. Then:

* ``task(where: {id}){exportMetadataHeader(streamType){totalSize totalLines}}`` -- null for an empty
  (or absent) stream, as the SDK expects;
* ``task(where: {id}){exportFileFromOffset(streamType, offset){offsets{start end} lines{start end}
  file}}`` -- a chunk of at most ``--export-chunk-bytes`` bytes starting exactly at ``offset`` (a
  UInt64, sent as a string), inclusive byte and line ranges, and ``file``: a URL of its own
  (``GET /export-chunks/{task}/{stream}/{start}-{end}``, unauthenticated like a signed URL; faults
  such as ``truncate`` and ``drop`` apply to it). Chunk boundaries ignore line boundaries;
* ``GET /api/v1/export-results/{task}/{org}`` and ``/api/v1/export-errors/{task}/{org}`` -- the whole
  stream (the URLs the SDK's ``export_v2`` tasks build as ``result_url`` / ``errors_url``).

Line layout: the seed's sample export line (``data_row`` with ``details``, ``media_attributes``,
``attachments``, ``metadata_fields``, ``embeddings``, ``projects.<id>`` with ``labels`` and
``project_details``); keys of ``include*`` params that are off are left out. Filters (wire reference
7.2) are ANDed: ``data_row_last_activity_at`` and ``labeled_at`` (``BETWEEN``,
``GREATER_THAN_OR_EQUAL``, ``LESS_THAN_OR_EQUAL``; values ``YYYY-MM-DD``, ``YYYY-MM-DD hh:mm:ss`` or
ISO with an offset, read in the given IANA ``timezone`` unless they carry an offset; a date-only
upper bound includes that whole day), ``data_row_id``, ``global_key``, ``batch`` (``operator: is``),
``task_queue_status`` (``InReview``/``InRework``/``Done``, also ``Skipped``) and
``task_queue_not_exist`` (ToLabel rows). A row's last activity is the latest of its own update, its
last workflow move and its last label.

The ERRORS stream: a data row whose ``external_id`` starts with ``emulator:export-error`` cannot be
exported; it is left out of RESULT and written to ERRORS as ``{"data_row_id", "global_key",
"error"}`` (the real service's error line layout is not documented). That is the deterministic way
for tests to get an export with errors.
"""

from __future__ import annotations

import bisect
import json
import mmap
import os
import sqlite3
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from airflow_mmc_provider.emulator.errors import InvalidInputError
from airflow_mmc_provider.emulator.labels import Renderer
from airflow_mmc_provider.emulator.metadata import SchemaIndex
from airflow_mmc_provider.emulator.store import COMPLETE, Store, Task
from airflow_mmc_provider.emulator.workflow import DONE, IN_REVIEW, IN_REWORK, SKIPPED, TO_LABEL
from airflow_mmc_provider.mmc.conversation.index import ConversationIndex, stored_row_index
from airflow_mmc_provider.mmc.export import wire
from airflow_mmc_provider.mmc.ontology.index import OntologyIndex

TASK_TYPE = "export-data-rows"
DEFAULT_TASK_NAME = "Export v2: project"
RESULT = "RESULT"
ERRORS = "ERRORS"
STREAM_TYPES = (RESULT, ERRORS)
DEFAULT_CHUNK_BYTES = 1024 * 1024
DEFAULT_EXPORT_DELAY = 0.2
ERROR_MARKER = "emulator:export-error"
CONVERSATIONAL_V2 = "application/vnd.labelbox.conversational.model-chat-evaluation"
_WORKFLOW_STATUS = {
    TO_LABEL: "TO_LABEL",
    IN_REVIEW: "IN_REVIEW",
    IN_REWORK: "IN_REWORK",
    DONE: "DONE",
    SKIPPED: "SKIPPED",
}
_QUEUE_STATUS = {"inreview": IN_REVIEW, "inrework": IN_REWORK, "done": DONE, "skipped": SKIPPED}
_TASK_NAMES = {
    TO_LABEL: "Initial labeling task",
    IN_REVIEW: "Initial review task",
    IN_REWORK: "Rework (all rejected)",
}

PARAMS = (
    "includeAttachments", "includeEmbeddings", "includeMetadata", "includeDataRowDetails",
    "includeProjectDetails", "includePerformanceDetails", "includeLabelDetails", "includeInterpolatedFrames",
)  # fmt: skip


@dataclass(frozen=True)
class ExportSettings:
    delay: float = DEFAULT_EXPORT_DELAY
    chunk_bytes: int = DEFAULT_CHUNK_BYTES


# --- filters -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """An instant range, either end open."""

    low: datetime | None
    high: datetime | None

    def contains(self, moment: datetime | None) -> bool:
        if moment is None:
            return False
        return (self.low is None or moment >= self.low) and (self.high is None or moment <= self.high)


@dataclass(frozen=True)
class RowFilter:
    activity: Range | None = None
    labeled: Range | None = None
    data_row_ids: frozenset[str] | None = None
    global_keys: frozenset[str] | None = None
    batch_ids: frozenset[str] | None = None
    states: frozenset[str] | None = None


def parse_instant(value: Any, zone: str | None, *, upper: bool) -> datetime:
    """A filter bound as an aware datetime (formats of wire reference 7.2)."""
    if not isinstance(value, str):
        raise InvalidInputError(f"a date filter value must be a string, got {value!r}")
    try:
        tz: Any = ZoneInfo(zone) if zone and zone.upper() != "UTC" else timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(f"unknown timezone {zone!r}: use an IANA name such as 'UTC'") from None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time.max if upper else time.min)
            return moment.replace(tzinfo=tz)
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(
            f"bad date {value!r}: use YYYY-MM-DD, YYYY-MM-DD hh:mm:ss or YYYY-MM-DDThh:mm:ss+hhmm"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


def _range(item: Mapping[str, Any]) -> Range:
    spec = item.get("value") or {}
    operator, zone, value = spec.get("operator"), spec.get("timezone"), spec.get("value")
    if operator == "BETWEEN":
        bounds = value if isinstance(value, Mapping) else {}
        return Range(
            parse_instant(bounds.get("min"), zone, upper=False),
            parse_instant(bounds.get("max"), zone, upper=True),
        )
    if operator == "GREATER_THAN_OR_EQUAL":
        return Range(parse_instant(value, zone, upper=False), None)
    if operator == "LESS_THAN_OR_EQUAL":
        return Range(None, parse_instant(value, zone, upper=True))
    raise InvalidInputError(
        f"unsupported date operator {operator!r}: use BETWEEN, GREATER_THAN_OR_EQUAL or LESS_THAN_OR_EQUAL"
    )


def parse_filters(query: Sequence[Any]) -> RowFilter:
    """The search items of ``filters.searchQuery.query`` as one ANDed filter; unknown items are refused."""
    found: dict[str, Any] = {}
    for item in query or ():
        if not isinstance(item, Mapping):
            raise InvalidInputError(f"a search filter must be an object, got {item!r}")
        kind = item.get("type")
        if kind == "data_row_last_activity_at":
            found["activity"] = _range(item)
        elif kind == "labeled_at":
            found["labeled"] = _range(item)
        elif kind in ("data_row_id", "global_key", "batch"):
            ids = item.get("ids")
            if item.get("operator", "is") != "is" or not isinstance(ids, list):
                raise InvalidInputError(f"filter {kind} needs operator 'is' and a list of ids")
            key = {"data_row_id": "data_row_ids", "global_key": "global_keys", "batch": "batch_ids"}[kind]
            found[key] = frozenset(str(i) for i in ids)
        elif kind == "task_queue_status":
            state = _QUEUE_STATUS.get(str(item.get("status", "")).lower())
            if state is None:
                raise InvalidInputError(
                    f"task_queue_status must be InReview, InRework or Done, got {item.get('status')!r}"
                )
            found["states"] = frozenset({state})
        elif kind == "task_queue_not_exist":
            found["states"] = frozenset({TO_LABEL})
        else:
            raise InvalidInputError(f"unsupported export filter type {kind!r}")
    return RowFilter(**found)


def _instant(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _export_time(stamp: str | None) -> str | None:
    """Export timestamps: ``2024-05-29T09:20:43.342+00:00`` (the seed's sample)."""
    return stamp[:-1] + "+00:00" if stamp and stamp.endswith("Z") else stamp


# --- the task --------------------------------------------------------------------------------------


def task_input(data: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(task name, stored input) of an `ExportDataRowsInProjectInput`; filters are checked now."""
    filters = data.get("filters") or {}
    project_id = filters.get("projectId")
    if not isinstance(project_id, str):
        raise InvalidInputError("filters.projectId is required")
    search = filters.get("searchQuery") or {}
    query = search.get("query") or []
    parse_filters(query)
    params = data.get("params") or {}
    return data.get("taskName") or DEFAULT_TASK_NAME, {
        "projectId": project_id,
        "query": query,
        "params": {key: bool(params.get(key)) for key in PARAMS},
        "streamable": bool(data.get("streamable", True)),
    }


def stream_path(store: Store, task_id: str, stream_type: str) -> Path:
    return store.exports_dir / f"{task_id}.{stream_type}.ndjson"


def _index_path(store: Store, task_id: str, stream_type: str) -> Path:
    return store.exports_dir / f"{task_id}.{stream_type}.index"


class _StreamWriter:
    """Appends NDJSON lines to a stream file and the line-end offsets to its index."""

    def __init__(self, store: Store, task_id: str, stream_type: str) -> None:
        self.path = stream_path(store, task_id, stream_type)
        self.index_path = _index_path(store, task_id, stream_type)
        self._file = open(self.path.with_suffix(".part"), "wb")  # noqa: SIM115 - closed in finish
        self._ends = array("Q")
        self._index = open(self.index_path.with_suffix(".ipart"), "wb")  # noqa: SIM115
        self.size = 0
        self.lines = 0

    def write(self, line: msgspec.Struct) -> None:
        data = wire.encoder.encode(line) + b"\n"
        self._file.write(data)
        self.size += len(data)
        self.lines += 1
        self._ends.append(self.size - 1)
        if len(self._ends) >= 4096:
            self._ends.tofile(self._index)
            self._ends = array("Q")

    def finish(self) -> None:
        self._ends.tofile(self._index)
        self._file.close()
        self._index.close()
        os.replace(self.path.with_suffix(".part"), self.path)
        os.replace(self.index_path.with_suffix(".ipart"), self.index_path)


def run_export_task(store: Store, task: Task) -> None:
    """Background handler: write the RESULT and ERRORS streams once, then complete the task."""
    spec = task.input
    project = store.get_project(spec["projectId"], include_deleted=True)
    row_filter = parse_filters(spec["query"])
    writers = {name: _StreamWriter(store, task.id, name) for name in STREAM_TYPES}
    if project is not None:
        builder = LineBuilder(store, project.id, project.name, project.ontology_id, spec["params"])
        for row in store.project_rows(project.id):
            if not builder.selected(row, row_filter):
                continue
            if (row["external_id"] or "").startswith(ERROR_MARKER):
                error = f"Data row {row['id']} could not be exported"
                writers[ERRORS].write(
                    wire.ErrorLine(data_row_id=row["id"], global_key=row["global_key"], error=error)
                )
                continue
            writers[RESULT].write(builder.line(row))
    for name, writer in writers.items():
        writer.finish()
        store.record_export_stream(task.id, name, writer.size, writer.lines)
    errors = None if writers[ERRORS].size == 0 else f"{writers[ERRORS].lines} data rows could not be exported"
    store.finish_task(
        task.id,
        status=COMPLETE,
        result=None,
        errors=errors,
        metadata={"resultLines": writers[RESULT].lines, "errorLines": writers[ERRORS].lines},
    )


class LineBuilder:
    """Builds one export line per data row of one project (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        project_id: str,
        project_name: str,
        ontology_id: str | None,
        params: Mapping[str, bool],
    ) -> None:
        self.store = store
        self.project_id = project_id
        self.project_name = project_name
        self.params = params
        ontology = store.get_ontology(ontology_id) if ontology_id else None
        self.ontology = OntologyIndex.from_normalized(ontology.normalized if ontology else None)
        self.ontology_id = ontology_id
        self.metadata = SchemaIndex(store.metadata_schemas())
        self.user_email = store.user.email
        self.queues = {q.state: q for q in store.task_queues(project_id)}

    def last_activity(self, row: sqlite3.Row) -> datetime | None:
        stamps = [s for s in (row["updated_at"], row["moved_at"], row["labeled_at_last"]) if s]
        return max(_instant(s) for s in stamps) if stamps else None  # type: ignore[type-var]

    def selected(self, row: sqlite3.Row, where: RowFilter) -> bool:
        if where.data_row_ids is not None and row["id"] not in where.data_row_ids:
            return False
        if where.global_keys is not None and row["global_key"] not in where.global_keys:
            return False
        if where.batch_ids is not None and row["batch_id"] not in where.batch_ids:
            return False
        if where.states is not None and row["state"] not in where.states:
            return False
        if where.activity is not None and not where.activity.contains(self.last_activity(row)):
            return False
        if where.labeled is not None:
            labels = self.store.labels_of(self.project_id, row["id"])
            if not any(where.labeled.contains(_instant(label.created_at)) for label in labels):
                return False
        return True

    def line(self, row: sqlite3.Row) -> wire.Line:
        params = self.params
        document = stored_row_index(row["row_data"])
        data_row = wire.DataRow(
            id=row["id"],
            global_key=row["global_key"],
            external_id=row["external_id"],
            row_data=row["row_data"],
        )
        if params.get("includeDataRowDetails"):
            activity = self.last_activity(row)
            data_row.details = wire.DataRowDetails(
                dataset_id=row["dataset_id"],
                dataset_name=row["dataset_name"],
                created_at=_export_time(row["created_at"]),
                updated_at=_export_time(row["updated_at"]),
                last_activity_at=activity.isoformat(timespec="milliseconds") if activity else None,
                created_by=self.user_email,
            )
        line = wire.Line(data_row=data_row, media_attributes=media_attributes(document, row["media_type"]))
        if params.get("includeAttachments"):
            line.attachments = tuple(
                wire.Attachment(type=a.get("type"), value=a.get("value"), name=a.get("name"))
                for a in json.loads(row["attachments"])
            )
        if params.get("includeMetadata"):
            line.metadata_fields = tuple(self.metadata.export_fields(json.loads(row["metadata"])))
        if params.get("includeEmbeddings"):
            line.embeddings = ()
        config_ids = document.model_config_ids() if document is not None else {}
        line.projects = {self.project_id: self.project_entry(row, config_ids)}
        return line

    def project_entry(self, row: sqlite3.Row, config_ids: Mapping[str, str]) -> wire.Project:
        params = self.params
        labels = []
        for label in self.store.labels_of(self.project_id, row["id"]):
            rendered = wire.Label(label_kind="Default", version="1.0.0", id=label.id)
            if params.get("includeLabelDetails"):
                rendered.label_details = wire.LabelDetails(
                    created_at=_export_time(label.created_at),
                    updated_at=_export_time(label.updated_at),
                    created_by=label.created_by,
                    content_last_updated_at=_export_time(label.updated_at),
                    reviews=(),
                )
            if params.get("includePerformanceDetails"):
                rendered.performance_details = wire.PerformanceDetails(
                    seconds_to_create=round(label.seconds_to_create),
                    seconds_to_review=0,
                    skipped=label.skipped,
                )
            rendered.annotations = Renderer(self.ontology, label.id, config_ids).annotations(
                label.annotations
            )
            labels.append(rendered)
        entry = wire.Project(name=self.project_name, labels=tuple(labels))
        if params.get("includeProjectDetails"):
            entry.project_details = self.project_details(row)
        return entry

    def project_details(self, row: sqlite3.Row) -> wire.ProjectDetails:
        settings = json.loads(row["consensus_settings"]) if row["consensus_settings"] else None
        queue = self.queues.get(row["state"])
        history = [
            self._move(move) for move in reversed(self.store.workflow_history(self.project_id, row["id"]))
        ]
        first = self.queues.get(TO_LABEL)
        if first is not None:  # entering the labelling queue with the batch (the seed's oldest entry)
            history.append(
                wire.WorkflowMove(
                    action="Move",
                    created_at=_export_time(row["added_at"]),
                    created_by=self.user_email,
                    next_task_name=first.name,
                    next_task_id=first.id,
                )
            )
        return wire.ProjectDetails(
            ontology_id=self.ontology_id,
            task_id=queue.id if queue else None,
            task_name=queue.name if queue else None,
            batch_id=row["batch_id"],
            batch_name=row["batch_name"],
            workflow_status=_WORKFLOW_STATUS.get(row["state"], row["state"]),
            priority=row["priority"],
            consensus_expected_label_count=settings["numberOfLabels"] if settings else 1,
            workflow_history=tuple(history),
        )

    def _move(self, move: sqlite3.Row) -> wire.WorkflowMove:
        """One move of the row's workflow history (the queues it left and entered, when known)."""
        entry = wire.WorkflowMove(
            action="Move", created_at=_export_time(move["created_at"]), created_by=self.user_email
        )
        previous = self.queues.get(move["from_state"]) if move["from_state"] else None
        if previous is not None:
            entry.previous_task_name = previous.name
            entry.previous_task_id = previous.id
        target = self.queues.get(move["to_state"])
        entry.next_task_name = target.name if target else _TASK_NAMES.get(move["to_state"], move["to_state"])
        if target is not None:
            entry.next_task_id = target.id
        return entry


def media_attributes(document: ConversationIndex | None, media_type: str | None) -> wire.MediaAttributes:
    """For MMC rows the seed's attributes: asset type, MIME type, labelable (message) ids, count."""
    if document is not None:
        messages = tuple(document.roles)  # every message of the document, in its order
        return wire.MediaAttributes(
            asset_type="conversational",
            mime_type=document.document_type or CONVERSATIONAL_V2,
            labelable_ids=messages,
            message_count=len(messages),
        )
    return wire.MediaAttributes(mime_type=media_type) if media_type else wire.MediaAttributes()


# --- reading the streams --------------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    start: int
    end: int  # inclusive
    first_line: int
    last_line: int


def chunk_at(store: Store, task_id: str, stream_type: str, offset: int, chunk_bytes: int) -> Chunk:
    """The chunk starting exactly at `offset` (inclusive byte and line ranges)."""
    header = store.export_stream(task_id, stream_type)
    if header is None:
        raise InvalidInputError(f"task {task_id} has no {stream_type} stream")
    size, _ = header
    if offset < 0 or offset >= size:
        raise InvalidInputError(f"offset {offset} is out of range: the {stream_type} stream has {size} bytes")
    end = min(size, offset + chunk_bytes) - 1
    first_line, last_line = _line_numbers(_index_path(store, task_id, stream_type), offset, end)
    return Chunk(offset, end, first_line, last_line)


def _line_numbers(index_path: Path, start: int, end: int) -> tuple[int, int]:
    """0-based numbers of the lines holding bytes `start` and `end`, by binary search in the index.

    The index (one native uint64 line end per line, as `array("Q")` writes it) is mapped, not read:
    a look-up touches a few pages instead of copying 8 bytes per line for every chunk served.
    """
    with open(index_path, "rb") as index, mmap.mmap(index.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        ends = memoryview(mapped).cast("Q")
        try:
            return bisect.bisect_left(ends, start), bisect.bisect_left(ends, end)
        finally:
            ends.release()


def read_range(store: Store, task_id: str, stream_type: str, start: int, end: int) -> bytes:
    with open(stream_path(store, task_id, stream_type), "rb") as stream:
        stream.seek(start)
        return stream.read(end - start + 1)


def iter_stream(store: Store, task_id: str, stream_type: str, block: int = 1 << 16) -> Iterator[bytes]:
    with open(stream_path(store, task_id, stream_type), "rb") as stream:
        while data := stream.read(block):
            yield data


def parse_offset(value: Any) -> int:
    """UInt64 arrives as a string (or an int)."""
    try:
        offset = int(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"offset must be a whole number, got {value!r}") from None
    if offset < 0:
        raise InvalidInputError("offset must not be negative")
    return offset
