"""Each label counted once across the export files of one leaderboard.

A counting rule, not an Airflow one: a notebook that feeds two exports of the same round to the
counter needs it as much as the leaderboard operator does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_mmc_provider.mmc.export import LabelRecord

__all__ = ["OncePerLabel"]


class OncePerLabel:
    """Passes each label id once across every stream it filters, counting the ones it drops.

    Two exports of the same round (a re-export after late labels, or a copy) hold the same labels
    under the same ids; counted twice, they would double those raters' weight. Memory: one id per
    label read. Labels without an id are passed (nothing to recognise them by).
    """

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.skipped = 0

    def __call__(self, labels: Iterable[LabelRecord]) -> Iterator[LabelRecord]:
        seen = self.seen
        for label in labels:
            key = label.label_id
            if key in seen:
                self.skipped += 1
                continue
            if key:
                seen.add(key)
            yield label
