"""Run the real emulator CLI in a subprocess, for tests and the demo.

    with run_emulator(tmp_path, "test-api-key") as emulator:
        client = labelbox.Client(api_key=emulator.api_key, endpoint=emulator.graphql_url)
        emulator.set_faults({"sequence": ["429", "drop"]})
        emulator.move_workflow(project_id, "Done", batch_id=batch_id, limit=10)
        emulator.set_raters({"seed": 7, "raters": 3})    # simulated raters (emulator.raters)

The process listens on a free loopback port (``--port 0``; the port is read back from its start
line, so there is no race for a port), logs to ``<data dir>/emulator.log``, receives the API key
through the environment (never the command line), and is stopped with SIGTERM on exit. Admin
calls send the admin token the process wrote at start (``<data dir>/admin-token``, see
`emulator.admin`) and JSON bodies; `admin_request` makes one and returns the raw response.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import requests

from airflow_mmc_provider.emulator.admin import ADMIN_TOKEN_FILE

_LISTENING = re.compile(r"Labelbox emulator listening on (http://\S+?)/graphql")
LOG_NAME = "emulator.log"


class EmulatorProcessError(RuntimeError):
    """The emulator did not start, or an admin call failed."""


class EmulatorProcess:
    """Handle on one emulator subprocess (see the module docstring)."""

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        api_key: str,
        *,
        port: int | None = None,
        task_delay: float = 0.0,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 30.0,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.api_key = api_key
        self.requested_port = port or 0
        self.task_delay = task_delay
        self.extra_args = tuple(extra_args)
        self.startup_timeout = startup_timeout
        self.log_path = self.data_dir / LOG_NAME
        self.base_url = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._admin = requests.Session()

    def __repr__(self) -> str:
        return f"EmulatorProcess(base_url={self.base_url!r}, data_dir={str(self.data_dir)!r})"

    # --- addresses -------------------------------------------------------------------------------

    @property
    def graphql_url(self) -> str:
        return f"{self.base_url}/graphql"

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    # --- life cycle ------------------------------------------------------------------------------

    def start(self) -> EmulatorProcess:
        """Start the CLI and return once it answers; raise EmulatorProcessError with its log otherwise."""
        if self.running:
            raise EmulatorProcessError("the emulator is already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        command = [
            sys.executable, "-m", "airflow_mmc_provider.emulator", "serve",
            "--host", "127.0.0.1", "--port", str(self.requested_port),
            "--data-dir", str(self.data_dir), "--task-delay", str(self.task_delay), *self.extra_args,
        ]  # fmt: skip
        env = {**os.environ, "LABELBOX_EMULATOR_API_KEY": self.api_key}
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)  # noqa: S603
        self.base_url = self._wait_for_start(offset)
        token = (self.data_dir / ADMIN_TOKEN_FILE).read_text(encoding="utf-8")
        self._admin.headers["Authorization"] = f"Bearer {token}"
        self._admin_call("GET", "health")
        return self

    def _wait_for_start(self, offset: int) -> str:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            match = _LISTENING.search(self._log_since(offset))
            if match:
                return match.group(1)
            if self._process is not None and self._process.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise EmulatorProcessError(
            f"the emulator did not start; its output:\n{self._log_since(offset)[-4000:]}"
        )

    def _log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", "replace")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, wait, SIGKILL if it must; return the exit code (None if never started)."""
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._admin.close()
        self._admin = requests.Session()
        return process.returncode

    def log_text(self) -> str:
        """Everything the emulator processes started on this data directory have logged."""
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> EmulatorProcess:
        return self.start() if not self.running else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- admin endpoints -------------------------------------------------------------------------

    def set_faults(self, config: dict[str, Any]) -> dict[str, Any]:
        """Replace the fault configuration (format: `airflow_mmc_provider.emulator.faults`)."""
        return self._admin_call("POST", "faults", config)

    def clear_faults(self) -> dict[str, Any]:
        return self._admin_call("DELETE", "faults")

    def fault_stats(self) -> dict[str, Any]:
        """`{"active", "config", "injected" (total), "by_kind", "matched_requests", "remaining_sequence"}`."""
        return self._admin_call("GET", "faults")

    def reset(self) -> None:
        """Wipe datasets, data rows, files, tasks, ontologies, projects and batches; the API key, user,
        organisation and labeling frontends stay."""
        self._admin_call("POST", "reset")

    def move_workflow(
        self,
        project_id: str,
        state: str,
        *,
        data_row_ids: Sequence[str] | None = None,
        global_keys: Sequence[str] | None = None,
        batch_id: str | None = None,
        limit: int | None = None,
        labeled: bool | None = None,
    ) -> dict[str, Any]:
        """Move rows of a project to a workflow state (ToLabel, InReview, InRework, Done, Skipped).

        Name the rows by id, by global key, or by batch (with `limit`, at most that many, rows not
        yet in `state` first). Returns ``{"moved": N, "not_in_project": [...]}``.
        """
        body: dict[str, Any] = {"project_id": project_id, "state": state}
        optional = {
            "data_row_ids": list(data_row_ids) if data_row_ids is not None else None,
            "global_keys": list(global_keys) if global_keys is not None else None,
            "batch_id": batch_id,
            "limit": limit,
            "labeled": labeled,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        return self._admin_call("POST", "workflow", body)

    def workflow_of(self, project_id: str, data_row_id: str) -> dict[str, Any]:
        """A row's batch, state, labelled flag and history of moves in a project."""
        query = urlencode({"project_id": project_id, "data_row_id": data_row_id})
        return self._admin_call("GET", f"workflow?{query}")

    def set_raters(self, config: dict[str, Any] | None) -> dict[str, Any]:
        """Switch simulated raters on with this config, or off with None (format: `emulator.raters`)."""
        return self._admin_call("POST", "raters", config)

    def admin_request(self, method: str, name: str, body: Any = None) -> requests.Response:
        """One admin call as the helpers make it (the token; a POST's body as JSON, None as null)."""
        if method != "POST":
            return self._admin.request(method, f"{self.base_url}/_emulator/{name}", timeout=30)
        return self._admin.post(
            f"{self.base_url}/_emulator/{name}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            timeout=30,
        )

    def _admin_call(self, method: str, name: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.admin_request(method, name, body)
        if response.status_code != 200:
            raise EmulatorProcessError(
                f"{method} /_emulator/{name} answered {response.status_code}: {response.text}"
            )
        result: dict[str, Any] = response.json()
        return result


@contextmanager
def run_emulator(
    data_dir: str | os.PathLike[str],
    api_key: str,
    *,
    port: int | None = None,
    task_delay: float = 0.0,
    extra_args: Sequence[str] = (),
) -> Iterator[EmulatorProcess]:
    """Start an emulator for the duration of the block and stop it afterwards."""
    emulator = EmulatorProcess(data_dir, api_key, port=port, task_delay=task_delay, extra_args=extra_args)
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()
