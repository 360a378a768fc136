"""The deferrable-sensor pattern shared by Labelbox sensors (modelled on dbt Cloud's sensor).

Poke once; if not done and `deferrable`, hand the wait to a trigger whose wall-clock deadline is
the sensor's `timeout`, so the task holds no worker slot. On resume a `timeout` event becomes
`AirflowSensorTimeout` (or a skip with `soft_fail`), `failed`/`error` fail the task. The
connection (`hook`, `client`) and the building of the trigger on it (`poll_trigger`) are the
operators' own (`operators.base.LabelboxConnected`): a sensor only names its trigger and what it
waits for (`waiting_for`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
)

from airflow_mmc_provider.operators.base import DEFAULT_CONN_ID, DEFERRABLE, LabelboxConnected

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_mmc_provider.triggers.base import LabelboxPollTrigger


class LabelboxDeferrableSensor(LabelboxConnected, BaseSensorOperator):
    """Base class: subclasses give `poke` and `waiting_for()`, and `result(event)`.

    :param deferrable: wait in the triggerer instead of poking from a worker.
    :param labelbox_conn_id: the Labelbox connection (templated).
    """

    ui_color = "#e8e0ff"

    def __init__(
        self, *, deferrable: bool = DEFERRABLE, labelbox_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.deferrable = deferrable
        self.labelbox_conn_id = labelbox_conn_id

    def waiting_for(self) -> tuple[type[LabelboxPollTrigger], dict[str, Any]]:
        """The trigger that waits in the triggerer and its own arguments; every Labelbox sensor
        names its own (the connection, deadline and poll interval are the base's: `poll_trigger`)."""
        raise NotImplementedError(f"{type(self).__name__} does not say which trigger waits for it")

    def result(self, event: dict[str, Any]) -> Any:
        """The XCom value for a successful event."""
        return event

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        first = self.poke(context)
        if isinstance(first, PokeReturnValue) and first.is_done:
            return first.xcom_value
        if first is True:
            return None
        trigger, arguments = self.waiting_for()
        self.defer(
            trigger=self.poll_trigger(
                trigger, timeout=float(self.timeout), poll_interval=float(self.poke_interval), **arguments
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        status = event.get("status")
        if status == "success":
            return self.result(event)
        message = f"{self.task_id}: {event.get('message')}"
        if status == "timeout":
            if self.soft_fail:
                raise AirflowSkipException(f"Timed out (soft_fail): {message}")
            raise AirflowSensorTimeout(f"Timed out after {self.timeout}s: {message}")
        raise AirflowException(f"Labelbox wait ended in {status}: {message}")
