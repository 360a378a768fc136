"""`LabelboxCreateOntologyOperator`: get-or-create a multimodal chat ontology from a spec."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_mmc_provider.operators.base import LabelboxBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_mmc_provider.client import LabelboxClient
    from airflow_mmc_provider.client.models import Ontology

MAX_VERSIONS = 100


class LabelboxCreateOntologyOperator(LabelboxBaseOperator):
    """Ensure an ontology named `ontology_name` exists with exactly this spec; return its id.

    The spec is a dict, or a JSON/YAML file at any `ObjectStoragePath` (see
    `airflow_mmc_provider.mmc.ontology` for the format). If an ontology of that name exists and
    differs, the task fails and shows the difference, unless `create_new_version=True`: then the
    spec goes up as ``<name> v2`` (``v3``...), reusing the first version that matches it, so
    re-runs stay idempotent.

    :param ontology_name: the ontology name (templated).
    :param spec: dict, or path/URL of a JSON or YAML spec (templated).
    :param create_new_version: create a new named version when the spec changed.
    """

    template_fields: Sequence[str] = ("ontology_name", "spec", "labelbox_conn_id")
    template_fields_renderers = {"spec": "json"}

    def __init__(
        self,
        *,
        ontology_name: str,
        spec: Mapping[str, Any] | str | ObjectStoragePath,
        create_new_version: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.ontology_name = ontology_name
        self.spec = spec
        self.create_new_version = create_new_version

    def execute(self, context: Context) -> str:
        from airflow_mmc_provider.mmc.errors import ValidationError
        from airflow_mmc_provider.mmc.ontology import build_ontology
        from airflow_mmc_provider.operators._failures import fail_fast_on

        with fail_fast_on(ValidationError, OSError):
            normalized = build_ontology(self._load_spec())
        with fail_fast_on():
            ontology = self._ensure(self.client, normalized)
        return ontology.id

    def _load_spec(self) -> Any:
        if isinstance(self.spec, Mapping):
            return dict(self.spec)
        from airflow_mmc_provider.mmc.ontology import parse_ontology_spec
        from airflow_mmc_provider.operators.storage import as_storage_path

        path = as_storage_path(self.spec)
        suffix = os.path.splitext(str(path))[1].lower()
        return parse_ontology_spec(
            path.read_text(), fmt="json" if suffix == ".json" else "yaml", source=str(path)
        )

    def _ensure(self, client: LabelboxClient, normalized: dict[str, Any]) -> Ontology:
        from airflow_mmc_provider.mmc.ontology import diff_ontologies

        for version in range(1, MAX_VERSIONS + 1):
            name = self.ontology_name if version == 1 else f"{self.ontology_name} v{version}"
            existing = client.ontologies.find_by_name(name)
            if not existing:
                created = client.ontologies.create(name, normalized)
                self.log.info("Created Labelbox ontology %r: %s", name, created.id)
                return created
            differences = diff_ontologies(normalized, existing[0].normalized)
            if not differences:
                self.log.info("Found Labelbox ontology %r matching the spec: %s", name, existing[0].id)
                return existing[0]
            if not self.create_new_version:
                listed = "\n".join(f"  - {d}" for d in differences)
                raise AirflowFailException(
                    f"Labelbox ontology {name!r} ({existing[0].id}) differs from the spec:\n{listed}\n"
                    "Align the spec, rename the ontology, or set create_new_version=True."
                )
            self.log.info("Ontology %r differs from the spec; trying the next version", name)
        raise AirflowFailException(
            f"{MAX_VERSIONS} versions of ontology {self.ontology_name!r} exist; rename it"
        )
