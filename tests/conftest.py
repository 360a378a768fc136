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
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest

from airflow_mmc_provider.emulator.testing import EmulatorProcess, run_emulator

EMULATOR_API_KEY = "test-api-key-0123456789"


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
