"""Datasets: created, renamed and deleted by id; deleting one frees its rows' global keys."""

from __future__ import annotations

from dataclasses import dataclass

from airflow_mmc_provider.emulator.ids import new_id, now
from airflow_mmc_provider.emulator.store.base import StoreBase
from airflow_mmc_provider.emulator.store.rows import Listing, created, insert


@dataclass(frozen=True)
class Dataset:
    id: str
    organization_id: str
    name: str
    description: str | None
    deleted: bool
    row_count: int
    created_by: str | None
    created_at: str
    updated_at: str


_DATASETS = Listing(
    Dataset,
    "SELECT d.*, (SELECT COUNT(*) FROM data_rows r WHERE r.dataset_id = d.id AND r.deleted = 0) AS row_count "
    "FROM datasets d",
)


class DatasetState(StoreBase):
    def create_dataset(self, name: str, description: str | None) -> Dataset:
        stamp, dataset_id = now(), new_id()
        with self.transaction() as db:
            insert(db, "datasets", {
                "id": dataset_id, "organization_id": self.organization.id, "name": name,
                "description": description, "created_by": self.user.id, "created_at": stamp, "updated_at": stamp,
            })  # fmt: skip
        return created(self.get_dataset(dataset_id))

    def get_dataset(self, dataset_id: str, *, include_deleted: bool = False) -> Dataset | None:
        return _DATASETS.by_id(self._db, self.organization.id, dataset_id, include_deleted)

    def list_datasets(self, name: str | None = None) -> list[Dataset]:
        """Every dataset of the organisation (deleted ones too, flagged), oldest first."""
        return _DATASETS.named(self._db, self.organization.id, name)

    def update_dataset(
        self, dataset_id: str, *, name: str | None = None, description: str | None = None
    ) -> Dataset | None:
        """Rename or re-describe a live dataset; None if there is no such dataset."""
        with self.transaction() as db:
            updated = db.execute(
                "UPDATE datasets SET name = COALESCE(?, name), description = COALESCE(?, description), "
                "updated_at = ? WHERE id = ? AND organization_id = ? AND deleted = 0",
                (name, description, now(), dataset_id, self.organization.id),
            ).rowcount
        return self.get_dataset(dataset_id) if updated else None

    def delete_dataset(self, dataset_id: str) -> Dataset | None:
        """Delete a dataset and its rows; their global keys become free again."""
        stamp = now()
        with self.transaction() as db:
            updated = db.execute(
                "UPDATE datasets SET deleted = 1, updated_at = ? WHERE id = ? AND organization_id = ? "
                "AND deleted = 0",
                (stamp, dataset_id, self.organization.id),
            ).rowcount
            db.execute(
                "UPDATE data_rows SET deleted = 1, updated_at = ? WHERE dataset_id = ? AND deleted = 0",
                (stamp, dataset_id),
            )
        return self.get_dataset(dataset_id, include_deleted=True) if updated else None
