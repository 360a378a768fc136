"""Responses in the team's own shape: a declared field mapping joins them to a fixed evaluation set.

A team's evaluation harness writes one JSONL per model version in its own field names; the
provider's record format (`types`) wants one conversation per key with the responses keyed by
model config name. A mapping spec (a dict in the DAG, or YAML/JSON text) names where each field
lives in the team's lines, and `join_responses` turns an evaluation set plus response files into
conversation records that go through the ordinary builder (`ConversationBatch`), so every check
of a hand-written record applies to a mapped one too.

The spec's format is in `mapping_spec`.

Joining reads the whole evaluation set, then the response files, keeping one record per prompt in
memory (the size of the response files, roughly). Every problem is collected, each naming the file,
line and key, the field path and the fix: a required field without a value, a response to a key
the evaluation set does not have, two responses of one model to one key, and a prompt some model
did not answer (usually a harness failure; `allow_missing_responses=True` uploads the prompt with
the other models' responses and lists what is missing in `JoinedRound.missing`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from airflow_mmc_provider.mmc.conversation.build import ConversationBatch
from airflow_mmc_provider.mmc.conversation.mapping_spec import (
    MISSING,
    FieldMapping,
    FieldPath,
    HistoryFields,
    PromptFields,
    file_stem,
    parse_mapping,
    parse_mapping_text,
)
from airflow_mmc_provider.mmc.errors import IssueReport, ValidationError, ValidationIssue, record_label
from airflow_mmc_provider.mmc.jsonl import DECODE_ERRORS, not_json

# The record fields the response files provide; an evaluation set in the record format leaves them out.
_RESPONSE_FORMS = ("responses", "turns", "row_data")

Line = bytes | str | Mapping[str, Any]
"""One input line: raw JSONL bytes or text, or an already decoded object (records from XCom)."""
Source = tuple[str, Iterable[Line]]
"""A named input: its name (a path, for messages and `file_stem`) and its lines."""


# --- joining -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JoinedRound:
    """The evaluation set joined with its responses.

    `records` are (evaluation-set line, record dict) in evaluation-set order; `missing` lists the
    (key, model) pairs without a response when they were allowed; `issues` are the join's problems
    (none means `records` are ready for the builder).
    """

    evaluation_set: str
    records: list[tuple[int, dict[str, Any]]]
    models: list[str]
    missing: list[tuple[str, str]]
    issues: list[ValidationIssue]


def join_responses(
    evaluation_set: Source,
    responses: Iterable[Source],
    mapping: Any,
    *,
    allow_missing_responses: bool = False,
) -> JoinedRound:
    """One conversation record per prompt of the evaluation set, responses keyed by model name.

    `mapping` is a spec dict or a `FieldMapping`; an invalid spec raises `ValidationError` at once.
    """
    fields = parse_mapping(mapping)
    join = _Join(fields, evaluation_set[0])
    join.read_prompts(evaluation_set[1])
    for name, lines in responses:
        join.read_responses(name, lines)
    if not join.models:  # then every prompt lacks every response: one problem, not one per prompt
        report = IssueReport(subject="responses")
        report.add("", "no response lines were given", "point responses at this week's response files")
        return JoinedRound(join.name, [], [], [], [*join.issues, *report.issues])
    return join.finish(allow_missing_responses)


def mapped_payloads(
    joined: JoinedRound, *, global_key_prefix: str = "", round_key: str = ""
) -> Iterator[dict[str, Any]]:
    """The upsert payloads of a joined round, validated by the builder like any records.

    Payloads are yielded only while no problem has been seen; at the end, the join's problems and
    the builder's (labelled with the evaluation set's name) are raised together, so a consumer that
    spools before uploading (as the client does) uploads nothing from a bad round.
    """
    batch = ConversationBatch(global_key_prefix=global_key_prefix, round_key=round_key)
    for line, record in joined.records:
        payload = batch.add(record, line)
        if payload is not None and not joined.issues:
            yield payload
    named = [
        dataclasses.replace(issue, record=f"{joined.evaluation_set} {issue.record}") for issue in batch.issues
    ]
    issues = _collapsed([*joined.issues, *named])
    if issues:
        raise ValidationError(issues, subject=f"{joined.evaluation_set} with its responses")


class _Join:
    """The state of one join: records by key, who answered what, and the problems found."""

    def __init__(self, mapping: FieldMapping, evaluation_set: str) -> None:
        self.mapping = mapping
        self.name = evaluation_set
        self.records: dict[str, tuple[int, dict[str, Any]]] = {}
        self.broken: set[str] = set()  # keys of prompts with problems: joined, not built (no double report)
        self.answered: dict[tuple[str, str], tuple[str, int]] = {}  # (key, model) -> (file, line)
        self.models: dict[str, str] = {}  # model -> the first file with its responses
        self.issues: list[ValidationIssue] = []
        self._decoder = msgspec.json.Decoder()

    def read_prompts(self, lines: Iterable[Line]) -> None:
        for number, value, report in self._lines(self.name, lines):
            record = self._prompt(value, report)
            if record is None:
                continue
            key = report.key or ""
            first = self.records.setdefault(key, (number, record))[0]
            if first != number:
                report.add(
                    "key", f"duplicate key {key!r}: line {first} has it too", "give each prompt its own key"
                )
            elif report.issues:
                self.broken.add(key)

    def _prompt(self, value: Any, report: IssueReport) -> dict[str, Any] | None:
        fields = self.mapping.prompts
        if fields is None:
            key = self._key(value, _RECORD_KEY, "the record format", report)
            present = [name for name in _RESPONSE_FORMS if name in value]
            if present:
                report.add(
                    present[0],
                    f"the evaluation set holds prompts, but this line has {present[0]}",
                    "leave responses to the response files, or map the evaluation set with a prompts section",
                )
            # a line with its own responses is still a prompt: its responses match it, it is not built
            return None if key is None else {**value, "responses": {}}
        key = self._key(value, fields.key, "prompts.key", report)
        if key is None:
            return None
        return _PromptReader(fields, report).record(value, key)

    def read_responses(self, name: str, lines: Iterable[Line]) -> None:
        fields = self.mapping.responses
        model_of = fields.model.in_file(name)
        for number, value, report in self._lines(name, lines):
            key = self._key(value, fields.key, "responses.key", report)
            model = model_of(value)
            text = fields.text.get(value)
            if model is MISSING or (isinstance(model, str) and not model.strip()):
                _missing(report, fields.model.describe(), "responses.model")
            elif not isinstance(model, str):
                report.add(
                    fields.model.describe(),
                    "the model name is not text",
                    "give the model config name as a string",
                )
            if not _is_text(text):
                _missing(report, fields.text.text, "responses.text", text)
            if key is None or not isinstance(model, str) or not model.strip():
                continue
            self.models.setdefault(model, name)
            # A response with a problem still counts as given: its prompt is not also reported missing.
            self._answer(key, model, text if not report.issues else None, (name, number), report)

    def _answer(
        self, key: str, model: str, text: str | None, where: tuple[str, int], report: IssueReport
    ) -> None:
        found = self.records.get(key)
        if found is None:
            report.add(
                self.mapping.responses.key.text,
                f"key {key!r} is not in the evaluation set {self.name}",
                "check the key path of the responses, or add the prompt to the evaluation set",
            )
            return
        first = self.answered.setdefault((key, model), where)
        if first != where:
            report.add(
                self.mapping.responses.key.text,
                f"a second response of model {model!r} to key {key!r} (the first is {first[0]} line {first[1]})",
                "keep one response per model and key",
            )
            return
        if text is not None:
            found[1]["responses"][model] = text

    def finish(self, allow_missing: bool) -> JoinedRound:
        missing: list[tuple[str, str]] = []
        for key, (number, _) in self.records.items():
            for model, first_file in self.models.items():
                if (key, model) in self.answered:
                    continue
                missing.append((key, model))
                if not allow_missing:
                    report = IssueReport(key, number, subject=f"{self.name} {record_label(key, number)}")
                    report.add(
                        "responses",
                        f"no response of model {model!r} (its responses are in {first_file})",
                        "add the response, or set allow_missing_responses=True to upload the prompt without it",
                    )
                    self.issues.extend(report.issues)
        records = [found for key, found in self.records.items() if key not in self.broken]
        return JoinedRound(
            self.name, records, list(self.models), missing if allow_missing else [], self.issues
        )

    def _lines(self, name: str, lines: Iterable[Line]) -> Iterator[tuple[int, Any, IssueReport]]:
        """(line number, decoded object, its report) of each non-blank line; reports are collected."""
        for number, raw in enumerate(lines, start=1):
            if isinstance(raw, bytes | str) and not raw.strip():
                continue
            report = _LineReport(name, number)
            value = self._decode(raw, report)
            if value is not None:
                yield number, value, report
            self.issues.extend(report.issues)

    def _decode(self, raw: Line, report: IssueReport) -> dict[str, Any] | None:
        try:
            value = dict(raw) if isinstance(raw, Mapping) else self._decoder.decode(raw)
        except DECODE_ERRORS as exc:
            report.add("", *not_json(exc, raw if isinstance(raw, bytes | str) else None))
            return None
        if not isinstance(value, dict):
            report.add("", "the line is not a JSON object", "write one JSON object per line")
            return None
        return value

    @staticmethod
    def _key(value: dict[str, Any], path: FieldPath, spec_field: str, report: IssueReport) -> str | None:
        key = path.get(value)
        if key is MISSING or isinstance(key, bool) or not isinstance(key, str | int):
            _missing(report, path.text, spec_field, key, expected="a string or integer key")
            return None
        report.key = str(key)
        return report.key


_RECORD_KEY = FieldPath("key", ("key",))


class _LineReport(IssueReport):
    """Issues of one line of a named file, labelled ``<file> line <n> (key '<k>')`` once the key is known."""

    __slots__ = ("source",)

    def __init__(self, source: str, line: int) -> None:
        super().__init__(None, line)
        self.source = source

    def add(self, field: str, message: str, fix: str) -> None:
        label = f"{self.source} {record_label(self.key, self.line)}"
        self.issues.append(ValidationIssue(label, field, message, fix, key=self.key, line=self.line))


class _PromptReader:
    """A mapped evaluation-set line -> the prompt part of a conversation record."""

    def __init__(self, fields: PromptFields, report: IssueReport) -> None:
        self.fields = fields
        self.report = report

    def record(self, value: dict[str, Any], key: str) -> dict[str, Any]:
        fields = self.fields
        files = self._files(value) if fields.files is not None else []
        text = fields.text.get(value)
        if not _is_text(text) and not (files and text is MISSING):
            _missing(self.report, fields.text.text, "prompts.text", text)
        prompt: dict[str, Any] = {"text": text if _is_text(text) else None, "files": files}
        record: dict[str, Any] = {"key": key, "prompt": prompt, "responses": {}}
        if fields.history is not None:
            record["history"] = self._history(value, fields.history)
        metadata = {name: path.get(value) for name, path in fields.metadata.items()}
        record["metadata"] = {name: found for name, found in metadata.items() if found is not MISSING}
        return record

    def _files(self, value: dict[str, Any]) -> list[dict[str, Any]]:
        spec = self.fields.files
        assert spec is not None
        found = spec.path.get(value)
        items = [] if found is MISSING else found if isinstance(found, list) else [found]
        files = []
        for index, item in enumerate(items):
            file = spec.file_of(item)
            if file is None:
                _missing(self.report, f"{spec.path.text}.{index}.{spec.url.text}", "prompts.files.url")
            else:
                files.append(file)
        return files

    def _history(self, value: dict[str, Any], spec: HistoryFields) -> list[dict[str, Any]]:
        found = spec.path.get(value)
        if found is MISSING:
            return []
        if not isinstance(found, list):
            self.report.add(
                spec.path.text, "expected a list of messages", "point prompts.history at the list"
            )
            return []
        turns = []
        for index, item in enumerate(found):
            turn = spec.turn_of(item)
            if turn["role"] is None:
                _missing(self.report, f"{spec.path.text}.{index}.{spec.role.text}", "prompts.history.role")
            turns.append(turn)
        return turns


_SAME_PROBLEM_SHOWN = 3  # lines shown of one problem met on many lines (a misnamed field, usually)


def _collapsed(issues: list[ValidationIssue]) -> list[ValidationIssue]:
    """The issues with a problem repeated on many lines shown on its first few, then one line
    naming how many more had it: a misnamed field is one mistake, not one per line."""
    groups: dict[tuple[str, str, str], list[ValidationIssue]] = {}
    for issue in issues:
        groups.setdefault((issue.field, issue.message, issue.fix), []).append(issue)
    shown = {id(issue) for group in groups.values() for issue in group[:_SAME_PROBLEM_SHOWN]}
    kept = [issue for issue in issues if id(issue) in shown]
    for (field, message, fix), group in groups.items():
        rest = group[_SAME_PROBLEM_SHOWN:]
        if rest:
            where = ", ".join(issue.record for issue in rest[:3]) + (", ..." if len(rest) > 3 else "")
            kept.append(
                ValidationIssue(f"{len(rest)} more line(s)", field, f"the same: {message} ({where})", fix)
            )
    return kept


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _missing(
    report: IssueReport, path: str, spec_field: str, found: Any = MISSING, *, expected: str = "text"
) -> None:
    """Report a required field without a usable value: the path in the line and the spec field."""
    if found is MISSING:
        message = f"no value at {path!r} (mapped by {spec_field})"
    else:
        message = f"expected {expected} at {path!r} (mapped by {spec_field}), found {found!r:.60}"
    report.add(
        path,
        message,
        f"give every line a value at {path!r}, or point {spec_field} at the field that holds it",
    )


__all__ = [
    "FieldMapping",
    "JoinedRound",
    "Line",
    "Source",
    "file_stem",
    "join_responses",
    "mapped_payloads",
    "parse_mapping",
    "parse_mapping_text",
]
