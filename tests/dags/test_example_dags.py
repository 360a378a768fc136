"""Example DAGs run end to end under `airflow dags test` against the emulator."""

from __future__ import annotations

import csv
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pendulum

from airflow_mmc_provider.client import LabelboxClient

SAMPLE = Path(__file__).resolve().parents[2] / "example_dags" / "data" / "data_rows.jsonl"
CONVERSATIONS = SAMPLE.with_name("conversations.jsonl")


def test_upload_data_rows_dag_twice_creates_once(run_dag, lb_emulator, unique_name, tmp_path):
    # The sample with global keys of this test's own, so the session's shared emulator cannot interfere.
    rows = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    for row in rows:
        row["global_key"] = f"{unique_name}-{row['global_key']}"
    source = tmp_path / "rows.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    keys = [r["global_key"] for r in rows]
    seen = []
    with LabelboxClient(lb_emulator.api_key, lb_emulator.graphql_url) as client:
        for _ in range(2):
            result = run_dag("mmc_upload_data_rows", {"dataset_name": unique_name, "source": str(source)})
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
            seen.append(client.data_rows.data_row_ids_for_global_keys(keys))
        (dataset,) = client.datasets.find_by_name(unique_name)
    assert all(seen[0]) and seen[0] == seen[1]
    assert dataset.row_count == len(rows)


def test_round_setup_twice_creates_everything_once(run_dag, lb_emulator, unique_name):
    conf = {
        "ontology_name": f"{unique_name}-ontology",
        "project_name": f"{unique_name}-project",
        "dataset_name": f"{unique_name}-dataset",
        "global_key_prefix": f"{unique_name}/",
        "batch_name": "round-1",
        "setup_only": True,
    }
    with LabelboxClient(lb_emulator.api_key, lb_emulator.graphql_url) as client:
        snapshots = []
        for _ in range(2):
            result = run_dag("mmc_evaluation_round", conf)
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
            (project,) = client.projects.find_by_name(conf["project_name"])
            (dataset,) = client.datasets.find_by_name(conf["dataset_name"])
            (ontology,) = client.ontologies.find_by_name(conf["ontology_name"])
            batch = client.batches.find_by_name(project.id, "round-1")
            assert batch is not None
            snapshots.append((project.id, dataset.id, ontology.id, batch.id, batch.size, dataset.row_count))
        assert snapshots[0] == snapshots[1]
        assert snapshots[0][4:] == (240, 240)
        # the round's keys carry the round (the batch name, as round_key is left empty)
        first_key = json.loads(CONVERSATIONS.read_text().splitlines()[0])["key"]
        assert all(client.data_rows.data_row_ids_for_global_keys([f"{unique_name}/round-1/{first_key}"]))
        assert client.projects.ontology_id(project.id) == ontology.id


SKILLS = {"atlas-large": 1.0, "dynamo-pro": 0.5, "borealis-7b": 0.0, "cirrus-mini": -0.8}


def xcom_values(airflow_home: Path, dag_id: str, task_id: str) -> list[Any]:
    """The return values a task pushed, read from the metadata database `airflow dags test` used."""
    with closing(sqlite3.connect(airflow_home / "airflow.db")) as db:
        rows = db.execute(
            "SELECT value FROM xcom WHERE dag_id = ? AND task_id = ? AND key = 'return_value'",
            (dag_id, task_id),
        ).fetchall()
    return [json.loads(value) for (value,) in rows]


def test_whole_round_then_scheduled_export_then_running_leaderboard(
    run_dag, airflow_home, lb_emulator, unique_name, tmp_path
):
    lb_emulator.set_raters({"seed": 11, "raters": 4, "skills": SKILLS, "noise": 0.5})
    project = f"{unique_name}-project"
    conf = {
        "ontology_name": f"{unique_name}-ontology",
        "project_name": project,
        "dataset_name": f"{unique_name}-dataset",
        "global_key_prefix": f"{unique_name}/",
        "batch_name": "round-1",
        "output_dir": str(tmp_path / "rounds"),
        "prelabels": str(Path(__file__).resolve().parents[2] / "example_dags" / "data" / "prelabels.jsonl"),
    }
    result = run_dag("mmc_evaluation_round", conf)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # The sample's 60 pre-labels arrived: the import the task returned (its XCom) accepted all 60.
    with LabelboxClient(lb_emulator.api_key, lb_emulator.graphql_url) as client:
        (project_id,) = (p.id for p in client.projects.find_by_name(project))
        pushed = xcom_values(airflow_home, "mmc_evaluation_round", "import_prelabels")
        (summary,) = (value for value in pushed if value["project_id"] == project_id)
        assert (summary["import_type"], summary["accepted"], summary["failed"]) == ("model_assisted", 60, 0)
        (found,) = (
            client.imports.find(summary["project_id"], n, "model_assisted") for n in summary["imports"]
        )
        assert found is not None and found.state == "FINISHED"
        statuses = [s["status"] for s in client.imports.read_report(found.status_file_url)]
    assert statuses == ["SUCCESS"] * 60
    board_dir = tmp_path / "rounds" / project / "round-1" / "leaderboard"
    board = json.loads((board_dir / "leaderboard.json").read_text())
    assert [row["model"] for row in board["models"]] == sorted(SKILLS, key=SKILLS.get, reverse=True)
    assert board["counts"]["rows"] == 240
    assert (board_dir / "report.html").read_text().count("<svg") >= 3
    assert (board_dir / "leaderboard.csv").read_text().startswith("rank,model,rating")
    # the round's judgments table: one row per comparison its leaderboard counts
    with (board_dir.parent / "judgments.csv").open(newline="") as table:
        assert sum(1 for _ in csv.DictReader(table)) == board["counts"]["comparisons"]

    # The scheduled export of the interval that holds the labelling, then the asset-driven leaderboard.
    exports = tmp_path / "exports"
    # A run at tomorrow's midnight covers today, [today, tomorrow), when the labels were made.
    tomorrow = pendulum.now("UTC").start_of("day").add(days=1)
    export = run_dag(
        "mmc_scheduled_export",
        {"project_name": project, "output_dir": str(exports)},
        logical_date=tomorrow.to_iso8601_string(),
    )
    assert export.returncode == 0, export.stdout[-3000:] + export.stderr[-3000:]
    files = list((exports / project).glob("*.ndjson"))
    assert len(files) == 1 and len(files[0].read_text().splitlines()) == 240
    running = run_dag("mmc_leaderboard", {"project_name": project, "output_dir": str(exports)})
    assert running.returncode == 0, running.stdout[-3000:] + running.stderr[-3000:]
    combined = json.loads((exports / project / "leaderboard" / "leaderboard.json").read_text())
    assert combined["models"][0]["model"] == "atlas-large"
