"""Annotations of multimodal chat evaluations: builders, a JSONL format for people, NDJSON for Labelbox.

Labelbox imports annotations (pre-labels or ground truth) as NDJSON, one annotation per line
(wire reference section 8). This module writes those lines three ways, and every way ends in
the same validation (`annotation_validation`) before anything is uploaded.

1. Builders (Python)
--------------------
Each builder returns the annotation as a plain dict; `annotation_line` attaches it to a data
row::

    from airflow_mmc_provider.mmc import annotations as ann
    from airflow_mmc_provider.mmc.conversation import prompt_message_id, response_ref

    gpt, claude = response_ref("conv-0001", "gpt-4o"), response_ref("conv-0001", "claude")
    lines = [
        ann.annotation_line(ann.message_ranking("Rank", [gpt, claude]), global_key="conv-0001"),
        ann.annotation_line(ann.single_selection("Best", gpt), global_key="conv-0001"),
        ann.annotation_line(ann.multi_selection("Good", [gpt]), global_key="conv-0001"),
        ann.annotation_line(
            ann.radio("Overall quality", ann.answer("bad", [ann.text("Why", "too long")])),
            global_key="conv-0001",
        ),
        ann.annotation_line(ann.checklist("Issues", ["verbosity"]), data_row_id="clx..."),
        ann.annotation_line(
            ann.text("Response note", "cites a source"),
            global_key="conv-0001",
            message_id=gpt.message_id,  # message-scoped classifications name their message
        ),
    ]

To build a large import in one process, `typed_annotations` has the same builders returning
typed lines (msgspec Structs, ``LabelLines(global_key=...).message_ranking(...)``), which the
batch functions below take without converting dicts; dicts stay the form to pass between tasks.

Message tools take `ResponseRef`s (from `conversation.response_ref`, which derives the ids from
the record key alone, or `document.document_response_refs`) or ``(message_id,
model_config_name)`` pairs with ``parent_message_id=``. Rankings are given best first (order 1).
Nested classifications go into `answer(...)`, to any depth.

2. Annotation records (JSONL, written against your own conversation records)
----------------------------------------------------------------------------
One JSON object per line and comparison, naming models instead of message ids::

    {"key": "conv-0001",
     "ranking": ["gpt-4o", "claude"],
     "best": "gpt-4o",
     "good": ["gpt-4o"],
     "classifications": {"Overall quality": "good",
                         "Issues": ["verbosity"],
                         "Reason": "More specific.",
                         "Response quality": {"gpt-4o": "good", "claude": "bad"}}}

* ``key`` (required): the conversation record's key; the data row is its global key
  (`conversation.global_key_for` with the batch's ``global_key_prefix``).
* ``turn`` (default 0): which comparison of a multi-turn conversation; one line per turn.
* ``ranking``: model config names, best first, every model of the turn once -> the message-ranking
  tool. ``best``: one model -> the single-selection tool. ``good``: models (``[]`` = none) -> the
  multi-selection tool. Which tools these are is `FeatureNames`; by default the ontology's only
  tool of each kind.
* ``classifications``: ontology classification name -> answer. Radio: the option (value or
  label). Checklist: a list of options. Text: the string. An option with nested classifications
  is ``{"answer": "<option>", "classifications": {<name>: <answer>, ...}}``, to any depth::

      "Overall quality": {"answer": "bad", "classifications": {"Why": "Too long"}}
      "Issues": ["verbosity", {"answer": "factual error", "classifications": {"Severity": "high"}}]

  A message-scoped classification is answered per response: ``{"<model>": <answer>, ...}``.
* ``prompt_classifications``: message-scoped classifications of the turn's prompt (the human
  message), ``{<name>: <answer>}``.

Models resolve to message ids through the conversation builder's deterministic ids; when the
data row's document is given (needed anyway to check the conversation), through the document,
so conversations uploaded as ready-made ``row_data`` work too.

3. NDJSON lines (already in Labelbox's format)
----------------------------------------------
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

import hashlib
import uuid as uuid_module
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any, Final

import msgspec

from airflow_mmc_provider.mmc._shapes import shape_problems
from airflow_mmc_provider.mmc.annotations.build import LabelLines, MessageRef, message_pairs, parent_of
from airflow_mmc_provider.mmc.annotations.rules import (
    FROM_DOCUMENTS,
    AnnotationLine,
    AnnotationValidator,
    AnswerObject,
    AnswerValue,
    ClassificationSpec,
    ConversationIndex,
    NestedClassification,
    NestedScope,
    OntologyIndex,
    OntologyInput,
    ToolSpec,
    as_ontology_index,
    line_issue,
    parse_line,
)
from airflow_mmc_provider.mmc.conversation import ConversationIds, check_prefix, global_key_for
from airflow_mmc_provider.mmc.conversation.document import ResponseRef
from airflow_mmc_provider.mmc.errors import ValidationError, ValidationIssue

ANNOTATION_NAMESPACE: Final = uuid_module.uuid5(
    uuid_module.NAMESPACE_URL, "https://github.com/airflow-mmc-provider/airflow-mmc-provider/annotations"
)
_NAMESPACE_SHA1 = hashlib.sha1(ANNOTATION_NAMESPACE.bytes, usedforsecurity=False)
_encoder = msgspec.json.Encoder()

Annotation = dict[str, Any]
"""An annotation or nested classification without its data row, as the builders return it."""

# --- builders ------------------------------------------------------------------------------------


def answer(
    name: str | None, classifications: Iterable[Annotation] = (), *, schema_id: str | None = None
) -> Annotation:
    """An option of a radio or checklist answer, with the classifications nested under it."""
    result: Annotation = (
        {"name": name} if schema_id is None and name is not None else _identity(name, schema_id, "answer")
    )
    if classifications:
        nested = list(classifications)
        if nested:
            result["classifications"] = nested
    return result


def radio(name: str | None, choice: str | Annotation, *, schema_id: str | None = None) -> Annotation:
    """A radio classification: one option (its name, or an `answer(...)` with nested ones)."""
    if schema_id is None and name is not None:
        return {"name": name, "answer": {"name": choice} if type(choice) is str else choice}
    result = _identity(name, schema_id, "radio")
    result["answer"] = {"name": choice} if isinstance(choice, str) else choice
    return result


def checklist(
    name: str | None, choices: Iterable[str | Annotation], *, schema_id: str | None = None
) -> Annotation:
    """A checklist classification: the chosen options (names, or `answer(...)`s)."""
    answers = [{"name": c} if isinstance(c, str) else c for c in choices]
    if schema_id is None and name is not None:
        return {"name": name, "answer": answers}
    result = _identity(name, schema_id, "checklist")
    result["answer"] = answers
    return result


def text(name: str | None, content: str, *, schema_id: str | None = None) -> Annotation:
    """A free-text classification."""
    if schema_id is None and name is not None:
        return {"name": name, "answer": content}
    result = _identity(name, schema_id, "text")
    result["answer"] = content
    return result


def single_selection(
    name: str | None,
    message: MessageRef,
    *,
    parent_message_id: str | None = None,
    schema_id: str | None = None,
    classifications: Iterable[Annotation] = (),
) -> Annotation:
    """The message-single-selection tool: one chosen response."""
    if type(message) is ResponseRef:
        message_id, model = message.message_id, message.model_config_name
        parent = parent_of(parent_message_id, message.parent_message_id)
    else:
        message_id, model = message  # type: ignore[misc]
        parent = parent_of(parent_message_id, None)
    data = {"messageId": message_id, "modelConfigName": model, "parentMessageId": parent}
    return _task(name, schema_id, "message-single-selection", data, classifications)


def multi_selection(
    name: str | None,
    messages: Iterable[MessageRef],
    *,
    parent_message_id: str | None = None,
    schema_id: str | None = None,
    classifications: Iterable[Annotation] = (),
) -> Annotation:
    """The message-multi-selection tool: the chosen responses (possibly none)."""
    pairs, parent = message_pairs(messages, parent_message_id)
    selected = [{"messageId": message_id, "modelConfigName": model} for message_id, model in pairs]
    data = {"parentMessageId": parent, "selectedMessages": selected}
    return _task(name, schema_id, "message-multi-selection", data, classifications)


def message_ranking(
    name: str | None,
    best_first: Iterable[MessageRef],
    *,
    parent_message_id: str | None = None,
    schema_id: str | None = None,
    classifications: Iterable[Annotation] = (),
) -> Annotation:
    """The message-ranking tool: the responses best first (orders 1..n)."""
    pairs, parent = message_pairs(best_first, parent_message_id)
    ranked = [
        {"messageId": message_id, "modelConfigName": model, "order": order}
        for order, (message_id, model) in enumerate(pairs, start=1)
    ]
    data = {"parentMessageId": parent, "rankedMessages": ranked}
    return _task(name, schema_id, "message-ranking", data, classifications)


def annotation_line(
    annotation: Annotation,
    *,
    global_key: str | None = None,
    data_row_id: str | None = None,
    message_id: str | None = None,
    benchmark_reference: bool = False,
    uuid: str | None = None,
) -> dict[str, Any]:
    """One NDJSON line: the annotation on a data row (by global key or id).

    `message_id` is for message-scoped classifications; `benchmark_reference` marks the line as
    part of a benchmark reference label (``isBenchmarkReferenceLabel``). Without `uuid` the line
    has none yet: the batch functions give it the deterministic one (`annotation_uuid`).
    """
    if (global_key is None) == (data_row_id is None):
        raise ValueError("give exactly one of global_key and data_row_id")
    line: dict[str, Any] = {
        "dataRow": {"globalKey": global_key} if data_row_id is None else {"id": data_row_id},
        **annotation,
    }
    if message_id is not None:
        line["messageId"] = message_id
    if benchmark_reference:
        line["isBenchmarkReferenceLabel"] = True
    if uuid is not None:
        line["uuid"] = uuid
    return line


def annotation_uuid(line: AnnotationLine | Mapping[str, Any] | str | bytes) -> str:
    """The deterministic uuid of a line; any ``uuid`` the line has is ignored.

    Raises `LineShapeError` (a `ValueError`) if the line is not shaped like an annotation.
    """
    typed = parse_line(line)
    if typed.uuid is not None:
        typed = msgspec.structs.replace(typed, uuid=None)
    return _uuid_hash(_encoder.encode(typed))


def canonical_line(typed: AnnotationLine) -> tuple[bytes, str]:
    """The encoded line with its uuid (the deterministic one if it has none), and that uuid.

    The encoding has its keys sorted; ``uuid``, which sorts last, is spliced into the canonical
    encoding it was hashed from, so each line is encoded once.
    """
    if typed.uuid is not None:
        return _encoder.encode(typed), typed.uuid
    canonical = _encoder.encode(typed)
    uuid = _uuid_hash(canonical)
    return _WITH_UUID % (canonical[:-1], uuid.encode()), uuid


def _uuid_hash(canonical: bytes) -> str:
    """uuid5 (RFC 4122, 4.3) of `canonical` in `ANNOTATION_NAMESPACE`, without a UUID object.

    The namespace is hashed once (`_NAMESPACE_SHA1`); each line continues a copy of that state.
    """
    digest = _NAMESPACE_SHA1.copy()
    digest.update(canonical)
    h = digest.hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


_WITH_UUID = b'%b,"uuid":"%b"}'  # the canonical line without its closing brace, and the uuid


_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def _identity(name: str | None, schema_id: str | None, what: str) -> Annotation:
    if schema_id is None:
        if name is not None:
            return {"name": name}
        raise ValueError(f"{what}: give the feature's name or schema_id")
    result: Annotation = {}
    if name is not None:
        result["name"] = name
    if schema_id is not None:
        result["schemaId"] = schema_id
    return result


def _task(
    name: str | None,
    schema_id: str | None,
    fmt: str,
    data: dict[str, Any],
    classifications: Iterable[Annotation],
) -> Annotation:
    if schema_id is None and name is not None:  # the usual case, without a call
        result: Annotation = {"name": name, "messageEvaluationTask": {"format": fmt, "data": data}}
    else:
        result = _identity(name, schema_id, fmt)
        result["messageEvaluationTask"] = {"format": fmt, "data": data}
    if classifications:
        nested = list(classifications)
        if nested:
            result["classifications"] = nested
    return result


# --- annotation records --------------------------------------------------------------------------


class AnnotationRecord(msgspec.Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    """One line of an annotations file written against conversation records (module docstring)."""

    key: str | int
    turn: int = 0
    ranking: list[str] | None = None
    best: str | None = None
    good: list[str] | None = None
    classifications: dict[str, Any] = {}
    prompt_classifications: dict[str, Any] = {}

    @property
    def key_text(self) -> str:
        return self.key if isinstance(self.key, str) else str(self.key)


@dataclass(frozen=True)
class FeatureNames:
    """The ontology tools behind a record's ``ranking``, ``best`` and ``good``.

    None means the ontology's only tool of that kind (message-ranking, message-single-selection,
    message-multi-selection).
    """

    ranking: str | None = None
    best: str | None = None
    good: str | None = None


_RECORD_TOOLS = (
    ("ranking", "message-ranking"),
    ("best", "message-single-selection"),
    ("good", "message-multi-selection"),
)
_line_decoder = msgspec.json.Decoder(AnnotationLine)
_record_decoder = msgspec.json.Decoder(AnnotationRecord)
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
        self.tools = _record_tools(self.ontology, names or FeatureNames())
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
        convert, encode, uuid_hash, with_uuid = msgspec.convert, _encoder.encode, _uuid_hash, _WITH_UUID
        accept, explain = self.validator.accept, self.validator.explain_line
        issues = self.validator.issues
        for number, raw in enumerate(_read_ahead(inputs), start=1):
            kind = type(raw)
            typed: AnnotationLine
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
                if not accept(typed, number):
                    explain(typed, number)
                if not issues:
                    yield encode(typed)
                continue
            canonical = encode(typed)  # == canonical_line, inlined
            uuid = uuid_hash(canonical)
            if not accept(typed, number, uuid):
                explain(typed, number, uuid=uuid)
            if not issues:
                yield with_uuid % (canonical[:-1], uuid.encode())

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
                parsed = _record_decoder.decode(raw)  # type: ignore[arg-type]
                return _RecordReader(self, parsed, line).lines()
            except msgspec.ValidationError:
                pass  # a line or record with shape problems: decided below
            except msgspec.DecodeError as exc:
                self._issue(line, None, "", f"the line is not valid JSON ({exc})", "fix the JSON syntax")
                return []
            try:
                decoded = _untyped_decoder.decode(raw)  # type: ignore[arg-type]
            except msgspec.DecodeError as exc:  # typed decoding can stop before a late syntax error
                self._issue(line, None, "", f"the line is not valid JSON ({exc})", "fix the JSON syntax")
                return []
        elif kind is AnnotationLine:
            return self._emit(raw, line)  # type: ignore[arg-type]
        elif kind is AnnotationRecord:
            return _RecordReader(self, raw, line).lines()  # type: ignore[arg-type]
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
        return [] if record is None else _RecordReader(self, record, line).lines()

    def _emit(
        self, typed: AnnotationLine, line: int | None, document: Any = FROM_DOCUMENTS, origin: str = ""
    ) -> list[bytes]:
        encoded, uuid = canonical_line(typed)
        generated = None if typed.uuid else uuid
        self.validator.check_line(typed, line, uuid=generated, document=document, origin=origin)
        return [encoded]

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


def _record_tools(ontology: OntologyIndex, names: FeatureNames) -> dict[str, ToolSpec | str]:
    """Record field -> its tool, or why there is none (reported when a record uses the field)."""
    tools: dict[str, ToolSpec | str] = {}
    for field, kind in _RECORD_TOOLS:
        chosen = getattr(names, field)
        if chosen is not None:
            feature = ontology.features.get(chosen)
            if not isinstance(feature, ToolSpec) or feature.tool != kind:
                raise ValueError(f"FeatureNames.{field}: the ontology has no {kind} tool named {chosen!r}")
            tools[field] = feature
            continue
        candidates = ontology.tools_of(kind)
        if len(candidates) == 1:
            tools[field] = candidates[0]
        elif candidates:
            listed = ", ".join(repr(t.name) for t in candidates)
            tools[field] = (
                f"the ontology has several {kind} tools ({listed}); choose one with FeatureNames({field}=...)"
            )
        else:
            tools[field] = f"the ontology has no {kind} tool"
    return tools


class _RecordReader:
    """The lines of one annotation record, resolving models to message ids."""

    def __init__(self, batch: AnnotationBatch, record: AnnotationRecord, line: int | None) -> None:
        self.batch = batch
        self.record = record
        self.line = line
        self.key = record.key_text
        self.global_key = global_key_for(self.key, batch.prefix)
        self.ids = ConversationIds(self.key)
        self.turn = record.turn
        self.lines_out: list[bytes] = []
        self.conv: ConversationIndex | None = None
        self.label = LabelLines(global_key=self.global_key)

    def lines(self) -> list[bytes]:
        batch, record = self.batch, self.record
        validator = batch.validator
        if validator.documents is not None:
            self.conv = validator.conversation(self.global_key)
            if self.conv is None:
                self.issue(
                    "key",
                    f"data row {self.global_key!r} is not among the conversations given for validation",
                    "check the key and the global key prefix, or add the conversation's document",
                )
                return []
        if record.turn < 0:
            self.issue("turn", f"turn is {record.turn}", "count comparison turns from 0")
            return []
        if record.ranking is not None:
            self._ranking(record.ranking)
        if record.best is not None:
            self._best(record.best)
        if record.good is not None:
            self._good(record.good)
        for name, value in record.classifications.items():
            self._classification(name, value, f"classifications[{name!r}]", prompt=False)
        for name, value in record.prompt_classifications.items():
            self._classification(name, value, f"prompt_classifications[{name!r}]", prompt=True)
        return self.lines_out

    def issue(self, field: str, message: str, fix: str, annotation: str | None = None) -> None:
        self.batch._issue(self.line, self.global_key, field, message, fix, annotation)

    def emit(self, typed: AnnotationLine, origin: str) -> None:
        self.lines_out.extend(self.batch._emit(typed, self.line, self.conv, origin))

    # --- resolution ------------------------------------------------------------------------------

    def response(
        self, model: str, field: str, annotation: str, index: int | None = None
    ) -> tuple[str, str] | None:
        """(message id, parent id) of `model`'s response in the record's turn.

        Problems are reported at `field`, or ``field[index]`` (formatted only then).
        """
        message_id = self.ids.response(self.turn, model)
        parent = self.ids.prompt(self.turn)
        conv = self.conv
        if conv is None or (
            conv.models.get(message_id) == model and message_id in conv.children.get(parent, ())
        ):
            return message_id, parent
        if index is not None:
            field = f"{field}[{index}]"
        turns = conv.turns()
        if self.turn < len(turns):
            parent, answers = turns[self.turn]
            if model in answers:
                return answers[model], parent
            listed = ", ".join(map(repr, answers))
            self.issue(
                field,
                f"model {model!r} has no response in turn {self.turn} of {self.key!r}",
                f"use one of the models of that turn: {listed}",
                annotation,
            )
        else:
            self._no_turn(field, annotation, len(turns))
        return None

    def prompt(self, field: str, annotation: str) -> str | None:
        parent = self.ids.prompt(self.turn)
        conv = self.conv
        if conv is None or conv.roles.get(parent) == "human":
            return parent
        turns = conv.turns()
        if self.turn < len(turns):
            return turns[self.turn][0]
        self._no_turn(field, annotation, len(turns))
        return None

    def _no_turn(self, field: str, annotation: str, count: int) -> None:
        self.issue(
            "turn" if field == "turn" else field,
            f"the conversation {self.key!r} has {count} comparison turn(s); turn {self.turn} does not exist",
            f"use a turn from 0 to {count - 1}" if count else "check the conversation has model responses",
            annotation,
        )

    def _tool(self, field: str) -> ToolSpec | None:
        tool = self.batch.tools[field]
        if isinstance(tool, str):
            self.issue(field, tool, "add the tool to the ontology, or set FeatureNames")
            return None
        return tool

    def _models(
        self, models: list[str], field: str, annotation: str
    ) -> tuple[list[tuple[str, str]], str | None] | None:
        """(message id, model) of each model's response and the parent of the first, or None
        after reporting a model listed twice or without a response in the turn."""
        resolved: list[tuple[str, str]] = []
        parent: str | None = None
        seen: set[str] = set()
        ok = True
        for index, model in enumerate(models):
            if model in seen:
                self.issue(
                    f"{field}[{index}]",
                    f"model {model!r} is listed twice",
                    "list each model once",
                    annotation,
                )
                ok = False
                continue
            seen.add(model)
            found = self.response(model, field, annotation, index)
            if found is None:
                ok = False
            else:
                resolved.append((found[0], model))
                if parent is None:
                    parent = found[1]
        return (resolved, parent) if ok else None

    # --- tools -----------------------------------------------------------------------------------

    def _ranking(self, models: list[str]) -> None:
        tool = self._tool("ranking")
        if tool is None:
            return
        if not models:
            self.issue("ranking", "the ranking is empty", "list the turn's models, best first", tool.name)
            return
        resolved = self._models(models, "ranking", tool.name)
        if resolved is not None:
            pairs, parent = resolved
            self.emit(self.label.message_ranking(tool.name, pairs, parent_message_id=parent), "ranking")

    def _best(self, model: str) -> None:
        tool = self._tool("best")
        if tool is None:
            return
        found = self.response(model, "best", tool.name)
        if found is not None:
            message_id, parent = found
            self.emit(
                self.label.single_selection(tool.name, (message_id, model), parent_message_id=parent), "best"
            )

    def _good(self, models: list[str]) -> None:
        tool = self._tool("good")
        if tool is None:
            return
        resolved = self._models(models, "good", tool.name)
        if resolved is None:
            return
        pairs, parent = resolved
        if parent is None:
            parent = self.prompt("good", tool.name)
        if parent is not None:
            self.emit(self.label.multi_selection(tool.name, pairs, parent_message_id=parent), "good")

    # --- classifications -------------------------------------------------------------------------

    def _classification(self, name: str, value: Any, field: str, *, prompt: bool) -> None:
        spec = self.batch.ontology.features.get(name)
        if not isinstance(spec, ClassificationSpec):
            problem = (
                f"{name!r} is a message tool, not a classification"
                if spec is not None
                else f"the ontology has no classification named {name!r}"
            )
            names = [n for n, f in self.batch.ontology.features.items() if isinstance(f, ClassificationSpec)]
            fix = "use ranking/best/good for tools" if spec is not None else "use one of " + _names(names)
            self.issue(field, problem, fix, name)
            return
        if prompt:
            if not spec.message_scoped:
                self.issue(
                    field,
                    f"{name!r} is a global classification; prompt_classifications are message-scoped",
                    "move it to classifications",
                    name,
                )
                return
            message_id = self.prompt(field, name)
            answer = _Answers(self, name).answer(spec, value, field)
            if message_id is not None and answer is not None:
                self.emit(self._classified(spec, answer, message_id), field)
        elif spec.message_scoped:
            if not isinstance(value, Mapping) or not value:
                self.issue(
                    field,
                    f"{name!r} is message-scoped; answer it per response",
                    'give {"<model>": <answer>, ...}, or use prompt_classifications for the prompt',
                    name,
                )
                return
            for model, per_response in value.items():
                path = f"{field}[{model!r}]"
                found = self.response(str(model), path, name)
                answer = _Answers(self, name).answer(spec, per_response, path)
                if found is not None and answer is not None:
                    self.emit(self._classified(spec, answer, found[0]), path)
        else:
            answer = _Answers(self, name).answer(spec, value, field)
            if answer is not None:
                self.emit(self._classified(spec, answer, None), field)

    def _classified(self, spec: ClassificationSpec, answer: Any, message_id: str | None) -> AnnotationLine:
        if spec.type == "text":
            return self.label.text(spec.name, answer, message_id=message_id)
        if spec.type == "radio":
            return self.label.radio(spec.name, answer, message_id=message_id)
        return self.label.checklist(spec.name, answer, message_id=message_id)


class _Answers:
    """Record answers -> typed classification answers, reporting with record paths."""

    def __init__(self, reader: _RecordReader, annotation: str) -> None:
        self.reader = reader
        self.annotation = annotation
        self.ok = True

    def issue(self, field: str, message: str, fix: str) -> None:
        self.ok = False
        self.reader.issue(field, message, fix, self.annotation)

    def answer(self, spec: ClassificationSpec, value: Any, path: str) -> AnswerValue | None:
        """The classification's answer (text, option or options), or None after reporting why not."""
        result = self._answer(spec, value, path)
        return result if self.ok else None

    def _answer(self, spec: ClassificationSpec, value: Any, path: str) -> Any:
        if spec.type == "text":
            if not isinstance(value, str) or not value.strip():
                self.issue(
                    path, f"{spec.name!r} is a text classification: give a non-empty string", "write the text"
                )
            return value
        if spec.type == "radio":
            if isinstance(value, list):
                self.issue(path, f"{spec.name!r} is a radio classification: give one option", self._fix(spec))
                return None
            return self._option(spec, value, path)
        if spec.type == "checklist":
            if not isinstance(value, list) or not value:
                self.issue(
                    path,
                    f"{spec.name!r} is a checklist classification: give a non-empty list",
                    self._fix(spec),
                )
                return None
            return [self._option(spec, item, f"{path}[{i}]") for i, item in enumerate(value)]
        self.issue(
            path, f"{spec.name!r} is a {spec.type!r} classification, which is not supported", "remove it"
        )
        return None

    def _option(self, spec: ClassificationSpec, value: Any, path: str) -> AnswerObject | None:
        nested: Any = None
        if isinstance(value, Mapping):
            unknown = [k for k in value if k not in ("answer", "classifications")]
            if unknown or "answer" not in value:
                self.issue(
                    path,
                    'an option with nested classifications is {"answer": <option>, "classifications": {...}}',
                    "write it in that form" + (f" (unknown keys: {unknown})" if unknown else ""),
                )
                return None
            nested, value = value.get("classifications"), value["answer"]
            path = f"{path}.answer"
        if not isinstance(value, str):
            self.issue(path, f"an option is named by a string, got {type(value).__name__}", self._fix(spec))
            return None
        option = spec.options.get(value)
        if option is None:
            self.issue(path, f"{spec.name!r} has no option {value!r}", self._fix(spec))
            return None
        if not nested:
            return AnswerObject(name=option.value)
        classifications = self._nested(option.nested, nested, path.removesuffix(".answer"))
        return AnswerObject(name=option.value, classifications=classifications)

    def _nested(self, scope: NestedScope, nested: Any, path: str) -> list[NestedClassification]:
        at = f"{path}.classifications"
        if not isinstance(nested, Mapping):
            self.issue(at, "nested classifications are {<name>: <answer>, ...}", "write them as an object")
            return []
        result = []
        for name, value in nested.items():
            spec = scope.by_name.get(name)
            if spec is None:
                self.issue(
                    f"{at}[{name!r}]",
                    f"no classification {name!r} is nested under this option",
                    "use one of "
                    + (_names(scope.by_name) or "none (the option has no nested classifications)"),
                )
                continue
            answer = self._answer(spec, value, f"{at}[{name!r}]")
            result.append(NestedClassification(name=spec.name, answer=answer))
        return result

    @staticmethod
    def _fix(spec: ClassificationSpec) -> str:
        return "use one of " + _names(spec.option_values())


def _names(names: Iterable[str]) -> str:
    listed = list(names)
    shown = ", ".join(map(repr, listed[:8]))
    return shown + (", ..." if len(listed) > 8 else "")


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
            except msgspec.DecodeError:
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
