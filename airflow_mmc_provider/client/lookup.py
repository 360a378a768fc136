"""The look-ups datasets, projects and ontologies make alike (`NamedResource`): one object by id,
every object of a name, and the object a name stands for.

Labelbox names are not unique, but get-or-create by name needs one answer: the oldest object of
that exact name (the API searches by substring too), with a warning when there are several.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar, Generic, NamedTuple, Protocol, TypeVar

from airflow_mmc_provider.client.errors import NotFoundError
from airflow_mmc_provider.client.transport import Transport

log = logging.getLogger(__name__)

PAGE = 100


class Kind(NamedTuple):
    """One kind of object: its root field (`dataset`; a listing is the plural, `datasets`), the
    fields read, and what a missing one is told (`"dataset 'x' " + missing`)."""

    root: str
    fields: str
    missing: str = "does not exist"

    @property
    def label(self) -> str:
        return self.root[0].upper() + self.root[1:]


class _Named(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def created_at(self) -> str | None: ...


N = TypeVar("N", bound=_Named)


def get_by_id(transport: Transport, kind: Kind, object_id: str) -> dict[str, Any]:
    """The node of one object, as the SDK asks for it (`Get<Kind>PyApi`); `NotFoundError` when the
    service has none (it answers null, or a not-found error, for an id the API key cannot see)."""
    operation = f"Get{kind.label}PyApi"
    query = f"query {operation}($id: ID!){{{kind.root}(where: {{id: $id}}){{{kind.fields}}}}}"
    try:
        node = transport.execute(query, {"id": object_id}).get(kind.root)
    except NotFoundError:
        node = None
    if not node:
        raise NotFoundError(f"{kind.root} {object_id!r} {kind.missing}", operation=operation)
    return dict(node)


def live_nodes_named(transport: Transport, kind: Kind, name: str) -> Iterator[dict[str, Any]]:
    """Every node of a live (not deleted) object the name filter matches, page by page
    (`skip`/`first` paging, as the SDK's `Get<Kind>sPyApi` pages)."""
    query = (
        f"query Get{kind.label}sPyApi($name: String!, $deleted: Boolean!){{{kind.root}s(where: "
        "{AND: [{name: $name}, {deleted: $deleted}]} skip: %d first: %d)"
        f"{{{kind.fields}}}}}"
    )
    skip = 0
    while True:
        nodes = transport.execute(query % (skip, PAGE), {"name": name, "deleted": False}).get(f"{kind.root}s")
        yield from nodes or []
        if len(nodes or []) < PAGE:
            return
        skip += PAGE


def named(nodes: Iterable[Mapping[str, Any]], name: str, model: Callable[[Mapping[str, Any]], N]) -> list[N]:
    """The nodes named exactly `name`, as models, oldest first."""
    found = [model(n) for n in nodes if n.get("name") == name]
    return sorted(found, key=lambda m: (m.created_at or "", m.id))


def oldest(found: list[N], kind: str) -> N | None:
    """The object a name stands for in get-or-create: the oldest of `found` (all of one name)."""
    if len(found) > 1:
        log.warning(
            "%d Labelbox %s are named %r; using the oldest, %s", len(found), kind, found[0].name, found[0].id
        )
    return found[0] if found else None


class NamedResource(Generic[N]):
    """The calls of one kind of named object: `get` by id, `find_by_name`, `oldest_named`.

    A subclass says which `kind` it reads and how a node becomes its model (`_model`).
    """

    kind: ClassVar[Kind]

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def _model(self, node: Mapping[str, Any]) -> N:
        raise NotImplementedError

    def get(self, object_id: str) -> N:
        """The object with this id; `NotFoundError` when there is none the API key can see."""
        return self._model(get_by_id(self._transport, self.kind, object_id))

    def find_by_name(self, name: str) -> list[N]:
        """Every live object named exactly `name`, oldest first."""
        return named(live_nodes_named(self._transport, self.kind, name), name, self._model)

    def oldest_named(self, name: str) -> N | None:
        """The object `name` stands for in get-or-create (see `oldest`)."""
        return oldest(self.find_by_name(name), f"{self.kind.root}s")
