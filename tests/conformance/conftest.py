"""Fixtures of the conformance tests (the official SDK against the session emulator).

* ``client`` (function) -- an `lb.Client` on the session emulator (``lb_emulator``: faults and
  simulated raters are cleared after each test).
* ``dataset`` (function) -- a dataset named after the test, deleted afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import labelbox as lb
import pytest
from labelbox import Dataset

from airflow_mmc_provider.emulator.testing import EmulatorProcess


@pytest.fixture
def client(lb_emulator: EmulatorProcess) -> lb.Client:
    return lb.Client(api_key=lb_emulator.api_key, endpoint=lb_emulator.graphql_url)


@pytest.fixture
def dataset(client: lb.Client, unique_name: str) -> Iterator[Dataset]:
    created = client.create_dataset(name=unique_name, description="conformance")
    yield created
    created.delete()
