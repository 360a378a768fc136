"""Identifiers and timestamps in the shapes Labelbox clients expect.

Ids are 25-character, lowercase, cuid-like strings starting with ``c`` (the SDK and users treat ids
as opaque, but some validate the length), and timestamps use the one format the SDK parses without
a warning: ``YYYY-MM-DDTHH:MM:SS.fffZ``.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from datetime import datetime, timezone

_counter = itertools.count()
_counter_lock = threading.Lock()


def new_id() -> str:
    """A fresh id: ``c`` + 11 hex digits of milliseconds + 4 of a counter + 9 random (25 in all).

    Lowercase alphanumerics like a cuid. The time prefix keeps ids roughly ordered by creation
    (handy in logs); the counter separates ids made in the same millisecond and the random tail
    separates processes. Plain formatting keeps it cheap: an upsert makes 20,000 at once.
    """
    with _counter_lock:
        count = next(_counter) & 0xFFFF
    millis = int(time.time() * 1000) & 0xFFFFFFFFFFF
    return f"c{millis:011x}{count:04x}{secrets.randbits(36):09x}"


def format_timestamp(moment: datetime) -> str:
    """``2024-01-01T00:00:00.000Z`` for an aware or naive-UTC datetime."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now() -> str:
    """The current time in the wire format."""
    return format_timestamp(datetime.now(timezone.utc))
