"""Time and memory of the leaderboard analytics on 1,000,000 judgments over 10 models.

The workload: conversations show 2-4 of 10 models (random display order); each data row has one
to three labels (a third of the rows are consensus rows); each label ranks the responses
(Plackett-Luce from fixed skills), one label in five also has a single selection, one in ten a
multiple selection; every label answers a global radio question, a per-response radio question and,
one time in ten, a free-text reason (``--plain``: one label per row and no classifications, to
time the judgments alone). Everything is fed to a `LeaderboardAccumulator` (pairs, buckets,
tallies, agreement, text samples, position counts), then `leaderboard()` fits the Bradley-Terry
ratings and runs 1,000 bootstrap resamples.

To time the analytics rather than the simulator, rows come from a pool of pre-built rows
(``--pool`` distinct ones, built before the clock starts) and each use gets its own conversation
id, which is what the bootstrap groups by. The pool does not flatter the accumulator's signature
caches: with 10 models and 2-4 responses the whole space is about 8,400 order and 60 position
signatures (printed at the end), which any real stream of this size fills as well; agreement is
computed for every consensus row without caching.

Everything runs in this one process: the process pool of earlier releases gained about 15 % here
and lost at 100,000 judgments, so it went; a round too large for one task is split over Airflow
mapped tasks whose states merge (`evaluation.counter`).

Memory: the accumulator's counts do not grow with the judgments (see `evaluation.counter`). ``--memory`` adds a traced pass (tracemalloc; about ten times slower)
printing the traced memory after each quarter of the stream: it stays flat.

The machine is shared: timings vary by 10-20 % with the load of other processes.

    .venv/bin/python benchmarks/leaderboard.py [--judgments 1000000] [--resamples 1000] [--plain] [--memory]
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import sys
import time
import tracemalloc
from collections.abc import Iterator

from airflow_mmc_provider.evaluation import LeaderboardAccumulator
from airflow_mmc_provider.evaluation.pairwise import PER_PROMPT, PerPrompt
from airflow_mmc_provider.mmc import export as records
from airflow_mmc_provider.mmc.export import LabelRecord

MODELS = [f"model-{i:02d}" for i in range(10)]
QUALITY = ("good", "acceptable", "bad")


def _max_rss_mib() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024


def _plackett_luce(rng: random.Random, shown: list[str], strength: dict[str, float]) -> list[str]:
    remaining = list(shown)
    order: list[str] = []
    while remaining:
        pick = rng.choices(remaining, [strength[m] for m in remaining])[0]
        order.append(pick)
        remaining.remove(pick)
    return order


def build_pool(size: int, seed: int, *, plain: bool = False) -> list[tuple[tuple[LabelRecord, ...], int]]:
    """Rows (labels, judgment count), built once; ``plain``: one label per row, no classifications."""
    rng = random.Random(seed)
    skill = {m: rng.gauss(0.0, 0.8) for m in MODELS}
    strength = {m: math.exp(s) for m, s in skill.items()}
    pool = []
    for c in range(size):
        k = rng.choice((2, 3, 3, 4))
        shown = rng.sample(MODELS, k)
        parent = f"p{c}"
        responses = [records.Response(f"r{c}-{i}", m, i) for i, m in enumerate(shown)]
        by_model = {r.model: r for r in responses}
        labels = []
        judgments = 0
        for n in range(1 if plain else rng.choice((1, 1, 2, 3))):
            order = _plackett_luce(rng, shown, strength)
            ranked = tuple(
                records.RankedResponse(by_model[m].message_id, m, rank + 1, by_model[m].position)
                for rank, m in enumerate(order)
            )
            rankings = (records.Ranking("Rank the responses", parent, ranked),)
            singles: tuple[records.SingleSelection, ...] = ()
            multis: tuple[records.MultiSelection, ...] = ()
            if rng.random() < 0.2:
                best = by_model[order[0]]
                singles = (
                    records.SingleSelection(
                        "Best response", parent, best, tuple(r for r in responses if r is not best)
                    ),
                )
            if rng.random() < 0.1:
                cut = rng.randint(1, k - 1)
                chosen = {order[i] for i in range(cut)}
                multis = (
                    records.MultiSelection(
                        "Acceptable responses",
                        parent,
                        tuple(r for r in responses if r.model in chosen),
                        tuple(r for r in responses if r.model not in chosen),
                    ),
                )
            answers = [
                records.ClassificationAnswer(
                    "Overall quality", "radio", "global", answers=(rng.choice(QUALITY),)
                )
            ]
            for r in responses:
                answers.append(
                    records.ClassificationAnswer(
                        "Response quality", "radio", "message", r.message_id, r.model, (rng.choice(QUALITY),)
                    )
                )
            if rng.random() < 0.1:
                answers.append(
                    records.ClassificationAnswer("Reason", "text", "global", text=f"because of {order[0]}")
                )
            labels.append(
                LabelRecord(
                    data_row_id=f"row-{c}",
                    global_key=f"gk-{c}",
                    project_id="project",
                    label_id=f"label-{c}-{n}",
                    rater=f"rater-{rng.randrange(40)}@example.com",
                    rankings=rankings,
                    single_selections=singles,
                    multi_selections=multis,
                    classifications=() if plain else tuple(answers),
                    has_conversation=True,
                )
            )
            judgments += 1 + len(singles) + len(multis)
        pool.append((tuple(labels), judgments))
    return pool


def stream(
    pool: list[tuple[tuple[LabelRecord, ...], int]], judgments: int
) -> Iterator[tuple[str, tuple[LabelRecord, ...], int]]:
    done = 0
    i = 0
    size = len(pool)
    while done < judgments:
        labels, count = pool[i % size]
        yield f"conversation-{i}", labels, count
        done += count
        i += 1


def run(
    pool: list[tuple[tuple[LabelRecord, ...], int]],
    judgments: int,
    resamples: int,
    checkpoints: int = 0,
    per_prompt: PerPrompt = "all",
) -> float:
    """One pass and the leaderboard; returns the total time."""
    accumulator = LeaderboardAccumulator(seed=1, per_prompt=per_prompt)
    add = accumulator.add_row
    fed = 0
    next_checkpoint = judgments // checkpoints if checkpoints else math.inf
    start = time.perf_counter()
    for conversation, labels, count in stream(pool, judgments):
        add(labels, conversation_id=conversation)
        fed += count
        if fed >= next_checkpoint:
            current, peak = tracemalloc.get_traced_memory()
            print(
                f"  after {fed:>9,} judgments: traced {current / 2**20:6.1f} MiB (peak {peak / 2**20:.1f} MiB)"
            )
            next_checkpoint += judgments // checkpoints
    streamed = time.perf_counter()
    board = accumulator.leaderboard(resamples=resamples)
    done = time.perf_counter()
    counts = board.counts
    print(
        f"judgments: {counts['judgments_total']:,} ({counts['judgments']}), labels: {counts['labels']:,}, "
        f"rows: {counts['rows']:,}, pairwise comparisons: {counts['comparisons']:,}"
    )
    print(
        f"one pass over the labels: {streamed - start:.2f} s "
        f"({(streamed - start) / fed * 1e6:.2f} us per judgment)"
    )
    print(f"fit + {resamples:,} bootstrap resamples + report: {done - streamed:.2f} s")
    print(f"total analytics: {done - start:.2f} s")
    top = board.rows[0]
    print(f"top: {top.model} {top.rating:.1f} [{top.ci_low:.1f}, {top.ci_high:.1f}]")
    print(
        f"signature caches: {len(accumulator._orders):,} order, {len(accumulator._shown):,} position; "
        f"bucketed pair counts: {len(accumulator.counts().pairs):,}"
    )
    return done - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judgments", type=int, default=1_000_000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--pool", type=int, default=20_000, help="distinct pre-built rows")
    parser.add_argument("--memory", action="store_true", help="add a traced pass (tracemalloc)")
    parser.add_argument(
        "--plain", action="store_true", help="judgments only: one label per row, no classifications"
    )
    parser.add_argument(
        "--per-prompt",
        choices=PER_PROMPT,
        default="all",
        help="'all' (default here): count every judgment, so the figure is over all of them; "
        "'one': the leaderboard's default, a rater's preference on a prompt once",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    pool = build_pool(args.pool, seed=7, plain=args.plain)
    print(f"pool of {len(pool):,} rows built in {time.perf_counter() - started:.2f} s (not timed below)")
    rss_before = _max_rss_mib()
    single = run(pool, args.judgments, args.resamples, per_prompt=args.per_prompt)
    print(f"peak RSS: {_max_rss_mib():.1f} MiB (before the analytics, pool built: {rss_before:.1f} MiB)")
    print(f"total analytics: {single:.2f} s in 1 process (target < 10 s)")
    if args.memory:
        print("traced pass (tracemalloc makes it slower):")
        tracemalloc.start()
        run(pool, args.judgments, args.resamples, checkpoints=4, per_prompt=args.per_prompt)
        tracemalloc.stop()


if __name__ == "__main__":
    main()
