"""The records an export is read into: labels and their judgments, one data row per project.

See `reader` for how lines become these records (models, positions, alternatives, scopes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from msgspec import Struct

from airflow_mmc_provider.mmc.errors import ValidationError

Scope = Literal["global", "message"]
ClassificationKind = Literal["radio", "checklist", "text"]


class Response(Struct, frozen=True, gc=False):
    """One model response as a judgment refers to it.

    `model` is the model config name (None when neither the annotation nor the conversation names
    it); `position` is the response's index among its parent's ``childMessageIds``, the order the
    editor shows them in (None when the conversation is unknown or does not list it).
    """

    message_id: str
    model: str | None
    position: int | None = None


class RankedResponse(Struct, frozen=True, gc=False):
    """A ranked response: ``order`` 1 is the best; equal orders are ties."""

    message_id: str
    model: str | None
    order: int
    position: int | None = None


class Ranking(Struct, frozen=True, gc=False):
    """A message ranking of the responses to ``parent_message_id``, best first.

    ``ranked`` is sorted by (order, position). ``unranked`` are the parent's other model responses
    (normally none: the editor makes raters rank every response).
    """

    feature: str
    parent_message_id: str
    ranked: tuple[RankedResponse, ...]
    unranked: tuple[Response, ...] = ()

    @property
    def has_ties(self) -> bool:
        orders = [r.order for r in self.ranked]
        return len(set(orders)) < len(orders)

    @property
    def models(self) -> tuple[str | None, ...]:
        return tuple(r.model for r in self.ranked)


class SingleSelection(Struct, frozen=True, gc=False):
    """The one response chosen among the parent's responses; ``alternatives`` are the others."""

    feature: str
    parent_message_id: str
    selected: Response
    alternatives: tuple[Response, ...] = ()


class MultiSelection(Struct, frozen=True, gc=False):
    """The responses selected among the parent's responses; ``unselected`` are the others."""

    feature: str
    parent_message_id: str
    selected: tuple[Response, ...]
    unselected: tuple[Response, ...] = ()


class ClassificationAnswer(Struct, frozen=True, gc=False):
    """One answered question (see the module docstring for ``scope`` and ``path``)."""

    feature: str
    kind: ClassificationKind
    scope: Scope
    message_id: str | None = None
    model: str | None = None
    answers: tuple[str, ...] = ()
    text: str | None = None
    path: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The question with its ancestors, e.g. ``"Context subject > Car > Why"``."""
        return " > ".join((*self.path, self.feature)) if self.path else self.feature


# A metadata field's value as the export gives it: text, number or datetime text; an enum's option
# name. Anything else (a list, an object) is kept as its JSON text.
MetadataValue = str | int | float | bool | None


class RowContent(Struct, frozen=True, gc=False):
    """What a data row holds besides its judgments, read only when asked for.

    ``ExportReader(row_content=True)`` fills it (one shared instance per row, on the row and on
    each of its labels); the leaderboard's pass leaves it None and never pays for it.
    ``metadata``: each metadata field by name (``schema_name``, else its schema id) -> value.
    ``response_texts``: each model response of the conversation by message id -> its text (the
    text parts as `ConversationIndex.text` joins them; files are not text). ``turns``: each
    compared prompt (a human message with model responses) by message id -> its turn, 1 for the
    first comparison of the conversation (`ConversationIndex.turns`). Both empty when the
    conversation is not in the line as JSON text (row_data uploaded by URL or given as an object).
    """

    metadata: dict[str, MetadataValue]
    response_texts: dict[str, str]
    turns: dict[str, int]


class LabelRecord(Struct, frozen=True, gc=False):
    """One label (one rater's work on one data row in one project) and its judgments.

    ``line`` is the 1-based export line. ``has_conversation`` tells whether row_data v2 was read
    (alternatives and display positions come from it). ``content``: see `RowContent`.
    """

    data_row_id: str
    global_key: str | None
    project_id: str
    label_id: str
    rater: str | None = None
    created_at: str | None = None
    workflow_status: str | None = None
    batch_id: str | None = None
    batch_name: str | None = None
    rankings: tuple[Ranking, ...] = ()
    single_selections: tuple[SingleSelection, ...] = ()
    multi_selections: tuple[MultiSelection, ...] = ()
    classifications: tuple[ClassificationAnswer, ...] = ()
    external_id: str | None = None
    line: int = 0
    has_conversation: bool = False
    content: RowContent | None = None

    @property
    def judgment_count(self) -> int:
        return len(self.rankings) + len(self.single_selections) + len(self.multi_selections)


class ExportRow(Struct, frozen=True, gc=False):
    """One data row within one project: its labels (none when it is not labelled yet)."""

    data_row_id: str
    global_key: str | None
    project_id: str
    labels: tuple[LabelRecord, ...]
    project_name: str | None = None
    workflow_status: str | None = None
    batch_id: str | None = None
    batch_name: str | None = None
    external_id: str | None = None
    line: int = 0
    has_conversation: bool = False
    content: RowContent | None = None


class ExportError(ValidationError):
    """Malformed export lines; ``issues`` name each line (``issue.line``), data row and field."""


# A callable that fetches the row_data of a data row uploaded by URL: (url) -> the document as a
# dict, JSON text or bytes, or None when it cannot be had. Keep it pure from this module's view:
# the caller decides about HTTP, caching and credentials.
RowDataLoader = Callable[[str], Any]
