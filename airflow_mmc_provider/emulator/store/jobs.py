"""Jobs: short synchronous look-ups the service exposes as jobs (e.g. `dataRowsForGlobalKeys`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_mmc_provider.emulator.ids import new_id, now
from airflow_mmc_provider.emulator.store.base import StoreBase
from airflow_mmc_provider.emulator.store.rows import dumps, fetch_one


@dataclass(frozen=True)
class Job:
    """A look-up answered at once, kept by id so the client can fetch its result."""

    id: str
    type: str
    status: str
    result: Any


class JobState(StoreBase):
    def create_job(self, job_type: str, status: str, result: Any) -> Job:
        job = Job(new_id(), job_type, status, result)
        with self.transaction() as db:
            db.execute(
                "INSERT INTO jobs VALUES (?, ?, ?, ?, ?)",
                (job.id, job.type, job.status, dumps(result), now()),
            )
        return job

    def get_job(self, job_id: str) -> Job | None:
        return fetch_one(self._db, Job, "SELECT * FROM jobs WHERE id = ?", (job_id,))
