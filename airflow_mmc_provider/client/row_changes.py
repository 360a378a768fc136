"""What an upsert would do to rows that already exist: skip the unchanged, refuse harmful changes.

A data row that already has labels was judged on its content; a row in a batch is queued for raters
with its content. Replacing that content silently makes the labels judge something else, so an
upload goes through `RowChanges` before a byte is uploaded:

* an existing row whose stored row_data equals the new one (decoded JSON equality) is *unchanged*:
  it is left out of the upload (re-running a round is a no-op);
* a *changed* row that has labels (in any project), or that sits in a batch of the guard's
  project, is refused unless ``allow_relabel``;
* with a ``project_id`` and ``batch_name``, an existing row that sits in *another* batch of that
  project is refused even when unchanged: the round collides with an earlier round.

Queries, all batched (wire reference 3.5, 7): the stored row_data and whether a row has a label come
from one GraphQL request per `ROWS_PER_QUERY` rows, each row an aliased ``dataRow(where: {id})``
with the SDK's ``DataRow.labels`` relationship (``labels(where: {deleted: false} skip: 0 first: 1)
{id}``, as the SDK's ORM asks it); the batch of
each row in the project from one project export per `KEYS_PER_EXPORT` rows, filtered by global key,
with project details (``project_details.batch_name``). Per 1,000 existing rows: 10 GraphQL requests,
plus, with a project, one export (its start, the task polls, the stream header and chunk).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

import msgspec

from airflow_mmc_provider.client.errors import DataRowSpecError

if TYPE_CHECKING:
    from airflow_mmc_provider.client.exports import Exports
    from airflow_mmc_provider.client.tasks import Tasks
    from airflow_mmc_provider.client.transport import Transport

ROWS_PER_QUERY = 100
KEYS_PER_EXPORT = 2000  # the export filter's limit on global keys (wire reference 7.2)
SHOWN_KEYS = 5
_ROW_FIELDS = "id globalKey rowData labels(where: {deleted: false} skip: 0 first: 1) { id }"


class RowChangeError(DataRowSpecError):
    """An upload would change rows that must not change; raised before anything is uploaded."""

    def __init__(self, message: str, global_keys: Sequence[str]) -> None:
        ValueError.__init__(self, message)
        self.problems = [message]
        self.global_keys = list(global_keys)


@dataclass(frozen=True)
class UpsertGuard:
    """How an upsert treats existing rows (see the module docstring)."""

    project_id: str | None = None
    batch_name: str | None = None
    allow_relabel: bool = False
    round_key: str = ""


@dataclass(frozen=True)
class StoredRow:
    data_row_id: str
    row_data: Any
    labelled: bool


@dataclass
class _Findings:
    unchanged: dict[str, str]
    changed_labelled: list[str]
    changed_queued: dict[str, str]  # global key -> batch name
    colliding: dict[str, str]  # global key -> batch name


class RowChanges:
    """Compares an upload's rows with the stored ones and applies the guard's rules."""

    def __init__(self, transport: Transport, exports: Exports, tasks: Tasks, guard: UpsertGuard) -> None:
        self._transport = transport
        self._exports = exports
        self._tasks = tasks
        self.guard = guard

    def unchanged(self, existing: Mapping[str, str], new_rows: Iterable[tuple[str, Any]]) -> dict[str, str]:
        """Global key -> data row id of the rows to leave out of the upload; raises `RowChangeError`
        when the upload must not go ahead. `existing`: global key -> id of the rows that exist;
        `new_rows`: (global key, new row_data) of those rows."""
        batches = self.batches_in_project(list(existing)) if self.guard.project_id else {}
        findings = _Findings({}, [], {}, {})
        for group in _groups(new_rows, ROWS_PER_QUERY):
            stored = self.stored_rows([existing[key] for key, _ in group])
            for key, row_data in group:
                self._judge(key, row_data, stored.get(existing[key]), batches.get(key), findings)
        self._refuse(findings)
        return findings.unchanged

    def _judge(
        self, key: str, row_data: Any, stored: StoredRow | None, batch: str | None, found: _Findings
    ) -> None:
        if batch is not None and self.guard.batch_name and batch != self.guard.batch_name:
            found.colliding[key] = batch
        if stored is not None and stored.row_data == row_data:
            found.unchanged[key] = stored.data_row_id
        elif stored is not None and stored.labelled:
            found.changed_labelled.append(key)
        elif batch is not None:
            found.changed_queued[key] = batch

    def _refuse(self, found: _Findings) -> None:
        if found.colliding:
            raise RowChangeError(_collision(found.colliding, self.guard), list(found.colliding))
        if self.guard.allow_relabel:
            return
        if found.changed_labelled:
            raise RowChangeError(
                _changed(found.changed_labelled, "what their labels judged", self.guard),
                found.changed_labelled,
            )
        if found.changed_queued:
            names = ", ".join(repr(name) for name in sorted(set(found.changed_queued.values())))
            keys = list(found.changed_queued)
            raise RowChangeError(
                _changed(keys, f"what is queued for raters in batch {names}", self.guard), keys
            )

    def stored_rows(self, data_row_ids: Sequence[str]) -> dict[str, StoredRow]:
        """Data row id -> stored row, in one request (aliased `dataRow` look-ups)."""
        if not data_row_ids:
            return {}
        params = ", ".join(f"$id{i}: ID!" for i in range(len(data_row_ids)))
        fields = " ".join(
            f"r{i}: dataRow(where: {{id: $id{i}}}) {{ {_ROW_FIELDS} }}" for i in range(len(data_row_ids))
        )
        variables = {f"id{i}": row_id for i, row_id in enumerate(data_row_ids)}
        data = self._transport.execute(f"query GetDataRowsWithLabels({params}) {{ {fields} }}", variables)
        found: dict[str, StoredRow] = {}
        for i in range(len(data_row_ids)):
            node = data.get(f"r{i}")
            if node:
                found[node["id"]] = StoredRow(
                    node["id"], decoded(node.get("rowData")), bool(node.get("labels"))
                )
        return found

    def batches_in_project(self, global_keys: list[str]) -> dict[str, str]:
        """Global key -> name of the batch of the guard's project the row sits in (rows in none are
        left out), from project exports filtered by global key."""
        assert self.guard.project_id is not None
        found: dict[str, str] = {}
        for start in range(0, len(global_keys), KEYS_PER_EXPORT):
            keys = global_keys[start : start + KEYS_PER_EXPORT]
            lines = self._exports.read(
                self._tasks,
                self.guard.project_id,
                what="which batches hold this upload's existing rows",
                params={"project_details": True},
                filters={"global_keys": keys},
                poll_interval=2.0,
            )
            for line in lines:
                found.update(_batch_of_line(line, self.guard.project_id))
        return found


def decoded(text: Any) -> Any:
    """Stored rowData as the upload gave it: a JSON document decoded, a URL or text as is."""
    if isinstance(text, str) and text.startswith("{"):
        try:
            return msgspec.json.decode(text)
        except msgspec.DecodeError:
            return text
    return text


def _batch_of_line(line: Mapping[str, Any], project_id: str) -> dict[str, str]:
    key = (line.get("data_row") or {}).get("global_key")
    details = ((line.get("projects") or {}).get(project_id) or {}).get("project_details") or {}
    name = details.get("batch_name")
    return {key: name} if key and name else {}


def _groups(items: Iterable[tuple[str, Any]], size: int) -> Iterator[list[tuple[str, Any]]]:
    iterator = iter(items)
    while group := list(islice(iterator, size)):
        yield group


def _keys(keys: Sequence[str]) -> str:
    shown = ", ".join(repr(key) for key in keys[:SHOWN_KEYS])
    return shown + (f" and {len(keys) - SHOWN_KEYS} more" if len(keys) > SHOWN_KEYS else "")


def _new_round(guard: UpsertGuard) -> str:
    named = f" (this one is {guard.round_key!r})" if guard.round_key else ""
    return f"give this round its own round_key{named}, so that it creates new data rows"


def _collision(colliding: Mapping[str, str], guard: UpsertGuard) -> str:
    rounds = ", ".join(repr(name) for name in sorted(set(colliding.values())))
    keys = list(colliding)
    who = f"round key {guard.round_key!r}" if guard.round_key else "this upload (no round_key)"
    return (
        f"{who} collides with round {rounds} (batch {rounds} of project {guard.project_id}; this "
        f"upload is for batch {guard.batch_name!r}): {len(keys)} data row(s) of this upload already "
        f"sit in it: {_keys(keys)}. "
        f"Nothing was uploaded. Fix: {_new_round(guard)}."
    )


def _changed(keys: Sequence[str], what: str, guard: UpsertGuard) -> str:
    return (
        f"{len(keys)} data row(s) of this upload already exist with other content: {_keys(keys)}; "
        f"the new content differs from {what}. Nothing was uploaded. Fix: {_new_round(guard)}; or, "
        "to replace these rows' content on purpose (their labels then judge content they did not "
        "see), pass allow_relabel=True."
    )
