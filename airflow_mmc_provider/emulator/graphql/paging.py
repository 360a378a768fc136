"""The one shape every resource's look-ups share: get by id or answer not found, and pages.

A resource names what it is and how the store finds and lists it; `by_id` and `orm_list` turn that
into the resolvers of ``<resource>(where: {id})`` and of the ORM list query ``<resources>(where,
skip, first)``, so the not-found message and the paging rules are written once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from graphql import GraphQLResolveInfo

from airflow_mmc_provider.emulator import filters
from airflow_mmc_provider.emulator.errors import InvalidInputError, NotFoundError
from airflow_mmc_provider.emulator.graphql.context import Node, Resolver, store_of
from airflow_mmc_provider.emulator.store import Store

DEFAULT_PAGE = 100
MAX_CURSOR_PAGE = 1_000

_Found = TypeVar("_Found")
_Name = TypeVar("_Name", str, str | None)


def found(value: _Found | None, kind: str, name: object) -> _Found:
    """`value`, or the service's not-found error for the `kind` named `name`."""
    if value is None:
        raise NotFoundError(f"{kind} '{name}' not found")
    return value


def checked_name(kind: str, name: _Name) -> _Name:
    """A name as given (None when an update leaves it), refused when blank, as the service does."""
    if name is not None and not name.strip():
        raise InvalidInputError(f"{kind} name must not be blank")
    return name


def update_or_delete(
    kind: str,
    where: Mapping[str, Any],
    data: Mapping[str, Any],
    delete: Callable[[str], _Found | None],
    update: Callable[[str], _Found | None],
) -> _Found:
    """``update<Kind>(where, data)``: ``data: {deleted: true}`` deletes, other data updates; the
    changed object, or not found when no live one has the id."""
    checked_name(kind, data.get("name"))
    changed = delete(where["id"]) if data.get("deleted") else update(where["id"])
    return found(changed, kind, where["id"])


def by_id(kind: str, get: Callable[[Store, str], _Found | None], node: Callable[[_Found], Node]) -> Resolver:
    """The resolver of a `kind` looked up by ``where: {id}``: its node, or not found."""

    def resolve(_: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> Node:
        return node(found(get(store_of(info), where["id"]), kind, where["id"]))

    resolve.__doc__ = f"{kind} by id, or RESOURCE_NOT_FOUND."
    return resolve


def orm_list(
    listed: Callable[[Store, str | None], Iterable[_Found]], node: Callable[[_Found], Node]
) -> Resolver:
    """The resolver of an ORM list query over what `listed` returns for a name filter (or None)."""

    def resolve(
        _: Any,
        info: GraphQLResolveInfo,
        where: Mapping[str, Any] | None = None,
        skip: int | None = None,
        first: int | None = None,
    ) -> list[Node]:
        name = filters.equalities(where).get("name")
        return orm_page([node(item) for item in listed(store_of(info), name)], where, skip, first)

    return resolve


def orm_page(
    nodes: list[Node], where: Mapping[str, Any] | None, skip: int | None, first: int | None
) -> list[Node]:
    """An ORM list page: deleted nodes only when the filter mentions `deleted`, then skip/first."""
    if not filters.mentions(where, "deleted"):
        nodes = [n for n in nodes if not n["deleted"]]
    try:
        selected = [n for n in nodes if filters.matches(n, where)]
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from None
    start = max(0, skip or 0)
    return selected[start : start + page_size(first, DEFAULT_PAGE)]


def page_size(first: int | None, default: int, *, limit: int = 10_000) -> int:
    """`first` of an offset-paged list: `default` when not given, at most `limit`."""
    if first is None:
        return default
    if first < 0:
        raise InvalidInputError("first must not be negative")
    return min(first, limit)


def cursor_page_size(first: Any) -> int:
    """`first` of a cursor-paged list (a PageSize scalar): a whole number, 100 by default."""
    if first is None:
        return DEFAULT_PAGE
    if not isinstance(first, int) or isinstance(first, bool) or first < 1:
        raise InvalidInputError(f"first must be a whole number of at least 1, got {first!r}")
    return min(first, MAX_CURSOR_PAGE)


def next_cursor(offset: int, count: int, total: int) -> str | None:
    """The cursor of the page after `count` results from `offset`, None after the last."""
    end = offset + count
    return str(end) if count and end < total else None
