"""Bounds on the admin settings (raters, faults, workflow moves), checked with one message form.

Without them a large rater count exhausted the machine's memory and a latency of 1e9 seconds held a
request forever. Every bound answers 400 with ``<field> must be ... between LOW and HIGH (got X)``;
NaN and infinities (which Python's JSON reader accepts) are outside every bound.
"""

from __future__ import annotations

import math
from collections.abc import Sized
from typing import Any

MAX_SEED = 2**63 - 1


class BoundError(ValueError):
    """A setting outside its bound; the message names the field, the bound and the value."""


def bounded(value: Any, key: str, low: float, high: float) -> float:
    """`value` as a float when it is a finite number in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BoundError(f"{key} must be a number between {low:g} and {high:g} (got {_shown(value)})")
    if not (math.isfinite(value) and low <= value <= high):
        raise BoundError(f"{key} must be between {low:g} and {high:g} (got {_shown(value)})")
    return float(value)


def bounded_whole(value: Any, key: str, low: int, high: int) -> int:
    """`value` when it is a whole number in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BoundError(f"{key} must be a whole number between {low} and {high} (got {_shown(value)})")
    return value


def seed(value: Any, key: str = "seed") -> int:
    return bounded_whole(value, key, -MAX_SEED - 1, MAX_SEED)


def at_most(items: Sized, key: str, limit: int) -> None:
    """Refuse a list or mapping of more than `limit` entries."""
    if len(items) > limit:
        raise BoundError(f"{key} may have at most {limit} entries (got {len(items)})")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
