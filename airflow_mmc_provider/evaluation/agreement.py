"""Rater agreement under consensus: raw pairwise agreement and Krippendorff's alpha (nominal).

A *unit* is one thing several raters judged on the same data row, e.g. "which response to message
m is best" (values: model names) or "A vs B on message m" (values: A wins / B wins / tie). Each label
gives at most one value per unit; units with fewer than two values carry no agreement information
and are ignored.

* ``agreement``: the share of rater pairs (within a unit) that gave the same value.
* ``alpha``: Krippendorff's alpha for nominal data, ``1 - D_o / D_e`` from the coincidence matrix.
  Chosen over Fleiss' kappa because consensus rows can have different numbers of labels (Fleiss
  assumes a constant number of raters per unit); with a constant number and no missing values the
  two agree closely. 1 = perfect agreement, 0 = chance level, negative = systematic disagreement;
  None when every value is the same category (no variation, alpha undefined).

Pairwise units are entered in both orientations (A-wins and B-wins swapped) for alpha, so the
coefficient does not depend on which model of a pair is called first; raw agreement counts each
unit once.

Storage: a unit is reduced to the sorted tuple of its values (``("A", "A", "B")``), or for pairwise
units to the tally ``(first wins, second wins, ties)``, and only the number of units per key is kept.
Consensus rows have two or three labels, so there are few distinct keys; merging adds counts, and
the coefficients are computed exactly from the integer histogram.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["NominalAgreement", "pair_unit"]

_FIRST, _SECOND, _TIE = "first", "second", "tie"


def pair_unit(first: int, second: int, tie: int) -> tuple[int, int, int]:
    """The stored form of a pairwise unit: the larger side first.

    Which model of a pair is "first" depends on the order models were met in, which differs
    between accumulators; both orientations count alike (see the module docstring), so storing
    one canonical orientation makes merged and single-pass states identical.
    """
    return (first, second, tie) if first >= second else (second, first, tie)


class NominalAgreement:
    """Streaming agreement statistics over units; `merge` adds another accumulator."""

    __slots__ = ("pair_units", "value_units")

    def __init__(self) -> None:
        self.value_units: Counter[tuple[str, ...]] = Counter()
        self.pair_units: Counter[tuple[int, int, int]] = Counter()

    def add_values(self, values: Iterable[str]) -> None:
        """One unit, given the value of each rater."""
        key = tuple(sorted(values))
        if len(key) > 1:
            self.value_units[key] += 1

    def add_pair_unit(self, first: int, second: int, tie: int) -> None:
        """A pairwise unit: how many raters preferred the first model, the second, or neither."""
        if first + second + tie > 1:
            self.pair_units[pair_unit(first, second, tie)] += 1

    def merge(self, other: NominalAgreement) -> None:
        self.value_units.update(other.value_units)
        self.pair_units.update(other.pair_units)

    def _units(self) -> Iterable[tuple[Mapping[str, int], int, bool]]:
        """(category counts, number of such units, mirrored) for every stored key."""
        for values, n in self.value_units.items():
            counts: dict[str, int] = {}
            for value in values:
                counts[value] = counts.get(value, 0) + 1
            yield counts, n, False
        for (first, second, tie), n in self.pair_units.items():
            yield {_FIRST: first, _SECOND: second, _TIE: tie}, n, True

    def summary(self) -> tuple[int, int, int, float | None]:
        """(units, rater pairs, agreeing rater pairs, Krippendorff's alpha)."""
        units = rater_pairs = agreeing = 0
        values = 0
        # coincidences on the diagonal, summed exactly per unit size: size -> sum n_uc (n_uc - 1)
        same_by_size: dict[int, int] = {}
        marginals: dict[str, int] = {}
        for counts, n, mirrored in self._units():
            m = sum(counts.values())
            same = sum(c * (c - 1) for c in counts.values())
            units += n
            rater_pairs += n * m * (m - 1) // 2
            agreeing += n * same // 2
            views = 2 if mirrored else 1
            values += views * n * m
            same_by_size[m] = same_by_size.get(m, 0) + views * n * same
            for category, c in counts.items():
                marginals[category] = marginals.get(category, 0) + n * c
            if mirrored:
                marginals[_FIRST], marginals[_SECOND] = (
                    marginals[_FIRST] + n * counts[_SECOND],
                    marginals[_SECOND] + n * counts[_FIRST],
                )
                marginals[_TIE] += n * counts[_TIE]
        return units, rater_pairs, agreeing, _alpha(values, same_by_size, marginals)

    @property
    def agreement(self) -> float | None:
        _, pairs, agreeing, _ = self.summary()
        return agreeing / pairs if pairs else None

    @property
    def alpha(self) -> float | None:
        return self.summary()[3]

    def to_dict(self) -> dict[str, Any]:
        units, pairs, agreeing, alpha = self.summary()
        return {
            "units": units,
            "rater_pairs": pairs,
            "agreeing_pairs": agreeing,
            "agreement": agreeing / pairs if pairs else None,
            "krippendorff_alpha": alpha,
        }

    def to_state(self) -> dict[str, Any]:
        return {
            "value_units": sorted([list(values), n] for values, n in self.value_units.items()),
            "pair_units": sorted([*tally, n] for tally, n in self.pair_units.items()),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> NominalAgreement:
        result = cls()
        for values, n in state["value_units"]:
            result.value_units[tuple(str(v) for v in values)] += int(n)
        for first, second, tie, n in state["pair_units"]:
            result.pair_units[pair_unit(int(first), int(second), int(tie))] += int(n)
        return result


def _alpha(values: int, same_by_size: Mapping[int, int], marginals: Mapping[str, int]) -> float | None:
    """Krippendorff's alpha (nominal): 1 - (n - 1) * (n - sum o_cc) / (n^2 - sum n_c^2)."""
    n = values
    if n < 2:
        return None
    observed_same = sum(s / (m - 1) for m, s in sorted(same_by_size.items()))
    expected_diff = n * n - sum(c * c for c in marginals.values())
    if expected_diff <= 0:
        return None
    return 1.0 - (n - 1) * (n - observed_same) / expected_diff
