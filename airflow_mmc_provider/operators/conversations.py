"""`LabelboxUploadConversationsOperator`: users' conversation records -> multimodal chat data rows."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_mmc_provider.operators.data_rows import LabelboxUploadDataRowsOperator

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath


class LabelboxUploadConversationsOperator(LabelboxUploadDataRowsOperator):
    """Build row_data v2 documents from conversation records and upsert them by global key.

    Records are JSONL lines at any `ObjectStoragePath` (`source`) or dicts from XCom (`records`), in
    the format of `airflow_mmc_provider.mmc.conversation`: a key, optional history, the prompt
    (text and files) and the responses keyed by model config name, optional metadata and
    attachments. Everything is validated before the first upload; one error lists every problem
    with its line, key and field. Returns the dataset id, the global keys, and created / updated /
    failed counts.

    :param global_key_prefix: prepended to every record key to form the global key (templated).
    """

    template_fields: Sequence[str] = (*LabelboxUploadDataRowsOperator.template_fields, "global_key_prefix")

    def __init__(
        self,
        *,
        dataset_id: str,
        records: list[Mapping[str, Any]] | None = None,
        source: str | ObjectStoragePath | None = None,
        global_key_prefix: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(dataset_id=dataset_id, rows=records, source=source, **kwargs)
        self.global_key_prefix = global_key_prefix

    def _iter_rows(self) -> Iterator[Any]:
        from airflow_mmc_provider.mmc.conversation import iter_payloads

        if self.rows is not None:
            yield from iter_payloads(self.rows, global_key_prefix=self.global_key_prefix)
            return
        from airflow_mmc_provider.operators.storage import as_storage_path, iter_lines

        assert self.source is not None
        path = as_storage_path(self.source)
        yield from iter_payloads(
            iter_lines(path), global_key_prefix=self.global_key_prefix, subject=str(path)
        )

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_mmc_provider.mmc.errors import ValidationError
        from airflow_mmc_provider.operators._failures import fail_fast_on

        started = time.monotonic()
        with fail_fast_on(ValidationError):
            summary = super().execute(context)
        self.log.info("Conversations uploaded in %.1fs", time.monotonic() - started)
        return summary
