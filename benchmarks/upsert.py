"""Upload 20,000 multimodal chat conversations through our client and through the official SDK.

Both talk to the same local emulator process; the figures are wall-clock seconds from the first
byte of input to a finished task with every row's outcome read back, and the peak Python memory
of our upload at two row counts (it should not grow with the row count). Target: ours at least 2x
faster than `Dataset.create_data_rows`, memory flat.

    .venv/bin/python benchmarks/upsert.py [--rows 20000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path

from _common import API_KEY, MODELS, chat_row

from airflow_mmc_provider.client import LabelboxClient
from airflow_mmc_provider.emulator.testing import run_emulator


def conversation(key: str, index: int) -> dict:
    """A realistic row: one prompt, four model responses of a few hundred characters."""
    actors = {"user": {"role": "human", "metadata": {"name": "User"}}}
    messages = {
        "prompt": {
            "actorId": "user",
            "content": [{"type": "text", "content": f"Question {index}: explain topic {index % 97} simply."}],
            "childMessageIds": [f"{m}-reply" for m in MODELS],
        }
    }
    for model in MODELS:
        actors[model] = {"role": "model", "metadata": {"modelConfigName": model}}
        text = f"{model} answers question {index}. " + "Some explanation of the idea. " * 12
        messages[f"{model}-reply"] = {
            "actorId": model,
            "content": [{"type": "text", "content": text}],
            "childMessageIds": [],
        }
    return chat_row(key, actors, messages)


def rows(prefix: str, count: int) -> Iterator[dict]:
    return (conversation(f"{prefix}-{i}", i) for i in range(count))


def ours(graphql_url: str, count: int) -> float:
    with LabelboxClient(API_KEY, graphql_url) as client:
        dataset, _ = client.datasets.get_or_create(f"ours-{uuid.uuid4().hex[:8]}")
        start = time.perf_counter()
        report = client.upsert_data_rows(dataset.id, rows(f"ours-{dataset.id}", count), poll_interval=0.25)
        elapsed = time.perf_counter() - start
    assert report.created == count and not report.failed, (report.created, report.failed[:3])
    return elapsed


def our_upload_peak_mb(graphql_url: str, count: int) -> float:
    """Peak traced memory of validating, spooling and uploading `count` rows from a generator."""
    with LabelboxClient(API_KEY, graphql_url) as client:
        dataset, _ = client.datasets.get_or_create(f"mem-{uuid.uuid4().hex[:8]}")
        tracemalloc.start()
        upsert = client.data_rows.upsert(dataset.id, rows(f"mem-{dataset.id}", count))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        client.tasks.wait(upsert.task_id, poll_interval=0.25)
    return peak / 1e6


def sdk(graphql_url: str, count: int) -> float:
    import labelbox

    client = labelbox.Client(api_key=API_KEY, endpoint=graphql_url)
    dataset = client.create_dataset(name=f"sdk-{uuid.uuid4().hex[:8]}", iam_integration=None)
    start = time.perf_counter()
    task = dataset.create_data_rows(list(rows(f"sdk-{dataset.uid}", count)))
    task.wait_till_done(check_frequency=2)
    result = task.result
    elapsed = time.perf_counter() - start
    assert task.errors is None and len(result) == count, task.errors
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir, run_emulator(Path(data_dir), API_KEY) as emulator:
        url = emulator.graphql_url
        ours_s = ours(url, args.rows)
        sdk_s = sdk(url, args.rows)
        small, large = our_upload_peak_mb(url, args.rows // 4), our_upload_peak_mb(url, args.rows)
    print(f"rows                                  {args.rows}")
    print(f"ours  (client.upsert_data_rows)        {ours_s:8.2f} s")
    print(f"SDK   (Dataset.create_data_rows)       {sdk_s:8.2f} s")
    print(f"speed-up                               {sdk_s / ours_s:8.2f} x   (target >= 2x)")
    print(f"our upload peak memory, {args.rows // 4:>6} rows   {small:8.1f} MB")
    print(
        f"our upload peak memory, {args.rows:>6} rows   {large:8.1f} MB   (flat: growth {large - small:+.1f} MB)"
    )


if __name__ == "__main__":
    main()
