"""The conversation upload with responses in the team's own shape, against the emulator."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_mmc_provider.client import LabelboxClient
from airflow_mmc_provider.operators.conversations import LabelboxUploadConversationsOperator
from airflow_mmc_provider.operators.datasets import LabelboxCreateDatasetOperator

WEEKLY = Path(__file__).resolve().parents[2] / "example_dags" / "data" / "weekly"
EVALUATION_SET = WEEKLY / "evaluation_set.jsonl"
KEYS = [json.loads(line)["id"] for line in EVALUATION_SET.read_text().splitlines()]


@pytest.fixture
def dataset_id(labelbox_conn, unique_name) -> str:
    return LabelboxCreateDatasetOperator(
        task_id="d", dataset_name=f"{unique_name}-d", labelbox_conn_id=labelbox_conn
    ).execute({})


def upload(dataset_id: str, labelbox_conn: str, prefix: str, responses: object, **kwargs: object) -> dict:
    return LabelboxUploadConversationsOperator(
        task_id="u",
        dataset_id=dataset_id,
        source=str(EVALUATION_SET),
        responses=responses,
        mapping=kwargs.pop("mapping", str(WEEKLY / "mapping.yaml")),
        global_key_prefix=prefix,
        labelbox_conn_id=labelbox_conn,
        poll_interval=0.1,
        **kwargs,
    ).execute({})


def test_a_week_of_harness_files_uploads_one_conversation_per_prompt(
    dataset_id, labelbox_conn, unique_name, lb_emulator
):
    summary = upload(
        dataset_id, labelbox_conn, f"{unique_name}/", str(WEEKLY / "responses" / "2026-04-13" / "*.jsonl")
    )
    assert summary["created"] == len(KEYS) and summary["global_keys"] == [f"{unique_name}/{k}" for k in KEYS]
    with LabelboxClient(lb_emulator.api_key, lb_emulator.graphql_url) as client:
        document = client.data_rows.documents([summary["global_keys"][0]])[summary["global_keys"][0]]
    names = {actor["metadata"].get("modelConfigName") for actor in document["actors"].values()}
    assert names == {
        None,
        "atlas-large-2026-04-13",
        "borealis-7b",
        "cirrus-mini-2026-04-13",
        "dynamo-pro-2026-04-13",
    }


def test_a_missing_response_fails_before_anything_is_uploaded_unless_allowed(
    dataset_id, labelbox_conn, unique_name, lb_emulator, tmp_path
):
    week = tmp_path / "week"
    shutil.copytree(WEEKLY / "responses" / "2026-04-06", week)
    short = week / "cirrus-mini-2026-04-06.jsonl"
    kept = short.read_text().splitlines()[1:]
    dropped = json.loads(short.read_text().splitlines()[0])["prompt_id"]
    short.write_text("\n".join(kept) + "\n")
    prefix = f"{unique_name}/"

    with pytest.raises(AirflowFailException) as caught:
        upload(dataset_id, labelbox_conn, prefix, str(week))
    message = str(caught.value)
    assert f"(key {dropped!r}), responses: no response of model 'cirrus-mini-2026-04-06'" in message
    assert "allow_missing_responses" in message
    with LabelboxClient(lb_emulator.api_key, lb_emulator.graphql_url) as client:
        assert client.data_rows.existing_global_keys([prefix + key for key in KEYS]) == set()

    summary = upload(
        dataset_id,
        labelbox_conn,
        prefix,
        [str(path) for path in sorted(week.glob("*"))],
        allow_missing_responses=True,
    )
    assert summary["created"] == len(KEYS)


def test_a_bad_inline_mapping_fails_naming_the_spec_field(dataset_id, labelbox_conn, unique_name):
    mapping = {"responses": {"key": "prompt_id", "model": {"from": "file_stem"}, "txt": "output.text"}}
    with pytest.raises(
        AirflowFailException, match=r"responses\.txt: unknown field 'txt'.*did you mean 'text'"
    ):
        upload(
            dataset_id,
            labelbox_conn,
            f"{unique_name}/",
            str(WEEKLY / "responses" / "2026-04-06"),
            mapping=mapping,
        )


def test_responses_and_mapping_come_together():
    with pytest.raises(ValueError, match="`responses` and `mapping` together"):
        LabelboxUploadConversationsOperator(
            task_id="u", dataset_id="d", source="x.jsonl", responses="r/*.jsonl"
        )


@pytest.mark.parametrize("missing", ["2026-03-30", "2026-03-30/*.jsonl", "2026-03-30/atlas.jsonl"])
def test_a_week_with_no_response_files_fails_at_once_naming_the_path(
    dataset_id, labelbox_conn, unique_name, lb_emulator, missing
):
    # A week whose harness has not written its files: no retry will find them a minute later.
    given = str(WEEKLY / "responses" / missing)
    with pytest.raises(AirflowFailException) as caught:
        upload(dataset_id, labelbox_conn, f"{unique_name}/", given)
    assert str(caught.value).startswith("responses: ") and repr(given) in str(caught.value)
    assert "one JSONL file per model version" in str(caught.value)
    with LabelboxClient(lb_emulator.api_key, lb_emulator.graphql_url) as client:
        (dataset,) = client.datasets.find_by_name(f"{unique_name}-d")
        assert dataset.row_count == 0
