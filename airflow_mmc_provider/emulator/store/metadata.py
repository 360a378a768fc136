"""Custom metadata schemas: the organisation's metadata ontology, enum options as child rows."""

from __future__ import annotations

import sqlite3

from airflow_mmc_provider.emulator.ids import new_id, now
from airflow_mmc_provider.emulator.metadata import ENUM_OPTION, MetadataSchema, SchemaRequest
from airflow_mmc_provider.emulator.store.base import StoreBase


def metadata_schemas_in(db: sqlite3.Connection, organization_id: str) -> list[MetadataSchema]:
    """The organisation's metadata ontology, oldest first, enums with their options."""
    rows = db.execute(
        "SELECT id, parent_id, name, kind FROM metadata_schemas WHERE organization_id = ? ORDER BY seq",
        (organization_id,),
    ).fetchall()
    options: dict[str, list[MetadataSchema]] = {}
    for r in rows:
        if r["parent_id"] is not None:
            options.setdefault(r["parent_id"], []).append(MetadataSchema(r["id"], r["name"], r["kind"]))
    return [
        MetadataSchema(r["id"], r["name"], r["kind"], options=tuple(options.get(r["id"], ())))
        for r in rows
        if r["parent_id"] is None
    ]


class MetadataState(StoreBase):
    def metadata_schemas(self, db: sqlite3.Connection | None = None) -> list[MetadataSchema]:
        """The organisation's metadata ontology (read inside the caller's transaction when given)."""
        return metadata_schemas_in(db or self._db, self.organization.id)

    def upsert_metadata_schema(self, request: SchemaRequest) -> MetadataSchema:
        """Get-or-create by name (adding enum options not there yet); ValueError on a kind change."""
        stamp = now()
        with self.transaction() as db:
            found = db.execute(
                "SELECT id, kind FROM metadata_schemas WHERE organization_id = ? AND parent_id IS NULL "
                "AND name = ?",
                (self.organization.id, request.name),
            ).fetchone()
            if found is not None and found["kind"] != request.kind:
                raise ValueError(
                    f"Metadata schema '{request.name}' exists with kind {found['kind']}, not {request.kind}"
                )
            schema_id = found["id"] if found else new_id()
            if found is None:
                db.execute(
                    "INSERT INTO metadata_schemas (id, organization_id, parent_id, name, kind, created_at) "
                    "VALUES (?, ?, NULL, ?, ?, ?)",
                    (schema_id, self.organization.id, request.name, request.kind, stamp),
                )
            existing = {
                r["name"]
                for r in db.execute("SELECT name FROM metadata_schemas WHERE parent_id = ?", (schema_id,))
            }
            db.executemany(
                "INSERT INTO metadata_schemas (id, organization_id, parent_id, name, kind, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(new_id(), self.organization.id, schema_id, option, ENUM_OPTION, stamp)
                 for option in request.options if option not in existing],
            )  # fmt: skip
            schemas = self.metadata_schemas(db)
        return next(s for s in schemas if s.id == schema_id)
