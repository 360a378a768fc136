"""The family of Labelbox waits run by the triggerer: one poll loop, one event contract.

Each subclass says how to look once (`check`); the base class owns the loop, the wall-clock
deadline (passed in by the operator, as dbt Cloud's trigger does, so it survives a move to another
triggerer) and the event: exactly one of `success`, `failed`, `timeout` or `error`, always with
`context` (opaque JSON the operator needs back; `airflow dags test` drops defer kwargs).
"""

from __future__ import annotations

import abc
import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.triggers.base import BaseTrigger, TriggerEvent

if TYPE_CHECKING:
    from airflow_mmc_provider.client import LabelboxClient


@dataclass
class Poll:
    """One look at the thing being waited for."""

    done: bool
    succeeded: bool = True
    message: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


class LabelboxPollTrigger(BaseTrigger):
    """Base class: poll `check` until it says done, or until `end_time` (epoch seconds).

    A subclass names its own constructor arguments in `own_fields`; they go, as attributes of
    the same names, into its `serialize()` payload and into every event it yields.
    """

    own_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        labelbox_conn_id: str,
        end_time: float,
        poll_interval: float = 5.0,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.labelbox_conn_id = labelbox_conn_id
        self.end_time = end_time
        self.poll_interval = poll_interval
        self.context = context or {}

    @abc.abstractmethod
    def check(self, client: LabelboxClient) -> Poll:
        """Look once (runs in a worker thread, so the synchronous client is fine here)."""

    def own_kwargs(self) -> dict[str, Any]:
        """The subclass's constructor arguments, as plain JSON."""
        return {name: getattr(self, name) for name in self.own_fields}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        kwargs = {
            "labelbox_conn_id": self.labelbox_conn_id,
            "end_time": self.end_time,
            "poll_interval": self.poll_interval,
            "context": self.context,
            **self.own_kwargs(),
        }
        return f"{type(self).__module__}.{type(self).__qualname__}", kwargs

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_mmc_provider.hooks.labelbox import LabelboxHook

        event: dict[str, Any]
        try:
            client = await LabelboxHook(self.labelbox_conn_id).aget_conn()
            event = await self._poll(client)
        except Exception as error:
            event = {"status": "error", "message": str(error)}
        yield TriggerEvent({**event, **self.own_kwargs(), "context": self.context})

    async def _poll(self, client: LabelboxClient) -> dict[str, Any]:
        while True:
            poll = await asyncio.to_thread(self.check, client)
            if poll.done:
                status = "success" if poll.succeeded else "failed"
                return {"status": status, "message": poll.message, **poll.payload}
            remaining = self.end_time - time.time()
            if remaining <= 0:
                return {"status": "timeout", "message": f"{poll.message} at the deadline", **poll.payload}
            self.log.debug("Labelbox wait: %s", poll.message)
            await asyncio.sleep(min(self.poll_interval, remaining + 0.01))
