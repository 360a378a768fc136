"""Batches: synchronous and task-based creation, refused rows, names, paging, the processing gate."""

from __future__ import annotations

import json

from airflow_mmc_provider.emulator.testing import EmulatorProcess

from .helpers import (
    ADD_TO_BATCH,
    CREATE_EMPTY_BATCH,
    GET_BATCHES,
    GET_PROJECT,
    TASK,
    Projects,
    RawGraphQL,
    error_of,
    spec,
)

PROCESSED_IDS = (
    "query CheckAllDataRowsHaveBeenProcessedPyApi($dataRowIds: [ID!]) { "
    "queryAllDataRowsHaveBeenProcessed(dataRowIds:$dataRowIds) { allDataRowsHaveBeenProcessed } }"
)
PROCESSED_KEYS = (
    "query CheckAllDataRowsHaveBeenProcessedPyApi($globalKeys: [ID!]) { "
    "queryAllDataRowsHaveBeenProcessed(globalKeys:$globalKeys) { allDataRowsHaveBeenProcessed } }"
)
MISSING = "cnosuchdatarow00000000000"


def processed(gql: RawGraphQL, *, ids=None, keys=None) -> bool:
    if ids is not None:
        result = gql.data(PROCESSED_IDS, {"dataRowIds": ids})
    else:
        result = gql.data(PROCESSED_KEYS, {"globalKeys": keys})
    flag: bool = result["queryAllDataRowsHaveBeenProcessed"]["allDataRowsHaveBeenProcessed"]
    return flag


def start_async(gql: RawGraphQL, project_id: str, name: str, **rows) -> tuple[str, str]:
    """createEmptyBatch then addDataRowsToBatchAsync, as the SDK does from 1,000 rows; (batch, task)."""
    batch_id = gql.data(
        CREATE_EMPTY_BATCH,
        {"projectId": project_id, "input": {"name": name, "consensusSettings": None}},
        path="/_gql",
    )["project"]["createEmptyBatch"]["id"]
    task_id = add_async(gql, project_id, batch_id, **rows)
    return batch_id, task_id


def add_async(gql: RawGraphQL, project_id: str, batch_id: str, *, ids=None, keys=None, priority=5) -> str:
    payload = {"batchId": batch_id, "dataRowIds": ids, "globalKeys": keys, "priority": priority}
    result = gql.data(ADD_TO_BATCH, {"projectId": project_id, "input": payload}, path="/_gql")
    task_id: str = result["project"]["addDataRowsToBatchAsync"]["taskId"]
    return task_id


def test_sync_batches_by_id_and_by_global_key(gql, unique_name):
    api = Projects(gql)
    _, ids, keys = api.rows(unique_name, 6)
    project = api.create_project(unique_name)["id"]
    assert processed(gql, ids=ids) and processed(gql, keys=keys)

    consensus = {"numberOfLabels": 2, "coveragePercentage": 0.5}
    by_id = api.batch(project, "by-id", data_row_ids=ids[:3], priority=3, consensus=consensus)
    assert by_id["failedDataRowIds"] == []
    batch = by_id["batch"]
    assert (batch["name"], batch["size"], batch["consensusSettingsJson"]) == ("by-id", 3, consensus)
    assert len(batch["id"]) == 25 and batch["createdAt"].endswith("Z")

    by_key = api.batch(project, "by-key", global_keys=keys[3:])  # the SDK sends dataRowIds: []
    assert (by_key["batch"]["size"], by_key["batch"]["consensusSettingsJson"]) == (3, None)
    assert api.get_batch(project, batch["id"]) == batch
    assert (
        gql.data("query($id: ID!){project(where: {id: $id}){dataRowCount}}", {"id": project})["project"][
            "dataRowCount"
        ]
        == 6
    )


def test_unknown_rows_and_rows_in_another_batch_are_refused_the_rest_added(gql, unique_name):
    api = Projects(gql)
    _, ids, keys = api.rows(unique_name, 5)
    project = api.create_project(unique_name)["id"]
    api.batch(project, "first", data_row_ids=ids[:2])
    assert processed(gql, ids=[MISSING])  # nothing is processing it: it will never come

    mixed = api.batch(
        project,
        "second",
        data_row_ids=[ids[1], ids[2], MISSING, ids[2]],
        global_keys=[keys[3], "no-such-key", keys[2]],
    )
    assert mixed["failedDataRowIds"] == [ids[1], MISSING, "no-such-key"]  # in request order
    assert mixed["batch"]["size"] == 2  # ids[2] (named three times) and keys[3]

    # A row may be in one batch per project, but in batches of several projects.
    other = api.create_project(f"{unique_name}-other")["id"]
    assert api.batch(other, "first", data_row_ids=ids[:2])["failedDataRowIds"] == []


def test_a_batch_nothing_can_be_added_to_is_not_created(gql, unique_name):
    api = Projects(gql)
    _, ids, _ = api.rows(unique_name, 1)
    project = api.create_project(unique_name)["id"]
    api.batch(project, "taken", data_row_ids=ids)
    error = error_of(api.create_batch(project, "empty", data_row_ids=[ids[0], MISSING]))
    assert error["extensions"]["exception"]["status"] == 400
    assert "No data row could be added" in error["message"] and MISSING in error["message"]
    _, more, _ = api.rows(f"{unique_name}-more", 1)
    assert api.batch(project, "empty", data_row_ids=more)["batch"]["size"] == 1  # the name was never taken


def test_batch_names_are_unique_within_a_project(gql, unique_name):
    api = Projects(gql)
    _, ids, _ = api.rows(unique_name, 2)
    project = api.create_project(unique_name)["id"]
    api.batch(project, "same", data_row_ids=ids[:1])
    for response in (
        api.create_batch(project, "same", data_row_ids=ids[1:]),
        gql.post(CREATE_EMPTY_BATCH, {"projectId": project, "input": {"name": "same"}}, path="/_gql"),
    ):
        error = error_of(response)
        assert error["extensions"]["code"] == "RESOURCE_CONFLICT"  # the SDK: ResourceConflict
        assert "same" in error["message"] and "unique" in error["message"]
    other = api.create_project(f"{unique_name}-other")["id"]
    api.batch(other, "same", data_row_ids=ids[1:])


def test_bad_batch_arguments_are_refused(gql, unique_name):
    api = Projects(gql)
    _, ids, _ = api.rows(unique_name, 1)
    project = api.create_project(unique_name)["id"]
    for kwargs, fragment in (
        ({"data_row_ids": ids, "priority": 0}, "priority"),
        ({"data_row_ids": ids, "priority": 6}, "priority"),
        ({"data_row_ids": []}, "at least one data row"),
        (
            {"data_row_ids": ids, "consensus": {"numberOfLabels": 0, "coveragePercentage": 0.5}},
            "numberOfLabels",
        ),
        (
            {"data_row_ids": ids, "consensus": {"numberOfLabels": 2, "coveragePercentage": 1.5}},
            "coveragePercentage",
        ),
    ):
        error = error_of(api.create_batch(project, "b", **kwargs))
        assert error["extensions"]["exception"]["status"] == 400 and fragment in error["message"], error
    assert error_of(api.create_batch("cnosuchproject00000000000", "b", data_row_ids=ids))["extensions"][
        "code"
    ] == ("RESOURCE_NOT_FOUND")


def test_large_batches_through_a_task(gql, unique_name):
    """1,500 rows through createEmptyBatch + addDataRowsToBatchAsync; refusals in the task result."""
    api = Projects(gql)
    _, ids, keys = api.rows(unique_name, 1500)
    project = api.create_project(unique_name)["id"]
    api.batch(project, "small", data_row_ids=ids[:10])

    batch_id, task_id = start_async(gql, project, "big", ids=[*ids, MISSING])
    task = gql.wait(task_id)
    assert (task["status"], task["type"], task["errors"]) == ("COMPLETE", "add-data-rows-to-batch", None)
    assert json.loads(task["result"]) == {"failedDataRowIds": [*ids[:10], MISSING]}
    assert api.get_batch(project, batch_id)["size"] == 1490
    # Visible in the user's task list like upsert tasks.
    listed = gql.data(TASK, {"param_0": task_id, "param_1": gql.user_id()})["user"]["createdTasks"]
    assert [t["id"] for t in listed] == [task_id]

    # Repeating the add (e.g. after a lost answer) keeps the rows silently, by key this time.
    again = gql.wait(add_async(gql, project, batch_id, keys=keys[10:]))
    assert (again["status"], again["result"]) == ("COMPLETE", None)
    assert api.get_batch(project, batch_id)["size"] == 1490


def test_an_add_task_that_adds_nothing_fails_with_its_reasons_as_json(gql, unique_name):
    api = Projects(gql)
    project = api.create_project(unique_name)["id"]
    batch_id, task_id = start_async(gql, project, "nothing", keys=["no-such-key"])
    task = gql.wait(task_id)
    assert task["status"] == "FAILED" and "no-such-key" in task["errors"]
    result = json.loads(task["result"])  # the SDK json.loads a failed batch task's result
    assert result["failedDataRowIds"] == ["no-such-key"] and "message" in result
    assert api.get_batch(project, batch_id)["size"] == 0


def test_adding_to_a_batch_of_another_project_is_resource_not_found(gql, unique_name):
    api = Projects(gql)
    _, ids, _ = api.rows(unique_name, 1)
    first, second = api.create_project(unique_name)["id"], api.create_project(f"{unique_name}-2")["id"]
    batch_id, _ = start_async(gql, first, "mine", ids=ids)
    payload = {"batchId": batch_id, "dataRowIds": ids, "globalKeys": None, "priority": 5}
    error = error_of(gql.post(ADD_TO_BATCH, {"projectId": second, "input": payload}, path="/_gql"))
    assert error["extensions"]["code"] == "RESOURCE_NOT_FOUND"


def test_batches_are_listed_oldest_first_in_cursor_pages(gql, unique_name):
    api = Projects(gql)
    _, ids, _ = api.rows(unique_name, 5)
    project = api.create_project(unique_name)["id"]
    made = [api.batch(project, f"b{i}", data_row_ids=[row])["batch"]["id"] for i, row in enumerate(ids)]
    seen, cursor, pages = [], None, 0
    while True:
        result = gql.data(GET_BATCHES, {"projectId": project, "from": cursor, "first": 2}, path="/_gql")
        page = result["project"]["batches"]
        seen += [node["id"] for node in page["nodes"]]
        pages, cursor = pages + 1, page["pageInfo"]["endCursor"]
        if not cursor:
            break
    assert (seen, pages) == (made, 3)
    assert api.get_batch(project, MISSING) is None


def test_the_processing_gate_waits_for_a_running_upsert(fresh_emulator, unique_name):
    fresh_emulator.task_delay = 0.5
    with fresh_emulator:
        gql = RawGraphQL(fresh_emulator)
        dataset = gql.create_dataset(unique_name)
        key = f"{unique_name}-late"
        task = gql.start_upsert(
            [spec({"row_data": "https://example.com/c.json", "dataset_id": dataset, "global_key": key})]
        )
        assert not processed(gql, keys=[key])
        assert processed(gql, ids=[])  # nothing asked, nothing to wait for
        assert gql.wait(task["id"])["status"] == "COMPLETE"
        assert processed(gql, keys=[key])


def test_projects_batches_and_states_survive_a_restart_and_unfinished_adds_resume(
    fresh_emulator: EmulatorProcess, unique_name
):
    gql = RawGraphQL(fresh_emulator.start())
    api = Projects(gql)
    _, ids, _ = api.rows(unique_name, 4)
    project = api.create_project(unique_name)["id"]
    first = api.batch(project, "first", data_row_ids=ids[:2])["batch"]["id"]
    fresh_emulator.move_workflow(project, "Done", data_row_ids=ids[:1])
    editor = gql.data('{labelingFrontends(where: {name: "Editor"}){id}}')["labelingFrontends"]
    fresh_emulator.stop()

    fresh_emulator.task_delay = 60  # the add task cannot finish before the stop
    gql = RawGraphQL(fresh_emulator.start())
    batch_id, task_id = start_async(gql, project, "second", ids=ids[2:])
    assert fresh_emulator.stop() == 0

    fresh_emulator.task_delay = 0
    gql = RawGraphQL(fresh_emulator.start())
    api = Projects(gql)
    assert gql.wait(task_id)["status"] == "COMPLETE"
    assert (api.get_batch(project, first)["size"], api.get_batch(project, batch_id)["size"]) == (2, 2)
    assert fresh_emulator.workflow_of(project, ids[0])["state"] == "Done"

    fresh_emulator.reset()
    assert error_of(gql.post(GET_PROJECT, {"param_0": project}))["extensions"]["code"] == "RESOURCE_NOT_FOUND"
    assert gql.data('{labelingFrontends(where: {name: "Editor"}){id}}')["labelingFrontends"] == editor


def test_a_data_directory_of_the_previous_version_is_upgraded(tmp_path, monkeypatch):
    from airflow_mmc_provider.emulator.store import Store, schema

    with monkeypatch.context() as patch:
        patch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])  # what the previous version had
        patch.setattr(Store, "_ensure_editor", lambda self: None)
        old = Store(tmp_path)
        old.create_dataset("kept", None)
        old.close()
    store = Store(tmp_path)
    try:
        assert [d.name for d in store.list_datasets()] == ["kept"]
        assert store.editor_frontend().name == "Editor"
        assert store.list_projects() == []
    finally:
        store.close()
