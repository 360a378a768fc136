"""Background work: tasks move from ``IN_PROGRESS`` to ``COMPLETE``/``FAILED`` off the request path.

One worker thread runs tasks in submission order, each after the configured delay (``--task-delay``),
so a client always observes ``IN_PROGRESS`` right after the mutation, exactly as with the service.
Handlers are registered per task type, so later task kinds (batches, exports) plug in here. Tasks
left unfinished by a stop are picked up again at start: the database is the queue of record.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping

from airflow_mmc_provider.emulator.store import FAILED, IN_PROGRESS, Store, Task

log = logging.getLogger(__name__)

TaskHandler = Callable[[Store, Task], None]


class TaskRunner:
    """Runs registered task handlers on one background thread."""

    def __init__(
        self,
        store: Store,
        handlers: Mapping[str, TaskHandler],
        *,
        delay: float = 0.0,
        delays: Mapping[str, float] | None = None,
    ) -> None:
        self._store = store
        self._handlers = dict(handlers)
        self._delay = max(0.0, delay)
        self._delays = {kind: max(0.0, seconds) for kind, seconds in (delays or {}).items()}
        # Earliest due first: tasks of different types wait different delays.
        self._queue: queue.PriorityQueue[tuple[float, int, str]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="emulator-tasks", daemon=True)

    def start(self) -> None:
        """Start the worker and resume tasks a previous run left in progress."""
        self._thread.start()
        for task in self._store.unfinished_tasks():
            self.submit(task.id, task.type)

    def submit(self, task_id: str, task_type: str | None = None) -> None:
        """Queue a task; it runs after the delay of its type (``--export-delay``) or the default one."""
        delay = self._delays.get(task_type, self._delay) if task_type else self._delay
        self._queue.put((time.monotonic() + delay, next(self._order), task_id))

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the task in hand (its transaction is all or nothing anyway), drop the rest."""
        self._stopping.set()
        self._queue.put((float("-inf"), -1, ""))
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            due, order, task_id = self._queue.get()
            if self._stopping.is_set():
                return
            wait = due - time.monotonic()
            if wait > 0:
                # Not due yet: look again soon, as a task due earlier may arrive meanwhile.
                self._queue.put((due, order, task_id))
                if self._stopping.wait(min(wait, 0.05)):
                    return
                continue
            self._run(task_id)

    def _run(self, task_id: str) -> None:
        task = self._store.get_task(task_id)
        if task is None or task.status != IN_PROGRESS:
            return  # wiped by a reset, or already finished
        handler = self._handlers.get(task.type)
        try:
            if handler is None:
                raise RuntimeError(f"no handler for task type {task.type!r}")
            handler(self._store, task)
        except Exception as exc:
            log.exception("task %s (%s) failed", task.id, task.type)
            self._store.finish_task(
                task.id, status=FAILED, result=None, errors=f"internal error: {exc}", metadata=None
            )
