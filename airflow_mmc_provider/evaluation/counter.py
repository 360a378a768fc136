"""The streaming counter: one pass over labels -> `RoundCounts`, in memory that does not grow with them.

`LeaderboardAccumulator` takes `LabelRecord`s (from `mmc.export`) one at a time, or whole rows,
and keeps only counts: pair outcomes per bootstrap bucket (`pair_table`), outcomes by display
position, answer tallies and text samples (`answer_counts`), agreement units of rows with several
labels (consensus), and the set of raters; plus bounded caches of judgment signatures
(`signatures`) that make the hot loop cheap. So memory grows with models, questions, answers and
raters, never with judgments, conversations or labels.

Labels of one data row arrive together (an export line holds the whole row); `add_label` groups
consecutive labels of the same (project, data row), `add_row` takes a whole row at once.
Agreement needs a row's labels together; everything else is per label.

Counts are sums, so they merge: `merge` adds another counter's `counts()`, and merging the
counters of parts equals one pass over all of them, provided they share the settings (checked)
and no data row was split between them (only agreement would miss the cross pairs). That is the
seam for scaling out: Airflow mapped tasks count export parts or rounds, persist `to_state`, and
one task merges the states. The statistics are functions of the counts (`assemble`).
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, Unpack

from airflow_mmc_provider.evaluation.agreement import NominalAgreement
from airflow_mmc_provider.evaluation.answer_counts import AnswerCounts, AnswerTuple, drain
from airflow_mmc_provider.evaluation.assemble import LeaderboardOptions, assemble_leaderboard
from airflow_mmc_provider.evaluation.bootstrap import bucket_of
from airflow_mmc_provider.evaluation.consensus import add_consensus
from airflow_mmc_provider.evaluation.counts import (
    CounterConfig,
    CounterSettings,
    FirstShownCount,
    PositionCount,
    RoundCounts,
    RowTotals,
)
from airflow_mmc_provider.evaluation.leaderboard import Leaderboard
from airflow_mmc_provider.evaluation.pair_table import PairTable
from airflow_mmc_provider.evaluation.pairwise import KINDS, one_per_prompt, use_kinds_of
from airflow_mmc_provider.evaluation.signatures import (
    POSITION_BITS,
    POSITION_MAX,
    Anomaly,
    Judgment,
    OrderAnalysis,
    PositionAnalysis,
    Signature,
    analyse_order,
    analyse_positions,
    multi_judgment,
    ranking_judgment,
    single_judgment,
)
from airflow_mmc_provider.evaluation.state import counts_from_state, counts_to_state
from airflow_mmc_provider.evaluation.tallies import MESSAGE_TARGET, PROMPT_TARGET
from airflow_mmc_provider.mmc.export import ExportRow, LabelRecord

__all__ = ["Conversation", "LeaderboardAccumulator", "conversation_key", "merge", "warn_workers"]

# (bootstrap unit, the labels of one data row)
Conversation = tuple[str, Sequence[LabelRecord]]


def conversation_key(label: LabelRecord) -> str:
    """The key a row is resampled and sampled by: the record's own key, the user's name for it.

    Everything random in a leaderboard (bootstrap buckets, text-sample priorities) is keyed by
    names the user gave (record keys, model config names, rater emails), so the same round run
    twice, or against a fresh service that assigns new data row and label ids, gives the same
    leaderboard. The record's key is the data row's external id (the conversation upload sets it
    to the key, before any round or prefix is put in front to form the global key), so one prompt
    of a fixed evaluation set falls into the same bucket in every round: the bootstrap of a
    change between rounds resamples the same prompts together. Rows without an external id fall
    back to their global key, and rows without either to their data row id, which Labelbox
    assigns anew on every upload: such rows are reproducible within one export only.
    """
    return label.external_id or label.global_key or label.data_row_id


_CACHE_LIMIT: Final = 1 << 14  # entries per signature cache: ~1 KB each, cleared when full
# Buffered outcomes are counted every this many rows. Small on purpose: buffered tuples that live
# long enough to reach the oldest GC generation make CPython run full collections over the whole
# heap; at 1,024 rows these cost 10-15 % of the pass (benchmarks/leaderboard.py), at 128 nothing.
_FLUSH_ROWS: Final = 128
_WORKERS_GONE = (
    "workers= is deprecated and ignored: the labels are counted in this process. To spread a large "
    "round, count export parts or rounds in Airflow mapped tasks and merge their states "
    "(LeaderboardAccumulator.from_state(...).merge(...))"
)


def warn_workers(workers: int) -> None:
    """The deprecation of the process pool (``workers=``), kept for one release as a no-op."""
    if workers != 1:
        warnings.warn(_WORKERS_GONE, DeprecationWarning, stacklevel=3)


class LeaderboardAccumulator:
    """Streaming counts of an evaluation round (see the module docstring).

    ``seed`` drives the bootstrap weights and the text samples; ``buckets`` is the number of
    bootstrap buckets; ``kinds`` / ``features`` restrict which judgments make comparisons (default:
    rankings, single and multiple selections, every feature); ``per_prompt`` (default ``"one"``)
    counts each rater's preference on a prompt once: the ranking where there is one
    (`pairwise.counted`, the rule the judgments table shares).
    """

    def __init__(self, **settings: Unpack[CounterSettings]) -> None:
        self.config = CounterConfig.of(**settings)  # checked, with the defaults, in one place
        self._use_kinds = use_kinds_of(self.config.kinds)
        self._table = PairTable(self.config.buckets)
        self._orders: dict[Signature, OrderAnalysis] = {}
        self._shown: dict[Signature, PositionAnalysis] = {}
        self._unit_pairs: dict[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]] = {}
        # Positions and first-shown outcomes are buffered as whole code tuples (one append per
        # judgment), counted as tuples, and expanded into per-code counts only when the tuple
        # counts grow past _CACHE_LIMIT or are read (see `_expand`).
        self._positions: Counter[int] = Counter()  # position code (signatures.POSITION_BITS)
        self._first_shown: Counter[int] = Counter()  # pair id (winner, loser) * 2 + first shown won
        self._position_buffer: list[tuple[int, ...]] = []
        self._first_buffer: list[tuple[int, ...]] = []
        self._position_tuples: Counter[tuple[int, ...]] = Counter()
        self._first_tuples: Counter[tuple[int, ...]] = Counter()
        self._answers = AnswerCounts(self.config.text_sample_size, self.config.seed)
        self._pairwise_buffer: list[tuple[int, int, int]] = []
        self._preferred = NominalAgreement()
        self._pairwise = NominalAgreement()
        self._raters: set[str] = set()
        self._judgments = [0] * len(KINDS)  # judgments seen per kind, in the order of KINDS
        # what was read, and what could not be used (the fields of `RowTotals`)
        self.labels = 0
        self.rows = 0
        self.rows_without_labels = 0
        self.labels_without_judgments = 0
        self.judgments_without_outcomes = 0
        self.unresolved_pairs = 0
        self.same_model_pairs = 0
        self._pending: list[LabelRecord] = []
        self._pending_key: tuple[str, str] | None = None

    # -- input -----------------------------------------------------------------------------------

    def add_label(self, label: LabelRecord) -> None:
        """Add one label; consecutive labels of one (project, data row) form a row."""
        key = (label.project_id, label.data_row_id)
        if key != self._pending_key:
            self._close_pending()
            self._pending_key = key
        self._pending.append(label)

    def add_labels(self, labels: Iterable[LabelRecord], *, workers: int = 1) -> LeaderboardAccumulator:
        """Add a stream of labels, consecutive labels of one (project, data row) forming a row.

        ``workers`` is deprecated and ignored (see `warn_workers`).
        """
        warn_workers(workers)
        for label in labels:
            self.add_label(label)
        self.flush()
        return self

    def add_rows(self, rows: Iterable[ExportRow], *, workers: int = 1) -> LeaderboardAccumulator:
        """Add export rows (`mmc.export.iter_rows`); rows without labels are counted as such."""
        warn_workers(workers)
        return self.add_conversations(self._labelled(rows))

    def add_conversations(
        self, conversations: Iterable[Conversation], *, workers: int = 1
    ) -> LeaderboardAccumulator:
        """Add whole rows as (bootstrap unit, labels) pairs; see `add_row`."""
        warn_workers(workers)
        self._close_pending()
        for conversation_id, labels in conversations:
            self.add_row(labels, conversation_id=conversation_id)
        self.flush()
        return self

    def _labelled(self, rows: Iterable[ExportRow]) -> Iterator[Conversation]:
        for row in rows:
            if row.labels:
                yield conversation_key(row.labels[0]), row.labels  # as `add_label` keys them
            else:
                self.rows_without_labels += 1

    def _close_pending(self) -> None:
        if self._pending:
            pending = self._pending
            self._pending = []
            self._pending_key = None
            self.add_row(pending)

    def flush(self) -> None:
        """Close the pending row of `add_label` and count the buffered outcomes.

        Every method that reads the counts calls it; call it yourself only to bound memory
        between `add_label` calls of a very long row.
        """
        self._close_pending()
        self._count_buffers()
        self._expand()

    def _count_buffers(self) -> None:
        drain(self._position_buffer, self._position_tuples)
        drain(self._first_buffer, self._first_tuples)
        drain(self._pairwise_buffer, self._pairwise.pair_units)
        waiting = self._answers.count()
        if max(len(self._position_tuples), len(self._first_tuples), waiting) > _CACHE_LIMIT:
            self._expand()

    def _expand(self) -> None:
        """Move the counted code tuples into the per-code counters (bounds their memory)."""
        for tuples, totals in (
            (self._position_tuples, self._positions),
            (self._first_tuples, self._first_shown),
        ):
            for codes, n in tuples.items():
                for code in codes:
                    totals[code] += n
            tuples.clear()
        self._answers.expand()

    def add_row(self, labels: Sequence[LabelRecord], *, conversation_id: str | None = None) -> None:
        """Add the labels of one data row (all from the same conversation).

        ``conversation_id`` is the bootstrap unit and the key of the row's text samples, by default
        the record's key (`conversation_key`), so a conversation exported from several projects is
        resampled as one; pass another stable key to group rows otherwise.

        This is the hot loop: each judgment becomes two flat signatures (`signatures`), each
        analysed once and cached, so a judgment costs two dictionary look-ups and a few C-level
        list operations. The caches are bounded (cleared when full), so a larger signature space
        only costs more analyses, never memory.
        """
        if not labels:
            return
        table = self._table
        row_key = conversation_id if conversation_id is not None else conversation_key(labels[0])
        bucket = bucket_of(row_key, table.buckets)
        consensus = len(labels) > 1
        # (question, parent message) -> [last label number, order analysis, order analysis, ...]
        groups: dict[tuple[str, str], list[Any]] = {}
        orders, shown_cache = self._orders, self._shown
        row_codes: list[int] = []  # pair keys of bucket 0, moved to this row's bucket once per row
        add_answer = self._answers.buffer.append
        features = self.config.features
        use_rankings, use_single, use_multi = self._use_kinds
        once = self.config.per_prompt == "one"
        judged = self._judgments
        unjudged = 0
        for number, label in enumerate(labels):
            if label.rater is not None:
                self._raters.add(label.rater)
            if label.classifications:
                unknown_target = PROMPT_TARGET if label.has_conversation else MESSAGE_TARGET
                for answer in label.classifications:
                    kind = answer.kind
                    if kind == "text":
                        self._answers.add_text(row_key, label, answer, unknown_target)
                    else:
                        row: AnswerTuple = (
                            answer.feature,
                            answer.path,
                            kind,
                            answer.scope,
                            answer.model,
                            unknown_target,
                            answer.answers,
                        )
                        add_answer(row)
            found: list[Judgment] = []
            if use_rankings:
                for ranking in label.rankings:
                    if features is None or ranking.feature in features:
                        found.append(ranking_judgment(ranking))
            if use_single:
                for single in label.single_selections:
                    if features is None or single.feature in features:
                        found.append(single_judgment(single))
            if use_multi:
                for multi in label.multi_selections:
                    if features is None or multi.feature in features:
                        found.append(multi_judgment(multi))
            if not found:
                unjudged += 1
                continue
            if once and len(found) > 1:
                found = one_per_prompt(found, _prompt_of)
            for feature, parent, order_key, position_key in found:
                judged[order_key[0]] += 1  # the kind's index in KINDS leads the order signature
                result = orders.get(order_key)
                if result is None:
                    result = self._analyse_order(order_key)
                row_codes += result.pair_codes
                if result.anomaly is None:
                    seen = shown_cache.get(position_key)
                    if seen is None:
                        seen = self._analyse_positions(position_key)
                    if seen.codes:
                        self._position_buffer.append(seen.codes)
                    if seen.first >= 0 and result.first_shown[seen.first]:
                        self._first_buffer.append(result.first_shown[seen.first])
                else:  # unresolved or repeated models, or no outcome: no position statistics
                    self._count_anomaly(result.anomaly)
                if consensus:
                    group = groups.get((feature, parent))
                    if group is None:
                        groups[(feature, parent)] = [number, result]
                    elif group[0] != number:  # one judgment per label and unit: the first
                        group[0] = number
                        group.append(result)
        if row_codes:
            counts = table.counts
            for code in row_codes:
                counts[code + bucket] += 1
        self.rows += 1
        self.labels += len(labels)
        if unjudged:
            self.labels_without_judgments += unjudged
        if consensus:
            for group in groups.values():
                if len(group) > 2:
                    add_consensus(group[1:], self._preferred, self._pairwise_buffer)
        if not self.rows % _FLUSH_ROWS:
            self._count_buffers()

    def _analyse_order(self, signature: Signature) -> OrderAnalysis:
        if len(self._orders) >= _CACHE_LIMIT:
            self._orders.clear()
            self._unit_pairs.clear()
        result = self._orders[signature] = analyse_order(signature, self._table, self._unit_pairs)
        return result

    def _analyse_positions(self, signature: Signature) -> PositionAnalysis:
        if len(self._shown) >= _CACHE_LIMIT:
            self._shown.clear()
        result = self._shown[signature] = analyse_positions(signature)
        return result

    def _count_anomaly(self, anomaly: Anomaly) -> None:
        self.unresolved_pairs += anomaly.unresolved_pairs
        self.same_model_pairs += anomaly.same_model_pairs
        self.judgments_without_outcomes += anomaly.no_outcome

    # -- counts, merging and state ---------------------------------------------------------------

    def counts(self) -> RoundCounts:
        """The counts so far by model names (a snapshot: later input does not change it)."""
        self.flush()
        table = self._table
        answers, answered, texts = self._answers.copies()
        first_shown = []
        for code, n in self._first_shown.items():
            winner, loser = table.pair_names(code // 2)
            first_shown.append(FirstShownCount(winner, loser, code % 2, n))
        return RoundCounts(
            config=self.config,
            pairs=tuple(table.items()),
            positions=tuple(
                PositionCount(code >> POSITION_BITS, code & POSITION_MAX, n)
                for code, n in self._positions.items()
            ),
            first_shown=tuple(first_shown),
            answers=answers,
            answered=answered,
            texts=texts,
            preferred=_copy(self._preferred),
            pairwise=_copy(self._pairwise),
            raters=frozenset(self._raters),
            judgments=self.judgments,
            totals=RowTotals(*(getattr(self, name) for name in RowTotals._fields)),
        )

    def add_counts(self, counts: RoundCounts) -> LeaderboardAccumulator:
        """Add counts of the same settings (another counter's, or a state's); returns self."""
        if counts.config != self.config:
            raise ValueError(
                f"cannot merge accumulators with different settings: {self.config.as_dict()} != {counts.config.as_dict()}"
            )
        self.flush()
        table = self._table
        for pair in counts.pairs:
            table.add(pair)
        for position in counts.positions:
            self._positions[position.winner_position << POSITION_BITS | position.loser_position] += (
                position.times
            )
        for shown in counts.first_shown:
            pair_id = table.pair_id(table.model(shown.winner), table.model(shown.loser), 0)
            self._first_shown[pair_id * 2 + shown.first_won] += shown.times
        self._answers.add(counts.answers, counts.answered, counts.texts)
        self._preferred.merge(counts.preferred)
        self._pairwise.merge(counts.pairwise)
        self._raters |= counts.raters
        for k, kind in enumerate(KINDS):
            self._judgments[k] += counts.judgments.get(kind, 0)
        for name, n in counts.totals._asdict().items():
            setattr(self, name, getattr(self, name) + n)
        return self

    def merge(self, other: LeaderboardAccumulator) -> LeaderboardAccumulator:
        """Add ``other``'s counts to this accumulator (in place); returns self."""
        return self.add_counts(other.counts())

    def copy(self) -> LeaderboardAccumulator:
        return LeaderboardAccumulator.from_counts(self.counts())

    @classmethod
    def from_counts(cls, counts: RoundCounts) -> LeaderboardAccumulator:
        return cls(**counts.config.settings()).add_counts(counts)

    def to_state(self) -> dict[str, Any]:
        """A JSON-ready, versioned snapshot (see `state`) that `from_state` restores."""
        return counts_to_state(self.counts())

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> LeaderboardAccumulator:
        return cls.from_counts(counts_from_state(state))

    # -- results ---------------------------------------------------------------------------------

    @property
    def judgments(self) -> dict[str, int]:
        """Judgments seen, by kind."""
        return dict(zip(KINDS, self._judgments, strict=True))

    @property
    def models(self) -> list[str]:
        """Models that took part in at least one comparison, sorted by name."""
        return self.counts().models

    def leaderboard(self, **options: Unpack[LeaderboardOptions]) -> Leaderboard:
        """The `Leaderboard` of the counts so far; ``options`` and their defaults: see
        `assemble.assemble_leaderboard` (resamples, confidence, prior, anchor, anchor_model)."""
        return assemble_leaderboard(self.counts(), **options)


def _prompt_of(judgment: Judgment) -> tuple[str, int, str]:
    """`pairwise.one_per_prompt`'s key of a signature: (parent message, kind index, question)."""
    return judgment[1], judgment[2][0], judgment[0]


def _copy(agreement: NominalAgreement) -> NominalAgreement:
    result = NominalAgreement()
    result.merge(agreement)
    return result


def merge(*accumulators: LeaderboardAccumulator) -> LeaderboardAccumulator:
    """A new accumulator holding the sum of the given ones (which are left unchanged)."""
    if not accumulators:
        raise ValueError("merge needs at least one accumulator")
    result = accumulators[0].copy()
    for other in accumulators[1:]:
        result.merge(other)
    return result
