"""`LabelboxCreateDatasetOperator`: get-or-create a dataset by name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_mmc_provider.operators.base import LabelboxBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class LabelboxCreateDatasetOperator(LabelboxBaseOperator):
    """Ensure a Labelbox dataset named `dataset_name` exists and return its id.

    Idempotent: a retry or a re-run finds the dataset instead of creating another one.

    :param dataset_name: dataset name (templated).
    :param description: description used when the dataset is created (templated).
    :param labelbox_conn_id: the Labelbox connection.
    """

    template_fields: Sequence[str] = ("dataset_name", "description", "labelbox_conn_id")

    def __init__(self, *, dataset_name: str, description: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dataset_name = dataset_name
        self.description = description

    def execute(self, context: Context) -> str:
        from airflow_mmc_provider.operators._failures import fail_fast_on

        with fail_fast_on():
            dataset, created = self.client.datasets.get_or_create(self.dataset_name, self.description)
        verb = "Created" if created else "Found"
        self.log.info("%s Labelbox dataset %r: %s", verb, dataset.name, dataset.id)
        return dataset.id
