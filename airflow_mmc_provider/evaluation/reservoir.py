"""A bounded, mergeable, reproducible sample of free-text answers.

Each candidate gets a priority ``BLAKE2b(seed, identity)`` (its identity: stable names of the
answer, see `answer_counts.AnswerCounts.add_text`); the sample keeps the ``size`` candidates with
the smallest priorities. That is a uniform sample without replacement (priorities are
pseudo-random and independent of the text), the same whatever the order in which candidates
arrive, and two samples merge exactly by keeping the smallest priorities of their union. Memory:
``size`` entries.

Two candidates may share an identity, and so a priority (the same rater's same answer on a
conversation exported from two projects): the canonical JSON of their samples breaks the tie, so
the kept set follows one total order whatever the order of arrival, and the heap never compares
two samples.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["TextReservoir"]


class TextReservoir:
    __slots__ = ("_heap", "seed", "seen", "size")

    def __init__(self, size: int, seed: int = 0) -> None:
        if size < 0:
            raise ValueError("size must be >= 0")
        self.size = size
        self.seed = seed
        self.seen = 0
        # max-heap on priority: entries (-priority, identity, canonical sample, sample)
        self._heap: list[tuple[int, str, str, dict[str, Any]]] = []

    def _priority(self, identity: str) -> int:
        digest = hashlib.blake2b(f"{self.seed}\x1f{identity}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big")

    def offer(self, identity: str, sample: Mapping[str, Any]) -> None:
        priority = self.admit(identity)
        if priority is not None:
            self.keep(priority, identity, sample)

    def admit(self, identity: str) -> int | None:
        """Count a candidate; its priority if it enters the sample, else None.

        Split from `keep` so that a caller builds the sample only for the few candidates that
        enter (once the sample is full, most do not).
        """
        self.seen += 1
        if self.size == 0:
            return None
        priority = self._priority(identity)
        heap = self._heap
        return priority if len(heap) < self.size or priority <= -heap[0][0] else None

    def keep(self, priority: int, identity: str, sample: Mapping[str, Any]) -> None:
        self._push(priority, identity, dict(sample))

    def _push(self, priority: int, identity: str, sample: dict[str, Any]) -> None:
        heap = self._heap
        entry = (-priority, identity, json.dumps(sample, sort_keys=True, default=str), sample)
        if len(heap) < self.size:
            heapq.heappush(heap, entry)
        elif entry[:3] > heap[0][:3]:  # a smaller priority, or the same one and a later tie-break
            heapq.heapreplace(heap, entry)

    def merge(self, other: TextReservoir) -> None:
        self.seen += other.seen
        for negative, identity, _, sample in other._heap:
            self._push(-negative, identity, sample)

    def _ordered(self) -> list[tuple[int, str, str, dict[str, Any]]]:
        """The kept entries by priority (smallest first), then identity and canonical sample."""
        return sorted(self._heap, key=lambda e: (-e[0], e[1], e[2]))

    def samples(self) -> list[dict[str, Any]]:
        """The kept samples, in priority order (deterministic)."""
        return [dict(sample) for *_, sample in self._ordered()]

    def to_state(self) -> dict[str, Any]:
        return {
            "seen": self.seen,
            "entries": [[identity, sample] for _, identity, _, sample in self._ordered()],
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        self.seen += int(state["seen"])
        for identity, sample in state["entries"]:
            self._push(self._priority(identity), identity, dict(sample))
