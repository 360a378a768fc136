"""The rules an annotation import must satisfy, for the client and the emulator alike.

An annotation line is one JSON object of a Labelbox NDJSON import (wire reference section 8): a
message tool (``messageEvaluationTask``) or a radio, checklist or text classification (``answer``),
with ``dataRow`` (``globalKey`` or ``id``), ``name`` and/or ``schemaId``, a ``uuid``, and
``messageId`` on message-scoped classifications. `annotations` builds such lines; this module
says whether they are right, so the provider (before uploading) and the emulator (when it
processes an import) apply one definition.

Rules, each reported with the line, the data row, the annotation and the field:

* shape (`AnnotationLine`): a JSON object with known keys at every level and values of the right
  JSON types; ``dataRow`` has exactly one of ``globalKey`` / ``id``; ``name`` or ``schemaId``
  (both must agree when both are given); ``uuid`` is a UUID;
* ontology: the feature exists and is of the kind the line is written as (a message tool of the
  same format, or a classification of the same type); radio answers are one option object,
  checklist answers a non-empty list of distinct options (``answer``, or ``answers`` as the SDK's
  own fixtures spell it), text answers a non-empty string; options and nested classifications
  exist under the option (or tool) that carries them, to any depth; a message-scoped
  classification carries ``messageId``, a global one and a tool do not; required nested
  classifications of a chosen option are present and, per data row, required top-level
  classifications too (both can be switched off for pre-labels);
* conversation (when the row_data document is known): every message id exists; the parent is a
  human message and every selected or ranked message is one of its model responses; each
  ``modelConfigName`` is the one of the message's model actor; no message is selected or ranked
  twice; ranking orders are exactly 1..n and the ranking covers all the parent's responses; a
  message-scoped classification's ``messageId`` is a message of the conversation;
* import: at most 5,000 annotations per feature per data row, and no uuid used twice.

A line whose shape is wrong is reported for every shape problem (all paths at once); its other
rules run once the shape is right.

Speed: lines are decoded (or converted from dicts) into `AnnotationLine`, msgspec Structs that are
not tracked by the garbage collector, so types and unknown keys are checked in C; the ontology is
compiled once into `OntologyIndex` and each conversation once, in one pass, into
`ConversationIndex` (message -> role, model config name, children, and per human message its
model responses, so a whole ranking or selection is compared with them in C). `check_line` first
tries `accept`, a fast path that confirms a valid line with a fraction of the detailed checks'
work; only when it refuses do the detailed checks (`explain_line`) run, to say what is wrong.
They are the definition: the fast path may refuse a valid line, never accept an invalid one, and
messages are formatted only for lines with problems. What the import rules remember per data row
(`_Row`) is not tracked by the garbage collector either. The Structs declare their fields in
sorted order of the JSON keys, so ``msgspec.json.encode(line)`` is the line's canonical form
(keys sorted, nulls left out), which `annotations` hashes into uuids.

For the emulator: `annotation_line_errors(line, ontology, row_data)` checks one line and returns
readable messages; `AnnotationValidator(ontology, documents)` checks a whole import line by line
(``check(line, line_no)``, then ``finish()``: duplicate uuids, per-feature limits and required
classifications need every line) and gives `ValidationIssue`s with line numbers, ready for a
status or error file. Compile the ontology once with `OntologyIndex.from_normalized` when
checking many lines; `documents` may be any mapping, e.g. one that loads row_data on demand.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import msgspec

from airflow_mmc_provider.mmc.annotations.types import (
    AnnotationLine,
    AnswerObject,
    AnswerValue,
    DataRowRef,
    LineShapeError,
    MessageItem,
    MessageTask,
    NestedClassification,
    TaskData,
    parse_line,
)
from airflow_mmc_provider.mmc.conversation.index import (
    ConversationIndex,
    DocumentView,
    RowDocument,
    as_conversation_index,
)
from airflow_mmc_provider.mmc.errors import ValidationIssue
from airflow_mmc_provider.mmc.ontology.index import (
    ClassificationSpec,
    FeatureSpec,
    NestedScope,
    OntologyIndex,
    OntologyInput,
    OptionSpec,
    ToolSpec,
    as_ontology_index,
)

MAX_ANNOTATIONS_PER_FEATURE: Final = 5_000
INDEXED_ROWS: Final = 4_096  # conversation indexes an `AnnotationValidator` keeps (least recently used go)
TOOL_FORMATS: Final = ("message-single-selection", "message-multi-selection", "message-ranking")
CLASSIFICATION_TYPES: Final = ("radio", "checklist", "text")

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TASK_FIELDS = {  # data fields of each format (the rest must be absent)
    "message-single-selection": ("parent_message_id", "message_id", "model_config_name"),
    "message-multi-selection": ("parent_message_id", "selected_messages"),
    "message-ranking": ("parent_message_id", "ranked_messages"),
}
_DATA_FIELDS = (
    "message_id",
    "model_config_name",
    "parent_message_id",
    "ranked_messages",
    "selected_messages",
)
_MISSING: Any = object()
FROM_DOCUMENTS: Final[Any] = object()
"""`AnnotationValidator.check`'s default `document`: look the data row up in `documents`."""
_SHOWN = 8  # how many choices a fix lists before "..."


# --- validation ----------------------------------------------------------------------------------


class _Row(msgspec.Struct, gc=False):
    """What the import rules remember of one data row: its first line, whether its document is
    missing, annotations per feature name, and the uuids generated for its lines (a generated
    uuid hashes the data row, so its duplicates are on the same row). Not tracked by the garbage
    collector (it holds no cycle): an import keeps one per data row, which the collector would
    otherwise traverse again and again while the import runs."""

    first_line: int | None
    missing: bool = False  # documents were given, but none for this row
    counts: dict[str, int] = {}
    generated: dict[str, int | None] = {}


class AnnotationValidator:
    """Checks the lines of one import, remembering what the cross-line rules need.

    `documents` maps a data row key (the line's ``dataRow.globalKey`` or ``dataRow.id``) to its
    row_data (dict, JSON text, `ConversationDocument` or `ConversationIndex`); any `Mapping`
    works, so a caller can fetch documents lazily. A document is indexed on first use, and the
    indexes of the `INDEXED_ROWS` data rows used last are kept (one that comes back later is
    indexed again): an import of a million annotations would otherwise hold an index for every
    data row, and the garbage collector would traverse them all, again and again.
    Without `documents`, the conversation rules are skipped. `check_required` switches the
    required-classification rules (off for pre-labels, which may be partial).
    """

    def __init__(
        self,
        ontology: OntologyInput,
        documents: Mapping[str, Any] | None = None,
        *,
        check_required: bool = True,
    ) -> None:
        self.ontology = as_ontology_index(ontology)
        self.documents = documents
        self.check_required = check_required
        self.issues: list[ValidationIssue] = []
        # An OrderedDict, not a dict: a dict whose oldest entry is deleted again and again finds
        # its next oldest by scanning past every deleted slot (3 us per eviction at 4,096 rows).
        self._indexes: OrderedDict[str, DocumentView | None] = OrderedDict()
        self._uncheckable: set[str] = set()  # keys whose document is text but no JSON object
        self._uuids: dict[str, int | None] = {}  # uuids the lines carry -> first line
        self._rows: dict[str, _Row] = {}
        # The data row of the last line `accept` looked up, its key, record and index (the last
        # two are read only once the first two are a line's):
        self._last_ref: DataRowRef | None = None
        self._last_key: str | None = None
        self._last_row = _Row(None)
        self._last_conv: DocumentView | None = None
        self._context = _Line(self, None, "")  # reused line after line: lines are checked in turn
        self._fast = _fast_checks(self.ontology)

    def conversation(self, key: str) -> ConversationIndex | None:
        """The indexed document of a data row (None: not given, or text that is no JSON object).

        Text that is not a JSON object (a row_data given by URL) cannot be checked, so its lines
        skip the conversation rules rather than fail for it.
        """
        found = self.document_view(key)
        return found.index() if type(found) is RowDocument else found  # type: ignore[return-value]

    def document_view(self, key: str) -> DocumentView | None:
        """`conversation`, as the fast paths read it: a dict document stays a `RowDocument`."""
        indexes = self._indexes
        known = indexes.get(key, _MISSING)
        if known is not _MISSING:
            indexes.move_to_end(key)  # the most recently used last
            return known
        raw = self.documents.get(key) if self.documents is not None else None
        index: DocumentView | None = None
        if type(raw) is dict:
            index = RowDocument.of(raw)
        elif isinstance(raw, str | bytes):
            try:
                index = as_conversation_index(raw)
            except (msgspec.DecodeError, TypeError):
                self._uncheckable.add(key)
        elif raw is not None:
            index = as_conversation_index(raw)
        indexes[key] = index
        if len(indexes) > INDEXED_ROWS:
            indexes.popitem(last=False)  # the least recently used
        return index

    def check(
        self,
        line: AnnotationLine | Mapping[str, Any] | str | bytes,
        line_no: int | None = None,
        *,
        document: Any = FROM_DOCUMENTS,
        origin: str = "",
    ) -> list[ValidationIssue]:
        """The problems of one line (also added to `issues`): `parse`, then `check_line`."""
        before = len(self.issues)
        typed = self.parse(line, line_no, origin=origin)
        if typed is not None:
            self.check_line(typed, line_no, document=document, origin=origin)
        return self.issues[before:]

    def parse(
        self,
        line: AnnotationLine | Mapping[str, Any] | str | bytes,
        line_no: int | None = None,
        *,
        origin: str = "",
    ) -> AnnotationLine | None:
        """The typed line, or None after reporting every shape problem."""
        try:
            return parse_line(line)
        except msgspec.DecodeError as exc:
            ctx = _Line(self, line_no, origin)
            ctx.add("", f"the line is not valid JSON ({exc})", "fix the JSON syntax of this line")
        except LineShapeError as exc:
            ctx = _Line(self, line_no, origin)
            _report_shape(ctx, exc)
        ctx.done()
        return None

    def check_line(
        self,
        line: AnnotationLine,
        line_no: int | None = None,
        *,
        uuid: str | None = None,
        document: Any = FROM_DOCUMENTS,
        origin: str = "",
    ) -> list[ValidationIssue]:
        """The rules beyond shape for a typed line; returns its problems (also added to `issues`).

        `uuid` is one the caller generated for a line without (the deterministic one): it is
        only checked for duplicates. `document` overrides the `documents` look-up for this line
        (None: skip the conversation rules); `origin` names where the line came from (a field of
        a user record) and prefixes every field path.
        """
        if self.accept(line, line_no, uuid, document):
            return []
        return self.explain_line(line, line_no, uuid=uuid, document=document, origin=origin)

    def accept(
        self,
        line: AnnotationLine,
        line_no: int | None = None,
        uuid: str | None = None,
        document: Any = FROM_DOCUMENTS,
    ) -> bool:
        """`check_line`'s fast path: True after recording a line that passes every rule.

        False when `explain_line` has to run, to say what is wrong or to find that nothing is
        (a fast path may refuse a valid line, never accept an invalid one); by then nothing is
        recorded that `explain_line` would not record the same way. Most lines of an import are
        valid, so this decides most of them without formatting anything.
        """
        entry = self._fast.get(line.name) if line.schema_id is None else None  # type: ignore[arg-type]
        if entry is None:
            return False
        data_row = line.data_row
        if data_row is self._last_ref:  # the lines of one label share their (frozen) DataRowRef
            row, conv = self._last_row, self._last_conv
        else:
            key = data_row.global_key
            if key is None:
                key = data_row.id
            elif data_row.id is not None:
                return False
            if not key:
                return False
            if key == self._last_key:  # the next line of the same data row (dict lines)
                row, conv = self._last_row, self._last_conv
            else:
                row, conv = self._row_and_conversation(key, line_no)
                self._last_key, self._last_row, self._last_conv = key, row, conv
            self._last_ref = data_row
        if document is FROM_DOCUMENTS:
            if row.missing:
                return False
        else:
            conv = None if document is None else as_conversation_index(document)
        feature, check = entry
        if not check(feature, line, conv, self.check_required):
            return False
        counts, generated, carried = row.counts, row.generated, self._uuids
        name = feature.name
        count = counts.get(name, 0) + 1
        if count > MAX_ANNOTATIONS_PER_FEATURE:
            return False
        if uuid is not None:
            if uuid in generated or (carried and uuid in carried):
                return False
            generated[uuid] = line_no
        elif line.uuid is not None:
            lowered = line.uuid.lower()
            if lowered in carried or lowered in generated or not _UUID.fullmatch(lowered):
                return False
            carried[lowered] = line_no
        counts[name] = count
        return True

    def admit(self, key: str, names: list[str], uuids: list[str], line_no: int | None = None) -> bool:
        """The import rules for lines valid by construction (the record reader's): True after
        recording them, when none of their generated uuids is taken and no feature goes over
        its limit on data row `key`; False, recording nothing, otherwise (the lines are then
        checked one by one, to say what is wrong). `names` are the lines' features, `uuids`
        their generated uuids."""
        carried = self._uuids
        fresh = dict.fromkeys(uuids, line_no)
        if len(fresh) != len(uuids) or (carried and not carried.keys().isdisjoint(fresh)):
            return False
        row = self._rows.get(key)
        if row is None:  # the usual case: a data row's first lines
            tally: dict[str, int] = {}
            for name in names:
                tally[name] = tally.get(name, 0) + 1
            if len(names) > MAX_ANNOTATIONS_PER_FEATURE and max(tally.values()) > MAX_ANNOTATIONS_PER_FEATURE:
                return False
            self._rows[key] = _Row(line_no, False, tally, fresh)
            return True
        counts, generated = row.counts, row.generated
        if not generated.keys().isdisjoint(fresh):
            return False
        added: dict[str, int] = {}
        for name in names:
            added[name] = added.get(name, 0) + 1
        for name, count in added.items():
            if counts.get(name, 0) + count > MAX_ANNOTATIONS_PER_FEATURE:
                return False
        generated.update(fresh)
        for name, count in added.items():
            counts[name] = counts.get(name, 0) + count
        return True

    def _row_and_conversation(self, key: str, line_no: int | None) -> tuple[_Row, DocumentView | None]:
        """A data row's record (created by its first line) and its indexed document, if any."""
        conv = self.document_view(key) if self.documents is not None else None
        row = self._rows.get(key)
        if row is None:
            missing = conv is None and self.documents is not None and key not in self._uncheckable
            row = self._rows[key] = _Row(line_no, missing)
        return row, conv

    def explain_line(
        self,
        line: AnnotationLine,
        line_no: int | None = None,
        *,
        uuid: str | None = None,
        document: Any = FROM_DOCUMENTS,
        origin: str = "",
    ) -> list[ValidationIssue]:
        """`check_line` without its fast path: every rule in detail, formatting each problem.

        The definition of the rules; `accept` only confirms lines these checks pass.
        """
        ctx = self._context
        ctx.number = line_no
        ctx.origin = origin
        ctx.found = None
        name, schema_id = line.name, line.schema_id
        ctx.label = name if name is not None else schema_id
        data_row = line.data_row
        key = data_row.global_key
        if key is None or data_row.id is not None or not key:
            ctx.key = None
            key = _data_row(ctx, data_row)
        ctx.key = key
        features = self.ontology.features
        feature: Any = features.get(name) if schema_id is None and name is not None else None
        if feature is None:
            feature = _feature(ctx, name, schema_id, self.ontology.by_id, features, "", "feature")
        row = self._row_and_conversation(key, line_no)[0] if key is not None else None
        if uuid is not None:
            generated = row.generated if row is not None else self._uuids
            if uuid in generated or (self._uuids and uuid in self._uuids):
                _duplicate_uuid(ctx, uuid, generated.get(uuid, self._uuids.get(uuid)))
            else:
                generated[uuid] = line_no
        elif line.uuid is not None:
            _uuid(ctx, line.uuid)
        if document is FROM_DOCUMENTS:
            if key is None:
                conv = None
            else:
                conv = self.conversation(key)
                if conv is None and self.documents is not None and key not in self._uncheckable:
                    ctx.add(
                        "dataRow",
                        f"data row {key!r} is not among the conversations given for validation",
                        "check the global key or id, or add the data row's document",
                    )
        else:
            conv = None if document is None else as_conversation_index(document)
        ctx.conv = conv
        kind = type(feature)
        if kind is ToolSpec:
            _check_tool(ctx, feature, line)
        elif kind is ClassificationSpec:
            _check_classification(ctx, feature, line)
        if row is not None:
            counted = feature.name if feature is not None else ctx.label
            if counted is not None:
                counts = row.counts
                count = counts[counted] = counts.get(counted, 0) + 1
                if count > MAX_ANNOTATIONS_PER_FEATURE:
                    _over_limit(ctx, counted, count)
        found = ctx.found
        if found is None:
            return []
        self.issues.extend(found)
        return found

    def finish(self) -> list[ValidationIssue]:
        """The rules that need every line (required classifications per data row); returns them."""
        found: list[ValidationIssue] = []
        if self.check_required and self.ontology.required:
            for key, row in self._rows.items():
                first_line, seen = row.first_line, row.counts
                for name in self.ontology.required:
                    if name not in seen:
                        where = f"data row {key!r}" + (f" (first at line {first_line})" if first_line else "")
                        found.append(
                            ValidationIssue(
                                where,
                                name,
                                f"the required classification {name!r} has no annotation on this data row",
                                "add an annotation for it, or import without the required check (pre-labels)",
                                key=key,
                                line=first_line,
                            )
                        )
        self.issues.extend(found)
        return found


def annotation_line_errors(
    line: AnnotationLine | Mapping[str, Any] | str | bytes,
    ontology: OntologyInput,
    row_data: Any,
    *,
    check_required: bool = True,
    line_no: int | None = None,
) -> list[str]:
    """Readable problems of one NDJSON annotation line (empty: valid), for the emulator.

    `ontology` is the normalized ontology (dict or JSON text), or an `OntologyIndex` to skip
    compiling it per call; `row_data` the data row's document (dict, JSON text,
    `ConversationDocument`, `ConversationIndex`), or None to skip the conversation rules. Only
    rules of the line itself apply; an import's duplicate uuids, per-feature limits and required
    top-level classifications need `AnnotationValidator`.
    """
    validator = AnnotationValidator(ontology, check_required=check_required)
    return [str(issue) for issue in validator.check(line, line_no, document=row_data)]


def line_issue(
    line: int | None,
    data_row: str | None,
    annotation: str | None,
    field: str,
    message: str,
    fix: str,
    *,
    origin: str = "",
) -> ValidationIssue:
    """An issue that names the line, the data row, the annotation and the field, e.g.
    ``line 7 (data row 'conv-1', annotation 'Rank'), messageEvaluationTask.data.parentMessageId``.

    `origin` is the field of a user record the line was made from; the line's own field path
    follows it in parentheses.
    """
    parts = []
    if data_row is not None:
        parts.append(f"data row {data_row!r}")
    if annotation is not None:
        parts.append(f"annotation {annotation!r}")
    inner = ", ".join(parts)
    if line is not None:
        record = f"line {line} ({inner})" if inner else f"line {line}"
    else:
        record = inner or "annotation"
    if origin:
        field = f"{origin} ({field})" if field else origin
    return ValidationIssue(record, field, message, fix, key=data_row, line=line)


# --- one line ------------------------------------------------------------------------------------


class _Line:
    """The context of one line: where issues go and how they name the line.

    It holds the validator's containers, not the validator: the validator keeps one `_Line`,
    and a reference cycle would leave an import's per-row state to the garbage collector.
    """

    __slots__ = ("conv", "found", "issues", "key", "label", "number", "origin", "required", "rows", "uuids")

    def __init__(self, validator: AnnotationValidator, number: int | None, origin: str) -> None:
        self.issues = validator.issues
        self.uuids = validator._uuids
        self.rows = validator._rows
        self.number = number
        self.origin = origin
        self.required = validator.check_required
        self.key: str | None = None
        self.label: str | None = None
        self.conv: ConversationIndex | None = None
        self.found: list[ValidationIssue] | None = None  # created by the first problem

    def add(self, field: str, message: str, fix: str) -> None:
        issue = line_issue(self.number, self.key, self.label, field, message, fix, origin=self.origin)
        if self.found is None:
            self.found = [issue]
        else:
            self.found.append(issue)

    def done(self) -> list[ValidationIssue]:
        if not self.found:
            return []
        self.issues.extend(self.found)
        return self.found


def _report_shape(ctx: _Line, error: LineShapeError) -> None:
    untyped = error.untyped
    if not isinstance(untyped, Mapping):
        ctx.add("", f"expected a JSON object, got {_kind(untyped)}", "write one annotation object per line")
        return
    data_row = untyped.get("dataRow")
    if isinstance(data_row, Mapping):
        key = data_row.get("globalKey") or data_row.get("id")
        ctx.key = key if isinstance(key, str) else None
    label = untyped.get("name") or untyped.get("schemaId")
    ctx.label = label if isinstance(label, str) else None
    for problem in error.problems:
        ctx.add(problem.path, problem.message, problem.fix)


def _data_row(ctx: _Line, data_row: DataRowRef) -> str | None:
    fix = 'give "dataRow": {"globalKey": "<global key>"} or {"id": "<data row id>"}'
    given = [k for k, v in (("globalKey", data_row.global_key), ("id", data_row.id)) if v is not None]
    if len(given) != 1:
        ctx.add("dataRow", "give exactly one of globalKey and id" + (f" (got {given})" if given else ""), fix)
        return None
    value = data_row.global_key if given[0] == "globalKey" else data_row.id
    if not value:
        ctx.add(f"dataRow.{given[0]}", "the data row key is empty", fix)
        return None
    return value


def _uuid(ctx: _Line, value: str) -> None:
    """A uuid the line carries: well-formed, and new to the import."""
    if not _UUID.fullmatch(value):
        ctx.add(
            "uuid",
            f"{value!r} is not a UUID",
            "use a UUID string, or leave uuid out to get a deterministic one",
        )
        return
    uuids = ctx.uuids
    lowered = value.lower()
    first = uuids.get(lowered, _MISSING)
    if first is _MISSING and ctx.key is not None:
        row = ctx.rows.get(ctx.key)  # generated uuids hash their data row: look there
        if row is not None:
            first = row.generated.get(lowered, _MISSING)
    if first is _MISSING:
        uuids[lowered] = ctx.number
    else:
        _duplicate_uuid(ctx, value, first)


def _duplicate_uuid(ctx: _Line, value: str, first: int | None) -> None:
    ctx.add(
        "uuid",
        f"uuid {value} is used twice in this import" + (f" (first at line {first})" if first else ""),
        "give each annotation its own uuid; a repeated identical annotation gets the same deterministic "
        "uuid, so remove the duplicate",
    )


def _over_limit(ctx: _Line, name: str, count: int) -> None:
    if count == MAX_ANNOTATIONS_PER_FEATURE + 1:  # reported once, at the first line over the limit
        ctx.add(
            "name",
            f"more than {MAX_ANNOTATIONS_PER_FEATURE:,} annotations of {name!r} on this data row "
            "(this line is the first over the limit)",
            "split them across data rows or drop some; Labelbox rejects the excess",
        )


def _feature(
    ctx: _Line,
    name: str | None,
    schema_id: str | None,
    by_id: Mapping[str, Any],
    by_name: Mapping[str, Any],
    path: str,
    what: str,
) -> Any:
    """What a name and/or schemaId refer to: a top-level feature (`what` is "feature"), a nested
    classification or an option; None after reporting why there is none."""
    if schema_id is None and name is not None:
        found = by_name.get(name)
        if found is not None:
            return found  # the common case: decided without formatting anything
    choices = _listing(by_name) or "none"
    if name is None and schema_id is None:
        ctx.add(_join(path, "name"), f"the {what} has neither name nor schemaId", f"name it: {choices}")
        return None
    found = None
    if name is not None:
        found = by_name.get(name)
        if found is None:
            where = {
                "feature": "the ontology has no tool or classification",
                "option": "the classification has no option",
            }.get(what, "the ontology nests no classification here")
            ctx.add(_join(path, "name"), f"{where} named {name!r}", f"use one of {choices}")
    if schema_id is not None:
        by_schema = by_id.get(schema_id)
        if by_schema is None:
            ctx.add(
                _join(path, "schemaId"),
                f"no {what} here has schemaId {schema_id!r}",
                "use the featureSchemaId from the project's ontology, or the name",
            )
        elif found is not None and by_schema is not found:
            ctx.add(
                _join(path, "schemaId"),
                f"schemaId {schema_id!r} is {by_schema.name!r}, not {name!r}",
                "give the name and schemaId of the same feature, or only one of them",
            )
            return None
        elif name is None:
            found = by_schema
    return found


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


# --- message tools -------------------------------------------------------------------------------

_DATA = "messageEvaluationTask.data"
_FORBIDDEN = {  # (attribute, JSON name) of the data fields each format must not have
    fmt: tuple((f, _camel(f)) for f in _DATA_FIELDS if f not in allowed)
    for fmt, allowed in _TASK_FIELDS.items()
}


def _check_tool(ctx: _Line, tool: ToolSpec, line: AnnotationLine) -> None:
    if tool.tool not in TOOL_FORMATS:
        ctx.add(
            "name",
            f"{tool.name!r} is a {tool.tool!r} tool; multimodal chat imports support message tools only",
            "use a message-ranking, message-single-selection or message-multi-selection tool",
        )
        return
    if line.answer is not None or line.answers is not None or line.message_id is not None:
        for field, value in (
            ("answer", line.answer),
            ("answers", line.answers),
            ("messageId", line.message_id),
        ):
            if value is not None:
                ctx.add(
                    field,
                    f"{tool.name!r} is a {tool.tool} tool, which takes no {field}",
                    "remove it; message tools carry messageEvaluationTask",
                )
    if line.classifications is not None:
        _check_nested(ctx, tool.nested, line.classifications, "classifications")
    elif ctx.required and tool.nested.required:
        _missing_required(ctx, tool.nested, "classifications", set())
    task = line.message_evaluation_task
    if task is None:
        ctx.add(
            "messageEvaluationTask",
            "messageEvaluationTask is missing",
            f'give {{"format": "{tool.tool}", "data": {{...}}}}',
        )
        return
    fmt = task.format
    if fmt != tool.tool:
        known = fmt in TOOL_FORMATS
        ctx.add(
            "messageEvaluationTask.format",
            f"format is {fmt!r} but {tool.name!r} is a {tool.tool} tool",
            f"use format {tool.tool!r}" + (f", or the name of a {fmt} tool" if known else ""),
        )
        return  # the data's fields follow from the format, so nothing more is meaningful
    data = task.data
    for attribute, json_name in _FORBIDDEN[fmt]:
        if getattr(data, attribute) is not None:
            ctx.add(f"{_DATA}.{json_name}", f"{fmt} data has no {json_name}", "remove it")
    parent = _parent(ctx, data.parent_message_id)
    if fmt == "message-single-selection":
        message_id, model = data.message_id, data.model_config_name
        if message_id is None or model is None:
            for json_name, value in (("messageId", message_id), ("modelConfigName", model)):
                if value is None:
                    ctx.add(f"{_DATA}.{json_name}", f"{json_name} is missing", "give the selected response's")
            return
        _check_message(ctx, message_id, model, parent, _DATA, None)
    elif fmt == "message-multi-selection":
        _check_messages(ctx, data.selected_messages, parent, "selectedMessages", ranked=False)
    else:
        _check_messages(ctx, data.ranked_messages, parent, "rankedMessages", ranked=True)


def _parent(ctx: _Line, parent: str | None) -> str | None:
    """The parent message id when it is a human message of the conversation (or unknown)."""
    conv = ctx.conv
    if parent and (conv is None or conv.roles.get(parent) == "human"):
        return parent
    field = f"{_DATA}.parentMessageId"
    if not parent:
        problem = "parentMessageId is missing" if parent is None else "parentMessageId is empty"
        ctx.add(field, problem, "give the id of the human message the responses answer")
        return None
    assert conv is not None
    role = conv.roles.get(parent, _MISSING)
    if role is _MISSING:
        ctx.add(field, f"message {parent!r} is not in the conversation", _prompts_fix(conv))
    else:
        ctx.add(
            field,
            f"message {parent!r} is a {role or 'actor-less'} message, not a human message",
            "the parent is the human prompt the model responses answer; " + _prompts_fix(conv),
        )
    return None


def _check_messages(
    ctx: _Line, items: list[MessageItem] | None, parent: str | None, key: str, *, ranked: bool
) -> None:
    field = f"{_DATA}.{key}"
    if items is None:
        ctx.add(field, f"{key} is missing", "list the messages as objects with messageId and modelConfigName")
        return
    conv = ctx.conv
    models = conv.models if conv is not None else None
    responses = conv.children.get(parent, ()) if conv is not None and parent is not None else None
    seen: dict[str, int] = {}
    orders: list[int | None] = []
    covered = True  # every message so far is a response of the parent with its model's name
    for index, item in enumerate(items):
        given = item.message_id
        message_id: str | None = given
        if (
            models is None
            or models.get(given, _MISSING) != item.model_config_name
            or (responses is not None and given not in responses)
        ):
            covered = False
            message_id = _check_message(ctx, given, item.model_config_name, parent, field, index)
        if message_id is not None:
            if message_id in seen:
                covered = False
                ctx.add(
                    f"{field}[{index}].messageId",
                    f"message {message_id!r} is listed twice (also at index {seen[message_id]})",
                    "list each response once",
                )
            else:
                seen[message_id] = index
        order = item.order
        if ranked:
            orders.append(order)
            if order is None:
                ctx.add(
                    f"{field}[{index}].order", "order is missing", "give 1 for the best, 2 for the next, ..."
                )
        elif order is not None:
            ctx.add(f"{field}[{index}].order", "selected messages have no order", "remove it")
    if not ranked:
        return
    count = len(orders)
    if not count:
        ctx.add(field, "the ranking is empty", "rank the parent's responses, 1 for the best")
    elif None not in orders and sorted(orders) != list(range(1, count + 1)):  # type: ignore[type-var]
        ctx.add(
            field,
            f"orders are {sorted(orders)}; they must be exactly 1..{count}, each once (no ties)",  # type: ignore[type-var]
            f"number the {count} ranked messages 1 (best) to {count}",
        )
    if conv is None or parent is None or responses is None:
        return
    answers = conv.responses(parent)
    if covered and len(seen) == len(answers):
        return  # each message is a distinct response of the parent, and there are as many
    left_out = [m for m in answers if m not in seen]
    if left_out:
        named = ", ".join(f"{m!r} ({conv.models.get(m)!r})" for m in left_out[:_SHOWN])
        ctx.add(
            field,
            f"the ranking covers {len(answers) - len(left_out)} of the {len(answers)} responses "
            f"to {parent!r}; it leaves out {named}",
            "rank every response of the parent, 1 for the best",
        )


def _check_message(
    ctx: _Line, message_id: str, model: str, parent: str | None, field: str, index: int | None
) -> str | None:
    """Checks one selected or ranked message (at `field`, or `field[index]`); its id if usable."""
    conv = ctx.conv
    if conv is None:
        if message_id and model:
            return message_id
    elif conv.models.get(message_id, _MISSING) == model and (
        parent is None or message_id in conv.children.get(parent, ())
    ):
        return message_id  # the common case: a response of the parent, with its model's name
    path = field if index is None else f"{field}[{index}]"
    if not message_id:
        ctx.add(f"{path}.messageId", "messageId is empty", "give the id of a model response")
        return None
    if not model:
        ctx.add(
            f"{path}.modelConfigName",
            "modelConfigName is empty",
            "give the model config name of the response",
        )
    if conv is None:
        return message_id
    role = conv.roles.get(message_id, _MISSING)
    if role is _MISSING:
        ctx.add(
            f"{path}.messageId",
            f"message {message_id!r} is not in the conversation",
            _responses_fix(conv, parent),
        )
        return None
    if role != "model":
        ctx.add(
            f"{path}.messageId",
            f"message {message_id!r} is a {role or 'actor-less'} message, not a model response",
            _responses_fix(conv, parent),
        )
        return None
    if parent is not None and message_id not in conv.children.get(parent, ()):
        ctx.add(
            f"{path}.messageId",
            f"message {message_id!r} is not a response to parent {parent!r}",
            _responses_fix(conv, parent),
        )
    actual = conv.models.get(message_id)
    if model and model != actual:
        ctx.add(
            f"{path}.modelConfigName",
            f"modelConfigName {model!r} is not the model of message {message_id!r} ({actual!r})",
            f"use {actual!r}, the modelConfigName of the message's actor",
        )
    return message_id


def _responses_fix(conv: ConversationIndex, parent: str | None) -> str:
    if parent is None or parent not in conv.children:
        return "use the id of a model response of this conversation"
    models = conv.models
    listed = [f"{m!r} ({models.get(m)!r})" for m in conv.responses(parent)]
    return f"use one of the responses to {parent!r}: " + (_listing(listed, quote=False) or "none")


def _prompts_fix(conv: ConversationIndex) -> str:
    prompts = [parent for parent, _ in conv.turns()]
    return "use a human message with model responses: " + (_listing(prompts) or "none in this conversation")


# --- classifications -----------------------------------------------------------------------------


def _check_classification(ctx: _Line, spec: ClassificationSpec, line: AnnotationLine) -> None:
    if line.message_evaluation_task is not None:
        ctx.add(
            "messageEvaluationTask",
            f"{spec.name!r} is a {spec.type} classification, not a message tool",
            "give answer instead, or the name of a message tool",
        )
    if line.classifications is not None:
        ctx.add(
            "classifications",
            "a classification line carries nested classifications inside its answer, not beside it",
            'move them into answer ({"name": <option>, "classifications": [...]})',
        )
    message_id = line.message_id
    if spec.message_scoped:
        if message_id is None:
            ctx.add(
                "messageId",
                f"{spec.name!r} is message-scoped, so the line needs messageId",
                "give the id of the message it judges",
            )
        elif ctx.conv is not None and message_id not in ctx.conv.roles:
            ctx.add(
                "messageId",
                f"message {message_id!r} is not in the conversation",
                "use the id of a message of this data row's conversation",
            )
    elif message_id is not None:
        ctx.add(
            "messageId",
            f"{spec.name!r} is a global classification and takes no messageId",
            "remove messageId, or make the classification message-scoped in the ontology",
        )
    _check_answer(ctx, spec, line.answer, line.answers, "")


def _check_answer(
    ctx: _Line,
    spec: ClassificationSpec,
    answer: AnswerValue | None,
    answers: list[AnswerObject] | None,
    path: str,
) -> None:
    """The answer of a classification (a line, or a nested classification at `path`)."""
    kind = spec.type
    key = "answer"
    if answers is not None:
        if kind != "checklist":
            ctx.add(
                _join(path, "answers"), f"answers is for checklists; {spec.name!r} is {kind}", "use answer"
            )
        elif answer is not None:
            ctx.add(
                _join(path, "answers"),
                "both answer and answers are given",
                "give the options once, as answer",
            )
        else:
            answer, key = answers, "answers"
    if kind == "radio":
        if type(answer) is AnswerObject:
            _check_option(ctx, spec, answer, _join(path, key))
            return
        got = "no answer" if answer is None else f"got {_kind(answer)}"
        ctx.add(_join(path, key), f"a radio answer is one option object; {got}", _answer_fix(spec))
    elif kind == "checklist":
        field = _join(path, key)
        if type(answer) is not list or not answer:
            got = (
                "an empty list" if type(answer) is list else ("nothing" if answer is None else _kind(answer))
            )
            ctx.add(field, f"a checklist answer is a non-empty list of options, got {got}", _answer_fix(spec))
            return
        chosen: dict[str, int] = {}
        for index, item in enumerate(answer):
            option = _check_option(ctx, spec, item, f"{field}[{index}]")
            if option is not None:
                if option.value in chosen:
                    ctx.add(
                        f"{field}[{index}]",
                        f"option {option.value!r} is chosen twice (also at index {chosen[option.value]})",
                        "choose each option once",
                    )
                chosen.setdefault(option.value, index)
    elif kind == "text":
        if type(answer) is str and answer and not answer.isspace():
            return
        got = "an empty string" if type(answer) is str else ("nothing" if answer is None else _kind(answer))
        ctx.add(_join(path, key), f"a text answer is a non-empty string, got {got}", "give the text")
    else:
        ctx.add(
            _join(path, "name"),
            f"{spec.name!r} is a {kind!r} classification, which this import does not support",
            "use a radio, checklist or text classification",
        )


def _answer_fix(spec: ClassificationSpec) -> str:
    choices = _listing(spec.option_values())
    if spec.type == "radio":
        return f'give {{"name": <option>}}, one of {choices}'
    return f'give [{{"name": <option>}}, ...] with options from {choices}'


def _check_option(ctx: _Line, spec: ClassificationSpec, answer: AnswerObject, path: str) -> OptionSpec | None:
    name = answer.name
    if answer.schema_id is None and name is not None:
        option = spec.choices.get(name)
        if option is None:
            option = _feature(ctx, name, None, spec.options_by_id, spec.choices, path, "option")
    else:
        option = _feature(ctx, name, answer.schema_id, spec.options_by_id, spec.choices, path, "option")
    if option is None:
        return None
    nested = answer.classifications
    if nested is not None:
        _check_nested(ctx, option.nested, nested, f"{path}.classifications")
    elif ctx.required and option.nested.required:
        _missing_required(ctx, option.nested, f"{path}.classifications", set())
    return option


def _check_nested(ctx: _Line, scope: NestedScope, items: list[NestedClassification], path: str) -> None:
    if items and not scope.by_name:
        ctx.add(path, "the ontology nests no classifications here", "remove them")
        return
    seen: set[str] = set()
    for index, item in enumerate(items):
        item_path = f"{path}[{index}]"
        spec = _feature(
            ctx, item.name, item.schema_id, scope.by_id, scope.by_name, item_path, "nested classification"
        )
        if spec is None:
            continue
        if spec.name in seen:
            ctx.add(
                f"{item_path}.name",
                f"{spec.name!r} is answered twice here",
                "answer each classification once",
            )
        seen.add(spec.name)
        _check_answer(ctx, spec, item.answer, item.answers, item_path)
    if ctx.required and scope.required:
        _missing_required(ctx, scope, path, seen)


def _missing_required(ctx: _Line, scope: NestedScope, path: str, seen: set[str]) -> None:
    for name in scope.required:
        if name not in seen:
            ctx.add(
                path,
                f"the required nested classification {name!r} is missing",
                "answer it, or import without the required check (pre-labels)",
            )


# --- fast paths ----------------------------------------------------------------------------------
# Most lines of an import are valid. These functions confirm that a line passes every rule of the
# detailed checks above with a fraction of their work, or answer False so that the detailed checks
# run and say what is wrong. They may answer False for a valid line (the checks then find nothing),
# never True for an invalid one; the property tests hold them to that. With a conversation, a
# selection or ranking is compared with the parent's responses (`ConversationIndex.prompts`) as a
# whole, in C: a ranking's {message id: model} must equal them, a selection's be included in them.

FastCheck = Callable[[Any, AnnotationLine, "DocumentView | None", bool], bool]


def _tool_ok(tool: ToolSpec, line: AnnotationLine, conv: DocumentView | None, required: bool) -> bool:
    """A plain line of `tool` (no nested classifications), its data shaped for its format, and
    its messages responses of a human parent with their models' names (with a conversation)."""
    task = line.message_evaluation_task
    fmt = tool.tool
    if (
        task is None
        or task.format != fmt
        or line.answer is not None
        or line.answers is not None
        or line.message_id is not None
        or line.classifications is not None
        or (required and tool.nested.required)
    ):
        return False
    data = task.data
    parent = data.parent_message_id
    if not parent:
        return False
    if fmt == "message-single-selection":
        return _single_ok(data, parent, conv)
    if data.message_id is not None or data.model_config_name is not None:
        return False
    if fmt == "message-ranking":
        return _ranking_ok(data, parent, conv)
    return fmt == "message-multi-selection" and _multi_ok(data, parent, conv)


def _single_ok(data: TaskData, parent: str, conv: DocumentView | None) -> bool:
    if data.ranked_messages is not None or data.selected_messages is not None:
        return False
    message_id, model = data.message_id, data.model_config_name
    if not message_id or model is None:
        return False
    if conv is None:
        return bool(model)
    responses = conv.prompts.get(parent)
    if responses is None:
        responses = conv.prompt_responses(parent)
    return responses is not None and responses.get(message_id, _MISSING) == model


def _multi_ok(data: TaskData, parent: str, conv: DocumentView | None) -> bool:
    items = data.selected_messages
    if items is None or data.ranked_messages is not None:
        return False
    chosen = {}
    for item in items:
        if item.order is not None:
            return False
        chosen[item.message_id] = item.model_config_name
    if len(chosen) != len(items):  # a message twice
        return False
    if conv is None:
        return all(chosen) and all(chosen.values())
    responses = conv.prompts.get(parent)
    if responses is None:
        responses = conv.prompt_responses(parent)
    return responses is not None and chosen.items() <= responses.items()


def _ranking_ok(data: TaskData, parent: str, conv: DocumentView | None) -> bool:
    items = data.ranked_messages
    if not items or data.selected_messages is not None:
        return False
    ranked = {}
    order = 0
    for item in items:
        order += 1
        if item.order != order:  # best first is the usual order; others are checked in detail
            return False
        ranked[item.message_id] = item.model_config_name
    if len(ranked) != order:  # a message twice
        return False
    if conv is None:
        return all(ranked) and all(ranked.values())
    responses = conv.prompts.get(parent)
    if responses is None:
        responses = conv.prompt_responses(parent)
    return responses == ranked


def _classification_ok(
    spec: ClassificationSpec, line: AnnotationLine, conv: DocumentView | None, required: bool
) -> bool:
    if (
        line.message_evaluation_task is not None
        or line.classifications is not None
        or line.answers is not None
    ):
        return False
    message_id = line.message_id
    if spec.message_scoped:
        if message_id is None or (conv is not None and message_id not in conv.message_ids):
            return False
    elif message_id is not None:
        return False
    answer = line.answer
    if spec.type == "text":  # the commonest answer, without a call
        return type(answer) is str and bool(answer) and not answer.isspace()
    return _answer_ok(spec, answer, required)


def _answer_ok(spec: ClassificationSpec, answer: AnswerValue | None, required: bool) -> bool:
    kind = spec.type
    if kind == "text":
        return type(answer) is str and bool(answer) and not answer.isspace()
    if kind == "radio":
        return type(answer) is AnswerObject and _option_ok(spec, answer, required) is not None
    if kind != "checklist" or type(answer) is not list or not answer:
        return False
    chosen = set()
    for item in answer:
        value = _option_ok(spec, item, required)
        if value is None or value in chosen:
            return False
        chosen.add(value)
    return True


def _option_ok(spec: ClassificationSpec, answer: AnswerObject, required: bool) -> str | None:
    """The chosen option's value when the option and what is nested under it pass."""
    if answer.schema_id is not None or answer.name is None:
        return None
    option = spec.choices.get(answer.name)
    if option is None:
        return None
    nested = answer.classifications
    if nested is None:
        return None if required and option.nested.required else option.value
    return option.value if _nested_ok(option.nested, nested, required) else None


def _nested_ok(scope: NestedScope, items: list[NestedClassification], required: bool) -> bool:
    seen = set()
    for item in items:
        if item.schema_id is not None or item.answers is not None or item.name is None:
            return False
        spec = scope.by_name.get(item.name)
        if spec is None or spec.name in seen or not _answer_ok(spec, item.answer, required):
            return False
        seen.add(spec.name)
    return not required or seen.issuperset(scope.required)


def _fast_checks(ontology: OntologyIndex) -> dict[str, tuple[FeatureSpec, FastCheck]]:
    """Feature name -> (feature, its fast path), for the features a fast path can confirm."""
    checks: dict[str, tuple[FeatureSpec, FastCheck]] = {}
    for name, feature in ontology.features.items():
        if isinstance(feature, ClassificationSpec):
            checks[name] = (feature, _classification_ok)
        elif feature.tool in TOOL_FORMATS:
            checks[name] = (feature, _tool_ok)
    return checks


# --- helpers -------------------------------------------------------------------------------------


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) <= 40 else "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, AnswerObject):
        return "an option object"
    return "an object" if isinstance(value, Mapping) else type(value).__name__


def _listing(items: Iterable[str], *, quote: bool = True) -> str:
    shown = []
    for count, item in enumerate(items):
        if count == _SHOWN:
            shown.append("...")
            break
        shown.append(repr(item) if quote else item)
    return ", ".join(shown)


__all__ = [
    "CLASSIFICATION_TYPES",
    "FROM_DOCUMENTS",
    "MAX_ANNOTATIONS_PER_FEATURE",
    "TOOL_FORMATS",
    "AnnotationLine",
    "AnnotationValidator",
    "AnswerObject",
    "ClassificationSpec",
    "ConversationIndex",
    "DataRowRef",
    "FeatureSpec",
    "LineShapeError",
    "MessageItem",
    "MessageTask",
    "NestedClassification",
    "NestedScope",
    "OntologyIndex",
    "OntologyInput",
    "OptionSpec",
    "TaskData",
    "ToolSpec",
    "annotation_line_errors",
    "as_conversation_index",
    "as_ontology_index",
    "line_issue",
    "parse_line",
]
