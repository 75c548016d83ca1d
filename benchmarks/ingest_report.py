"""Report: wall time, rows per second and peak memory of `forecaster ingest` as a user runs it.

Each case runs the real CLI in a fresh process on a fresh store, three times; peak memory is
the child's maximum resident set size.  Usage: python benchmarks/ingest_report.py
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import DEMO_ACTUALS, DEMO_CONFIG, make_big  # noqa: E402


def run_once(config: Path, actuals: Path, store: Path) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "forecaster", "--config", str(config), "--store", str(store),
                             "ingest", str(actuals)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"ingest failed: {err}")
    rows = int(out.split("Ingested ")[1].split(" rows")[0].replace(",", ""))
    return time.perf_counter() - start, rows


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        big_config, big_actuals = make_big(folder / "big")
        print(f"{'case':<22}{'rows':>10}{'best s':>9}{'rows/s':>11}{'peak MiB':>10}")
        for name, config, actuals in [("demo (68k rows)", DEMO_CONFIG, DEMO_ACTUALS),
                                      ("24/7 2y x 4q (140k)", big_config, big_actuals)]:
            times, peak = [], 0.0
            for i in range(3):
                secs, rows = run_once(config, actuals, folder / f"{name[:4]}{i}.duckdb")
                times.append(secs)
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            best = min(times)
            print(f"{name:<22}{rows:>10,}{best:>9.2f}{rows / best:>11,.0f}{peak:>10.0f}")
        print("peak MiB is the largest child process so far (ru_maxrss); times include interpreter start-up")


if __name__ == "__main__":
    main()
