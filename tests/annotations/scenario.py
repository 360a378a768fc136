"""The shared scenario of the annotation tests: an ontology, conversations, valid annotation lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from airflow_mmc_provider.mmc.annotations import ndjson as ann
from airflow_mmc_provider.mmc.conversation import prompt_message_id, response_ref
from tests.specs import SCENARIO_SPEC

ONTOLOGY_SPEC = SCENARIO_SPEC

MODELS = ("gpt-4o", "claude", "gemini")
RECORDS: list[dict[str, Any]] = [
    {"key": "conv-1", "prompt": "Hello?", "responses": {m: f"Hi from {m}" for m in MODELS}},
    {
        "key": "conv-2",
        "turns": [
            {"prompt": "Plan a trip", "responses": {"gpt-4o": "Where to?", "claude": "Sure."}},
            {"prompt": "Wroclaw", "responses": {"gpt-4o": "Great city.", "claude": "Lovely."}},
        ],
    },
]
RESTAURANT_KEY = "restaurant"
RESTAURANT_MODELS = ("GPT 4 with temperature 0.7", "GPT 5")


def restaurant_row_data() -> dict[str, Any]:
    """Labelbox's own multi-turn sample (seed 002), kept with the conversation tests."""
    path = Path(__file__).parent.parent / "mmc" / "data" / "restaurant_row_data.json"
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result


def valid_lines() -> list[dict[str, Any]]:
    """One valid line of every kind and scope for conv-1 (built with the builders, no uuid yet)."""
    gpt, claude, gemini = (response_ref("conv-1", m) for m in MODELS)
    line = ann.annotation_line
    gk = "conv-1"
    return [
        line(ann.message_ranking("Rank", [claude, gpt, gemini]), global_key=gk),
        line(ann.single_selection("Best", claude), global_key=gk),
        line(ann.multi_selection("Good", [claude, gemini]), global_key=gk),
        line(
            ann.radio(
                "Overall quality",
                ann.answer(
                    "bad",
                    [
                        ann.text("Why", "too long"),
                        ann.radio("Severity", ann.answer("high", [ann.text("Details", "x")])),
                    ],
                ),
            ),
            global_key=gk,
        ),
        line(ann.checklist("Issues", ["verbosity", "unsafe"]), global_key=gk),
        line(ann.text("Reason", "claude is more specific"), global_key=gk),
        line(ann.radio("Response quality", "good"), global_key=gk, message_id=claude.message_id),
        line(
            ann.checklist(
                "Response issues", [ann.answer("factual error", [ann.text("Where", "2nd paragraph")])]
            ),
            global_key=gk,
            message_id=gpt.message_id,
        ),
        line(ann.radio("Prompt category", "coding"), global_key=gk, message_id=prompt_message_id("conv-1")),
        line(ann.text("Note", "polite"), global_key=gk, message_id=gemini.message_id),
    ]


def issue_fields(issues: list[Any]) -> list[str]:
    return [issue.field for issue in issues]
