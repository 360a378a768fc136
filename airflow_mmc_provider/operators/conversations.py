"""`LabelboxUploadConversationsOperator`: users' conversation records -> multimodal chat data rows."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_mmc_provider.operators.data_rows import LabelboxUploadDataRowsOperator

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_mmc_provider.client.row_changes import RowChanges


class LabelboxUploadConversationsOperator(LabelboxUploadDataRowsOperator):
    """Build row_data v2 documents from conversation records and upsert them by global key.

    Records are JSONL lines at any `ObjectStoragePath` (`source`) or dicts from XCom (`records`), in
    the format of `airflow_mmc_provider.mmc.conversation`: a key, optional history, the prompt
    (text and files) and the responses keyed by model config name, optional metadata and
    attachments. Everything is validated before the first upload; one error lists every problem
    with its line, key and field. Returns the dataset id, the global keys, and created / updated /
    failed counts.

    With `responses` and `mapping`, the records are the team's own lines instead: `source` (or
    `records`) is the fixed evaluation set and `responses` this week's response files, joined by
    the declared `mapping` (`airflow_mmc_provider.mmc.conversation.mapping`); every problem of the
    join is in the same one error, before anything is uploaded.

    Existing rows are checked before anything is uploaded (`client.row_changes`): rows whose content
    is unchanged are skipped (a re-run of the round is a no-op); a changed row that has labels or sits
    in a batch is refused, and so is a row in another batch of `project_id` (a round-key collision).

    :param global_key_prefix: prepended to every global key (templated).
    :param round_key: the round: global key = prefix + round_key + "/" + record key (templated; no
        "/" in it; empty: prefix + record key). The record key stays the external id.
    :param project_id: and
    :param batch_name: the round's project and batch (templated): rows sitting in another batch of
        the project are refused.
    :param allow_relabel: replace the content of rows that have labels or sit in a batch.
    :param responses: response JSONL files: a path, a folder (its ``*.jsonl``), a glob, or a list
        of them, at any `ObjectStoragePath` (templated).
    :param mapping: the mapping spec, a dict or a YAML/JSON file path (templated).
    :param allow_missing_responses: upload a prompt that some model did not answer (logged)
        instead of failing, which is the default because a missing response is usually a harness
        failure.
    """

    template_fields: Sequence[str] = (
        *LabelboxUploadDataRowsOperator.template_fields,
        "global_key_prefix",
        "round_key",
        "project_id",
        "batch_name",
        "responses",
        "mapping",
    )

    def __init__(
        self,
        *,
        dataset_id: str,
        records: list[Mapping[str, Any]] | None = None,
        source: str | ObjectStoragePath | None = None,
        global_key_prefix: str = "",
        round_key: str = "",
        project_id: str | None = None,
        batch_name: str | None = None,
        allow_relabel: bool = False,
        responses: str | ObjectStoragePath | list[str | ObjectStoragePath] | None = None,
        mapping: Mapping[str, Any] | str | ObjectStoragePath | None = None,
        allow_missing_responses: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(dataset_id=dataset_id, rows=records, source=source, **kwargs)
        if (responses is None) != (mapping is None):
            raise ValueError(
                "Give `responses` and `mapping` together (or neither) to upload mapped responses"
            )
        self.global_key_prefix = global_key_prefix
        self.responses = responses
        self.mapping = mapping
        self.allow_missing_responses = allow_missing_responses
        self.round_key = round_key
        self.project_id, self.batch_name, self.allow_relabel = project_id, batch_name, allow_relabel

    def _row_changes(self) -> RowChanges:
        from airflow_mmc_provider.client.row_changes import UpsertGuard

        guard = UpsertGuard(
            self.project_id or None, self.batch_name or None, self.allow_relabel, str(self.round_key)
        )
        return self.client.row_changes(guard)

    def _iter_rows(self) -> Iterator[Any]:
        from airflow_mmc_provider.mmc.conversation import iter_payloads

        if self.responses is not None:
            yield from self._mapped_rows()
            return
        if self.rows is not None:
            yield from iter_payloads(self.rows, **self._keys())
            return
        from airflow_mmc_provider.operators.storage import as_storage_path, iter_lines

        assert self.source is not None
        path = as_storage_path(self.source)
        yield from iter_payloads(iter_lines(path), **self._keys(), subject=str(path))

    def _keys(self) -> dict[str, str]:
        return {"global_key_prefix": str(self.global_key_prefix), "round_key": str(self.round_key)}

    def _mapped_rows(self) -> Iterator[dict[str, Any]]:
        """The evaluation set joined with the response files by the mapping, as upsert payloads."""
        from airflow_mmc_provider.mmc.conversation.mapping import join_responses, mapped_payloads
        from airflow_mmc_provider.operators.storage import (
            as_storage_path,
            expand_paths,
            iter_lines,
            load_mapping,
        )

        assert self.responses is not None and self.mapping is not None
        if self.rows is not None:
            evaluation_set: tuple[str, Any] = ("records", self.rows)
        else:
            assert self.source is not None
            evaluation_set = (str(path := as_storage_path(self.source)), iter_lines(path))
        try:
            files = expand_paths(self.responses)
        except FileNotFoundError as missing:  # a retry in a minute will not find them either
            from airflow.providers.common.compat.sdk import AirflowFailException

            raise AirflowFailException(
                f"responses: {missing}. Expected one JSONL file per model version there (a folder, a glob "
                "or a list of files); write this round's responses first, or fix the path"
            ) from None
        joined = join_responses(
            evaluation_set,
            ((str(file), iter_lines(file)) for file in files),
            load_mapping(self.mapping),
            allow_missing_responses=self.allow_missing_responses,
        )
        self.log.info(
            "Joined %d prompt(s) with %d response file(s), models: %s",
            len(joined.records),
            len(files),
            ", ".join(joined.models),
        )
        if joined.missing:
            from airflow_mmc_provider.operators._failures import listed

            gaps = [f"key {key!r}: no response of model {model!r}" for key, model in joined.missing]
            self.log.warning(
                "Uploading without %d missing response(s):\n%s", len(gaps), listed(gaps, "unlisted")
            )
        yield from mapped_payloads(joined, **self._keys())

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_mmc_provider.mmc.conversation import key_prefix
        from airflow_mmc_provider.mmc.errors import ValidationError
        from airflow_mmc_provider.operators._failures import checking_arguments, fail_fast_on

        started = time.monotonic()
        with checking_arguments():  # a bad or overlong prefix or round key
            key_prefix(**self._keys())
        with fail_fast_on(ValidationError):
            summary = super().execute(context)
        self.log.info("Conversations uploaded in %.1fs", time.monotonic() - started)
        return summary
