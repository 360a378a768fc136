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
compiled once into `mmc.ontology.index.OntologyIndex` and each conversation, lazily, into
`mmc.conversation.index.ConversationIndex` (per human message its model responses, so a whole
ranking or selection is compared with them in C). `check_line` is the one entry point: it first
tries `_confirm`, a private fast path (`_accept`) that confirms a valid line with a fraction of the
checks' work; only when it refuses do the checks (`_explain`: `_tool_checks`,
`_answer_checks`) run, to say what is wrong. They are the definition: the fast path may refuse a
valid line, never accept an invalid one, and messages are formatted only for lines with
problems. Lines valid by construction (the record reader's) skip the line rules and go to
`admit`, the import rules alone. What the import rules remember per data row
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

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import msgspec

from airflow_mmc_provider.mmc.annotations._accept import _fast_checks
from airflow_mmc_provider.mmc.annotations._answer_checks import _check_classification
from airflow_mmc_provider.mmc.annotations._line import (
    _MISSING,
    _UUID,
    CLASSIFICATION_TYPES,
    FROM_DOCUMENTS,
    INDEXED_ROWS,
    MAX_ANNOTATIONS_PER_FEATURE,
    RANKING,
    TOOL_FORMATS,
    Rankings,
    _data_row,
    _duplicate_uuid,
    _feature,
    _Line,
    _over_limit,
    _ranked_twice,
    _report_shape,
    _uuid,
    _Verdict,
    line_issue,
    ranking_slot,
)
from airflow_mmc_provider.mmc.annotations._tool_checks import _check_tool
from airflow_mmc_provider.mmc.annotations.types import (
    AnnotationLine,
    AnswerObject,
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
    IndexedDocument,
    RowDocument,
    as_conversation_index,
)
from airflow_mmc_provider.mmc.errors import ValidationIssue
from airflow_mmc_provider.mmc.jsonl import DECODE_ERRORS, not_json
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
    rankings: Rankings | None = None  # `ranking_slot`; None until the row's first ranking


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
        self._indexes: OrderedDict[str, IndexedDocument | None] = OrderedDict()
        self._uncheckable: set[str] = set()  # keys whose document is text but no JSON object
        self._uuids: dict[str, int | None] = {}  # uuids the lines carry -> first line
        self._rows: dict[str, _Row] = {}
        # The data row of the last line `_confirm` looked up, its key, record and index (the last
        # two are read only once the first two are a line's):
        self._last_ref: DataRowRef | None = None
        self._last_key: str | None = None
        self._last_row = _Row(None)
        self._last_conv: IndexedDocument | None = None
        self._context = _Line(self, None, "")  # reused line after line: lines are checked in turn
        self._fast = _fast_checks(self.ontology)
        self._verdict = _Verdict(check_required)  # the fast path's, reused line after line

    def conversation(self, key: str) -> ConversationIndex | None:
        """The indexed document of a data row (None: not given, or text that is no JSON object).

        Text that is not a JSON object (a row_data given by URL) cannot be checked, so its lines
        skip the conversation rules rather than fail for it.
        """
        found = self.indexed_document(key)
        return found.index() if type(found) is RowDocument else found  # type: ignore[return-value]

    def indexed_document(self, key: str) -> IndexedDocument | None:
        """`conversation`, as the fast paths read it: a dict document stays a `RowDocument`."""
        indexes = self._indexes
        known = indexes.get(key, _MISSING)
        if known is not _MISSING:
            indexes.move_to_end(key)  # the most recently used last
            return known
        raw = self.documents.get(key) if self.documents is not None else None
        index: IndexedDocument | None = None
        if type(raw) is dict:
            index = RowDocument.of(raw)
        elif isinstance(raw, str | bytes):
            try:
                index = as_conversation_index(raw)
            except (*DECODE_ERRORS, TypeError):
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
        except DECODE_ERRORS as exc:
            ctx = _Line(self, line_no, origin)
            ctx.add("", *not_json(exc, line if isinstance(line, str | bytes) else None))
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
        if self._confirm(line, line_no, uuid, document):
            return []
        return self._explain(line, line_no, uuid, document, origin)

    def _confirm(self, line: AnnotationLine, line_no: int | None, uuid: str | None, document: Any) -> bool:
        """`check_line`'s fast path (private: callers see only what `check_line` reports): True
        after recording a line that passes every rule.

        False when `_explain` has to run, to say what is wrong or to find that nothing is
        (a fast path may refuse a valid line, never accept an invalid one); by then nothing is
        recorded that `_explain` would not record the same way. Most lines of an import are
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
        if not check(feature, line, conv, self._verdict):
            return False
        counts, generated, carried = row.counts, row.generated, self._uuids
        name = feature.name
        count = counts.get(name, 0) + 1
        if count > MAX_ANNOTATIONS_PER_FEATURE:
            return False
        slot = ranking_slot(line, name) if line.message_evaluation_task is not None else None
        rankings = row.rankings
        if slot is not None and rankings is not None and slot in rankings:
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
        if slot is not None:
            if rankings is None:
                rankings = row.rankings = {}
            rankings[slot] = line_no
        return True

    def admit(
        self, key: str, lines: list[AnnotationLine], uuids: list[str], line_no: int | None = None
    ) -> bool:
        """The import rules for lines valid by construction (the record reader's): True after
        recording them, when none of their generated uuids is taken and no feature goes over
        its limit on data row `key`; False, recording nothing, otherwise (the lines are then
        checked one by one, to say what is wrong). `uuids` are the lines' generated uuids."""
        carried = self._uuids
        fresh: dict[str, int | None] = dict.fromkeys(uuids, line_no)
        if len(fresh) != len(uuids) or (carried and not carried.keys().isdisjoint(fresh)):
            return False
        added: dict[str, int] = {}
        ranked: Rankings | None = None
        for line in lines:
            name = line.name or ""  # always named: built from the ontology's names
            added[name] = added.get(name, 0) + 1
            task = line.message_evaluation_task
            if task is not None and task.format == RANKING:
                slot = (name, task.data.parent_message_id)
                if ranked is None:
                    ranked = {}
                elif slot in ranked:
                    return False
                ranked[slot] = line_no
        row = self._rows.get(key)
        if row is None:  # the usual case: a data row's first lines
            if len(lines) > MAX_ANNOTATIONS_PER_FEATURE and max(added.values()) > MAX_ANNOTATIONS_PER_FEATURE:
                return False
            self._rows[key] = _Row(line_no, False, added, fresh, ranked)
            return True
        counts, generated, rankings = row.counts, row.generated, row.rankings
        if not generated.keys().isdisjoint(fresh):
            return False
        if ranked and rankings and not rankings.keys().isdisjoint(ranked):
            return False
        for name, count in added.items():
            if counts.get(name, 0) + count > MAX_ANNOTATIONS_PER_FEATURE:
                return False
        generated.update(fresh)
        for name, count in added.items():
            counts[name] = counts.get(name, 0) + count
        if ranked:
            row.rankings = ranked if rankings is None else {**rankings, **ranked}
        return True

    def _row_and_conversation(self, key: str, line_no: int | None) -> tuple[_Row, IndexedDocument | None]:
        """A data row's record (created by its first line) and its indexed document, if any."""
        conv = self.indexed_document(key) if self.documents is not None else None
        row = self._rows.get(key)
        if row is None:
            missing = conv is None and self.documents is not None and key not in self._uncheckable
            row = self._rows[key] = _Row(line_no, missing)
        return row, conv

    def _explain(
        self, line: AnnotationLine, line_no: int | None, uuid: str | None, document: Any, origin: str
    ) -> list[ValidationIssue]:
        """`check_line` without its fast path: every rule in detail, formatting each problem.

        The definition of the rules; `_confirm` only confirms lines these checks pass.
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
        before = len(ctx.found) if ctx.found else 0  # a line with problems of its own ranks nothing
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
            if row is not None and (len(ctx.found) if ctx.found else 0) == before:
                self._rank_once(ctx, row, feature.name, line, line_no)
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

    @staticmethod
    def _rank_once(ctx: _Line, row: _Row, name: str, line: AnnotationLine, line_no: int | None) -> None:
        """The rule that a label ranks each prompt once per tool: Labelbox keeps one ranking per
        prompt and tool in a label, so an import with two would leave to the server which counts."""
        slot = ranking_slot(line, name)
        if slot is None:
            return
        if row.rankings is None:
            row.rankings = {}
        elif slot in row.rankings:
            _ranked_twice(ctx, slot[1], row.rankings[slot])
            return
        row.rankings[slot] = line_no

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
