"""A round's comparisons broken down by data-row metadata value and by conversation turn.

The report's breakdowns (ratings or win rates per ``category``, per turn of multi-turn
conversations, with the number of judgments behind each cell) need counts the round's pair table
does not keep: it sums comparisons over rows. `BreakdownCounts` counts them beside it, from the
same labels and with the same rule for what counts (`pairwise.judgments` and
`judgments_table.compared_pairs`: exactly the comparisons of the leaderboard and of the judgments
table), and persists them in the round's state. Labels must be read with
``ExportReader(row_content=True)``: the metadata and the turns come from `RowContent`; labels
without it are counted under no cell.

Format (``"breakdowns"`` of the round state; every list sorted, so equal counts give equal bytes)::

    {"metadata": {"<field>": {"<value>": {"judgments": n, "pairs": [[model_a, model_b, outcome, n], ...]}}},
     "turns": {"<turn>": {"judgments": n, "pairs": [...]}},    # "1" = a conversation's first comparison
     "dropped_fields": {"<field>": distinct values seen}}     # fields with too many values to break down

``outcome`` is ``a``, ``b`` or ``tie`` with a and b as in the judgments table (a shown first when
both positions are known). A field with more than `MAX_VALUES` distinct values (a free-text or id
field) is dropped, so the state stays small whatever the round's size. Counts are sums: two
rounds' breakdowns merge by adding them (`merge_breakdowns`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, Unpack

from airflow_mmc_provider.evaluation.judgments_table import compared_pairs
from airflow_mmc_provider.evaluation.pairwise import Counting, judgments
from airflow_mmc_provider.mmc.export import LabelRecord

__all__ = ["MAX_VALUES", "BreakdownCounts", "merge_breakdowns"]

MAX_VALUES: Final = 50

Cell = tuple[str, str, str]  # ("metadata", field, value) or ("turn", "", turn number)
Pair = tuple[str, str, str]  # (model a, model b, outcome)


class BreakdownCounts:
    """Passes labels through, counting each comparison under its row's metadata values and its turn."""

    def __init__(self, max_values: int = MAX_VALUES, **counting: Unpack[Counting]) -> None:
        self.max_values = max_values
        self.counting = counting
        self.judgments: Counter[Cell] = Counter()
        self.pairs: defaultdict[Cell, Counter[Pair]] = defaultdict(Counter)
        self.values: defaultdict[str, set[str]] = defaultdict(set)
        self.dropped: dict[str, int] = {}

    def __call__(self, labels: Iterable[LabelRecord]) -> Iterator[LabelRecord]:
        for label in labels:
            if label.content is not None:
                self._count(label)
            yield label

    def _count(self, label: LabelRecord) -> None:
        content = label.content
        assert content is not None
        fields = [self._metadata_cell(name, value) for name, value in content.metadata.items()]
        for judgment in judgments(label, **self.counting):
            turn = content.turns.get(judgment.parent_message_id)
            cells = [cell for cell in fields if cell is not None]
            if turn is not None:
                cells.append(("turn", "", str(turn)))
            compared = [(a.model or "", b.model or "", outcome) for a, b, outcome in compared_pairs(judgment)]
            if not compared:
                continue
            for cell in cells:
                self.judgments[cell] += 1
                self.pairs[cell].update(compared)

    def _metadata_cell(self, name: str, value: object) -> Cell | None:
        if name in self.dropped or value is None:
            return None
        text = str(value)
        seen = self.values[name]
        if text not in seen and len(seen) >= self.max_values:
            self._drop(name)
            return None
        seen.add(text)
        return ("metadata", name, text)

    def _drop(self, name: str) -> None:
        """Too many values to break down by: forget the field's cells (bounded memory)."""
        self.dropped[name] = len(self.values.pop(name)) + 1
        for cell in [c for c in self.judgments if c[0] == "metadata" and c[1] == name]:
            del self.judgments[cell]
            self.pairs.pop(cell, None)

    def to_dict(self) -> dict[str, Any]:
        """The format of the module docstring."""
        metadata: dict[str, dict[str, Any]] = {}
        turns: dict[str, Any] = {}
        for cell in sorted(self.judgments):
            kind, field, value = cell
            entry = {
                "judgments": self.judgments[cell],
                "pairs": sorted([a, b, outcome, n] for (a, b, outcome), n in self.pairs[cell].items()),
            }
            if kind == "turn":
                turns[value] = entry
            else:
                metadata.setdefault(field, {})[value] = entry
        ordered_turns = dict(sorted(turns.items(), key=lambda item: int(item[0])))
        return {
            "metadata": metadata,
            "turns": ordered_turns,
            "dropped_fields": dict(sorted(self.dropped.items())),
        }


def merge_breakdowns(breakdowns: Iterable[Mapping[str, Any] | None]) -> dict[str, Any]:
    """The sum of several rounds' breakdowns (the format of the module docstring); None (a state
    without breakdowns) adds nothing. A field dropped in one round is dropped from the sum."""
    total = BreakdownCounts()
    dropped: dict[str, int] = {}
    for given in breakdowns:
        if not given:
            continue
        for field, values in given.get("metadata", {}).items():
            for value, entry in values.items():
                _add(total, ("metadata", field, value), entry)
        for turn, entry in given.get("turns", {}).items():
            _add(total, ("turn", "", turn), entry)
        for field, count in given.get("dropped_fields", {}).items():
            dropped[field] = max(dropped.get(field, 0), int(count))
    for field in dropped:
        for cell in [c for c in total.judgments if c[0] == "metadata" and c[1] == field]:
            del total.judgments[cell]
            total.pairs.pop(cell, None)
    total.dropped = dropped
    return total.to_dict()


def _add(total: BreakdownCounts, cell: Cell, entry: Mapping[str, Any]) -> None:
    total.judgments[cell] += int(entry["judgments"])
    for a, b, outcome, n in entry["pairs"]:
        total.pairs[cell][(a, b, outcome)] += int(n)
