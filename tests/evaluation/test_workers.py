"""The pass spread over worker processes: the same state as one process, and loud failures."""

from __future__ import annotations

import json
import os
import signal
from itertools import chain
from typing import Any

import pytest

from airflow_mmc_provider.evaluation import LeaderboardAccumulator, compute_leaderboard
from airflow_mmc_provider.evaluation import workers as W
from airflow_mmc_provider.mmc.export import ExportRow

from .test_leaderboard import random_rows

ROWS = random_rows(11, count=900)  # enough rows that the workers get batches and this process too


def state(accumulator: LeaderboardAccumulator) -> str:
    return json.dumps(accumulator.to_state(), sort_keys=True)


def test_two_processes_give_the_state_of_one() -> None:
    conversations = [(f"conversation-{i}", labels) for i, labels in enumerate(ROWS)]
    one = LeaderboardAccumulator(seed=3).add_conversations(conversations)
    sent: list[int] = []
    original = W._Worker.send

    def counting_send(self: W._Worker, message: bytes) -> None:
        sent.append(len(message))
        original(self, message)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(W._Worker, "send", counting_send)
        two = LeaderboardAccumulator(seed=3).add_conversations(conversations, workers=2)
    assert sent, "no batch went to the worker"
    assert len(sent) * W.BATCH_ROWS < len(ROWS) + W.BATCH_ROWS * 3, "the calling process counted nothing"
    assert state(two) == state(one)
    assert two.leaderboard(resamples=50).to_dict() == one.leaderboard(resamples=50).to_dict()


def test_rows_and_labels_in_workers_equal_one_process() -> None:
    rows = [
        ExportRow(data_row_id=labels[0].data_row_id, global_key=None, project_id="p", labels=tuple(labels))
        for labels in ROWS[:300]
    ]
    rows.insert(7, ExportRow(data_row_id="empty", global_key=None, project_id="p", labels=()))
    by_rows = LeaderboardAccumulator().add_rows(rows, workers=3)
    assert by_rows.rows_without_labels == 1
    assert state(by_rows) == state(LeaderboardAccumulator().add_rows(rows))
    labels = list(chain.from_iterable(ROWS[:300]))
    assert state(LeaderboardAccumulator().add_labels(labels, workers=2)) == state(
        LeaderboardAccumulator().add_labels(labels)
    )


def test_a_settings_mismatch_cannot_happen_in_workers() -> None:
    """Workers get the caller's settings: kinds and features restrict them as they restrict one pass."""
    options: dict[str, Any] = {
        "kinds": ["ranking"],
        "features": ["rank"],
        "buckets": 16,
        "text_sample_size": 2,
    }
    conversations = [(f"c{i}", labels) for i, labels in enumerate(ROWS[:400])]
    one = LeaderboardAccumulator(**options).add_conversations(conversations)
    two = LeaderboardAccumulator(**options).add_conversations(conversations, workers=2)
    assert state(two) == state(one)


def test_a_worker_error_is_raised_with_its_message() -> None:
    worker = W._Worker({"seed": 0})
    try:
        worker.send(b"\xc1 is not MessagePack")
        with pytest.raises(W.WorkerError, match=r"leaderboard worker failed: .*Decode"):
            worker.finish()
    finally:
        worker.close()


def test_a_worker_that_dies_is_reported_with_its_exit_code() -> None:
    worker = W._Worker({"seed": 0})
    try:
        assert worker.process.pid is not None
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.join(timeout=10)
        with pytest.raises(W.WorkerError, match=r"exited \(code -9\)"):
            worker.finish()
    finally:
        worker.close()


def test_compute_leaderboard_in_workers() -> None:
    labels = list(chain.from_iterable(ROWS[:200]))
    one = compute_leaderboard(labels, seed=4, resamples=30).to_dict(include_bootstrap=True)
    assert compute_leaderboard(labels, seed=4, resamples=30, workers=2).to_dict(include_bootstrap=True) == one


def test_a_daemonic_caller_gets_a_clear_error() -> None:
    """multiprocessing refuses children in daemonic processes (Celery's prefork pool)."""
    import multiprocessing

    config = multiprocessing.current_process()._config  # type: ignore[attr-defined]
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(config, "daemon", True)
        with pytest.raises(W.WorkerError, match="use workers=1 there"):
            LeaderboardAccumulator().add_conversations([("c", ROWS[0])], workers=2)
