"""`MmcLeaderboardOperator`: an exported round -> leaderboard JSON, CSV and an HTML report.

Reads export files (NDJSON at any `ObjectStoragePath`) in one streaming pass, computes the
Bradley-Terry leaderboard with bootstrap intervals and the other round statistics
(`airflow_mmc_provider.evaluation`), and writes `leaderboard.json`, `leaderboard.csv`,
`win_rates.csv` and `report.html` to `output_dir`. Several exports (rounds) combine into one
running leaderboard.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, BaseOperator

from airflow_mmc_provider.operators._xcom import set_asset_extras

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_mmc_provider.evaluation import Leaderboard


_BLOCK_BYTES = 1 << 20
_WORKERS_DEPRECATED = (
    "MmcLeaderboardOperator(workers=...) is deprecated and ignored: the labels are counted in the task's "
    "process. To spread a large round, count export parts or rounds in mapped tasks and merge their "
    "states (LeaderboardAccumulator.from_state(...) and evaluation.merge)."
)


class MmcLeaderboardOperator(BaseOperator):
    """Compute a round's leaderboard from exported labels and write it for machines and people.

    :param export_paths: one path/URL or several (templated); typically the export task's `path`; a
        directory stands for all the exports in it (a running leaderboard over rounds).
    :param output_dir: where the JSON, CSV and HTML go (templated, any object storage).
    :param metadata: round metadata shown in the report, e.g. project and batch ids (templated).
    :param project_id: read labels of this project only (templated; default: every project in the file).
    :param resamples: bootstrap resamples for the intervals.
    :param seed: makes the intervals reproducible.
    :param max_bad_lines: malformed export lines tolerated (each is logged with its line number).
    :param workers: deprecated and ignored (removed in the next release): the labels are counted in
        the task's process. For large rounds, count export parts or rounds in mapped tasks and
        merge their states (``LeaderboardAccumulator.from_state`` and ``merge``).
    """

    template_fields: Sequence[str] = ("export_paths", "output_dir", "metadata", "project_id")
    template_fields_renderers = {"metadata": "json"}
    ui_color = "#fff3d6"

    def __init__(
        self,
        *,
        export_paths: str | ObjectStoragePath | list[str],
        output_dir: str | ObjectStoragePath,
        metadata: Mapping[str, Any] | None = None,
        project_id: str | None = None,
        resamples: int = 1000,
        seed: int = 0,
        max_bad_lines: int = 0,
        workers: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.export_paths = export_paths
        self.output_dir = output_dir
        self.metadata = dict(metadata or {})
        self.project_id = project_id
        self.resamples = resamples
        self.seed = seed
        self.max_bad_lines = max_bad_lines
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if workers != 1:
            warnings.warn(_WORKERS_DEPRECATED, DeprecationWarning, stacklevel=2)

    def execute(self, context: Context) -> dict[str, Any]:
        board = self._compute()
        if not board.rows:
            raise AirflowException(f"No comparable judgments in {self._paths()}; is the batch labelled?")
        summary = self._write(board)
        for row in board.rows:
            self.log.info(
                "#%d %-24s %7.1f  [%7.1f, %7.1f]  %d comparisons",
                row.rank,
                row.model,
                row.rating,
                row.ci_low,
                row.ci_high,
                row.comparisons,
            )
        set_asset_extras(context, self.outlets, {k: v for k, v in summary.items() if k != "models"})
        return summary

    def _paths(self) -> list[str]:
        """The export files; a directory stands for every `*.ndjson` export in it (not error files)."""
        from airflow_mmc_provider.operators.storage import as_storage_path

        given = self.export_paths
        paths: list[str] = []
        for item in given if isinstance(given, list | tuple) else [given]:
            location = as_storage_path(item)
            if location.is_dir():
                paths.extend(
                    str(p)
                    for p in sorted(location.iterdir(), key=str)
                    if p.name.endswith(".ndjson")
                    and not p.name.endswith(".errors.ndjson")
                    and not p.name.startswith(".")
                )
            else:
                paths.append(str(location))
        return paths

    def _compute(self) -> Leaderboard:
        from airflow_mmc_provider.evaluation import LeaderboardAccumulator
        from airflow_mmc_provider.mmc.export import ExportReader
        from airflow_mmc_provider.operators.storage import as_storage_path

        accumulator = LeaderboardAccumulator(seed=self.seed)
        options: dict[str, Any] = {"max_bad_lines": self.max_bad_lines}
        if self.project_id:
            options["project_ids"] = self.project_id
        for path in self._paths():
            with as_storage_path(path).open("rb") as handle:
                # whole blocks, not lines: the reader decodes runs of lines in one call
                blocks = iter(partial(handle.read, _BLOCK_BYTES), b"")
                accumulator.add_labels(ExportReader.from_chunks(blocks, **options))
        return accumulator.leaderboard(resamples=self.resamples)

    def _write(self, board: Leaderboard) -> dict[str, Any]:
        from airflow_mmc_provider.evaluation import leaderboard_csv, win_rate_csv
        from airflow_mmc_provider.evaluation.report import render_html
        from airflow_mmc_provider.operators.storage import as_storage_path, atomic_write

        out = as_storage_path(self.output_dir)
        data = board.to_dict()
        files = {
            "leaderboard.json": json.dumps(data, indent=2).encode(),
            "leaderboard.csv": leaderboard_csv(board).encode(),
            "win_rates.csv": win_rate_csv(board).encode(),
            "report.html": render_html(data, {**self.metadata, "exports": ", ".join(self._paths())}).encode(),
        }
        for name, content in files.items():
            with atomic_write(out / name) as handle:
                handle.write(content)
        return {
            "output_dir": str(out),
            "report": str(out / "report.html"),
            "leaderboard": str(out / "leaderboard.json"),
            "models": [row.to_dict() for row in board.rows],
            "counts": data.get("counts", {}),
        }
