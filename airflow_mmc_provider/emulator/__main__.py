"""Command line: ``python -m airflow_mmc_provider.emulator serve ...`` (also ``labelbox-emulator``).

    labelbox-emulator serve --port 8765 --data-dir DIR --api-key KEY
        [--host 127.0.0.1] [--task-delay SECONDS] [--faults JSON|@FILE] [--access-log]
        [--export-delay SECONDS] [--export-chunk-bytes N] [--simulate-raters JSON|@FILE]

The API key may come from ``LABELBOX_EMULATOR_API_KEY`` instead of the command line (which other
users of the machine can read in the process list).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from airflow_mmc_provider.emulator import exports
from airflow_mmc_provider.emulator.faults import FaultConfig
from airflow_mmc_provider.emulator.raters import RaterConfig
from airflow_mmc_provider.emulator.server import DEFAULT_HOST, DEFAULT_PORT, ServerConfig, serve

API_KEY_ENV = "LABELBOX_EMULATOR_API_KEY"
_Config = TypeVar("_Config")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labelbox-emulator", description="A local Labelbox-compatible server."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the Labelbox GraphQL API on a local port")
    run.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="0 picks a free port (default %(default)s)"
    )
    run.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default %(default)s)")
    run.add_argument("--data-dir", type=Path, required=True, help="where the database and files live")
    run.add_argument("--api-key", help=f"the key clients must send (default: ${API_KEY_ENV})")
    run.add_argument("--task-delay", type=float, default=0.0, help="seconds a task stays IN_PROGRESS first")
    run.add_argument("--faults", help="fault injection settings as JSON, or @FILE holding them")
    run.add_argument("--access-log", action="store_true", help="log one line per request")
    run.add_argument(
        "--export-delay",
        type=float,
        default=exports.DEFAULT_EXPORT_DELAY,
        help="seconds an export task stays IN_PROGRESS (default %(default)s)",
    )
    run.add_argument(
        "--export-chunk-bytes",
        type=int,
        default=exports.DEFAULT_CHUNK_BYTES,
        help="largest export chunk served by exportFileFromOffset (default %(default)s)",
    )
    run.add_argument(
        "--simulate-raters", help="simulated raters' config as JSON, or @FILE (see emulator.raters)"
    )
    return parser


def parse_config(text: str | None, from_json: Callable[[Any], _Config]) -> _Config | None:
    """``--faults`` and ``--simulate-raters``: JSON, or ``@FILE`` holding it; None when not given."""
    if not text:
        return None
    if text.startswith("@"):
        text = Path(text[1:]).read_text(encoding="utf-8")
    return from_json(json.loads(text))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    api_key = args.api_key or os.environ.get(API_KEY_ENV)
    if not api_key:
        parser.error(f"an API key is required: pass --api-key or set {API_KEY_ENV}")
    if args.task_delay < 0 or args.export_delay < 0:
        parser.error("--task-delay and --export-delay must not be negative")
    if args.export_chunk_bytes < 1:
        parser.error("--export-chunk-bytes must be at least 1")
    try:
        faults = parse_config(args.faults, FaultConfig.from_json)
    except (OSError, ValueError) as exc:
        parser.error(f"--faults: {exc}")
    try:
        raters = parse_config(args.simulate_raters, RaterConfig.from_json)
    except (OSError, ValueError) as exc:
        parser.error(f"--simulate-raters: {exc}")
    config = ServerConfig(
        data_dir=args.data_dir.resolve(),
        api_key=api_key,
        host=args.host,
        port=args.port,
        task_delay=args.task_delay,
        faults=faults,
        access_log=args.access_log,
        export_delay=args.export_delay,
        export_chunk_bytes=args.export_chunk_bytes,
        raters=raters,
    )
    return serve(config)


if __name__ == "__main__":
    sys.exit(main())
