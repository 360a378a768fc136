"""Who may call the admin endpoints (loopback Host, own Origin, JSON, the token), bounded settings,
and file URLs that never follow a symbolic link. In-process (ASGI) except the start-line test."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from airflow_mmc_provider.emulator.admin import ADMIN_TOKEN_FILE
from airflow_mmc_provider.emulator.routes import EmulatorState, create_app
from airflow_mmc_provider.emulator.server import ServerConfig, build_state
from airflow_mmc_provider.emulator.testing import EmulatorProcess

KEY = "admin-test-api-key"
OWN = "http://127.0.0.1:8765"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, EmulatorState]]:
    """An emulator app in-process, as a loopback peer; no default headers, each test sends its own."""
    state = build_state(ServerConfig(data_dir=tmp_path, api_key=KEY))
    transport = httpx.ASGITransport(app=create_app(state), client=("127.0.0.1", 40000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=OWN) as client:
            yield client, state
    finally:
        state.store.close()


def token_of(state: EmulatorState) -> dict[str, str]:
    return {"Authorization": f"Bearer {state.admin_token}"}


async def post(client: httpx.AsyncClient, path: str, body: object, **headers: str) -> httpx.Response:
    sent = {"Content-Type": "application/json", **headers}
    return await client.post(f"/_emulator/{path}", content=json.dumps(body).encode(), headers=sent)


async def test_a_foreign_host_is_refused_and_nothing_changes(app):
    client, state = app
    for host in ("evil.example", "192.168.1.20:8765", "127.0.0.1.evil.example"):
        response = await post(client, "faults", {"drop": 1.0}, Host=host, **token_of(state))
        assert response.status_code == 403 and "loopback Host" in response.json()["message"]
    assert not state.faults.active
    for host in ("localhost:8765", "127.0.0.1", "[::1]:8765"):
        assert (
            await client.get("/_emulator/health", headers={"Host": host, **token_of(state)})
        ).status_code == 200


async def test_a_foreign_origin_is_refused_and_the_own_origin_is_not(app):
    client, state = app
    for origin in ("https://evil.example", "null", "http://localhost:8765"):
        response = await post(client, "reset", {}, Origin=origin, **token_of(state))
        assert response.status_code == 403 and "another origin" in response.json()["message"]
    assert (await post(client, "faults", {"drop": 0.5}, Origin=OWN, **token_of(state))).status_code == 200


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_post_that_is_not_json_is_refused(app, content_type):
    client, state = app
    headers = {**token_of(state), **({"Content-Type": content_type} if content_type else {})}
    response = await client.post("/_emulator/faults", content=b'{"drop": 1.0}', headers=headers)
    assert response.status_code == 415 and "application/json" in response.json()["message"]
    assert not state.faults.active


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", "Basic " + KEY, "Bearer "],
    ids=["none", "wrong", "basic", "empty"],
)
async def test_a_request_without_the_token_or_the_key_is_refused(app, authorization):
    client, state = app
    headers = {"Authorization": authorization} if authorization else {}
    response = await post(client, "faults", {"drop": 1.0}, **headers)
    assert response.status_code == 401 and "admin token" in response.json()["message"]
    assert (await client.get("/_emulator/raters", headers=headers)).status_code == 401
    assert not state.faults.active


async def test_the_admin_token_or_the_api_key_is_enough(app):
    client, state = app
    assert (await post(client, "faults", {"drop": 0.1}, **token_of(state))).status_code == 200
    assert (await post(client, "raters", None, Authorization=f"Bearer {KEY}")).status_code == 200


OUT_OF_BOUNDS = {
    "rater-count": ("raters", {"raters": 10**9}, "raters must be a whole number between 1 and 1000"),
    "rater-list": ("raters", {"raters": [f"r{i}@x" for i in range(1001)]}, "raters may have at most 1000"),
    "labels-per-row": (
        "raters",
        {"labels_per_row": 5000},
        "labels_per_row must be a whole number between 1 and 1000",
    ),
    "delay": ("raters", {"delay_seconds": 1e9}, "delay_seconds must be between 0 and 86400"),
    "noise": ("raters", {"noise": 1e6}, "noise must be between 0 and 10"),
    "bias": ("raters", {"position_bias": -50}, "position_bias must be between -10 and 10"),
    "skip-rate": ("raters", {"skip_rate": 2}, "skip_rate must be between 0 and 1"),
    "skill": ("raters", {"skills": {"m": 1e6}}, "skills['m'] must be between -10 and 10"),
    "rater-seed": ("raters", {"seed": 2**70}, "seed must be a whole number between"),
    "latency": (
        "faults",
        {"latency": 0.1, "latency_seconds": 1e9},
        "latency_seconds must be between 0 and 600",
    ),
    "retry-after": ("faults", {"retry_after": 1e9}, "retry_after must be between 0 and 3600"),
    "latency-in-sequence": (
        "faults",
        {"sequence": ["latency:1e9"]},
        "latency seconds must be between 0 and 600",
    ),
    "sequence": ("faults", {"sequence": ["none"] * 10_001}, "sequence may have at most 10000 entries"),
    "paths": ("faults", {"paths": ["/graphql"] * 101}, "paths may have at most 100 entries"),
    "fault-seed": ("faults", {"drop": 0.1, "seed": -(2**70)}, "seed must be a whole number between"),
    "moved-ids": (
        "workflow",
        {"project_id": "p", "state": "Done", "data_row_ids": ["c"] * 100_001},
        "data_row_ids may have at most 100000 entries",
    ),
}


@pytest.mark.parametrize(("path", "body", "message"), list(OUT_OF_BOUNDS.values()), ids=list(OUT_OF_BOUNDS))
async def test_every_setting_is_bounded_with_a_400_naming_the_field_and_the_bound(app, path, body, message):
    client, state = app
    response = await post(client, path, body, **token_of(state))
    assert response.status_code == 400 and message in response.json()["message"], response.text
    assert not state.faults.active and state.raters.config is None


async def test_nan_and_infinity_are_outside_every_bound(app):
    client, state = app
    for text in (b'{"noise": NaN}', b'{"delay_seconds": Infinity}'):
        headers = {"Content-Type": "application/json", **token_of(state)}
        response = await client.post("/_emulator/raters", content=text, headers=headers)
        assert response.status_code == 400
        assert "(got nan)" in response.text or "(got inf)" in response.text
    assert state.raters.config is None


async def test_a_stored_file_replaced_by_a_symlink_is_not_served(app, tmp_path):
    client, state = app
    stored = state.store.save_file(
        b"payload", filename=None, content_type="text/plain", netloc="127.0.0.1:8765"
    )
    served = await client.get(f"/files/{stored.id}")
    assert (served.status_code, served.content) == (200, b"payload")
    head = await client.head(f"/files/{stored.id}")
    assert head.status_code == 200 and head.headers["content-length"] == "7"
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"not for the web")
    path = state.store.file_path(stored.id)
    path.unlink()
    path.symlink_to(secret)
    replaced = await client.get(f"/files/{stored.id}")
    assert replaced.status_code == 404 and b"not for the web" not in replaced.content


async def test_a_files_folder_replaced_by_a_symlink_serves_nothing(app, tmp_path):
    client, state = app
    stored = state.store.save_file(b"payload", filename=None, content_type=None, netloc="127.0.0.1:8765")
    elsewhere = tmp_path / "elsewhere"
    state.store.files_dir.rename(elsewhere)
    state.store.files_dir.symlink_to(elsewhere)
    assert (await client.get(f"/files/{stored.id}")).status_code == 404


def test_the_start_line_names_the_token_file_which_only_its_owner_can_read(fresh_emulator: EmulatorProcess):
    fresh_emulator.start()
    token_file = fresh_emulator.data_dir / ADMIN_TOKEN_FILE
    token = token_file.read_text(encoding="utf-8")
    assert len(token) >= 32
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    log = fresh_emulator.log_text()
    assert f"admin token in {token_file}" in log and token not in log
    assert fresh_emulator.fault_stats()["active"] is False  # the helper sends the token
    fresh_emulator.stop()
    fresh_emulator.start()
    assert token_file.read_text(encoding="utf-8") != token  # a new token for each start
    assert fresh_emulator.set_raters(None)["config"] is None
