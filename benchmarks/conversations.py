"""Build and validate 100,000 realistic conversation records, and print time and memory.

The records mimic an evaluation round: four models answer each prompt, about a third of the
conversations are multi-turn, a fifth of the prompts carry images, some start with history, and
every record has metadata. They are written to a temporary JSONL file first (not timed), then
streamed through `iter_payloads` exactly as the data-row operator would, reading the file line by
line, so the figures include parsing.

Run: ``.venv/bin/python benchmarks/conversations.py [--records N] [--tracemalloc]``. Peak RSS comes
from `resource.getrusage`; `--tracemalloc` adds a second, slower pass that reports the peak of
Python allocations during the stream. Payloads are not kept, so that peak grows only with the
duplicate-key index (one global key per record, roughly 150 bytes each), not with the data.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from airflow_mmc_provider.mmc.conversation import iter_payloads, read_lines

MODELS = ("gpt-4o-2024-05", "gemini-1.5-pro", "claude-3.5-sonnet", "llama-3-70b-instruct")
CATEGORIES = ("coding", "vision", "travel", "math", "writing", "support")
WORDS = [
    "the",
    "restaurant",
    "model",
    "answer",
    "image",
    "city",
    "because",
    "however",
    "detailed",
    "context",
    "evaluate",
    "prompt",
    "response",
    "quality",
    "reasoning",
    "summary",
    "example",
    "travel",
    "budget",
    "vegetarian",
    "dumplings",
    "museum",
]


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choices(WORDS, k=words)).capitalize() + "."


def _prompt(rng: random.Random, index: int) -> Any:
    text = _text(rng, rng.randint(8, 40))
    if rng.random() < 0.2:
        images = [{"uri": f"https://images.example.com/{index}/{n}.jpg"} for n in range(rng.randint(1, 2))]
        return {"text": text, "files": images}
    return text


def _responses(rng: random.Random) -> dict[str, str]:
    return {model: _text(rng, rng.randint(40, 200)) for model in MODELS}


def record(rng: random.Random, index: int) -> dict[str, Any]:
    """One realistic record: 4 models, some multi-turn, some images, some history."""
    result: dict[str, Any] = {"key": f"round-7/conversation-{index:07d}"}
    turns = 1 if rng.random() < 0.67 else rng.randint(2, 3)
    if turns == 1:
        result.update(prompt=_prompt(rng, index), responses=_responses(rng))
    else:
        result["turns"] = [
            {"prompt": _prompt(rng, index), "responses": _responses(rng)} for _ in range(turns)
        ]
    if rng.random() < 0.1:
        result["history"] = [
            {"role": "user", "text": _text(rng, 12)},
            {"role": "assistant", "text": _text(rng, 30), "model": MODELS[0]},
        ]
    result["metadata"] = {
        "prompt_category": rng.choice(CATEGORIES),
        "source": "support-tickets-2024",
        "model_version": "2024-05",
    }
    return result


def write_records(path: Path, count: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    encoder = msgspec.json.Encoder()
    with path.open("wb") as out:
        for index in range(count):
            out.write(encoder.encode(record(rng, index)))
            out.write(b"\n")
        # Flush to disk now, so that write-back of the fresh file does not compete with the timed run.
        out.flush()
        os.fsync(out.fileno())
    return path.stat().st_size


def _lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        yield from read_lines(source)


def stream(path: Path) -> tuple[int, int]:
    """Build and validate every record; return (payloads, characters of their row_data)."""
    count = 0
    messages = 0
    for payload in iter_payloads(_lines(path), global_key_prefix="bench/"):
        count += 1
        messages += len(payload["row_data"]["messages"])
    return count, messages


def _max_rss_mib() -> float:
    # Linux reports kilobytes, macOS bytes.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 / 1024 if sys.platform == "darwin" else rss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--tracemalloc", action="store_true", help="also measure Python allocation peak")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "conversations.jsonl"
        size = write_records(path, args.records)
        print(f"records: {args.records:,} ({size / 1e6:.1f} MB of JSONL)")
        rss_before = _max_rss_mib()
        started = time.perf_counter()
        count, messages = stream(path)
        elapsed = time.perf_counter() - started
        print(f"built and validated: {count:,} payloads, {messages:,} messages in {elapsed:.2f} s")
        print(f"per record: {elapsed / max(count, 1) * 1e6:.1f} us")
        print(f"peak RSS: {_max_rss_mib():.1f} MiB (before streaming: {rss_before:.1f} MiB)")
        if args.tracemalloc:
            tracemalloc.start()
            stream(path)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"tracemalloc peak during the stream: {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
