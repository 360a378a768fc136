"""Where each row stands in a project's workflow: counts per state, moves, and each row's history."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from airflow_mmc_provider.emulator.ids import now
from airflow_mmc_provider.emulator.store.data_rows import row_ids_for_global_keys
from airflow_mmc_provider.emulator.store.projects import ProjectState
from airflow_mmc_provider.emulator.store.rows import select_in
from airflow_mmc_provider.emulator.workflow import PROGRESS_ORDER, MoveResult, StateCounts, WorkflowMove

_Member = tuple[str, str, int]  # (row id, current state, labelled)


class WorkflowState(ProjectState):
    def state_counts(self, project_id: str, batch_ids: Sequence[str] | None = None) -> StateCounts:
        """Rows per workflow state in the project, or in some of its batches (unknown ids count 0)."""
        by_state: dict[str, int] = {}
        labeled = 0
        query = "SELECT state, COUNT(*) AS n, SUM(labeled) AS l FROM project_data_rows WHERE project_id = ?"
        if batch_ids is None:
            rows = self._db.execute(query + " GROUP BY state", (project_id,)).fetchall()
        else:
            rows = list(
                select_in(
                    self._db, query + " AND batch_id IN ({marks}) GROUP BY state", batch_ids, project_id
                )
            )
        for r in rows:
            by_state[r["state"]] = by_state.get(r["state"], 0) + int(r["n"])
            labeled += int(r["l"] or 0)
        return StateCounts(by_state, labeled)

    def move_workflow(self, move: WorkflowMove) -> MoveResult:
        """Set the state of the selected rows (see `workflow`); LookupError if there is no such project."""
        if self.get_project(move.project_id) is None:
            raise LookupError(f"project {move.project_id!r} does not exist")
        stamp = now()
        with self.transaction() as db:
            selected, not_in_project = self._select_for_move(db, move)
            if move.limit is not None:
                selected = selected[: move.limit]
            db.executemany(
                "UPDATE project_data_rows SET state = ?, labeled = ?, updated_at = ? "
                "WHERE project_id = ? AND data_row_id = ?",
                [(move.state, int(move.labeled_after(bool(labeled))), stamp, move.project_id, row_id)
                 for row_id, _, labeled in selected],
            )  # fmt: skip
            db.executemany(
                "INSERT INTO workflow_history (project_id, data_row_id, from_state, to_state, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(move.project_id, row_id, state, move.state, stamp)
                 for row_id, state, _ in selected if state != move.state],
            )  # fmt: skip
            db.execute("UPDATE projects SET last_activity_time = ? WHERE id = ?", (stamp, move.project_id))
        return MoveResult(len(selected), not_in_project)

    def _select_for_move(self, db: sqlite3.Connection, move: WorkflowMove) -> tuple[list[_Member], list[str]]:
        """(row id, current state, labelled) of the rows a move selects, and what is not in the project."""
        if move.batch_id is not None:
            rows = db.execute(
                "SELECT data_row_id, state, labeled FROM project_data_rows WHERE project_id = ? AND batch_id = ? "
                "ORDER BY state = ?, CASE state WHEN ? THEN 0 WHEN ? THEN 1 WHEN ? THEN 2 WHEN ? THEN 3 ELSE 4 END, "
                "added_at, data_row_id",
                (move.project_id, move.batch_id, move.state, *PROGRESS_ORDER),
            ).fetchall()
            return [(r["data_row_id"], r["state"], r["labeled"]) for r in rows], []
        wanted = list(dict.fromkeys(move.data_row_ids))
        by_key: dict[str, str] = {}
        if move.global_keys:
            by_key = row_ids_for_global_keys(db, self.organization.id, move.global_keys)
            wanted = [by_key[k] for k in dict.fromkeys(move.global_keys) if k in by_key]
        found = select_in(
            db,
            "SELECT data_row_id, state, labeled FROM project_data_rows WHERE project_id = ? "
            "AND data_row_id IN ({marks})",
            wanted,
            move.project_id,
        )
        members = {r["data_row_id"]: (r["data_row_id"], r["state"], r["labeled"]) for r in found}
        if move.global_keys:
            missing = [k for k in dict.fromkeys(move.global_keys) if by_key.get(k) not in members]
        else:
            missing = [i for i in wanted if i not in members]
        return [members[i] for i in wanted if i in members], missing

    def workflow_history(self, project_id: str, data_row_id: str) -> list[sqlite3.Row]:
        """A row's moves in the project, oldest first: from_state, to_state, created_at."""
        return self._db.execute(
            "SELECT from_state, to_state, created_at FROM workflow_history WHERE project_id = ? "
            "AND data_row_id = ? ORDER BY seq",
            (project_id, data_row_id),
        ).fetchall()

    def workflow_of(self, project_id: str, data_row_id: str) -> dict[str, Any] | None:
        """A row's place in a project: batch, state, labelled, and its history of moves."""
        row = self._db.execute(
            "SELECT * FROM project_data_rows WHERE project_id = ? AND data_row_id = ?",
            (project_id, data_row_id),
        ).fetchone()
        if row is None:
            return None
        return {
            "project_id": project_id,
            "data_row_id": data_row_id,
            "batch_id": row["batch_id"],
            "priority": row["priority"],
            "state": row["state"],
            "labeled": bool(row["labeled"]),
            "history": [
                {"from": h["from_state"], "to": h["to_state"], "at": h["created_at"]}
                for h in self.workflow_history(project_id, data_row_id)
            ],
        }
