"""`LabelboxBaseOperator`: what every Labelbox operator has in common, in one place.

- the connection: `labelbox_conn_id`, the `hook` built from it and the `client` it gives, and
  `poll_trigger`, the one place a wait handed to the triggerer is built: on the task's connection,
  with a wall-clock deadline that travels in the trigger's payload (`LabelboxConnected`, which the
  sensors share);
- for operators that wait (`LabelboxDeferrableOperator`): the wait's timeout, poll interval and
  `deferrable` switch, and one `wait_or_defer`: wait in the worker, or defer to that trigger, so a
  deferred task holds no worker slot; `resumed` reads the trigger's event back.

Nothing here is imported from the client or the hook at module level: DAG files import operator
modules on every parse, and the client pulls in requests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.providers.common.compat.sdk import AirflowException, BaseOperator, conf

if TYPE_CHECKING:
    from airflow_mmc_provider.client import LabelboxClient
    from airflow_mmc_provider.client.models import Task
    from airflow_mmc_provider.hooks.labelbox import LabelboxHook
    from airflow_mmc_provider.triggers.base import LabelboxPollTrigger

T = TypeVar("T")
P = TypeVar("P", bound="LabelboxPollTrigger")

DEFAULT_CONN_ID = "labelbox_default"
DEFERRABLE = conf.getboolean("operators", "default_deferrable", fallback=False)
_ENDED = ("timeout", "error")  # trigger events a task cannot go on from


class LabelboxConnected:
    """The Labelbox connection of a task: set `labelbox_conn_id`, use `hook` and `client`.

    The hook (and so the client and its HTTP session) is built once per task instance, when
    first used, after templates are rendered.
    """

    labelbox_conn_id: str

    @cached_property
    def hook(self) -> LabelboxHook:
        from airflow_mmc_provider.hooks.labelbox import LabelboxHook

        return LabelboxHook(self.labelbox_conn_id)

    @property
    def client(self) -> LabelboxClient:
        return self.hook.get_conn()

    def poll_trigger(self, trigger: type[P], *, timeout: float, poll_interval: float, **arguments: Any) -> P:
        """`trigger(**arguments)` on this task's connection, due `timeout` seconds from now: the
        deadline is a wall-clock time, so it holds on whichever triggerer picks the wait up."""
        return trigger(
            labelbox_conn_id=self.labelbox_conn_id,
            end_time=time.time() + timeout,
            poll_interval=poll_interval,
            **arguments,
        )


class LabelboxBaseOperator(LabelboxConnected, BaseOperator):
    """Base class of the Labelbox operators.

    :param labelbox_conn_id: the Labelbox connection (templated).
    """

    template_fields: Sequence[str] = ("labelbox_conn_id",)
    ui_color = "#e8e0ff"

    def __init__(self, *, labelbox_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.labelbox_conn_id = labelbox_conn_id


class LabelboxDeferrableOperator(LabelboxBaseOperator):
    """Base class of the operators that wait for Labelbox; they resume in `execute_complete`.

    :param wait_timeout: seconds to wait (default: the operator's `default_wait_timeout`).
    :param poll_interval: seconds between status checks.
    :param deferrable: wait in the triggerer instead of holding a worker slot.
    """

    default_wait_timeout = 3600.0

    def __init__(
        self,
        *,
        wait_timeout: float | None = None,
        poll_interval: float = 5.0,
        deferrable: bool = DEFERRABLE,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.wait_timeout = self.default_wait_timeout if wait_timeout is None else wait_timeout
        self.poll_interval = poll_interval
        self.deferrable = deferrable

    def wait_or_defer(self, trigger: type[LabelboxPollTrigger], wait: Callable[[], T], **arguments: Any) -> T:
        """`wait()` in the worker, or, when deferrable, defer to `trigger(**arguments)` with this
        operator's connection, deadline and poll interval (the task resumes in `execute_complete`)."""
        if self.deferrable:
            self.defer(
                trigger=self.poll_trigger(
                    trigger, timeout=self.wait_timeout, poll_interval=self.poll_interval, **arguments
                ),
                method_name="execute_complete",
            )
        return wait()

    def wait_for_task(self, task_id: str, context: dict[str, Any] | None = None) -> Task:
        """The Labelbox task (upsert, batch, export) once it has ended; `context` is what
        `execute_complete` needs back after a deferral (it finds the task in `event["task"]`)."""
        from airflow_mmc_provider.triggers.tasks import LabelboxTaskTrigger

        def wait() -> Task:
            return self.client.tasks.wait(
                task_id, timeout=self.wait_timeout, poll_interval=self.poll_interval
            )

        return self.wait_or_defer(LabelboxTaskTrigger, wait, labelbox_task_id=task_id, context=context)

    def resumed(
        self, event: Mapping[str, Any], waiting_for: str, *, failed_ok: bool = True
    ) -> Mapping[str, Any]:
        """The trigger's event, unless the wait timed out or broke (or, unless `failed_ok`, did
        not succeed): then the task fails saying what it was `waiting_for`. With `failed_ok`, a
        `failed` wait is the operator's to report, with what it knows of the failure."""
        status = event.get("status")
        if status in _ENDED or (status != "success" and not failed_ok):
            raise AirflowException(f"{waiting_for} ended in {status}: {event.get('message')}")
        return event
