"""`MmcLeaderboardOperator`: an exported round -> leaderboard JSON, CSV and an HTML report.

Reads export files (NDJSON at any `ObjectStoragePath`) in one streaming pass, computes the
Bradley-Terry leaderboard with bootstrap intervals and the other round statistics
(`airflow_mmc_provider.evaluation`), and writes `leaderboard.json`, `leaderboard.csv`,
`win_rates.csv`, `report.html` and the round's aggregate state `state.json` (the format:
`evaluation.round_state`; what the cross-round leaderboard, `operators.rounds`, merges) to
`output_dir`. Several exports (rounds) combine into one
running leaderboard: a folder is searched at any depth, so the round DAG's own layout
(``<output_dir>/<project>/<round>/export.ndjson``, with the round's ``leaderboard/`` beside it)
is read as it is written. Each export file is read once and each label counted once, however
often the paths name them (a folder and a file in it, or two exports of the same round).
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Final, cast

from airflow.providers.common.compat.sdk import AirflowException, BaseOperator

from airflow_mmc_provider.operators._xcom import push_keys, set_asset_extras
from airflow_mmc_provider.operators.storage import FoundFiles

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_mmc_provider.evaluation import Leaderboard
    from airflow_mmc_provider.evaluation.counts import CounterSettings, RoundCounts
    from airflow_mmc_provider.evaluation.pairwise import Counting, PerPrompt
    from airflow_mmc_provider.evaluation.round_state import RoundState


_BLOCK_BYTES = 1 << 20
_OWN_OUTPUT: Final = "leaderboard.json"  # marks a leaderboard's output folder: never read as input
_NAMED: Final = 5  # export files named in the log and in errors; the rest are counted
_NOT_FOUND_FIX = (
    "point export_paths at the folder the export task writes (the round DAG writes "
    "<output_dir>/<project_name>/<batch_name>/export.ndjson: give <output_dir>/<project_name> for "
    "every round), or run the export first"
)
_WORKERS_DEPRECATED = (
    "MmcLeaderboardOperator(workers=...) is deprecated and ignored: the labels are counted in the task's "
    "process. To spread a large round, count export parts or rounds in mapped tasks and merge their "
    "states (LeaderboardAccumulator.from_state(...) and evaluation.merge)."
)


class MmcLeaderboardOperator(BaseOperator):
    """Compute a round's leaderboard from exported labels and write it for machines and people.

    :param export_paths: one path/URL or several (templated); typically the export task's `path`; a
        folder stands for every export in it at any depth (``*.ndjson``, not ``*.errors.ndjson``,
        hidden files, ``output_dir`` or other folders holding a ``leaderboard.json``), read in path
        order: a running leaderboard over rounds.
        A file named twice is read once; a label id met twice is counted once (logged).
    :param output_dir: where the JSON, CSV and HTML go (templated, any object storage).
    :param metadata: round metadata shown in the report, e.g. project and batch ids (templated).
    :param project_id: read labels of this project only (templated; default: every project in the file).
    :param round_key: the round's key in ``state.json`` (templated; default: ``metadata["batch_name"]``,
        else the name of the folder holding the export files when they are all in one). With no
        round key (exports of several folders, no batch name) no ``state.json`` is written: such a
        running leaderboard is not one round.
    :param resamples: bootstrap resamples for the intervals.
    :param seed: makes the intervals reproducible.
    :param max_bad_lines: malformed export lines tolerated (each is logged with its line number).
    :param baseline_model: the model config name whose rating is fixed at 1000 (the scale's anchor;
        default: the mean of all models is 1000). A model present in every round keeps ratings of
        different rounds on one scale.
    :param judgment_kinds: which judgments make comparisons: ``ranking``, ``single_selection``,
        ``multi_selection`` (default: all three, subject to ``per_prompt``).
    :param per_prompt: ``"one"`` (default): each rater's preference on a prompt counts once, the
        ranking where there is one, else the single, else the multiple selection; ``"all"``:
        every judgment counts (an ontology asking all three on each prompt then counts one rater's
        view three times).
    :param questions: count judgments of these question (feature) names only (default: all).
    :param breakdowns: also count the comparisons per data-row metadata value and per turn into
        the round's state (`evaluation.breakdowns`, for the report's breakdowns). It reads each
        row's metadata and conversation once more: about half as long again as the pass without
        (12,000 rows: 3.0 s -> 4.3-4.8 s); switch it off for very large rounds that need no
        breakdowns.
    :param workers: deprecated and ignored (removed in the next release): the labels are counted in
        the task's process. For large rounds, count export parts or rounds in mapped tasks and
        merge their states (``LeaderboardAccumulator.from_state`` and ``merge``).
    """

    template_fields: Sequence[str] = ("export_paths", "output_dir", "metadata", "project_id", "round_key")
    template_fields_renderers = {"metadata": "json"}
    ui_color = "#fff3d6"

    def __init__(
        self,
        *,
        export_paths: str | ObjectStoragePath | list[str],
        output_dir: str | ObjectStoragePath,
        metadata: Mapping[str, Any] | None = None,
        project_id: str | None = None,
        round_key: str | None = None,
        resamples: int = 1000,
        seed: int = 0,
        max_bad_lines: int = 0,
        baseline_model: str | None = None,
        judgment_kinds: Sequence[str] | None = None,
        per_prompt: str = "one",
        questions: Sequence[str] | None = None,
        breakdowns: bool = True,
        workers: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.export_paths = export_paths
        self.output_dir = output_dir
        self.metadata = dict(metadata or {})
        self.project_id = project_id
        self.round_key = round_key
        self.resamples = resamples
        self.seed = seed
        self.max_bad_lines = max_bad_lines
        self.baseline_model = baseline_model
        self.breakdowns = breakdowns
        self.counting = _counting(judgment_kinds, per_prompt, questions)  # checked now, not at run time
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if workers != 1:
            warnings.warn(_WORKERS_DEPRECATED, DeprecationWarning, stacklevel=2)

    def execute(self, context: Context) -> dict[str, Any]:
        exports = self._find_exports()
        self.log.info("Reading %s", exports.describe())
        board, read, state = self._compute(exports.files)
        if not board.rows:
            raise AirflowException(_no_judgments(exports, read, board.counts, self.project_id))
        summary = self._write(board, exports.files)
        self._write_state(state, summary)
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
        push_keys(context, summary, ["state"])  # what a cross-round task takes from mapped rounds
        set_asset_extras(context, self.outlets, {k: v for k, v in summary.items() if k != "models"})
        return summary

    def _find_exports(self) -> ExportFiles:
        """The export files, checked before anything is read or written: a wrong folder or an
        export that has not run yet fails here with the paths looked at, not later as "no judgments"."""
        from airflow_mmc_provider.operators.storage import as_storage_path

        given = self.export_paths
        items = given if isinstance(given, list | tuple) else [given]
        exports = find_exports(items, skip=[str(as_storage_path(self.output_dir))])
        if not exports.files or exports.missing:
            what = (
                f"Export paths not found: {', '.join(exports.missing)}"
                if exports.missing
                else "No export files found"
            )
            raise AirflowException(f"{what}; looked at {exports.searched_text()}; {_NOT_FOUND_FIX}")
        return exports

    def _compute(self, files: Sequence[str]) -> tuple[Leaderboard, Counter[str], RoundState | None]:
        """The leaderboard of the files, what their readers read (for a helpful error), and the
        round's state (None without a round key)."""
        from airflow_mmc_provider.evaluation import LeaderboardAccumulator
        from airflow_mmc_provider.evaluation.assemble import assemble_leaderboard
        from airflow_mmc_provider.evaluation.breakdowns import BreakdownCounts
        from airflow_mmc_provider.evaluation.once import OncePerLabel
        from airflow_mmc_provider.evaluation.round_state import QuestionsSeen
        from airflow_mmc_provider.mmc.export import ExportReader
        from airflow_mmc_provider.operators.storage import as_storage_path

        settings: CounterSettings = {**self.counting, "seed": self.seed}
        accumulator = LeaderboardAccumulator(**settings)
        # row content: the metadata and turns the state's breakdowns count by
        options: dict[str, Any] = {"max_bad_lines": self.max_bad_lines, "row_content": self.breakdowns}
        if self.project_id:
            options["project_ids"] = self.project_id
        once, questions = OncePerLabel(), QuestionsSeen()
        breakdowns = BreakdownCounts(**cast("Counting", self.counting))
        read: Counter[str] = Counter()
        for path in files:
            with as_storage_path(path).open("rb") as handle:
                # whole blocks, not lines: the reader decodes runs of lines in one call
                blocks = iter(partial(handle.read, _BLOCK_BYTES), b"")
                reader = ExportReader.from_chunks(blocks, **options)
                accumulator.add_labels(breakdowns(questions(once(reader))))
            read.update(lines=reader.lines_read, rows=reader.rows_read, labels=reader.labels_read)
        if once.skipped:
            self.log.info(
                "Skipped %d duplicate labels: their label ids were already counted from an earlier "
                "export (the same round exported twice?)",
                once.skipped,
            )
        counts = accumulator.counts()
        comparison_questions = questions.comparison_questions(counts)
        cells = breakdowns.to_dict() if self.breakdowns else None
        state = self._round_state(files, counts, once.seen, comparison_questions, cells)
        if self.baseline_model is not None and self.baseline_model not in counts.models:
            raise AirflowException(
                f"baseline_model {self.baseline_model!r} made no comparison in these exports; models "
                f"compared: {', '.join(counts.models) or 'none'}. Give one of them, or leave "
                "baseline_model unset (the mean rating is then 1000)"
            )
        board = assemble_leaderboard(counts, resamples=self.resamples, anchor_model=self.baseline_model)
        return board, read, state

    def _round_state(
        self,
        files: Sequence[str],
        counts: RoundCounts,
        label_ids: Iterable[str],
        questions: frozenset[tuple[str, str]],
        breakdowns: dict[str, Any] | None,
    ) -> RoundState | None:
        from datetime import UTC, datetime

        from airflow_mmc_provider.evaluation.round_state import RoundIdentity, RoundState

        key = self._round_key(files)
        if key is None:
            return None
        identity = RoundIdentity(
            key=key,
            project_id=_text(self.project_id or self.metadata.get("project_id")),
            batch_id=_text(self.metadata.get("batch_id")),
            batch_name=_text(self.metadata.get("batch_name")),
            exports=tuple(files),
            written_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        ids = frozenset(i for i in label_ids if i)
        return RoundState(identity, counts, ids, questions, breakdowns=breakdowns)

    def _round_key(self, files: Sequence[str]) -> str | None:
        """`round_key`, else the batch name, else the one folder holding every export file."""
        from airflow_mmc_provider.operators.storage import as_storage_path

        given = _text(self.round_key) or _text(self.metadata.get("batch_name"))
        if given:
            return given
        folders = {as_storage_path(path).parent.name for path in files}
        return folders.pop() if len(folders) == 1 else None

    def _write_state(self, state: RoundState | None, summary: dict[str, Any]) -> None:
        """``state.json`` beside the leaderboard: what the cross-round leaderboard merges."""
        from airflow_mmc_provider.operators.storage import as_storage_path, atomic_write

        if state is None:
            self.log.info(
                "No state.json written: the exports are not one round (several folders and no "
                "round_key or metadata batch_name); give round_key to persist this round's state"
            )
            return
        path = as_storage_path(self.output_dir) / "state.json"
        with atomic_write(path) as handle:
            handle.write(json.dumps(state.to_dict(), separators=(",", ":")).encode())
        summary["state"] = str(path)
        summary["round_key"] = state.key
        self.log.info("Round %r: state of %d labels written to %s", state.key, len(state.label_ids), path)

    def _write(self, board: Leaderboard, exports: Sequence[str]) -> dict[str, Any]:
        from airflow_mmc_provider.evaluation import leaderboard_csv, win_rate_csv
        from airflow_mmc_provider.evaluation.report import render_html
        from airflow_mmc_provider.operators.storage import as_storage_path, atomic_write

        out = as_storage_path(self.output_dir)
        data = board.to_dict()
        files = {
            "leaderboard.json": json.dumps(data, indent=2).encode(),
            "leaderboard.csv": leaderboard_csv(board).encode(),
            "win_rates.csv": win_rate_csv(board).encode(),
            "report.html": render_html(data, {**self.metadata, "exports": ", ".join(exports)}).encode(),
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


def _counting(
    kinds: Sequence[str] | None, per_prompt: str, questions: Sequence[str] | None
) -> CounterSettings:
    """The counter's settings for which judgments count, checked when the DAG is parsed."""
    from airflow_mmc_provider.evaluation.counts import CounterConfig

    settings: CounterSettings = {"per_prompt": cast("PerPrompt", per_prompt)}
    if kinds is not None:
        settings["kinds"] = tuple(kinds)
    if questions is not None:
        settings["features"] = tuple(questions)
    CounterConfig.of(**settings)  # raises ValueError naming the bad value and the choices
    return settings


def is_export(name: str) -> bool:
    """An export's file name: NDJSON, not the errors stream beside it, not a hidden partial file."""
    return name.endswith(".ndjson") and not name.endswith(".errors.ndjson") and not name.startswith(".")


class ExportFiles(FoundFiles):
    """The distinct export files of the given paths, and what each given path held."""

    __slots__ = ()

    def describe(self) -> str:
        """For the log: how many files, the first few by name, and what was given."""
        named = ", ".join(self.files[:_NAMED])
        more = f" and {len(self.files) - _NAMED} more" if len(self.files) > _NAMED else ""
        again = f"; {self.repeated} named more than once, read once" if self.repeated else ""
        return f"{_export_files(len(self.files))} ({named}{more}) from {self.searched_text()}{again}"


def find_exports(given: Iterable[Any], *, skip: Sequence[str] = ()) -> ExportFiles:
    """Resolve paths, URLs and folders to export files (`storage.find_files`); a folder is
    searched at any depth, except `skip` and leaderboard output folders (a round's
    ``leaderboard/`` beside its export)."""
    from airflow_mmc_provider.operators.storage import find_files

    found = find_files(
        given,
        is_export,
        lambda count: f"{_export_files(count)} *.ndjson at any depth",
        skip=skip,
        skip_holding=_OWN_OUTPUT,
    )
    return ExportFiles(*found)


def _no_judgments(
    exports: ExportFiles, read: Counter[str], counts: dict[str, Any], project_id: str | None
) -> str:
    """Why export files that were found and read gave no leaderboard, and the likely fix."""
    if not read["lines"]:
        fix = "the export files are empty: check the export's batch and filters"
    elif project_id and not read["rows"]:
        fix = f"no row of project {project_id!r} in these exports: check project_id"
    elif not read["labels"]:
        fix = "the batch is not labelled yet: wait until it is (the round DAG's wait_for_labels), then export again"
    else:
        fix = "the labels hold no ranking or selection between two models: check the ontology's questions"
    what = (
        f"{read['lines']} lines, {read['rows']} rows, {read['labels']} labels, "
        f"{counts.get('judgments_total', 0)} judgments"
    )
    return f"No comparable judgments in {exports.describe()} ({what}); {fix}"


def _text(value: Any) -> str | None:
    """A templated value as text, None when empty (unset metadata, an XCom that rendered empty)."""
    return str(value) if value not in (None, "") else None


def _export_files(count: int) -> str:
    return f"{count} export file" if count == 1 else f"{count} export files"
