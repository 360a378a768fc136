"""`MmcCrossRoundLeaderboardOperator`: round states -> the cross-round leaderboard with trends.

Each round's `MmcLeaderboardOperator` writes ``state.json`` beside its ``leaderboard.json`` (the
round DAG: ``<output_dir>/<project>/<round>/leaderboard/state.json``). This operator merges those
states, never the exports: no export is read twice and no label counted twice
(`evaluation.rounds`), and writes to its ``output_dir``:

- ``rounds.json``: each round's ratings with intervals, per model family the change against the
  previous round with its bootstrap interval, models present in some rounds only, the pooled
  ratings (`evaluation.trends`, which documents the format and the definition of a move);
- ``trends.csv``: the family-by-round table of the same numbers;
- ``leaderboard.json`` / ``leaderboard.csv``: the pooled leaderboard of all rounds' counts.

It writes no ``state.json``, so its output is never read back as a round, and it never searches
its own ``output_dir``. Scale-out is Airflow's: rounds (or export parts) are counted in mapped
leaderboard tasks; their states are handed over by path (``state_paths=leaderboard.output``, the
mapped tasks' summaries, or the ``state`` XCom) or found under a folder, and merged here.

In a weekly DAG, after the round's own ``MmcLeaderboardOperator(..., round_key="{{ ds }}")``::

    MmcCrossRoundLeaderboardOperator(
        task_id="cross_round_leaderboard",
        state_paths="{{ params.output_dir }}/{{ params.project_name }}",  # every round's state
        output_dir="{{ params.output_dir }}/{{ params.project_name }}/cross-round",
        families={"atlas-large-*": "atlas-large"},
        reference_model="reference-model",  # a model (or family) present every week
        outlets=[CROSS_ROUND_LEADERBOARD],
    )

It returns (and puts on each outlet's asset event) ``{"output_dir", "rounds": [round keys in
order], "rounds_json", "trends", "leaderboard", "notes": [rounds given twice, replaced, questions
left out]}``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, BaseOperator

from airflow_mmc_provider.operators._xcom import set_asset_extras

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_mmc_provider.evaluation.round_state import RoundState
    from airflow_mmc_provider.evaluation.trends import CrossRoundView

STATE_FILE: Final = "state.json"
_NOT_FOUND_FIX = (
    "run the rounds' leaderboard tasks first (MmcLeaderboardOperator writes state.json beside each "
    "round's leaderboard.json), or point state_paths at the round DAG's <output_dir>/<project_name>, "
    "which holds <round>/leaderboard/state.json for every round"
)


class MmcCrossRoundLeaderboardOperator(BaseOperator):
    """Merge round states and write the per-round, trend and pooled views (module docstring).

    :param state_paths: state files, folders (searched at any depth for ``state.json``, hidden
        folders and ``output_dir`` excepted), or the summaries of `MmcLeaderboardOperator` tasks
        (their ``state`` entry): one or a list (templated). A file named twice is read once; a
        round given twice is counted once (logged).
    :param output_dir: where ``rounds.json``, ``trends.csv``, ``leaderboard.json`` and
        ``leaderboard.csv`` go (templated, any object storage).
    :param families: model (config) name or `fnmatch` pattern -> model family, e.g.
        ``{"atlas-large-*": "atlas-large"}`` (templated); an unmapped name is its own family.
    :param reference_model: the model or family whose rating is the anchor of every round
        (templated); without one in both rounds a change is "not comparable".
    :param resamples: bootstrap resamples of every round and of the pool.
    :param seed: the bootstrap seed (default: the rounds' own, which must be one).
    """

    template_fields: Sequence[str] = ("state_paths", "output_dir", "families", "reference_model")
    template_fields_renderers = {"families": "json"}
    ui_color = "#fff3d6"

    def __init__(
        self,
        *,
        state_paths: Any,
        output_dir: str | ObjectStoragePath,
        families: Mapping[str, str] | str | None = None,
        reference_model: str | None = None,
        resamples: int = 1000,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if resamples < 1:
            raise ValueError(
                f"resamples must be at least 1 (the changes are bootstrap intervals), got {resamples}"
            )
        self.state_paths = state_paths
        self.output_dir = output_dir
        self.families = families  # may be a template until rendered: checked in `execute`
        self.reference_model = reference_model
        self.resamples = resamples
        self.seed = seed

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_mmc_provider.evaluation.round_state import RoundStateError
        from airflow_mmc_provider.evaluation.trends import cross_round_view

        states = [self._read(path) for path in self._find_states()]
        try:
            view = cross_round_view(
                states,
                families=_families(self.families),
                reference_model=self.reference_model or None,
                resamples=self.resamples,
                seed=self.seed,
            )
        except RoundStateError as exc:
            raise AirflowException(str(exc)) from None
        for note in view.merged.notes:
            self.log.info("%s", note)
        self.log.info(
            "Merged %d rounds (%s) from %d state files",
            len(view.rounds),
            ", ".join(r.state.key for r in view.rounds),
            len(states),
        )
        summary = self._write(view)
        set_asset_extras(context, self.outlets, summary)
        return summary

    def _find_states(self) -> list[str]:
        """The distinct state files of `state_paths`; refused with every path looked at when a
        given path is missing or nothing is found, before anything is written."""
        from airflow_mmc_provider.operators.storage import as_storage_path, find_files

        skip = [str(as_storage_path(self.output_dir))]
        found = find_files(
            _items(self.state_paths),
            lambda name: name == STATE_FILE,
            lambda count: f"{_files(count)} at any depth",
            skip=skip,
        )
        if found.missing or not found.files:
            what = (
                f"Round state paths not found: {', '.join(found.missing)}"
                if found.missing
                else "No round states found"
            )
            raise AirflowException(
                f"{what}; looked at {found.searched_text() or 'no path'}; {_NOT_FOUND_FIX}"
            )
        self.log.info("Reading %s from %s", _files(len(found.files)), found.searched_text())
        return list(found.files)

    def _read(self, path: str) -> RoundState:
        from airflow_mmc_provider.evaluation.round_state import RoundState, RoundStateError
        from airflow_mmc_provider.operators.storage import as_storage_path

        with as_storage_path(path).open("rb") as handle:
            try:
                data = json.loads(handle.read())
            except ValueError as exc:
                raise AirflowException(f"Cannot read {path}: not JSON ({exc}); {_NOT_FOUND_FIX}") from None
        try:
            return RoundState.from_dict(data, source=path)
        except RoundStateError as exc:
            raise AirflowException(str(exc)) from None

    def _write(self, view: CrossRoundView) -> dict[str, Any]:
        from airflow_mmc_provider.evaluation import leaderboard_csv
        from airflow_mmc_provider.evaluation.trends import trends_csv
        from airflow_mmc_provider.operators.storage import as_storage_path, atomic_write

        out = as_storage_path(self.output_dir)
        files = {
            "rounds.json": json.dumps(view.to_dict(), indent=2).encode(),
            "trends.csv": trends_csv(view).encode(),
            "leaderboard.json": json.dumps(view.pooled.to_dict(), indent=2).encode(),
            "leaderboard.csv": leaderboard_csv(view.pooled).encode(),
        }
        for name, content in files.items():
            with atomic_write(out / name) as handle:
                handle.write(content)
        return {
            "output_dir": str(out),
            "rounds": [r.state.key for r in view.rounds],
            "rounds_json": str(out / "rounds.json"),
            "trends": str(out / "trends.csv"),
            "leaderboard": str(out / "leaderboard.json"),
            "notes": list(view.merged.notes),
        }


def _items(given: Any) -> Iterable[Any]:
    """Paths one by one: a single path, a list of them, or leaderboard summaries (their ``state``)."""
    items = [given] if isinstance(given, str | os.PathLike | Mapping) or hasattr(given, "protocol") else given
    for item in items:
        if isinstance(item, Mapping):
            if not item.get("state"):
                raise AirflowException(
                    f"The leaderboard summary {dict(item).get('output_dir')!r} names no state: that task "
                    "wrote none (no round_key); give the leaderboard task round_key"
                )
            yield item["state"]
        else:
            yield item


def _files(count: int) -> str:
    return f"{count} {STATE_FILE}" if count == 1 else f"{count} {STATE_FILE} files"


def _families(given: Any) -> dict[str, str]:
    """The rendered ``families``: a mapping of strings (a JSON object text is read too)."""
    if isinstance(given, str):
        try:
            given = json.loads(given) if given.strip() else {}
        except ValueError:
            given = None
    if given is None:
        return {}
    if not isinstance(given, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in given.items()
    ):
        raise AirflowFailException(  # the DAG's to fix: a retry would only repeat it
            f"families must map model config names or fnmatch patterns to family names, e.g. "
            f'{{"atlas-large-*": "atlas-large"}}; got {given!r}'
        )
    return dict(given)
