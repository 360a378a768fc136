"""Fault injection: the deterministic sequence, seeded rates, filters, and the loopback-only admin API."""

from __future__ import annotations

import contextlib
import random
import socket
import time

import httpx
import pytest
import requests

from airflow_mmc_provider.emulator.faults import Fault, FaultConfig
from airflow_mmc_provider.emulator.routes import create_app
from airflow_mmc_provider.emulator.server import ServerConfig, build_state
from airflow_mmc_provider.emulator.testing import EmulatorProcessError

from .helpers import RawGraphQL

USER = "query GetUserPyApi { user { id } }"
CREATE = "mutation CreateDatasetPyApi($name: String!){createDataset(data: {name: $name}) {id}}"


def statuses(gql: RawGraphQL, count: int) -> list[int | str]:
    """Status of each of `count` requests, or "drop" when the connection was closed without a reply."""
    seen: list[int | str] = []
    for _ in range(count):
        try:
            seen.append(gql.post(USER).status_code)
        except requests.ConnectionError:
            seen.append("drop")
    return seen


def dataset_ids(gql: RawGraphQL, name: str) -> list[str]:
    found = gql.data("query($n: String!){datasets(where: {name: $n}){id}}", {"n": name})["datasets"]
    return [d["id"] for d in found]


def test_sequence_injects_faults_in_order_then_stops(gql, lb_emulator):
    lb_emulator.set_faults({"sequence": ["429", "503", "502", "none", "drop"], "paths": ["/graphql"]})
    limited = gql.post(USER)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert limited.json()["message"].startswith("You have exceeded")  # the SDK's ApiLimitError test
    server_error = gql.post(USER)
    assert server_error.status_code == 503 and server_error.json()["errors"][0]["extensions"]["code"]
    assert statuses(gql, 4) == [502, 200, "drop", 200]
    stats = lb_emulator.fault_stats()
    assert stats["injected"] == 4 and stats["remaining_sequence"] == [] and stats["matched_requests"] == 6
    assert stats["by_kind"] == {"429": 1, "503": 1, "502": 1, "drop": 1}


def test_latency_and_retry_after_arguments(gql, lb_emulator):
    lb_emulator.set_faults({"sequence": ["latency:0.3", "429:0.25"]})
    started = time.monotonic()
    assert gql.post(USER).status_code == 200
    assert time.monotonic() - started >= 0.3
    assert gql.post(USER).headers["Retry-After"] == "0.25"


def test_drop_closes_the_connection_without_any_response(gql, lb_emulator):
    lb_emulator.set_faults({"sequence": ["drop", "drop"]})
    with pytest.raises(requests.ConnectionError):
        requests.post(lb_emulator.graphql_url, json={"query": USER}, timeout=10)
    body = b'{"query": "{ user { id } }"}'
    request = b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    request += b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    with socket.create_connection(("127.0.0.1", lb_emulator.port), timeout=10) as raw:
        raw.sendall(request)
        received = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := raw.recv(4096):
                received += chunk
    assert received == b""  # not one byte of a response
    assert "without starting response" not in lb_emulator.log_text()


def test_path_filter_aims_at_file_downloads_and_truncate_cuts_them(gql, lb_emulator):
    url = gql.upload(b"x" * 200_000)
    lb_emulator.set_faults({"sequence": ["503", "truncate"], "paths": ["/files/"]})
    assert gql.post(USER).status_code == 200  # not a matching path
    assert requests.get(url, timeout=10).status_code == 503
    with pytest.raises(requests.RequestException):
        requests.get(url, timeout=10)
    assert requests.get(url, timeout=10).content == b"x" * 200_000


def test_operation_filter_and_drop_after_performs_the_mutation(gql, lb_emulator, unique_name):
    lb_emulator.set_faults({"sequence": ["503", "drop_after"], "operations": ["createDataset"]})
    assert gql.post(USER).status_code == 200  # other operations pass untouched
    assert gql.post(CREATE, {"name": unique_name}).status_code == 503
    assert dataset_ids(gql, unique_name) == []  # a 503 did nothing
    with pytest.raises(requests.ConnectionError):
        gql.post(CREATE, {"name": unique_name})
    assert len(dataset_ids(gql, unique_name)) == 1  # the lost answer's create did happen


def test_delay_after_performs_the_mutation_then_holds_its_answer(gql, lb_emulator, unique_name):
    lb_emulator.set_faults({"sequence": ["delay_after:1.5"], "operations": ["createDataset"]})
    url = lb_emulator.graphql_url
    body = {"query": CREATE, "variables": {"name": unique_name}}
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        gql.session.post(url, json=body, timeout=(5, 0.5))
    assert len(dataset_ids(gql, unique_name)) == 1  # made before the client gave up waiting
    assert time.monotonic() - started < 1.5
    lb_emulator.set_faults({"sequence": ["delay_after:0.3"], "operations": ["createDataset"]})
    started = time.monotonic()
    assert gql.post(CREATE, {"name": unique_name}).status_code == 200  # a patient client gets it
    assert time.monotonic() - started >= 0.3


def test_rates_are_reproducible_with_a_seed(gql, lb_emulator):
    config = {"rate_limit": 0.3, "server_error": 0.2, "server_error_status": 500, "drop": 0.1, "seed": 11}
    lb_emulator.set_faults(config)
    first = statuses(gql, 40)
    lb_emulator.set_faults(config)
    assert statuses(gql, 40) == first
    assert {429, 500, "drop", 200} <= set(first)
    assert lb_emulator.fault_stats()["injected"] == sum(1 for s in first if s != 200)


def test_clearing_faults_stops_them_and_keeps_the_counts(gql, lb_emulator):
    lb_emulator.set_faults({"rate_limit": 1.0, "retry_after": 0})
    assert gql.post(USER).status_code == 429
    stats = lb_emulator.clear_faults()
    assert stats["active"] is False and stats["injected"] == 1
    assert gql.post(USER).status_code == 200


@pytest.mark.parametrize(
    "config",
    [{"rate_limit": 0.7, "drop": 0.5}, {"sequence": ["418"]}, {"sequence": ["latency"]}, {"surprise": 1}],
    ids=["rates-over-1", "not-a-fault", "latency-without-seconds", "unknown-key"],
)
def test_invalid_fault_settings_are_rejected(lb_emulator, config):
    with pytest.raises(EmulatorProcessError, match="400"):
        lb_emulator.set_faults(config)
    with pytest.raises(ValueError):
        FaultConfig.from_json(config)


def test_fault_parsing():
    assert Fault.parse("429") == Fault("429", 1.0)
    assert Fault.parse("latency:0.5").label() == "latency:0.5"
    assert Fault.parse(503) == Fault("503")
    assert Fault.parse("truncate").value == 0.5
    assert Fault.parse("delay_after:2").label() == "delay_after:2"
    assert FaultConfig.from_json({"delay_after": 1.0, "latency_seconds": 3}).draw(random.Random(1)) == Fault(
        "delay_after", 3.0
    )


@pytest.mark.parametrize(
    ("client_host", "allowed"),
    [("127.0.0.1", True), ("::1", True), ("192.0.2.10", False), ("testclient", False)],
)
async def test_admin_endpoints_answer_loopback_clients_only(tmp_path, client_host, allowed):
    state = build_state(ServerConfig(data_dir=tmp_path, api_key="k"))
    transport = httpx.ASGITransport(app=create_app(state), client=(client_host, 40000))
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1:8765", headers={"Authorization": "Bearer k"}
        ) as client:
            for method, path in [
                ("GET", "health"),
                ("GET", "faults"),
                ("DELETE", "faults"),
                ("POST", "reset"),
            ]:
                body = {} if method == "POST" else None  # admin POSTs are JSON
                response = await client.request(method, f"/_emulator/{path}", json=body)
                assert response.status_code == (200 if allowed else 403)
            posted = await client.post("/_emulator/faults", json={"sequence": ["503"]})
            assert posted.status_code == (200 if allowed else 403)
    finally:
        state.store.close()
