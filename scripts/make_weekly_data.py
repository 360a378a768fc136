"""Regenerate the weekly cycle's sample data in example_dags/data/weekly/ (deterministic, seeded).

What a team's own evaluation harness would hand the weekly DAG, in the harness's field names (the
mapping in mapping.yaml says where each field is):

* `evaluation_set.jsonl`: 40 fixed prompts ``{"id", "input": {"prompt", "images", "context"},
  "category", "source"}``; the vision prompts carry an image URL, a few carry earlier messages;
* `responses/<week>/<model version>.jsonl`: one file per model version and week,
  ``{"prompt_id", "output": {"text"}, "latency_ms"}``. Three families ship a new version every week
  (`atlas-large-2026-04-06`, then `atlas-large-2026-04-13`); `borealis-7b` is the fixed reference
  model, the same name and the same answers both weeks, which anchors "change since last week".

    .venv/bin/python scripts/make_weekly_data.py
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

WEEKLY = Path(__file__).resolve().parents[1] / "example_dags" / "data" / "weekly"
WEEKS = ("2026-04-06", "2026-04-13")
FAMILIES = ("atlas-large", "cirrus-mini", "dynamo-pro")  # a new version every week
REFERENCE = "borealis-7b"  # the fixed reference model: same name, same answers, every week
PROMPTS = 40
IMAGE_URL = "https://storage.googleapis.com/labelbox-datasets/sample/image-{}.jpg"
TOPICS = {
    "reasoning": ("Why does ice float on water?", "Is 1001 a prime number?", "Why are manholes round?"),
    "coding": (
        "Reverse a linked list in Python.",
        "What does `git rebase` do?",
        "Explain a Python generator.",
    ),
    "writing": (
        "Write a haiku about the sea.",
        "Draft a polite reminder email.",
        "Summarise Hamlet briefly.",
    ),
    "vision": ("What is shown in this picture?", "Count the people in this photo.", "Describe the chart."),
    "facts": (
        "What is the capital of Australia?",
        "Who painted the Mona Lisa?",
        "How many legs has a spider?",
    ),
}
CONTEXT = [
    {"role": "user", "content": "I am preparing for an exam."},
    {"role": "assistant", "content": "Happy to help. What is the subject?"},
]
OPENINGS = ("Short answer: ", "Here is a careful answer. ", "Step by step: ", "In brief, ")
DETAILS = ("It depends on context.", "The key idea is simple.", "Consider an example.", "- a first point")


def prompt_line(index: int, rng: random.Random) -> dict:
    """One evaluation-set line in the harness's shape."""
    category = list(TOPICS)[index % len(TOPICS)]
    prompt: dict = {"prompt": rng.choice(TOPICS[category])}
    if category == "vision":
        prompt["images"] = [{"url": IMAGE_URL.format(index % 12), "mime": "image/jpeg"}]
    if index % 8 == 3:
        prompt["context"] = CONTEXT
    source = rng.choice(["support-tickets", "red-team", "synthetic"])
    return {"id": f"weekly-{index:04d}", "input": prompt, "category": category, "source": source}


def response_line(prompt: dict, version: str, rng: random.Random) -> dict:
    """One harness output line: a version's answer, longer and more structured for stronger versions."""
    detail = " ".join(rng.choice(DETAILS) for _ in range(rng.randint(1, 4)))
    text = f"{rng.choice(OPENINGS)}{prompt['input']['prompt'].rstrip('?.')} -- {version}: {detail}"
    return {"prompt_id": prompt["id"], "output": {"text": text}, "latency_ms": rng.randint(200, 2400)}


def write_jsonl(path: Path, lines: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def main() -> None:
    rng = random.Random(20260406)
    prompts = [prompt_line(i, rng) for i in range(PROMPTS)]
    write_jsonl(WEEKLY / "evaluation_set.jsonl", prompts)
    shutil.rmtree(WEEKLY / "responses", ignore_errors=True)
    reference = [response_line(p, REFERENCE, random.Random(f"{REFERENCE}:{p['id']}")) for p in prompts]
    random.Random(REFERENCE).shuffle(reference)  # a harness writes in its own order, not the set's
    for week in WEEKS:
        folder = WEEKLY / "responses" / week
        write_jsonl(folder / f"{REFERENCE}.jsonl", reference)
        for family in FAMILIES:
            version = f"{family}-{week}"
            lines = [response_line(p, version, rng) for p in prompts]
            rng.shuffle(lines)
            write_jsonl(folder / f"{version}.jsonl", lines)
    print(f"wrote {WEEKLY}")


if __name__ == "__main__":
    main()
