"""What every resolver is given: the request's context (state, background runner, base URL)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from graphql import GraphQLResolveInfo

from airflow_mmc_provider.emulator import exports
from airflow_mmc_provider.emulator.jobs import TaskRunner
from airflow_mmc_provider.emulator.metadata import SchemaIndex
from airflow_mmc_provider.emulator.store import Store
from airflow_mmc_provider.emulator.workflow import StateCounts

Node = dict[str, Any]
Resolver = Callable[..., Any]
# Type name -> field name -> resolver: what each resource module contributes.
Resolvers = Mapping[str, Mapping[str, Resolver]]


@dataclass(frozen=True)
class UploadedPart:
    """A file part of a GraphQL multipart request, substituted for its variable before execution."""

    content: bytes
    filename: str | None
    content_type: str | None


@dataclass
class RequestContext:
    """What a resolver may use: the state, the background runner, and the URL the client called."""

    store: Store
    runner: TaskRunner
    base_url: str  # scheme://host[:port][root path], without a trailing slash
    # Per-request memo: one overview asks for the same counts up to five times.
    _counts: dict[tuple[str, tuple[str, ...] | None], StateCounts] = field(default_factory=dict, repr=False)
    _metadata: SchemaIndex | None = field(default=None, repr=False)
    export_chunk_bytes: int = exports.DEFAULT_CHUNK_BYTES

    @property
    def netloc(self) -> str:
        return urlsplit(self.base_url).netloc

    def file_url(self, file_id: str) -> str:
        return f"{self.base_url}/files/{file_id}"

    def metadata_index(self) -> SchemaIndex:
        """The organisation's metadata schemas, read once per request."""
        if self._metadata is None:
            self._metadata = SchemaIndex(self.store.metadata_schemas())
        return self._metadata

    def state_counts(self, project_id: str, batch_ids: list[str] | None = None) -> StateCounts:
        """The project's workflow counts (see `workflow`), computed once per request."""
        key = (project_id, None if batch_ids is None else tuple(sorted(set(batch_ids))))
        if key not in self._counts:
            self._counts[key] = self.store.state_counts(project_id, batch_ids)
        return self._counts[key]


def request_context(info: GraphQLResolveInfo) -> RequestContext:
    found: RequestContext = info.context
    return found


def store_of(info: GraphQLResolveInfo) -> Store:
    return request_context(info).store
