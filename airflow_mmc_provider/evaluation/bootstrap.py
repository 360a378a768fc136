"""A Poisson bootstrap over conversations with fixed memory: hashed buckets and packed integers.

Why not resample pairs: the pairs of one conversation are not independent (a ranking of four
responses gives six pairs from one rater's single act; consensus labels of one row share the
prompt), so the unit of resampling is the conversation (data row).

How, in one pass and with memory that grows with neither judgments nor conversations:

1. **Buckets.** Each conversation goes to bucket ``hash(record key) mod B`` (CRC-32 and a
   multiplicative hash, so the assignment is stable across processes, runs and merges). The key is
   the record's own key (the data row's external id), the user's name for the conversation, not
   the data row id that Labelbox assigns anew on every upload: the same round uploaded again, or
   run against a fresh service, falls into the same buckets and gets the same intervals, and one
   prompt of a fixed evaluation set is in the same bucket in every round, so a change between
   rounds is bootstrapped over the same prompts (`counter.conversation_key`; rows without an
   external id fall back to the global key, then to the data row id). A bucket keeps the
   summed pair counts of its conversations: ``B x pairs`` integers at most, whatever the size of
   the round.
2. **Poisson weights.** Resample ``r`` gives bucket ``b`` the weight ``w[b][r]``, drawn once per
   (seed, bucket) from SHAKE-128, i.e. a pure function of (seed, bucket, r): the same data give the
   same intervals in any order, split over any number of accumulators. The weights follow a
   discretised Poisson(1) (probabilities in 256ths: 94, 95, 46, 16, 4, 1 for 0..5), whose mean and
   variance are exactly 1, like Poisson(1)'s; one random byte per weight through a lookup table.
3. **Resampled counts.** ``counts_r = sum_b w[b][r] * counts_b``. Each bucket's count vector is
   packed into one Python integer (32- or 64-bit lanes), so the sum is
   ``sum(map(mul, weights_r, packed))``: one C-level pass per resample, unpacked with
   `memoryview.cast`. The Bradley-Terry fit then runs on these aggregated counts, O(pairs x
   Newton steps) per resample, whatever the number of judgments.

With fewer conversations than buckets almost every conversation has a bucket of its own and this
is the plain Poisson bootstrap of conversations. With more, whole buckets (random groups of
conversations) are resampled. That is still a valid bootstrap: buckets are independent (the hash
assigns conversations at random), and grouping only adds to the resampled counts' covariance the
products of different conversations of a bucket, which average to the mean count vector times
itself: a change of all counts in proportion, which a Bradley-Terry fit (invariant to scaling all
counts) and win rates ignore. The price is Monte Carlo precision: with B buckets the spread of the
resampled ratings carries a relative error of about ``1/sqrt(2 B)`` (2.2 % at the default 1,024
buckets); `tests/evaluation/test_simulation.py` checks both the coverage and that grouped and
ungrouped intervals have the same width.
"""

from __future__ import annotations

import hashlib
import sys
import zlib
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from operator import mul
from typing import Final, Literal

from airflow_mmc_provider.evaluation.bradley_terry import PairCounts, elo_scale, fit_pairs
from airflow_mmc_provider.evaluation.counts import PairCount

__all__ = [
    "MAX_WEIGHT",
    "WEIGHT_TABLE",
    "bootstrap_ratings",
    "bucket_of",
    "bucket_weights",
    "resample_counts",
]

# Probabilities of weights 0..5 in 256ths: mean = 256/256, E[w^2] = 512/256 -> variance 1.
_WEIGHT_COUNTS = (94, 95, 46, 16, 4, 1)
WEIGHT_TABLE = b"".join(bytes([k]) * count for k, count in enumerate(_WEIGHT_COUNTS))
MAX_WEIGHT = len(_WEIGHT_COUNTS) - 1
assert len(WEIGHT_TABLE) == 256

# Bootstrap fits stop at this Newton step (log-strength; ~4e-5 rating points).
_BOOTSTRAP_TOL: Final = 1e-7
_GOLDEN = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1
_LANE_TYPES: dict[int, Literal["I", "Q"]] = {32: "I", 64: "Q"}


def bucket_of(conversation_id: str, buckets: int) -> int:
    """The bucket of a conversation (its global key), stable across processes (not Python's salted
    ``hash``).

    CRC-32 of the UTF-8 id, spread by a 64-bit multiplicative (Fibonacci) hash: cheap enough to
    run once per row, and uniform for the near-identical ids (cuids, counters) exports contain.
    """
    mixed = (zlib.crc32(conversation_id.encode()) * _GOLDEN) & _MASK64
    return (mixed >> 32) % buckets


def bucket_weights(seed: int, bucket: int, resamples: int) -> bytes:
    """The bootstrap weights of one bucket, one byte per resample."""
    stream = hashlib.shake_128(f"airflow-mmc-bootstrap:{seed}:{bucket}".encode()).digest(resamples)
    return stream.translate(WEIGHT_TABLE)


def _lane_bits(max_total: int) -> int:
    bound = max_total * MAX_WEIGHT
    for bits, code in _LANE_TYPES.items():
        if bound < (1 << bits) and array(code).itemsize * 8 == bits:
            return bits
    raise OverflowError("counts too large for the packed bootstrap")


def resample_counts(
    vectors: Sequence[Sequence[int]],
    bucket_ids: Sequence[int],
    *,
    seed: int,
    resamples: int,
) -> Iterator[list[int]]:
    """For each resample, the weighted sum of the buckets' count vectors (all of the same length).

    ``vectors[k]`` holds the counts of bucket ``bucket_ids[k]``; counts must be non-negative ints.
    """
    if not vectors:
        for _ in range(resamples):
            yield []
        return
    width = len(vectors[0])
    totals = [0] * width
    for vector in vectors:
        for k, value in enumerate(vector):
            totals[k] += value
    bits = _lane_bits(max(totals, default=0))
    code = _LANE_TYPES[bits]
    packed = [int.from_bytes(array(code, vector).tobytes(), sys.byteorder) for vector in vectors]
    n = len(vectors)
    # Weights as a resamples x buckets byte matrix (row r = the weights of resample r).
    matrix = bytearray(n * resamples)
    for column, bucket in enumerate(bucket_ids):
        matrix[column::n] = bucket_weights(seed, bucket, resamples)
    size = width * bits // 8
    view = memoryview(matrix)
    for r in range(resamples):
        total = sum(map(mul, view[r * n : (r + 1) * n], packed))
        yield memoryview(total.to_bytes(size, sys.byteorder)).cast(code).tolist()


def bootstrap_ratings(
    pairs: Iterable[PairCount],
    index: Mapping[str, int],
    theta: Sequence[float],
    *,
    seed: int,
    resamples: int,
    prior: float,
    anchor: float,
    anchor_index: int | None,
) -> list[list[float]]:
    """Ratings (in ``index`` order) of each resample: the fit on its resampled pair counts.

    ``theta`` (the fit on all counts) starts every resample's fit, which then needs a few steps.
    """
    if resamples == 0 or not index:
        return []
    lanes, bucket_ids, vectors = _bucket_vectors(pairs, index)
    plan = _half_win_plan(lanes)
    samples: list[list[float]] = []
    for resampled in resample_counts(vectors, bucket_ids, seed=seed, resamples=resamples):
        counts: PairCounts = []
        for (i, j), parts in plan:
            wij = wji = 0.0
            for k, share_i, share_j in parts:
                n = resampled[k]
                wij += n * share_i
                wji += n * share_j
            if wij or wji:
                counts.append((i, j, wij, wji))
        fitted = fit_pairs(len(index), counts, prior=prior, start=theta, tol=_BOOTSTRAP_TOL)
        samples.append(elo_scale(fitted, anchor=anchor, anchor_index=anchor_index))
    return samples


_Lane = tuple[int, int, int]  # (i, j, tie): i beat j, or (tie, i < j) the two tied


def _bucket_vectors(
    pairs: Iterable[PairCount], index: Mapping[str, int]
) -> tuple[list[_Lane], list[int], list[list[int]]]:
    """(lanes in a fixed order, bucket ids sorted, per bucket its count in each lane)."""
    buckets: dict[int, dict[_Lane, int]] = {}
    for bucket, first, second, tie, n in pairs:
        lane = (index[first], index[second], tie)
        counts = buckets.setdefault(bucket, {})
        counts[lane] = counts.get(lane, 0) + n
    lanes = sorted({lane for counts in buckets.values() for lane in counts})
    lane_of = {lane: k for k, lane in enumerate(lanes)}
    bucket_ids = sorted(buckets)
    vectors: list[list[int]] = []
    for bucket in bucket_ids:
        vector = [0] * len(lanes)
        for lane, n in buckets[bucket].items():
            vector[lane_of[lane]] = n
        vectors.append(vector)
    return lanes, bucket_ids, vectors


def _half_win_plan(lanes: Sequence[_Lane]) -> list[tuple[tuple[int, int], list[tuple[int, float, float]]]]:
    """Half-wins of (i over j, j over i), i < j, as shares of lanes: a win counts 1, a tie 1/2 each."""
    terms: dict[tuple[int, int], list[tuple[int, float, float]]] = {}
    for k, (i, j, tie) in enumerate(lanes):
        if tie:
            terms.setdefault((i, j), []).append((k, 0.5, 0.5))
        elif i < j:
            terms.setdefault((i, j), []).append((k, 1.0, 0.0))
        else:
            terms.setdefault((j, i), []).append((k, 0.0, 1.0))
    return sorted(terms.items())
