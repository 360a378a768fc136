"""How much import time the provider's operator modules add on top of `import airflow.sdk`.

DAG files are parsed over and over by the DAG processor, so every millisecond an operator import
costs is paid on every parse. Target: under 50 ms over `airflow.sdk`. The official `labelbox` SDK is
measured beside it for scale. Each figure is the median of several fresh interpreters.

    .venv/bin/python benchmarks/import_cost.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile


def operator_modules() -> list[str]:
    """Every operator and sensor module the provider registers (what DAG files import)."""
    from airflow_mmc_provider import get_provider_info

    info = get_provider_info()
    return [m for group in ("operators", "sensors") for entry in info[group] for m in entry["python-modules"]]


PROBE = """
import time
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
{extra}
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def measure(extra: str, runs: int) -> tuple[float, float]:
    """Median seconds for `import airflow.sdk` and for `extra` after it, in fresh processes."""
    env = {
        **os.environ,
        "AIRFLOW_HOME": tempfile.mkdtemp(prefix="mmc-bench-"),
        "PYTHONDONTWRITEBYTECODE": "0",
    }
    base, added = [], []
    for _ in range(runs + 1):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(extra=extra)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        first, second = (float(x) for x in out.stdout.split()[-2:])
        base.append(first)
        added.append(second)
    # The first run warms the bytecode cache; it is not counted.
    return statistics.median(base[1:]), statistics.median(added[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    base, ours = measure("\n".join(f"import {m}" for m in operator_modules()), args.runs)
    _, sdk = measure("import labelbox", args.runs)
    print(f"import airflow.sdk                    {base * 1000:8.1f} ms")
    print(f"+ airflow_mmc_provider operators      {ours * 1000:8.1f} ms   (target < 50 ms)")
    print(f"+ labelbox (official SDK), for scale  {sdk * 1000:8.1f} ms")
    print(f"verdict: {'OK' if ours < 0.050 else 'OVER TARGET'}")


if __name__ == "__main__":
    main()
