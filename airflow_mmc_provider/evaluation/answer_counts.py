"""The counter's share for classification answers: tallies per question, answer and target, and
the text samples.

The hot loop appends each radio or checklist answer as it is, one flat tuple (`AnswerTuple`), to
`buffer`; `count` counts the buffer as whole tuples (few distinct ones), and `expand` resolves
their targets and adds them to the per-answer counts only when the distinct tuples grow past a
bound or the counts are read. So an answer costs one append, not a target look-up and a counter
update per option ticked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from airflow_mmc_provider.evaluation.counts import Answer, Question
from airflow_mmc_provider.evaluation.reservoir import TextReservoir
from airflow_mmc_provider.evaluation.tallies import tally_target
from airflow_mmc_provider.mmc.export import ClassificationAnswer, LabelRecord

__all__ = ["AnswerCounts", "AnswerTuple", "drain"]

# (feature, path, kind, scope, model, target when the model is unknown, answers) of one radio or
# checklist answer: built per answer in the hot loop and unpacked by `expand`.
AnswerTuple = tuple[str, tuple[str, ...], str, str, str | None, str, tuple[str, ...]]


def drain(buffer: list[Any], into: Counter[Any]) -> None:
    """Count a buffer of keys in one `Counter.update` (C-level) and empty it."""
    if buffer:
        into.update(buffer)
        buffer.clear()


class AnswerCounts:
    """Answer tallies and text reservoirs of one counter (see the module docstring)."""

    __slots__ = (
        "_answered_buffer",
        "_tuples",
        "answered",
        "answers",
        "buffer",
        "sample_size",
        "seed",
        "texts",
    )

    def __init__(self, sample_size: int, seed: int) -> None:
        self.sample_size = sample_size
        self.seed = seed
        self.buffer: list[AnswerTuple] = []
        self._tuples: Counter[AnswerTuple] = Counter()
        self._answered_buffer: list[Question] = []
        # Radio questions are answered exactly once per answer, so only checklist and text
        # questions count "answered" apart (see `tallies.answer_tallies`).
        self.answers: Counter[Answer] = Counter()
        self.answered: Counter[Question] = Counter()
        self.texts: dict[str, TextReservoir] = {}

    def count(self) -> int:
        """Count the buffers; returns how many distinct answer tuples wait for `expand`."""
        drain(self.buffer, self._tuples)
        drain(self._answered_buffer, self.answered)
        return len(self._tuples)

    def expand(self) -> None:
        """Resolve the counted answer tuples into per-answer counts."""
        answers, answered = self.answers, self.answered
        for (feature, path, kind, scope, model, unknown_target, names), n in self._tuples.items():
            target = tally_target(scope, model, unknown_target)
            if kind != "radio":
                answered[Question(feature, path, kind, target)] += n
            for name in names:
                answers[Answer(feature, path, kind, target, name)] += n
        self._tuples.clear()

    def add_text(
        self, row_key: str, label: LabelRecord, answer: ClassificationAnswer, unknown_target: str
    ) -> None:
        """A free-text answer: counted as answered, and offered to its question's sample.

        Its place in the sample is drawn from names the user gave: the row's key (the record's own key,
        `counter.conversation_key`), the rater's email, the message (ids derived from the record's
        key), the question and the text; never from ids the service assigns (only a label
        without a rater falls back to its label id). The sample shows the data row and label ids
        too, as values to look the answer up by.
        """
        target = tally_target(answer.scope, answer.model, unknown_target)
        self._answered_buffer.append(Question(answer.feature, answer.path, answer.kind, target))
        text = answer.text
        if not text or text.isspace():
            return
        key = answer.key
        reservoir = self.texts.get(key)
        if reservoir is None:
            reservoir = self.texts[key] = TextReservoir(self.sample_size, self.seed)
        rater = label.rater or label.label_id
        identity = f"{row_key}\x1f{rater}\x1f{answer.message_id or ''}\x1f{key}\x1f{text}"
        priority = reservoir.admit(identity)
        if priority is None:
            return
        sample = {
            "text": text,
            "data_row_id": label.data_row_id,
            "global_key": label.global_key,
            "label_id": label.label_id,
            "message_id": answer.message_id,
            "model": answer.model,
        }
        reservoir.keep(priority, identity, sample)

    def add(
        self,
        answers: Mapping[Answer, int],
        answered: Mapping[Question, int],
        texts: Mapping[str, TextReservoir],
    ) -> None:
        """Add counts read from another counter or a state."""
        self.answers.update(answers)
        self.answered.update(answered)
        for question, reservoir in texts.items():
            mine = self.texts.get(question)
            if mine is None:
                mine = self.texts[question] = TextReservoir(self.sample_size, self.seed)
            mine.merge(reservoir)

    def copies(self) -> tuple[dict[Answer, int], dict[Question, int], dict[str, TextReservoir]]:
        """Copies of the counts (call `count` and `expand` first)."""
        texts: dict[str, TextReservoir] = {}
        for question, reservoir in self.texts.items():
            texts[question] = TextReservoir(self.sample_size, self.seed)
            texts[question].merge(reservoir)
        return dict(self.answers), dict(self.answered), texts
