"""A round is an identity: round keys, re-runs as no-ops, and the guard before an upload (emulator)."""

from __future__ import annotations

import logging

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_mmc_provider.client import LabelboxClient
from airflow_mmc_provider.client.row_changes import UpsertGuard
from airflow_mmc_provider.operators.annotations import LabelboxImportAnnotationsOperator
from airflow_mmc_provider.operators.batches import LabelboxCreateBatchOperator
from airflow_mmc_provider.operators.conversations import LabelboxUploadConversationsOperator
from airflow_mmc_provider.operators.datasets import LabelboxCreateDatasetOperator
from airflow_mmc_provider.operators.ontologies import LabelboxCreateOntologyOperator
from airflow_mmc_provider.operators.projects import LabelboxCreateProjectOperator

from .test_round_operators import SPEC, FakeTI


def conversations(answer: str = "A says", count: int = 4) -> list[dict]:
    """The fixed evaluation set: the same record keys every week, this week's answers."""
    return [
        {"key": f"prompt-{i}", "prompt": {"text": f"Question {i}"}, "responses": {"m-a": answer, "m-b": "B"}}
        for i in range(count)
    ]


@pytest.fixture
def cycle(labelbox_conn, unique_name, lb_emulator):
    """A project and a dataset of this test, and the operators of one round against them."""
    ontology_id = LabelboxCreateOntologyOperator(
        task_id="o", ontology_name=f"{unique_name}-o", spec=SPEC, labelbox_conn_id=labelbox_conn
    ).execute({})
    project_id = LabelboxCreateProjectOperator(
        task_id="p", project_name=f"{unique_name}-p", ontology_id=ontology_id, labelbox_conn_id=labelbox_conn
    ).execute({"ti": FakeTI()})
    dataset_id = LabelboxCreateDatasetOperator(
        task_id="d", dataset_name=f"{unique_name}-d", labelbox_conn_id=labelbox_conn
    ).execute({})
    with LabelboxClient(lb_emulator.api_key, lb_emulator.graphql_url) as client:
        yield Cycle(labelbox_conn, f"{unique_name}/", project_id, dataset_id, client)


class Cycle:
    def __init__(self, conn: str, prefix: str, project_id: str, dataset_id: str, client: LabelboxClient):
        self.conn, self.prefix, self.project_id, self.dataset_id, self.client = (
            conn, prefix, project_id, dataset_id, client,
        )  # fmt: skip

    def upload(self, round_key: str, records: list[dict], batch_name: str | None = None, **kwargs) -> dict:
        return LabelboxUploadConversationsOperator(
            task_id="u",
            dataset_id=self.dataset_id,
            records=records,
            global_key_prefix=self.prefix,
            round_key=round_key,
            project_id=self.project_id,
            batch_name=batch_name or round_key,
            labelbox_conn_id=self.conn,
            poll_interval=0.1,
            **kwargs,
        ).execute({})

    def batch(self, name: str, global_keys: list[str]) -> dict:
        return LabelboxCreateBatchOperator(
            task_id="b",
            project_id=self.project_id,
            batch_name=name,
            global_keys=global_keys,
            labelbox_conn_id=self.conn,
        ).execute({})

    def label(self, round_key: str, count: int = 4) -> dict:
        """Ground truth for every prompt of the round, keyed by record key like the pre-labels."""
        judged = [
            {"key": f"prompt-{i}", "ranking": ["m-a", "m-b"], "classifications": {"Difficulty": "easy"}}
            for i in range(count)
        ]
        return LabelboxImportAnnotationsOperator(
            task_id="i",
            project_id=self.project_id,
            import_type="ground_truth",
            annotations=judged,
            import_name=f"{self.prefix}{round_key}-labels".replace("/", "-"),
            global_key_prefix=self.prefix,
            round_key=round_key,
            poll_interval=0.1,
            labelbox_conn_id=self.conn,
        ).execute({})

    def round(self, round_key: str, records: list[dict]) -> dict:
        """One whole round: upload, batch, labels."""
        uploaded = self.upload(round_key, records)
        self.batch(round_key, uploaded["global_keys"])
        assert self.label(round_key)["accepted"] == 8  # a ranking and a classification per row
        return uploaded

    def stored(self, data_row_ids: list[str]) -> dict:
        """row_data and the ids of its labels, per data row id."""
        rows = self.client.row_changes(UpsertGuard()).stored_rows(data_row_ids)
        query = "query RowLabels($id: ID!) { dataRow(where: {id: $id}) { labels { id } } }"
        labels = {i: self.client.execute(query, {"id": i})["dataRow"]["labels"] for i in data_row_ids}
        return {row_id: (row.row_data, labels[row_id]) for row_id, row in rows.items()}


def test_the_same_round_twice_uploads_nothing_the_second_time(cycle, caplog, monkeypatch):
    first = cycle.upload("round-1", conversations())
    assert first["global_keys"] == [f"{cycle.prefix}round-1/prompt-{i}" for i in range(4)]
    cycle.batch("round-1", first["global_keys"])
    # the task logger drops INFO outside a task runner: read the operator's log through a plain one
    monkeypatch.setattr(LabelboxUploadConversationsOperator, "log", logging.getLogger("round-guard"))
    with caplog.at_level(logging.INFO, logger="round-guard"):
        again = cycle.upload("round-1", conversations(), deferrable=True)  # no task: nothing to defer on
    assert (again["task_id"], again["created"], again["updated"], again["unchanged"]) == ("", 0, 0, 4)
    assert again["global_keys"] == first["global_keys"] and again["data_row_ids"] == first["data_row_ids"]
    assert "4 unchanged, skipped" in caplog.text


def test_week_two_creates_new_rows_and_leaves_week_one_judged_as_it_was(cycle):
    week_1 = cycle.round("round-1", conversations("A says"))
    before = cycle.stored(week_1["data_row_ids"])
    week_2 = cycle.round("round-2", conversations("A says, improved"))
    assert week_2["created"] == 4 and not set(week_2["data_row_ids"]) & set(week_1["data_row_ids"])
    assert cycle.stored(week_1["data_row_ids"]) == before
    assert all(len(labels) == 1 for _, labels in before.values())


def test_changed_content_of_labelled_rows_is_refused_before_anything_is_uploaded(cycle):
    week_1 = cycle.round("round-1", conversations("A says"))
    before = cycle.stored(week_1["data_row_ids"])
    with pytest.raises(AirflowFailException) as refused:
        cycle.upload("round-1", conversations("A says something else"))
    text = str(refused.value)
    assert "4 data row(s) of this upload already exist with other content" in text
    assert f"'{cycle.prefix}round-1/prompt-0'" in text and "what their labels judged" in text
    assert "round_key" in text and "allow_relabel=True" in text
    assert cycle.stored(week_1["data_row_ids"]) == before


def test_allow_relabel_replaces_the_content_of_labelled_rows(cycle):
    week_1 = cycle.round("round-1", conversations("A says"))
    replaced = cycle.upload("round-1", conversations("A says something else"), allow_relabel=True)
    assert (replaced["updated"], replaced["data_row_ids"]) == (4, week_1["data_row_ids"])
    (row_data, _) = cycle.stored(week_1["data_row_ids"][:1])[week_1["data_row_ids"][0]]
    assert "A says something else" in str(row_data)


def test_changed_content_of_queued_rows_is_refused_naming_the_batch(cycle):
    uploaded = cycle.upload("round-1", conversations("A says"))
    cycle.batch("round-1", uploaded["global_keys"])
    with pytest.raises(AirflowFailException, match="what is queued for raters in batch 'round-1'"):
        cycle.upload("round-1", conversations("A says something else"))


def test_a_round_key_of_an_earlier_round_collides_even_with_unchanged_rows(cycle):
    cycle.round("round-1", conversations())
    with pytest.raises(AirflowFailException) as refused:  # week 2 forgot to change the round key
        cycle.upload("round-1", conversations(), batch_name="round-2")
    text = str(refused.value)
    assert "round key 'round-1' collides with round 'round-1' (batch 'round-1'" in text
    assert "4 data row(s) of this upload already sit in it" in text
    assert "own round_key" in text


def test_a_bad_round_key_fails_the_task_at_once(cycle):
    with pytest.raises(AirflowFailException, match=r"contains '/'.*'week-15'"):
        cycle.upload("week/15", conversations())
    with pytest.raises(AirflowFailException, match="starts or ends with white space"):
        cycle.label("round-1 ")
