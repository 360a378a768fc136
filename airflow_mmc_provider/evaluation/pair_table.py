"""Outcome counts per (model pair, bootstrap bucket) in one dense list of integers.

Models get small indices in the order they are met, every (model a, model b, tie) outcome a
dense pair id (a is the winner; for a tie the lower index), and the count of an outcome in a
bucket sits at ``pair_id * buckets + bucket``: the varying part in the low bits, which is how
CPython places int keys, and one list cell per (pair, bucket), 1.1 MB for 10 models. Counting in
place there is cheaper than hashing three integers per judgment into a Counter, and smaller than a
Counter once a tenth of the cells are used.

Indices depend on the order of the input; `items` gives the counts by model names, which do not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from airflow_mmc_provider.evaluation.counts import PairCount

__all__ = ["MAX_MODELS", "PairTable"]

MAX_MODELS: Final = 1 << 20


class PairTable:
    """Model indices, pair ids and the dense counts (see the module docstring)."""

    __slots__ = ("_ids", "_index", "buckets", "counts", "names", "pairs")

    def __init__(self, buckets: int) -> None:
        self.buckets = buckets
        self.names: list[str] = []  # model index -> name
        self._index: dict[str, int] = {}
        self._ids: dict[tuple[int, int, int], int] = {}
        self.pairs: list[tuple[int, int, int]] = []  # pair id -> (a, b, tie)
        self.counts: list[int] = []  # pair key -> count; grows in place, so a held reference stays valid

    def model(self, name: str) -> int:
        """The index of a model, given one when first met."""
        index = self._index.get(name)
        if index is None:
            index = len(self.names)
            if index >= MAX_MODELS:
                raise OverflowError("too many models")
            self.names.append(name)
            self._index[name] = index
        return index

    def pair_id(self, a: int, b: int, tie: int) -> int:
        """The id of an outcome: ``a`` beat ``b``, or (``tie``) the two tied."""
        if tie and a > b:
            a, b = b, a
        key = (a, b, tie)
        pair_id = self._ids.get(key)
        if pair_id is None:
            pair_id = len(self.pairs)
            self._ids[key] = pair_id
            self.pairs.append(key)
            self.counts += [0] * self.buckets
        return pair_id

    def key(self, bucket: int, a: int, b: int, tie: int) -> int:
        """Where the count of an outcome in a bucket is kept."""
        return self.pair_id(a, b, tie) * self.buckets + bucket

    def add(self, pair: PairCount) -> None:
        """Add counts given by model names."""
        key = self.key(pair.bucket, self.model(pair.first), self.model(pair.second), pair.tie)
        self.counts[key] += pair.times

    def items(self) -> Iterator[PairCount]:
        """Every outcome counted at least once, by model names (ties in name order)."""
        names, pairs, buckets = self.names, self.pairs, self.buckets
        for key, n in enumerate(self.counts):
            if n:
                pair_id, bucket = divmod(key, buckets)
                a, b, tie = pairs[pair_id]
                first, second = names[a], names[b]
                if tie and first > second:
                    first, second = second, first
                yield PairCount(bucket, first, second, tie, n)

    def pair_names(self, pair_id: int) -> tuple[str, str]:
        """The models of an outcome (winner first)."""
        a, b, _ = self.pairs[pair_id]
        return self.names[a], self.names[b]
