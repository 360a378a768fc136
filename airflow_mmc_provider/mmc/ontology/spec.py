"""Ontology specs for multimodal chat evaluation: written by hand, normalized as Labelbox stores them.

Spec format (a dict, or a JSON or YAML file)::

    tools:                              # message tools
      - name: Rank the responses
        type: message-ranking           # or message-single-selection, message-multi-selection
                                        # (short forms: ranking, single-selection, multi-selection)
        required: false                 # optional, default false
        color: "#ff0000"                # optional; assigned as the SDK does when left out
        classifications: [...]          # optional nested classifications
    classifications:
      - name: Choose the best response
        type: radio                     # radio, checklist or text (alias: free-text)
        scope: global                   # optional: global (default) or message (alias: index);
                                        # only on top-level classifications
        required: false
        instructions: Pick one          # optional, defaults to the name
        ui_mode: hotkey                 # optional, radio/checklist: hotkey or searchable
        likert_scale: false             # optional, radio only
        options:                        # radio and checklist need at least one; text has none
          - Response A                  # a string is the option's value (and label)
          - value: Tie
            label: It's a tie           # optional, defaults to the value
            classifications: [...]      # nested under the option, at most 10 levels in all

`build_ontology` turns a spec into exactly the dict `labelbox.OntologyBuilder.asdict()` produces
for the same ontology (wire reference 4.2; a differential test against the SDK pins this), so an
ontology created by this provider and one created with the SDK are indistinguishable. Every
problem of a spec is reported at once, each with its path (``classifications[1].options[0]...``).

Labelbox refers to features by name in annotation imports, so names must be unique among the
top-level tools and classifications together, among the nested classifications of one tool or
option, and option values within a classification.

`index.OntologyIndex` compiles a normalized ontology as the server returns it (with
`featureSchemaId` and `schemaNodeId` filled in) to look features up by name or id, and
`diff.diff_ontologies` says how an existing ontology differs from a spec, ignoring server ids.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airflow_mmc_provider.mmc.errors import IssueReport, ValidationError
from airflow_mmc_provider.mmc.jsonl import parse_spec_text
from airflow_mmc_provider.mmc.ontology.index import tool_color

TOOL_TYPES = {
    "message-single-selection": "message-single-selection",
    "message-multi-selection": "message-multi-selection",
    "message-ranking": "message-ranking",
    "single-selection": "message-single-selection",
    "multi-selection": "message-multi-selection",
    "ranking": "message-ranking",
}
CLASSIFICATION_TYPES = {"radio": "radio", "checklist": "checklist", "text": "text", "free-text": "text"}
SCOPES = {"global": "global", "message": "index", "index": "index"}
UI_MODES = frozenset({"hotkey", "searchable"})
_OPTION_TYPES = frozenset({"radio", "checklist"})
_TOP_KEYS = frozenset({"tools", "classifications"})
_TOOL_KEYS = frozenset({"name", "type", "required", "color", "classifications"})
_CLASSIFICATION_KEYS = frozenset(
    {"name", "type", "scope", "required", "instructions", "options", "ui_mode", "likert_scale"}
)
_OPTION_KEYS = frozenset({"value", "label", "classifications"})
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_SUBJECT = "ontology spec"
# Labelbox documents no limit, and a 300-level spec fails on its server: refused here at a depth
# no hand-written ontology reaches (a top-level or a tool's classification is level 1).
MAX_CLASSIFICATION_LEVELS = 10


# --- loading -------------------------------------------------------------------------------------


def parse_ontology_spec(text: str, *, fmt: str = "yaml", source: str = _SUBJECT) -> Any:
    """A spec from JSON or YAML text; a syntax error becomes a `ValidationError` naming `source`."""
    if fmt not in {"json", "yaml"}:
        raise ValueError(f"unknown ontology spec format {fmt!r}; use 'json' or 'yaml'")
    return parse_spec_text(text, fmt=fmt, source=source, fix=f"fix the {fmt.upper()} syntax")


def load_ontology_spec(path: str | os.PathLike[str]) -> Any:
    """A spec from a `.json`, `.yaml` or `.yml` file.

    Objects with `read_text` (pathlib paths, Airflow's `ObjectStoragePath`) are read through it,
    so specs can live in any object storage without this module knowing about it.
    """
    name = str(path)
    suffix = name.rsplit(".", 1)[-1].lower()
    if suffix not in {"json", "yaml", "yml"}:
        raise ValueError(f"{name!r}: ontology specs are .json, .yaml or .yml files")
    reader = getattr(path, "read_text", None)
    text = reader(encoding="utf-8") if callable(reader) else Path(path).read_text(encoding="utf-8")
    return parse_ontology_spec(text, fmt="json" if suffix == "json" else "yaml", source=name)


# --- building ------------------------------------------------------------------------------------


def build_ontology(spec: Any) -> dict[str, Any]:
    """The normalized ontology for a spec; raises `ValidationError` listing every problem."""
    report = IssueReport(subject=_SUBJECT)
    normalized = _SpecReader(report).read(spec)
    if report.issues:
        raise ValidationError(report.issues, subject=_SUBJECT)
    return normalized


class _SpecReader:
    """Validates a spec and builds its normalized form in one walk, reporting into `report`."""

    def __init__(self, report: IssueReport) -> None:
        self.report = report

    def read(self, spec: Any) -> dict[str, Any]:
        if not isinstance(spec, Mapping):
            self.report.add(
                "", "the spec is not a mapping", "give a mapping with tools and/or classifications"
            )
            return {"tools": [], "classifications": []}
        self._unknown_keys(spec, _TOP_KEYS, "")
        tools = [self._tool(t, f"tools[{i}]") for i, t in enumerate(self._list(spec, "tools", ""))]
        classifications = [
            self._classification(c, f"classifications[{i}]", nested=False)
            for i, c in enumerate(self._list(spec, "classifications", ""))
        ]
        names = [(f"tools[{i}].name", t["name"]) for i, t in enumerate(tools)]
        names += [(f"classifications[{i}].name", c["name"]) for i, c in enumerate(classifications)]
        self._unique(names, "top-level feature name", "rename one of them: annotations name features by it")
        for index, tool in enumerate(tools):
            if tool["color"] is None:
                tool["color"] = tool_color(index, len(tools))
        return {"tools": tools, "classifications": classifications}

    def _tool(self, spec: Any, path: str) -> dict[str, Any]:
        if not self._is_mapping(spec, path, "a tool"):
            return {"tool": None, "name": "", "color": "", "classifications": []}  # reported; no follow-ups
        self._unknown_keys(spec, _TOOL_KEYS, path)
        return {
            "tool": self._choice(spec, "type", TOOL_TYPES, path, "tool"),
            "name": self._name(spec, path),
            "required": self._flag(spec, "required", path),
            "color": self._color(spec, path),
            "classifications": self._nested(spec, path),
            "schemaNodeId": None,
            "featureSchemaId": None,
            "attributes": None,
        }

    def _classification(self, spec: Any, path: str, *, nested: bool) -> dict[str, Any]:
        if not self._is_mapping(spec, path, "a classification"):
            return {"type": None, "name": "", "options": []}  # reported; no follow-ups
        self._unknown_keys(spec, _CLASSIFICATION_KEYS, path)
        kind = self._choice(spec, "type", CLASSIFICATION_TYPES, path, "classification")
        name = self._name(spec, path)
        instructions = spec.get("instructions", name)
        if not isinstance(instructions, str):
            self.report.add(_join(path, "instructions"), "instructions must be a string", "quote it")
        result: dict[str, Any] = {
            "type": kind,
            "instructions": instructions,
            "name": name,
            "required": self._flag(spec, "required", path),
            "options": self._options(spec, kind, path),
            "schemaNodeId": None,
            "featureSchemaId": None,
            "attributes": None,
        }
        result.update(self._display(spec, kind, path))
        scope = self._scope(spec, path, nested=nested)
        if not nested:
            result["scope"] = scope
        return result

    def _display(self, spec: Mapping[str, Any], kind: str, path: str) -> dict[str, Any]:
        """`isLikertScale` and `uiMode`, which the SDK writes only where they apply."""
        extra: dict[str, Any] = {}
        likert = self._flag(spec, "likert_scale", path)
        if "likert_scale" in spec and kind != "radio":
            self.report.add(_join(path, "likert_scale"), "likert_scale applies to radio only", "remove it")
        elif likert:
            extra["isLikertScale"] = True
        ui_mode = spec.get("ui_mode")
        if ui_mode is None:
            return extra
        if kind not in _OPTION_TYPES:
            self.report.add(
                _join(path, "ui_mode"), "ui_mode applies to radio and checklist only", "remove it"
            )
        elif not isinstance(ui_mode, str) or ui_mode not in UI_MODES:
            self.report.add(
                _join(path, "ui_mode"), f"unknown ui_mode {ui_mode!r}", "use hotkey or searchable"
            )
        else:
            extra["uiMode"] = ui_mode
        return extra

    def _scope(self, spec: Mapping[str, Any], path: str, *, nested: bool) -> str:
        if "scope" not in spec:
            return "global"
        if nested:
            self.report.add(
                _join(path, "scope"),
                "scope is only allowed on top-level classifications (nested ones follow their parent)",
                "remove it",
            )
            return "global"
        scope = spec["scope"]
        if not isinstance(scope, str) or scope not in SCOPES:
            self.report.add(_join(path, "scope"), f"bad scope {scope!r}", "use global or message")
            return "global"
        return SCOPES[scope]

    def _options(self, spec: Mapping[str, Any], kind: str, path: str) -> list[dict[str, Any]]:
        raw = self._list(spec, "options", path)
        if kind in _OPTION_TYPES and not raw:
            self.report.add(
                _join(path, "options"), f"a {kind} classification needs options", "add at least one"
            )
        if kind == "text" and raw:
            self.report.add(_join(path, "options"), "text classifications have no options", "remove them")
        at = _join(path, "options")
        options = [self._option(o, f"{at}[{i}]") for i, o in enumerate(raw)]
        values = [(f"{at}[{i}].value", o["value"]) for i, o in enumerate(options)]
        self._unique(values, "option value", "give each option its own value")
        return options

    def _option(self, spec: Any, path: str) -> dict[str, Any]:
        if isinstance(spec, str | int | float | bool):
            spec = {"value": spec}  # a bare value; non-strings are reported by `_text`
        if not self._is_mapping(spec, path, "an option", allow="a string or "):
            return {"value": "", "options": []}  # reported; no follow-ups
        self._unknown_keys(spec, _OPTION_KEYS, path)
        value = self._text(spec, "value", path, required=True)
        label = self._text(spec, "label", path, required=False)
        return {
            "schemaNodeId": None,
            "featureSchemaId": None,
            "label": label if label is not None else value,
            "value": value,
            "options": self._nested(spec, path),
        }

    def _nested(self, spec: Mapping[str, Any], path: str) -> list[dict[str, Any]]:
        at = _join(path, "classifications")
        given = self._list(spec, "classifications", path)
        if given and at.count("classifications") > MAX_CLASSIFICATION_LEVELS:  # levels: the path's
            self.report.add(
                at,
                f"classifications nested more than {MAX_CLASSIFICATION_LEVELS} levels deep",
                "flatten the ontology: Labelbox's editor and exports are not made for deeper trees",
            )
            return []
        nested = [self._classification(c, f"{at}[{i}]", nested=True) for i, c in enumerate(given)]
        names = [(f"{at}[{i}].name", c["name"]) for i, c in enumerate(nested)]
        self._unique(names, "name among sibling classifications", "rename one of them")
        return nested

    # --- field readers: each reports its own problem and returns a usable value ----------------

    def _name(self, spec: Mapping[str, Any], path: str) -> str:
        return self._text(spec, "name", path, required=True) or ""

    def _text(self, spec: Mapping[str, Any], key: str, path: str, *, required: bool) -> Any:
        value = spec.get(key)
        if value is None:
            if required:
                self.report.add(_join(path, key), f"{key} is missing", f"give a non-empty {key}")
            return "" if required else None
        if not isinstance(value, str):
            hint = " (YAML reads yes/no/on/off as booleans and bare numbers as numbers)"
            self.report.add(
                _join(path, key),
                f"{key} must be a string, got {type(value).__name__}{hint}",
                f"quote it: '{value}'",
            )
            return str(value)
        if not value.strip():
            self.report.add(_join(path, key), f"{key} is empty", f"give a non-empty {key}")
        return value

    def _choice(
        self, spec: Mapping[str, Any], key: str, choices: Mapping[str, str], path: str, what: str
    ) -> str:
        value = spec.get(key)
        if isinstance(value, str) and value in choices:
            return choices[value]
        problem = f"{key} is missing" if value is None else f"unknown {what} type {value!r}"
        self.report.add(_join(path, key), problem, "use one of " + ", ".join(choices))
        return str(value)

    def _flag(self, spec: Mapping[str, Any], key: str, path: str) -> bool:
        value = spec.get(key, False)
        if not isinstance(value, bool):
            self.report.add(
                _join(path, key), f"{key} must be true or false, got {value!r}", "use true or false"
            )
            return False
        return value

    def _color(self, spec: Mapping[str, Any], path: str) -> str | None:
        color = spec.get("color")
        if color is not None and not (isinstance(color, str) and _COLOR.fullmatch(color)):
            self.report.add(
                _join(path, "color"), f"bad color {color!r}", "use #rrggbb, e.g. '#1f77b4' (quoted)"
            )
            return None
        return color

    def _list(self, spec: Mapping[str, Any], key: str, path: str) -> list[Any]:
        value = spec.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.report.add(_join(path, key), f"{key} must be a list", "write it as a list (- item)")
            return []
        return value

    def _is_mapping(self, spec: Any, path: str, what: str, allow: str = "") -> bool:
        if isinstance(spec, Mapping):
            return True
        self.report.add(path, f"{what} must be {allow}a mapping, got {type(spec).__name__}", "fix its layout")
        return False

    def _unknown_keys(self, spec: Mapping[str, Any], allowed: frozenset[str], path: str) -> None:
        for key in spec:
            if key not in allowed:
                self.report.add(
                    _join(path, str(key)),
                    "unknown key",
                    "remove it or fix its spelling: " + ", ".join(sorted(allowed)),
                )

    def _unique(self, entries: list[tuple[str, Any]], what: str, fix: str) -> None:
        """Report every entry whose value an earlier entry (path, value) already has."""
        first: dict[Any, str] = {}
        for path, value in entries:
            if value in first and value:
                self.report.add(path, f"duplicate {what} {value!r}, also at {first[value]}", fix)
            first.setdefault(value, path)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


__all__ = [
    "CLASSIFICATION_TYPES",
    "SCOPES",
    "TOOL_TYPES",
    "UI_MODES",
    "build_ontology",
    "load_ontology_spec",
    "parse_ontology_spec",
    "tool_color",
]
