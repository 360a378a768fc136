"""Ontologies (`upsertOntology`): check the normalized JSON and give every feature its ids.

The SDK sends ``normalized`` as a JSON *string* (``OntologyBuilder.asdict()`` dumped) and reads it
back as a JSON *object* in which the service has filled in ``featureSchemaId`` and ``schemaNodeId``
on every tool, classification and option, at any depth (wire reference 4.1). The ids are assigned
once, here, and stored with the ontology, so every later read returns the same ones.

Checks are the ones `Ontology.tools()`/`classifications()` of the SDK need to succeed (they index
``tool, name, color, classifications``; ``type, name, instructions, options``; ``value, label``
directly) plus the builder's own rules (radio and checklist need options). Defaults the builder
would have written are filled in rather than refused: ``instructions`` = name, ``label`` = value,
``classifications``/``options`` = ``[]``, and a colour as the builder assigns it. Every problem is
reported at once, each with its path (``classifications[1].options[0].value``).

These are the server's own rules (the SDK may send any tool type, and some of them are not
multimodal chat tools), so they stay here; the colour assignment is `mmc.ontology.index`'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec

from airflow_mmc_provider.emulator.ids import new_id
from airflow_mmc_provider.mmc.ontology.index import assign_colors

# Tool.Type of the SDK plus the MMC-only tools (ToolType); all are accepted, whatever the media type.
TOOL_TYPES = frozenset(
    {
        "polygon", "superpixel", "raster-segmentation", "point", "rectangle", "line", "named-entity",
        "edge", "marker", "message-single-selection", "message-multi-selection", "message-ranking",
        "step-reasoning", "fact-checking", "prompt-issue",
    }
)  # fmt: skip
# Tools whose SDK class reads a `definition` ({"variants": [...]}) instead of classifications.
DEFINITION_TOOLS = frozenset({"step-reasoning", "fact-checking"})
CLASSIFICATION_TYPES = frozenset(
    {"text", "checklist", "radio", "group", "prompt", "response-text", "response-checklist", "response-radio"}
)
OPTION_TYPES = frozenset({"checklist", "radio", "response-checklist", "response-radio"})
SCOPES = frozenset({"global", "index"})


class OntologyError(ValueError):
    """The normalized ontology is unusable; the message lists every problem with its path."""


@dataclass(frozen=True)
class NormalizedOntology:
    """The ontology as stored and served: ids filled in, plus the counts `Ontology` reports."""

    normalized: dict[str, Any]
    object_count: int
    classification_count: int


def normalize(text: str) -> NormalizedOntology:
    """Parse, check and complete `normalized`; raise OntologyError naming every problem."""
    try:
        document = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise OntologyError(f"normalized must be a JSON document ({exc})") from None
    if not isinstance(document, dict):
        raise OntologyError('normalized must be a JSON object {"tools": [...], "classifications": [...]}')
    walker = _Walker()
    tools = walker.items(document, "tools", "", walker.tool)
    classifications = walker.items(
        document, "classifications", "", lambda item, path: walker.classification(item, path, top=True)
    )
    walker.unique_names(tools, "tools")
    walker.unique_names(classifications, "classifications")
    if walker.problems:
        shown = walker.problems[:20]
        more = len(walker.problems) - len(shown)
        suffix = f" (and {more} more)" if more else ""
        raise OntologyError("Invalid ontology: " + "; ".join(shown) + suffix)
    assign_colors(tools)  # as the SDK's builder and Labelbox assign them (mmc's one definition)
    normalized = {**document, "tools": tools, "classifications": classifications}
    return NormalizedOntology(normalized, len(tools), len(classifications))


def empty_ontology() -> NormalizedOntology:
    return NormalizedOntology({"tools": [], "classifications": []}, 0, 0)


def features(normalized: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every tool, classification and option of a normalized ontology, depth first."""
    for tool in normalized.get("tools") or []:
        yield tool
        yield from _classification_tree(tool.get("classifications") or [])
    yield from _classification_tree(normalized.get("classifications") or [])


def _classification_tree(classifications: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for classification in classifications:
        yield classification
        for option in classification.get("options") or []:
            yield option
            yield from _classification_tree(option.get("options") or [])


class _Walker:
    """Checks one node at a time, collecting problems and returning the completed node."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def items(self, parent: dict[str, Any], key: str, path: str, read: Any) -> list[dict[str, Any]]:
        value = parent.get(key)
        where = _join(path, key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problems.append(f"{where} must be a list")
            return []
        return [node for index, item in enumerate(value) if (node := read(item, f"{where}[{index}]"))]

    def tool(self, item: Any, path: str) -> dict[str, Any] | None:
        if not self._is_object(item, path):
            return None
        tool = item.get("tool")
        if tool not in TOOL_TYPES:
            self.problems.append(f"{path}.tool must be one of {', '.join(sorted(TOOL_TYPES))}, got {tool!r}")
        self._name(item, path)
        color = item.get("color")
        if color is not None and not isinstance(color, str):
            self.problems.append(f"{path}.color must be a string such as '#ff0000'")
        if tool in DEFINITION_TOOLS:
            definition = item.get("definition")
            if not isinstance(definition, dict) or not isinstance(definition.get("variants"), list):
                self.problems.append(f'{path}.definition must be an object with a "variants" list')
        nested = self.items(item, "classifications", path, self._nested_classification)
        self.unique_names(nested, _join(path, "classifications"))
        return {
            **item,
            "required": bool(item.get("required", False)),
            "classifications": nested,
            **_ids(item),
        }

    def classification(self, item: Any, path: str, *, top: bool) -> dict[str, Any] | None:
        if not self._is_object(item, path):
            return None
        kind = item.get("type")
        if kind not in CLASSIFICATION_TYPES:
            self.problems.append(
                f"{path}.type must be one of {', '.join(sorted(CLASSIFICATION_TYPES))}, got {kind!r}"
            )
        name = self._name(item, path)
        scope = item.get("scope")
        if scope is not None and (not top or scope not in SCOPES):
            allowed = "'global' or 'index'" if top else "absent: only top-level classifications have a scope"
            self.problems.append(f"{path}.scope must be {allowed}, got {scope!r}")
        instructions = item.get("instructions")
        if instructions is not None and not isinstance(instructions, str):
            self.problems.append(f"{path}.instructions must be a string")
        options = self.items(item, "options", path, self.option)
        if kind in OPTION_TYPES and not options and not _has_problem_under(self.problems, path):
            self.problems.append(f"{path}: a {kind} classification needs at least one option")
        values = [option["value"] for option in options if "value" in option]
        repeated = sorted({str(v) for v in values if values.count(v) > 1})
        if repeated:
            self.problems.append(f"{path}.options: option values must be unique, repeated: {repeated}")
        return {
            **item,
            "instructions": instructions if instructions is not None else name,
            "required": bool(item.get("required", False)),
            "options": options,
            **_ids(item),
        }

    def option(self, item: Any, path: str) -> dict[str, Any] | None:
        if not self._is_object(item, path):
            return None
        value = item.get("value")
        if not isinstance(value, (str, int)) or isinstance(value, bool) or value == "":
            self.problems.append(f"{path}.value must be a non-empty string (or a number)")
        label = item.get("label")
        if label is not None and not isinstance(label, (str, int)):
            self.problems.append(f"{path}.label must be a string")
        nested = self.items(item, "options", path, self._nested_classification)
        self.unique_names(nested, _join(path, "options"))
        return {**item, "label": label if label is not None else value, "options": nested, **_ids(item)}

    def unique_names(self, nodes: list[dict[str, Any]], path: str) -> None:
        """Annotations name their feature, so two siblings with one name would be ambiguous."""
        names = [name for node in nodes if isinstance(name := node.get("name"), str)]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            self.problems.append(f"{path}: names must be unique among siblings, repeated: {repeated}")

    def _nested_classification(self, item: Any, path: str) -> dict[str, Any] | None:
        return self.classification(item, path, top=False)

    def _is_object(self, item: Any, path: str) -> bool:
        if isinstance(item, dict):
            return True
        self.problems.append(f"{path} must be a JSON object, got {type(item).__name__}")
        return False

    def _name(self, item: dict[str, Any], path: str) -> str:
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            self.problems.append(f"{path}.name must be a non-empty string")
            return ""
        return name


def _ids(item: dict[str, Any]) -> dict[str, str]:
    """A feature schema given by id is reused (as the service does); the node is always new."""
    feature_id = item.get("featureSchemaId")
    return {
        "featureSchemaId": feature_id if isinstance(feature_id, str) and feature_id else new_id(),
        "schemaNodeId": new_id(),
    }


def _has_problem_under(problems: list[str], path: str) -> bool:
    return any(problem.startswith(f"{path}.options") for problem in problems)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
