"""The account: the viewer, their organisation, and the `createdBy`/`organization` of any node."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLResolveInfo

from airflow_mmc_provider.emulator.errors import NotFoundError
from airflow_mmc_provider.emulator.graphql.context import Resolvers, store_of
from airflow_mmc_provider.emulator.graphql.nodes import node_mapper
from airflow_mmc_provider.emulator.store import Organization, User

user_node = node_mapper(
    User,
    extra=lambda user: {
        "picture": None,
        "isViewer": False,
        "isExternalUser": False,
        "timezone": None,  # the SDK then assumes UTC for export date filters
        "lastLoginAt": user.updated_at,
    },
)


organization_node = node_mapper(Organization)


def resolve_user(_: Any, info: GraphQLResolveInfo, where: Mapping[str, Any] | None = None) -> dict[str, Any]:
    store = store_of(info)
    user_id = (where or {}).get("id") or store.user.id
    user = store.get_user(user_id)
    if user is None or user.organization_id != store.organization.id:
        raise NotFoundError(f"User '{user_id}' not found")
    return user_node(user)


def resolve_organization(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return organization_node(store_of(info).organization)


def resolve_empty_list(_: Any, info: GraphQLResolveInfo) -> list[Any]:
    """No IAM integrations and no custom metadata schemas: the SDK handles both empty lists."""
    return []


def resolve_organization_of(node: Mapping[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    return organization_node(store_of(info).organization)


def resolve_created_by(node: Mapping[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    user = store_of(info).get_user(node.get("_createdBy") or "")
    return user_node(user) if user else None


RESOLVERS: Resolvers = {
    "Query": {
        "user": resolve_user,
        "organization": resolve_organization,
        "iamIntegrations": resolve_empty_list,
    },
    "User": {"organization": resolve_organization_of},
}
