"""Get-or-create by a stable key, safe when the answer to a create is lost.

A create whose connection broke after it was sent may or may not have happened (`ambiguous`);
looking again before creating again is what keeps a retried task from making a second copy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from airflow_mmc_provider.client.errors import LabelboxError

T = TypeVar("T")


def find_or_create(
    find: Callable[[], T | None], create: Callable[[], T], *, create_again: bool = True
) -> tuple[T, bool]:
    """Return (object, created). After a lost answer, look first; create once more only if
    `create_again` and the look-up found nothing."""
    existing = find()
    if existing is not None:
        return existing, False
    try:
        return create(), True
    except LabelboxError as error:
        if not error.ambiguous:
            raise
        existing = find()
        if existing is not None:
            return existing, True
        if not create_again:
            raise
        return create(), True
