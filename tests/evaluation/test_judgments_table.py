"""The judgments table: its rows are the leaderboard's comparisons, with metadata and response style."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from airflow_mmc_provider.evaluation import compute_leaderboard
from airflow_mmc_provider.evaluation.judgments_table import (
    COLUMNS,
    TABLE_VERSION,
    JudgmentsTableError,
    judgment_rows,
    table_columns,
    table_formats,
    write_tables,
)
from airflow_mmc_provider.mmc.export import ExportReader, metadata_field_names
from tests.export import lines as L

MODELS = ["atlas", "borealis", "cirrus"]
TEXTS = {
    "atlas": "# Answer\n- one\n- two\n**Paris**",
    "borealis": "Paris.",
    "cirrus": "## Short\n```\n# code, not a header\n```\n__Paris__ and **France**",
}


def document(models: list[str]) -> dict[str, Any]:
    doc = L.conversation(models)
    for model in models:
        doc["messages"][f"resp-{model}"]["content"] = [{"type": "text", "content": TEXTS[model]}]
    return doc


def metadata(category: str) -> list[dict[str, Any]]:
    return [
        {"schema_id": "cat-id", "schema_name": "category", "value": category},
        {"schema_id": "tier-id", "schema_name": "tier", "value": {"schema_id": "o1", "schema_name": "gold"}},
        {"schema_id": "n-id", "schema_name": "turns", "value": 3},
    ]


def export_lines() -> list[bytes]:
    """Two rows: one with a tied ranking, a single and a multi selection by two raters; one with
    an unresolved model (not a comparison) and no metadata."""
    first = L.line(
        "row-1",
        [
            L.label(
                "label-1",
                objects=[
                    L.ranking("rank", ["cirrus", ["atlas", "borealis"]]),
                    L.single("best", "borealis"),
                    L.multi("good", ["atlas"]),
                ],
                rater="ann@example.com",
            ),
            L.label(
                "label-2",
                objects=[L.ranking("rank", ["atlas", "borealis", "cirrus"])],
                rater="bo@example.com",
            ),
        ],
        document=document(MODELS),
    )
    first["metadata_fields"] = metadata("math")
    unnamed = document(["atlas", "borealis"])  # and a third response of an unnamed model
    unnamed["actors"]["actor-x"] = {"role": "model", "metadata": {}}
    unnamed["messages"]["resp-x"] = {"actorId": "actor-x", "content": [{"type": "text", "content": "?"}]}
    unnamed["messages"]["prompt"]["childMessageIds"].append("resp-x")
    objects = [L.ranking("rank", ["atlas", "borealis"]), L.single("best", "atlas")]
    second = L.line("row-2", [L.label("label-3", objects=objects)], document=unnamed)
    return L.ndjson(first, second)


def labels(lines: list[bytes], *, row_content: bool = True) -> list:
    return list(ExportReader(lines, row_content=row_content).labels())


def test_the_reader_gives_metadata_and_response_texts_only_when_asked() -> None:
    lines = export_lines()
    plain = labels(lines, row_content=False)
    assert all(label.content is None for label in plain)
    first, second, third = labels(lines)
    assert first.content is second.content  # one per row, shared by its labels
    assert first.content.metadata == {"category": "math", "tier": "gold", "turns": 3}
    assert first.content.response_texts == {f"resp-{m}": TEXTS[m] for m in MODELS}
    assert third.content.metadata == {}
    assert metadata_field_names(lines) == ["category", "tier", "turns"]


def written_csv(lines: list[bytes], **options: Any) -> list[dict[str, str]]:
    names = metadata_field_names(lines)
    out = io.BytesIO()
    count = write_tables(judgment_rows(labels(lines), names, **options), table_columns(names), {"csv": out})
    text = out.getvalue().decode()
    header = next(csv.reader(io.StringIO(text)))
    assert header == [c.name for c in table_columns(names)]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == count
    return rows


def judgment_sizes(rows: list[dict[str, str]]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for row in rows:
        sizes[row["judgment_id"]] = sizes.get(row["judgment_id"], 0) + 1
    return sizes


def test_one_row_per_comparison_the_leaderboard_counts() -> None:
    lines = export_lines()
    # by default each rater's preference on a prompt counts once: the ranking where there is one
    rows = written_csv(lines)
    board = compute_leaderboard(labels(lines), seed=1, resamples=10).to_dict()
    assert len(rows) == board["counts"]["comparisons"] == 3 + 3 + 1
    assert judgment_sizes(rows) == {"label-1:1": 3, "label-2:1": 3, "label-3:1": 1}
    assert {r["kind"] for r in rows} == {"ranking"}
    # every judgment: the selections' pairs too, but never the unnamed model's
    rows = written_csv(lines, per_prompt="all")
    board = compute_leaderboard(labels(lines), seed=1, resamples=10, per_prompt="all").to_dict()
    assert len(rows) == board["counts"]["comparisons"] == 3 + 2 + 2 + 3 + 1 + 1
    assert board["counts"]["unresolved_pairs"] == 1
    assert judgment_sizes(rows) == {
        "label-1:1": 3,
        "label-1:2": 2,
        "label-1:3": 2,
        "label-2:1": 3,
        "label-3:1": 1,
        "label-3:2": 1,
    }
    assert {r["table_version"] for r in rows} == {str(TABLE_VERSION)}
    assert {r["round"] for r in rows} == {"round-1"}  # the batch name by default


def test_pairs_in_display_order_with_outcome_style_and_metadata() -> None:
    rows = written_csv(export_lines(), round_key="week-1")
    tie = next(r for r in rows if r["judgment_id"] == "label-1:1" and r["outcome"] == "tie")
    assert (tie["model_a"], tie["model_b"], tie["position_a"], tie["position_b"]) == (
        "atlas",
        "borealis",
        "0",
        "1",
    )
    # cirrus (shown third) ranked first: b won against atlas, shown first
    won = next(
        r
        for r in rows
        if r["judgment_id"] == "label-1:1" and r["model_b"] == "cirrus" and r["model_a"] == "atlas"
    )
    assert won["outcome"] == "b" and won["kind"] == "ranking" and won["question"] == "rank"
    assert (won["length_a"], won["headers_a"], won["list_items_a"], won["bold_a"]) == (
        str(len(TEXTS["atlas"])),
        "1",
        "2",
        "1",
    )
    assert (won["headers_b"], won["list_items_b"], won["bold_b"]) == ("1", "0", "2")
    assert (
        won["metadata.category"] == "math" and won["metadata.tier"] == "gold" and won["metadata.turns"] == "3"
    )
    assert (won["round"], won["rater"], won["global_key"]) == ("week-1", "ann@example.com", "gk-row-1")
    last = [r for r in rows if r["label_id"] == "label-3"]
    assert (
        len(last) == 1
        and last[0]["metadata.category"] == ""
        and last[0]["length_a"] == str(len(TEXTS["atlas"]))
    )


def test_formats_and_the_error_without_pyarrow(monkeypatch: pytest.MonkeyPatch) -> None:
    import airflow_mmc_provider.evaluation.judgments_table as table

    monkeypatch.setattr(table, "_pyarrow_installed", lambda: False)
    assert table_formats("auto") == ("csv",)
    assert table_formats(["csv", "csv"]) == ("csv",)
    with pytest.raises(JudgmentsTableError, match=r"pip install 'airflow-mmc-provider\[parquet\]'"):
        table_formats("parquet")
    with pytest.raises(JudgmentsTableError, match="unknown judgments table format"):
        table_formats("xlsx")
    monkeypatch.setattr(table, "_pyarrow_installed", lambda: True)
    assert table_formats("auto") == ("csv", "parquet")


def test_parquet_has_the_csv_rows_typed_in_row_groups() -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    lines = export_lines()
    names = metadata_field_names(lines)
    columns = table_columns(names)
    csv_out, parquet_out = io.BytesIO(), io.BytesIO()
    rows = judgment_rows(labels(lines), names, per_prompt="all")
    count = write_tables(rows, columns, {"csv": csv_out, "parquet": parquet_out}, row_group_rows=5)
    parquet_out.seek(0)
    parquet = pq.ParquetFile(parquet_out)
    assert parquet.metadata.num_rows == count == 12 and parquet.metadata.num_row_groups == 3
    table = parquet.read()
    assert table.column_names == [c.name for c in columns]
    assert str(table.schema.field("position_a").type) == "int64"
    assert table.schema.metadata[b"judgments_table_version"] == str(TABLE_VERSION).encode()
    from_csv = list(csv.reader(io.StringIO(csv_out.getvalue().decode())))[1:]
    as_text = [["" if v is None else str(v) for v in row.values()] for row in table.to_pylist()]
    assert as_text == from_csv


def test_columns_are_documented_in_the_readme() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("### Judgments table", 1)[1].split("\n#", 1)[0]
    documented = [line.split("`")[1] for line in section.splitlines() if line.startswith("| `")]
    assert documented == [c.name for c in COLUMNS] + ["metadata.<name>"]
