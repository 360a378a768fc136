"""One human evaluation round of multimodal chat models on Labelbox, end to end.

1. ensure the ontology (YAML spec), the offline chat evaluation project and the dataset;
2. validate the conversations (JSONL at any object storage) and upsert them by global key;
3. create this round's batch (priority, consensus);
4. optionally import pre-labels (model-assisted) or ground truth, validated against the ontology;
5. wait until the batch is labelled, export it, stream the export to object storage;
6. compute the leaderboard (Bradley-Terry with bootstrap intervals, win rates, tallies, agreement)
   and write JSON, CSV and an HTML report; both the export and the leaderboard are assets.

A round is an identity: its data rows have global keys ``<global_key_prefix><round_key>/<key>``
(`round_key` defaults to the batch name), so another round on the same prompts creates new rows and
never touches this round's. The upload refuses, before anything is uploaded, rows that would change
labelled or queued content or that sit in another round's batch of the project.

Every create is get-or-create by name or global key, so a retried or re-run round creates nothing
twice (unchanged rows are not even re-uploaded); every wait is deferrable. `setup_only=True` stops after step 3 (prepare now, label later).
Point the `labelbox_default` connection at https://api.labelbox.com/graphql to run it for real.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pendulum
from airflow.providers.standard.operators.python import ShortCircuitOperator
from airflow.sdk import Asset, Param, dag

from airflow_mmc_provider.operators.annotations import LabelboxImportAnnotationsOperator
from airflow_mmc_provider.operators.batches import LabelboxCreateBatchOperator
from airflow_mmc_provider.operators.conversations import LabelboxUploadConversationsOperator
from airflow_mmc_provider.operators.datasets import LabelboxCreateDatasetOperator
from airflow_mmc_provider.operators.exports import LabelboxExportOperator
from airflow_mmc_provider.operators.leaderboard import MmcLeaderboardOperator
from airflow_mmc_provider.operators.ontologies import LabelboxCreateOntologyOperator
from airflow_mmc_provider.operators.projects import LabelboxCreateProjectOperator
from airflow_mmc_provider.sensors.labeling import LabelboxLabelingProgressSensor

DATA = Path(__file__).parent / "data"
LABELING_TIMEOUT = pendulum.duration(hours=24)  # how long raters get; the wait is deferred meanwhile
OUTPUT_DIR = str(Path(tempfile.gettempdir()) / "mmc-rounds")
JUDGMENTS = Asset(uri="mmc://exports/judgments", name="mmc_round_judgments")
LEADERBOARD = Asset(uri="mmc://leaderboards/round", name="mmc_round_leaderboard")
ROUND_DIR = "{{ params.output_dir }}/{{ params.project_name }}/{{ params.batch_name }}"
ROUND_KEY = "{{ params.round_key or params.batch_name }}"


@dag(
    dag_id="mmc_evaluation_round",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["labelbox", "mmc", "example"],
    render_template_as_native_obj=True,
    default_args={"retries": 2, "retry_delay": pendulum.duration(seconds=30)},
    params={
        "conversations": Param(
            str(DATA / "conversations.jsonl"), type="string", description="JSONL of records"
        ),
        "ontology_spec": Param(
            str(DATA / "ontology.yaml"), type="string", description="YAML/JSON ontology spec"
        ),
        "ontology_name": Param("mmc-sample-evaluation", type="string"),
        "project_name": Param("mmc-sample-round", type="string"),
        "dataset_name": Param("mmc-sample-conversations", type="string"),
        "global_key_prefix": Param("", type="string", description="prepended to every global key"),
        "batch_name": Param("round-1", type="string", description="unique within the project"),
        "round_key": Param(
            "", type="string", description="global keys are <prefix><round_key>/<key>; empty: the batch name"
        ),
        "batch_priority": Param(5, type="integer", minimum=1, maximum=5),
        "consensus_labels": Param(1, type="integer", minimum=1, description="labels per conversation"),
        "setup_only": Param(False, type="boolean", description="stop after creating the batch"),
        "prelabels": Param(
            "", type="string", description=f"annotations JSONL to import, e.g. {DATA / 'prelabels.jsonl'}"
        ),
        "prelabel_type": Param("model_assisted", enum=["model_assisted", "ground_truth"]),
        "min_done_share": Param(1.0, type="number", minimum=0.01, maximum=1.0),
        "output_dir": Param(OUTPUT_DIR, type="string", description="any object storage URL or local path"),
    },
)
def mmc_evaluation_round() -> None:
    ontology = LabelboxCreateOntologyOperator(
        task_id="ensure_ontology",
        ontology_name="{{ params.ontology_name }}",
        spec="{{ params.ontology_spec }}",
    )
    project = LabelboxCreateProjectOperator(
        task_id="ensure_project",
        project_name="{{ params.project_name }}",
        ontology_id=ontology.output,
        description="Human evaluation of multimodal chat models",
    )
    dataset = LabelboxCreateDatasetOperator(
        task_id="ensure_dataset", dataset_name="{{ params.dataset_name }}"
    )
    upload = LabelboxUploadConversationsOperator(
        task_id="upload_conversations",
        dataset_id=dataset.output,
        source="{{ params.conversations }}",
        global_key_prefix="{{ params.global_key_prefix }}",
        round_key=ROUND_KEY,
        project_id=project.output,
        batch_name="{{ params.batch_name }}",
        deferrable=True,
    )
    batch = LabelboxCreateBatchOperator(
        task_id="create_batch",
        project_id=project.output,
        batch_name="{{ params.batch_name }}",
        global_keys=upload.output["global_keys"],
        priority="{{ params.batch_priority }}",
        consensus={"number_of_labels": "{{ params.consensus_labels }}", "coverage_percentage": 1.0},
        deferrable=True,
    )
    continue_after_setup = ShortCircuitOperator(
        task_id="continue_after_setup",
        python_callable=lambda setup_only: not setup_only,
        op_args=["{{ params.setup_only }}"],
    )
    has_prelabels = ShortCircuitOperator(
        task_id="has_prelabels",
        python_callable=lambda prelabels: bool(prelabels),
        op_args=["{{ params.prelabels }}"],
        ignore_downstream_trigger_rules=False,
    )
    import_prelabels = LabelboxImportAnnotationsOperator(
        task_id="import_prelabels",
        project_id=project.output,
        import_type="{{ params.prelabel_type }}",
        source="{{ params.prelabels }}",
        conversations="{{ params.conversations }}",
        global_key_prefix="{{ params.global_key_prefix }}",
        round_key=ROUND_KEY,
        deferrable=True,
        poll_interval=2,
    )
    labelled = LabelboxLabelingProgressSensor(
        task_id="wait_for_labels",
        project_id=project.output,
        batch_ids=[batch.output["batch_id"]],
        min_share="{{ params.min_done_share }}",
        timeout=LABELING_TIMEOUT,
        poke_interval=5,
        deferrable=True,
        trigger_rule="none_failed",
    )
    export = LabelboxExportOperator(
        task_id="export_labels",
        project_id=project.output,
        filters={"batch_ids": [batch.output["batch_id"]]},
        destination=f"{ROUND_DIR}/export.ndjson",
        judgments_table="auto",  # <round>/judgments.csv, and judgments.parquet with pyarrow installed
        deferrable=True,
        poll_interval=2,
        outlets=[JUDGMENTS],
    )
    leaderboard = MmcLeaderboardOperator(
        task_id="leaderboard",
        export_paths=export.output["path"],
        output_dir=f"{ROUND_DIR}/leaderboard",
        project_id=project.output,
        metadata={
            "project_id": project.output,
            "batch_id": batch.output["batch_id"],
            "batch_name": "{{ params.batch_name }}",
            "export_task_id": export.output["export_task_id"],
            "exported_rows": export.output["rows"],
        },
        outlets=[LEADERBOARD],
    )
    batch >> continue_after_setup >> has_prelabels >> import_prelabels >> labelled
    continue_after_setup >> labelled >> export >> leaderboard


mmc_evaluation_round()
