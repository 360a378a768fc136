"""The ontology specs the tests and benchmarks share, each written once.

* `SEED_SPEC`: the ontology of Labelbox's multimodal chat import page (seed 002, step 2), in the
  spec's short forms (``ranking``, ``scope: message``);
* `ROUND_SPEC`: an evaluation round as the benchmarks and builder tests use it: the three message
  tools, a radio with a nested text, a message-scoped checklist and a free text;
* `SCENARIO_SPEC`: every kind the rules know, nested to three levels, both scopes, a required
  nested classification (the annotation rules' scenario).
"""

from __future__ import annotations

from typing import Any

SEED_SPEC: dict[str, Any] = {
    "tools": [
        {"name": "Single message selection", "type": "message-single-selection"},
        {"name": "Multi message selection", "type": "multi-selection"},
        {"name": "Message ranking", "type": "ranking"},
    ],
    "classifications": [
        {
            "name": "Choose the best response",
            "type": "radio",
            "scope": "global",
            "options": ["Response A", "Response B", "Tie"],
        },
        {"name": "Provide a reason for your choice", "type": "text"},
        {
            "name": "checklist_convo",
            "type": "checklist",
            "scope": "message",
            "options": ["first_checklist_answer", "second_checklist_answer"],
        },
    ],
}


def message_tools(ranking: str, best: str, acceptable: str) -> list[dict[str, Any]]:
    """The three message tools every multimodal chat evaluation ontology here has, by their names."""
    return [
        {"name": ranking, "type": "message-ranking"},
        {"name": best, "type": "message-single-selection"},
        {"name": acceptable, "type": "message-multi-selection"},
    ]


ROUND_SPEC: dict[str, Any] = {
    "tools": message_tools("Rank the responses", "Best response", "Acceptable responses"),
    "classifications": [
        {
            "name": "Overall quality",
            "type": "radio",
            "options": [
                "good",
                {"value": "bad", "classifications": [{"name": "Why", "type": "text"}]},
            ],
        },
        {
            "name": "Response issues",
            "type": "checklist",
            "scope": "message",
            "options": ["verbosity", "factual error", "unsafe"],
        },
        {"name": "Reason", "type": "text"},
    ],
}


SCENARIO_SPEC: dict[str, Any] = {
    "tools": message_tools("Rank", "Best", "Good"),
    "classifications": [
        {
            "name": "Overall quality",
            "type": "radio",
            "options": [
                "good",
                {
                    "value": "bad",
                    "label": "Bad",
                    "classifications": [
                        {"name": "Why", "type": "text", "required": True},
                        {
                            "name": "Severity",
                            "type": "radio",
                            "options": [
                                "low",
                                {"value": "high", "classifications": [{"name": "Details", "type": "text"}]},
                            ],
                        },
                    ],
                },
            ],
        },
        {"name": "Issues", "type": "checklist", "options": ["verbosity", "factual error", "unsafe"]},
        {"name": "Reason", "type": "text"},
        {"name": "Response quality", "type": "radio", "scope": "message", "options": ["good", "bad"]},
        {
            "name": "Response issues",
            "type": "checklist",
            "scope": "message",
            "options": [
                "verbosity",
                {"value": "factual error", "classifications": [{"name": "Where", "type": "text"}]},
            ],
        },
        {"name": "Prompt category", "type": "radio", "scope": "message", "options": ["coding", "travel"]},
        {"name": "Note", "type": "text", "scope": "message"},
    ],
}
