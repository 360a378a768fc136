"""`make demo`: one whole evaluation round against the local Labelbox emulator, ending in a leaderboard.

Starts the emulator with simulated raters (state under .demo/emulator), points the
`labelbox_default` connection at it, runs the `mmc_evaluation_round` DAG with `airflow dags test`
on the 240 sample conversations over 4 model configs, prints the leaderboard and the path of the
HTML report, and stops the emulator. The raters' latent skills are known, so the printed order
can be checked against the truth. A second run finds everything and changes nothing upstream.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / ".demo"
API_KEY = "emulator-demo-key-0123456789"
# Latent skills of the sample's model configs (the truth the leaderboard should recover).
SKILLS = {"atlas-large": 1.0, "dynamo-pro": 0.6, "borealis-7b": 0.0, "cirrus-mini": -0.7}
RATERS = {
    "seed": 2026,
    "raters": 6,
    "skills": SKILLS,
    "noise": 0.6,
    "position_bias": 0.15,
    "delay_seconds": 0.2,
}
CONF = {
    "project_name": "mmc-demo-round",
    "dataset_name": "mmc-demo-conversations",
    "ontology_name": "mmc-demo-evaluation",
    "batch_name": "round-1",
    "consensus_labels": 2,
    "output_dir": str(DEMO / "rounds"),
    "prelabels": str(ROOT / "example_dags" / "data" / "prelabels.jsonl"),
}


def airflow_env(graphql_url: str) -> dict[str, str]:
    home = DEMO / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    connection = {"conn_type": "labelbox", "host": graphql_url, "password": API_KEY}
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW_CONN_LABELBOX_DEFAULT": json.dumps(connection),
    }


def airflow(*args: str, env: dict[str, str]) -> None:
    command = [str(Path(sys.executable).with_name("airflow")), *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stdout.write(result.stdout[-6000:])
        sys.stderr.write(result.stderr[-4000:])
        raise SystemExit(f"`airflow {' '.join(args[:3])}` failed with exit code {result.returncode}")


def show_leaderboard() -> None:
    folder = Path(CONF["output_dir"]) / CONF["project_name"] / CONF["batch_name"] / "leaderboard"
    board = json.loads((folder / "leaderboard.json").read_text())
    counts = board.get("counts", {})
    print(
        f"\nLeaderboard of {CONF['project_name']} / {CONF['batch_name']}: {counts.get('rows')} conversations, "
        f"{counts.get('labels')} labels by {counts.get('raters')} raters"
    )
    print(f"{'#':>2}  {'model':<14} {'rating':>7}  {'95% interval':>17}  {'win rate':>8}  {'true skill':>10}")
    for row in board["models"]:
        interval = f"[{row['ci_low']:.0f}, {row['ci_high']:.0f}]"
        print(
            f"{row['rank']:>2}  {row['model']:<14} {row['rating']:>7.1f}  {interval:>17}  "
            f"{row['win_rate'] * 100:>7.0f}%  {SKILLS.get(row['model'], float('nan')):>10.2f}"
        )
    print(f"\nHTML report: {folder / 'report.html'}")
    print(f"CSV: {folder / 'leaderboard.csv'}  JSON: {folder / 'leaderboard.json'}")


# The layout of the demo's emulator state. Rows of layout 1 were keyed without the round, and the
# batch 'round-1' they are in is not this round's (the batch step would say so): start afresh.
LAYOUT = "2: global keys <round>/<record key>"


def forget_older_layout() -> None:
    """Remove the emulator state and outputs of an earlier layout, so a second run changes nothing."""
    marker = DEMO / "layout"
    if marker.exists() and marker.read_text() == LAYOUT:
        return
    for stale in ("emulator", "rounds"):
        if (DEMO / stale).exists():
            print(f"Removing {DEMO / stale}: written by an earlier release of the demo")
            shutil.rmtree(DEMO / stale)
    marker.write_text(LAYOUT)


def main() -> None:
    from airflow_mmc_provider.emulator.testing import run_emulator

    started = time.monotonic()
    DEMO.mkdir(exist_ok=True)
    forget_older_layout()
    raters = ("--simulate-raters", json.dumps(RATERS))
    with run_emulator(DEMO / "emulator", API_KEY, extra_args=raters) as emulator:
        print(f"Labelbox emulator with simulated raters at {emulator.graphql_url}")
        env = airflow_env(emulator.graphql_url)
        airflow("db", "migrate", env=env)
        print("Running `airflow dags test mmc_evaluation_round` (setup, labelling, export, leaderboard) ...")
        airflow("dags", "test", "mmc_evaluation_round", "--conf", json.dumps(CONF), env=env)
    show_leaderboard()
    print(
        f"\nEmulator stopped; the round took {time.monotonic() - started:.0f}s. To run it for real, point the "
        "labelbox_default connection at https://api.labelbox.com/graphql (see README)."
    )


if __name__ == "__main__":
    main()
