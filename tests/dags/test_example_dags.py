"""Example DAGs run end to end under `airflow dags test` against the emulator."""

from __future__ import annotations

import json
from pathlib import Path

from airflow_mmc_provider.client import LabelboxClient

SAMPLE = Path(__file__).resolve().parents[2] / "example_dags" / "data" / "data_rows.jsonl"


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
        assert client.projects.ontology_id(project.id) == ontology.id
