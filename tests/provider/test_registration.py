"""The provider is discoverable by Airflow, and its connection type works from the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_mmc_provider import get_provider_info

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def run_airflow(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AIRFLOW, *args], capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )


def test_provider_info_names_the_distribution_and_the_connection_type():
    info = get_provider_info()
    assert info["package-name"] == "airflow-mmc-provider"
    (conn_type,) = info["connection-types"]
    assert conn_type["connection-type"] == "labelbox"
    assert conn_type["hook-class-name"] == "airflow_mmc_provider.hooks.labelbox.LabelboxHook"
    assert conn_type["ui-field-behaviour"]["placeholders"]["host"] == "https://api.labelbox.com/graphql"
    assert set(conn_type["conn-fields"]) == {"request_timeout", "retry_limit", "app_url"}


def test_every_listed_module_imports():
    import importlib

    info = get_provider_info()
    for group in ("hooks", "operators", "sensors", "triggers"):
        for entry in info[group]:
            for module in entry["python-modules"]:
                importlib.import_module(module)


def test_airflow_lists_the_provider_and_its_hook():
    providers = run_airflow("providers", "list", "-o", "json")
    assert providers.returncode == 0, providers.stderr
    listed = {p["package_name"]: p for p in json.loads(providers.stdout)}
    assert "airflow-mmc-provider" in listed
    hooks = run_airflow("providers", "hooks", "-o", "json")
    assert hooks.returncode == 0, hooks.stderr
    rows = [h for h in json.loads(hooks.stdout) if h.get("connection_type") == "labelbox"]
    assert rows and rows[0]["class"] == "airflow_mmc_provider.hooks.labelbox.LabelboxHook"


@pytest.mark.parametrize(
    ("api_key", "ok_text"),
    [("test-api-key-0123456789", "Connection success!"), ("wrong-key-0000000000", "Connection failed!")],
)
def test_airflow_connections_test_calls_the_hook(emulator, api_key, ok_text):
    conn = {"conn_type": "labelbox", "host": emulator.graphql_url, "password": api_key}
    result = run_airflow(
        "connections",
        "test",
        "labelbox_check",
        env={"AIRFLOW_CONN_LABELBOX_CHECK": json.dumps(conn), "AIRFLOW__CORE__TEST_CONNECTION": "Enabled"},
    )
    output = result.stdout + result.stderr
    assert ok_text in output, output
    assert api_key not in output


def test_airflow_registers_the_project_link_and_the_triggers():
    links = run_airflow("providers", "links", "-o", "json")
    assert links.returncode == 0, links.stderr
    assert "airflow_mmc_provider.operators.projects.LabelboxProjectLink" in links.stdout
    triggers = run_airflow("providers", "triggers", "-o", "json")
    assert triggers.returncode == 0, triggers.stderr
    assert "airflow_mmc_provider.triggers.tasks" in triggers.stdout
