"""Datasets: create, get, find by name, get-or-create."""

from __future__ import annotations

import logging

from airflow_mmc_provider.client.errors import NotFoundError
from airflow_mmc_provider.client.idempotent import find_or_create
from airflow_mmc_provider.client.models import Dataset
from airflow_mmc_provider.client.transport import Transport

log = logging.getLogger(__name__)

DATASET_FIELDS = "createdAt description name rowCount id updatedAt"
_PAGE = 100


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
        query = f"query GetDatasetPyApi($id: ID!){{dataset(where: {{id: $id}}){{{DATASET_FIELDS}}}}}"
        try:
            node = self._transport.execute(query, {"id": dataset_id}).get("dataset")
        except NotFoundError:
            node = None
        if not node:
            raise NotFoundError(
                f"dataset {dataset_id!r} does not exist or the API key cannot see it",
                operation="GetDatasetPyApi",
            )
        return Dataset.from_graphql(node)

    def find_by_name(self, name: str) -> list[Dataset]:
        """Every live dataset with exactly this name, oldest first."""
        query = (
            "query GetDatasetsPyApi($name: String!, $deleted: Boolean!){datasets(where: "
            "{AND: [{name: $name}, {deleted: $deleted}]} skip: %d first: %d)"
            f"{{{DATASET_FIELDS}}}}}"
        )
        found: list[Dataset] = []
        skip = 0
        while True:
            page = self._transport.execute(query % (skip, _PAGE), {"name": name, "deleted": False})
            nodes = page.get("datasets") or []
            found.extend(Dataset.from_graphql(n) for n in nodes if n.get("name") == name)
            if len(nodes) < _PAGE:
                break
            skip += _PAGE
        return sorted(found, key=lambda d: (d.created_at or "", d.id))

    def get_or_create(self, name: str, description: str | None = None) -> tuple[Dataset, bool]:
        """Return (dataset, created). A retried task finds the dataset its first try made."""
        return find_or_create(lambda: self._first_by_name(name), lambda: self.create(name, description))

    def _first_by_name(self, name: str) -> Dataset | None:
        matches = self.find_by_name(name)
        if len(matches) > 1:
            log.warning(
                "%d Labelbox datasets are named %r; using the oldest, %s", len(matches), name, matches[0].id
            )
        return matches[0] if matches else None


def _check_name(name: str) -> None:
    if not name or not name.strip():
        raise ValueError("A Labelbox dataset needs a non-blank name")
