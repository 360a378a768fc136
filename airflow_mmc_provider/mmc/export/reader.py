"""Export lines of a multimodal chat evaluation project -> typed judgment records, streamed.

Labelbox exports a project as NDJSON, one JSON object per data row (wire reference section 7.5; the
annotation shapes are section 9, the conversation is row_data v2, section 10)::

    {"data_row": {"id", "global_key", "row_data": "<the v2 document as a JSON string, or an object>"},
     "projects": {"<projectId>": {
         "labels": [{"id", "label_details": {"created_by", "created_at"},
                     "annotations": {"objects": [<ranking | single | multi selection>],
                                     "classifications": [<radio | checklist | text, global or message>]}}],
         "project_details": {"batch_id", "workflow_status", ...},
         "project_model_configs": {"model_configs": {"<configId>": {"name": ...}}}}}}

`ExportReader` (and the shortcuts `iter_labels` / `iter_rows`) turns such lines into records;
`ExportReader.from_chunks` (`iter_chunk_rows`) reads downloaded chunks directly, with the same result:

* `ExportRow`: one data row within one project, with its `LabelRecord`s (several under consensus).
* `LabelRecord`: one rater's label: data row id, global key, project id, label id, rater
  (``label_details.created_by``), ``created_at``, workflow status and batch from ``project_details``,
  and the judgments: `Ranking`, `SingleSelection`, `MultiSelection` and `ClassificationAnswer`.

Models
------
Every response in a judgment is a `Response`: message id, model config name (``model``) and its
display ``position`` (index in the parent's ``childMessageIds``; raters see responses in that order).
The model of a message is, in this order: the annotation's ``model_config_name``; the message's
actor in row_data (``metadata.modelConfigName``, else its ``modelConfigId`` looked up in the
project's ``project_model_configs``, else the id itself); the annotation's ``model_config_id``
looked up the same way; else None (reported by the evaluation as an unresolved comparison). Labelbox's
own export sample carries only ids (``model_config_id`` on the annotation, ``modelConfigId`` on the
actor), so this chain is what makes that sample name its models.

The alternatives of a selection (the responses that were *not* chosen) and the unranked responses
of a ranking are the model children of the parent message in row_data. When row_data is a URL (data
rows uploaded by reference) the export does not carry the conversation: pass ``row_data_loader`` to
fetch it, otherwise ``LabelRecord.has_conversation`` is False, alternatives are empty and models
come from the annotations alone.

Classifications
---------------
Each answer is one `ClassificationAnswer`: question (``feature``), ``kind`` (radio, checklist,
text), ``scope`` (``global``, or ``message`` with ``message_id`` and, when that message is a model
response, its ``model``), ``answers`` (radio: one name, checklist: each checked name, text: empty),
``text`` (text answers), and ``path``: the questions and answers above a nested classification,
e.g. ``("Context subject", "Car")`` for a question nested under the answer "Car". Nested answers
inherit their parent's scope. Classifications nested under a message tool get ``message`` scope
on the tool's parent message and the tool's name as ``path``.

Row content
-----------
``row_content=True`` also gives each row (and its labels) a `RowContent`: its metadata fields by
name, and the text of each model response by message id (module `content`; off by default: the
leaderboard needs neither). `metadata_field_names` names the fields of a whole export in a light
pass, for a table whose header must come first.

Errors
------
Unknown keys are ignored (the service adds fields). A malformed line (not JSON, a known field of
the wrong type, a ranking without its messages, ...) is never skipped silently: by default the
reader raises `ExportError` (a `ValidationError`) naming the line number, data row and field as
soon as it meets one. With ``max_bad_lines=N`` up to N bad lines are skipped and kept in
``reader.issues``; the (N+1)-th raises with all of them. ``max_bad_lines=None`` never raises.
Annotation kinds this module does not know (``ConversationalTextEntity``, future kinds) are not
errors; they are counted in ``reader.skipped``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import Any, TypeVar

import msgspec

import airflow_mmc_provider.mmc.export.wire as wire
from airflow_mmc_provider.mmc.conversation.types import DocumentView
from airflow_mmc_provider.mmc.errors import ValidationIssue
from airflow_mmc_provider.mmc.export.content import metadata_field_names, read_row_content
from airflow_mmc_provider.mmc.export.judgments import LINE_FIX, LabelBuilder, Problem, RowConversation
from airflow_mmc_provider.mmc.export.records import (
    ClassificationAnswer,
    ExportError,
    ExportRow,
    LabelRecord,
    MetadataValue,
    MultiSelection,
    RankedResponse,
    Ranking,
    Response,
    RowContent,
    RowDataLoader,
    SingleSelection,
)
from airflow_mmc_provider.mmc.export.view import (
    DataRowView,
    LineView,
    decode_document,
    full_decoder,
    ids_decoder,
    unreadable_document,
    view_decoder,
)
from airflow_mmc_provider.mmc.jsonl import DECODE_ERRORS, TOO_DEEP_FIX, too_deep

__all__ = [
    "ClassificationAnswer",
    "ExportError",
    "ExportReader",
    "ExportRow",
    "LabelRecord",
    "MetadataValue",
    "MultiSelection",
    "RankedResponse",
    "Ranking",
    "Response",
    "RowContent",
    "RowDataLoader",
    "SingleSelection",
    "decode_line",
    "iter_chunk_rows",
    "iter_labels",
    "iter_rows",
    "metadata_field_names",
    "parse_line",
    "split_lines",
]


_NO_DETAILS = wire.ProjectDetails()
_NO_LABEL_DETAILS = wire.LabelDetails()
_NO_ANNOTATIONS = wire.Annotations()
_T = TypeVar("_T")


def _present(kind: type[_T], value: object, default: _T) -> _T:
    """An optional part of a line, or its empty default when left out or null."""
    return value if isinstance(value, kind) else default


def _build_rows(
    line: wire.Line,
    number: int,
    project_ids: Collection[str] | None,
    loader: RowDataLoader | None,
    skipped: dict[str, int],
    row_data_problem: Problem | None = None,
    with_content: bool = False,
) -> list[ExportRow]:
    """The rows of one decoded line (one per selected project); raises `Problem`.

    ``with_content``: also read the row's `RowContent` (metadata fields, response texts).
    """
    projects = line.projects
    if not projects:
        return []
    selected: Iterable[tuple[str, wire.Project]]
    if project_ids is None:
        selected = projects.items()
    else:
        selected = [(pid, p) for pid, p in projects.items() if pid in project_ids]
        if not selected:
            return []
    if row_data_problem is not None:
        raise row_data_problem
    data_row = line.data_row
    document = decode_document(data_row.row_data, loader)
    has_conversation = document is not None
    content = read_row_content(line.metadata_fields, data_row.row_data) if with_content else None
    rows: list[ExportRow] = []
    for project_id, project in selected:
        details = _present(wire.ProjectDetails, project.project_details, _NO_DETAILS)
        labels = (
            _build_labels(line, number, project_id, project, details, document, skipped, content)
            if project.labels
            else ()
        )
        rows.append(
            ExportRow(
                data_row.id,
                data_row.global_key,
                project_id,
                labels,
                project.name,
                details.workflow_status,
                details.batch_id,
                details.batch_name,
                data_row.external_id,
                number,
                has_conversation,
                content,
            )
        )
    return rows


def _build_labels(
    line: wire.Line,
    number: int,
    project_id: str,
    project: wire.Project,
    details: wire.ProjectDetails,
    document: DocumentView | None,
    skipped: dict[str, int],
    content: RowContent | None,
) -> tuple[LabelRecord, ...]:
    data_row = line.data_row
    model_configs = project.project_model_configs
    configs = model_configs.model_configs if isinstance(model_configs, wire.ProjectModelConfigs) else None
    conversation = RowConversation(document, configs)
    labels: list[LabelRecord] = []
    for label_index, label in enumerate(project.labels or ()):
        field = f"projects[{project_id!r}].labels[{label_index}].annotations"
        builder = LabelBuilder(conversation, skipped)
        annotations = label.annotations or _NO_ANNOTATIONS
        for index, obj in enumerate(annotations.objects or ()):
            builder.add_object(obj, f"{field}.objects[{index}]")
        for index, item in enumerate(annotations.classifications or ()):
            builder.add_classification(item, f"{field}.classifications[{index}]")
        ld = _present(wire.LabelDetails, label.label_details, _NO_LABEL_DETAILS)
        labels.append(
            LabelRecord(
                data_row_id=data_row.id,
                global_key=data_row.global_key,
                project_id=project_id,
                label_id=label.id,
                rater=ld.created_by,
                created_at=ld.created_at,
                workflow_status=details.workflow_status,
                batch_id=details.batch_id,
                batch_name=details.batch_name,
                rankings=tuple(builder.rankings),
                single_selections=tuple(builder.single),
                multi_selections=tuple(builder.multi),
                classifications=tuple(builder.classifications),
                external_id=data_row.external_id,
                line=number,
                has_conversation=document is not None,
                content=content,
            )
        )
    return tuple(labels)


def _without_row_data(line: bytes | str, error: msgspec.DecodeError) -> tuple[wire.Line, Problem]:
    """A line whose row_data is not a conversation: the rest of it, and the problem to report.

    The problem is only raised when a selected project needs the conversation, as when row_data
    was decoded on demand; any other decoding error is re-raised as it is.
    """
    field, message = _field_of(error)
    if field == "data_row.row_data":
        problem = Problem(field, "row_data is neither a JSON string nor an object")
    elif field.startswith("data_row.row_data."):
        problem = unreadable_document(f"{message} - at `$.{field.removeprefix('data_row.row_data.')}`")
    else:
        raise error
    rest = ids_decoder.decode(line)
    row = rest.data_row
    data_row = DataRowView(id=row.id, global_key=row.global_key, external_id=row.external_id)
    return LineView(data_row=data_row, projects=rest.projects), problem


def _field_of(exc: msgspec.DecodeError) -> tuple[str, str]:
    """msgspec's "Expected `str`, got `int` - at `$.data_row.id`" -> ("data_row.id", message)."""
    text = str(exc)
    marker = " - at `$"
    if marker in text:
        message, _, rest = text.partition(marker)
        return rest.rstrip("`").lstrip("."), message
    return "", text


def _row_key(raw: bytes | str) -> str | None:
    """The data row id of a line that failed to parse, when it can still be read."""
    try:
        value = msgspec.json.decode(raw)
    except DECODE_ERRORS:
        return None
    data_row = value.get("data_row") if isinstance(value, dict) else None
    row_id = data_row.get("id") if isinstance(data_row, dict) else None
    return row_id if isinstance(row_id, str) else None


def _normalize_projects(project_ids: str | Iterable[str] | None) -> frozenset[str] | None:
    if project_ids is None:
        return None
    if isinstance(project_ids, str):
        return frozenset((project_ids,))
    return frozenset(project_ids)


def decode_line(line: bytes | str) -> wire.Line:
    """One export line as the `wire` Structs the reader decodes (every field, also those no record
    carries); raises `msgspec.DecodeError` on a malformed line."""
    return full_decoder.decode(line)


def parse_line(
    line: bytes | str,
    *,
    line_number: int = 1,
    project_ids: str | Iterable[str] | None = None,
    row_data_loader: RowDataLoader | None = None,
    skipped: dict[str, int] | None = None,
    row_content: bool = False,
) -> list[ExportRow]:
    """One export line -> its rows (one per selected project), or `ExportError` naming the line."""
    projects = _normalize_projects(project_ids)
    counts = skipped if skipped is not None else {}
    try:
        try:
            decoded, problem = view_decoder.decode(line), None
        except msgspec.DecodeError as exc:
            decoded, problem = _without_row_data(line, exc)
        return _build_rows(decoded, line_number, projects, row_data_loader, counts, problem, row_content)
    except msgspec.DecodeError as exc:
        field, message = _field_of(exc)
        issue = ValidationIssue(
            f"export line {line_number}", field, message, LINE_FIX, key=_row_key(line), line=line_number
        )
    except Problem as problem:
        issue = _problem_issue(problem, line_number, _row_key(line))
    except RecursionError:  # caught when it happens: no line pays for a depth check
        issue = ValidationIssue(f"export line {line_number}", "", too_deep(), TOO_DEEP_FIX, line=line_number)
    raise ExportError([issue], subject="export")


def _problem_issue(problem: Problem, line_number: int, key: str | None) -> ValidationIssue:
    return ValidationIssue(
        f"export line {line_number}", problem.field, problem.message, problem.fix, key=key, line=line_number
    )


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Downloaded chunks (arbitrary boundaries) -> lines without their ``\\n``."""
    pending = b""
    for chunk in chunks:
        if not chunk:
            continue
        data = pending + chunk if pending else chunk
        parts = data.split(b"\n")
        pending = parts.pop()
        yield from parts
    if pending:
        yield pending


# Lines decoded in one call: a run this size stays in the CPU cache between the two passes over
# it (the line, then the conversation in its row_data); a whole 1 MiB chunk does not, and decodes
# markedly slower than line by line.
_BLOCK_BYTES = 64 * 1024


def _line_blocks(chunks: Iterable[bytes]) -> Iterator[tuple[bytes, int, int]]:
    """Downloaded chunks -> runs of whole lines as ``(data, start, end)``.

    ``data[start:end]`` ends with a newline (except the stream's last line when it has none). A
    line cut by a chunk boundary is joined with its rest (a copy of one line); the lines between a
    chunk's first and last newline are used in place, without a copy, in runs of about
    `_BLOCK_BYTES`.
    """
    carry = b""
    for chunk in chunks:
        last = chunk.rfind(b"\n")
        if last < 0:
            carry += chunk
            continue
        first = 0
        if carry:
            first = chunk.find(b"\n") + 1
            yield carry + chunk[:first], 0, len(carry) + first
        while first <= last:
            stop = chunk.find(b"\n", first + _BLOCK_BYTES, last + 1) + 1 or last + 1
            yield chunk, first, stop
            first = stop
        carry = chunk[last + 1 :]
    if carry:
        yield carry, 0, len(carry)


def _object_lines(data: bytes, start: int, end: int) -> int:
    """How many lines ``data[start:end]`` holds if each starts with ``{``, else 0.

    A newline-only scan (``find`` is a memchr) that also checks the first byte of every line: a
    blank or otherwise odd line sends the block down the line-by-line path.
    """
    find, lines, pos = data.find, 0, start
    while pos < end:
        if data[pos] != 0x7B:  # "{"
            return 0
        lines += 1
        pos = find(b"\n", pos, end) + 1 or end
    return lines


def _decode_block(data: bytes, start: int, end: int) -> tuple[int, list[wire.Line] | None]:
    """(number of lines, each decoded) for a block; None instead of the list when one call to
    msgspec's ``decode_lines`` would not be exactly one value per line.

    ``decode_lines`` accepts any whitespace between values, so it is only used when every line
    starts with ``{`` (no blank line) and it returns one value per line; otherwise (or on any
    decoding error) the caller reads the block line by line, which names the bad line.
    """
    lines = _object_lines(data, start, end)
    if lines:
        try:
            decoded = view_decoder.decode_lines(memoryview(data)[start:end])
        except DECODE_ERRORS:
            pass
        else:
            if len(decoded) == lines:
                return lines, decoded
    return data.count(b"\n", start, end) + (data[end - 1 : end] != b"\n"), None


class ExportReader:
    """Streams export lines into `ExportRow` / `LabelRecord` records (one pass, flat memory).

    ``lines`` is any iterable of bytes or str lines: a file opened in binary mode, or
    ``split_lines(chunks)``. ``project_ids`` keeps the given project(s) of each line (default: all).
    ``max_bad_lines``: see the module docstring (0 = raise at the first malformed line, N = skip up
    to N and keep them in ``issues``, None = never raise). ``first_line`` numbers lines when the
    stream resumes mid-file. ``row_content=True`` also reads each row's metadata fields and the
    text of its model responses into `RowContent` (``row.content``, ``label.content``); off by
    default, since the leaderboard's pass needs neither.

    After (or during) iteration: ``lines_read`` (non-blank lines), ``rows_read`` (data rows with at
    least one selected project), ``labels_read``, ``rows_without_labels``, ``bad_lines`` and
    ``issues``, and ``skipped`` (annotation kinds not handled here -> count).
    """

    def __init__(
        self,
        lines: Iterable[bytes | str],
        *,
        project_ids: str | Iterable[str] | None = None,
        max_bad_lines: int | None = 0,
        row_data_loader: RowDataLoader | None = None,
        first_line: int = 1,
        row_content: bool = False,
    ) -> None:
        if max_bad_lines is not None and max_bad_lines < 0:
            raise ValueError("max_bad_lines must be >= 0 or None")
        self._lines = lines
        self.project_ids = _normalize_projects(project_ids)
        self.max_bad_lines = max_bad_lines
        self.row_data_loader = row_data_loader
        self.first_line = first_line
        self.row_content = row_content
        self.lines_read = 0
        self.rows_read = 0
        self.labels_read = 0
        self.rows_without_labels = 0
        self.issues: list[ValidationIssue] = []
        self.skipped: dict[str, int] = {}
        self._chunks: Iterable[bytes] | None = None
        self._started = False

    @classmethod
    def from_chunks(cls, chunks: Iterable[bytes], **options: Any) -> ExportReader:
        """A reader over downloaded chunks with arbitrary boundaries (e.g. `Exports.iter_chunks`).

        The records, counters and errors are those of ``ExportReader(split_lines(chunks))``; it
        is faster because each run of whole lines in a chunk is decoded in one call, without a
        bytes object per line.
        """
        reader = cls((), **options)
        reader._chunks = chunks
        return reader

    @property
    def bad_lines(self) -> int:
        return len(self.issues)

    def rows(self) -> Iterator[ExportRow]:
        if self._started:
            raise RuntimeError("an ExportReader reads its lines once")
        self._started = True
        if self._chunks is not None:
            parsed = self._parse_blocks(self._chunks)
        else:
            parsed = self._parse_lines(self._lines, self.first_line)
        # The rows of each good line, counted in this one loop (it runs once per data row, so
        # the counting is not a call of its own).
        for rows in parsed:
            if rows:
                self.rows_read += 1
                for row in rows:
                    if row.labels:
                        self.labels_read += len(row.labels)
                    else:
                        self.rows_without_labels += 1
                    yield row

    def _parse_lines(self, lines: Iterable[bytes | str], first: int) -> Iterator[list[ExportRow]]:
        """The rows of each good line; blank lines are numbered but not read."""
        for number, line in enumerate(lines, first):
            if not line or line.isspace():
                continue
            self.lines_read += 1
            try:
                yield parse_line(
                    line,
                    line_number=number,
                    project_ids=self.project_ids,
                    row_data_loader=self.row_data_loader,
                    skipped=self.skipped,
                    row_content=self.row_content,
                )
            except ExportError as exc:
                self._record(exc.issues)

    def _parse_blocks(self, chunks: Iterable[bytes]) -> Iterator[list[ExportRow]]:
        """The rows of each good line, runs of whole lines decoded in one call (see `_line_blocks`)."""
        number = self.first_line
        projects, loader, skipped = self.project_ids, self.row_data_loader, self.skipped
        with_content = self.row_content
        for data, start, end in _line_blocks(chunks):
            count, decoded = _decode_block(data, start, end)
            if decoded is None:
                lines = data[start:end].split(b"\n")
                if data[end - 1 : end] == b"\n":
                    lines.pop()  # the empty piece after the last newline is not a line
                yield from self._parse_lines(lines, number)
                number += count
                continue
            for line in decoded:
                self.lines_read += 1
                try:
                    yield _build_rows(line, number, projects, loader, skipped, None, with_content)
                except Problem as problem:
                    self._record([_problem_issue(problem, number, line.data_row.id)])
                number += 1

    def _record(self, issues: Iterable[ValidationIssue]) -> None:
        """Keep the issues of a bad line; raise with all of them once there are too many."""
        self.issues.extend(issues)
        if self.max_bad_lines is not None and len(self.issues) > self.max_bad_lines:
            raise ExportError(self.issues, subject="export") from None

    def labels(self) -> Iterator[LabelRecord]:
        for row in self.rows():
            yield from row.labels

    def __iter__(self) -> Iterator[LabelRecord]:
        return self.labels()


def iter_labels(lines: Iterable[bytes | str], **options: Any) -> Iterator[LabelRecord]:
    """`ExportReader(lines, **options).labels()`."""
    return ExportReader(lines, **options).labels()


def iter_rows(lines: Iterable[bytes | str], **options: Any) -> Iterator[ExportRow]:
    """`ExportReader(lines, **options).rows()`."""
    return ExportReader(lines, **options).rows()


def iter_chunk_rows(chunks: Iterable[bytes], **options: Any) -> Iterator[ExportRow]:
    """`ExportReader.from_chunks(chunks, **options).rows()`: rows straight from downloaded chunks."""
    return ExportReader.from_chunks(chunks, **options).rows()
