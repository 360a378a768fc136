"""Every resource's resolvers in one table, and `bind`, which attaches them to the SDL schema."""

from __future__ import annotations

from collections.abc import Iterable

from graphql import GraphQLObjectType, GraphQLSchema

from airflow_mmc_provider.emulator.graphql import (
    account,
    batches,
    data_rows,
    datasets,
    exports,
    files,
    frontends,
    imports,
    metadata,
    ontologies,
    projects,
    tasks,
    upserts,
)
from airflow_mmc_provider.emulator.graphql.context import Resolver, Resolvers

_MODULES = (
    account, tasks, files, datasets, data_rows, metadata, upserts, ontologies, projects, frontends, batches,
    exports, imports,
)  # fmt: skip


def merged(parts: Iterable[Resolvers]) -> dict[str, dict[str, Resolver]]:
    """One table of the parts' resolvers; two parts resolving the same field is a bug."""
    table: dict[str, dict[str, Resolver]] = {}
    for part in parts:
        for type_name, fields in part.items():
            into = table.setdefault(type_name, {})
            for field_name, resolver in fields.items():
                if field_name in into:
                    raise LookupError(f"{type_name}.{field_name} is resolved twice")
                into[field_name] = resolver
    return table


RESOLVERS = merged(module.RESOLVERS for module in _MODULES)


def bind(schema: GraphQLSchema, resolvers: Resolvers = RESOLVERS) -> None:
    """Attach resolvers to the schema's fields; a name the SDL lacks is a bug, so fail loudly."""
    for type_name, fields in resolvers.items():
        graphql_type = schema.get_type(type_name)
        if not isinstance(graphql_type, GraphQLObjectType):
            raise LookupError(f"resolver registered for unknown object type {type_name!r}")
        for field_name, resolver in fields.items():
            if field_name not in graphql_type.fields:
                raise LookupError(f"resolver registered for unknown field {type_name}.{field_name}")
            graphql_type.fields[field_name].resolve = resolver
