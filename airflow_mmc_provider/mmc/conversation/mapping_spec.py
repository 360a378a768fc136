"""The mapping spec: where a team's JSONL lines keep the fields of a conversation record.

`parse_mapping` validates a spec (a dict, or YAML/JSON text through `parse_mapping_text`) into a
`FieldMapping`, reporting unknown fields (with the closest known name), missing required ones and
paths that are not paths, each under its dotted spec field. `mapping` uses it to join files.

Spec::

    prompts:                  # the evaluation set's lines; leave out when they are in the record format
      key: id                 # required: the prompt's key (string or integer)
      text: input.prompt      # required: the prompt text (may be missing on a line that has files)
      files: input.images     # optional: a list (or one) of URLs or objects; or the long form
      #   {path: input.images, url: href, type: mime}   (url defaults to "url"; without type the
      #   MIME type follows from the URL's extension)
      history: input.context  # optional: earlier messages, each {role: user|assistant, content: ...};
      #   or {path: ..., role: role, text: content, model: model} to name the item fields
      metadata:               # optional: metadata field name -> path; a missing value is left out
        category: category
    responses:                # each line of a response file
      key: prompt_id          # required: the key of the prompt answered
      model: {from: file_stem}   # required: a path ("model.name"), the response file's name without
      #   its extension ({from: file_stem}, for one file per model version), or a constant ({value: x})
      text: output.text       # required: the response text

Paths are dotted field names; a segment of digits indexes a list (``messages.0.content``). A field
whose name contains a dot cannot be reached. Null counts as missing.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from airflow_mmc_provider.mmc.errors import IssueReport, ValidationError
from airflow_mmc_provider.mmc.jsonl import parse_spec_text

SPEC_SUBJECT: Final = "mapping spec"
MISSING: Final = object()  # no value at a path (absent, null, or the path runs through a non-container)


# --- the spec ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldPath:
    """A dotted path into a decoded JSON line."""

    text: str
    steps: tuple[str, ...]

    def get(self, value: Any) -> Any:
        """The value at this path, or `MISSING`."""
        for step in self.steps:
            if isinstance(value, dict):
                value = value.get(step, MISSING)
            elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
                value = value[int(step)]
            else:
                return MISSING
            if value is None or value is MISSING:
                return MISSING
        return value


@dataclass(frozen=True, slots=True)
class FilesFields:
    """Prompt files: the list (or single item) and, inside each item, the URL and MIME type."""

    path: FieldPath
    url: FieldPath
    type: FieldPath | None = None

    def file_of(self, item: Any) -> dict[str, Any] | None:
        """One item as the record's file (`FileRef` fields), or None when it has no URL.

        A bare string item is the URL; without a MIME type the builder takes it from the extension.
        """
        url = item if isinstance(item, str) else self.url.get(item)
        if not isinstance(url, str):
            return None
        mime_type = None if self.type is None or isinstance(item, str) else self.type.get(item)
        return {"uri": url, "mime_type": None if mime_type is MISSING else mime_type}


@dataclass(frozen=True, slots=True)
class HistoryFields:
    """Earlier messages: the list and, inside each message, role, text and the answering model."""

    path: FieldPath
    role: FieldPath
    text: FieldPath
    model: FieldPath | None = None

    def turn_of(self, item: Any) -> dict[str, Any]:
        """One message as the record's history turn (`HistoryTurn` fields); a missing role is None."""
        role, text = self.role.get(item), self.text.get(item)
        turn = {"role": None if role is MISSING else role, "text": None if text is MISSING else text}
        model = MISSING if self.model is None else self.model.get(item)
        if model is not MISSING:
            turn["model"] = model
        return turn


@dataclass(frozen=True, slots=True)
class PromptFields:
    """Where an evaluation-set line keeps the prompt's parts; metadata maps field name -> path."""

    key: FieldPath
    text: FieldPath
    metadata: dict[str, FieldPath] = field(default_factory=dict)
    files: FilesFields | None = None
    history: HistoryFields | None = None


@dataclass(frozen=True, slots=True)
class ModelName:
    """Where a response's model config name comes from: a path, the file's stem, or a constant."""

    path: FieldPath | None = None
    file_stem: bool = False
    value: str | None = None

    def in_file(self, source: str) -> Callable[[Any], Any]:
        """The model name of a line of file `source` (a file's stem is taken once, not per line)."""
        if self.path is not None:
            return self.path.get
        name = file_stem(source) if self.file_stem else self.value
        return lambda _line: name

    def describe(self) -> str:
        """How issues name the source: the path, or where the name was taken from."""
        if self.path is not None:
            return self.path.text
        return "the file name" if self.file_stem else "the constant model name"


@dataclass(frozen=True, slots=True)
class ResponseFields:
    """Where a response line keeps the key it answers, its model config name and its text."""

    key: FieldPath
    model: ModelName
    text: FieldPath


@dataclass(frozen=True, slots=True)
class FieldMapping:
    """A validated mapping spec; `prompts` is None when the evaluation set is in the record format."""

    responses: ResponseFields
    prompts: PromptFields | None = None


def file_stem(name: str) -> str:
    """A file's name without folder and last extension: ``.../atlas-large-2026-04-06.jsonl`` ->
    ``atlas-large-2026-04-06`` (a version's dots stay: ``m-v1.5.jsonl`` -> ``m-v1.5``)."""
    base = name.rstrip("/").rsplit("/", 1)[-1]
    stem, dot, _ = base.rpartition(".")
    return stem if dot and stem else base


def parse_mapping_text(text: str, *, source: str = SPEC_SUBJECT) -> Any:
    """A spec from YAML or JSON text (JSON is YAML); a syntax error names `source`."""
    return parse_spec_text(text, fmt="yaml", source=source, fix="fix the syntax of the mapping file")


def parse_mapping(spec: Any, *, source: str = SPEC_SUBJECT) -> FieldMapping:
    """The validated mapping of a spec dict; raises `ValidationError` listing every problem
    (named by `source`: the mapping file, when the spec came from one)."""
    if isinstance(spec, FieldMapping):
        return spec
    report = IssueReport(subject=source)
    mapping = _SpecReader(report).mapping(spec)
    if report.issues or mapping is None:
        raise ValidationError(report.issues, subject=source)
    return mapping


class _SpecReader:
    """Reads a spec into `FieldMapping`, reporting each problem under its dotted spec field."""

    def __init__(self, report: IssueReport) -> None:
        self.report = report

    def mapping(self, spec: Any) -> FieldMapping | None:
        top = self._object(spec, "", {"prompts", "responses"}, {"responses"})
        if top is None:
            return None
        responses = self._responses(top.get("responses"))
        prompts = None if top.get("prompts") is None else self._prompts(top["prompts"])
        return FieldMapping(responses, prompts) if responses is not None else None

    def _responses(self, spec: Any) -> ResponseFields | None:
        fields = self._object(spec, "responses", {"key", "model", "text"}, {"key", "model", "text"})
        if fields is None:
            return None
        key, text = (
            self._path(fields.get("key"), "responses.key"),
            self._path(fields.get("text"), "responses.text"),
        )
        model = self._model(fields.get("model"))
        return ResponseFields(key, model, text) if key and text and model else None

    def _model(self, spec: Any) -> ModelName | None:
        where = "responses.model"
        if isinstance(spec, str):
            path = self._path(spec, where)
            return ModelName(path=path) if path else None
        fields = self._object(spec, where, {"path", "from", "value"}, set())
        if fields is None:
            return None
        if len(fields) != 1:
            self.report.add(
                where,
                f"give exactly one of path, from, value (got {sorted(fields) or 'none'})",
                "e.g. model: {from: file_stem} for one file per model version, or model: model.name",
            )
            return None
        if "path" in fields:
            path = self._path(fields.get("path"), f"{where}.path")
            return ModelName(path=path) if path else None
        if "from" in fields:
            if fields["from"] != "file_stem":
                self.report.add(f"{where}.from", f"unknown source {fields['from']!r}", "use from: file_stem")
                return None
            return ModelName(file_stem=True)
        value = fields["value"]
        if not isinstance(value, str) or not value.strip():
            self.report.add(f"{where}.value", "expected a model config name", "give the name as a string")
            return None
        return ModelName(value=value)

    def _prompts(self, spec: Any) -> PromptFields | None:
        known = {"key", "text", "files", "history", "metadata"}
        fields = self._object(spec, "prompts", known, {"key", "text"})
        if fields is None:
            return None
        key, text = (
            self._path(fields.get("key"), "prompts.key"),
            self._path(fields.get("text"), "prompts.text"),
        )
        files = self._files(fields["files"]) if fields.get("files") is not None else None
        history = self._history(fields["history"]) if fields.get("history") is not None else None
        metadata = self._metadata(fields.get("metadata"))
        if not (key and text) or self.report.issues:
            return None
        return PromptFields(key, text, metadata, files, history)

    def _files(self, spec: Any) -> FilesFields | None:
        where = "prompts.files"
        fields = (
            {"path": spec}
            if isinstance(spec, str)
            else self._object(spec, where, {"path", "url", "type"}, {"path"})
        )
        if fields is None:
            return None
        path, url = (
            self._path(fields.get("path"), f"{where}.path"),
            self._path(fields.get("url", "url"), f"{where}.url"),
        )
        kind = None if fields.get("type") is None else self._path(fields["type"], f"{where}.type")
        return FilesFields(path, url, kind) if path and url else None

    def _history(self, spec: Any) -> HistoryFields | None:
        where = "prompts.history"
        known = {"path", "role", "text", "model"}
        fields = {"path": spec} if isinstance(spec, str) else self._object(spec, where, known, {"path"})
        if fields is None:
            return None
        path = self._path(fields.get("path"), f"{where}.path")
        role = self._path(fields.get("role", "role"), f"{where}.role")
        text = self._path(fields.get("text", "content"), f"{where}.text")
        model = None if fields.get("model") is None else self._path(fields["model"], f"{where}.model")
        return HistoryFields(path, role, text, model) if path and role and text else None

    def _metadata(self, spec: Any) -> dict[str, FieldPath]:
        if spec is None:
            return {}
        if not isinstance(spec, Mapping):
            self.report.add(
                "prompts.metadata", "expected metadata field name -> path", "e.g. category: category"
            )
            return {}
        paths = {str(name): self._path(path, f"prompts.metadata.{name}") for name, path in spec.items()}
        return {name: path for name, path in paths.items() if path is not None}

    def _object(self, spec: Any, where: str, known: set[str], required: set[str]) -> dict[str, Any] | None:
        """The spec object at `where`, after reporting unknown and missing fields."""
        label = where or "the spec"
        if not isinstance(spec, Mapping):
            self.report.add(
                where, f"{label} must be an object of fields", "see the mapping format in the README"
            )
            return None
        for name in sorted(set(map(str, spec)) - known):
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            self.report.add(
                _join(where, name), f"unknown field {name!r}", f"{hint}the fields are {sorted(known)}"
            )
        for name in sorted(required - set(spec)):
            self.report.add(_join(where, name), f"{_join(where, name)} is required", _REQUIRED_FIX[name])
        return {str(name): value for name, value in spec.items()}

    def _path(self, spec: Any, where: str) -> FieldPath | None:
        if spec is None:
            return None  # reported as missing by `_object`
        steps = tuple(spec.split(".")) if isinstance(spec, str) else ()
        if not steps or any(not step.strip() for step in steps):
            self.report.add(
                where, f"{spec!r} is not a field path", "give dotted field names, e.g. output.text"
            )
            return None
        return FieldPath(spec, steps)


_REQUIRED_FIX = {
    "responses": "add a responses section naming key, model and text in the response lines",
    "key": "give the path of the key in the lines, e.g. key: id",
    "text": "give the path of the text in the lines, e.g. text: output.text",
    "model": "give a path (model: model.name), model: {from: file_stem} or model: {value: <name>}",
    "path": "give the path of the list in the lines",
}


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name
