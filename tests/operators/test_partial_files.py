"""A killed write's partial file is removed by the next write of the same destination, and only it."""

from __future__ import annotations

import os
import signal
import time

from airflow_mmc_provider.operators.storage import atomic_write, remove_stale_partials


def test_a_rerun_removes_its_destinations_leftover_and_nothing_else(tmp_path):
    leftover = tmp_path / ".round.ndjson.partial-0123456789ab"
    leftover.write_bytes(b"half an export, from a killed attempt")
    kept = [
        tmp_path / ".other.ndjson.partial-0123456789ab",  # another destination
        tmp_path / ".round.ndjson.errors.ndjson.partial-0123456789ab",  # the errors stream's own
        tmp_path / ".round.ndjson.partial-notmine",  # not a name atomic_write makes
        tmp_path / "round.ndjson.partial-0123456789ab",  # not hidden: a user's file
    ]
    for path in kept:
        path.write_bytes(b"keep")
    with atomic_write(tmp_path / "round.ndjson") as handle:
        handle.write(b"the whole export\n")
    assert not leftover.exists()
    assert all(path.read_bytes() == b"keep" for path in kept)
    assert (tmp_path / "round.ndjson").read_bytes() == b"the whole export\n"
    assert sorted(p.name for p in tmp_path.iterdir() if ".round.ndjson.partial-" in p.name) == [
        ".round.ndjson.partial-notmine"
    ]


def test_the_partial_file_of_a_live_writer_is_left_alone(tmp_path):
    destination = tmp_path / "leaderboard.json"
    with atomic_write(destination) as first:
        first.write(b"still writing")
        [live] = [p for p in tmp_path.iterdir() if p.name.startswith(".leaderboard.json.partial-")]
        assert remove_stale_partials(_storage(destination)) == []
        with atomic_write(destination) as second:
            second.write(b"second")
        assert live.exists()
        first.write(b", done")
    assert destination.read_bytes() == b"still writing, done"
    assert [p.name for p in tmp_path.iterdir()] == ["leaderboard.json"]


def test_a_write_to_a_new_folder_finds_nothing_to_remove(tmp_path):
    assert remove_stale_partials(_storage(tmp_path / "new" / "x.ndjson")) == []


def _storage(path):
    from airflow_mmc_provider.operators.storage import as_storage_path

    return as_storage_path(path)


def test_the_leftover_of_a_writer_killed_with_sigkill_is_removed_by_the_rerun(tmp_path):
    destination = tmp_path / "export.ndjson"
    ready_read, ready_write = os.pipe()
    child = os.fork()
    if child == 0:  # the killed attempt: holds its partial file open until SIGKILL
        try:
            with atomic_write(destination) as handle:
                handle.write(b"half")
                handle.flush()
                os.write(ready_write, b"x")
                time.sleep(60)
        finally:
            os._exit(1)
    os.read(ready_read, 1)
    [leftover] = [p for p in tmp_path.iterdir() if p.name.startswith(".export.ndjson.partial-")]
    assert remove_stale_partials(_storage(destination)) == []  # its writer is alive
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    assert leftover.exists()
    with atomic_write(destination) as handle:
        handle.write(b"whole")
    assert not leftover.exists() and [p.name for p in tmp_path.iterdir()] == ["export.ndjson"]
