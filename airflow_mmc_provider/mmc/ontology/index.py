"""The one compiled index of a normalized ontology: every feature by name and by schema id.

A normalized ontology (what `spec.build_ontology` writes and the server stores, wire reference
4.1) is a tree: tools with nested classifications, classifications with options, options with
nested classifications, to any depth. `OntologyIndex` compiles it once into small objects with
slots (`ToolSpec`, `ClassificationSpec`, `OptionSpec`, and `NestedScope` for the classifications
allowed in one list), so the annotation rules, the record reader, the emulator's import and its
export renderer all read the same thing: names, schema ids, kinds, scopes, required flags, options
by value or label, colours.

Names must be unique among tools, among classifications, among the nested classifications of one
tool or option: each of those clashes raises `ValueError` when compiling. A tool and a
classification of the same name make an import ambiguous, since lines name features; that is
recorded in `ambiguous` and refused by `as_ontology_index`, which the validator goes through.
"""

from __future__ import annotations

import colorsys
import json
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any


def tool_color(index: int, count: int) -> str:
    """The SDK's default color of tool `index` of `count`: hues evenly spread, full saturation."""
    red, green, blue = (int(255 * c) for c in colorsys.hsv_to_rgb(index / count, 1, 1))
    return f"#{red:02x}{green:02x}{blue:02x}"


def assign_colors(tools: list[dict[str, Any]]) -> None:
    """Give each tool without a colour the one `OntologyBuilder` (and Labelbox) would."""
    for index, tool in enumerate(tools):
        if not tool.get("color"):
            tool["color"] = tool_color(index, len(tools))


class _Node:
    """What every compiled feature answers under the SDK's names (`feature_schema_id`)."""

    __slots__ = ()
    schema_id: str | None

    @property
    def feature_schema_id(self) -> str | None:
        return self.schema_id


class _Parent(_Node):
    """A feature that carries classifications (an option, a tool): `nested`, by name."""

    __slots__ = ()
    nested: NestedScope

    @property
    def classifications(self) -> Mapping[str, ClassificationSpec]:
        return self.nested.by_name


class OptionSpec(_Parent):
    """One option of a radio or checklist classification, with what may be nested under it."""

    __slots__ = ("label", "nested", "schema_id", "schema_node_id", "value")

    def __init__(self, data: Mapping[str, Any], ids: dict[str, Any]) -> None:
        self.value = str(data["value"])
        self.label = str(data.get("label", self.value))
        self.schema_id: str | None = data.get("featureSchemaId")
        self.schema_node_id: str | None = data.get("schemaNodeId")
        self.nested = NestedScope(data.get("options") or [], ids, f"classifications of option {self.value!r}")
        _register(self, ids)

    @property
    def name(self) -> str:
        return self.value


class ClassificationSpec(_Node):
    """A classification; `scope` is ``index`` (message-scoped), ``global``, or None when nested.

    `options` are by value, in the ontology's order; `choices` by value or label (answers name
    options either way; a value wins over another option's label).
    """

    __slots__ = (
        "choices",
        "instructions",
        "message_scoped",
        "name",
        "options",
        "options_by_id",
        "required",
        "schema_id",
        "schema_node_id",
        "scope",
        "type",
    )

    def __init__(self, data: Mapping[str, Any], ids: dict[str, Any], *, nested: bool) -> None:
        self.name: str = data["name"]
        self.type: str = data["type"]
        self.scope: str | None = None if nested else data.get("scope", "global")
        self.message_scoped = self.scope == "index"
        self.required = bool(data.get("required", False))
        self.instructions: str = data.get("instructions", self.name)
        self.schema_id: str | None = data.get("featureSchemaId")
        self.schema_node_id: str | None = data.get("schemaNodeId")
        _register(self, ids)
        options = [OptionSpec(o, ids) for o in data.get("options") or []]
        self.options: Mapping[str, OptionSpec] = MappingProxyType({o.value: o for o in options})
        choices = {o.label: o for o in options}
        choices.update((o.value, o) for o in options)
        self.choices: dict[str, OptionSpec] = choices
        self.options_by_id = {o.schema_id: o for o in options if o.schema_id}

    def option(self, name: str) -> OptionSpec:
        """An option by value or, failing that, by label; `KeyError` naming the options."""
        found = self.choices.get(name)
        if found is None:
            listed = ", ".join(map(repr, self.options))
            raise KeyError(f"classification {self.name!r} has no option {name!r}; it has {listed}")
        return found

    def find_option(self, name: Any, schema_id: Any) -> OptionSpec | None:
        """The option an answer names: by schema id first, then by value or label."""
        if isinstance(schema_id, str) and schema_id in self.options_by_id:
            return self.options_by_id[schema_id]
        return self.choices.get(name) if isinstance(name, str) else None

    def option_values(self) -> list[str]:
        return list(self.options)


class ToolSpec(_Parent):
    """A message tool; `nested` are the classifications a tool annotation may carry."""

    __slots__ = ("color", "name", "nested", "required", "schema_id", "schema_node_id", "tool")

    def __init__(self, data: Mapping[str, Any], ids: dict[str, Any]) -> None:
        self.name: str = data["name"]
        self.tool: str = data["tool"]
        self.required = bool(data.get("required", False))
        self.color: str | None = data.get("color")
        self.schema_id: str | None = data.get("featureSchemaId")
        self.schema_node_id: str | None = data.get("schemaNodeId")
        _register(self, ids)
        self.nested = NestedScope(
            data.get("classifications") or [], ids, f"classifications of tool {self.name!r}"
        )


FeatureSpec = ToolSpec | ClassificationSpec
Feature = ToolSpec | ClassificationSpec | OptionSpec


class NestedScope:
    """The classifications allowed in one ``classifications`` list (under an option or a tool)."""

    __slots__ = ("by_id", "by_instructions", "by_name", "required")

    def __init__(self, nodes: Iterable[Mapping[str, Any]], ids: dict[str, Any], what: str) -> None:
        self.by_name: dict[str, ClassificationSpec] = _unique(
            (ClassificationSpec(c, ids, nested=True) for c in nodes), what
        )
        self.by_id = {c.schema_id: c for c in self.by_name.values() if c.schema_id}
        self.by_instructions = {c.instructions: c for c in self.by_name.values()}
        self.required = tuple(name for name, c in self.by_name.items() if c.required)

    def find(self, name: Any, schema_id: Any) -> ClassificationSpec | None:
        """What a nested classification of a line names: by schema id, name, or instructions."""
        return _find(self.by_id, self.by_name, self.by_instructions, name, schema_id)


class OntologyIndex:
    """Every feature of a normalized ontology, compiled once (module docstring).

    `tools` and `classifications` are the top-level features by name (read-only), `features`
    both together (the names annotation lines use), `by_id` the top-level ones by schema id,
    `by_schema_id` every tool, classification and option at any depth, `required` the names of
    the required top-level classifications.
    """

    __slots__ = (
        "_by_instructions",
        "_classification_ids",
        "ambiguous",
        "by_id",
        "by_schema_id",
        "classifications",
        "features",
        "required",
        "tools",
    )

    def __init__(self, normalized: Mapping[str, Any]) -> None:
        ids: dict[str, Any] = {}
        tools = _unique((ToolSpec(t, ids) for t in normalized.get("tools") or []), "tools")
        classifications = _unique(
            (ClassificationSpec(c, ids, nested=False) for c in normalized.get("classifications") or []),
            "classifications",
        )
        self.tools: Mapping[str, ToolSpec] = MappingProxyType(tools)
        self.classifications: Mapping[str, ClassificationSpec] = MappingProxyType(classifications)
        self.by_schema_id: Mapping[str, Any] = MappingProxyType(ids)
        clash = next((name for name in classifications if name in tools), None)
        self.ambiguous = (
            f"the ontology has a tool and a classification named {clash!r}; annotations name features by it, "
            "so rename one"
            if clash is not None
            else None
        )
        features: dict[str, FeatureSpec] = dict(tools)
        features.update(classifications)
        self.features = features
        self.by_id = {f.schema_id: f for f in features.values() if f.schema_id}
        self._by_instructions = {c.instructions: c for c in classifications.values()}
        self._classification_ids = {c.schema_id: c for c in classifications.values() if c.schema_id}
        self.required = tuple(name for name, c in classifications.items() if c.required)

    @classmethod
    def from_normalized(cls, normalized: Mapping[str, Any] | str | None) -> OntologyIndex:
        """From the normalized ontology: a dict, or the JSON string some API responses carry."""
        data = json.loads(normalized) if isinstance(normalized, str) else normalized
        return cls(data or {})

    def tool(self, name: str) -> ToolSpec:
        return _lookup(self.tools, name, "tool")

    def classification(self, name: str) -> ClassificationSpec:
        return _lookup(self.classifications, name, "classification")

    def feature(self, name: str) -> FeatureSpec:
        """A top-level tool or classification by name (NDJSON `name` refers to either)."""
        found = self.tools.get(name) or self.classifications.get(name)
        if found is None:
            raise KeyError(f"the ontology has no tool or classification named {name!r}")
        return found

    def tools_of(self, tool: str) -> list[ToolSpec]:
        return [t for t in self.tools.values() if t.tool == tool]

    def tool_for(self, name: Any, schema_id: Any) -> ToolSpec | None:
        """The tool a line names, by schema id first, then by name (None: none)."""
        found = self.by_id.get(schema_id) if isinstance(schema_id, str) else None
        if isinstance(found, ToolSpec):
            return found
        return self.tools.get(name) if isinstance(name, str) else None

    def classification_for(self, name: Any, schema_id: Any) -> ClassificationSpec | None:
        """The top-level classification a line names: by schema id, name, or instructions."""
        return _find(self._classification_ids, self.classifications, self._by_instructions, name, schema_id)


OntologyInput = OntologyIndex | Mapping[str, Any] | str


def as_ontology_index(ontology: OntologyInput) -> OntologyIndex:
    """The compiled index of `ontology`; `ValueError` if lines could not name its features apart."""
    index = ontology if isinstance(ontology, OntologyIndex) else OntologyIndex.from_normalized(ontology)
    if index.ambiguous is not None:
        raise ValueError(index.ambiguous)
    return index


def _register(node: Any, ids: dict[str, Any]) -> None:
    if node.schema_id:
        ids[node.schema_id] = node


def _unique(nodes: Iterable[Any], what: str) -> dict[str, Any]:
    """Name -> node; duplicate names make name lookups ambiguous, so they are an error here."""
    result: dict[str, Any] = {}
    for node in nodes:
        if node.name in result:
            raise ValueError(f"the ontology has two {what} named {node.name!r}; names must be unique")
        result[node.name] = node
    return result


def _find(
    by_id: Mapping[str, Any],
    by_name: Mapping[str, Any],
    by_instructions: Mapping[str, Any],
    name: Any,
    schema_id: Any,
) -> Any:
    if isinstance(schema_id, str) and schema_id in by_id:
        return by_id[schema_id]
    if isinstance(name, str):
        return by_name.get(name) or by_instructions.get(name)
    return None


def _lookup(index: Mapping[str, Any], name: str, what: str) -> Any:
    try:
        return index[name]
    except KeyError:
        raise KeyError(
            f"the ontology has no {what} named {name!r}; it has {', '.join(map(repr, index))}"
        ) from None


# The names the ontology's readers used before the one index (one release).
OntologyView = OntologyIndex
ToolView = ToolSpec
ClassificationView = ClassificationSpec
OptionView = OptionSpec

__all__ = [
    "ClassificationSpec",
    "ClassificationView",
    "Feature",
    "FeatureSpec",
    "NestedScope",
    "OntologyIndex",
    "OntologyInput",
    "OntologyView",
    "OptionSpec",
    "OptionView",
    "ToolSpec",
    "ToolView",
    "as_ontology_index",
    "assign_colors",
    "tool_color",
]
