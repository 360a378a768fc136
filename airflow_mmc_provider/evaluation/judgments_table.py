"""The judgments table: one row per comparison the leaderboard counts, for a warehouse or a BI tool.

A data-platform team loads a round's results into its own tools; the leaderboard is an aggregate
and the export is nested JSON. This table is the level in between: one row per pairwise
comparison that enters the Bradley-Terry fit (a ranking of n responses gives its pairs, a
selection the pairs of a selected and an unselected response; unresolved and same-model pairs are
left out, as the counter leaves them out), so its row count is the leaderboard's ``comparisons``.
The rows of one judgment share its ``judgment_id``. The pairs come from `pairwise` (the one
definition of the rules the counter's signatures implement).

The schema is `COLUMNS` (and `TABLE_VERSION`, raised whenever a column changes meaning or goes
away; new columns are added at the end), then one ``metadata.<name>`` column per data-row
metadata field, sorted by name, so a team can slice by its own ``category``. The README's
"Judgments table" section documents the same columns (a test compares them).

Writers: CSV always (the csv module; empty cell for a missing value) and Parquet when pyarrow is
installed (``pip install 'airflow-mmc-provider[parquet]'``), both streaming: CSV row by row,
Parquet in row groups of `ROW_GROUP_ROWS`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from functools import partial
from typing import IO, Any, Final, Literal, NamedTuple

from airflow_mmc_provider.evaluation.once import OncePerLabel
from airflow_mmc_provider.evaluation.pairwise import KINDS, Judgment, PerPrompt, judgments, pair_indices
from airflow_mmc_provider.evaluation.style import ResponseStyle, response_style
from airflow_mmc_provider.mmc.export import (
    ExportReader,
    LabelRecord,
    MetadataValue,
    RankedResponse,
    Response,
    metadata_field_names,
    split_lines,
)

__all__ = [
    "COLUMNS",
    "FORMATS",
    "METADATA_PREFIX",
    "PARQUET_EXTRA",
    "TABLE_VERSION",
    "Column",
    "JudgmentsTableError",
    "compared_pairs",
    "judgment_rows",
    "table_columns",
    "table_formats",
    "write_export_table",
    "write_tables",
]

TABLE_VERSION: Final = 1
METADATA_PREFIX: Final = "metadata."
ROW_GROUP_ROWS: Final = 64 * 1024
_READ_BYTES: Final = 1 << 20  # an export is read in blocks of this size (the reader decodes runs of lines)
FORMATS: Final = ("csv", "parquet")
PARQUET_EXTRA: Final = "pip install 'airflow-mmc-provider[parquet]'"

ColumnType = Literal["string", "int64"]


class Column(NamedTuple):
    name: str
    type: ColumnType
    description: str


def _response_columns(side: str) -> tuple[Column, ...]:
    return (
        Column(f"message_{side}_id", "string", f"message id of response {side}"),
        Column(f"position_{side}", "int64", f"display position of response {side} (0 = shown first)"),
        Column(f"length_{side}", "int64", f"response {side}'s text length in characters"),
        Column(f"headers_{side}", "int64", f"markdown headers in response {side}"),
        Column(f"list_items_{side}", "int64", f"markdown list items in response {side}"),
        Column(f"bold_{side}", "int64", f"markdown bold spans in response {side}"),
    )


COLUMNS: Final[tuple[Column, ...]] = (
    Column("table_version", "int64", "the schema version, `TABLE_VERSION`"),
    Column("round", "string", "the round key (default: the data row's batch name)"),
    Column("project_id", "string", "Labelbox project id"),
    Column("batch_id", "string", "Labelbox batch id of the data row"),
    Column("batch_name", "string", "Labelbox batch name of the data row"),
    Column("global_key", "string", "the data row's global key"),
    Column("data_row_id", "string", "Labelbox data row id"),
    Column("label_id", "string", "Labelbox label id"),
    Column("rater", "string", "the label's author (label_details.created_by)"),
    Column("created_at", "string", "when the label was created (label_details.created_at, ISO 8601)"),
    Column("judgment_id", "string", "`<label_id>:<n>`: the rows of one judgment (n from 1 within the label)"),
    Column("kind", "string", "ranking, single_selection or multi_selection"),
    Column("question", "string", "the judgment's question (the ontology feature's name)"),
    Column("parent_message_id", "string", "the prompt message whose responses were compared"),
    Column("model_a", "string", "model config name of response a (shown before b when positions are known)"),
    Column("model_b", "string", "model config name of response b"),
    Column("outcome", "string", "a, b (the preferred response) or tie"),
    *_response_columns("a"),
    *_response_columns("b"),
)


class JudgmentsTableError(ValueError):
    """A judgments table that cannot be written as asked (an unknown format, Parquet without pyarrow)."""


def table_columns(metadata_names: Iterable[str]) -> tuple[Column, ...]:
    """`COLUMNS` then one string column per metadata field name, sorted."""
    return COLUMNS + tuple(
        Column(f"{METADATA_PREFIX}{name}", "string", f"the data row's metadata field {name!r}")
        for name in sorted(set(metadata_names))
    )


Row = tuple[Any, ...]  # one value per column of `table_columns`, in order
Shown = Response | RankedResponse  # a compared response: message id, model, display position
_NO_STYLE: Final = (None, None, None, None)


def judgment_rows(
    labels: Iterable[LabelRecord],
    metadata_names: Sequence[str],
    *,
    round_key: str | None = None,
    kinds: Collection[str] = KINDS,
    features: Collection[str] | None = None,
    per_prompt: PerPrompt = "one",
) -> Iterator[Row]:
    """The table's rows of each label, in the column order of ``table_columns(metadata_names)``.

    ``metadata_names`` must be sorted (as `table_columns` and `mmc.export.metadata_field_names`
    give them). Labels read with ``row_content=True`` carry the metadata and response texts;
    without it those cells are empty. ``kinds``, ``features`` and ``per_prompt`` choose the
    judgments that count as the leaderboard's settings of the same names do (`pairwise.counted`).
    """
    names = tuple(metadata_names)
    styles: dict[str, ResponseStyle] = {}
    last_content: object = None
    for label in labels:
        content = label.content
        if content is not last_content:
            styles, last_content = {}, content
        texts = content.response_texts if content is not None else {}
        metadata = tuple(_cell(content.metadata.get(n)) if content is not None else None for n in names)
        head = _label_cells(label, round_key)
        counted = judgments(label, kinds=kinds, features=features, per_prompt=per_prompt)
        for number, judgment in enumerate(counted, 1):
            judged = (*head, f"{label.label_id}:{number}", judgment.kind, judgment.feature)
            for a, b, outcome in compared_pairs(judgment):
                yield (
                    *judged,
                    judgment.parent_message_id,
                    a.model,
                    b.model,
                    outcome,
                    a.message_id,
                    a.position,
                    *_style(a.message_id, texts, styles),
                    b.message_id,
                    b.position,
                    *_style(b.message_id, texts, styles),
                    *metadata,
                )


def _label_cells(label: LabelRecord, round_key: str | None) -> Row:
    """The cells every row of a label shares, `COLUMNS` from ``table_version`` to ``created_at``."""
    return (
        TABLE_VERSION,
        round_key if round_key is not None else label.batch_name,
        label.project_id,
        label.batch_id,
        label.batch_name,
        label.global_key,
        label.data_row_id,
        label.label_id,
        label.rater,
        label.created_at,
    )


def compared_pairs(judgment: Judgment) -> Iterator[tuple[Shown, Shown, str]]:
    """(response a, response b, outcome) of each comparison of a judgment, as the counter counts
    them: pairs with an unknown or repeated model are left out; a is the one shown first when
    both positions are known, else the preferred one; the outcome is a, b or tie."""
    responses = judgment.responses
    for better, worse, tie in pair_indices(judgment):
        a, b = responses[better], responses[worse]
        if a.model is None or b.model is None or a.model == b.model:
            continue
        if a.position is not None and b.position is not None and b.position < a.position:
            yield b, a, "tie" if tie else "b"
        else:
            yield a, b, "tie" if tie else "a"


def _style(
    message_id: str, texts: Mapping[str, str], styles: dict[str, ResponseStyle]
) -> tuple[int | None, ...]:
    """A response's (length, headers, list items, bold), counted once per row; None when its text
    is not known."""
    style = styles.get(message_id)
    if style is None:
        text = texts.get(message_id)
        if text is None:
            return _NO_STYLE
        style = styles[message_id] = response_style(text)
    return style


def _cell(value: MetadataValue) -> str | None:
    """A metadata value as the table's text (booleans and numbers as JSON writes them)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def table_formats(requested: str | Sequence[str]) -> tuple[str, ...]:
    """The formats to write: ``"auto"`` is CSV, and Parquet when pyarrow is installed; ``"csv"``,
    ``"parquet"`` or a list of them as given. Parquet without pyarrow is an error naming the extra."""
    if isinstance(requested, str):
        if requested == "auto":
            return ("csv", "parquet") if _pyarrow_installed() else ("csv",)
        requested = (requested,)
    unknown = [f for f in requested if f not in FORMATS]
    if unknown or not requested:
        raise JudgmentsTableError(
            f"unknown judgments table format(s) {unknown or list(requested)}; use 'auto' or some of {list(FORMATS)}"
        )
    if "parquet" in requested and not _pyarrow_installed():
        raise JudgmentsTableError(
            f"a Parquet judgments table needs pyarrow, which is not installed: {PARQUET_EXTRA} "
            "(or write 'csv' only)"
        )
    return tuple(dict.fromkeys(requested))


def _pyarrow_installed() -> bool:
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def write_tables(
    rows: Iterable[Row],
    columns: Sequence[Column],
    outputs: Mapping[str, IO[bytes]],
    *,
    row_group_rows: int = ROW_GROUP_ROWS,
) -> int:
    """Write ``rows`` once into each output (format -> binary handle, left open); the row count.

    One pass feeds every format, so the export is read once whatever is written.
    """
    sinks: list[_CsvSink | _ParquetSink] = []
    for fmt, handle in outputs.items():
        if fmt == "csv":
            sinks.append(_CsvSink(handle, columns))
        elif fmt == "parquet":
            sinks.append(_ParquetSink(handle, columns, row_group_rows))
        else:
            raise JudgmentsTableError(f"unknown judgments table format {fmt!r}; use some of {list(FORMATS)}")
    count = 0
    for row in rows:
        count += 1
        for sink in sinks:
            sink.add(row)
    for sink in sinks:
        sink.close()
    return count


class _CsvSink:
    """CSV with a header of the column names; a missing value is an empty cell."""

    def __init__(self, handle: IO[bytes], columns: Sequence[Column]) -> None:
        self._text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        self._writer = csv.writer(self._text)
        self._writer.writerow([c.name for c in columns])

    def add(self, row: Row) -> None:
        self._writer.writerow(row)

    def close(self) -> None:
        self._text.flush()
        self._text.detach()  # the caller closes the handle


class _ParquetSink:
    """Parquet in row groups of ``group`` rows, typed by the columns, the version in the metadata."""

    def __init__(self, handle: IO[bytes], columns: Sequence[Column], group: int) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        types = {"string": pa.string(), "int64": pa.int64()}
        self._pa = pa
        self._schema = pa.schema(
            [pa.field(c.name, types[c.type]) for c in columns],
            metadata={"judgments_table_version": str(TABLE_VERSION)},
        )
        self._writer = pq.ParquetWriter(handle, self._schema)
        self._group = group
        self._rows: list[Row] = []

    def add(self, row: Row) -> None:
        self._rows.append(row)
        if len(self._rows) >= self._group:
            self._write()

    def _write(self) -> None:
        pa, schema = self._pa, self._schema
        arrays = [
            pa.array(values, type=field.type)
            for values, field in zip(zip(*self._rows, strict=True), schema, strict=True)
        ]
        self._writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
        self._rows = []

    def close(self) -> None:
        if self._rows:
            self._write()
        self._writer.close()


def write_export_table(
    open_export: Callable[[], AbstractContextManager[IO[bytes]]],
    outputs: Mapping[str, IO[bytes]],
    *,
    round_key: str | None = None,
    project_ids: str | Collection[str] | None = None,
    kinds: Collection[str] = KINDS,
    features: Collection[str] | None = None,
    per_prompt: PerPrompt = "one",
) -> int:
    """The judgments table of one export file into ``outputs`` (format -> binary handle); the row count.

    ``open_export`` opens the export anew (a path's ``open("rb")``): it is read twice, first for the
    metadata field names the header needs (a pass that decodes nothing else), then for the rows,
    so nothing of the export is held in memory. Each label id counts once, as in the leaderboard.
    """
    with open_export() as handle:
        names = metadata_field_names(split_lines(iter(partial(handle.read, _READ_BYTES), b"")))
    with open_export() as handle:
        blocks = iter(partial(handle.read, _READ_BYTES), b"")
        reader = ExportReader.from_chunks(blocks, project_ids=project_ids, row_content=True)
        labels = OncePerLabel()(reader.labels())
        rows = judgment_rows(
            labels, names, round_key=round_key, kinds=kinds, features=features, per_prompt=per_prompt
        )
        return write_tables(rows, table_columns(names), outputs)
