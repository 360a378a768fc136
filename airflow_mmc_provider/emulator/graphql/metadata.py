"""Custom metadata: the organisation's schemas, their upsert, and a data row's metadata fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLResolveInfo

from airflow_mmc_provider.emulator.errors import InvalidInputError
from airflow_mmc_provider.emulator.graphql.context import Resolvers, request_context, store_of
from airflow_mmc_provider.emulator.metadata import MetadataError, parse_schema_request, schema_node


def resolve_metadata_ontology(_: Any, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    return [schema_node(schema) for schema in store_of(info).metadata_schemas()]


def resolve_upsert_metadata_schema(
    _: Any, info: GraphQLResolveInfo, data: Mapping[str, Any]
) -> dict[str, Any]:
    """Get-or-create a metadata schema by name (see `metadata`)."""
    try:
        request = parse_schema_request(data)
        return schema_node(store_of(info).upsert_metadata_schema(request))
    except (MetadataError, ValueError) as exc:
        raise InvalidInputError(str(exc)) from None


def resolve_data_row_custom_metadata(
    row: Mapping[str, Any], info: GraphQLResolveInfo
) -> list[dict[str, Any]]:
    return request_context(info).metadata_index().custom_metadata(row["_metadata"])


def resolve_data_row_metadata_fields(
    row: Mapping[str, Any], info: GraphQLResolveInfo
) -> list[dict[str, Any]]:
    return request_context(info).metadata_index().graphql_fields(row["_metadata"])


RESOLVERS: Resolvers = {
    "Query": {"customMetadataOntology": resolve_metadata_ontology},
    "Mutation": {"upsertCustomMetadataSchema": resolve_upsert_metadata_schema},
    "DataRow": {
        "metadataFields": resolve_data_row_metadata_fields,
        "customMetadata": resolve_data_row_custom_metadata,
    },
}
