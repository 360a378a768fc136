"""Fixtures for the emulator's own tests.

* ``gql`` -- a `RawGraphQL` (see `helpers`) bound to the session emulator (``lb_emulator``).
* ``fresh_emulator`` -- a private emulator process on its own data directory, not yet started, for
  tests that restart it, reset it or need a task delay; stopped after the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_mmc_provider.emulator.testing import EmulatorProcess

from .helpers import RawGraphQL


@pytest.fixture
def gql(lb_emulator: EmulatorProcess) -> RawGraphQL:
    return RawGraphQL(lb_emulator)


@pytest.fixture
def fresh_emulator(tmp_path: Path, emulator_api_key: str) -> Iterator[EmulatorProcess]:
    """A private, not yet started emulator on its own data directory; stopped after the test."""
    process = EmulatorProcess(tmp_path / "data", emulator_api_key)
    yield process
    process.stop()
