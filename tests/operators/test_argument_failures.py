"""A mistake in an operator's own arguments fails the task at once (`AirflowFailException`): a
retry would only repeat it. Each is caught before anything is sent to Labelbox."""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_mmc_provider.mmc.conversation.ids import MAX_PREFIX_LENGTH
from airflow_mmc_provider.operators.annotations import LabelboxImportAnnotationsOperator
from airflow_mmc_provider.operators.batches import LabelboxCreateBatchOperator
from airflow_mmc_provider.operators.conversations import LabelboxUploadConversationsOperator
from airflow_mmc_provider.operators.rounds import _families

OVERLONG = "p" * (MAX_PREFIX_LENGTH + 1)


def test_an_overlong_global_key_prefix_fails_an_upload_at_once() -> None:
    op = LabelboxUploadConversationsOperator(
        task_id="up", dataset_id="ds", records=[], global_key_prefix=OVERLONG, labelbox_conn_id="none"
    )
    with pytest.raises(AirflowFailException, match="global_key_prefix is"):
        op.execute({})


def test_an_overlong_global_key_prefix_fails_an_import_at_once(labelbox_conn: str) -> None:
    op = LabelboxImportAnnotationsOperator(
        task_id="imp",
        project_id="p",
        import_type="ground_truth",
        annotations=[],
        global_key_prefix=OVERLONG,
        labelbox_conn_id=labelbox_conn,
    )
    with pytest.raises(AirflowFailException, match="global_key_prefix is"):
        op.execute({})


def test_an_unknown_import_type_fails_at_once() -> None:
    op = LabelboxImportAnnotationsOperator(
        task_id="imp", project_id="p", import_type="gold", annotations=[], labelbox_conn_id="none"
    )
    with pytest.raises(AirflowFailException, match="import_type must be"):
        op.execute({})


def test_a_batch_priority_that_is_no_number_fails_at_once() -> None:
    op = LabelboxCreateBatchOperator(
        task_id="b",
        project_id="p",
        batch_name="b",
        global_keys=["k"],
        priority="high",
        labelbox_conn_id="none",  # type: ignore[arg-type]
    )
    with pytest.raises(AirflowFailException, match="high"):
        op.execute({})


def test_families_that_are_no_mapping_of_names_fail_at_once() -> None:
    with pytest.raises(AirflowFailException, match="families must map"):
        _families('["atlas"]')
