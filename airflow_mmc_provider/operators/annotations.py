"""`LabelboxImportAnnotationsOperator`: pre-labels or ground truth, validated before upload.

The operator keeps the Airflow side of an import (task failures, XCom, deferral); reading what
Labelbox made of it is the client's (`airflow_mmc_provider.client.import_reports`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_mmc_provider.operators.base import LabelboxDeferrableOperator

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_mmc_provider.client import LabelboxClient
    from airflow_mmc_provider.client.models import AnnotationImport

_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_FETCH_WARNING = 2000  # data rows fetched one by one before the log suggests `conversations`
_KEEPS_NAME = " Labelbox keeps the name of a failed import: fix the input and give a new import_name."


class LabelboxImportAnnotationsOperator(LabelboxDeferrableOperator):
    """Import multimodal chat annotations into a project as pre-labels or as ground truth.

    Input is JSONL at any `ObjectStoragePath` (`source`) or a list from XCom (`annotations`): the
    record format of `airflow_mmc_provider.mmc.annotations` (record key + model names) or raw
    Labelbox NDJSON lines. Every line is validated against the project's ontology and the
    conversations of the referenced data rows before anything is uploaded. The import name is
    derived from the run, so a retry finds the running or finished import instead of starting
    another (a retry whose input changed since fails, naming the import); large inputs go up as
    several named parts, each holding whole data rows. Pre-labels (``model_assisted``) may be
    partial: required classifications are only enforced for ground truth. Fails listing each
    failed annotation with its reason unless at most `max_failed_annotations` failed.

    :param project_id: the project (templated).
    :param import_type: ``model_assisted`` (pre-labels) or ``ground_truth`` (labels) (templated).
    :param conversations: the conversations JSONL the rows were built from (templated); validates
        against it locally instead of fetching each data row's document from Labelbox.
    :param import_name: defaults to one name per DAG run and task (templated).
    :param global_key_prefix: and
    :param round_key: map record keys to global keys exactly as the conversation upload of the
        round did (templated; see `LabelboxUploadConversationsOperator`).
    """

    template_fields: Sequence[str] = (
        "project_id",
        "import_type",
        "source",
        "annotations",
        "conversations",
        "import_name",
        "global_key_prefix",
        "round_key",
        "labelbox_conn_id",
    )

    def __init__(
        self,
        *,
        project_id: str,
        import_type: str,
        source: str | ObjectStoragePath | None = None,
        annotations: list[Any] | None = None,
        conversations: str | ObjectStoragePath | None = None,
        import_name: str = "{{ dag.dag_id }}-{{ task.task_id }}-{{ run_id }}",
        global_key_prefix: str = "",
        round_key: str = "",
        max_failed_annotations: int = 0,
        max_part_bytes: int = 50_000_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (source is None) == (annotations is None):
            raise ValueError("Give exactly one of `source` or `annotations`")
        self.project_id = project_id
        self.import_type = import_type
        self.source = source
        self.annotations = annotations
        self.conversations = conversations
        self.import_name = import_name
        self.global_key_prefix = global_key_prefix
        self.round_key = round_key
        self.max_failed_annotations = max_failed_annotations
        self.max_part_bytes = max_part_bytes

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_mmc_provider.client.imports import part_name, split_parts
        from airflow_mmc_provider.mmc.conversation import key_prefix
        from airflow_mmc_provider.mmc.errors import ValidationError
        from airflow_mmc_provider.operators._failures import checking_arguments, fail_fast_on
        from airflow_mmc_provider.triggers.imports import LabelboxImportTrigger

        if self.import_type not in ("model_assisted", "ground_truth"):
            raise AirflowFailException(  # the DAG's to fix: a retry would only repeat it
                f"import_type must be 'model_assisted' or 'ground_truth', not {self.import_type!r}"
            )
        client = self.client
        with checking_arguments():  # a bad or overlong prefix or round key
            prefix = key_prefix(str(self.global_key_prefix), str(self.round_key))
        with fail_fast_on(ValidationError):
            lines = self._validated_lines(client, prefix)
        parts = list(split_parts(lines, self.max_part_bytes))
        base = _NAME_UNSAFE.sub("-", str(self.import_name)).strip("-")[:180]
        names = [part_name(base, i, len(parts)) for i in range(len(parts))]
        for name, body in zip(names, parts, strict=True):
            self._start(client, name, body)
        self.wait_or_defer(
            LabelboxImportTrigger,
            lambda: self._wait(client, names),
            project_id=self.project_id,
            import_names=names,
            import_kind=self.import_type,
        )
        return self._summarise(client, names)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        self.resumed(event, "Waiting for Labelbox imports")
        return self._summarise(self.client, list(event["import_names"]))

    def _start(self, client: LabelboxClient, name: str, body: bytes) -> None:
        """Start the import part `name`, or find the one a first try started: that one must
        hold this input's annotations, or the new annotations would silently never be imported."""
        from airflow_mmc_provider.client.import_reports import input_change

        found, started = client.imports.ensure(self.project_id, name, self.import_type, body)
        if found.state == "FAILED":  # a retry cannot mend it: Labelbox keeps the name
            raise AirflowFailException(self._failed_import(client, found))
        change = None if started else input_change(client.imports, found, body, self.project_id)
        if change:
            raise AirflowFailException(f"{change} Give a new import_name to import it as another import.")
        self.log.info("Import %r (%s) is %s", name, self.import_type, found.state)

    def _wait(self, client: LabelboxClient, names: list[str]) -> None:
        for name in names:
            client.imports.wait(
                self.project_id,
                name,
                self.import_type,
                timeout=self.wait_timeout,
                poll_interval=self.poll_interval,
            )

    def _validated_lines(self, client: LabelboxClient, prefix: str) -> list[bytes]:
        from airflow_mmc_provider.mmc.annotations import iter_ndjson_lines

        ontology = client.projects.ontology(self.project_id).normalized
        inputs = list(self._inputs())
        documents = self._documents(client, inputs, prefix)
        return list(
            iter_ndjson_lines(
                inputs,
                ontology,
                documents,
                global_key_prefix=prefix,
                check_required=self.import_type == "ground_truth",
                subject=str(self.source or "annotations"),
            )
        )

    def _inputs(self) -> Iterator[Any]:
        if self.annotations is not None:
            yield from self.annotations
            return
        from airflow_mmc_provider.operators.storage import iter_lines

        assert self.source is not None
        yield from iter_lines(self.source)

    def _documents(self, client: LabelboxClient, inputs: list[Any], prefix: str) -> dict[str, Any]:
        """row_data per data row key (global key, or id for lines by id): global keys from the
        conversations file when given, else fetched row by row; a key that names no data row is
        left out, so the validation reports it."""
        from airflow_mmc_provider.mmc.annotations import referenced_data_rows

        global_keys, row_ids = referenced_data_rows(inputs, prefix)
        documents: dict[str, Any] = {}
        if self.conversations:
            documents = _documents_from_records(self.conversations, prefix)
            global_keys -= documents.keys()  # a row not in the file may still be in Labelbox
        if len(global_keys) + len(row_ids) > _FETCH_WARNING:
            self.log.warning(
                "Fetching %d conversations one by one; pass `conversations` to validate locally",
                len(global_keys) + len(row_ids),
            )
        documents.update(client.data_rows.documents(global_keys, row_ids))
        return documents

    def _summarise(self, client: LabelboxClient, names: list[str]) -> dict[str, Any]:
        from airflow_mmc_provider.client.import_reports import read_outcome

        outcome = read_outcome(client.imports, [self._finished(client, name) for name in names])
        for failure in outcome.failures:
            self.log.error("Annotation rejected: %s", failure)
        summary = {
            "project_id": self.project_id,
            "import_type": self.import_type,
            "imports": names,
            "accepted": outcome.accepted,
            "failed": len(outcome.failures),
            "accepted_by_kind": dict(outcome.accepted_by_kind),
        }
        self.log.info("Annotation import summary: %s", summary)
        self._check_tolerated(outcome.failures)
        return summary

    def _finished(self, client: LabelboxClient, name: str) -> AnnotationImport:
        found = client.imports.find(self.project_id, name, self.import_type)
        if found is None:
            raise AirflowException(f"Labelbox import {name!r} disappeared from project {self.project_id}")
        if found.state == "FAILED":
            raise AirflowFailException(self._failed_import(client, found))
        return found

    def _check_tolerated(self, failures: list[str]) -> None:
        from airflow_mmc_provider.operators._failures import listed

        if len(failures) <= self.max_failed_annotations:
            return
        raise AirflowException(
            f"{len(failures)} annotation(s) failed (tolerated: {self.max_failed_annotations}):\n"
            + listed(failures, "all are in the task log")
        )

    def _failed_import(self, client: LabelboxClient, found: AnnotationImport) -> str:
        """Why a whole import FAILED, and what to do about it."""
        from airflow_mmc_provider.client.import_reports import failed_import_reason

        return failed_import_reason(client.imports, found, self.project_id) + _KEEPS_NAME


def _documents_from_records(path: str | ObjectStoragePath, prefix: str) -> dict[str, Any]:
    from airflow_mmc_provider.mmc.conversation import iter_payloads
    from airflow_mmc_provider.operators.storage import iter_lines

    return {p["global_key"]: p["row_data"] for p in iter_payloads(iter_lines(path), global_key_prefix=prefix)}
