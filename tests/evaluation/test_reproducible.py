"""The same round against two fresh emulators gives a byte-identical leaderboard JSON.

Each emulator assigns its own data row ids, label ids and timestamps; the round (records, ontology,
batch with consensus, simulated raters of one seed) is the same. Everything random in the
leaderboard (bootstrap buckets, the text samples) must therefore be keyed by what the user gave
(global keys, model config names, rater emails), and the JSON must hold nothing the service
assigned. The round goes through the client (upload, batch, streamed export) and the leaderboard
operator's own computation and JSON, without Airflow's scheduler. The other tests here check the
same rule on records in this process.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from pathlib import Path

from msgspec.structs import replace

from airflow_mmc_provider.client import LabelboxClient
from airflow_mmc_provider.client.batches import BatchRows
from airflow_mmc_provider.emulator.testing import run_emulator
from airflow_mmc_provider.evaluation import LeaderboardAccumulator
from airflow_mmc_provider.mmc.conversation import iter_payloads
from airflow_mmc_provider.mmc.export import ClassificationAnswer, ExportRow, LabelRecord
from airflow_mmc_provider.mmc.ontology import build_ontology, parse_ontology_spec
from airflow_mmc_provider.operators.leaderboard import MmcLeaderboardOperator

from . import records as R
from .test_leaderboard import random_rows

DATA = Path(__file__).resolve().parents[2] / "example_dags" / "data"
ROWS = 40
RATERS = {
    "seed": 17,
    "raters": 4,
    "skills": {"atlas-large": 1.0, "dynamo-pro": 0.6, "borealis-7b": 0.0, "cirrus-mini": -0.7},
    "noise": 0.6,
    "position_bias": 0.15,
}


def run_round(data_dir: Path, api_key: str, prefix: str = "week-1/") -> tuple[bytes, bytes]:
    """(the export, the leaderboard JSON) of one round on a fresh emulator under `data_dir`."""
    with (
        run_emulator(data_dir, api_key, extra_args=("--simulate-raters", json.dumps(RATERS))) as emulator,
        LabelboxClient(api_key, emulator.graphql_url) as client,
    ):
        spec = parse_ontology_spec((DATA / "ontology.yaml").read_text(), fmt="yaml")
        ontology = client.ontologies.create("evaluation", build_ontology(spec))
        project, _ = client.projects.get_or_create_model_chat_evaluation("round")
        client.projects.connect_ontology(project.id, ontology.id)
        dataset, _ = client.datasets.get_or_create("conversations")
        with (DATA / "conversations.jsonl").open() as lines:
            payloads = list(iter_payloads(itertools.islice(lines, ROWS), global_key_prefix=prefix))
        report = client.upsert_data_rows(dataset.id, payloads, poll_interval=0.1)
        keys = [row.global_key for row in report.succeeded]
        consensus = {"number_of_labels": 2, "coverage_percentage": 1.0}
        client.batches.get_or_create(project.id, "round-1", BatchRows(global_keys=keys, consensus=consensus))
        deadline = time.monotonic() + 60
        while client.projects.overview(project.id).done < ROWS:
            assert time.monotonic() < deadline, "the simulated raters did not finish"
            time.sleep(0.1)
        export_path = data_dir.parent / f"{data_dir.name}-export.ndjson"
        task_id = client.exports.start(project.id, params={"data_row_details": True, "label_details": True})
        client.tasks.wait(task_id, poll_interval=0.1)
        with export_path.open("wb") as out:
            client.exports.copy_to(task_id, out)
    board_dir = data_dir.parent / f"{data_dir.name}-leaderboard"
    MmcLeaderboardOperator(
        task_id="leaderboard", export_paths=str(export_path), output_dir=str(board_dir), resamples=200, seed=3
    ).execute({})
    return export_path.read_bytes(), (board_dir / "leaderboard.json").read_bytes()


def test_the_same_round_on_two_fresh_emulators_gives_the_same_leaderboard_json(
    tmp_path: Path, emulator_api_key: str
) -> None:
    first_export, first = run_round(tmp_path / "first", emulator_api_key)
    second_export, second = run_round(tmp_path / "second", emulator_api_key)
    # The two services did assign ids of their own: the exports differ, the leaderboards must not.
    assert first_export != second_export
    assert first_export.count(b"\n") == second_export.count(b"\n") == ROWS
    board = json.loads(first)
    assert board["counts"]["rows"] == ROWS and board["counts"]["labels"] == 2 * ROWS
    assert board["text_samples"] and board["agreement"]["preferred"]["units"] > 0
    assert first == second


def leaderboard_json(rows: list[list[LabelRecord]], **options: int) -> str:
    board = LeaderboardAccumulator(seed=5, **options).add_labels(itertools.chain.from_iterable(rows))
    return json.dumps(board.leaderboard(resamples=200).to_dict(), indent=2)


def test_ids_the_service_assigns_change_nothing_in_the_json() -> None:
    rows = random_rows(21)
    rng = random.Random(1)
    reassigned = []
    for labels in rows:
        row_id = f"c{rng.getrandbits(96):024x}"  # a new upload: new data row and label ids
        reassigned.append(
            [replace(lb, data_row_id=row_id, label_id=f"c{rng.getrandbits(96):024x}") for lb in labels]
        )
    assert leaderboard_json(reassigned) == leaderboard_json(rows)
    # ... nor the order it exports them in, were it by id: rows shuffled, labels of a row reversed
    reordered = [labels[::-1] for labels in random.Random(2).sample(reassigned, len(reassigned))]
    assert leaderboard_json(reordered) == leaderboard_json(rows)
    # The ids are still there for a caller who wants to open a sample in Labelbox, just not in the JSON.
    board = LeaderboardAccumulator(seed=5).add_labels(itertools.chain.from_iterable(reassigned)).leaderboard()
    sample = board.text_samples["reason"]["samples"][0]
    assert sample["data_row_id"].startswith("c") and sample["global_key"].startswith("gk-")
    assert (
        "data_row_id" not in json.loads(leaderboard_json(reassigned))["text_samples"]["reason"]["samples"][0]
    )


def test_rows_without_global_keys_fall_back_to_their_data_row_ids() -> None:
    rows = random_rows(22, 60)
    keyless = [[replace(lb, global_key=None) for lb in labels] for labels in rows]
    by_rows = LeaderboardAccumulator(seed=5).add_rows(
        ExportRow(labels[0].data_row_id, None, "project", tuple(labels)) for labels in keyless
    )
    assert json.dumps(by_rows.leaderboard(resamples=200).to_dict(), indent=2) == leaderboard_json(keyless)
    assert leaderboard_json(keyless) != leaderboard_json(rows)  # other keys, other buckets


def test_one_rater_giving_the_same_answer_in_two_projects_is_sampled_alike_in_any_order() -> None:
    def answer(project: str, row_id: str, rater: str, text: str) -> list[LabelRecord]:
        reason = ClassificationAnswer("reason", "text", "global", text=text)
        label = R.label(row_id, f"{project}-{row_id}", rater=rater, project=project, classifications=[reason])
        return [replace(label, global_key="shared-conversation")]

    rows = [answer(p, f"{p}-row", "ann@example.com", "too long") for p in ("p1", "p2")]
    rows += [answer("p1", f"row-{k}", f"rater-{k}@example.com", f"reason {k}") for k in range(6)]
    seen = set()
    for seed in range(12):
        shuffled = random.Random(seed).sample(rows, len(rows))
        seen.add(leaderboard_json(shuffled, text_sample_size=2))
    assert len(seen) == 1
