"""The HTTP surface: GraphQL on `/graphql` and `/_gql`, file URLs, and the loopback admin endpoints.

`POST /graphql` and `POST /_gql` serve the same schema and accept JSON bodies and GraphQL multipart
requests (`operations`, `map`, file parts with any filename and content type: the SDK swaps them for
data-row chunks). File URLs (`GET /files/{id}`) and task result documents are not authenticated,
like the service's signed URLs, and are never served through a symbolic link. `/_emulator/*` answers
loopback clients that send the admin token or the API key only (see `admin`) and never gets faults:
``health``, ``faults`` (see `faults`), ``reset``, ``workflow`` (move data rows through a
project's workflow and read a row's history; request format in `workflow`) and ``raters`` (the
simulated raters' config, see `raters`). Export chunks and the export_v2 result URLs are served
without authentication too (see `exports`).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from airflow_mmc_provider.emulator import admin, exports, upserts, workflow
from airflow_mmc_provider.emulator.errors import AuthenticationFailed
from airflow_mmc_provider.emulator.faults import FaultConfig, FaultInjector
from airflow_mmc_provider.emulator.graphql.context import RequestContext, UploadedPart
from airflow_mmc_provider.emulator.graphql_api import MALFORMED_REQUEST, GraphQLService, error_response
from airflow_mmc_provider.emulator.jobs import TaskRunner
from airflow_mmc_provider.emulator.raters import RaterConfig, RaterSimulator
from airflow_mmc_provider.emulator.store import Store

Endpoint = Callable[[Request], Awaitable[Response]]
MAX_PART_BYTES = 256 * 1024 * 1024
_UNAUTHENTICATED = AuthenticationFailed("Invalid API key")


@dataclass
class EmulatorState:
    """Everything one running emulator owns."""

    store: Store
    runner: TaskRunner
    faults: FaultInjector
    graphql: GraphQLService
    api_key: str
    raters: RaterSimulator
    export_chunk_bytes: int = exports.DEFAULT_CHUNK_BYTES
    admin_token: str = field(default="", repr=False)


class BadRequest(ValueError):
    """The HTTP request is not a GraphQL request we can read (answered 400 MALFORMED_REQUEST)."""


def create_app(state: EmulatorState) -> Starlette:
    """The Starlette app; its lifespan starts and stops the background task runner."""
    endpoints = _Endpoints(state)
    _admin = _admin_guard(state)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.runner.start()
        state.raters.start()
        try:
            yield
        finally:
            state.raters.stop()
            state.runner.stop()
            state.store.close()

    routes = [
        Route("/graphql", endpoints.graphql, methods=["POST"]),
        Route("/_gql", endpoints.graphql, methods=["POST"]),
        Route("/files/{file_id}", endpoints.file, methods=["GET", "HEAD"]),
        Route("/task-results/{task_id}", endpoints.task_result, methods=["GET"]),
        Route(
            "/export-chunks/{task_id}/{stream}/{start:int}-{end:int}", endpoints.export_chunk, methods=["GET"]
        ),
        Route("/api/v1/export-results/{task_id}/{org_id}", endpoints.export_results, methods=["GET"]),
        Route("/api/v1/export-errors/{task_id}/{org_id}", endpoints.export_errors, methods=["GET"]),
        Route("/_emulator/health", _admin(endpoints.health), methods=["GET"]),
        Route("/_emulator/faults", _admin(endpoints.faults), methods=["GET", "POST", "DELETE"]),
        Route("/_emulator/reset", _admin(endpoints.reset), methods=["POST"]),
        Route("/_emulator/workflow", _admin(endpoints.workflow), methods=["GET", "POST"]),
        Route("/_emulator/raters", _admin(endpoints.raters), methods=["GET", "POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


class _Endpoints:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    # --- GraphQL ---------------------------------------------------------------------------------

    async def graphql(self, request: Request) -> Response:
        if not self._authorized(request):
            body = {
                "data": None,
                "errors": [
                    {"message": _UNAUTHENTICATED.message, "extensions": _UNAUTHENTICATED.extensions()}
                ],
            }
            return JSONResponse(body, status_code=401)
        try:
            payload = await read_graphql_request(request)
        except BadRequest as exc:
            failure = error_response(400, str(exc), MALFORMED_REQUEST)
            return JSONResponse(failure.body, status_code=failure.status)
        context = RequestContext(
            self.state.store,
            self.state.runner,
            str(request.base_url).rstrip("/"),
            export_chunk_bytes=self.state.export_chunk_bytes,
        )
        response = await run_in_threadpool(
            self.state.graphql.execute,
            payload.get("query"),
            payload.get("variables"),
            payload.get("operationName"),
            context,
        )
        return JSONResponse(response.body, status_code=response.status)

    def _authorized(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self.state.api_key.encode()
        )

    # --- files -----------------------------------------------------------------------------------

    async def file(self, request: Request) -> Response:
        """The stored bytes, read through a descriptor opened without following links (a stored
        file replaced by a symbolic link is 404, not the link's target)."""
        store = self.state.store
        stored = store.get_file(request.path_params["file_id"])
        opened = None if stored is None else await run_in_threadpool(store.open_file, stored.id)
        if stored is None or opened is None:
            return JSONResponse({"message": "No such file"}, status_code=404)
        media_type = stored.content_type if stored.content_type and "/" in stored.content_type else None
        headers = {"content-length": str(opened.size)}
        if request.method == "HEAD":
            opened.close()
            return Response(headers=headers, media_type=media_type or "application/octet-stream")
        return StreamingResponse(
            iterate_in_threadpool(opened.chunks()),
            headers=headers,
            media_type=media_type or "application/octet-stream",
        )

    async def task_result(self, request: Request) -> Response:
        task = self.state.store.get_task(request.path_params["task_id"])
        if task is None or task.type != upserts.TASK_TYPE:
            return JSONResponse({"message": "No such task result"}, status_code=404)
        document = await run_in_threadpool(upserts.result_document, self.state.store, task)
        return JSONResponse(document)

    async def export_chunk(self, request: Request) -> Response:
        """One chunk of an export stream: exactly the bytes its `exportFileFromOffset` answer named."""
        task_id, stream = request.path_params["task_id"], request.path_params["stream"]
        start, end = request.path_params["start"], request.path_params["end"]
        header = self.state.store.export_stream(task_id, stream) if stream in exports.STREAM_TYPES else None
        if header is None or not 0 <= start <= end < header[0]:
            return JSONResponse({"message": "No such export chunk"}, status_code=404)
        body = await run_in_threadpool(exports.read_range, self.state.store, task_id, stream, start, end)
        return Response(body, media_type="application/x-ndjson")

    async def export_results(self, request: Request) -> Response:
        return self._whole_stream(request.path_params["task_id"], exports.RESULT)

    async def export_errors(self, request: Request) -> Response:
        return self._whole_stream(request.path_params["task_id"], exports.ERRORS)

    def _whole_stream(self, task_id: str, stream: str) -> Response:
        """The export_v2 result/error URL: the whole stream (empty when there is none)."""
        task = self.state.store.get_task(task_id)
        if task is None or task.type != exports.TASK_TYPE:
            return JSONResponse({"message": "No such export"}, status_code=404)
        if self.state.store.export_stream(task_id, stream) is None:
            return Response(b"", media_type="application/x-ndjson")
        return StreamingResponse(
            iterate_in_threadpool(exports.iter_stream(self.state.store, task_id, stream)),
            media_type="application/x-ndjson",
        )

    async def raters(self, request: Request) -> Response:
        """POST sets (or, with null, clears) the simulated raters' config; GET shows it (see `raters`)."""
        return await _raters(self.state, request)

    # --- admin (loopback, token; see `admin`) ------------------------------------------------------

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def faults(self, request: Request) -> Response:
        injector = self.state.faults
        if request.method == "POST":
            try:
                injector.configure(FaultConfig.from_json(await admin.read_json(request)))
            except ValueError as exc:  # bad JSON or a bad setting
                return _invalid("fault configuration", exc)
        elif request.method == "DELETE":
            injector.clear()
        return JSONResponse(injector.stats())

    async def reset(self, request: Request) -> Response:
        await run_in_threadpool(self.state.store.reset)
        return JSONResponse({"status": "reset"})

    async def workflow(self, request: Request) -> Response:
        """POST moves rows to a workflow state; GET reports one row's state and history."""
        store = self.state.store
        if request.method == "GET":
            project_id = request.query_params.get("project_id", "")
            data_row_id = request.query_params.get("data_row_id", "")
            found = await run_in_threadpool(store.workflow_of, project_id, data_row_id)
            if found is None:
                return JSONResponse(
                    {"message": f"Data row {data_row_id!r} is not in project {project_id!r}"}, status_code=404
                )
            return JSONResponse(found)
        try:
            move = workflow.parse_move(await admin.read_json(request))
        except ValueError as exc:  # bad JSON or a bad request
            return _invalid("workflow move", exc)
        try:
            result = await run_in_threadpool(store.move_workflow, move)
        except LookupError as exc:
            return JSONResponse({"message": str(exc)}, status_code=404)
        return JSONResponse({"moved": result.moved, "not_in_project": result.not_in_project})


async def _raters(state: EmulatorState, request: Request) -> Response:
    if request.method == "POST":
        try:
            state.raters.configure(RaterConfig.from_json(await admin.read_json(request)))
        except ValueError as exc:  # bad JSON or a bad setting
            return _invalid("rater configuration", exc)
    config = state.raters.config
    return JSONResponse(
        {"config": None if config is None else config.to_json(), "labelled_rows": state.raters.labelled_rows}
    )


def _invalid(what: str, error: ValueError) -> Response:
    """400 (413 for a body too large) naming what was invalid and why."""
    status = error.status if isinstance(error, admin.AdminBodyError) else 400
    return JSONResponse({"message": f"Invalid {what}: {error}"}, status_code=status)


def _admin_guard(state: EmulatorState) -> Callable[[Endpoint], Endpoint]:
    """Wraps each admin endpoint at its route: `admin.refusal` decides who may call it."""

    def guard(endpoint: Endpoint) -> Endpoint:
        async def guarded(request: Request) -> Response:
            refused = admin.refusal(request, (state.admin_token, state.api_key))
            return refused or await endpoint(request)

        return guarded

    return guard


# --- reading GraphQL requests --------------------------------------------------------------------


async def read_graphql_request(request: Request) -> dict[str, Any]:
    """The `{query, variables, operationName}` object of a JSON or multipart request."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await _read_multipart(request)
    try:
        payload = json.loads(await request.body())
    except ValueError:
        raise BadRequest("The request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise BadRequest(
            "The request body must be one JSON object {query, variables} (batches are not supported)"
        )
    return payload


async def _read_multipart(request: Request) -> dict[str, Any]:
    """GraphQL multipart request spec: substitute each mapped file part into `operations`."""
    try:
        form = await request.form(max_files=10_000, max_fields=10_000, max_part_size=MAX_PART_BYTES)
    except MultiPartException as exc:
        raise BadRequest(f"Malformed multipart request: {exc.message}") from None
    try:
        operations = _json_field(form.get("operations"), "operations")
        file_map = _json_field(form.get("map") or "{}", "map")
        if not isinstance(operations, dict) or not isinstance(file_map, dict):
            raise BadRequest("'operations' and 'map' must be JSON objects")
        for part_name, paths in file_map.items():
            part = await _uploaded_part(form.get(part_name), part_name)
            for path in paths if isinstance(paths, list) else [paths]:
                _substitute(operations, str(path), part)
        return operations
    finally:
        await form.close()


def _json_field(value: Any, name: str) -> Any:
    if not isinstance(value, str):
        raise BadRequest(f"The multipart request has no '{name}' field")
    try:
        return json.loads(value)
    except ValueError:
        raise BadRequest(f"The multipart '{name}' field is not valid JSON") from None


async def _uploaded_part(part: Any, name: str) -> UploadedPart:
    if isinstance(part, UploadFile):
        return UploadedPart(await part.read(), part.filename, part.content_type)
    if isinstance(part, str):
        return UploadedPart(part.encode("utf-8"), None, None)
    raise BadRequest(f"The multipart 'map' names part {name!r}, which the request does not contain")


def _substitute(operations: dict[str, Any], path: str, part: UploadedPart) -> None:
    """Put `part` at a dotted path such as `variables.file` or `variables.files.0`."""
    *parents, last = path.split(".")
    node: Any = operations
    try:
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = part
        elif isinstance(node, dict):
            node[last] = part
        else:
            raise TypeError(path)
    except (KeyError, IndexError, ValueError, TypeError):
        raise BadRequest(f"The multipart 'map' path {path!r} does not exist in 'operations'") from None
