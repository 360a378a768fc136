"""Datasets: create, get, find by name, get-or-create."""

from __future__ import annotations

from airflow_mmc_provider.client.idempotent import find_or_create
from airflow_mmc_provider.client.lookup import Kind, get_by_id, live_nodes_named, named, oldest
from airflow_mmc_provider.client.models import Dataset
from airflow_mmc_provider.client.transport import Transport

DATASET_FIELDS = "createdAt description name rowCount id updatedAt"
DATASET = Kind("dataset", DATASET_FIELDS, "does not exist or the API key cannot see it")


class Datasets:
    """Dataset calls. Names are not unique in Labelbox; get-or-create makes them so for us."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def create(self, name: str, description: str | None = None) -> Dataset:
        """Create a dataset. Not retried when the outcome is unknown; see `get_or_create`."""
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

    def get(self, dataset_id: str) -> Dataset:
        return Dataset.from_graphql(get_by_id(self._transport, DATASET, dataset_id))

    def find_by_name(self, name: str) -> list[Dataset]:
        """Every live dataset with exactly this name, oldest first."""
        return named(live_nodes_named(self._transport, DATASET, name), name, Dataset.from_graphql)

    def get_or_create(self, name: str, description: str | None = None) -> tuple[Dataset, bool]:
        """Return (dataset, created). A retried task finds the dataset its first try made."""
        return find_or_create(
            lambda: oldest(self.find_by_name(name), "datasets"), lambda: self.create(name, description)
        )


def _check_name(name: str) -> None:
    if not name or not name.strip():
        raise ValueError("A Labelbox dataset needs a non-blank name")
