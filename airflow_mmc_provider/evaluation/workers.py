"""The streaming pass spread over worker processes: whole rows go out in batches, states come back.

Why processes: the pass is pure-Python work per judgment, so threads would share one core; an
accumulator is a sum (see `LeaderboardAccumulator.merge`), so rows can be counted anywhere as long
as no data row is split, and the merged result is the one a single pass gives (same `to_state`).

How: the calling process keeps reading rows. Each batch of rows goes to the worker with the
fewest bytes in flight, encoded with msgspec's MessagePack (the record types are msgspec
structs); when every worker already has `_IN_FLIGHT_BYTES` queued, the calling process counts the
batch itself. So the split follows the workers' actual speed, nobody waits for anybody, and at
most ``workers x _IN_FLIGHT_BYTES`` are in flight at once. At the end each worker sends its
state (`to_state`), which the caller merges.

Workers are started with the ``spawn`` method: safe inside a process with threads (an Airflow
task), at the price of about a quarter of a second to start. A worker that fails reports its
error, and the caller raises it; a worker that dies is reported by its exit code.
"""

from __future__ import annotations

import multiprocessing
import select
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any, Final

import msgspec

from airflow_mmc_provider.mmc.export import LabelRecord

if TYPE_CHECKING:
    from airflow_mmc_provider.evaluation.accumulator import LeaderboardAccumulator

__all__ = ["Conversation", "accumulate_in_workers"]

# (bootstrap unit, the labels of one data row)
Conversation = tuple[str, Sequence[LabelRecord]]

BATCH_ROWS: Final = 16  # rows per message (~30 KB of MessagePack for rows of a few labels)
# Bytes sent to a worker and not yet acknowledged. Kept under the socket's send buffer (Linux's
# default is about 200 KB) so that a send never blocks: a caller blocked in a send is a core idle,
# and it would push every row to the workers instead of counting its share.
_IN_FLIGHT_BYTES: Final = 96 * 1024
_ACK: Final = b"A"
_STATE: Final = b"S"
_ERROR: Final = b"E"
_END: Final = b""


class WorkerError(RuntimeError):
    """A leaderboard worker process failed; the message carries its error."""


class _Worker:
    def __init__(self, config: dict[str, Any]) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_serve, args=(child, config), name="mmc-leaderboard-worker", daemon=True
        )
        try:
            self.process.start()
        except AssertionError as error:  # multiprocessing's refusal inside a daemonic process
            self.connection.close()
            child.close()
            raise WorkerError(
                f"cannot start leaderboard worker processes here ({error}); this happens in daemonic "
                "processes such as a Celery prefork pool's: use workers=1 there"
            ) from None
        child.close()
        # Connection.poll builds a selector on every call (tens of microseconds, once per batch
        # and worker); a poll object registered once answers in one C call.
        self._readable = select.poll()
        self._readable.register(self.connection.fileno(), select.POLLIN)
        self.sizes: deque[int] = deque()  # of the batches sent and not yet acknowledged
        self.in_flight = 0  # their bytes

    def collect_acks(self) -> None:
        while self.sizes and self._readable.poll(0):
            self._expect(_ACK)
            self.in_flight -= self.sizes.popleft()

    def takes(self, size: int) -> bool:
        return not self.sizes or self.in_flight + size <= _IN_FLIGHT_BYTES

    def send(self, message: bytes) -> None:
        self._send(message)
        self.sizes.append(len(message))
        self.in_flight += len(message)

    def finish(self) -> dict[str, Any]:
        """Ask for the worker's state once it has counted everything sent."""
        self._send(_END)
        while self.sizes:
            self._expect(_ACK)
            self.in_flight -= self.sizes.popleft()
        state: dict[str, Any] = msgspec.msgpack.decode(self._expect(_STATE))
        self.process.join()
        return state

    def _send(self, message: bytes) -> None:
        try:
            self.connection.send_bytes(message)
        except OSError:  # the worker is gone; its own report, if any, says why
            if self.connection.poll():
                self._expect(_ACK)
            raise self._exited() from None

    def _expect(self, kind: bytes) -> bytes:
        try:
            message = self.connection.recv_bytes()
        except (EOFError, OSError):
            raise self._exited() from None
        if message[:1] == _ERROR:
            raise WorkerError(f"leaderboard worker failed: {message[1:].decode(errors='replace')}")
        if message[:1] != kind:
            raise WorkerError(f"leaderboard worker sent {message[:1]!r}, expected {kind!r}")
        return message[1:]

    def _exited(self) -> WorkerError:
        self.process.join(timeout=5)
        return WorkerError(
            f"leaderboard worker {self.process.pid} exited (code {self.process.exitcode}) before "
            "sending its results"
        )

    def close(self) -> None:
        self.connection.close()
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(timeout=5)


def _serve(connection: Connection, config: dict[str, Any]) -> None:
    """A worker's main loop: count each batch, acknowledge it, send the state at the end."""
    from airflow_mmc_provider.evaluation.accumulator import LeaderboardAccumulator

    decoder = msgspec.msgpack.Decoder(list[tuple[str, tuple[LabelRecord, ...]]])
    try:
        accumulator = LeaderboardAccumulator(**config)
        while message := connection.recv_bytes():
            for conversation_id, labels in decoder.decode(message):
                accumulator.add_row(labels, conversation_id=conversation_id)
            connection.send_bytes(_ACK)
        connection.send_bytes(_STATE + msgspec.msgpack.encode(accumulator.to_state()))
    except Exception as error:  # reported to the caller, which raises it
        connection.send_bytes(_ERROR + f"{type(error).__name__}: {error}".encode())
    finally:
        connection.close()


def _batches(conversations: Iterable[Conversation], size: int) -> Iterator[list[Conversation]]:
    batch: list[Conversation] = []
    for conversation in conversations:
        batch.append(conversation)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def accumulate_in_workers(
    accumulator: LeaderboardAccumulator, conversations: Iterable[Conversation], workers: int
) -> None:
    """Add `conversations` to `accumulator` using this process and ``workers - 1`` others."""
    config = accumulator.config.as_dict()  # the constructor's keyword arguments, plain data
    encoder = msgspec.msgpack.Encoder()
    pool: deque[_Worker] = deque()
    try:
        for _ in range(workers - 1):
            pool.append(_Worker(config))
        expected = 0
        for batch in _batches(conversations, BATCH_ROWS):
            for worker in pool:
                worker.collect_acks()
            idle = min(pool, key=lambda w: w.in_flight)
            if idle.takes(expected):  # the size of the last batch sent: no encoding to find out
                message = encoder.encode(batch)
                idle.send(message)
                expected = len(message)
            else:  # every worker is busy: count this batch here
                for conversation_id, labels in batch:
                    accumulator.add_row(labels, conversation_id=conversation_id)
        states = [worker.finish() for worker in pool]
    finally:
        for worker in pool:
            worker.close()
    for state in states:
        accumulator.merge(type(accumulator).from_state(state))
