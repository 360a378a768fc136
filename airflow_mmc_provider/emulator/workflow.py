"""Workflow state of data rows in projects, and the overview counts derived from it.

Every data row a batch puts into a project gets a state there, kept per (project, data row) with a
history of moves, so later features (simulated raters, exports) can move rows through the workflow:

    ToLabel  --label-->  InReview  --approve-->  Done
                            |  --reject-->  InRework  --fix-->  InReview
    ToLabel  --skip-->   Skipped

The emulator has no raters of its own; rows move only when a test (or a later simulator) says so,
through ``POST /_emulator/workflow`` (loopback only), with a JSON body::

    {"project_id": "...", "state": "Done",                  # ToLabel, InReview, InRework, Done, Skipped
     "data_row_ids": [...] | "global_keys": [...] | "batch_id": "...",   # exactly one
     "limit": 10,                                           # optional: at most this many rows
     "labeled": true}                                       # optional, see below

With ``batch_id`` the rows not yet in the target state come first, least advanced first (ToLabel,
InRework, InReview, Skipped, Done), so repeating a limited move simulates progress. It answers
``{"moved": N, "not_in_project": [ids or keys]}``; one move names at most `MAX_MOVED` ids or keys.
``GET /_emulator/workflow?project_id=P&data_row_id=D`` answers ``{"project_id", "data_row_id",
"batch_id", "priority", "state", "labeled", "history": [{"from", "to", "at"}]}`` (404 when the row is not in the project). States are matched
in any case; ``Unlabeled``, ``TO_LABEL``, ``IN_REVIEW`` and ``IN_REWORK`` are accepted too.

Whether a row has a label is kept apart from its state, as the overview counts both: moving to
InReview, InRework or Done marks the row labelled, moving back to ToLabel unmarks it, Skipped keeps
it; ``labeled`` in the request overrides that.

The overview (wire reference 14) is derived as follows: ``Unlabeled`` = ToLabel, ``InReview``,
``InRework``, ``Done`` and ``Skipped`` = their states, ``Labeled`` = rows marked labelled, ``All`` =
every row, ``NotInTaskQueue`` = Done (rows that have left every queue), ``completedDataRowCount`` =
Done. The task queues are the initial labelling queue (ToLabel rows), the review queue (InReview)
and the rework queue (InRework).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_mmc_provider.emulator import bounds

MAX_MOVED = 100_000  # ids or global keys named in one move
TO_LABEL = "ToLabel"
IN_REVIEW = "InReview"
IN_REWORK = "InRework"
DONE = "Done"
SKIPPED = "Skipped"
STATES = (TO_LABEL, IN_REVIEW, IN_REWORK, DONE, SKIPPED)
# Least advanced first: the order in which a limited move by batch picks rows.
PROGRESS_ORDER = (TO_LABEL, IN_REWORK, IN_REVIEW, SKIPPED)
_LABELLED_STATES = frozenset({IN_REVIEW, IN_REWORK, DONE})

# Also accepted: the overview's name for ToLabel and the upper snake case exports use.
_ALIASES = {
    **{state.lower(): state for state in STATES},
    "unlabeled": TO_LABEL,
    "to_label": TO_LABEL,
    "in_review": IN_REVIEW,
    "in_rework": IN_REWORK,
}

# (queueType, name, description, the state whose rows the queue holds), in workflow order.
TASK_QUEUES: tuple[tuple[str, str, str, str], ...] = (
    ("INITIAL_LABELING_QUEUE", "Initial labeling task", "Rows waiting for a first label", TO_LABEL),
    ("MANUAL_REVIEW_QUEUE", "Initial review task", "Labelled rows waiting for review", IN_REVIEW),
    ("MANUAL_REWORK_QUEUE", "Rework (all rejected)", "Rejected rows waiting for a fix", IN_REWORK),
)


def task_queue_specs() -> list[tuple[str, str, str, str]]:
    """The queues every project starts with: (queueType, name, description, state held)."""
    return list(TASK_QUEUES)


class WorkflowRequestError(ValueError):
    """A bad admin request; the message says what to send instead."""


@dataclass(frozen=True)
class WorkflowMove:
    """Move some rows of a project to `state` (selected by ids, global keys, or batch)."""

    project_id: str
    state: str
    data_row_ids: tuple[str, ...] = ()
    global_keys: tuple[str, ...] = ()
    batch_id: str | None = None
    limit: int | None = None
    labeled: bool | None = None

    def labeled_after(self, current: bool) -> bool:
        if self.labeled is not None:
            return self.labeled
        if self.state == SKIPPED:
            return current
        return self.state in _LABELLED_STATES


@dataclass(frozen=True)
class MoveResult:
    moved: int
    not_in_project: list[str]


@dataclass(frozen=True)
class StateCounts:
    """Rows of a project (or of some of its batches) per state, and how many are labelled."""

    by_state: Mapping[str, int]
    labeled: int

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    def count(self, state: str) -> int:
        return self.by_state.get(state, 0)


def parse_state(value: Any) -> str:
    state = _ALIASES.get(value.lower()) if isinstance(value, str) else None
    if state is None:
        raise WorkflowRequestError(f"state must be one of {', '.join(STATES)}; got {value!r}")
    return state


def parse_move(body: Any) -> WorkflowMove:
    """The admin request body as a WorkflowMove; WorkflowRequestError says what is wrong."""
    if not isinstance(body, Mapping):
        raise WorkflowRequestError(
            "the body must be a JSON object (see airflow_mmc_provider.emulator.workflow)"
        )
    known = {"project_id", "state", "data_row_ids", "global_keys", "batch_id", "limit", "labeled"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise WorkflowRequestError(f"unknown key(s) {unknown}; allowed: {sorted(known)}")
    project_id = body.get("project_id")
    if not isinstance(project_id, str) or not project_id:
        raise WorkflowRequestError("project_id must be a project id")
    selectors = [key for key in ("data_row_ids", "global_keys", "batch_id") if body.get(key) is not None]
    if len(selectors) != 1:
        raise WorkflowRequestError("give exactly one of data_row_ids, global_keys or batch_id")
    limit, labeled = body.get("limit"), body.get("labeled")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise WorkflowRequestError("limit must be a whole number >= 0")
    if labeled is not None and not isinstance(labeled, bool):
        raise WorkflowRequestError("labeled must be true or false")
    batch_id = body.get("batch_id")
    if batch_id is not None and not isinstance(batch_id, str):
        raise WorkflowRequestError("batch_id must be a batch id")
    return WorkflowMove(
        project_id=project_id,
        state=parse_state(body.get("state")),
        data_row_ids=_strings(body, "data_row_ids"),
        global_keys=_strings(body, "global_keys"),
        batch_id=batch_id,
        limit=limit,
        labeled=labeled,
    )


def _strings(body: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = body.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise WorkflowRequestError(f"{key} must be a list of strings")
    bounds.at_most(value, key, MAX_MOVED)
    return tuple(value)


def state_counts(counts: StateCounts) -> list[dict[str, Any]]:
    """`workstreamStateCounts` entries, with the names the overview uses."""
    return [
        {"state": "Unlabeled", "count": counts.count(TO_LABEL)},
        {"state": "InReview", "count": counts.count(IN_REVIEW)},
        {"state": "InRework", "count": counts.count(IN_REWORK)},
        {"state": "Skipped", "count": counts.count(SKIPPED)},
        {"state": "Done", "count": counts.count(DONE)},
        {"state": "Labeled", "count": counts.labeled},
        {"state": "All", "count": counts.total},
        {"state": "NotInTaskQueue", "count": counts.count(DONE)},
    ]


def batch_ids_of_count_input(count_input: Mapping[str, Any] | None) -> list[str] | None:
    """The batch ids a `DataRowCountQueryInput` restricts counts to (None: the whole project).

    The SDK sends ``{"searchQuery": {"scope": {"projectId"}, "query": [{"ids", "operator": "is",
    "type": "batch"}]}}``; other search filters are not supported here and are refused.
    """
    if not count_input:
        return None
    search = count_input.get("searchQuery") or {}
    if not isinstance(search, Mapping):
        raise WorkflowRequestError("searchQuery must be an object")
    batch_ids: list[str] | None = None
    for item in search.get("query") or []:
        if not isinstance(item, Mapping) or item.get("type") != "batch" or item.get("operator", "is") != "is":
            raise WorkflowRequestError(
                f"unsupported data row count filter {item!r}: only {{type: batch, operator: is, ids}} is"
            )
        ids = item.get("ids") or []
        batch_ids = [*(batch_ids or []), *(str(i) for i in ids)]
    return batch_ids
