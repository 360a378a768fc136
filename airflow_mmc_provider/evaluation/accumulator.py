"""One pass over labels -> everything a leaderboard needs, in memory that does not grow with them.

`LeaderboardAccumulator` takes `LabelRecord`s (from `mmc.export`) one at a time, or whole rows,
and keeps only aggregates:

* pair counts (wins per ordered model pair, ties per unordered pair) per bootstrap bucket (see
  `bootstrap`): B x pairs integers at most, whose sums are the totals;
* display-position counts for the position-bias check (by pair of positions, and per model pair for
  the response shown first);
* answer tallies per question, answer and model, a bounded sample of free-text answers per question;
* agreement sums (rows with several labels, i.e. consensus);
* the set of raters (one entry per rater).

plus two bounded caches (16,384 signatures each) that make the hot loop cheap (see
`LeaderboardAccumulator.add_row`). So
memory grows with models, questions, answers and raters, never with judgments, conversations or
labels. Labels of one data row arrive together (an export line holds the whole row); `add_label`
groups consecutive labels of the same (project, data row) and closes the group when the next row
starts, `add_row` takes a whole row at once. Agreement needs a row's labels together; everything
else is per label.
`add_conversations` (and `add_rows` / `add_labels`) take ``workers=N`` to count rows in N
processes (`evaluation.workers`), with the same result.

`merge` adds another accumulator (another round, another export, another worker): all sums, so
merging and a single pass give identical leaderboards, provided both used the same ``seed``,
``buckets``, ``kinds`` and ``features`` (checked) and no data row was split between them (only
agreement would miss the cross pairs). `to_state` / `from_state` persist an accumulator as JSON,
for a running leaderboard across rounds.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any, Final

from airflow_mmc_provider.evaluation.agreement import NominalAgreement, pair_unit
from airflow_mmc_provider.evaluation.bootstrap import bucket_of, resample_counts
from airflow_mmc_provider.evaluation.bradley_terry import PairCounts, elo_scale, fit_pairs
from airflow_mmc_provider.evaluation.leaderboard import Leaderboard, LeaderboardRow
from airflow_mmc_provider.evaluation.pairwise import KINDS, MULTI_SELECTION, RANKING, SINGLE_SELECTION
from airflow_mmc_provider.evaluation.reservoir import TextReservoir
from airflow_mmc_provider.evaluation.stats import binomial_two_sided, normal_two_sided, percentile
from airflow_mmc_provider.evaluation.workers import Conversation, accumulate_in_workers
from airflow_mmc_provider.mmc.export import (
    ClassificationAnswer,
    ExportRow,
    LabelRecord,
    MultiSelection,
    Ranking,
    Response,
    SingleSelection,
)

__all__ = ["DEFAULT_BUCKETS", "LeaderboardAccumulator", "compute_leaderboard", "merge"]

DEFAULT_BUCKETS: Final = 1024
DEFAULT_RESAMPLES: Final = 1000
STATE_VERSION: Final = 1
GLOBAL_TARGET: Final = "(global)"
PROMPT_TARGET: Final = "(prompt)"
MESSAGE_TARGET: Final = "(message)"

_TIE_HANDLING = "half: a tie counts as half a win for each side (in the fit and in win rates)"
_SCALE = "rating = anchor + 400 * log10(strength / centre), centre = geometric mean of strengths (or the anchor model)"
_AGREEMENT_METHOD = (
    "units are judgments several raters made on the same data row: 'preferred' = the top of a ranking or "
    "the single selection per (question, parent message); 'pairwise' = each model pair per (question, "
    "parent message) with values win/loss/tie (counted in both orientations for alpha). agreement = share "
    "of agreeing rater pairs; krippendorff_alpha = Krippendorff's alpha, nominal."
)
_POSITION_METHOD = (
    "decisive pairwise outcomes where one response was shown first (position 0 of the parent's "
    "childMessageIds). z and p_value test a first-shown win rate of 1/2 (exact binomial up to 20,000 "
    "comparisons); expected_first_wins, z_adjusted and p_value_adjusted compare with what the "
    "Bradley-Terry ratings predict for the same model pairs, which stays valid when display order was not "
    "randomised. by_position: decisive outcomes by display position. Ties, responses without a display "
    "position and judgments with an unresolved or repeated model are left out."
)


class _Config:
    __slots__ = ("buckets", "features", "kinds", "seed", "text_sample_size")

    def __init__(
        self,
        seed: int,
        buckets: int,
        text_sample_size: int,
        kinds: Collection[str],
        features: Collection[str] | None,
    ) -> None:
        if buckets < 1:
            raise ValueError("buckets must be >= 1")
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown judgment kinds {sorted(unknown)}; known: {list(KINDS)}")
        self.seed = seed
        self.buckets = buckets
        self.text_sample_size = text_sample_size
        self.kinds = tuple(k for k in KINDS if k in set(kinds))
        self.features = frozenset(features) if features is not None else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "buckets": self.buckets,
            "text_sample_size": self.text_sample_size,
            "kinds": list(self.kinds),
            "features": sorted(self.features) if self.features is not None else None,
        }


class LeaderboardAccumulator:
    """Streaming aggregates of an evaluation round (see the module docstring).

    ``seed`` drives the bootstrap weights and the text samples; ``buckets`` is the number of
    bootstrap buckets; ``kinds`` / ``features`` restrict which judgments make comparisons (default:
    rankings, single and multiple selections, every feature).
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        buckets: int = DEFAULT_BUCKETS,
        text_sample_size: int = 20,
        kinds: Collection[str] = KINDS,
        features: Collection[str] | None = None,
    ) -> None:
        self.config = _Config(seed, buckets, text_sample_size, kinds, features)
        self._bucket_count = self.config.buckets
        self._use_kinds = (
            RANKING in self.config.kinds,
            SINGLE_SELECTION in self.config.kinds,
            MULTI_SELECTION in self.config.kinds,
        )
        self._orders: dict[_Signature, _OrderAnalysis] = {}
        self._shown: dict[_Signature, _PositionAnalysis] = {}
        self._unit_pairs: dict[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]] = {}  # interned
        self._names: list[str] = []
        self._index: dict[str, int] = {}
        self._pair_ids: dict[tuple[int, int, int], int] = {}
        self._pair_list: list[tuple[int, int, int]] = []
        # Outcome codes (see "Outcome codes" below). Pair outcomes are counted in place in a dense
        # list indexed by pair key (buckets entries per pair id seen, 1.1 MB for 10 models): cheaper
        # than hashing three million ints per million judgments into a Counter, and smaller than a
        # Counter once a tenth of the (pair, bucket) cells are used. The rest are counted in
        # batches with Counter.update.
        self._pair_counts: list[int] = []
        self._positions: Counter[int] = Counter()  # shown_w << 8 | shown_l
        self._first_shown: Counter[int] = Counter()  # pair id (winner, loser) * 2 + first shown won
        # (feature, path, kind, target, answer) -> count; radio questions are answered exactly
        # once per answer, so only checklist and text questions count "answered" separately.
        self._answers: Counter[_Answer] = Counter()
        self._answered: Counter[_Question] = Counter()
        # Buffers, counted every _FLUSH_ROWS rows. Positions, first-shown outcomes and answers are
        # buffered as whole code tuples (one append per judgment or answer, and few distinct
        # tuples), counted as tuples, and expanded into the counters above only when the tuple
        # counts grow past _CACHE_LIMIT or are read (see `_expand`).
        self._position_buffer: list[tuple[int, ...]] = []
        self._first_buffer: list[tuple[int, ...]] = []
        self._answer_buffer: list[_Answers] = []
        self._answered_buffer: list[_Question] = []
        self._position_tuples: Counter[tuple[int, ...]] = Counter()
        self._first_tuples: Counter[tuple[int, ...]] = Counter()
        self._answer_tuples: Counter[_Answers] = Counter()
        self._pairwise_buffer: list[tuple[int, int, int]] = []
        self._texts: dict[str, TextReservoir] = {}
        self._preferred = NominalAgreement()
        self._pairwise = NominalAgreement()
        self._raters: set[str] = set()
        self._judgments = [0] * len(KINDS)  # judgments seen per kind, in the order of KINDS
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

        ``workers`` > 1 counts whole rows in that many processes (see `add_conversations`).
        """
        if workers > 1:
            return self.add_conversations(_rows_of(labels), workers=workers)
        for label in labels:
            self.add_label(label)
        self.flush()
        return self

    def add_rows(self, rows: Iterable[ExportRow], *, workers: int = 1) -> LeaderboardAccumulator:
        """Add export rows (`mmc.export.iter_rows`); ``workers`` as in `add_conversations`."""
        return self.add_conversations(self._labelled(rows), workers=workers)

    def add_conversations(
        self, conversations: Iterable[Conversation], *, workers: int = 1
    ) -> LeaderboardAccumulator:
        """Add whole rows as (bootstrap unit, labels) pairs; see `add_row`.

        ``workers`` > 1 spreads the rows over that many processes, this one included (see
        `evaluation.workers`): the result is identical, the pass about ``workers`` times faster
        on as many idle cores once a round has more than a few thousand rows.
        """
        self._close_pending()
        if workers > 1:
            accumulate_in_workers(self, conversations, workers)
        else:
            for conversation_id, labels in conversations:
                self.add_row(labels, conversation_id=conversation_id)
        self.flush()
        return self

    def _labelled(self, rows: Iterable[ExportRow]) -> Iterator[Conversation]:
        for row in rows:
            if row.labels:
                yield row.data_row_id, row.labels
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

        Every method that reads the aggregates calls it; call it yourself only to bound memory
        between `add_label` calls of a very long row.
        """
        self._close_pending()
        self._count_buffers()
        self._expand()

    def _count_buffers(self) -> None:
        if self._position_buffer:
            self._position_tuples.update(self._position_buffer)
            self._position_buffer.clear()
        if self._first_buffer:
            self._first_tuples.update(self._first_buffer)
            self._first_buffer.clear()
        if self._answer_buffer:
            self._answer_tuples.update(self._answer_buffer)
            self._answer_buffer.clear()
        if self._answered_buffer:
            self._answered.update(self._answered_buffer)
            self._answered_buffer.clear()
        if self._pairwise_buffer:
            self._pairwise.pair_units.update(self._pairwise_buffer)
            self._pairwise_buffer.clear()
        if max(len(self._position_tuples), len(self._first_tuples), len(self._answer_tuples)) > _CACHE_LIMIT:
            self._expand()

    def _expand(self) -> None:
        """Move the counted code tuples into the per-code counters (bounds their memory)."""
        for counts, totals in (
            (self._position_tuples, self._positions),
            (self._first_tuples, self._first_shown),
        ):
            for codes, n in counts.items():
                for code in codes:
                    totals[code] += n
            counts.clear()
        answers, answered = self._answers, self._answered
        for (feature, path, kind, scope, model, unknown_target, names), n in self._answer_tuples.items():
            target = _target(scope, model, unknown_target)
            if kind != "radio":  # a radio question is answered exactly once per answer
                answered[(feature, path, kind, target)] += n
            for name in names:
                answers[(feature, path, kind, target, name)] += n
        self._answer_tuples.clear()

    def _pair_items(self) -> list[tuple[int, int]]:
        """(pair key, count) of every outcome counted at least once."""
        return [(key, n) for key, n in enumerate(self._pair_counts) if n]

    def _model(self, name: str) -> int:
        index = self._index.get(name)
        if index is None:
            index = len(self._names)
            if index >= _RADIX:
                raise OverflowError("too many models")
            self._names.append(name)
            self._index[name] = index
        return index

    def add_row(self, labels: Sequence[LabelRecord], *, conversation_id: str | None = None) -> None:
        """Add the labels of one data row (all from the same conversation).

        ``conversation_id`` is the bootstrap unit, by default the data row id; pass e.g. the global
        key when the same conversation was exported from several projects and should be resampled
        as one.

        This is the hot loop, so it works on two flat *signatures* per judgment instead of on pairs:

        * the order signature (kind, the models and their ranks) fixes the pair outcomes, the
          agreement units, the preferred response and the first-shown outcomes of each response;
        * the position signature (kind, the ranks and the display positions) fixes the outcomes by
          display position and which response was shown first.

        Each is analysed once (`_analyse_order`, `_analyse_positions`, the rules of
        `pairwise.raw_pairs`) and cached: with 10 models and 2-4 responses there are a few thousand
        order signatures and a few dozen position signatures, so a judgment costs two dictionary
        look-ups and a few C-level list operations. The caches are bounded (cleared when full), so
        a larger signature space only costs more analyses, never memory.
        """
        if not labels:
            return
        bucket = bucket_of(
            conversation_id if conversation_id is not None else labels[0].data_row_id, self._bucket_count
        )
        consensus = len(labels) > 1
        # (question, parent message) -> [last label number, order analysis, order analysis, ...]
        groups: dict[tuple[str, str], list[Any]] = {}
        orders, shown_cache = self._orders, self._shown
        row_codes: list[int] = []  # pair keys of bucket 0, moved to this row's bucket once per row
        add_answer = self._answer_buffer.append
        features = self.config.features
        use_rankings, use_single, use_multi = self._use_kinds
        judged = self._judgments
        unjudged = 0
        for number, label in enumerate(labels):
            if label.rater is not None:
                self._raters.add(label.rater)
            if label.classifications:
                # Inline, and the answer's fields as they are (the tally target is resolved per
                # distinct tuple in `_expand`): this runs for every answer of every label.
                unknown_target = PROMPT_TARGET if label.has_conversation else MESSAGE_TARGET
                for answer in label.classifications:
                    kind = answer.kind
                    if kind == "text":
                        self._add_text(label, answer, unknown_target)
                    else:
                        add_answer(
                            (
                                answer.feature,
                                answer.path,
                                kind,
                                answer.scope,
                                answer.model,
                                unknown_target,
                                answer.answers,
                            )
                        )
            found: list[_Judgment] = []
            if use_rankings:
                for ranking in label.rankings:
                    if features is None or ranking.feature in features:
                        found.append(_ranking_judgment(ranking))
                        judged[0] += 1
            if use_single:
                for single in label.single_selections:
                    if features is None or single.feature in features:
                        found.append(_single_judgment(single))
                        judged[1] += 1
            if use_multi:
                for multi in label.multi_selections:
                    if features is None or multi.feature in features:
                        found.append(_multi_judgment(multi))
                        judged[2] += 1
            if not found:
                unjudged += 1
                continue
            for feature, parent, order_key, position_key in found:
                result = orders.get(order_key)
                if result is None:
                    result = self._analyse_order(order_key)
                row_codes += result[0]
                if result[5] is None:
                    seen = shown_cache.get(position_key)
                    if seen is None:
                        seen = self._analyse_positions(position_key)
                    if seen[0]:
                        self._position_buffer.append(seen[0])
                    if seen[1] >= 0 and result[1][seen[1]]:
                        self._first_buffer.append(result[1][seen[1]])
                else:  # unresolved or repeated models, or no outcome: no position statistics
                    self._count_anomaly(result[5])
                if consensus:
                    group = groups.get((feature, parent))
                    if group is None:
                        groups[(feature, parent)] = [number, result]
                    elif group[0] != number:  # one judgment per label and unit: the first
                        group[0] = number
                        group.append(result)
        if row_codes:
            counts = self._pair_counts
            for code in row_codes:
                counts[code + bucket] += 1
        self.rows += 1
        self.labels += len(labels)
        if unjudged:
            self.labels_without_judgments += unjudged
        if consensus:
            for group in groups.values():
                if len(group) > 2:
                    self._add_agreement(group[1:])
        if not self.rows % _FLUSH_ROWS:
            self._count_buffers()

    def _analyse_order(self, signature: _Signature) -> _OrderAnalysis:
        """Pair outcomes of an order signature (the rules of `pairwise.raw_pairs`), cached."""
        kind = signature[0]
        if kind == 0:
            models, ranks = list(signature[1::2]), list(signature[2::2])
        else:
            models = list(signature[2:])
            ranks = [1 if k < signature[1] else 2 for k in range(len(models))]
        ties = kind == 0
        ids = [None if model is None else self._model(model) for model in models]
        codes: list[int] = []
        units: list[tuple[int, int, int]] = []
        firsts: list[list[int]] = [[] for _ in ids]  # per entry: its outcomes if it was shown first
        unresolved = same_model = 0
        size = len(ids)
        for x in range(size):
            for y in range(x + 1, size):
                if ranks[x] == ranks[y] and not ties:
                    continue  # two selected (or two unselected) responses are not compared
                a, b = ids[x], ids[y]
                if a is None or b is None:
                    unresolved += 1
                    continue
                if a == b:
                    same_model += 1
                    continue
                low, high = (a, b) if a < b else (b, a)
                if ranks[x] == ranks[y]:
                    codes.append(self._pair_key(0, a, b, 1))
                    units.append((low, high, 2))
                    continue
                winner, loser, w, lose = (a, b, x, y) if ranks[x] < ranks[y] else (b, a, y, x)
                codes.append(self._pair_key(0, winner, loser, 0))
                units.append((low, high, 0 if winner == low else 1))
                first_code = self._pair_id(winner, loser, 0) * 2
                firsts[w].append(first_code + 1)  # the winner was shown first
                firsts[lose].append(first_code)  # the loser was shown first
        units.sort()
        unit_pairs = tuple([(low, high) for low, high, _ in units])
        unit_pairs = self._unit_pairs.setdefault(unit_pairs, unit_pairs)
        preferred: str | None = None
        if kind != 2 and models:
            best = min(ranks)
            preferred = " = ".join(
                sorted(
                    "(unknown)" if model is None else model
                    for model, rank in zip(models, ranks, strict=True)
                    if rank == best
                )
            )
        anomaly = (unresolved, same_model, int(not codes)) if unresolved or same_model or not codes else None
        result = (
            tuple(codes),
            tuple(tuple(f) for f in firsts),
            unit_pairs,
            tuple([value for _, _, value in units]),
            preferred,
            anomaly,
        )
        if len(self._orders) >= _CACHE_LIMIT:
            self._orders.clear()
            self._unit_pairs.clear()
        self._orders[signature] = result
        return result

    def _analyse_positions(self, signature: _Signature) -> _PositionAnalysis:
        """Outcomes by display position of a position signature, and the entry shown first; cached."""
        if signature[0] == 0:
            ranks, shown = list(signature[1::2]), list(signature[2::2])
        else:
            shown = list(signature[2:])
            ranks = [1 if k < signature[1] else 2 for k in range(len(shown))]
        codes: list[int] = []
        size = len(shown)
        for x in range(size):
            for y in range(x + 1, size):
                if ranks[x] == ranks[y]:
                    continue
                w, lose = (x, y) if ranks[x] < ranks[y] else (y, x)
                shown_w, shown_l = shown[w], shown[lose]
                if shown_w is not None and shown_l is not None and shown_w != shown_l:
                    codes.append(min(shown_w, _POSITION_MAX) << _POSITION_BITS | min(shown_l, _POSITION_MAX))
        first = shown.index(0) if None not in shown and shown.count(0) == 1 else -1
        result = (tuple(codes), first)
        if len(self._shown) >= _CACHE_LIMIT:
            self._shown.clear()
        self._shown[signature] = result
        return result

    def _add_agreement(self, results: list[_OrderAnalysis]) -> None:
        """Agreement units of one (question, parent message) judged by several labels of a row.

        Order analyses list their agreement units by model pair, sorted and interned, so labels
        that judged the same responses line up: the raters' values for each pair come from one
        ``zip`` and their tally from `_TALLIES`, without a Python loop per pair (nor a
        comprehension, which costs a function call on CPython 3.11).
        """
        pairs = results[0][2]
        same_pairs = True
        preferred: list[str] = []
        for result in results:
            if result[4] is not None:
                preferred.append(result[4])
            if result[2] is not pairs:
                same_pairs = False
        if len(preferred) > 1:
            preferred.sort()
            self._preferred.value_units[tuple(preferred)] += 1
        if same_pairs:
            if pairs:
                self._pairwise_buffer.extend(
                    map(_TALLIES.__getitem__, zip(*map(_UNIT_VALUES, results), strict=True))
                )
            return
        # labels that judged different responses (rare): tally pair by pair
        tallies: dict[tuple[int, int], list[int]] = {}
        for result in results:
            for pair, value in zip(result[2], result[3], strict=True):
                tally = tallies.get(pair)
                if tally is None:
                    tally = tallies[pair] = [0, 0, 0]
                tally[value] += 1
        for first, second, tie in tallies.values():
            if first + second + tie > 1:
                self._pairwise_buffer.append(pair_unit(first, second, tie))

    def _add_text(self, label: LabelRecord, answer: ClassificationAnswer, unknown_target: str) -> None:
        target = _target(answer.scope, answer.model, unknown_target)
        self._answered_buffer.append((answer.feature, answer.path, answer.kind, target))
        text = answer.text
        if not text or text.isspace():
            return
        key = answer.key
        reservoir = self._texts.get(key)
        if reservoir is None:
            reservoir = self._texts[key] = TextReservoir(self.config.text_sample_size, self.config.seed)
        identity = f"{label.data_row_id}\x1f{label.label_id}\x1f{answer.message_id or ''}\x1f{key}\x1f{text}"
        priority = reservoir.admit(identity)
        if priority is None:
            return
        reservoir.keep(
            priority,
            identity,
            {
                "text": text,
                "data_row_id": label.data_row_id,
                "global_key": label.global_key,
                "label_id": label.label_id,
                "message_id": answer.message_id,
                "model": answer.model,
            },
        )

    def _count_anomaly(self, anomaly: tuple[int, int, int]) -> None:
        unresolved, same_model, no_outcome = anomaly
        self.unresolved_pairs += unresolved
        self.same_model_pairs += same_model
        self.judgments_without_outcomes += no_outcome

    # -- outcome codes --------------------------------------------------------------------------

    def _pair_id(self, a: int, b: int, tie: int) -> int:
        if tie and a > b:
            a, b = b, a
        key = (a, b, tie)
        pair_id = self._pair_ids.get(key)
        if pair_id is None:
            pair_id = len(self._pair_list)
            self._pair_ids[key] = pair_id
            self._pair_list.append(key)
            self._pair_counts += [0] * self.config.buckets
        return pair_id

    def _pair_key(self, bucket: int, a: int, b: int, tie: int) -> int:
        return self._pair_id(a, b, tie) * self.config.buckets + bucket

    def _split_pair_key(self, key: int) -> tuple[int, int, int, int]:
        """key -> (bucket, a, b, tie)."""
        pair_id, bucket = divmod(key, self.config.buckets)
        a, b, tie = self._pair_list[pair_id]
        return bucket, a, b, tie

    # -- combining ------------------------------------------------------------------------------

    def _check_compatible(self, other: LeaderboardAccumulator) -> None:
        if self.config.as_dict() != other.config.as_dict():
            raise ValueError(
                "cannot merge accumulators with different settings: "
                f"{self.config.as_dict()} != {other.config.as_dict()}"
            )

    def merge(self, other: LeaderboardAccumulator) -> LeaderboardAccumulator:
        """Add ``other``'s aggregates to this accumulator (in place); returns self."""
        self._check_compatible(other)
        self.flush()
        other.flush()
        mapping = [self._model(name) for name in other._names]
        for key, n in other._pair_items():
            bucket, a, b, tie = other._split_pair_key(key)
            self._pair_counts[self._pair_key(bucket, mapping[a], mapping[b], tie)] += n
        self._positions.update(other._positions)
        for key, n in other._first_shown.items():
            _, a, b, _ = other._split_pair_key(key // 2 * other.config.buckets)
            self._first_shown[self._pair_id(mapping[a], mapping[b], 0) * 2 + key % 2] += n
        self._answers.update(other._answers)
        self._answered.update(other._answered)
        for question, reservoir in other._texts.items():
            mine = self._texts.get(question)
            if mine is None:
                mine = self._texts[question] = TextReservoir(self.config.text_sample_size, self.config.seed)
            mine.merge(reservoir)
        self._preferred.merge(other._preferred)
        self._pairwise.merge(other._pairwise)
        self._raters |= other._raters
        for k, n in enumerate(other._judgments):
            self._judgments[k] += n
        for name in _SCALARS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    def copy(self) -> LeaderboardAccumulator:
        return LeaderboardAccumulator.from_state(self.to_state())

    def to_state(self) -> dict[str, Any]:
        """A JSON-ready snapshot (model names, not indices) that `from_state` restores."""
        self.flush()
        names = self._names
        pairs = []
        for key, n in self._pair_items():
            bucket, a, b, tie = self._split_pair_key(key)
            first, second = names[a], names[b]
            if tie and first > second:  # a tie has no direction: name order, independent of indices
                first, second = second, first
            pairs.append([bucket, first, second, tie, n])
        first_shown = []
        for key, n in self._first_shown.items():
            a, b, _ = self._pair_list[key // 2]
            first_shown.append([names[a], names[b], key % 2, n])
        return {
            "version": STATE_VERSION,
            "config": self.config.as_dict(),
            "pairs": sorted(pairs),
            "positions": sorted(
                [key >> _POSITION_BITS, key & _POSITION_MAX, n] for key, n in self._positions.items()
            ),
            "first_shown": sorted(first_shown),
            "answers": sorted([f, list(p), k, t, a, n] for (f, p, k, t, a), n in self._answers.items()),
            "answered": sorted([f, list(p), k, t, n] for (f, p, k, t), n in self._answered.items()),
            "texts": {q: r.to_state() for q, r in sorted(self._texts.items())},
            "agreement": {"preferred": self._preferred.to_state(), "pairwise": self._pairwise.to_state()},
            "raters": sorted(self._raters),
            "judgments": self.judgments,
            "scalars": {name: getattr(self, name) for name in _SCALARS},
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> LeaderboardAccumulator:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported accumulator state version {state.get('version')!r}")
        config = state["config"]
        result = cls(
            seed=int(config["seed"]),
            buckets=int(config["buckets"]),
            text_sample_size=int(config["text_sample_size"]),
            kinds=config["kinds"],
            features=config["features"],
        )
        for bucket, a, b, tie, n in state["pairs"]:
            result._pair_counts[
                result._pair_key(int(bucket), result._model(a), result._model(b), int(tie))
            ] += int(n)
        for shown_w, shown_l, n in state["positions"]:
            result._positions[int(shown_w) << _POSITION_BITS | int(shown_l)] += int(n)
        for winner, loser, first_won, n in state["first_shown"]:
            pair_id = result._pair_id(result._model(winner), result._model(loser), 0)
            result._first_shown[pair_id * 2 + int(first_won)] += int(n)
        for feature, path, kind, target, answer, n in state["answers"]:
            result._answers[(feature, tuple(path), kind, target, answer)] += int(n)
        for feature, path, kind, target, n in state["answered"]:
            result._answered[(feature, tuple(path), kind, target)] += int(n)
        for question, text_state in state["texts"].items():
            reservoir = TextReservoir(result.config.text_sample_size, result.config.seed)
            reservoir.load_state(text_state)
            result._texts[question] = reservoir
        result._preferred = NominalAgreement.from_state(state["agreement"]["preferred"])
        result._pairwise = NominalAgreement.from_state(state["agreement"]["pairwise"])
        result._raters = set(state["raters"])
        for kind, n in state["judgments"].items():
            result._judgments[KINDS.index(kind)] += int(n)
        for name in _SCALARS:
            setattr(result, name, int(state["scalars"][name]))
        return result

    # -- results --------------------------------------------------------------------------------

    @property
    def judgments(self) -> dict[str, int]:
        """Judgments seen, by kind."""
        return dict(zip(KINDS, self._judgments, strict=True))

    @property
    def models(self) -> list[str]:
        """Models that took part in at least one comparison, sorted by name."""
        self.flush()
        seen: set[int] = set()
        for key, _ in self._pair_items():
            _, a, b, _ = self._split_pair_key(key)
            seen.add(a)
            seen.add(b)
        return sorted(self._names[i] for i in seen)

    def leaderboard(
        self,
        *,
        resamples: int = DEFAULT_RESAMPLES,
        confidence: float = 0.95,
        prior: float = 1.0,
        anchor: float = 1000.0,
        anchor_model: str | None = None,
    ) -> Leaderboard:
        """Fit the ratings, bootstrap their intervals and assemble the `Leaderboard`.

        ``prior``: virtual tied games per model against a reference (see `bradley_terry`);
        ``anchor``: the mean rating, or ``anchor_model``'s rating when that is given;
        ``resamples``: bootstrap resamples (0 = no intervals: ci_low = ci_high = rating).
        """
        if not 0.0 < confidence < 1.0:
            raise ValueError("confidence must be between 0 and 1")
        if resamples < 0:
            raise ValueError("resamples must be >= 0")
        self.flush()
        names = self.models
        m = len(names)
        if anchor_model is not None and anchor_model not in names:
            raise ValueError(f"anchor model {anchor_model!r} has no comparisons; models: {names}")
        anchor_index = names.index(anchor_model) if anchor_model is not None else None
        local = {self._index[name]: i for i, name in enumerate(names)}  # internal index -> sorted index
        # Per bucket: lane (i, j, tie) -> count, with i, j local indices (i < j for ties).
        wins = [[0] * m for _ in range(m)]
        ties = [[0] * m for _ in range(m)]
        buckets: dict[int, dict[tuple[int, int, int], int]] = {}
        for key, n in self._pair_items():
            bucket, a, b, tie = self._split_pair_key(key)
            i, j = local[a], local[b]
            if tie:
                i, j = min(i, j), max(i, j)
                ties[i][j] += n
                ties[j][i] += n
            else:
                wins[i][j] += n
            lanes = buckets.setdefault(bucket, {})
            lanes[(i, j, tie)] = lanes.get((i, j, tie), 0) + n
        pairs: PairCounts = []
        for i in range(m):
            for j in range(i + 1, m):
                wij = wins[i][j] + ties[i][j] / 2.0
                wji = wins[j][i] + ties[i][j] / 2.0
                if wij or wji:
                    pairs.append((i, j, wij, wji))
        theta = fit_pairs(m, pairs, prior=prior)
        ratings = elo_scale(theta, anchor=anchor, anchor_index=anchor_index)
        samples = self._bootstrap(m, buckets, theta, resamples, prior, anchor, anchor_index)
        alpha = (1.0 - confidence) / 2.0
        rows: list[tuple[float, str, float, float, int, int, int]] = []
        for i, name in enumerate(names):
            if samples:
                column = sorted(sample[i] for sample in samples)
                low, high = percentile(column, alpha), percentile(column, 1.0 - alpha)
            else:
                low = high = ratings[i]
            won = sum(wins[i])
            lost = sum(wins[j][i] for j in range(m))
            tied = sum(ties[i])
            rows.append((ratings[i], name, low, high, won, lost, tied))
        order = sorted(range(m), key=lambda i: (-rows[i][0], rows[i][1]))
        table = tuple(
            LeaderboardRow(
                rank=rank,
                model=name,
                rating=rating,
                ci_low=low,
                ci_high=high,
                wins=won,
                losses=lost,
                ties=tied,
                comparisons=won + lost + tied,
                win_rate=(won + tied / 2.0) / (won + lost + tied) if won + lost + tied else math.nan,
            )
            for rank, (rating, name, low, high, won, lost, tied) in enumerate(
                (rows[i] for i in order), start=1
            )
        )
        met = [[wins[i][j] + wins[j][i] + ties[i][j] if i != j else 0 for j in range(m)] for i in range(m)]
        win_rates = tuple(
            tuple((wins[i][j] + ties[i][j] / 2.0) / met[i][j] if met[i][j] else None for j in order)
            for i in order
        )
        decisive = sum(sum(r) for r in wins)
        tied_total = sum(ties[i][j] for i in range(m) for j in range(i + 1, m))
        return Leaderboard(
            rows=table,
            win_rates=win_rates,
            comparisons=tuple(tuple(met[i][j] for j in order) for i in order),
            tallies=self._tally_dicts(),
            text_samples={
                q: {"answers": r.seen, "samples": r.samples()} for q, r in sorted(self._texts.items())
            },
            agreement={
                "preferred": self._preferred.to_dict(),
                "pairwise": self._pairwise.to_dict(),
                "method": _AGREEMENT_METHOD,
            },
            position_bias=self._position_bias(local, theta),
            counts={
                "labels": self.labels,
                "rows": self.rows,
                "rows_without_labels": self.rows_without_labels,
                "raters": len(self._raters),
                "models": m,
                "judgments": self.judgments,
                "judgments_total": sum(self._judgments),
                "comparisons": decisive + tied_total,
                "decisive": decisive,
                "ties": tied_total,
                "labels_without_judgments": self.labels_without_judgments,
                "judgments_without_outcomes": self.judgments_without_outcomes,
                "unresolved_pairs": self.unresolved_pairs,
                "same_model_pairs": self.same_model_pairs,
            },
            settings={
                "scale": _SCALE,
                "anchor": anchor,
                "anchor_model": anchor_model,
                "ties": _TIE_HANDLING,
                "prior_games": prior,
                "fit": "Bradley-Terry maximum likelihood (MAP with the prior), Newton's method on aggregated pair counts",
                "bootstrap": {
                    "resamples": resamples,
                    "confidence": confidence,
                    "seed": self.config.seed,
                    "buckets": self.config.buckets,
                    "interval": "percentile",
                    "method": (
                        "Poisson bootstrap over conversations (data rows): conversations hashed into buckets, "
                        "each bucket weighted by a discretised Poisson(1) per resample"
                    ),
                },
                "kinds": list(self.config.kinds),
                "features": sorted(self.config.features) if self.config.features is not None else None,
            },
            bootstrap=tuple(tuple(sample[i] for i in order) for sample in samples),
        )

    def _bootstrap(
        self,
        m: int,
        buckets: dict[int, dict[tuple[int, int, int], int]],
        theta: list[float],
        resamples: int,
        prior: float,
        anchor: float,
        anchor_index: int | None,
    ) -> list[list[float]]:
        if resamples == 0 or m == 0:
            return []
        # One lane per (i, j, tie) seen anywhere, in a fixed order.
        lane_keys = sorted({lane for lanes in buckets.values() for lane in lanes})
        lane_of = {lane: k for k, lane in enumerate(lane_keys)}
        bucket_ids = sorted(buckets)
        vectors: list[list[int]] = []
        for bucket in bucket_ids:
            vector = [0] * len(lane_keys)
            for lane, n in buckets[bucket].items():
                vector[lane_of[lane]] = n
            vectors.append(vector)
        # Half-wins of (i over j, j over i) for i < j as a sum of lanes: a decisive win counts 1,
        # a tie 1/2 for each side.
        terms: dict[tuple[int, int], list[tuple[int, float, float]]] = {}
        for k, (i, j, tie) in enumerate(lane_keys):
            if tie:
                terms.setdefault((i, j), []).append((k, 0.5, 0.5))
            elif i < j:
                terms.setdefault((i, j), []).append((k, 1.0, 0.0))
            else:
                terms.setdefault((j, i), []).append((k, 0.0, 1.0))
        plan = sorted(terms.items())
        samples: list[list[float]] = []
        for resampled in resample_counts(vectors, bucket_ids, seed=self.config.seed, resamples=resamples):
            pairs: PairCounts = []
            for (i, j), parts in plan:
                wij = wji = 0.0
                for k, share_i, share_j in parts:
                    n = resampled[k]
                    wij += n * share_i
                    wji += n * share_j
                if wij or wji:
                    pairs.append((i, j, wij, wji))
            fitted = fit_pairs(m, pairs, prior=prior, start=theta, tol=_BOOTSTRAP_TOL)
            samples.append(elo_scale(fitted, anchor=anchor, anchor_index=anchor_index))
        return samples

    def _position_bias(self, local: dict[int, int], theta: list[float]) -> dict[str, Any]:
        position_wins: dict[int, int] = {}
        position_games: dict[int, int] = {}
        for key, count in self._positions.items():
            shown_w, shown_l = key >> _POSITION_BITS, key & _POSITION_MAX
            position_wins[shown_w] = position_wins.get(shown_w, 0) + count
            position_games[shown_w] = position_games.get(shown_w, 0) + count
            position_games[shown_l] = position_games.get(shown_l, 0) + count
        n = k = 0
        first_games: dict[tuple[int, int], int] = {}  # (first shown, other) in local indices
        for key, count in self._first_shown.items():
            winner, loser, _ = self._pair_list[key // 2]
            first_won = key % 2
            first, other = (local[winner], local[loser]) if first_won else (local[loser], local[winner])
            first_games[(first, other)] = first_games.get((first, other), 0) + count
            n += count
            k += count * first_won
        expected = variance = 0.0
        for (first, other), count in sorted(first_games.items()):  # a fixed order: exact merges
            p = 1.0 / (1.0 + math.exp(theta[other] - theta[first]))
            expected += count * p
            variance += count * p * (1.0 - p)
        z = (k - n / 2.0) / math.sqrt(n / 4.0) if n else math.nan
        z_adjusted = (k - expected) / math.sqrt(variance) if variance > 0 else math.nan
        return {
            "first_shown": {
                "comparisons": n,
                "first_wins": k,
                "win_rate": k / n if n else None,
                "z": z,
                "p_value": binomial_two_sided(k, n) if n else None,
                "expected_first_wins": expected if n else None,
                "z_adjusted": z_adjusted,
                "p_value_adjusted": normal_two_sided(z_adjusted) if variance > 0 else None,
            },
            "by_position": [
                {
                    "position": position,
                    "wins": position_wins.get(position, 0),
                    "comparisons": games,
                    "win_rate": position_wins.get(position, 0) / games,
                }
                for position, games in sorted(position_games.items())
            ],
            "method": _POSITION_METHOD,
        }

    def _tally_dicts(self) -> list[dict[str, Any]]:
        answers: dict[_Question, dict[str, int]] = {}
        answered: dict[_Question, int] = dict(self._answered)
        for (feature, path, kind, target, name), n in self._answers.items():
            question = (feature, path, kind, target)
            answers.setdefault(question, {})[name] = n
            if kind == "radio":
                answered[question] = answered.get(question, 0) + n
        questions: dict[tuple[str, str], dict[str, Any]] = {}
        for question, n in sorted(answered.items(), key=lambda item: _question_sort_key(item[0])):
            feature, path, kind, target = question
            text = " > ".join((*path, feature))
            entry = questions.setdefault((text, kind), {"question": text, "kind": kind, "targets": {}})
            counted = answers.get(question, {})
            entry["targets"][target] = {
                "answered": n,
                "answers": dict(sorted(counted.items(), key=lambda item: (-item[1], item[0]))),
            }
        return [questions[key] for key in sorted(questions)]


# (feature, path, kind, target) of a tallied question.
_Question = tuple[str, tuple[str, ...], str, str]
_Answer = tuple[str, tuple[str, ...], str, str, str]
# (feature, path, kind, scope, model, target when the model is unknown, answers) of one radio or
# checklist answer.
_Answers = tuple[str, tuple[str, ...], str, str, str | None, str, tuple[str, ...]]


def _target(scope: str, model: str | None, unknown_target: str) -> str:
    """Whom an answer is tallied for: the round (global), the response's model, or unknown."""
    if scope == "global":
        return GLOBAL_TARGET
    return unknown_target if model is None else model


_OrderAnalysis = tuple[
    tuple[int, ...],
    tuple[tuple[int, ...], ...],
    tuple[tuple[int, int], ...],
    tuple[int, ...],
    str | None,
    tuple[int, int, int] | None,
]


class _Tallies(dict[tuple[int, ...], tuple[int, int, int]]):
    """Raters' values of a pairwise unit (0, 1 or 2 each) -> its tally (see `pair_unit`)."""

    def __missing__(self, values: tuple[int, ...]) -> tuple[int, int, int]:
        tally = pair_unit(values.count(0), values.count(1), values.count(2))
        if len(self) < _CACHE_LIMIT:
            self[values] = tally
        return tally


_TALLIES = _Tallies()
_PositionAnalysis = tuple[tuple[int, ...], int]
_CACHE_LIMIT: Final = 1 << 14  # signatures per cache: ~1 KB each, cleared when full

# Outcome codes. Every (model a, model b, tie) outcome gets a dense pair id (a is the winner; for a
# tie the lower model index). A pair key is ``pair_id * buckets + bucket`` (the varying parts in
# the low bits, which CPython's dict uses to place int keys); a first-shown code is
# ``pair_id * 2 + (1 if the winner was shown first)``; a position code ``shown_w << 8 | shown_l``.
_RADIX: Final = 1 << 20  # at most this many models
_POSITION_BITS: Final = 8
_POSITION_MAX: Final = (1 << _POSITION_BITS) - 1
# Buffered outcomes are counted every this many rows. Small on purpose: buffered tuples that live
# long enough to reach the oldest GC generation make CPython run full collections over the whole
# heap; at 1,024 rows these cost 10-15 % of the pass (benchmarks/leaderboard.py), at 128 nothing.
_FLUSH_ROWS: Final = 128
# Bootstrap fits stop at this Newton step (log-strength; ~4e-5 rating points).
_BOOTSTRAP_TOL: Final = 1e-7


# Signatures of a judgment, flat tuples (cheap to build and to hash): a ranking's order signature
# is (0, model, rank, model, rank, ...), its position signature (0, rank, position, rank,
# position, ...); a selection's are (kind 1 = single | 2 = multi, number selected, model, ...) and
# (kind, number selected, position, ...), the selected responses first. An order analysis is (pair
# keys of bucket 0, first-shown codes per entry, agreement unit pairs (low, high) sorted and
# interned, their values (0 = low won, 1 = high won, 2 = tie), preferred category, None or
# (unresolved pairs, same-model pairs, 1 if no outcome)); a position analysis is (position codes,
# index of the entry shown first or -1).
#
# The builders below spell out the usual sizes (2-4 responses) because on CPython 3.11 a loop or a
# comprehension over three responses costs about four times the unrolled tuple: building these
# keys was the largest single cost of the pass (benchmarks/leaderboard.py).
_Signature = tuple[Any, ...]


_Judgment = tuple[str, str, _Signature, _Signature]  # (question, parent message, order, position)


def _ranking_judgment(ranking: Ranking) -> _Judgment:
    ranked = ranking.ranked
    size = len(ranked)
    if size == 3:
        a, b, c = ranked
        ao, bo, co = a.order, b.order, c.order
        order: _Signature = (0, a.model, ao, b.model, bo, c.model, co)
        position: _Signature = (0, ao, a.position, bo, b.position, co, c.position)
    elif size == 4:
        a, b, c, d = ranked
        ao, bo, co, do = a.order, b.order, c.order, d.order
        order = (0, a.model, ao, b.model, bo, c.model, co, d.model, do)
        position = (0, ao, a.position, bo, b.position, co, c.position, do, d.position)
    elif size == 2:
        a, b = ranked
        ao, bo = a.order, b.order
        order, position = (0, a.model, ao, b.model, bo), (0, ao, a.position, bo, b.position)
    else:
        orders: list[Any] = [0]
        positions: list[Any] = [0]
        for entry in ranked:
            orders += (entry.model, entry.order)
            positions += (entry.order, entry.position)
        order, position = tuple(orders), tuple(positions)
    return ranking.feature, ranking.parent_message_id, order, position


def _single_judgment(single: SingleSelection) -> _Judgment:
    selected, alternatives = single.selected, single.alternatives
    if len(alternatives) == 2:
        b, c = alternatives
        order: _Signature = (1, 1, selected.model, b.model, c.model)
        position: _Signature = (1, 1, selected.position, b.position, c.position)
    elif len(alternatives) == 1:
        b = alternatives[0]
        order, position = (1, 1, selected.model, b.model), (1, 1, selected.position, b.position)
    else:
        order, position = _selection_signatures(1, (selected, *alternatives), 1)
    return single.feature, single.parent_message_id, order, position


def _multi_judgment(multi: MultiSelection) -> _Judgment:
    order, position = _selection_signatures(2, (*multi.selected, *multi.unselected), len(multi.selected))
    return multi.feature, multi.parent_message_id, order, position


def _selection_signatures(
    kind: int, shown: Sequence[Response], selected: int
) -> tuple[_Signature, _Signature]:
    order: list[Any] = [kind, selected]
    position: list[Any] = [kind, selected]
    for entry in shown:
        order.append(entry.model)
        position.append(entry.position)
    return tuple(order), tuple(position)


_UNIT_VALUES: Final = itemgetter(3)  # an order analysis -> its agreement unit values


def _question_sort_key(question: _Question) -> tuple[Any, ...]:
    feature, path, kind, target = question
    return (path, feature, kind, target)


_SCALARS: Final = (
    "labels",
    "rows",
    "rows_without_labels",
    "labels_without_judgments",
    "judgments_without_outcomes",
    "unresolved_pairs",
    "same_model_pairs",
)


def _rows_of(labels: Iterable[LabelRecord]) -> Iterator[Conversation]:
    """Consecutive labels of one (project, data row) as one row, keyed by the data row id."""
    row: list[LabelRecord] = []
    key: tuple[str, str] | None = None
    for label in labels:
        if (label.project_id, label.data_row_id) != key:
            if row:
                yield row[0].data_row_id, row
            row, key = [], (label.project_id, label.data_row_id)
        row.append(label)
    if row:
        yield row[0].data_row_id, row


def merge(*accumulators: LeaderboardAccumulator) -> LeaderboardAccumulator:
    """A new accumulator holding the sum of the given ones (which are left unchanged)."""
    if not accumulators:
        raise ValueError("merge needs at least one accumulator")
    result = accumulators[0].copy()
    for other in accumulators[1:]:
        result.merge(other)
    return result


def compute_leaderboard(
    labels: Iterable[LabelRecord],
    *,
    seed: int = 0,
    buckets: int = DEFAULT_BUCKETS,
    text_sample_size: int = 20,
    kinds: Collection[str] = KINDS,
    features: Collection[str] | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    prior: float = 1.0,
    anchor: float = 1000.0,
    anchor_model: str | None = None,
    workers: int = 1,
) -> Leaderboard:
    """One pass over labels (e.g. `mmc.export.iter_labels(lines)`) -> `Leaderboard`.

    ``workers`` > 1 counts the rows in that many processes (see `evaluation.workers`).
    """
    accumulator = LeaderboardAccumulator(
        seed=seed, buckets=buckets, text_sample_size=text_sample_size, kinds=kinds, features=features
    )
    accumulator.add_labels(labels, workers=workers)
    return accumulator.leaderboard(
        resamples=resamples, confidence=confidence, prior=prior, anchor=anchor, anchor_model=anchor_model
    )
