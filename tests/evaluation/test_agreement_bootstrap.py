"""Krippendorff's alpha on published and constructed cases; the bootstrap's weights and sums."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from airflow_mmc_provider.evaluation.agreement import NominalAgreement
from airflow_mmc_provider.evaluation.bootstrap import (
    MAX_WEIGHT,
    WEIGHT_TABLE,
    bucket_of,
    bucket_weights,
    resample_counts,
)

# --- agreement ----------------------------------------------------------------------------------


def test_krippendorffs_published_example() -> None:
    # Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011), nominal example:
    # 4 coders, 12 units, missing values; alpha = 0.743.
    coders = {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    }
    agreement = NominalAgreement()
    for unit in range(12):
        agreement.add_values([str(v[unit]) for v in coders.values() if v[unit] is not None])
    summary = agreement.to_dict()
    assert summary["krippendorff_alpha"] == pytest.approx(0.743, abs=5e-4)
    assert summary["units"] == 11  # the unit with a single value is not pairable


def test_perfect_agreement_chance_and_undefined() -> None:
    perfect = NominalAgreement()
    for value in ["a", "b", "a", "c"]:
        perfect.add_values([value, value])
    assert perfect.to_dict()["agreement"] == 1.0
    assert perfect.alpha == pytest.approx(1.0)
    # raters who always disagree on two categories: systematic disagreement, alpha < 0
    opposite = NominalAgreement()
    for _ in range(10):
        opposite.add_values(["a", "b"])
    assert opposite.agreement == 0.0
    assert opposite.alpha is not None and opposite.alpha < 0
    # one category only: no variation, alpha undefined
    same = NominalAgreement()
    same.add_values(["a", "a"])
    assert same.alpha is None and same.agreement == 1.0
    assert NominalAgreement().to_dict()["agreement"] is None


def test_pair_units_are_counted_in_both_orientations() -> None:
    direct = NominalAgreement()
    direct.add_pair_unit(2, 0, 0)
    direct.add_pair_unit(1, 1, 0)
    direct.add_pair_unit(0, 1, 1)
    # the same units with the pair written the other way round
    swapped = NominalAgreement()
    swapped.add_pair_unit(0, 2, 0)
    swapped.add_pair_unit(1, 1, 0)
    swapped.add_pair_unit(1, 0, 1)
    assert direct.to_dict() == swapped.to_dict()
    # and alpha equals the value-based computation over both orientations
    reference = NominalAgreement()
    for values in (["A", "A"], ["A", "B"], ["B", "="]):
        reference.add_values(values)
        reference.add_values([{"A": "B", "B": "A", "=": "="}[v] for v in values])
    assert direct.alpha == pytest.approx(reference.alpha)
    assert direct.to_dict()["rater_pairs"] == 3 and direct.to_dict()["agreeing_pairs"] == 1


def test_merge_and_state() -> None:
    rng = random.Random(3)
    parts = [NominalAgreement() for _ in range(3)]
    whole = NominalAgreement()
    for _ in range(60):
        values = [rng.choice("abc") for _ in range(rng.randint(2, 4))]
        part = rng.choice(parts)
        part.add_values(values)
        whole.add_values(values)
        tally = (rng.randint(0, 2), rng.randint(0, 2), rng.randint(0, 1))
        part.add_pair_unit(*tally)
        whole.add_pair_unit(*tally)
    merged = NominalAgreement()
    for part in parts:
        merged.merge(NominalAgreement.from_state(part.to_state()))
    assert merged.to_dict() == whole.to_dict()


# --- bootstrap weights and sums -----------------------------------------------------------------


def test_weights_have_mean_and_variance_one() -> None:
    counts = Counter(WEIGHT_TABLE)
    mean = sum(k * n for k, n in counts.items()) / 256
    second = sum(k * k * n for k, n in counts.items()) / 256
    assert mean == 1.0 and second - mean**2 == 1.0
    assert max(counts) == MAX_WEIGHT
    weights = bucket_weights(seed=1, bucket=7, resamples=20000)
    assert bucket_weights(seed=1, bucket=7, resamples=20000) == weights  # a pure function
    assert bucket_weights(seed=2, bucket=7, resamples=200) != weights[:200]
    assert sum(weights) / len(weights) == pytest.approx(1.0, abs=0.03)


# Buckets of a few ids, computed once from the documented rule (CRC-32 of the UTF-8 id times
# 0x9E3779B97F4A7C15 mod 2**64, its high 32 bits mod the number of buckets). A change of bucketing
# changes every persisted state's meaning and every interval, so it must show up here.
KNOWN_BUCKETS = [
    ("clwrm93488cpd0734f740r9lr", 1024, 250),
    ("", 1024, 0),
    ("row-1", 64, 63),
    ("conversation-0", 1024, 981),
    ("conversation-1", 1024, 327),
    ("ünïcode-id", 1000, 567),
    ("clwrm93488cpd0734f740r9lr", 7, 5),
]


def _crc32(data: bytes) -> int:
    """CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) bit by bit, independent of zlib."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def _documented_bucket(conversation_id: str, buckets: int) -> int:
    return ((_crc32(conversation_id.encode("utf-8")) * 0x9E3779B97F4A7C15) % 2**64 >> 32) % buckets


@pytest.mark.parametrize(("conversation_id", "buckets", "expected"), KNOWN_BUCKETS)
def test_buckets_are_pinned(conversation_id: str, buckets: int, expected: int) -> None:
    assert _crc32(b"123456789") == 0xCBF43926  # the CRC-32 check value
    assert _documented_bucket(conversation_id, buckets) == expected
    assert bucket_of(conversation_id, buckets) == expected


def test_buckets_follow_the_documented_rule() -> None:
    ids = [f"clwrm9{i:06d}cpd0734f740r9lr" for i in range(0, 20000, 97)] + ["a", "Ω", "x" * 300]
    assert [bucket_of(i, 1024) for i in ids] == [_documented_bucket(i, 1024) for i in ids]


def test_buckets_are_spread() -> None:
    ids = [f"clwrm9{i:06d}cpd0734f740r9lr" for i in range(20000)]
    spread = Counter(bucket_of(i, 64) for i in ids)
    assert len(spread) == 64
    assert max(spread.values()) < 1.3 * 20000 / 64


@pytest.mark.parametrize("big", [False, True])
def test_resampled_sums_equal_the_naive_weighted_sums(big: bool) -> None:
    rng = random.Random(5)
    scale = 3_000_000_000 if big else 50  # big counts need 64-bit lanes
    vectors = [[rng.randrange(scale) for _ in range(7)] for _ in range(40)]
    bucket_ids = sorted(rng.sample(range(1000), 40))
    got = list(resample_counts(vectors, bucket_ids, seed=9, resamples=25))
    weights = [bucket_weights(9, b, 25) for b in bucket_ids]
    for r, sums in enumerate(got):
        expected = [sum(weights[k][r] * vectors[k][lane] for k in range(40)) for lane in range(7)]
        assert sums == expected
    assert list(resample_counts([], [], seed=1, resamples=3)) == [[], [], []]
