"""Exports over raw GraphQL: byte-exact chunks at any offset, filters, and the simulated raters."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_mmc_provider.emulator.testing import EmulatorProcess, run_emulator

from .helpers import MMC_TYPE, Projects, RawGraphQL, mmc_ontology, spec

CHUNK = 700
EXPORT = "mutation($input: ExportDataRowsInProjectInput!){exportDataRowsInProject(input: $input){taskId isStreamable}}"
HEADER = (
    "query($where: WhereUniqueIdInput, $streamType: TaskStreamType!){task(where: $where)"
    "{status exportMetadataHeader(streamType: $streamType){totalSize totalLines}}}"
)
CHUNK_QUERY = (
    "query($where: WhereUniqueIdInput, $streamType: TaskStreamType!, $offset: UInt64!){task(where: $where)"
    "{exportFileFromOffset(streamType: $streamType, offset: $offset){offsets {start end} lines {start end} file}}}"
)
ALL_PARAMS = {
    "includeAttachments": True, "includeEmbeddings": True, "includeMetadata": True, "includeDataRowDetails": True,
    "includeProjectDetails": True, "includePerformanceDetails": True, "includeLabelDetails": True,
}  # fmt: skip


def conversation(index: int, models: tuple[str, ...] = ("model-a", "model-b")) -> dict[str, Any]:
    actors: dict[str, Any] = {"u": {"role": "human", "metadata": {"name": "User"}}}
    messages: dict[str, Any] = {}
    for n, model in enumerate(models):
        actors[f"m{n}"] = {"role": "model", "metadata": {"modelConfigName": model}}
        messages[f"r{n}"] = {"actorId": f"m{n}", "content": [{"type": "text", "content": f"answer {n}"}],
                             "childMessageIds": []}  # fmt: skip
    messages["p"] = {"actorId": "u", "content": [{"type": "text", "content": f"question {index}"}],
                     "childMessageIds": [f"r{n}" for n in range(len(models))]}  # fmt: skip
    return {"type": MMC_TYPE, "version": 2, "actors": actors, "messages": messages, "rootMessageIds": ["p"]}


@pytest.fixture(scope="module")
def small_chunks(
    tmp_path_factory: pytest.TempPathFactory, emulator_api_key: str
) -> Iterator[EmulatorProcess]:
    args = ["--export-chunk-bytes", str(CHUNK), "--export-delay", "0.05"]
    with run_emulator(tmp_path_factory.mktemp("exports"), emulator_api_key, extra_args=args) as running:
        yield running


@pytest.fixture
def raw(small_chunks: EmulatorProcess) -> Iterator[RawGraphQL]:
    yield RawGraphQL(small_chunks)
    small_chunks.set_raters(None)
    small_chunks.clear_faults()


def make_project(raw: RawGraphQL, name: str, count: int, **batch: Any) -> tuple[str, list[str], str]:
    """A project with the MMC test ontology and `count` conversation rows in batch `b1`."""
    projects = Projects(raw)
    dataset = raw.create_dataset(name)
    keys = [f"{name}-{i}" for i in range(count)]
    task = raw.upsert(
        [
            spec({"row_data": conversation(i), "dataset_id": dataset, "global_key": k})
            for i, k in enumerate(keys)
        ]
    )
    assert task["status"] == "COMPLETE"
    ontology = projects.create_ontology(name)
    project = projects.create_project(name)
    raw.data(
        "mutation($p: ID!, $o: ID!){project(where: {id: $p}){connectOntology(ontologyId: $o){id}}}",
        {"p": project["id"], "o": ontology["id"]},
    )
    created = projects.batch(project["id"], "b1", global_keys=keys, **batch)
    return project["id"], keys, created["batch"]["id"]


def export(
    raw: RawGraphQL, project_id: str, query: list[Any] | None = None, params: dict | None = None
) -> str:
    body = {"taskName": None, "isStreamableReady": True, "streamable": True,
            "filters": {"projectId": project_id, "searchQuery": {"scope": None, "query": query or []}},
            "params": params if params is not None else ALL_PARAMS}  # fmt: skip
    started = raw.data(EXPORT, {"input": body})["exportDataRowsInProject"]
    assert started["isStreamable"] is True
    deadline = time.monotonic() + 20
    while (
        raw.data(HEADER, {"where": {"id": started["taskId"]}, "streamType": "RESULT"})["task"]["status"]
        != "COMPLETE"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    task_id: str = started["taskId"]
    return task_id


def header(raw: RawGraphQL, task_id: str, stream: str = "RESULT") -> dict[str, Any] | None:
    found: dict[str, Any] | None = raw.data(HEADER, {"where": {"id": task_id}, "streamType": stream})["task"][
        "exportMetadataHeader"
    ]
    return found


def download(raw: RawGraphQL, task_id: str, stream: str = "RESULT") -> bytes:
    """The stream as the SDK reads it: chunk after chunk, each starting where the last one ended."""
    size = int((header(raw, task_id, stream) or {})["totalSize"])
    data, offset = b"", 0
    while offset < size:
        chunk = raw.data(CHUNK_QUERY, {"where": {"id": task_id}, "streamType": stream, "offset": str(offset)})
        found = chunk["task"]["exportFileFromOffset"]
        body = requests.get(found["file"], timeout=10).content  # no auth header, like a signed URL
        assert len(body) == int(found["offsets"]["end"]) - int(found["offsets"]["start"]) + 1
        data += body
        offset = int(found["offsets"]["end"]) + 1
    return data


def rows_of(raw: RawGraphQL, task_id: str) -> list[dict[str, Any]]:
    if header(raw, task_id) is None:
        return []
    return [json.loads(line) for line in download(raw, task_id).splitlines()]


def labelled(raw: RawGraphQL, project_id: str, count: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while Projects(raw).overview(project_id)["completedDataRowCount"] < count:
        assert time.monotonic() < deadline, "simulated raters did not finish"
        time.sleep(0.05)


def test_chunks_start_exactly_at_any_offset_and_cover_the_stream(raw, unique_name):
    project_id, keys, _ = make_project(raw, unique_name, 6)
    task_id = export(raw, project_id)
    whole = download(raw, task_id)
    head = header(raw, task_id)
    assert head == {"totalSize": str(len(whole)), "totalLines": "6"} or (
        int(head["totalSize"]) == len(whole) and int(head["totalLines"]) == 6
    )
    assert len(whole) > 2 * CHUNK and whole.endswith(b"\n")
    for offset in (1, 37, CHUNK + 5, len(whole) - 1):
        found = raw.data(
            CHUNK_QUERY, {"where": {"id": task_id}, "streamType": "RESULT", "offset": str(offset)}
        )
        chunk = found["task"]["exportFileFromOffset"]
        start, end = int(chunk["offsets"]["start"]), int(chunk["offsets"]["end"])
        assert start == offset and end == min(len(whole), offset + CHUNK) - 1
        assert requests.get(chunk["file"], timeout=10).content == whole[start : end + 1]
        assert int(chunk["lines"]["start"]) == whole[:start].count(b"\n")
        assert int(chunk["lines"]["end"]) == whole[:end].count(b"\n")
    beyond = raw.post(
        CHUNK_QUERY, {"where": {"id": task_id}, "streamType": "RESULT", "offset": str(len(whole))}
    )
    assert "out of range" in beyond.json()["errors"][0]["message"]
    assert header(raw, task_id, "ERRORS") is None  # empty stream: null, never totalSize 0
    org = raw.data("{organization{id}}")["organization"]["id"]
    assert (
        requests.get(f"{raw.emulator.base_url}/api/v1/export-results/{task_id}/{org}", timeout=10).content
        == whole
    )
    assert sorted(json.loads(line)["data_row"]["global_key"] for line in whole.splitlines()) == sorted(keys)


def test_a_truncated_chunk_download_is_short_and_a_retry_is_whole(raw, unique_name):
    project_id, _, _ = make_project(raw, unique_name, 3)
    task_id = export(raw, project_id)
    found = raw.data(CHUNK_QUERY, {"where": {"id": task_id}, "streamType": "RESULT", "offset": "0"})
    url = found["task"]["exportFileFromOffset"]["file"]
    expected = requests.get(url, timeout=10).content
    raw.emulator.set_faults({"sequence": ["truncate:0.5"], "paths": ["/export-chunks/"]})
    with pytest.raises(requests.exceptions.RequestException):
        response = requests.get(url, timeout=10)
        assert len(response.content) == len(expected)  # only reached if the drop went unnoticed
    assert requests.get(url, timeout=10).content == expected


def test_rows_marked_for_failure_go_to_the_errors_stream(raw, unique_name):
    dataset = raw.create_dataset(unique_name)
    payloads = [
        {"row_data": conversation(0), "dataset_id": dataset, "global_key": f"{unique_name}-ok"},
        {"row_data": conversation(1), "dataset_id": dataset, "global_key": f"{unique_name}-bad",
         "external_id": "emulator:export-error"},
    ]  # fmt: skip
    task = raw.upsert([spec(p) for p in payloads])
    ids = {n["globalKey"]: n["id"] for n in raw.successes(task["id"])}
    project = Projects(raw).create_project(unique_name)
    Projects(raw).batch(project["id"], "b1", data_row_ids=list(ids.values()))
    task_id = export(raw, project["id"])
    assert [r["data_row"]["global_key"] for r in rows_of(raw, task_id)] == [f"{unique_name}-ok"]
    errors = [json.loads(line) for line in download(raw, task_id, "ERRORS").splitlines()]
    assert errors == [{"data_row_id": ids[f"{unique_name}-bad"], "global_key": f"{unique_name}-bad",
                       "error": f"Data row {ids[f'{unique_name}-bad']} could not be exported"}]  # fmt: skip
    assert raw.task(task_id)["errors"] == "1 data rows could not be exported"


def _between(low: str, high: str, kind: str = "data_row_last_activity_at", tz: str = "UTC") -> dict[str, Any]:
    return {
        "type": kind,
        "value": {"operator": "BETWEEN", "timezone": tz, "value": {"min": low, "max": high}},
    }


def test_filters_by_ids_keys_batches_states_and_dates(raw, unique_name):
    project_id, keys, batch_id = make_project(raw, unique_name, 4)
    ids = {r["data_row"]["global_key"]: r["data_row"]["id"] for r in rows_of(raw, export(raw, project_id))}
    raw.emulator.move_workflow(project_id, "Done", global_keys=keys[:1])
    raw.emulator.move_workflow(project_id, "InReview", global_keys=keys[1:2])

    def keys_of(query: list[Any]) -> list[str]:
        return sorted(r["data_row"]["global_key"] for r in rows_of(raw, export(raw, project_id, query)))

    assert keys_of([{"ids": [ids[keys[2]]], "operator": "is", "type": "data_row_id"}]) == [keys[2]]
    assert keys_of([{"ids": keys[1:3], "operator": "is", "type": "global_key"}]) == keys[1:3]
    assert keys_of([{"ids": [batch_id], "operator": "is", "type": "batch"}]) == sorted(keys)
    assert keys_of([{"ids": ["cnobatch"], "operator": "is", "type": "batch"}]) == []
    assert keys_of([{"type": "task_queue_status", "status": "Done"}]) == [keys[0]]
    assert keys_of([{"type": "task_queue_status", "status": "InReview"}]) == [keys[1]]
    assert keys_of([{"type": "task_queue_not_exist"}]) == sorted(keys[2:])
    now = datetime.now(timezone.utc)
    iso = "%Y-%m-%dT%H:%M:%S+0000"
    past, future = (now - timedelta(hours=1)).strftime(iso), (now + timedelta(hours=1)).strftime(iso)
    assert keys_of([_between(past, future)]) == sorted(keys)
    assert keys_of([_between("2000-01-01 00:00:00", "2001-01-01 00:00:00")]) == []
    # Date-only bounds in a far-east timezone: today there, whole day included.
    tokyo_today = datetime.now(timezone(timedelta(hours=9))).strftime("%Y-%m-%d")
    assert keys_of([_between(tokyo_today, tokyo_today, tz="Asia/Tokyo")]) == sorted(keys)
    before = {"type": "data_row_last_activity_at",
              "value": {"operator": "LESS_THAN_OR_EQUAL", "timezone": "UTC", "value": "2000-01-01"}}  # fmt: skip
    assert keys_of([before]) == []
    labeled = {
        "type": "labeled_at",
        "value": {"operator": "GREATER_THAN_OR_EQUAL", "timezone": None, "value": past},
    }
    assert keys_of([labeled]) == []  # moved by an admin, never labelled
    refused = raw.post(EXPORT, {"input": {"filters": {"projectId": project_id,
                                                     "searchQuery": {"query": [{"type": "colour"}]}}}})  # fmt: skip
    assert "unsupported export filter type 'colour'" in refused.json()["errors"][0]["message"]


def test_last_activity_moves_when_a_row_is_moved(raw, unique_name):
    project_id, keys, _ = make_project(raw, unique_name, 1)
    [first] = rows_of(raw, export(raw, project_id))
    time.sleep(0.01)
    raw.emulator.move_workflow(project_id, "InReview", global_keys=keys)
    [second] = rows_of(raw, export(raw, project_id))
    assert (
        second["data_row"]["details"]["last_activity_at"] > first["data_row"]["details"]["last_activity_at"]
    )
    assert second["projects"][project_id]["project_details"]["workflow_status"] == "IN_REVIEW"


def test_raters_label_240_rows_within_seconds_following_the_ontology(raw, unique_name):
    raw.emulator.set_raters({"seed": 3, "raters": ["ann@x.test", "bob@x.test"], "delay_seconds": 0})
    started = time.monotonic()
    project_id, _keys, _ = make_project(raw, unique_name, 240)
    labelled(raw, project_id, 240)
    assert time.monotonic() - started < 15
    rows = rows_of(raw, export(raw, project_id))
    assert len(rows) == 240
    names = {t["name"] for t in mmc_ontology()["tools"]} | {
        c["name"] for c in mmc_ontology()["classifications"]
    }
    label = rows[0]["projects"][project_id]["labels"][0]
    used = {o["name"] for o in label["annotations"]["objects"]} | {
        c["name"] for c in label["annotations"]["classifications"]
    }
    assert used == names
    assert label["label_details"]["created_by"] in ("ann@x.test", "bob@x.test")
    history = rows[0]["projects"][project_id]["project_details"]["workflow_history"]
    assert [h["next_task_name"] for h in history] == ["Done", "Initial review task", "Initial labeling task"]


def test_consensus_gives_several_labels_and_skip_rate_skips(raw, unique_name):
    raw.emulator.set_raters({"seed": 5, "raters": 4})
    project_id, _, _ = make_project(
        raw, unique_name, 3, consensus={"numberOfLabels": 3, "coveragePercentage": 1}
    )
    labelled(raw, project_id, 3)
    rows = rows_of(raw, export(raw, project_id))
    assert all(
        len({lb["label_details"]["created_by"] for lb in r["projects"][project_id]["labels"]}) == 3
        for r in rows
    )
    raw.emulator.set_raters({"seed": 5, "raters": 2, "skip_rate": 1.0})
    skipped_project, _, _ = make_project(raw, unique_name + "-skip", 2)
    deadline = time.monotonic() + 20
    while Projects(raw).overview(skipped_project)["completedDataRowCount"] == 0:
        counts = {
            c["state"]: c["count"] for c in Projects(raw).overview(skipped_project)["workstreamStateCounts"]
        }
        if counts["Skipped"] == 2:
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    [row, _] = rows_of(raw, export(raw, skipped_project))
    assert row["projects"][skipped_project]["labels"][0]["performance_details"]["skipped"] is True


def test_raters_can_be_switched_on_later_and_bad_configs_are_refused(raw, unique_name):
    project_id, _, _ = make_project(raw, unique_name, 2)
    time.sleep(0.2)
    assert Projects(raw).overview(project_id)["completedDataRowCount"] == 0  # off by default
    state = raw.emulator.set_raters({"seed": 1, "raters": 1})
    assert state["config"]["raters"] == ["rater1@emulator.labelbox.invalid"]
    labelled(raw, project_id, 2)
    bad = raw.emulator.admin_request("POST", "raters", {"raters": 0})
    assert bad.status_code == 400 and "raters must be" in bad.json()["message"]
    unknown = raw.emulator.admin_request("POST", "raters", {"colour": 1})
    assert unknown.status_code == 400 and "unknown key" in unknown.json()["message"]


def test_rater_config_from_the_command_line(tmp_path: Path, emulator_api_key: str):
    config = tmp_path / "raters.json"
    config.write_text(json.dumps({"seed": 2, "raters": 2, "delay_seconds": 0.5}))
    with run_emulator(
        tmp_path / "data", emulator_api_key, extra_args=["--simulate-raters", f"@{config}"]
    ) as em:
        state = em.admin_request("GET", "raters").json()
    assert state["config"]["delay_seconds"] == 0.5 and len(state["config"]["raters"]) == 2
