"""What the emulator benchmarks share (`export.py`, `upsert.py`): the key they start the emulator
with, the models of their conversations and the data row those conversations are uploaded as."""

from __future__ import annotations

from typing import Any

API_KEY = "bench-api-key-0123456789"
MMC = "application/vnd.labelbox.conversational.model-chat-evaluation"
MODELS = ("gpt-4o", "claude-3-5", "gemini-1.5", "llama-3-70b")


def chat_row(key: str, actors: dict[str, Any], messages: dict[str, Any]) -> dict[str, Any]:
    """A data row to upload: global key `key`, a row_data v2 document rooted at the ``prompt`` message."""
    return {
        "global_key": key,
        "row_data": {
            "type": MMC,
            "version": 2,
            "actors": actors,
            "messages": messages,
            "rootMessageIds": ["prompt"],
        },
    }
