"""Agreement units of a consensus row: several labels that judged the same question of a message.

Each label's judgment is an `OrderAnalysis` whose agreement units are listed by model pair, sorted
and interned (`signatures.analyse_order`), so labels that judged the same responses line up: the
raters' values for each pair come from one ``zip`` and their tally from a small cache, without a
Python loop per pair (nor a comprehension, which costs a function call on CPython 3.11).
"""

from __future__ import annotations

from operator import attrgetter
from typing import Final

from airflow_mmc_provider.evaluation.agreement import NominalAgreement, pair_unit
from airflow_mmc_provider.evaluation.signatures import OrderAnalysis

__all__ = ["add_consensus"]

_CACHE_LIMIT: Final = 1 << 14
_UNIT_VALUES: Final = attrgetter("unit_values")


class _Tallies(dict[tuple[int, ...], tuple[int, int, int]]):
    """Raters' values of a pairwise unit (0, 1 or 2 each) -> its tally (see `pair_unit`)."""

    def __missing__(self, values: tuple[int, ...]) -> tuple[int, int, int]:
        tally = pair_unit(values.count(0), values.count(1), values.count(2))
        if len(self) < _CACHE_LIMIT:
            self[values] = tally
        return tally


_TALLIES = _Tallies()


def add_consensus(
    results: list[OrderAnalysis], preferred: NominalAgreement, pair_units: list[tuple[int, int, int]]
) -> None:
    """Count the preferred-response unit in ``preferred`` and append the pairwise units' tallies
    to ``pair_units`` (the counter counts that buffer in batches)."""
    pairs = results[0].unit_pairs
    same_pairs = True
    choices: list[str] = []
    for result in results:
        if result.preferred is not None:
            choices.append(result.preferred)
        if result.unit_pairs is not pairs:
            same_pairs = False
    if len(choices) > 1:
        choices.sort()
        preferred.value_units[tuple(choices)] += 1
    if same_pairs:
        if pairs:
            pair_units.extend(map(_TALLIES.__getitem__, zip(*map(_UNIT_VALUES, results), strict=True)))
        return
    # labels that judged different responses (rare): tally pair by pair
    tallies: dict[tuple[int, int], list[int]] = {}
    for result in results:
        for pair, value in zip(result.unit_pairs, result.unit_values, strict=True):
            tallies.setdefault(pair, [0, 0, 0])[value] += 1
    for first, second, tie in tallies.values():
        if first + second + tie > 1:
            pair_units.append(pair_unit(first, second, tie))
