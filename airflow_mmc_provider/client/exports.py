"""Exports: start an export task, then stream its RESULT or ERRORS file chunk by chunk.

Each chunk comes from its own URL (`exportFileFromOffset`); its length is checked against the
byte range the service announced, and a dropped or short download is fetched again from the last
verified offset, so the output is never restarted or duplicated. After the first look-up, later
chunks are looked up at guessed offsets, several in one request, and downloaded in threads ahead
of the consumer, each used only once it is known to start where the previous verified chunk ended
(see `iter_chunks`).
Lines are yielded as chunks arrive, so memory stays flat whatever the export size.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

import msgspec

from airflow_mmc_provider.client.errors import (
    AuthenticationError,
    AuthorizationError,
    LabelboxError,
    NetworkError,
    TaskFailedError,
)
from airflow_mmc_provider.client.export_spec import ExportParams, needs_user_timezone, search_query
from airflow_mmc_provider.client.tasks import Tasks
from airflow_mmc_provider.client.transport import Transport

log = logging.getLogger(__name__)

RESULT = "RESULT"
ERRORS = "ERRORS"
# Wrong offset guesses tolerated before falling back to one look-up per answer (see iter_chunks).
_MAX_MISSES = 3
# Guessed offsets located per request (GraphQL aliases of exportFileFromOffset in one query): one
# look-up per chunk cost a third of the client's download CPU, and as much again on the server.
LOOKAHEAD = 8
# Answers of a look-ahead older than this are looked up again: signed chunk URLs expire.
_LOOKAHEAD_MAX_AGE = 60.0


@dataclass(frozen=True)
class StreamHeader:
    """Size of one export stream, known before any byte is downloaded."""

    total_size: int
    total_lines: int


@dataclass(frozen=True)
class StreamSummary:
    bytes: int
    lines: int


class Exports:
    """Export calls for projects."""

    def __init__(
        self,
        transport: Transport,
        *,
        chunk_attempts: int = 8,
        prefetch: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._transport = transport
        self._chunk_attempts = chunk_attempts
        self._prefetch = max(1, prefetch)
        self._sleep = sleep
        self._timezone: str | None = None

    def start(
        self,
        project_id: str,
        *,
        params: ExportParams | Mapping[str, Any] | None = None,
        filters: Mapping[str, Any] | None = None,
        task_name: str | None = None,
    ) -> str:
        """Start a streamable project export and return its task id. Validates everything first."""
        export_params = params if isinstance(params, ExportParams) else ExportParams.from_mapping(params)
        zone = self.user_timezone() if needs_user_timezone(filters) else None
        query_items = search_query(filters, zone)
        input_: dict[str, Any] = {
            "taskName": task_name,
            "isStreamableReady": True,
            "filters": {"projectId": project_id, "searchQuery": {"scope": None, "query": query_items}},
            "params": export_params.to_wire(),
            "streamable": True,
        }
        # An export only reads; starting a second one after a lost answer is harmless.
        data = self._transport.execute(
            "mutation exportDataRowsInProjectPyApi($input: ExportDataRowsInProjectInput!)"
            "{exportDataRowsInProject(input: $input){taskId isStreamable}}",
            {"input": input_},
            timeout=180,
        )
        return str(data["exportDataRowsInProject"]["taskId"])

    def user_timezone(self) -> str:
        """The zone Labelbox reads offset-less dates in (the user's setting, UTC when unset)."""
        if self._timezone is None:
            user = self._transport.execute("query CurrentUserPyApi { user { timezone } }").get("user") or {}
            self._timezone = user.get("timezone") or "UTC"
        return self._timezone

    def header(self, task_id: str, stream: str = RESULT) -> StreamHeader | None:
        """Total bytes and lines of a stream, or None when the stream is empty or absent."""
        data = self._transport.execute(
            "query GetExportMetadataHeaderPyApi($where: WhereUniqueIdInput, $streamType: TaskStreamType!)"
            "{task(where: $where){exportMetadataHeader(streamType: $streamType){totalSize totalLines}}}",
            {"where": {"id": task_id}, "streamType": stream},
        )
        header = (data.get("task") or {}).get("exportMetadataHeader")
        if not header:
            return None
        return StreamHeader(int(header["totalSize"]), int(header["totalLines"]))

    def iter_chunks(self, task_id: str, stream: str = RESULT, *, offset: int = 0) -> Iterator[bytes]:
        """Verified chunks of the stream from `offset` on, in order, each exactly once.

        The service answers a look-up at any offset with a chunk that starts exactly there, so
        after the first answer the next offsets can be guessed (previous start + chunk size),
        located `LOOKAHEAD` at a time in one request, and up to `prefetch` downloads run in
        threads ahead of the consumer instead of one round trip at a time. A look-up request that
        is refused as a whole (a service that refuses a guess, or several offsets in one
        request) leaves each of its chunks to ask for itself, and later guesses are looked up
        one per chunk, in the threads; any other error reaches its chunks as their own look-ups'
        would. A located URL the service refuses at download (expired) is located again at once.
        A guess is only used once the chunk before it has been verified
        to end exactly where the guess begins; if chunk sizes vary, the unused guesses are
        dropped and the next offset is asked for again (and after `_MAX_MISSES` such misses the
        offsets are learnt from each answer, one look-up at a time), so no byte is duplicated or
        skipped whatever the service does.
        """
        header = self.header(task_id, stream)
        if header is None or offset >= header.total_size:
            return
        total = header.total_size
        first = self.locate_chunk(task_id, stream, offset)
        size = max(1, first[1] - first[0] + 1)
        pending: deque[tuple[int, Future[bytes]]] = deque()
        with ThreadPoolExecutor(max_workers=self._prefetch, thread_name_prefix="lb-export") as pool:
            try:
                yield from self._ordered_chunks(task_id, stream, offset, total, first, size, pool, pending)
            finally:
                for _, queued in pending:  # the consumer stopped or a chunk failed: start nothing more
                    queued.cancel()

    def _ordered_chunks(
        self,
        task_id: str,
        stream: str,
        offset: int,
        total: int,
        first: tuple[int, int, str],
        size: int,
        pool: ThreadPoolExecutor,
        pending: deque[tuple[int, Future[bytes]]],
    ) -> Iterator[bytes]:
        """The planning loop of `iter_chunks` (see there): guess, verify in order, re-plan."""
        located: tuple[int, int, str] | None = first
        planned, misses = offset, 0
        ahead: dict[int, _LookAhead] = {}  # guessed offsets -> the shared look-up that locates them
        last: _LookAhead | None = None
        while offset < total:
            if not pending and planned != offset:
                planned = offset  # the last guess ran past a chunk shorter than the others
            while len(pending) < self._prefetch and planned < total:
                if located is None and misses >= _MAX_MISSES:
                    located = self.locate_chunk(task_id, stream, planned)
                guessed = located is None and planned != offset
                if located is None and planned not in ahead and not (last is not None and last.failed):
                    guesses = range(planned, min(total, planned + LOOKAHEAD * size), size)
                    last = _LookAhead(self, task_id, stream, guesses)
                    ahead.update(dict.fromkeys(guesses, last))
                task = pool.submit(
                    self._verified_chunk,
                    task_id,
                    stream,
                    planned,
                    located,
                    guessed=guessed,
                    ahead=ahead.pop(planned, None) if located is None else None,
                )
                pending.append((planned, task))
                planned = located[1] + 1 if located is not None else planned + size
                located = None
            start, future = pending.popleft()
            try:
                if start != offset:
                    raise _Misguess  # the chunk before was not `size` bytes long
                chunk = future.result()
            except _Misguess:
                # Plan again from the last verified byte (now a known chunk boundary).
                misses += 1
                _drop(pending, future)
                ahead.clear()
                planned = offset
                continue
            yield chunk
            offset = start + len(chunk)
            if offset < total:
                size = len(chunk)

    def read(
        self,
        tasks: Tasks,
        project_id: str,
        *,
        what: str,
        filters: Mapping[str, Any],
        params: Mapping[str, Any] | None = None,
        poll_interval: float = 1.0,
    ) -> Iterator[dict[str, Any]]:
        """A small export the client reads for itself (`what` it is for), line by line, decoded.

        For the checks that ask Labelbox which rows a batch holds or where rows sit: started,
        waited for and streamed here, and refused when it does not complete, since a check that
        cannot read its answer must stop rather than guess.
        """
        task_id = self.start(project_id, params=params, filters=filters, task_name=f"check: {what}")
        task = tasks.wait(task_id, timeout=600, poll_interval=poll_interval)
        if not task.succeeded:
            raise TaskFailedError(
                f"the export reading {what} ended {task.status}", operation="exportDataRowsInProject"
            )
        for line in self.iter_lines(task_id):
            yield msgspec.json.decode(line)

    def iter_lines(self, task_id: str, stream: str = RESULT) -> Iterator[bytes]:
        """Each NDJSON line (without its newline) as soon as the chunk holding its end arrives."""
        carry = b""
        for chunk in self.iter_chunks(task_id, stream):
            lines = chunk.split(b"\n")
            if carry:  # join the cut line, not the whole chunk
                lines[0] = carry + lines[0]
            carry = lines.pop()
            yield from filter(None, lines)
        if carry.strip():
            yield carry

    def copy_to(self, task_id: str, target: IO[bytes], stream: str = RESULT) -> StreamSummary:
        """Write the whole stream to an open binary file; returns bytes and lines written."""
        size = lines = 0
        for chunk in self.iter_chunks(task_id, stream):
            target.write(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
        return StreamSummary(size, lines)

    def _verified_chunk(
        self,
        task_id: str,
        stream: str,
        offset: int,
        located: tuple[int, int, str] | None = None,
        *,
        guessed: bool = False,
        ahead: _LookAhead | None = None,
    ) -> bytes:
        """The chunk at `offset`, checked; retried from `offset` on a failed or short download.

        A `guessed` offset (not yet known to be a chunk boundary) that the service refuses or
        answers with a chunk starting elsewhere raises `_Misguess` at once: it is the guess that
        is wrong, so nothing is retried and the caller asks again at a known boundary. `ahead`
        is the shared look-up that locates `offset` with its neighbours.
        """
        from_ahead = False
        if located is None and ahead is not None:
            located = ahead.location(offset, guessed=guessed)
            from_ahead = located is not None
        problem = ""
        for attempt in range(1, self._chunk_attempts + 1):
            if located is None:
                try:
                    located = self.locate_chunk(task_id, stream, offset)
                except LabelboxError:
                    if guessed:
                        raise _Misguess from None
                    raise
            start, end, url = located
            if guessed and start != offset:
                raise _Misguess
            located = None  # a retry asks for a fresh URL for the same offset
            expected = end - start + 1
            try:
                body = self._transport.download(url)
            except NetworkError as error:
                problem = error.message
            except LabelboxError:
                if not from_ahead:
                    raise
                # A URL located ahead may have expired while earlier chunks were consumed
                # (signed URLs refuse with 400/403): ask for a fresh one, without waiting.
                from_ahead = False
                continue
            else:
                if start == offset and len(body) == expected > 0:
                    return body
                problem = (
                    f"got {len(body)} bytes from offset {start}, expected {expected} from offset {offset}"
                )
            log.warning(
                "Export %s %s chunk at byte %d failed (%s); fetching it again from the last verified offset "
                "(attempt %d of %d)",
                task_id,
                stream,
                offset,
                problem,
                attempt,
                self._chunk_attempts,
            )
            self._sleep(min(10.0, 0.2 * 2**attempt))
        raise LabelboxError(
            f"could not download export {task_id} {stream} at byte {offset} after {self._chunk_attempts} "
            f"attempts ({problem}); nothing partial was kept, run the download again",
            operation="exportFileFromOffset",
        )

    def locate_chunk(self, task_id: str, stream: str, offset: int) -> tuple[int, int, str]:
        """(first byte, last byte, URL) of the chunk that starts at `offset`."""
        data = self._transport.execute(
            "query GetExportFileFromOffsetPyApi($where: WhereUniqueIdInput, $streamType: TaskStreamType!, "
            "$offset: UInt64!){task(where: $where){exportFileFromOffset(streamType: $streamType, offset: $offset)"
            "{offsets {start end} lines {start end} file}}}",
            {"where": {"id": task_id}, "streamType": stream, "offset": str(offset)},
        )
        found = (data.get("task") or {}).get("exportFileFromOffset")
        if not found:
            raise LabelboxError(
                f"export {task_id} has no {stream} file at byte {offset}",
                operation="GetExportFileFromOffsetPyApi",
            )
        return _location(found)

    def locate_chunks(
        self, task_id: str, stream: str, offsets: Sequence[int]
    ) -> list[tuple[int, int, str] | None]:
        """`locate_chunk` for several offsets in one request (None where the service has no file)."""
        declared = "".join(f", $o{k}: UInt64!" for k in range(len(offsets)))
        fields = " ".join(
            f"c{k}: exportFileFromOffset(streamType: $streamType, offset: $o{k}){{offsets {{start end}} file}}"
            for k in range(len(offsets))
        )
        variables: dict[str, Any] = {"where": {"id": task_id}, "streamType": stream}
        variables.update((f"o{k}", str(offset)) for k, offset in enumerate(offsets))
        data = self._transport.execute(
            f"query GetExportFilesFromOffsets($where: WhereUniqueIdInput, $streamType: TaskStreamType!{declared})"
            f"{{task(where: $where){{{fields}}}}}",
            variables,
        )
        task = data.get("task") or {}
        answers = (task.get(f"c{k}") for k in range(len(offsets)))
        return [_location(answer) if answer else None for answer in answers]


def _location(answer: Mapping[str, Any]) -> tuple[int, int, str]:
    """(first byte, last byte, URL) from an `exportFileFromOffset` answer."""
    offsets = answer["offsets"]
    return int(offsets["start"]), int(offsets["end"]), str(answer["file"])


class _LookAhead:
    """The locations of several guessed offsets, looked up in one request by the first chunk
    download that needs one (any of them: whichever thread runs first asks, the others wait)."""

    def __init__(self, exports: Exports, task_id: str, stream: str, offsets: Sequence[int]) -> None:
        self._exports = exports
        self._task_id = task_id
        self._stream = stream
        self._offsets = offsets
        self._lock = threading.Lock()
        self._found: dict[int, tuple[int, int, str] | None] | None = None
        self._error: LabelboxError | None = None
        self._answered = 0.0
        self.failed = False  # refused as a whole: its chunks, and later ones, ask for themselves

    def location(self, offset: int, *, guessed: bool) -> tuple[int, int, str] | None:
        """Where the chunk at `offset` is, or None when the chunk is to look itself up.

        None: the request was refused as a whole (`failed`: a service that takes one offset per
        request, or refuses a guess), or the answer is older than `_LOOKAHEAD_MAX_AGE`. A guess
        the service has no file for raises `_Misguess`. An error that is not a refusal (network,
        rate limit, server, authentication) reaches every chunk of the look-up as a look-up of
        its own would: `_Misguess` for a guess, the error itself otherwise.
        """
        with self._lock:
            if self._found is None and self._error is None:
                self._look_up()
        if self._error is not None:
            if guessed:
                raise _Misguess
            raise self._error
        assert self._found is not None
        if offset not in self._found or time.monotonic() - self._answered > _LOOKAHEAD_MAX_AGE:
            return None
        found = self._found[offset]
        if found is None and guessed:
            raise _Misguess  # the service has no file at this guess
        return found

    def _look_up(self) -> None:
        try:
            answers = self._exports.locate_chunks(self._task_id, self._stream, self._offsets)
        except LabelboxError as error:
            if error.retryable or isinstance(error, AuthenticationError | AuthorizationError):
                self._error = error
                return
            self.failed, answers = True, []
        self._found = dict(zip(self._offsets, answers, strict=False))
        self._answered = time.monotonic()


class _Misguess(Exception):
    """A guessed offset the service does not start a chunk at (see `Exports._verified_chunk`)."""


def _drop(pending: deque[tuple[int, Future[bytes]]], first: Future[bytes]) -> None:
    """Forget planned downloads; those already running finish unused in the background."""
    first.cancel()
    for _, future in pending:
        future.cancel()
    pending.clear()
