"""Datasets: create, get, find by name, get-or-create."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_mmc_provider.client.idempotent import create_named, find_or_create
from airflow_mmc_provider.client.lookup import Kind, NamedResource
from airflow_mmc_provider.client.models import Dataset

DATASET_FIELDS = "createdAt description name rowCount id updatedAt"
DATASET = Kind("dataset", DATASET_FIELDS, "does not exist or the API key cannot see it")


class Datasets(NamedResource[Dataset]):
    """Dataset calls. Names are not unique in Labelbox; get-or-create makes them so for us."""

    kind = DATASET

    def _model(self, node: Mapping[str, Any]) -> Dataset:
        return Dataset.from_graphql(node)

    def create(self, name: str, description: str | None = None) -> Dataset:
        """Create a dataset, once: a lost answer is resolved by a look-up (`create_named`)."""
        return create_named(
            self._transport,
            "dataset",
            name,
            lambda: self.find_by_name(name),
            lambda: self._create(name, description),
        )

    def get_or_create(self, name: str, description: str | None = None) -> tuple[Dataset, bool]:
        """Return (dataset, created). A retried task finds the dataset its first try made."""
        return find_or_create(
            self._transport,
            "dataset",
            name,
            lambda: self.find_by_name(name),
            lambda: self._create(name, description),
        )

    def _create(self, name: str, description: str | None) -> Dataset:
        """One `createDataset`, not repeated by the transport when its outcome is unknown."""
        _check_name(name)
        variables: dict[str, str] = {"name": name}
        declared, fields = "$name: String!", "name: $name"
        if description:
            variables["description"] = description
            declared += ", $description: String"
            fields += " description: $description"
        query = (
            f"mutation CreateDatasetPyApi({declared}){{createDataset(data: {{{fields}}}) "
            f"{{{DATASET_FIELDS}}}}}"
        )
        data = self._transport.execute(query, variables, idempotent=False)
        return Dataset.from_graphql(data["createDataset"])


def _check_name(name: str) -> None:
    if not name or not name.strip():
        raise ValueError("A Labelbox dataset needs a non-blank name")
