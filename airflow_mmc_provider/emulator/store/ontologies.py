"""Ontologies, stored normalised (ids assigned), listed in cursor pages by name search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_mmc_provider.emulator.ids import new_id, now
from airflow_mmc_provider.emulator.store.base import StoreBase
from airflow_mmc_provider.emulator.store.rows import created, dumps, fetch_one, from_rows, insert


@dataclass(frozen=True)
class Ontology:
    id: str
    name: str
    description: str | None
    media_type: str | None
    editor_task_type: str | None
    normalized: dict[str, Any]
    object_count: int
    classification_count: int
    created_by: str | None
    created_at: str
    updated_at: str


class OntologyState(StoreBase):
    def create_ontology(
        self,
        *,
        name: str,
        normalized: dict[str, Any],
        object_count: int,
        classification_count: int,
        media_type: str | None = None,
        editor_task_type: str | None = None,
        description: str | None = None,
    ) -> Ontology:
        stamp, ontology_id = now(), new_id()
        with self.transaction() as db:
            insert(db, "ontologies", {
                "id": ontology_id, "organization_id": self.organization.id, "name": name,
                "description": description, "media_type": media_type, "editor_task_type": editor_task_type,
                "normalized": dumps(normalized), "object_count": object_count,
                "classification_count": classification_count, "created_by": self.user.id,
                "created_at": stamp, "updated_at": stamp,
            })  # fmt: skip
        return created(self.get_ontology(ontology_id))

    def get_ontology(self, ontology_id: str) -> Ontology | None:
        return fetch_one(
            self._db,
            Ontology,
            "SELECT * FROM ontologies WHERE id = ? AND organization_id = ?",
            (ontology_id, self.organization.id),
        )

    def ontologies_page(
        self, *, search: str | None, after: str | None, limit: int
    ) -> tuple[list[Ontology], str | None]:
        """Ontologies whose name contains `search` (any case), oldest first, after the cursor `after`.

        The cursor is the id of the last ontology of the previous page; the second value is the
        next page's cursor, None on the last page.
        """
        conditions: list[str] = ["organization_id = ?"]
        params: list[Any] = [self.organization.id]
        if search:
            conditions.append("instr(lower(name), lower(?)) > 0")
            params.append(search)
        if after:
            conditions.append("seq > ?")
            params.append(self._seq("ontologies", after))
        rows = self._db.execute(
            f"SELECT * FROM ontologies WHERE {' AND '.join(conditions)} ORDER BY seq LIMIT ?",  # noqa: S608
            (*params, limit + 1),
        ).fetchall()
        page = from_rows(Ontology, rows[:limit])
        return page, (page[-1].id if len(rows) > limit and page else None)
