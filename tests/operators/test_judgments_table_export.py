"""A demo-like round on the emulator (the sample conversations, ontology and simulated raters, two
labels per conversation): the export operator writes the judgments table beside the export, and it
holds one row per comparison the leaderboard of that export counts."""

from __future__ import annotations

import csv
import itertools
import json
import time
from pathlib import Path

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_mmc_provider.client import LabelboxClient
from airflow_mmc_provider.evaluation.judgments_table import COLUMNS, table_columns
from airflow_mmc_provider.operators.exports import LabelboxExportOperator
from airflow_mmc_provider.operators.leaderboard import MmcLeaderboardOperator
from tests.operators.test_round_operators import FakeTI, set_up_round

DATA = Path(__file__).resolve().parents[2] / "example_dags" / "data"
ROWS = 30
SKILLS = {"atlas-large": 1.0, "dynamo-pro": 0.6, "borealis-7b": 0.0, "cirrus-mini": -0.7}


def sample_records(prefix: str) -> list[dict]:
    with (DATA / "conversations.jsonl").open() as lines:
        records = [json.loads(line) for line in itertools.islice(lines, ROWS)]
    return [{**r, "key": f"{prefix}/{r['key']}"} for r in records]


@pytest.fixture
def labelled_round(labelbox_conn, lb_emulator, unique_name):
    """Project, conversations and a batch of two labels each, labelled by simulated raters."""
    lb_emulator.set_raters({"seed": 7, "raters": 3, "skills": SKILLS, "noise": 0.6, "delay_seconds": 0})
    records = sample_records(unique_name)
    consensus = {"number_of_labels": 2, "coverage_percentage": 1.0}
    setup = set_up_round(
        labelbox_conn, unique_name, str(DATA / "ontology.yaml"), records, consensus=consensus
    )
    project_id = setup["project_id"]
    with LabelboxClient(lb_emulator.api_key, lb_emulator.graphql_url) as client:
        deadline = time.monotonic() + 60
        while client.projects.overview(project_id).done < ROWS:
            assert time.monotonic() < deadline, "the simulated raters did not finish"
            time.sleep(0.2)
    return project_id, setup["batch"]["id"], {r["key"]: r["metadata"] for r in records}


def export_op(labelbox_conn: str, project_id: str, batch_id: str, destination: Path, **table: object):
    return LabelboxExportOperator(
        task_id="export",
        project_id=project_id,
        filters={"batch_ids": [batch_id]},
        destination=str(destination),
        labelbox_conn_id=labelbox_conn,
        poll_interval=0.2,
        **table,
    )


def test_the_export_writes_the_judgments_table_the_leaderboard_counts(
    labelled_round, labelbox_conn, tmp_path
):
    project_id, batch_id, metadata = labelled_round
    round_dir = tmp_path / "round-1"
    operator = export_op(
        labelbox_conn, project_id, batch_id, round_dir / "export.ndjson", judgments_table="auto"
    )
    summary = operator.execute({"ti": FakeTI()})  # type: ignore[arg-type]
    MmcLeaderboardOperator(
        task_id="board", export_paths=summary["path"], output_dir=str(round_dir / "leaderboard"), resamples=10
    ).execute({})
    board = json.loads((round_dir / "leaderboard" / "leaderboard.json").read_text())
    counts = board["counts"]

    with (round_dir / "judgments.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    header = list(rows[0])
    assert header == [c.name for c in table_columns(["prompt_category", "source"])]
    assert len(rows) == counts["comparisons"] == summary["judgments"] > 0
    assert len({r["label_id"] for r in rows}) == counts["labels"] == 2 * ROWS
    assert {r["round"] for r in rows} == {"round-1"}
    for row in rows:  # each row carries its conversation's metadata, by global key
        given = metadata[row["global_key"]]
        assert {name: row[f"metadata.{name}"] for name in given} == given
    assert all(int(r["length_a"]) > 0 and int(r["length_b"]) > 0 for r in rows)
    assert {r["outcome"] for r in rows} <= {"a", "b", "tie"}
    # the table's outcomes are the leaderboard's: the best model's wins, counted from the rows
    best = board["models"][0]
    winners = [(r["model_a"], r["model_b"])[r["outcome"] == "b"] for r in rows if r["outcome"] != "tie"]
    assert best["model"] == "atlas-large" and winners.count("atlas-large") == best["wins"]

    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(round_dir / "judgments.parquet")
    assert table.num_rows == len(rows) and table.column_names == header
    folder = summary["path"].rsplit("/", 1)[0]  # beside the export, named as the export's path is
    assert summary["judgments_table"] == {fmt: f"{folder}/judgments.{fmt}" for fmt in ("csv", "parquet")}


def test_csv_only_a_round_key_and_every_judgment_as_the_leaderboard_counts_them(
    labelled_round, labelbox_conn, tmp_path
):
    project_id, batch_id, _ = labelled_round
    operator = export_op(
        labelbox_conn,
        project_id,
        batch_id,
        tmp_path / "e.ndjson",
        judgments_table="csv",
        round_key="week-1",
        per_prompt="all",
    )
    summary = operator.execute({"ti": FakeTI()})  # type: ignore[arg-type]
    assert list(summary["judgments_table"]) == ["csv"] and not (tmp_path / "judgments.parquet").exists()
    board = MmcLeaderboardOperator(
        task_id="board", export_paths=summary["path"], output_dir=str(tmp_path / "lb"), per_prompt="all"
    ).execute({})
    with (tmp_path / "judgments.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert list(reader.fieldnames or ())[: len(COLUMNS)] == [c.name for c in COLUMNS]
    assert {row["round"] for row in rows} == {"week-1"}
    assert len(rows) == board["counts"]["comparisons"]
    assert {row["kind"] for row in rows} == {"ranking", "single_selection", "multi_selection"}


def test_parquet_without_pyarrow_fails_before_the_export_naming_the_extra(
    labelbox_conn, monkeypatch, tmp_path
):
    import airflow_mmc_provider.evaluation.judgments_table as table

    monkeypatch.setattr(table, "_pyarrow_installed", lambda: False)
    operator = export_op(
        labelbox_conn, "no-such-project", "b", tmp_path / "e.ndjson", judgments_table="parquet"
    )
    with pytest.raises(AirflowFailException, match=r"airflow-mmc-provider\[parquet\]"):
        operator.execute({"ti": FakeTI()})  # type: ignore[arg-type]
    assert not list(tmp_path.iterdir())


def test_counting_options_are_checked_when_the_dag_is_parsed() -> None:
    with pytest.raises(ValueError, match="per_prompt must be one of"):
        LabelboxExportOperator(
            task_id="e", project_id="p", destination="x.ndjson", judgments_table="csv", per_prompt="every"
        )
