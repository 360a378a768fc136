"""Simulated raters: seeded people who label every row a batch brings into a project.

Off by default. Switched on with ``--simulate-raters CONFIG`` (JSON, or ``@FILE`` holding it) or
``POST /_emulator/raters`` (loopback only; the body is the config, ``null`` or ``{}`` switches them
off; ``GET`` answers ``{"config": ..., "labelled_rows": N}``). The config::

    {"seed": 7,                       # everything below follows from it: a round is reproducible
     "raters": 3,                     # a count (rater1@emulator.labelbox.invalid, ...) or a list of emails
     "skills": {"GPT 5": 1.2},        # latent skill per modelConfigName; missing names get a value in
                                      # [-1, 1] derived from a hash of the name
     "noise": 0.5,                    # per-rater temperature: sd of each rater's per-response noise
     "position_bias": 0.0,            # additive boost of the response shown first
     "labels_per_row": null,          # default: the batch's consensus numberOfLabels, else 1
     "delay_seconds": 0.0,            # rows are labelled this long after their batch arrived
     "skip_rate": 0.0}                # chance that a row is skipped instead of labelled

A background thread looks every 50 ms for rows that are ``ToLabel``, were added at least
``delay_seconds`` ago and have no label yet (so rows already in batches when raters are switched on
are labelled too), and labels them all in one transaction. For each row, ``labels_per_row``
distinct raters are drawn; each one, for every human message with model responses, ranks the
responses by a Plackett-Luce draw with weights ``exp(skill + noise_i + bias * first)``: the ranking
tool gets that order, single selection the top response, multi selection every response whose
weight is at least the mean (always the top one). Every tool and classification of the project's
ontology is filled by its name: a message-scoped radio on each model response picks an option by the
response's quality (options are read best first, e.g. good/acceptable/bad), a global radio picks an
option at random, a checklist a non-empty random subset, a text a short templated reason naming
the winner; nested classifications of chosen options are filled the same way. The row then moves
ToLabel -> InReview -> Done (a skipped row -> Skipped) with its workflow history, and the labels
carry the rater's email and a seconds-to-create. Randomness comes from ``seed`` and the row's
global key (its id when it has none) and the rater, never from the clock.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import sqlite3
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_mmc_provider.emulator import bounds
from airflow_mmc_provider.emulator.ids import new_id, now
from airflow_mmc_provider.emulator.labels import StoredLabel
from airflow_mmc_provider.emulator.store import Store
from airflow_mmc_provider.mmc.conversation.index import stored_row_index
from airflow_mmc_provider.mmc.ontology.index import ClassificationSpec, OntologyIndex, OptionSpec, ToolSpec

log = logging.getLogger(__name__)
MAX_RATERS = 1000  # raters, and labels per row
MAX_SKILLS = 10_000
MAX_EMAIL = 254
# The numeric settings: (lowest, highest). A day of delay; noise and bias far beyond any useful
# value, yet small enough that exp(skill + noise + bias) cannot overflow.
_BOUNDS: dict[str, tuple[float, float]] = {
    "noise": (0.0, 10.0),
    "position_bias": (-10.0, 10.0),
    "delay_seconds": (0.0, 86_400.0),
    "skip_rate": (0.0, 1.0),
}
EMAIL_DOMAIN = "emulator.labelbox.invalid"
POLL_SECONDS = 0.05
_KNOWN_KEYS = {
    "seed",
    "raters",
    "skills",
    "noise",
    "position_bias",
    "labels_per_row",
    "delay_seconds",
    "skip_rate",
}


class RaterConfigError(ValueError):
    """A bad rater configuration; the message says what to send instead."""


@dataclass(frozen=True)
class RaterConfig:
    seed: int = 0
    raters: tuple[str, ...] = ()
    skills: Mapping[str, float] = field(default_factory=dict)
    noise: float = 0.5
    position_bias: float = 0.0
    labels_per_row: int | None = None
    delay_seconds: float = 0.0
    skip_rate: float = 0.0

    @classmethod
    def from_json(cls, data: Any) -> RaterConfig | None:
        """The config of the module docstring; None (raters off) for null or an empty object."""
        if data is None or data == {}:
            return None
        if not isinstance(data, Mapping):
            raise RaterConfigError("the rater config must be a JSON object (see emulator.raters)")
        unknown = sorted(set(data) - _KNOWN_KEYS)
        if unknown:
            raise RaterConfigError(f"unknown key(s) {unknown}; allowed: {sorted(_KNOWN_KEYS)}")
        skills = data.get("skills") or {}
        if not isinstance(skills, Mapping):
            raise RaterConfigError("skills must map model config names to numbers")
        bounds.at_most(skills, "skills", MAX_SKILLS)
        labels_per_row = data.get("labels_per_row")
        if labels_per_row is not None:
            bounds.bounded_whole(labels_per_row, "labels_per_row", 1, MAX_RATERS)
        numbers = {key: bounds.bounded(data[key], key, *_BOUNDS[key]) for key in _BOUNDS if key in data}
        seed = bounds.seed(data.get("seed", 0))
        return cls(
            seed=seed,
            raters=_emails(data.get("raters", 3)),
            skills={
                str(k): bounds.bounded(v, f"skills[{str(k)[:40]!r}]", -10, 10) for k, v in skills.items()
            },
            labels_per_row=labels_per_row,
            **numbers,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed, "raters": list(self.raters), "skills": dict(self.skills), "noise": self.noise,
            "position_bias": self.position_bias, "labels_per_row": self.labels_per_row,
            "delay_seconds": self.delay_seconds, "skip_rate": self.skip_rate,
        }  # fmt: skip

    def skill(self, model: str) -> float:
        if model in self.skills:
            return self.skills[model]
        return derived_skill(model)


def _emails(raters: Any) -> tuple[str, ...]:
    """`raters` (a count, or a list of emails) as the raters' emails, within `MAX_RATERS`."""
    if isinstance(raters, list):
        bounds.at_most(raters, "raters", MAX_RATERS)
        if raters and all(isinstance(r, str) and 0 < len(r) <= MAX_EMAIL for r in raters):
            return tuple(dict.fromkeys(raters))
        raise RaterConfigError(
            f"raters must be a count or a non-empty list of emails (each at most {MAX_EMAIL} characters)"
        )
    count = bounds.bounded_whole(raters, "raters", 1, MAX_RATERS)
    return tuple(f"rater{i + 1}@{EMAIL_DOMAIN}" for i in range(count))


def derived_skill(model: str) -> float:
    """A skill in [-1, 1] that depends only on the model config name."""
    digest = hashlib.sha256(model.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 2 - 1


# --- one rater on one row --------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    message_id: str
    model: str


@dataclass(frozen=True)
class Turn:
    parent_id: str
    responses: tuple[Response, ...]


def conversation_turns(row_data: str) -> list[Turn]:
    """Human messages with model responses, in document order (empty for other row data); a
    response's model is its config name, else its config id (`ConversationIndex.model`)."""
    index = stored_row_index(row_data)
    if index is None:
        return []
    return [
        Turn(parent, tuple(Response(child, str(index.model(child))) for child in responses))
        for parent, responses in index.prompts_in_order()
    ]


def plackett_luce(rng: random.Random, weights: Sequence[float]) -> list[int]:
    """Indices in the order of a Plackett-Luce draw with these (positive) weights."""
    left = list(range(len(weights)))
    order = []
    while left:
        total = sum(weights[i] for i in left)
        pick, acc = rng.random() * total, 0.0
        chosen = left[-1]
        for i in left:
            acc += weights[i]
            if pick <= acc:
                chosen = i
                break
        order.append(chosen)
        left.remove(chosen)
    return order


class RaterRun:
    """One rater's annotations (NDJSON import form) on one row."""

    def __init__(
        self, config: RaterConfig, rng: random.Random, ontology: OntologyIndex, data_row_id: str
    ) -> None:
        self.config = config
        self.rng = rng
        self.ontology = ontology
        self.data_row_id = data_row_id
        self.lines: list[dict[str, Any]] = []

    def label(self, turns: Sequence[Turn]) -> list[dict[str, Any]]:
        winners: list[str] = []
        for turn in turns:
            weights = [self._weight(r, position) for position, r in enumerate(turn.responses)]
            order = plackett_luce(self.rng, weights)
            ranked = [turn.responses[i] for i in order]
            winners.append(ranked[0].model)
            mean = sum(weights) / len(weights)
            chosen = [r for i, r in enumerate(turn.responses) if weights[i] >= mean or r == ranked[0]]
            for tool in self.ontology.tools.values():
                self._tool(tool, turn, ranked, chosen)
            for classification in self.ontology.classifications.values():
                if classification.message_scoped:
                    for response in turn.responses:
                        answer = self._answer(
                            classification, quality=self._quality(response), winner=ranked[0].model
                        )
                        if answer is not None:
                            self._line(classification, answer, message_id=response.message_id)
        for classification in self.ontology.classifications.values():
            if not classification.message_scoped:
                winner = winners[0] if winners else "none"
                answer = self._answer(classification, quality=None, winner=winner)
                if answer is not None:
                    self._line(classification, answer)
        return self.lines

    def _weight(self, response: Response, position: int) -> float:
        utility = self.config.skill(response.model) + self.rng.gauss(0.0, self.config.noise)
        if position == 0:
            utility += self.config.position_bias
        return math.exp(utility)

    def _quality(self, response: Response) -> float:
        """Probability-like quality in (0, 1) of a response: its skill through a logistic, plus noise."""
        utility = self.config.skill(response.model) + self.rng.gauss(0.0, self.config.noise)
        return 1 / (1 + math.exp(-utility))

    def _uuid(self) -> str:
        return str(_uuid_from(self.rng))

    def _tool(
        self, tool: ToolSpec, turn: Turn, ranked: Sequence[Response], chosen: Sequence[Response]
    ) -> None:
        kind = tool.tool
        if kind == "message-ranking":
            data: dict[str, Any] = {"parentMessageId": turn.parent_id, "rankedMessages": [
                {"messageId": r.message_id, "modelConfigName": r.model, "order": i + 1} for i, r in enumerate(ranked)
            ]}  # fmt: skip
        elif kind == "message-single-selection":
            data = {"parentMessageId": turn.parent_id, "messageId": ranked[0].message_id,
                    "modelConfigName": ranked[0].model}  # fmt: skip
        elif kind == "message-multi-selection":
            data = {"parentMessageId": turn.parent_id,
                    "selectedMessages": [{"messageId": r.message_id, "modelConfigName": r.model} for r in chosen]}  # fmt: skip
        else:
            return
        self.lines.append({"uuid": self._uuid(), "name": tool.name, "dataRow": {"id": self.data_row_id},
                           "messageEvaluationTask": {"format": kind, "data": data}})  # fmt: skip

    def _line(self, classification: ClassificationSpec, answer: Any, message_id: str | None = None) -> None:
        line: dict[str, Any] = {"uuid": self._uuid(), "name": classification.name,
                                "dataRow": {"id": self.data_row_id}, "answer": answer}  # fmt: skip
        if message_id is not None:
            line["messageId"] = message_id
        self.lines.append(line)

    def _answer(self, classification: ClassificationSpec, *, quality: float | None, winner: str) -> Any:
        kind = classification.type
        options = list(classification.options.values())
        if kind == "text":
            if quality is None:
                return f"{winner} gave the most helpful and accurate response."
            return f"Quality {'high' if quality >= 0.5 else 'low'} (preferred overall: {winner})."
        if not options:
            return None
        if kind == "radio":
            if quality is None:
                index = self.rng.randrange(len(options))
            else:
                index = min(len(options) - 1, int((1 - quality) * len(options)))
            return self._option(options[index], winner)
        if kind == "checklist":
            picked = [o for o in options if self.rng.random() < 0.4] or [self.rng.choice(options)]
            return [self._option(o, winner) for o in picked]
        return None

    def _option(self, option: OptionSpec, winner: str) -> dict[str, Any]:
        answer: dict[str, Any] = {"name": option.value}
        nested = []
        for child in option.classifications.values():
            value = self._answer(child, quality=None, winner=winner)
            if value is not None:
                nested.append({"name": child.name, "answer": value})
        if nested:
            answer["classifications"] = nested
        return answer


def _uuid_from(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def row_rng(config: RaterConfig, row_key: str, *salt: str) -> random.Random:
    digest = hashlib.sha256("\x1f".join((str(config.seed), row_key, *salt)).encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


# --- the simulator -----------------------------------------------------------------------------------


class RaterSimulator:
    """Labels due rows in the background while a config is set (see the module docstring)."""

    def __init__(self, store: Store, config: RaterConfig | None = None) -> None:
        self._store = store
        self._config = config
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="emulator-raters", daemon=True)
        self.labelled_rows = 0

    @property
    def config(self) -> RaterConfig | None:
        return self._config

    def configure(self, config: RaterConfig | None) -> None:
        with self._lock:
            self._config = config

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopping.wait(POLL_SECONDS):
            config = self._config
            if config is None:
                continue
            try:
                self.labelled_rows += self.run_once(config)
            except Exception:
                log.exception("simulated raters failed")

    def run_once(self, config: RaterConfig) -> int:
        """Label every due row now; returns how many rows were labelled."""
        due = self._store.rows_due_for_raters(config.delay_seconds)
        ontologies: dict[str, OntologyIndex] = {}
        work = []
        for row in due:
            project_id = row["project_id"]
            if project_id not in ontologies:
                ontology = self._store.get_ontology(row["ontology_id"]) if row["ontology_id"] else None
                ontologies[project_id] = OntologyIndex.from_normalized(
                    ontology.normalized if ontology else None
                )
            work.append(self._label_row(config, row, ontologies[project_id]))
        if work:
            self._store.record_simulated_labels(work)
        return len(work)

    def _label_row(self, config: RaterConfig, row: sqlite3.Row, ontology: OntologyIndex) -> SimulatedRow:
        key = row["global_key"] or row["data_row_id"]
        settings = json.loads(row["consensus_settings"]) if row["consensus_settings"] else None
        wanted = config.labels_per_row or (settings or {}).get("numberOfLabels") or 1
        chooser = row_rng(config, key, "raters")
        raters = chooser.sample(list(config.raters), min(wanted, len(config.raters)))
        if chooser.random() < config.skip_rate:
            return SimulatedRow(
                row["project_id"], row["data_row_id"], [self._stored(row, raters[0], [], 5.0, True)], True
            )
        turns = conversation_turns(row["row_data"])
        labels = []
        for email in raters:
            rng = row_rng(config, key, email)
            lines = RaterRun(config, rng, ontology, row["data_row_id"]).label(turns)
            labels.append(self._stored(row, email, lines, rng.uniform(30, 300), False))
        return SimulatedRow(row["project_id"], row["data_row_id"], labels, False)

    @staticmethod
    def _stored(
        row: sqlite3.Row, email: str, lines: list[dict[str, Any]], seconds: float, skipped: bool
    ) -> StoredLabel:
        stamp = now()
        return StoredLabel(
            new_id(), row["project_id"], row["data_row_id"], lines, email, seconds, skipped, stamp, stamp
        )


@dataclass(frozen=True)
class SimulatedRow:
    project_id: str
    data_row_id: str
    labels: list[StoredLabel]
    skipped: bool
