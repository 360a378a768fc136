"""Export operators: start an export, or start, wait and stream it to object storage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_mmc_provider.operators._xcom import push_keys, set_asset_extras
from airflow_mmc_provider.operators.base import LabelboxBaseOperator, LabelboxDeferrableOperator

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

EXPORT_TASK_KEY = "export_task_id"
DEFAULT_PARAMS = {
    "attachments": True,
    "metadata_fields": True,
    "data_row_details": True,
    "project_details": True,
    "label_details": True,
    "performance_details": True,
}


class _ExportStarter(LabelboxBaseOperator):
    """Shared arguments and the start step of both export operators."""

    template_fields: Sequence[str] = (
        "project_id",
        "project_name",
        "params_",
        "filters",
        "task_name",
        "labelbox_conn_id",
    )
    template_fields_renderers = {"filters": "json", "params_": "json"}

    def __init__(
        self,
        *,
        project_id: str | None = None,
        project_name: str | None = None,
        export_params: Mapping[str, Any] | None = None,
        filters: Mapping[str, Any] | None = None,
        task_name: str | None = None,
        filter_by_data_interval: bool = False,
        **kwargs: Any,
    ) -> None:
        from airflow_mmc_provider.client.export_spec import filters_mapping

        super().__init__(**kwargs)
        if not project_id and not project_name:
            raise ValueError("Give the export a project_id or a project_name")
        self.project_id = project_id
        self.project_name = project_name
        self.params_ = dict(DEFAULT_PARAMS if export_params is None else export_params)
        self.filters = filters_mapping(filters)  # "batch_ids=1" fails at parse time, naming the shape
        self.task_name = task_name
        self.filter_by_data_interval = filter_by_data_interval

    def _filters(self, context: Context) -> dict[str, Any]:
        """The filters as rendered, with the run's data interval when `filter_by_data_interval`."""
        from airflow_mmc_provider.client.export_spec import filters_mapping

        filters = filters_mapping(self.filters)
        if self.filter_by_data_interval:
            start, end = context.get("data_interval_start"), context.get("data_interval_end")
            if start is None or end is None:
                raise AirflowException(
                    "filter_by_data_interval needs a run with a data interval (a scheduled run)"
                )
            filters["last_activity_at"] = [start, end]
        return filters

    def _start(self, context: Context) -> str:
        from airflow_mmc_provider.client.export_spec import ExportSpecError, search_query
        from airflow_mmc_provider.operators._failures import fail_fast_on

        with fail_fast_on(ExportSpecError):
            filters = self._filters(context)
            search_query(filters)  # types and order, before any request (dates checked again in start)
            project_id = self._project_id()
            self._check_batches(project_id, filters.get("batch_ids"))
            export_id = self.client.exports.start(
                project_id, params=self.params_, filters=filters, task_name=self.task_name
            )
        context["ti"].xcom_push(key=EXPORT_TASK_KEY, value=export_id)
        self.log.info(
            "Started Labelbox export %s of project %s with filters %s", export_id, project_id, filters
        )
        return export_id

    def _check_batches(self, project_id: str, batch_ids: Sequence[str] | None) -> None:
        """A batch id of another project (or a deleted batch) would export nothing: refuse it."""
        from airflow_mmc_provider.client.errors import NotFoundError
        from airflow_mmc_provider.client.export_spec import ExportSpecError

        for batch_id in dict.fromkeys(batch_ids or ()):
            try:
                self.client.batches.get(project_id, batch_id)
            except NotFoundError:
                raise ExportSpecError(
                    f"export filter batch_ids has {batch_id!r}, which is not a batch of project "
                    f"{project_id!r}; give the id of one of its batches (Labelbox: the project's Batches tab)"
                ) from None

    def _project_id(self) -> str:
        if self.project_id:
            return self.project_id
        found = self.client.projects.find_by_name(str(self.project_name))
        if len(found) != 1:
            raise AirflowException(
                f"{len(found)} Labelbox projects are named {self.project_name!r}; pass project_id instead"
            )
        return found[0].id


class LabelboxStartExportOperator(_ExportStarter):
    """Start a project export and return its task id (wait with `LabelboxExportSensor`).

    :param project_id: the project (templated); or `project_name` to look it up (templated).
    :param export_params: what each line includes, the SDK's keys (`label_details`, `project_details`...);
        defaults to everything an evaluation needs (templated).
    :param filters: the SDK's export filters: `last_activity_at`, `label_created_at`, `workflow_status`,
        `batch_ids`, `data_row_ids`, `global_keys` (templated); validated before any request.
    :param filter_by_data_interval: set `last_activity_at` to the run's data interval.
    """

    def execute(self, context: Context) -> str:
        return self._start(context)


class LabelboxExportOperator(_ExportStarter, LabelboxDeferrableOperator):
    """Start an export, wait for it (deferrable), and stream it to any object storage.

    The RESULT stream goes to `destination` (written to a partial file, then moved into place),
    the ERRORS stream, if any, to `<destination>.errors.ndjson`. Returns the path, rows and bytes;
    with `outlets`, each asset event carries the same summary as its extra.

    :param destination: an `ObjectStoragePath` or URL, e.g. ``s3://bucket/exports/{{ run_id }}.ndjson``
        (templated).
    :param max_error_rows: how many rows Labelbox may fail to export before the task fails.
    :param allow_empty: succeed when the filters select no row (an empty file, and ``"empty": True``
        in the summary and the asset event's extra), as in a scheduled incremental export where an
        interval without activity is normal. By default an empty export fails, naming its filters,
        and writes no file.
    :param judgments_table: also write the judgments table (one row per comparison the leaderboard
        counts; README "Judgments table") beside the export as ``<judgments_table_name>.<format>``:
        ``"auto"`` (CSV, and Parquet when pyarrow is installed), ``"csv"``, ``"parquet"`` or a list;
        None (default) writes none. Parquet without pyarrow fails before the export starts.
    :param judgments_table_name: the table's file name without extension (templated).
    :param round_key: the table's ``round`` column (templated); default: each data row's batch name.
    :param judgment_kinds: the judgments the table counts, as `MmcLeaderboardOperator`'s
        parameter of the same name (give both the same values, and the table's rows are the
        leaderboard's comparisons); likewise ``per_prompt`` (default ``"one"``) and ``questions``.
    """

    template_fields: Sequence[str] = (
        *_ExportStarter.template_fields,
        "destination",
        "judgments_table_name",
        "round_key",
    )
    default_wait_timeout = 7200.0

    def __init__(
        self,
        *,
        destination: str | ObjectStoragePath,
        max_error_rows: int = 0,
        allow_empty: bool = False,
        judgments_table: str | Sequence[str] | None = None,
        judgments_table_name: str = "judgments",
        round_key: str | None = None,
        judgment_kinds: Sequence[str] | None = None,
        per_prompt: str = "one",
        questions: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.destination = destination
        self.max_error_rows = max_error_rows
        self.allow_empty = allow_empty
        self.judgments_table, self.judgments_table_name = judgments_table, judgments_table_name
        self.round_key = round_key
        self.counting = _table_counting(judgment_kinds, per_prompt, questions)  # checked at parse time

    def execute(self, context: Context) -> dict[str, Any]:
        self._table_formats()  # a table that cannot be written fails before the export is started
        export_id = self._start(context)
        task = self.wait_for_task(export_id)
        if not task.succeeded:
            raise AirflowException(f"Labelbox export {export_id} ended {task.status}: {task.errors or ''}")
        return self._download(context, export_id)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        export_id = event.get("labelbox_task_id", "")
        self.resumed(event, f"Labelbox export {export_id}", failed_ok=False)
        return self._download(context, export_id)

    def _download(self, context: Context, export_id: str) -> dict[str, Any]:
        from airflow_mmc_provider.client.export_spec import nothing_selected
        from airflow_mmc_provider.client.exports import ERRORS, RESULT
        from airflow_mmc_provider.operators.storage import as_storage_path, atomic_write

        client = self.client
        path = as_storage_path(self.destination)
        with atomic_write(path) as handle:
            result = client.exports.copy_to(export_id, handle, RESULT)
            if result.lines == 0 and not self.allow_empty:
                raise AirflowFailException(nothing_selected(export_id, self._filters(context)))
        summary: dict[str, Any] = {
            "export_task_id": export_id,
            "path": str(path),
            "rows": result.lines,
            "bytes": result.bytes,
            "error_rows": 0,
            "empty": result.lines == 0,
        }
        if client.exports.header(export_id, ERRORS) is not None:
            errors_path = as_storage_path(f"{path}.errors.ndjson")
            with atomic_write(errors_path) as handle:
                errors = client.exports.copy_to(export_id, handle, ERRORS)
            summary.update(error_rows=errors.lines, errors_path=str(errors_path))
        self.log.info("Exported %d rows (%d bytes) to %s", result.lines, result.bytes, path)
        summary.update(self._write_judgments(path))
        set_asset_extras(context, self.outlets, summary)
        push_keys(context, summary, ("path", "rows", "bytes", "errors_path"))
        if summary["error_rows"] > self.max_error_rows:
            raise AirflowException(
                f"{summary['error_rows']} row(s) could not be exported (tolerated: {self.max_error_rows}); "
                f"see {summary.get('errors_path')}"
            )
        return summary

    def _table_formats(self) -> tuple[str, ...]:
        from airflow_mmc_provider.evaluation.judgments_table import JudgmentsTableError, table_formats
        from airflow_mmc_provider.operators._failures import fail_fast_on

        if self.judgments_table is None:
            return ()
        with fail_fast_on(JudgmentsTableError):
            return table_formats(self.judgments_table)

    def _write_judgments(self, export: ObjectStoragePath) -> dict[str, Any]:
        """The judgments table beside the export, each format in one pass: its paths and row count."""
        from contextlib import ExitStack

        from airflow_mmc_provider.evaluation.judgments_table import write_export_table
        from airflow_mmc_provider.operators.storage import atomic_write

        formats = self._table_formats()
        if not formats:
            return {}
        paths = {fmt: export.parent / f"{self.judgments_table_name}.{fmt}" for fmt in formats}
        with ExitStack() as stack:
            outputs = {fmt: stack.enter_context(atomic_write(p)) for fmt, p in paths.items()}
            rows = write_export_table(
                lambda: export.open("rb"), outputs, round_key=self.round_key, **self.counting
            )
        self.log.info(
            "Wrote the judgments table (%d comparisons) to %s", rows, ", ".join(map(str, paths.values()))
        )
        return {"judgments_table": {fmt: str(p) for fmt, p in paths.items()}, "judgments": rows}


def _table_counting(
    kinds: Sequence[str] | None, per_prompt: str, questions: Sequence[str] | None
) -> dict[str, Any]:
    """`write_export_table`'s counting options, checked as `MmcLeaderboardOperator` checks its own."""
    from airflow_mmc_provider.evaluation.pairwise import KINDS
    from airflow_mmc_provider.operators.leaderboard import _counting

    counting = _counting(kinds, per_prompt, questions)
    return {
        "kinds": counting.get("kinds", KINDS),
        "features": counting.get("features"),
        "per_prompt": counting["per_prompt"],
    }
