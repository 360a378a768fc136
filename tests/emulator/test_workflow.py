"""Workflow state per (project, data row), the admin endpoint that moves it, and the overview counts."""

from __future__ import annotations

import pytest

from airflow_mmc_provider.emulator.testing import EmulatorProcessError

from .helpers import Projects, state_counts


@pytest.fixture
def project(gql, unique_name):
    """A project with batch `a` (6 rows) and batch `b` (4 rows); returns (project id, batches, ids, keys)."""
    api = Projects(gql)
    _, ids, keys = api.rows(unique_name, 10)
    project_id = api.create_project(unique_name)["id"]
    batches = {
        "a": api.batch(project_id, "a", data_row_ids=ids[:6])["batch"]["id"],
        "b": api.batch(project_id, "b", global_keys=keys[6:])["batch"]["id"],
    }
    return project_id, batches, ids, keys


def counts(gql, project_id, batch_ids=None):
    return state_counts(Projects(gql).overview(project_id, batch_ids))


def test_rows_start_unlabeled(gql, project):
    project_id, batches, _, _ = project
    overview = Projects(gql).overview(project_id)
    assert state_counts(overview) == {
        "Unlabeled": 10, "InReview": 0, "InRework": 0, "Skipped": 0, "Done": 0, "Labeled": 0, "All": 10,
        "NotInTaskQueue": 0,
    }  # fmt: skip
    assert overview["issues"] == {"totalCount": 0} and overview["completedDataRowCount"] == 0
    queues = {q["queueType"]: (q["name"], q["dataRowCount"]) for q in overview["taskQueues"]}
    assert queues == {
        "INITIAL_LABELING_QUEUE": ("Initial labeling task", 10),
        "MANUAL_REVIEW_QUEUE": ("Initial review task", 0),
        "MANUAL_REWORK_QUEUE": ("Rework (all rejected)", 0),
    }
    assert "issues" not in Projects(gql).overview(project_id, [batches["a"]])  # @include(if: false)


def test_moves_show_up_in_counts_by_batch_and_project_wide(gql, lb_emulator, project):
    project_id, batches, ids, keys = project
    assert lb_emulator.move_workflow(project_id, "Done", data_row_ids=ids[:3]) == {
        "moved": 3,
        "not_in_project": [],
    }
    assert lb_emulator.move_workflow(project_id, "InReview", global_keys=keys[3:5])["moved"] == 2
    assert lb_emulator.move_workflow(project_id, "InRework", batch_id=batches["b"], limit=1)["moved"] == 1
    assert lb_emulator.move_workflow(project_id, "skipped", batch_id=batches["b"], limit=1)["moved"] == 1

    a, b = counts(gql, project_id, [batches["a"]]), counts(gql, project_id, [batches["b"]])
    assert (a["Done"], a["InReview"], a["Unlabeled"], a["Labeled"], a["All"]) == (3, 2, 1, 5, 6)
    assert (b["InRework"], b["Skipped"], b["Unlabeled"], b["Labeled"], b["All"]) == (1, 1, 2, 1, 4)
    both = counts(gql, project_id, [batches["a"], batches["b"], "cnosuchbatch0000000000000"])
    assert both == counts(gql, project_id)
    assert (both["Done"], both["NotInTaskQueue"], both["All"], both["Labeled"]) == (3, 3, 10, 6)
    overview = Projects(gql).overview(project_id, [batches["b"]])
    queues = {q["queueType"]: q["dataRowCount"] for q in overview["taskQueues"]}
    assert queues == {"INITIAL_LABELING_QUEUE": 2, "MANUAL_REVIEW_QUEUE": 0, "MANUAL_REWORK_QUEUE": 1}
    assert Projects(gql).overview(project_id)["completedDataRowCount"] == 3


def test_limited_moves_by_batch_take_rows_not_yet_in_the_state(gql, lb_emulator, project):
    project_id, batches, _, _ = project
    for expected_done in (2, 4, 6, 6):
        lb_emulator.move_workflow(project_id, "Done", batch_id=batches["a"], limit=2)
        assert counts(gql, project_id, [batches["a"]])["Done"] == expected_done


def test_each_row_keeps_a_history_of_its_moves(lb_emulator, project):
    project_id, batches, ids, _ = project
    row = ids[0]
    assert lb_emulator.workflow_of(project_id, row) == {
        "project_id": project_id, "data_row_id": row, "batch_id": batches["a"], "priority": 5,
        "state": "ToLabel", "labeled": False, "history": [],
    }  # fmt: skip
    for state in ("InReview", "InRework", "InReview", "Done"):
        lb_emulator.move_workflow(project_id, state, data_row_ids=[row])
    found = lb_emulator.workflow_of(project_id, row)
    assert (found["state"], found["labeled"]) == ("Done", True)
    assert [(h["from"], h["to"]) for h in found["history"]] == [
        ("ToLabel", "InReview"), ("InReview", "InRework"), ("InRework", "InReview"), ("InReview", "Done"),
    ]  # fmt: skip
    assert all(h["at"].endswith("Z") for h in found["history"])
    lb_emulator.move_workflow(project_id, "ToLabel", data_row_ids=[row])
    assert lb_emulator.workflow_of(project_id, row)["labeled"] is False


def test_labelled_can_be_set_explicitly(gql, lb_emulator, project):
    project_id, _, ids, _ = project
    lb_emulator.move_workflow(project_id, "Done", data_row_ids=ids[:2], labeled=False)
    assert counts(gql, project_id)["Labeled"] == 0
    lb_emulator.move_workflow(project_id, "Skipped", data_row_ids=ids[2:3], labeled=True)
    assert counts(gql, project_id)["Labeled"] == 1


def test_rows_outside_the_project_are_reported_not_moved(lb_emulator, project, unique_name):
    project_id, _, ids, keys = project
    result = lb_emulator.move_workflow(project_id, "Done", data_row_ids=[ids[0], "cnotinproject000000000000"])
    assert result == {"moved": 1, "not_in_project": ["cnotinproject000000000000"]}
    result = lb_emulator.move_workflow(project_id, "Done", global_keys=[keys[1], f"{unique_name}-none"])
    assert result == {"moved": 1, "not_in_project": [f"{unique_name}-none"]}


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"state": "Done", "data_row_ids": []}, 400, "project_id"),
        ({"project_id": "p", "state": "Finished", "data_row_ids": []}, 400, "state must be one of"),
        ({"project_id": "p", "state": "Done"}, 400, "exactly one of"),
        ({"project_id": "p", "state": "Done", "data_row_ids": [], "batch_id": "b"}, 400, "exactly one of"),
        ({"project_id": "p", "state": "Done", "batch_id": "b", "limit": -1}, 400, "limit"),
        ({"project_id": "p", "state": "Done", "batch_id": "b", "colour": "red"}, 400, "unknown key"),
        (
            {"project_id": "cnosuchproject00000000000", "state": "Done", "batch_id": "b"},
            404,
            "does not exist",
        ),
    ],
)
def test_bad_workflow_requests_say_what_is_wrong(lb_emulator, body, status, fragment):
    response = lb_emulator.admin_request("POST", "workflow", body)
    assert response.status_code == status and fragment in response.json()["message"]


def test_reading_a_row_outside_the_project_is_404(lb_emulator, project):
    with pytest.raises(EmulatorProcessError, match="404"):
        lb_emulator.workflow_of(project[0], "cnotinproject000000000000")
