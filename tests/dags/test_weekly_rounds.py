"""The weekly cycle under `airflow dags test` for two consecutive weeks against the emulator.

Week 2 runs on the same evaluation set with new model versions: it must make a second round (its
own data rows and batch) and leave week 1 as it was, its labels on the content they judged; the
cross-round leaderboard, scheduled on the round's asset, then holds both rounds.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from airflow_mmc_provider.client import LabelboxClient

# Latent skills of this cycle's model versions: atlas improves in week 2 and cirrus regresses, each
# by 1.6 (about 280 rating points: beyond the intervals of 40 prompts with 2 labels each); dynamo's
# new version is as good as the old; borealis-7b is the fixed reference, the same version both weeks.
SKILLS = {
    "atlas-large-2026-04-06": 0.2,
    "atlas-large-2026-04-13": 1.8,
    "dynamo-pro-2026-04-06": 0.6,
    "dynamo-pro-2026-04-13": 0.6,
    "borealis-7b": 0.0,
    "cirrus-mini-2026-04-06": -0.2,
    "cirrus-mini-2026-04-13": -1.8,
}
# `airflow dags test` at each Monday 06:00 runs the week that just ended: [previous Monday, Monday)
SAMPLE = Path(__file__).resolve().parents[2] / "example_dags" / "data" / "weekly"
CATEGORIES = {
    json.loads(line)["category"] for line in (SAMPLE / "evaluation_set.jsonl").read_text().splitlines()
}
WEEKS = {"week-2026-04-06": "2026-04-13T06:00:00+00:00", "week-2026-04-13": "2026-04-20T06:00:00+00:00"}


def exported(client: LabelboxClient, project_id: str, batch_id: str) -> dict[str, tuple[str, list[str]]]:
    """global key -> (row_data, label ids) of one batch, as Labelbox exports it now."""
    task = client.exports.start(
        project_id, params={"data_row_details": True}, filters={"batch_ids": [batch_id]}
    )
    client.tasks.wait(task, poll_interval=0.2)
    out = io.BytesIO()
    client.exports.copy_to(task, out)
    return rows_of(out.getvalue().decode(), project_id)


def rows_of(text: str, project_id: str) -> dict[str, tuple[str, list[str]]]:
    rows = {}
    for line in text.splitlines():
        item = json.loads(line)
        labels = item["projects"][project_id]["labels"]
        rows[item["data_row"]["global_key"]] = (item["data_row"]["row_data"], sorted(x["id"] for x in labels))
    return rows


def test_two_weeks_make_two_rounds_and_leave_week_one_untouched(run_dag, lb_emulator, unique_name, tmp_path):
    lb_emulator.set_raters({"seed": 5, "raters": 4, "skills": SKILLS, "noise": 0.4})
    output = tmp_path / "rounds"
    conf: dict[str, Any] = {
        "project_name": f"{unique_name}-project",
        "dataset_name": f"{unique_name}-dataset",
        "ontology_name": f"{unique_name}-ontology",
        "output_dir": str(output),
    }
    cross_conf = {"project_name": conf["project_name"], "output_dir": str(output)}
    project_dir = output / conf["project_name"]
    with LabelboxClient(lb_emulator.api_key, lb_emulator.graphql_url) as client:
        for round_key, logical_date in WEEKS.items():
            result = run_dag("mmc_weekly_rounds", conf, logical_date=logical_date)
            assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
            cross = run_dag("mmc_weekly_leaderboard", cross_conf)
            assert cross.returncode == 0, cross.stdout[-4000:] + cross.stderr[-4000:]
            if round_key == "week-2026-04-06":
                (project,) = client.projects.find_by_name(conf["project_name"])
                week_one = rows_of((project_dir / round_key / "export.ndjson").read_text(), project.id)
        batches = {key: client.batches.find_by_name(project.id, key) for key in WEEKS}
        assert all(b is not None and b.size == 40 for b in batches.values())
        assert len({b.id for b in batches.values() if b}) == 2
        (dataset,) = client.datasets.find_by_name(conf["dataset_name"])
        assert dataset.row_count == 80  # a new row per prompt and week, none rewritten
        # week 1's rows, content and labels as they were when week 1 was exported
        week_one_batch = batches["week-2026-04-06"]
        assert week_one_batch is not None
        assert exported(client, project.id, week_one_batch.id) == week_one
    assert len(week_one) == 40 and all(key.startswith("week-2026-04-06/") for key in week_one)
    assert all(labels for _, labels in week_one.values())

    # each round: its leaderboard, its state and its judgments table
    for round_key in WEEKS:
        board = json.loads((project_dir / round_key / "leaderboard" / "leaderboard.json").read_text())
        state = json.loads((project_dir / round_key / "leaderboard" / "state.json").read_text())
        assert state["version"] == 2 and state["round"]["key"] == round_key
        assert set(state["breakdowns"]["metadata"]["category"]) == CATEGORIES  # for the report
        counts = board["counts"]  # every judgment that compared two models is in one turn
        compared = counts["judgments_total"] - counts["judgments_without_outcomes"]
        assert sum(c["judgments"] for c in state["breakdowns"]["turns"].values()) == compared
        with (project_dir / round_key / "judgments.csv").open(newline="") as handle:
            table = list(csv.DictReader(handle))
        assert len(table) == board["counts"]["comparisons"] and {r["round"] for r in table} == {round_key}
        assert {r["metadata.category"] for r in table} == CATEGORIES  # every row sliceable by category

    # the cross-round leaderboard: both rounds, changes per family against the reference model
    rounds = json.loads((project_dir / "cross-round" / "rounds.json").read_text())
    assert [r["key"] for r in rounds["rounds"]] == list(WEEKS)
    assert rounds["settings"]["reference_model"] == "borealis-7b"
    families = {f["family"]: f for f in rounds["families"]}
    assert families["atlas-large"]["versions"] == ["atlas-large-2026-04-06", "atlas-large-2026-04-13"]
    improved = families["atlas-large"]["rounds"][1]["change"]
    regressed = families["cirrus-mini"]["rounds"][1]["change"]
    assert improved["previous_round"] == "week-2026-04-06"
    assert improved["significant"] and improved["ci_low"] > 0
    assert regressed["significant"] and regressed["ci_high"] < 0
    reference = families["borealis-7b"]["rounds"][1]["change"]
    assert reference["difference"] is None and "reference model" in reference["not_comparable"]
    # the pooled leaderboard is one fit over both rounds' counts
    pooled = json.loads((project_dir / "cross-round" / "leaderboard.json").read_text())
    assert pooled["counts"]["labels"] == sum(
        json.loads((project_dir / key / "leaderboard" / "leaderboard.json").read_text())["counts"]["labels"]
        for key in WEEKS
    )
