"""Answer tallies per question and target, and the samples of free-text answers.

A classification answer is tallied for whom it judges: the round (global questions), the model of
the response it is attached to, or, when that response's model is unknown, ``(prompt)`` (a human
message of a known conversation) or ``(message)`` (the conversation was not available).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from airflow_mmc_provider.evaluation.counts import Answer, Question
from airflow_mmc_provider.evaluation.reservoir import TextReservoir

__all__ = [
    "GLOBAL_TARGET",
    "MESSAGE_TARGET",
    "PROMPT_TARGET",
    "answer_tallies",
    "tally_target",
    "text_samples",
]

GLOBAL_TARGET: Final = "(global)"
PROMPT_TARGET: Final = "(prompt)"
MESSAGE_TARGET: Final = "(message)"


def tally_target(scope: str, model: str | None, unknown_target: str) -> str:
    """Whom an answer is tallied for: the round (global), the response's model, or unknown."""
    if scope == "global":
        return GLOBAL_TARGET
    return unknown_target if model is None else model


def answer_tallies(answers: Mapping[Answer, int], answered: Mapping[Question, int]) -> list[dict[str, Any]]:
    """Per question (in path order): per target, how often it was answered and each answer's count.

    A radio question is answered exactly once per answer, so its ``answered`` is the sum of its
    answers; checklist and text questions are counted apart (a checklist may have none ticked).
    """
    by_question: dict[Question, dict[str, int]] = {}
    times: dict[Question, int] = dict(answered)
    for (feature, path, kind, target, name), n in answers.items():
        question = Question(feature, path, kind, target)
        by_question.setdefault(question, {})[name] = n
        if kind == "radio":
            times[question] = times.get(question, 0) + n
    questions: dict[tuple[str, str], dict[str, Any]] = {}
    for question, n in sorted(times.items(), key=lambda item: _question_order(item[0])):
        text = " > ".join((*question.path, question.feature))
        entry = questions.setdefault(
            (text, question.kind), {"question": text, "kind": question.kind, "targets": {}}
        )
        counted = by_question.get(question, {})
        entry["targets"][question.target] = {
            "answered": n,
            "answers": dict(sorted(counted.items(), key=lambda item: (-item[1], item[0]))),
        }
    return [questions[key] for key in sorted(questions)]


def _question_order(question: Question) -> tuple[Any, ...]:
    return (question.path, question.feature, question.kind, question.target)


def text_samples(texts: Mapping[str, TextReservoir]) -> dict[str, dict[str, Any]]:
    """Per free-text question: how many answers there were, and the sample kept of them."""
    return {
        question: {"answers": reservoir.seen, "samples": reservoir.samples()}
        for question, reservoir in sorted(texts.items())
    }
