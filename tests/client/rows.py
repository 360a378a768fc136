"""A one-message multimodal chat data row, as the client and operator tests upload it."""

from __future__ import annotations

from typing import Any

MMC = "application/vnd.labelbox.conversational.model-chat-evaluation"


def chat_row(key: str, text: str = "Hello", **fields: Any) -> dict[str, Any]:
    """A data row keyed `key` whose row_data v2 document holds one human message, `text`."""
    return {
        "global_key": key,
        **fields,
        "row_data": {
            "type": MMC,
            "version": 2,
            "actors": {"u": {"role": "human", "metadata": {"name": "User"}}},
            "messages": {
                "m": {"actorId": "u", "content": [{"type": "text", "content": text}], "childMessageIds": []}
            },
            "rootMessageIds": ["m"],
        },
    }
