"""Export lines -> leaderboard -> HTML report, checked by rendering the page in headless Chromium."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from airflow_mmc_provider.evaluation import compute_leaderboard
from airflow_mmc_provider.evaluation.report import render_html
from airflow_mmc_provider.mmc.export import iter_labels

MODELS = {"alpha": 1.2, "beta": 0.4, "gamma": -0.6}
MMC = "application/vnd.labelbox.conversational.model-chat-evaluation"


def export_line(index: int, rng: random.Random) -> bytes:
    """One exported row in Labelbox's layout with a ranking and two classifications."""
    messages = {"p": {"actorId": "u", "content": [{"type": "text", "content": "q"}], "childMessageIds": []}}
    actors = {"u": {"role": "human", "metadata": {"name": "User"}}}
    for model in MODELS:
        actors[f"a-{model}"] = {"role": "model", "metadata": {"modelConfigName": model}}
        messages[f"m-{model}"] = {
            "actorId": f"a-{model}",
            "content": [{"type": "text", "content": model}],
            "childMessageIds": [],
        }
        messages["p"]["childMessageIds"].append(f"m-{model}")
    row_data = {"type": MMC, "version": 2, "actors": actors, "messages": messages, "rootMessageIds": ["p"]}
    scores = {m: s + rng.gauss(0, 1) for m, s in MODELS.items()}
    order = sorted(scores, key=scores.get, reverse=True)
    ranked = [{"message_id": f"m-{m}", "model_config_name": m, "order": i + 1} for i, m in enumerate(order)]
    label = {
        "id": f"label-{index}",
        "label_details": {
            "created_by": f"rater{index % 3}@example.com",
            "created_at": "2026-11-01T00:00:00.000+00:00",
        },
        "annotations": {
            "objects": [
                {
                    "name": "Rank the responses",
                    "annotation_kind": "MessageRanking",
                    "classifications": [],
                    "ranked_messages": {"ranked_messages": ranked, "parent_message_id": "p"},
                }
            ],
            "classifications": [
                {
                    "name": "Prompt difficulty",
                    "value": "prompt_difficulty",
                    "radio_answer": {
                        "name": rng.choice(["easy", "hard"]),
                        "value": "x",
                        "classifications": [],
                    },
                },
                {
                    "name": "Response quality",
                    "value": "response_quality",
                    "message_id": f"m-{order[0]}",
                    "conversational_radio_answer": {"name": "good", "value": "good", "classifications": []},
                },
            ],
            "relationships": [],
        },
    }
    line = {
        "data_row": {"id": f"dr-{index}", "global_key": f"gk-{index}", "row_data": json.dumps(row_data)},
        "projects": {
            "proj": {"name": "p", "labels": [label], "project_details": {"workflow_status": "DONE"}}
        },
    }
    return json.dumps(line).encode()


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    rng = random.Random(5)
    board = compute_leaderboard(iter_labels(export_line(i, rng) for i in range(150)), seed=1, resamples=200)
    assert [row.model for row in board.rows] == ["alpha", "beta", "gamma"]
    html = render_html(
        board.to_dict(), {"project_id": "proj", "batch_name": "round-1", "export_task_id": "t1"}
    )
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(html)
    return path


def test_report_is_self_contained(report):
    html = report.read_text()
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert 'id="leaderboard"' in html and 'id="ratings-chart"' in html and 'id="win-rate-heatmap"' in html
    assert "Response quality" in html and "round-1" in html


def test_report_renders_in_headless_chromium_with_table_and_charts(report, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "chromium is missing: `make test` installs Debian's chromium package"
    args = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run([*args, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = dom.stdout
    assert rendered.count("<tr>") >= 4  # header + three models
    for chart in ('id="ratings-chart"', 'id="win-rate-heatmap"', 'class="answer-distribution"'):
        assert chart in rendered
    shot = tmp_path / "report.png"
    subprocess.run(
        [*args, f"--screenshot={shot}", "--window-size=1200,1600", report.as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 10_000
