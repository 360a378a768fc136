"""Labelbox's own sample documents (seed pages) and a canonical form to compare graphs by shape."""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


def load_sample(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return result


def canonical(document: dict[str, Any]) -> dict[str, Any]:
    """The document with ids replaced by their breadth-first rank, so two graphs compare by shape."""
    order: list[str] = []
    queue = deque(document["rootMessageIds"])
    while queue:
        current = queue.popleft()
        if current not in order:
            order.append(current)
            queue.extend(document["messages"][current]["childMessageIds"])
    message_ids = {m: f"m{i}" for i, m in enumerate(order)}
    actor_ids: dict[str, str] = {}
    for message_id in order:
        actor_ids.setdefault(document["messages"][message_id]["actorId"], f"a{len(actor_ids)}")
    return {
        "type": document["type"],
        "version": document["version"],
        "actors": {actor_ids[a]: document["actors"][a] for a in actor_ids},
        "messages": {
            message_ids[m]: {
                "actorId": actor_ids[document["messages"][m]["actorId"]],
                "content": document["messages"][m]["content"],
                "childMessageIds": [message_ids[c] for c in document["messages"][m]["childMessageIds"]],
            }
            for m in order
        },
        "rootMessageIds": [message_ids[r] for r in document["rootMessageIds"]],
    }
