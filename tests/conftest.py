"""Shared fixtures: one real emulator process for the whole session.

Fixtures defined here (subfolders add their own conftest files, not here):

* ``emulator_api_key`` (session) -- the key the emulator accepts: ``test-api-key-0123456789``.
* ``emulator`` (session) -- an `EmulatorProcess` (``airflow_mmc_provider.emulator.testing``) running
  the real CLI on a free loopback port, data directory under pytest's temporary directory. Exposes
  ``base_url``, ``graphql_url``, ``api_key``, ``data_dir``, ``set_faults(dict)``, ``clear_faults()``,
  ``fault_stats()``, ``reset()``, ``log_text()``, ``move_workflow(...)``, ``set_raters(config)``.
  Exports (default chunk size 1 MiB, 0.2 s delay) and annotation imports are served; simulated
  raters are off unless a test switches them on.
* ``lb_emulator`` (function) -- the same process, with fault injection and simulated raters cleared
  after the test, so a test that injects faults or turns raters on cannot leak them into the next
  one. Prefer it over ``emulator``.
* ``unique_name`` (function) -- a string unique to this test run and test, for dataset names and
  global keys (the session's emulator is shared, so names must not collide).

Markers for `make quick` (registered in pyproject.toml) are given here at collection, so that no test
module has to remember them: ``emulator`` to every test that uses a fixture starting an emulator,
``airflow_cli`` / ``browser`` / ``emulator`` / ``interpreter`` to the tests listed in `STARTS_PROCESSES` that start
their process themselves. ``--no-processes`` (which `make quick` passes beside ``-m "not ..."``)
makes a selected test that starts a process fail, naming the markers, so the quick selection
cannot drift silently when a new test starts one.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_mmc_provider.emulator.testing import EmulatorProcess, run_emulator

EMULATOR_API_KEY = "test-api-key-0123456789"

# Fixtures that start an emulator process, or the key tests start their own with: a test using one
# (directly or through another fixture) is `emulator`.
EMULATOR_FIXTURES = frozenset({"emulator", "fresh_emulator", "emulator_api_key"})
# Tests that start a process without such a fixture, by node id prefix -> the marker they get.
STARTS_PROCESSES = {
    "tests/emulator/test_lifecycle.py::test_cli_": "emulator",
    "tests/export/test_one_definition.py::": "interpreter",  # edits a types module in a fresh Python
    "tests/operators/test_export_operators.py::": "emulator",  # its module fixture runs its own emulator
    "tests/provider/test_registration.py::test_airflow_": "airflow_cli",
    "tests/dags/test_cross_round_dag.py::": "airflow_cli",
    "tests/report/test_report.py::test_report_renders_in_headless_chromium": "browser",
}
PROCESS_MARKERS = ("conformance", "slow", "emulator", "airflow_cli", "browser", "interpreter")
HEAVY_PROGRAM = re.compile(r"^(python[\d.]*|airflow|chromium(-browser)?)$")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-processes",
        action="store_true",
        help="fail a test that starts the emulator, airflow or Chromium: the check of `make quick`'s selection",
    )


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by these markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if EMULATOR_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker("emulator")
        for prefix, marker in STARTS_PROCESSES.items():
            if item.nodeid.startswith(prefix):
                item.add_marker(marker)


def pytest_configure(config: pytest.Config) -> None:
    """Under ``--no-processes``, starting one of the processes that `make quick` leaves out (a Python
    interpreter: the emulator or a script; `airflow`; Chromium) fails the test or fixture that does it.

    Small tools stay allowed: libraries run some at import (croniter runs ``file`` through `platform`).
    """
    if not config.getoption("--no-processes"):
        return
    start = subprocess.Popen.__init__

    def guarded(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
        program = args if isinstance(args, (str, bytes, os.PathLike)) else args[0]
        if not HEAVY_PROGRAM.match(os.path.basename(os.fsdecode(program).split()[0])):
            start(self, args, *rest, **kwargs)
            return
        raise AssertionError(
            f"this test starts a process ({args!r}) but is not marked as one that does: give it one of "
            f"the markers {', '.join(PROCESS_MARKERS)} (tests/conftest.py: STARTS_PROCESSES), "
            "so that `make quick` leaves it out"
        )

    subprocess.Popen.__init__ = guarded  # type: ignore[assignment,method-assign]


@pytest.fixture(scope="session")
def emulator_api_key() -> str:
    return EMULATOR_API_KEY


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory, emulator_api_key: str) -> Iterator[EmulatorProcess]:
    with run_emulator(tmp_path_factory.mktemp("labelbox-emulator"), emulator_api_key) as running:
        yield running


@pytest.fixture
def lb_emulator(emulator: EmulatorProcess) -> Iterator[EmulatorProcess]:
    yield emulator
    if emulator.running:
        emulator.clear_faults()
        emulator.set_raters(None)


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    test_name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")[:48]
    return f"{test_name}-{uuid.uuid4().hex[:10]}"
