"""What operators hand downstream besides their return value: extra XCom keys and asset extras.

In Airflow `op.output["key"]` names an XCom key, not an item of the returned dict; operators push
the values users wire most often under their own keys besides returning the whole summary
(`push_keys`). Operators with `outlets` put their summary on each asset event as its extra, where
asset-scheduled DAGs read it (`set_asset_extras`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def push_keys(context: Mapping[str, Any], summary: Mapping[str, Any], keys: Iterable[str]) -> None:
    ti = context.get("ti")
    if ti is None:
        return
    for key in keys:
        if key in summary:
            ti.xcom_push(key=key, value=summary[key])


def set_asset_extras(
    context: Mapping[str, Any], outlets: Sequence[Any] | None, extra: Mapping[str, Any]
) -> None:
    """`extra` on the event of every asset in `outlets` (nothing outside a task run)."""
    outlet_events = context.get("outlet_events")
    if outlet_events is None:
        return
    for outlet in outlets or []:
        outlet_events[outlet].extra = dict(extra)
