"""LabelboxHook: connection fields -> client, and a cheap test_connection."""

from __future__ import annotations

import json

import pytest

from airflow_mmc_provider.hooks.labelbox import LabelboxHook, endpoint_from_connection


@pytest.mark.parametrize(
    ("host", "port", "schema", "expected"),
    [
        (None, None, None, "https://api.labelbox.com/graphql"),
        ("", None, None, "https://api.labelbox.com/graphql"),
        ("https://api.labelbox.com/graphql", None, None, "https://api.labelbox.com/graphql"),
        ("http://127.0.0.1:8765/graphql", None, None, "http://127.0.0.1:8765/graphql"),
        ("127.0.0.1", 8765, None, "http://127.0.0.1:8765/graphql"),
        ("localhost", 8765, "graphql", "http://localhost:8765/graphql"),
        ("api.labelbox.com", None, None, "https://api.labelbox.com/graphql"),
        (
            "https://proxy.example.com",
            8443,
            "labelbox/graphql",
            "https://proxy.example.com:8443/labelbox/graphql",
        ),
    ],
)
def test_endpoint_from_connection_fields(host, port, schema, expected):
    assert endpoint_from_connection(host, port, schema) == expected


def use_connection(monkeypatch, conn_id: str, **fields: object) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "labelbox", **fields}))


def test_hook_builds_the_client_from_an_env_connection_without_a_database(monkeypatch):
    use_connection(
        monkeypatch,
        "lb_env",
        host="https://api.labelbox.com/graphql",
        password="env-key-0123456789",
        extra={"request_timeout": 17, "retry_limit": 3, "app_url": "https://app.example.com/"},
    )
    client = LabelboxHook("lb_env").get_conn()
    assert client.transport.endpoint == "https://api.labelbox.com/graphql"
    assert client.transport.timeout[1] == 17
    assert client.transport.retry.max_attempts == 3
    assert client.app_url == "https://app.example.com"
    assert "env-key" not in repr(client)


def test_test_connection_reports_the_user(monkeypatch, emulator):
    use_connection(monkeypatch, "lb_ok", host=emulator.graphql_url, password=emulator.api_key)
    ok, message = LabelboxHook("lb_ok").test_connection()
    assert ok, message
    assert emulator.graphql_url in message


def test_test_connection_names_the_fix_for_a_bad_key(monkeypatch, emulator):
    use_connection(monkeypatch, "lb_bad", host=emulator.graphql_url, password="not-the-key-0000")
    ok, message = LabelboxHook("lb_bad").test_connection()
    assert not ok
    assert "password field of the Labelbox connection" in message
    assert "not-the-key-0000" not in message


def test_unreachable_server_gives_one_clear_error(monkeypatch):
    use_connection(
        monkeypatch, "lb_down", host="http://127.0.0.1:9/graphql", password="k" * 12, extra={"retry_limit": 1}
    )
    ok, message = LabelboxHook("lb_down").test_connection()
    assert not ok
    assert "connection to http://127.0.0.1:9 failed (connection refused" in message
    assert "GetUserPyApi" in message
