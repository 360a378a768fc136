"""Executing one GraphQL request against the SDL schema, with Labelbox-style error codes.

Every error leaves here with ``extensions.code`` (the SDK crashes with ``KeyError`` otherwise):
syntax errors are ``GRAPHQL_PARSE_FAILED``, schema violations ``GRAPHQL_VALIDATION_FAILED`` (both
HTTP 400, so the SDK raises ``InvalidQueryError``), bad variables ``INTERNAL_SERVER_ERROR`` with
``exception.status`` 400, resolver errors their own code, and anything unexpected
``INTERNAL_SERVER_ERROR`` with status 500 (not retried by the SDK, as a real 500 is not).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    build_schema,
    execute_sync,
    parse,
    validate,
)

from airflow_mmc_provider.emulator.errors import EmulatorError
from airflow_mmc_provider.emulator.graphql import registry
from airflow_mmc_provider.emulator.graphql.context import RequestContext

log = logging.getLogger(__name__)

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
MALFORMED_REQUEST = "MALFORMED_REQUEST"
INTERNAL = "INTERNAL_SERVER_ERROR"


@dataclass(frozen=True)
class GraphQLResponse:
    status: int
    body: dict[str, Any] = field(default_factory=dict)


def load_sdl() -> str:
    """The SDL shipped as package data."""
    return resources.files("airflow_mmc_provider.emulator").joinpath("schema.graphql").read_text("utf-8")


def build_executable_schema() -> GraphQLSchema:
    schema = build_schema(load_sdl())
    registry.bind(schema)
    return schema


def error_response(status: int, message: str, code: str, **extra: Any) -> GraphQLResponse:
    """A request-level failure: no `data`, one error carrying its code."""
    return GraphQLResponse(status, {"errors": [{"message": message, "extensions": {"code": code, **extra}}]})


class GraphQLService:
    """Parses (cached), validates and executes requests for one schema."""

    def __init__(self, schema: GraphQLSchema | None = None) -> None:
        self.schema = schema or build_executable_schema()
        self._prepare = lru_cache(maxsize=512)(self._prepare_uncached)

    def execute(
        self,
        query: Any,
        variables: Any,
        operation_name: Any,
        context: RequestContext,
    ) -> GraphQLResponse:
        if not isinstance(query, str) or not query.strip():
            return error_response(400, "The request has no GraphQL query string", MALFORMED_REQUEST)
        if variables is not None and not isinstance(variables, Mapping):
            return error_response(400, "'variables' must be a JSON object", MALFORMED_REQUEST)
        if operation_name is not None and not isinstance(operation_name, str):
            return error_response(400, "'operationName' must be a string", MALFORMED_REQUEST)
        document, early = self._prepare(query)
        if document is None:
            assert early is not None
            return early
        result = execute_sync(
            self.schema,
            document,
            variable_values=dict(variables) if variables is not None else None,
            operation_name=operation_name,
            context_value=context,
        )
        errors = [_format_error(error) for error in result.errors or ()]
        if result.data is None and errors:
            return GraphQLResponse(400, {"errors": errors})
        body: dict[str, Any] = {"data": result.data}
        if errors:
            body["errors"] = errors
        return GraphQLResponse(200, body)

    def _prepare_uncached(self, query: str) -> tuple[DocumentNode | None, GraphQLResponse | None]:
        try:
            document = parse(query)
        except GraphQLSyntaxError as error:
            return None, GraphQLResponse(400, {"errors": [_with_code(error, PARSE_FAILED)]})
        problems = validate(self.schema, document)
        if problems:
            return None, GraphQLResponse(
                400, {"errors": [_with_code(e, VALIDATION_FAILED) for e in problems]}
            )
        return document, None


def _with_code(error: GraphQLError, code: str, **extra: Any) -> dict[str, Any]:
    formatted = dict(error.formatted)
    extensions: dict[str, Any] = dict(error.extensions or {})
    formatted["extensions"] = {**extensions, "code": code, **extra}
    return formatted


def _format_error(error: GraphQLError) -> dict[str, Any]:
    original = error.original_error
    if isinstance(original, EmulatorError):
        formatted = dict(error.formatted)
        formatted["message"] = original.message
        formatted["extensions"] = original.extensions()
        return formatted
    if original is None or isinstance(original, GraphQLError):
        # Raised by graphql-core itself: variable coercion, unknown operation name, bad input values.
        return _with_code(error, INTERNAL, exception={"status": 400, "message": error.message})
    log.error("resolver failed at %s", error.path, exc_info=original)
    formatted = dict(error.formatted)
    formatted["message"] = f"Internal error: {original}"
    formatted["extensions"] = {"code": INTERNAL, "exception": {"status": 500, "message": str(original)}}
    return formatted
