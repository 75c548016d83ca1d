"""``forecaster erlang --input`` end to end on 336,000 rows, against looping pyworkforce (issue 22).

    python -m benchmarks.erlang_bulk [--rows 336000] [--repeats 3] [--sample 20000]

The file: 336,000 intervals (``contacts`` 0-800 with one decimal, ``aht_s`` 180-600, 15-minute
intervals; the 80/20 target from the command's defaults), as CSV. Timed: the command in a fresh
process, reading the file and writing the staffed CSV (median of ``--repeats``), and the same
work in process (read, check, staff, write). The baseline is what a user would write without the
tool: pandas' ``read_csv``, pyworkforce's ``ErlangC`` looped over the rows and ``to_csv``; the loop
is timed on ``--sample`` rows and scaled (it takes minutes for all). Its agents are checked equal
to ours on the sample. Target: at most 1 s end to end, at least 40 x the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from forecaster.io.output import write_table
from forecaster.staffing.calculator import Inputs, staff_file

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = Inputs(contacts=0.0, aht_s=1.0, interval_min=15, sl=0.8, answer_s=20, asa_target_s=None, model="erlang_c",
                  patience_s=None, shrinkage=0.0, max_occupancy=1.0, max_abandon=1.0, concurrency=1)


def make_file(path: Path, rows: int) -> None:
    rng = np.random.default_rng(1)
    pd.DataFrame({"contacts": rng.uniform(0, 800, rows).round(1), "aht_s": rng.uniform(180, 600, rows).round(0),
                  "interval_min": 15}).to_csv(path, index=False)


def baseline(path: Path, out: Path, sample: int) -> tuple[float, np.ndarray, np.ndarray]:
    """Seconds for read + pyworkforce loop (scaled from ``sample`` rows) + write; the sample's agents."""
    from pyworkforce.queuing import ErlangC

    t0 = time.perf_counter()
    frame = pd.read_csv(path)
    read = time.perf_counter() - t0
    rows = np.random.default_rng(2).choice(np.flatnonzero(frame["contacts"] > 0), sample, replace=False)
    t0 = time.perf_counter()
    agents = [ErlangC(transactions=x, aht=h / 60, asa=20 / 60, interval=15).required_positions(0.8)["raw_positions"]
              for x, h in zip(frame["contacts"].to_numpy()[rows], frame["aht_s"].to_numpy()[rows])]
    loop = (time.perf_counter() - t0) * len(frame) / sample
    t0 = time.perf_counter()
    frame.assign(required_agents=0).to_csv(out, index=False)
    write = time.perf_counter() - t0
    return read + loop + write, rows, np.array(agents)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=336_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sample", type=int, default=20_000)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "intervals.csv", Path(tmp) / "staffed.csv"
        make_file(src, args.rows)
        walls = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "forecaster", "erlang", "--input", str(src), "--out", str(out)],
                           check=True, capture_output=True, cwd=ROOT)
            walls.append(time.perf_counter() - t0)
        startup = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "forecaster", "erlang", "--contacts", "100", "--aht", "180"],
                           check=True, capture_output=True, cwd=ROOT)
            startup.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        result = staff_file(src, DEFAULTS)
        staffed = time.perf_counter() - t0
        write_table(result, out, "erlang_bulk")
        inproc = time.perf_counter() - t0
        base, rows, ref = baseline(src, Path(tmp) / "base.csv", args.sample)
        assert (pd.read_csv(out)["required_agents"].to_numpy()[rows] == ref).all(), "agents differ from pyworkforce"
    wall = statistics.median(walls)
    print(f"erlang --input, {args.rows:,} rows: fresh process median {wall:.2f} s (runs {', '.join(f'{w:.2f}' for w in walls)}; "
          f"a one-interval 'erlang' call takes {statistics.median(startup):.2f} s of start-up); in process {inproc:.2f} s "
          f"(read, check and staff {staffed:.2f} s, write {inproc - staffed:.2f} s)")
    print(f"baseline (pandas read, pyworkforce ErlangC loop scaled from {args.sample:,} rows, pandas write): "
          f"{base:.1f} s; ratio {base / wall:.0f} x end to end; same agents on the sample")


if __name__ == "__main__":
    main()
