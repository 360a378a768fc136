"""Operators run against the emulator through a real Airflow connection from the environment."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def labelbox_conn(monkeypatch, lb_emulator) -> str:
    """A `labelbox` connection id pointing at the emulator (no metadata database involved)."""
    conn = {"conn_type": "labelbox", "host": lb_emulator.graphql_url, "password": lb_emulator.api_key}
    monkeypatch.setenv("AIRFLOW_CONN_LABELBOX_TEST", json.dumps(conn))
    return "labelbox_test"
