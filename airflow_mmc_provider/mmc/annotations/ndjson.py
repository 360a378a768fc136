"""Annotations of multimodal chat evaluations: builders, a JSONL format for people, NDJSON for Labelbox.

Labelbox imports annotations (pre-labels or ground truth) as NDJSON, one annotation per line
(wire reference section 8). This module writes those lines three ways, and every way ends in
the same validation (`annotation_validation`) before anything is uploaded.

1. Builders (Python): `build` gives typed lines (`LabelLines`), `dicts` the same annotations as
   plain dicts (``annotation_line(message_ranking(...), global_key=...)``), the form to pass
   between tasks (XCom takes JSON).
2. Annotation records (JSONL, written against your own conversation records): `records`.
3. NDJSON lines (already in Labelbox's format): any line with ``dataRow``
Any line with ``dataRow`` is taken as it is (checklists may say ``answers``, as the SDK's own
fixtures do) and validated by the same rules; a missing ``uuid`` is filled in deterministically.
Records and NDJSON lines may be mixed in one file.

Batches
-------
`build_ndjson` (the upload body), `iter_ndjson_lines` (encoded lines, streaming) and
`build_annotation_lines` (dicts) take records, NDJSON lines, built dicts or typed lines (JSON
text, bytes, mappings or `AnnotationLine`s, mixed freely), an ontology (the normalized dict, an
`OntologyView` or an `OntologyIndex`) and optionally the conversations (data row key -> row_data
dict or `ConversationDocument`; without them the conversation rules are skipped), and give the
lines to upload or raise one `ValidationError` listing every problem, each naming the line, the data row,
the annotation and the field (`collect_annotation_issues` lists them without raising). Lines come
out as compact JSON with their keys sorted and their uuid; ``check_required=False`` relaxes the
required-classification rules for pre-labels. Example::

    body = ann.build_ndjson(read_lines(stream), project_ontology, documents,
                            names=ann.FeatureNames(ranking="Rank the responses"),
                            global_key_prefix="round-7/")

UUIDs
-----
A line without a uuid gets ``uuid5(ANNOTATION_NAMESPACE, canonical)``, where ``canonical`` is
the line without ``uuid`` as compact JSON with keys sorted and null values left out (UTF-8).
The data row, the feature and the content decide it, so a retried import sends the same uuids
(Labelbox treats them as the same annotations), records and builders that say the same thing
give the same uuid, and two identical lines are caught as duplicates. Lines that carry a uuid
keep it. `annotation_uuid` computes it for any line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import chain, islice
from typing import Any, Final

import msgspec

from airflow_mmc_provider.mmc._shapes import shape_problems
from airflow_mmc_provider.mmc.annotations.build import MessageRef
from airflow_mmc_provider.mmc.annotations.dicts import (
    Annotation,
    annotation_line,
    answer,
    checklist,
    message_ranking,
    multi_selection,
    radio,
    single_selection,
    text,
)
from airflow_mmc_provider.mmc.annotations.record_lines import RecordLines
from airflow_mmc_provider.mmc.annotations.records import (
    AnnotationRecord,
    FeatureNames,
    emit_checked,
    record_decoder,
    record_tools,
)
from airflow_mmc_provider.mmc.annotations.rules import FROM_DOCUMENTS, AnnotationValidator, line_issue
from airflow_mmc_provider.mmc.annotations.types import AnnotationLine
from airflow_mmc_provider.mmc.annotations.uuids import (
    ANNOTATION_NAMESPACE,
    CLOSE,
    UUID_KEY,
    annotation_uuid,
    canonical_line,
    encoder,
    uuid_hash,
)
from airflow_mmc_provider.mmc.conversation import check_prefix, global_key_for
from airflow_mmc_provider.mmc.errors import ValidationError, ValidationIssue
from airflow_mmc_provider.mmc.jsonl import DECODE_ERRORS, not_json
from airflow_mmc_provider.mmc.ontology.index import OntologyIndex, OntologyInput, as_ontology_index

_line_decoder = msgspec.json.Decoder(AnnotationLine)
_untyped_decoder = msgspec.json.Decoder()

AnnotationInput = bytes | str | Mapping[str, Any] | AnnotationRecord | AnnotationLine


class AnnotationBatch:
    """Turns records and NDJSON lines into validated, encoded lines, one input at a time.

    `add` returns the encoded lines of one input (a record gives several); once any problem has
    been seen it keeps validating, so the final error lists everything, but returns no more
    lines. `finish` runs the rules that need the whole import (required classifications per data
    row) and returns every issue.
    """

    def __init__(
        self,
        ontology: OntologyInput,
        documents: Mapping[str, Any] | None = None,
        *,
        names: FeatureNames | None = None,
        global_key_prefix: str = "",
        check_required: bool = True,
    ) -> None:
        check_prefix(global_key_prefix)
        self.ontology: OntologyIndex = as_ontology_index(ontology)
        self.validator = AnnotationValidator(self.ontology, documents, check_required=check_required)
        self.prefix = global_key_prefix
        self.tools = record_tools(self.ontology, names or FeatureNames())
        self.records = RecordLines(self.validator, self.tools, global_key_prefix)
        self._finished = False

    @property
    def issues(self) -> list[ValidationIssue]:
        return self.validator.issues

    def add(self, raw: AnnotationInput, line: int | None = None) -> list[bytes]:
        """The encoded NDJSON lines of one input (keys sorted, uuid included)."""
        produced = self._lines(raw, line)
        return [] if self.validator.issues else produced

    def stream(self, inputs: Iterable[AnnotationInput]) -> Iterator[bytes]:
        """`add` over `inputs` numbered from 1 (blank text lines skipped but counted), yielding lines.

        Built lines (typed, or dicts with ``dataRow``) take an inlined path: this loop is the hot
        path of a large import, so it keeps per-line calls to the minimum. A generator of inputs
        is read `READ_AHEAD` at a time (`_read_ahead`).
        """
        convert, encode, hashed, key, close = msgspec.convert, encoder.encode, uuid_hash, UUID_KEY, CLOSE
        # `check_line`, inlined: its fast path, then the detailed checks when that refuses
        accept, explain = self.validator._confirm, self.validator._explain
        issues = self.validator.issues
        decode_record, record_lines = record_decoder.decode, self.records.lines
        for number, raw in enumerate(_read_ahead(inputs), start=1):
            kind = type(raw)
            typed: AnnotationLine
            if kind is bytes and b'"dataRow"' not in raw:  # type: ignore[operator]
                try:  # an annotation record, the commonest input of a file
                    record = decode_record(raw)  # type: ignore[arg-type]
                except (msgspec.ValidationError, *DECODE_ERRORS):
                    pass  # anything else is decided by `_lines`, below
                else:
                    produced = record_lines(record, number)
                    if not issues:
                        yield from produced
                    continue
            if kind is AnnotationLine:
                typed = raw  # type: ignore[assignment]
            elif kind is dict and "dataRow" in raw:  # type: ignore[operator]
                try:
                    typed = convert(raw, AnnotationLine)
                except msgspec.ValidationError:
                    self._lines(raw, number)  # reports every shape problem
                    continue
            else:
                if not ((kind is bytes or kind is str) and not raw.strip()):  # type: ignore[union-attr]
                    produced = self._lines(raw, number)
                    if produced and not issues:
                        yield from produced
                continue
            if typed.uuid is not None:
                if not accept(typed, number, None, FROM_DOCUMENTS):
                    explain(typed, number, None, FROM_DOCUMENTS, "")
                if not issues:
                    yield encode(typed)
                continue
            canonical = encode(typed)  # == canonical_line, inlined
            uuid = hashed(canonical)
            if not accept(typed, number, uuid, FROM_DOCUMENTS):
                explain(typed, number, uuid, FROM_DOCUMENTS, "")
            if not issues:
                yield b"".join((canonical[:-1], key, uuid.encode(), close))

    def finish(self) -> list[ValidationIssue]:
        if not self._finished:
            self.validator.finish()
            self._finished = True
        return self.validator.issues

    def raise_if_invalid(self, subject: str = "annotations") -> None:
        issues = self.finish()
        if issues:
            raise ValidationError(issues, subject=subject)

    # --- one input ---------------------------------------------------------------------------

    def _lines(self, raw: AnnotationInput, line: int | None) -> list[bytes]:
        kind = type(raw)
        if kind is dict:
            decoded: Any = raw
        elif kind is bytes or kind is str:
            # One typed decoding for the usual cases: a line names its data row, a record does not.
            # Whatever fails is decoded untyped below and sorted out by its keys.
            try:
                if (b'"dataRow"' if kind is bytes else '"dataRow"') in raw:  # type: ignore[operator]
                    return self._emit(_line_decoder.decode(raw), line)  # type: ignore[arg-type]
                parsed = record_decoder.decode(raw)  # type: ignore[arg-type]
                return self.records.lines(parsed, line)
            except msgspec.ValidationError:
                pass  # a line or record with shape problems: decided below
            except DECODE_ERRORS as exc:
                self._issue(line, None, "", *not_json(exc, raw))  # type: ignore[arg-type]
                return []
            try:
                decoded = _untyped_decoder.decode(raw)  # type: ignore[arg-type]
            except DECODE_ERRORS as exc:  # typed decoding can stop before a late syntax error
                self._issue(line, None, "", *not_json(exc, raw))  # type: ignore[arg-type]
                return []
        elif kind is AnnotationLine:
            return self._emit(raw, line)  # type: ignore[arg-type]
        elif kind is AnnotationRecord:
            return self.records.lines(raw, line)  # type: ignore[arg-type]
        else:
            decoded = raw
        if type(decoded) is not dict:
            if not isinstance(decoded, Mapping):
                self.validator.check(decoded, line)  # reports "expected a JSON object"
                return []
            decoded = dict(decoded)
        if (
            "dataRow" in decoded
            or "messageEvaluationTask" in decoded
            or "answer" in decoded
            or "answers" in decoded
        ):
            typed = self.validator.parse(decoded, line)
            return [] if typed is None else self._emit(typed, line)
        record = self._record(decoded, line)
        return [] if record is None else self.records.lines(record, line)

    def _emit(
        self, typed: AnnotationLine, line: int | None, document: Any = FROM_DOCUMENTS, origin: str = ""
    ) -> list[bytes]:
        return emit_checked(self.validator, typed, line, document, origin)

    def _record(self, decoded: dict[str, Any], line: int | None) -> AnnotationRecord | None:
        try:
            return msgspec.convert(decoded, AnnotationRecord)
        except msgspec.ValidationError:
            pass
        key = decoded.get("key")
        data_row = global_key_for(key, self.prefix) if isinstance(key, str | int) else None
        for problem in shape_problems(decoded, AnnotationRecord):
            fix = problem.fix
            if problem.message == "unknown field":
                fix += "; an NDJSON line needs dataRow"
            self._issue(line, data_row, problem.path, problem.message, fix)
        return None

    def _issue(
        self,
        line: int | None,
        data_row: str | None,
        field: str,
        message: str,
        fix: str,
        annotation: str | None = None,
    ) -> None:
        self.validator.issues.append(line_issue(line, data_row, annotation, field, message, fix))


READ_AHEAD: Final = 512


def _read_ahead(inputs: Iterable[AnnotationInput]) -> Iterable[AnnotationInput]:
    """`inputs`, taken from an iterator `READ_AHEAD` items at a time.

    Building an input and checking it, one after the other, switches between two large pieces
    of code line after line; letting the producer build a few hundred inputs in a row first makes
    a streamed import of typed lines about 9 % faster (``benchmarks/annotations.py``), for
    memory bounded by `READ_AHEAD` inputs. Lists and tuples are already in memory.
    """
    if isinstance(inputs, list | tuple):
        return inputs
    return chain.from_iterable(_chunks(iter(inputs)))  # items taken in C, the generator once a chunk


def _chunks(iterator: Iterator[AnnotationInput]) -> Iterator[list[AnnotationInput]]:
    while chunk := list(islice(iterator, READ_AHEAD)):
        yield chunk


# --- batches -------------------------------------------------------------------------------------


def iter_ndjson_lines(
    inputs: Iterable[AnnotationInput],
    ontology: OntologyInput,
    documents: Mapping[str, Any] | None = None,
    *,
    names: FeatureNames | None = None,
    global_key_prefix: str = "",
    check_required: bool = True,
    subject: str = "annotations",
) -> Iterator[bytes]:
    """Validated, encoded NDJSON lines of records, NDJSON lines or built dicts, in input order.

    Inputs are JSON text or bytes (one line each), mappings, `AnnotationRecord`s or
    `AnnotationLine`s; line numbers count from 1 over `inputs`, and blank text lines are skipped
    (but counted). Each output line is compact JSON with sorted keys and its uuid. Lines stop with
    the first problem; at the end one `ValidationError` lists every problem, so a consumer that
    spools before uploading uploads nothing from a bad file.
    """
    batch = AnnotationBatch(
        ontology, documents, names=names, global_key_prefix=global_key_prefix, check_required=check_required
    )
    yield from batch.stream(inputs)
    batch.raise_if_invalid(subject)


def build_ndjson(
    inputs: Iterable[AnnotationInput],
    ontology: OntologyInput,
    documents: Mapping[str, Any] | None = None,
    *,
    names: FeatureNames | None = None,
    global_key_prefix: str = "",
    check_required: bool = True,
    subject: str = "annotations",
) -> bytes:
    """The import body (lines joined by newlines, as the SDK sends), or a `ValidationError`."""
    batch = AnnotationBatch(
        ontology, documents, names=names, global_key_prefix=global_key_prefix, check_required=check_required
    )
    body = b"\n".join(batch.stream(inputs))
    batch.raise_if_invalid(subject)
    return body


def build_annotation_lines(
    inputs: Iterable[AnnotationInput],
    ontology: OntologyInput,
    documents: Mapping[str, Any] | None = None,
    *,
    names: FeatureNames | None = None,
    global_key_prefix: str = "",
    check_required: bool = True,
    subject: str = "annotations",
) -> list[dict[str, Any]]:
    """`iter_ndjson_lines` as dicts: every line, or a `ValidationError` with every problem."""
    lines = iter_ndjson_lines(
        inputs,
        ontology,
        documents,
        names=names,
        global_key_prefix=global_key_prefix,
        check_required=check_required,
        subject=subject,
    )
    return [_untyped_decoder.decode(line) for line in lines]


def referenced_data_rows(
    inputs: Iterable[AnnotationInput], global_key_prefix: str = ""
) -> tuple[set[str], set[str]]:
    """The global keys and the data row ids that records and NDJSON lines name, so a caller can
    fetch just those conversations before validating (inputs that are not JSON objects name
    none; the validation reports them)."""
    global_keys: set[str] = set()
    row_ids: set[str] = set()
    for item in inputs:
        if isinstance(item, AnnotationLine):
            data: Any = msgspec.to_builtins(item)
        elif isinstance(item, AnnotationRecord):
            data = {"key": item.key}
        elif isinstance(item, bytes | str):
            try:
                data = _untyped_decoder.decode(item)
            except DECODE_ERRORS:
                continue
        else:
            data = item
        if not isinstance(data, Mapping):
            continue
        row = data.get("dataRow")
        if isinstance(row, Mapping):
            if isinstance(row.get("globalKey"), str) and row["globalKey"]:
                global_keys.add(row["globalKey"])
            elif isinstance(row.get("id"), str) and row["id"]:
                row_ids.add(row["id"])
        elif isinstance(data.get("key"), str | int):
            global_keys.add(global_key_for(str(data["key"]), global_key_prefix))
    return global_keys, row_ids


def collect_annotation_issues(
    inputs: Iterable[AnnotationInput],
    ontology: OntologyInput,
    documents: Mapping[str, Any] | None = None,
    *,
    names: FeatureNames | None = None,
    global_key_prefix: str = "",
    check_required: bool = True,
) -> list[ValidationIssue]:
    """Every problem, without raising (a dry run)."""
    batch = AnnotationBatch(
        ontology, documents, names=names, global_key_prefix=global_key_prefix, check_required=check_required
    )
    for number, raw in enumerate(inputs, start=1):
        if not (isinstance(raw, bytes | str) and not raw.strip()):
            batch.add(raw, number)
    return batch.finish()


__all__ = [
    "ANNOTATION_NAMESPACE",
    "Annotation",
    "AnnotationBatch",
    "AnnotationInput",
    "AnnotationRecord",
    "FeatureNames",
    "MessageRef",
    "annotation_line",
    "annotation_uuid",
    "answer",
    "build_annotation_lines",
    "build_ndjson",
    "canonical_line",
    "checklist",
    "collect_annotation_issues",
    "iter_ndjson_lines",
    "message_ranking",
    "multi_selection",
    "radio",
    "referenced_data_rows",
    "single_selection",
    "text",
]
