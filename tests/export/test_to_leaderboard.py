"""From export lines to a leaderboard, end to end, through a downloaded-chunk stream."""

from __future__ import annotations

import json
import random

from airflow_mmc_provider.evaluation import compute_leaderboard
from airflow_mmc_provider.mmc.export import ExportReader, split_lines

from . import lines as L


def test_export_lines_to_leaderboard() -> None:
    rng = random.Random(0)
    models = ["gpt", "claude", "gemini"]
    strength = {"gpt": 3.0, "claude": 2.0, "gemini": 1.0}
    export = []
    for k in range(60):
        shown = rng.sample(models, 3)
        labels = []
        for r in range(1 if k % 3 else 2):
            order = sorted(shown, key=lambda m: -strength[m] * rng.random())
            labels.append(
                L.label(
                    f"row{k}-label{r}",
                    rater=f"rater{r}@example.com",
                    objects=[L.ranking("rank", list(order)), L.single("best", order[0])],
                    classifications=[
                        L.radio("overall", rng.choice(["Good", "Bad"])),
                        L.radio("correct", rng.choice(["Yes", "No"]), message=f"resp-{shown[0]}"),
                        L.text("reason", f"{order[0]} was better"),
                    ],
                )
            )
        export.append(L.line(f"row{k}", labels, models=shown, row_data_as_string=k % 2 == 0))
    data = b"\n".join(L.ndjson(*export)) + b"\n"
    chunks = [data[i : i + 997] for i in range(0, len(data), 997)]
    reader = ExportReader(split_lines(chunks))
    # every judgment counted: the ranking and the best-response selection of each label
    board = compute_leaderboard(reader, seed=3, resamples=200, per_prompt="all")
    assert reader.lines_read == 60 and reader.labels_read == 80
    result = json.loads(json.dumps(board.to_dict(), allow_nan=False))
    assert [m["model"] for m in result["models"]] == ["gpt", "claude", "gemini"]
    counts = result["counts"]
    assert counts["labels"] == 80 and counts["rows"] == 60 and counts["raters"] == 2
    assert counts["judgments"] == {"ranking": 80, "single_selection": 80, "multi_selection": 0}
    assert counts["comparisons"] == 80 * 3 + 80 * 2
    assert result["agreement"]["preferred"]["units"] == 40  # 20 consensus rows x (rank, best)
    tallies = {t["question"]: t["targets"] for t in result["tallies"]}
    assert set(tallies["correct"]) <= {"gpt", "claude", "gemini"}
    assert sum(v["answered"] for v in tallies["correct"].values()) == 80
    assert result["text_samples"]["reason"]["answers"] == 80
    assert len(result["text_samples"]["reason"]["samples"]) == 20
    # by default a rater's preference on the prompt counts once: the ranking, not also the selection
    default = compute_leaderboard(ExportReader(split_lines(chunks)), seed=3, resamples=0).counts
    assert default["judgments"] == {"ranking": 80, "single_selection": 0, "multi_selection": 0}
    assert default["comparisons"] == 80 * 3
