"""`LabelboxImportAnnotationsOperator`: pre-labels or ground truth, validated before upload."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, BaseOperator, conf

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_mmc_provider.client import LabelboxClient
    from airflow_mmc_provider.client.imports import AnnotationImport

_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_LISTED = 50  # failures a task failure lists (all of them are in the task log)


class LabelboxImportAnnotationsOperator(BaseOperator):
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
    """

    template_fields: Sequence[str] = (
        "project_id",
        "import_type",
        "source",
        "annotations",
        "conversations",
        "import_name",
        "global_key_prefix",
        "labelbox_conn_id",
    )
    ui_color = "#e8e0ff"

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
        max_failed_annotations: int = 0,
        max_part_bytes: int = 50_000_000,
        wait_timeout: float = 3600.0,
        poll_interval: float = 5.0,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        labelbox_conn_id: str = "labelbox_default",
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
        self.max_failed_annotations = max_failed_annotations
        self.max_part_bytes = max_part_bytes
        self.wait_timeout = wait_timeout
        self.poll_interval = poll_interval
        self.deferrable = deferrable
        self.labelbox_conn_id = labelbox_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_mmc_provider.client.imports import part_name, split_parts
        from airflow_mmc_provider.mmc.errors import ValidationError
        from airflow_mmc_provider.operators._failures import fail_fast_on

        if self.import_type not in ("model_assisted", "ground_truth"):
            raise AirflowException(
                f"import_type must be 'model_assisted' or 'ground_truth', not {self.import_type!r}"
            )
        client = self._client()
        with fail_fast_on(ValidationError):
            lines = self._validated_lines(client)
        parts = list(split_parts(lines, self.max_part_bytes))
        base = _NAME_UNSAFE.sub("-", str(self.import_name)).strip("-")[:180]
        names = [part_name(base, i, len(parts)) for i in range(len(parts))]
        for name, body in zip(names, parts, strict=True):
            found, started = client.imports.ensure(self.project_id, name, self.import_type, body)
            if found.state == "FAILED":  # a retry cannot mend it: Labelbox keeps the name
                raise AirflowFailException(self._failed_import(client, found))
            if not started:
                self._check_same_input(client, found, body)
            self.log.info("Import %r (%s) is %s", name, self.import_type, found.state)
        if self.deferrable:
            from airflow_mmc_provider.triggers.imports import LabelboxImportTrigger

            self.defer(
                trigger=LabelboxImportTrigger(
                    project_id=self.project_id,
                    import_names=names,
                    import_kind=self.import_type,
                    labelbox_conn_id=self.labelbox_conn_id,
                    end_time=time.time() + self.wait_timeout,
                    poll_interval=self.poll_interval,
                ),
                method_name="execute_complete",
            )
        for name in names:
            client.imports.wait(
                self.project_id,
                name,
                self.import_type,
                timeout=self.wait_timeout,
                poll_interval=self.poll_interval,
            )
        return self._summarise(client, names)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        if event.get("status") in ("timeout", "error"):
            raise AirflowException(
                f"Waiting for Labelbox imports ended in {event['status']}: {event.get('message')}"
            )
        return self._summarise(self._client(), list(event["import_names"]))

    def _check_same_input(self, client: LabelboxClient, found: AnnotationImport, body: bytes) -> None:
        """A retry finds the import its first try started: it must hold this input's annotations,
        or the new annotations would silently never be imported."""
        from airflow_mmc_provider.client.imports import line_uuids

        theirs = client.imports.input_uuids(found)
        if theirs is None:
            self.log.warning("Import %r has no inputs file to compare with this input", found.name)
            return
        ours = line_uuids(body)
        if theirs != ours:
            raise AirflowFailException(
                f"Labelbox import {found.name!r} already exists in project {self.project_id} with other "
                f"annotations ({len(ours - theirs)} of this input's {len(ours)} are not in it, "
                f"{len(theirs - ours)} of its {len(theirs)} are not in this input): the input changed "
                "since the first try. Give a new import_name to import it as another import."
            )

    def _client(self) -> LabelboxClient:
        from airflow_mmc_provider.hooks.labelbox import LabelboxHook

        return LabelboxHook(self.labelbox_conn_id).get_conn()

    def _validated_lines(self, client: LabelboxClient) -> list[bytes]:
        from airflow_mmc_provider.mmc.annotations import iter_ndjson_lines

        ontology = client.projects.ontology(self.project_id).normalized
        inputs = list(self._inputs())
        documents = self._documents(client, inputs)
        return list(
            iter_ndjson_lines(
                inputs,
                ontology,
                documents,
                global_key_prefix=self.global_key_prefix,
                check_required=self.import_type == "ground_truth",
                subject=str(self.source or "annotations"),
            )
        )

    def _inputs(self) -> Iterator[Any]:
        if self.annotations is not None:
            yield from self.annotations
            return
        from airflow_mmc_provider.mmc.conversation import read_lines
        from airflow_mmc_provider.operators.storage import as_storage_path

        assert self.source is not None
        with as_storage_path(self.source).open("rb") as handle:
            yield from read_lines(handle)

    def _documents(self, client: LabelboxClient, inputs: list[Any]) -> dict[str, Any]:
        """row_data per data row key (global key, or id for lines by id): global keys from the
        conversations file when given, else fetched row by row; a key that names no data row is
        left out, so the validation reports it."""
        from airflow_mmc_provider.client.errors import NotFoundError
        from airflow_mmc_provider.mmc.annotations import referenced_data_rows

        global_keys, row_ids = referenced_data_rows(inputs, self.global_key_prefix)
        documents: dict[str, Any] = {}
        if self.conversations:
            documents = _documents_from_records(self.conversations, self.global_key_prefix)
            global_keys -= documents.keys()  # a row not in the file may still be in Labelbox
        keys = sorted(global_keys)
        if len(keys) + len(row_ids) > 2000:
            self.log.warning(
                "Fetching %d conversations one by one; pass `conversations` to validate locally",
                len(keys) + len(row_ids),
            )
        ids = client.data_rows.data_row_ids_for_global_keys(keys)
        for key, row_id in zip(keys, ids, strict=True):
            if row_id:
                documents[key] = client.data_rows.row_data(row_id)
        for row_id in sorted(row_ids):
            try:
                documents[row_id] = client.data_rows.row_data(row_id)
            except NotFoundError:
                continue
        return documents

    def _summarise(self, client: LabelboxClient, names: list[str]) -> dict[str, Any]:
        statuses: Counter[str] = Counter()
        by_kind: Counter[str] = Counter()
        failures: list[str] = []
        for name in names:
            found = client.imports.find(self.project_id, name, self.import_type)
            if found is None:
                raise AirflowException(f"Labelbox import {name!r} disappeared from project {self.project_id}")
            if found.state == "FAILED":
                raise AirflowFailException(self._failed_import(client, found))
            sent = {line.get("uuid"): line for line in client.imports.read_report(found.input_file_url)}
            for status in client.imports.read_report(found.status_file_url):
                statuses[status.get("status", "UNKNOWN")] += 1
                line = sent.get(status.get("uuid"), {})
                if status.get("status") == "SUCCESS":
                    by_kind[_kind_of(line) if line else "unknown"] += 1
                else:
                    failures.append(_failure_text(status, line))
        for failure in failures:
            self.log.error("Annotation rejected: %s", failure)
        summary = {
            "project_id": self.project_id,
            "import_type": self.import_type,
            "imports": names,
            "accepted": statuses.get("SUCCESS", 0),
            "failed": len(failures),
            "accepted_by_kind": dict(by_kind),
        }
        self.log.info("Annotation import summary: %s", summary)
        if len(failures) > self.max_failed_annotations:
            listed = "\n".join(f"  - {f}" for f in failures[:_LISTED])
            more = (
                f"\n  ... and {len(failures) - _LISTED} more (all are in the task log)"
                if len(failures) > _LISTED
                else ""
            )
            raise AirflowException(
                f"{len(failures)} annotation(s) failed (tolerated: {self.max_failed_annotations}):\n{listed}{more}"
            )
        return summary

    def _failed_import(self, client: LabelboxClient, found: AnnotationImport) -> str:
        """Why a whole import FAILED, from its errors file; the file's address without its query
        (a signed URL's query is a credential)."""
        from airflow_mmc_provider.client.errors import LabelboxError

        try:
            errors = [_failure_text(e) for e in islice(client.imports.read_report(found.error_file_url), 10)]
        except LabelboxError as error:
            errors = [f"the errors file could not be read ({error})"]
        where = f" (errors file: {found.error_file_url.split('?', 1)[0]})" if found.error_file_url else ""
        reasons = "; ".join(errors) if errors else "Labelbox gave no errors file"
        return (
            f"Labelbox import {found.name!r} in project {self.project_id} FAILED as a whole: {reasons}{where}. "
            "Labelbox keeps the name of a failed import: fix the input and give a new import_name."
        )


def _documents_from_records(path: str | ObjectStoragePath, prefix: str) -> dict[str, Any]:
    from airflow_mmc_provider.mmc.conversation import iter_payloads, read_lines
    from airflow_mmc_provider.operators.storage import as_storage_path

    with as_storage_path(path).open("rb") as handle:
        return {
            p["global_key"]: p["row_data"]
            for p in iter_payloads(read_lines(handle), global_key_prefix=prefix)
        }


def _kind_of(line: Mapping[str, Any]) -> str:
    task = line.get("messageEvaluationTask")
    if isinstance(task, Mapping):
        return str(task.get("format"))
    answer = line.get("answer", line.get("answers"))
    kind = "text" if isinstance(answer, str) else "checklist" if isinstance(answer, list) else "radio"
    return f"{kind} ({'message' if line.get('messageId') else 'global'})"


def _failure_text(status: Mapping[str, Any], sent: Mapping[str, Any] | None = None) -> str:
    """One rejected annotation: its uuid, feature and data row (from the line sent, which has the
    global key where the status may only have the id) and the service's reasons."""
    sent = sent or {}
    row = sent.get("dataRow") or status.get("dataRow") or {}
    feature = f" ({sent.get('name') or sent.get('schemaId')}, {_kind_of(sent)})" if sent else ""
    errors = "; ".join(str(e.get("message")) for e in status.get("errors") or [] if isinstance(e, Mapping))
    where = row.get("globalKey") or row.get("id")
    return f"annotation {status.get('uuid')}{feature} on data row {where}: {errors or 'failed'}"
