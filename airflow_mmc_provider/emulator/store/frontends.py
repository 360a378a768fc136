"""Labeling frontends (every organisation has the ``Editor``) and a project's frontend options."""

from __future__ import annotations

from dataclasses import dataclass

from airflow_mmc_provider.emulator.ids import new_id, now
from airflow_mmc_provider.emulator.store.base import StoreBase
from airflow_mmc_provider.emulator.store.rows import Listing

EDITOR_FRONTEND = "Editor"


@dataclass(frozen=True)
class LabelingFrontend:
    id: str
    name: str
    description: str | None
    iframe_url_path: str | None
    deleted: bool
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class LabelingFrontendOptions:
    id: str
    project_id: str
    labeling_frontend_id: str
    customization_options: str


# Read like the other soft-deleted resources; the table has no seq column, so oldest first is by
# creation time, then id.
_FRONTENDS = Listing(LabelingFrontend, "SELECT * FROM labeling_frontends", order="created_at, id")


class FrontendState(StoreBase):
    def _ensure_editor(self) -> None:
        """Every organisation has the default ``Editor`` frontend (`connect_ontology` looks it up by name)."""
        with self.transaction() as db:
            found = db.execute(
                "SELECT 1 FROM labeling_frontends WHERE organization_id = ? AND name = ?",
                (self.organization.id, EDITOR_FRONTEND),
            ).fetchone()
            if found is None:
                stamp = now()
                db.execute(
                    "INSERT INTO labeling_frontends (id, organization_id, name, description, iframe_url_path, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (new_id(), self.organization.id, EDITOR_FRONTEND, "The Labelbox editor",
                     "https://editor.labelbox.com", stamp, stamp),
                )  # fmt: skip

    def labeling_frontends(self) -> list[LabelingFrontend]:
        """Every frontend of the organisation (deleted ones too, flagged), oldest first."""
        return _FRONTENDS.named(self._db, self.organization.id, None)

    def get_labeling_frontend(self, frontend_id: str) -> LabelingFrontend | None:
        return _FRONTENDS.by_id(self._db, self.organization.id, frontend_id, False)

    def editor_frontend(self) -> LabelingFrontend:
        return next(f for f in self.labeling_frontends() if f.name == EDITOR_FRONTEND and not f.deleted)

    def create_labeling_frontend_options(
        self, project_id: str, frontend_id: str, customization_options: str
    ) -> LabelingFrontendOptions:
        options = LabelingFrontendOptions(new_id(), project_id, frontend_id, customization_options)
        stamp = now()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO labeling_frontend_options VALUES (?, ?, ?, ?, ?, ?)",
                (options.id, project_id, frontend_id, customization_options, stamp, stamp),
            )
        return options
