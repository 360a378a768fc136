"""A weekly evaluation cycle: the same evaluation set every week against this week's model versions.

`mmc_weekly_rounds` runs once a week; each run is one round named from its data interval
(``week-2026-04-06`` for the week that starts on Monday 6 April 2026):

1. ensure the ontology, the project and the dataset (the same ones every week);
2. join the fixed evaluation set with this week's responses (one JSONL per model version, in the
   harness's own field names, read through a declared mapping) and upload the conversations under
   the round's global keys (``week-2026-04-06/<record key>``): a new week creates new data rows and
   never touches an earlier week's, whose labels stay on the content they judged;
3. create the round's batch (named as the round), wait until it is labelled, export it with its
   judgments table (CSV, and Parquet with the ``[parquet]`` extra);
4. compute the round's leaderboard and its persisted state (``leaderboard/state.json``).

`mmc_weekly_leaderboard` is scheduled on the round leaderboard asset: it merges every round's state
(reading no export again and counting no label twice) into the cross-round leaderboard: ratings
per round with intervals, the change since the previous round against a reference model present
in both, per model family (``atlas-large-*`` versions are one family), and the pooled rating.

Catch-up is off: a new deployment starts with this week. A past week is run with Airflow's own
backfill (``airflow backfill create --dag-id mmc_weekly_rounds --from-date 2026-04-06 --to-date
2026-04-12``: the run of logical date 2026-04-06 06:00, whose data interval is that week), which
names the round from that week's interval like any scheduled run. ``airflow dags test`` takes the
date the run happens instead: ``airflow dags test mmc_weekly_rounds 2026-04-13T06:00:00+00:00``
runs the week that ended then, ``week-2026-04-06``. Under ``dags test`` nothing is scheduled, so
run ``mmc_weekly_leaderboard`` yourself after it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pendulum
from airflow.sdk import Asset, Param, dag
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_mmc_provider.operators.batches import LabelboxCreateBatchOperator
from airflow_mmc_provider.operators.conversations import LabelboxUploadConversationsOperator
from airflow_mmc_provider.operators.datasets import LabelboxCreateDatasetOperator
from airflow_mmc_provider.operators.exports import LabelboxExportOperator
from airflow_mmc_provider.operators.leaderboard import MmcLeaderboardOperator
from airflow_mmc_provider.operators.ontologies import LabelboxCreateOntologyOperator
from airflow_mmc_provider.operators.projects import LabelboxCreateProjectOperator
from airflow_mmc_provider.operators.rounds import MmcCrossRoundLeaderboardOperator
from airflow_mmc_provider.sensors.labeling import LabelboxLabelingProgressSensor

DATA = Path(__file__).parent / "data"
WEEKLY = DATA / "weekly"
OUTPUT_DIR = str(Path(tempfile.gettempdir()) / "mmc-weekly")
LABELING_TIMEOUT = pendulum.duration(days=6)  # raters get the week; the wait is deferred meanwhile
ROUND_LEADERBOARD = Asset(uri="mmc://leaderboards/weekly-round", name="mmc_weekly_round_leaderboard")
CROSS_ROUND_LEADERBOARD = Asset(uri="mmc://leaderboards/weekly", name="mmc_weekly_leaderboard")
# The round: its data interval's first day. Global keys, the batch and the output folder carry it.
ROUND_KEY = "week-{{ data_interval_start | ds }}"
ROUND_DIR = "{{ params.output_dir }}/{{ params.project_name }}/" + ROUND_KEY
# The sample's model families: this week's versions (atlas-large-2026-04-13) under one name.
FAMILIES = {"atlas-large-*": "atlas-large", "dynamo-pro-*": "dynamo-pro", "cirrus-mini-*": "cirrus-mini"}
COMMON = {
    "start_date": pendulum.datetime(2026, 3, 30, tz="UTC"),
    "catchup": False,
    "tags": ["labelbox", "mmc", "example"],
    "default_args": {"retries": 2, "retry_delay": pendulum.duration(seconds=30)},
}
PROJECT_PARAMS = {
    "project_name": Param("mmc-weekly-evaluation", type="string"),
    "output_dir": Param(OUTPUT_DIR, type="string", description="any object storage URL or local path"),
}


@dag(
    dag_id="mmc_weekly_rounds",
    # Mondays 06:00 UTC, each run covering the week before it: [Monday, next Monday)
    schedule=CronDataIntervalTimetable("0 6 * * 1", timezone="UTC"),
    max_active_runs=1,
    render_template_as_native_obj=True,
    params={
        **PROJECT_PARAMS,
        "evaluation_set": Param(str(WEEKLY / "evaluation_set.jsonl"), type="string"),
        "responses_dir": Param(
            str(WEEKLY / "responses"),
            type="string",
            description="holds one folder per week (its first day, YYYY-MM-DD) of response JSONL files",
        ),
        "mapping": Param(
            str(WEEKLY / "mapping.yaml"), type="string", description="the harness's field paths"
        ),
        "ontology_spec": Param(str(DATA / "ontology.yaml"), type="string"),
        "ontology_name": Param("mmc-weekly-evaluation", type="string"),
        "dataset_name": Param("mmc-weekly-conversations", type="string"),
        "consensus_labels": Param(2, type="integer", minimum=1, description="labels per conversation"),
        "min_done_share": Param(1.0, type="number", minimum=0.01, maximum=1.0),
        "allow_relabel": Param(
            False,
            type="boolean",
            description="replace the content of this week's rows even when they were labelled or batched",
        ),
    },
    **COMMON,
)
def mmc_weekly_rounds() -> None:
    ontology = LabelboxCreateOntologyOperator(
        task_id="ensure_ontology",
        ontology_name="{{ params.ontology_name }}",
        spec="{{ params.ontology_spec }}",
    )
    project = LabelboxCreateProjectOperator(
        task_id="ensure_project",
        project_name="{{ params.project_name }}",
        ontology_id=ontology.output,
        description="Weekly human evaluation of multimodal chat models",
    )
    dataset = LabelboxCreateDatasetOperator(
        task_id="ensure_dataset", dataset_name="{{ params.dataset_name }}"
    )
    upload = LabelboxUploadConversationsOperator(
        task_id="upload_conversations",
        dataset_id=dataset.output,
        source="{{ params.evaluation_set }}",
        responses="{{ params.responses_dir }}/{{ data_interval_start | ds }}",
        mapping="{{ params.mapping }}",
        round_key=ROUND_KEY,
        project_id=project.output,
        batch_name=ROUND_KEY,
        allow_relabel="{{ params.allow_relabel }}",
        deferrable=True,
    )
    batch = LabelboxCreateBatchOperator(
        task_id="create_batch",
        project_id=project.output,
        batch_name=ROUND_KEY,
        global_keys=upload.output["global_keys"],
        consensus={"number_of_labels": "{{ params.consensus_labels }}", "coverage_percentage": 1.0},
        deferrable=True,
    )
    labelled = LabelboxLabelingProgressSensor(
        task_id="wait_for_labels",
        project_id=project.output,
        batch_ids=[batch.output["batch_id"]],
        min_share="{{ params.min_done_share }}",
        timeout=LABELING_TIMEOUT,
        poke_interval=5,
        deferrable=True,
    )
    export = LabelboxExportOperator(
        task_id="export_labels",
        project_id=project.output,
        filters={"batch_ids": [batch.output["batch_id"]]},
        destination=f"{ROUND_DIR}/export.ndjson",
        judgments_table="auto",
        round_key=ROUND_KEY,
        deferrable=True,
        poll_interval=2,
    )
    leaderboard = MmcLeaderboardOperator(
        task_id="leaderboard",
        export_paths=export.output["path"],
        output_dir=f"{ROUND_DIR}/leaderboard",
        project_id=project.output,
        round_key=ROUND_KEY,
        metadata={
            "project_id": project.output,
            "batch_id": batch.output["batch_id"],
            "batch_name": ROUND_KEY,
            "round": ROUND_KEY,
            "week": "{{ data_interval_start | ds }} to {{ data_interval_end | ds }}",
        },
        outlets=[ROUND_LEADERBOARD],
    )
    upload >> batch >> labelled >> export >> leaderboard


@dag(
    dag_id="mmc_weekly_leaderboard",
    schedule=[ROUND_LEADERBOARD],
    render_template_as_native_obj=True,
    params={
        **PROJECT_PARAMS,
        "reference_model": Param("borealis-7b", type="string", description="a model present in every round"),
        "families": Param(
            FAMILIES,
            type="object",
            description="model config name or fnmatch pattern -> model family: a family's versions are one trend",
        ),
    },
    **COMMON,
)
def mmc_weekly_leaderboard() -> None:
    MmcCrossRoundLeaderboardOperator(
        task_id="cross_round_leaderboard",
        state_paths="{{ params.output_dir }}/{{ params.project_name }}",
        output_dir="{{ params.output_dir }}/{{ params.project_name }}/cross-round",
        reference_model="{{ params.reference_model }}",
        families="{{ params.families }}",
        outlets=[CROSS_ROUND_LEADERBOARD],
    )


mmc_weekly_rounds()
mmc_weekly_leaderboard()
