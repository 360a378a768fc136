"""Extra XCom keys, so DAGs can wire single values downstream (`op.output["batch_id"]`).

In Airflow `op.output["key"]` names an XCom key, not an item of the returned dict; operators push
the values users wire most often under their own keys besides returning the whole summary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def push_keys(context: Mapping[str, Any], summary: Mapping[str, Any], keys: Iterable[str]) -> None:
    ti = context.get("ti")
    if ti is None:
        return
    for key in keys:
        if key in summary:
            ti.xcom_push(key=key, value=summary[key])
