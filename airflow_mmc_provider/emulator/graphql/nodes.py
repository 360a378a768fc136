"""From the store's frozen dataclasses to GraphQL nodes: one mapper for every resource.

A node holds each field of its record under the field's camelCase name (``created_at`` ->
``createdAt``), so a new column is a new GraphQL field with no edit here. A reference to another
record (``created_by``, ``project_id``) is kept as ``_`` + camelCase (``_createdBy``): no SDL
name starts with ``_``, so only the resolvers of related fields (``createdBy``, ``project``) read
it. A field the SDL does not declare is harmless in a node, since GraphQL answers only declared
fields (``deleted`` is there for `where` filters). A resource says only how it differs: the fields
the service names otherwise (``benchmark`` -> ``isBenchmarkEnabled``), the fields that stay out of
the node, and the values no column holds (constants, or derived from the record).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, TypeVar

from airflow_mmc_provider.emulator.graphql.context import Node

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_Record = TypeVar("_Record", bound="DataclassInstance")


def camel_case(name: str) -> str:
    """``completion_percentage`` -> ``completionPercentage``."""
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


# The store's columns that name another record (not ``external_id``: that is the row's own value).
REFERENCES = frozenset(
    {"created_by", "organization_id", "project_id", "dataset_id", "ontology_id", "labeling_frontend_id"}
)


def node_key(field: str) -> str:
    """The key of a record's field in its node: camelCase, ``_``-prefixed for references."""
    return "_" + camel_case(field) if field in REFERENCES else camel_case(field)


def node_mapper(
    record: type[_Record],
    *,
    renames: Mapping[str, str] | None = None,
    omitted: Collection[str] = (),
    extra: Callable[[_Record], Node] | None = None,
) -> Callable[[_Record], Node]:
    """The function from a `record` to its node: the fields under their camelCase names, but for
    `renames` (field -> GraphQL name) and `omitted`, then what `extra` adds (a fresh dict a node:
    nodes are not shared between answers). A rename or omission of no field is refused at import."""
    renames = renames or {}
    names = [f.name for f in dataclasses.fields(record)]
    unknown = (set(renames) | set(omitted)) - set(names)
    if unknown:
        raise TypeError(f"{record.__name__} has no fields {sorted(unknown)}")
    pairs = tuple((name, renames.get(name) or node_key(name)) for name in names if name not in omitted)

    def node(item: _Record) -> Node:
        values = {key: getattr(item, name) for name, key in pairs}
        if extra is not None:
            values.update(extra(item))
        return values

    node.__doc__ = f"The GraphQL node of a {record.__name__}."
    return node
