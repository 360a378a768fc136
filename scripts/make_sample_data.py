"""Regenerate the sample round shipped in example_dags/data/ (deterministic, seeded).

240 conversations across 4 model configs: single-turn text prompts, prompts with an image, and
two-turn comparisons, each with metadata the way data teams slice rounds (category, source).

    .venv/bin/python scripts/make_sample_data.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "example_dags" / "data"
OUT = DATA / "conversations.jsonl"
PRELABELS = DATA / "prelabels.jsonl"
MODELS = ("atlas-large", "borealis-7b", "cirrus-mini", "dynamo-pro")
TOPICS = {
    "reasoning": [
        "Why does ice float on water?",
        "Explain why the sky looks blue.",
        "Is 1001 a prime number?",
    ],
    "coding": [
        "Reverse a linked list in Python.",
        "What does `git rebase` do?",
        "Explain a Python generator.",
    ],
    "writing": [
        "Write a haiku about the sea.",
        "Summarise Hamlet in two sentences.",
        "Draft a polite reminder email.",
    ],
    "vision": ["What is shown in this picture?", "Count the people in this photo.", "Describe the chart."],
    "facts": [
        "What is the capital of Australia?",
        "Who painted the Mona Lisa?",
        "How many legs has a spider?",
    ],
}
STYLES = ("Short answer: ", "Here is a careful answer. ", "Step by step: ", "In brief, ")


def response(model: str, prompt: str, rng: random.Random) -> str:
    detail = " ".join(
        rng.choice(["It depends on context.", "The key idea is simple.", "Consider an example."])
        for _ in range(rng.randint(1, 4))
    )
    return f"{rng.choice(STYLES)}{prompt.rstrip('?.')} -- {model} says: {detail}"


def record(index: int, rng: random.Random) -> dict:
    category = list(TOPICS)[index % len(TOPICS)]
    prompt = rng.choice(TOPICS[category])
    key = f"round-sample-{index:04d}"
    models = list(MODELS)
    rng.shuffle(models)
    metadata = {
        "prompt_category": category,
        "source": rng.choice(["support-tickets", "red-team", "synthetic"]),
    }
    if index % 6 == 5:
        follow_up = "Can you make that shorter?"
        turns = [
            {"prompt": prompt, "responses": {m: response(m, prompt, rng) for m in models}},
            {"prompt": follow_up, "responses": {m: response(m, follow_up, rng) for m in models}},
        ]
        return {"key": key, "turns": turns, "metadata": metadata}
    text: dict = {"text": prompt}
    if category == "vision":
        text["files"] = [
            {
                "uri": f"https://storage.googleapis.com/labelbox-datasets/sample/image-{index % 12}.jpg",
                "mime_type": "image/jpeg",
            }
        ]
    return {
        "key": key,
        "prompt": text,
        "responses": {m: response(m, prompt, rng) for m in models},
        "metadata": metadata,
    }


def prelabel(index: int, rng: random.Random) -> dict:
    """A model-assisted pre-label in the record format of mmc/annotations.py: a difficulty guess."""
    return {
        "key": f"round-sample-{index:04d}",
        "classifications": {"Prompt difficulty": rng.choice(["easy", "medium", "hard"])},
    }


def main() -> None:
    rng = random.Random(20261122)
    OUT.write_text("".join(json.dumps(record(i, rng)) + "\n" for i in range(240)))
    PRELABELS.write_text("".join(json.dumps(prelabel(i, rng)) + "\n" for i in range(0, 240, 4)))
    print(f"wrote {OUT} and {PRELABELS}")


if __name__ == "__main__":
    main()
