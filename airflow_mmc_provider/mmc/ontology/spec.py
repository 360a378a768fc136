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
            classifications: [...]      # nested under the option, any depth

`build_ontology` turns a spec into exactly the dict `labelbox.OntologyBuilder.asdict()` produces
for the same ontology (wire reference 4.2; a differential test against the SDK pins this), so an
ontology created by this provider and one created with the SDK are indistinguishable. Every
problem of a spec is reported at once, each with its path (``classifications[1].options[0]...``).

Labelbox refers to features by name in annotation imports, so names must be unique among the
top-level tools and classifications together, among the nested classifications of one tool or
option, and option values within a classification.

`OntologyView` reads a normalized ontology as the server returns it (with `featureSchemaId` and
`schemaNodeId` filled in) to look features up by name or id, and `diff_ontologies` says how an
existing ontology differs from a spec, ignoring server-assigned ids.
"""

from __future__ import annotations

import colorsys
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from airflow_mmc_provider.mmc.errors import IssueReport, ValidationError

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


# --- loading -------------------------------------------------------------------------------------


def parse_ontology_spec(text: str, *, fmt: str = "yaml", source: str = _SUBJECT) -> Any:
    """A spec from JSON or YAML text; a syntax error becomes a `ValidationError` naming `source`."""
    if fmt not in {"json", "yaml"}:
        raise ValueError(f"unknown ontology spec format {fmt!r}; use 'json' or 'yaml'")
    import yaml  # here, not at the top: only specs need it (Airflow installs PyYAML)

    try:
        return json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        report = IssueReport(subject=source)
        report.add("", f"not valid {fmt.upper()}: {exc}", f"fix the {fmt.upper()} syntax")
        raise ValidationError(report.issues, subject=source) from None


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


def tool_color(index: int, count: int) -> str:
    """The SDK's default color of tool `index` of `count`: hues evenly spread, full saturation."""
    red, green, blue = (int(255 * c) for c in colorsys.hsv_to_rgb(index / count, 1, 1))
    return f"#{red:02x}{green:02x}{blue:02x}"


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
        nested = [
            self._classification(c, f"{at}[{i}]", nested=True)
            for i, c in enumerate(self._list(spec, "classifications", path))
        ]
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


# --- reading a server's ontology -----------------------------------------------------------------


@dataclass(frozen=True)
class OptionView:
    value: str
    label: str
    feature_schema_id: str | None
    schema_node_id: str | None
    classifications: Mapping[str, ClassificationView]


@dataclass(frozen=True)
class ClassificationView:
    """A classification; `scope` is None for nested ones, `index` means message-scoped."""

    name: str
    type: str
    scope: str | None
    required: bool
    instructions: str
    feature_schema_id: str | None
    schema_node_id: str | None
    options: Mapping[str, OptionView]
    _labels: Mapping[str, OptionView] = field(repr=False, compare=False)

    @property
    def message_scoped(self) -> bool:
        return self.scope == "index"

    def option(self, name: str) -> OptionView:
        """An option by value or, failing that, by label (answers name options either way)."""
        found = self.options.get(name) or self._labels.get(name)
        if found is None:
            choices = ", ".join(map(repr, self.options))
            raise KeyError(f"classification {self.name!r} has no option {name!r}; it has {choices}")
        return found


@dataclass(frozen=True)
class ToolView:
    name: str
    tool: str
    required: bool
    color: str | None
    feature_schema_id: str | None
    schema_node_id: str | None
    classifications: Mapping[str, ClassificationView]


Feature = ToolView | ClassificationView | OptionView


@dataclass(frozen=True)
class OntologyView:
    """A read-only, name-indexed view of a normalized ontology (server or spec)."""

    tools: Mapping[str, ToolView]
    classifications: Mapping[str, ClassificationView]
    by_schema_id: Mapping[str, Feature]

    @classmethod
    def from_normalized(cls, normalized: Mapping[str, Any] | str) -> OntologyView:
        """Accepts the `normalized` object, or the JSON string some responses carry."""
        data = json.loads(normalized) if isinstance(normalized, str) else normalized
        ids: dict[str, Feature] = {}
        tools = _index([_tool_view(t, ids) for t in data.get("tools") or []], "tools")
        classifications = _index(
            [_classification_view(c, ids, nested=False) for c in data.get("classifications") or []],
            "classifications",
        )
        return cls(tools, classifications, MappingProxyType(ids))

    def tool(self, name: str) -> ToolView:
        return _lookup(self.tools, name, "tool")

    def classification(self, name: str) -> ClassificationView:
        return _lookup(self.classifications, name, "classification")

    def feature(self, name: str) -> ToolView | ClassificationView:
        """A top-level tool or classification by name (NDJSON `name` refers to either)."""
        found = self.tools.get(name) or self.classifications.get(name)
        if found is None:
            raise KeyError(f"the ontology has no tool or classification named {name!r}")
        return found


def _tool_view(data: Mapping[str, Any], ids: dict[str, Feature]) -> ToolView:
    nested = [_classification_view(c, ids, nested=True) for c in data.get("classifications") or []]
    view = ToolView(
        name=data["name"],
        tool=data["tool"],
        required=bool(data.get("required", False)),
        color=data.get("color"),
        feature_schema_id=data.get("featureSchemaId"),
        schema_node_id=data.get("schemaNodeId"),
        classifications=_index(nested, f"classifications of tool {data['name']!r}"),
    )
    return _register(view, ids)


def _classification_view(
    data: Mapping[str, Any], ids: dict[str, Feature], *, nested: bool
) -> ClassificationView:
    options = [_option_view(o, ids) for o in data.get("options") or []]
    view = ClassificationView(
        name=data["name"],
        type=data["type"],
        scope=None if nested else data.get("scope", "global"),
        required=bool(data.get("required", False)),
        instructions=data.get("instructions", data["name"]),
        feature_schema_id=data.get("featureSchemaId"),
        schema_node_id=data.get("schemaNodeId"),
        options=MappingProxyType({o.value: o for o in options}),
        _labels=MappingProxyType({o.label: o for o in options}),
    )
    return _register(view, ids)


def _option_view(data: Mapping[str, Any], ids: dict[str, Feature]) -> OptionView:
    nested = [_classification_view(c, ids, nested=True) for c in data.get("options") or []]
    value = str(data["value"])
    view = OptionView(
        value=value,
        label=str(data.get("label", value)),
        feature_schema_id=data.get("featureSchemaId"),
        schema_node_id=data.get("schemaNodeId"),
        classifications=_index(nested, f"classifications of option {value!r}"),
    )
    return _register(view, ids)


def _register(view: Any, ids: dict[str, Feature]) -> Any:
    if view.feature_schema_id:
        ids[view.feature_schema_id] = view
    return view


def _index(views: list[Any], what: str) -> Mapping[str, Any]:
    """Name -> view; duplicate names make name lookups ambiguous, so they are an error here."""
    result: dict[str, Any] = {}
    for view in views:
        if view.name in result:
            raise ValueError(f"the ontology has two {what} named {view.name!r}; names must be unique")
        result[view.name] = view
    return MappingProxyType(result)


def _lookup(index: Mapping[str, Any], name: str, what: str) -> Any:
    try:
        return index[name]
    except KeyError:
        raise KeyError(
            f"the ontology has no {what} named {name!r}; it has {', '.join(map(repr, index))}"
        ) from None


# --- comparing a spec with a server's ontology ---------------------------------------------------


def diff_ontologies(
    spec_normalized: Mapping[str, Any], server_normalized: Mapping[str, Any] | str
) -> list[str]:
    """How the server's ontology differs from the spec's, as readable lines (empty: the same).

    Server-assigned ids, key order and keys the server adds are ignored; features are matched by
    name and options by value. Option order is compared, because raters see options in order.
    """
    server = json.loads(server_normalized) if isinstance(server_normalized, str) else server_normalized
    differences: list[str] = []
    _diff_features(spec_normalized.get("tools") or [], server.get("tools") or [], "tool", "", differences)
    _diff_features(
        spec_normalized.get("classifications") or [],
        server.get("classifications") or [],
        "classification",
        "",
        differences,
    )
    return differences


def _diff_features(
    spec: list[Mapping[str, Any]], server: list[Mapping[str, Any]], what: str, where: str, out: list[str]
) -> None:
    ours = {f.get("name"): f for f in spec}
    theirs = {f.get("name"): f for f in server}
    out.extend(f"{where}{what} {n!r} is in the spec but not on the server" for n in ours if n not in theirs)
    out.extend(f"{where}{what} {n!r} is on the server but not in the spec" for n in theirs if n not in ours)
    for name in (n for n in ours if n in theirs):
        label = f"{where}{what} {name!r}"
        for key, mine, other in _compared_fields(ours[name], theirs[name], top_level=not where):
            if mine != other:
                out.append(f"{label}: {key} is {mine!r} in the spec but {other!r} on the server")
        nested_key = "classifications" if what == "tool" else None
        if nested_key:
            _diff_features(
                ours[name].get(nested_key) or [],
                theirs[name].get(nested_key) or [],
                "classification",
                f"{label} > ",
                out,
            )
        else:
            _diff_options(ours[name].get("options") or [], theirs[name].get("options") or [], label, out)


def _compared_fields(
    spec: Mapping[str, Any], server: Mapping[str, Any], *, top_level: bool
) -> Iterator[tuple[str, Any, Any]]:
    """The user-visible settings of a tool or classification, with server defaults filled in."""
    if "tool" in spec:
        yield "tool", spec.get("tool"), server.get("tool")
        yield "color", str(spec.get("color")).lower(), str(server.get("color")).lower()
    else:
        yield "type", spec.get("type"), server.get("type")
        yield "instructions", spec.get("instructions"), server.get("instructions", server.get("name"))
        yield "uiMode", spec.get("uiMode"), server.get("uiMode")
        yield "isLikertScale", bool(spec.get("isLikertScale")), bool(server.get("isLikertScale"))
        if top_level:
            yield "scope", spec.get("scope", "global"), server.get("scope", "global")
    yield "required", bool(spec.get("required")), bool(server.get("required"))


def _diff_options(
    spec: list[Mapping[str, Any]], server: list[Mapping[str, Any]], where: str, out: list[str]
) -> None:
    ours = {str(o.get("value")): o for o in spec}
    theirs = {str(o.get("value")): o for o in server}
    out.extend(f"{where}: option {v!r} is in the spec but not on the server" for v in ours if v not in theirs)
    out.extend(f"{where}: option {v!r} is on the server but not in the spec" for v in theirs if v not in ours)
    common_ours = [v for v in ours if v in theirs]
    common_theirs = [v for v in theirs if v in ours]
    if common_ours != common_theirs:
        out.append(
            f"{where}: options are ordered {common_ours} in the spec but {common_theirs} on the server"
        )
    for value in common_ours:
        label = f"{where} > option {value!r}"
        mine, other = ours[value].get("label", value), theirs[value].get("label", value)
        if str(mine) != str(other):
            out.append(f"{label}: label is {mine!r} in the spec but {other!r} on the server")
        _diff_features(
            ours[value].get("options") or [],
            theirs[value].get("options") or [],
            "classification",
            f"{label} > ",
            out,
        )
