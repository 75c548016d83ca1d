"""Concurrent calendar submissions: none may be lost.

Each round starts 20 `forecaster campaigns submit` processes at once on a fresh store (one
campaign each) and counts the campaigns that landed. Run two of these at once to add load:

    python -m benchmarks.concurrent_submissions --rounds 8 & python -m benchmarks.concurrent_submissions --rounds 8

Measured on this 2-core machine (two at once, 16 rounds of 20 each time): with DuckDB's own
file lock alone (commit c70c295, before the store's OS lock) 1 to 4 rounds in 16 lost a
submission, run to run; with the OS lock, none in 32.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
CONFIG = """\
site: Concurrency check
timezone: Europe/Amsterdam
interval_min: 30
opening_hours: {mon: "08:00-18:00", tue: "08:00-18:00", wed: "08:00-18:00", thu: "08:00-18:00", fri: "08:00-18:00"}
queues:
  - {name: voice, channel: voice, sl_pct: 80, answer_s: 20, aht_s: 300}
store: store.duckdb
"""


def one_round(folder: Path, n: int) -> tuple[int, int]:
    """(landed, failed processes) for ``n`` concurrent submissions on a fresh store in ``folder``."""
    (folder / "site.yaml").write_text(CONFIG)
    procs = []
    for i in range(n):
        f = folder / f"c{i}.csv"
        f.write_text("campaign_id,name,channel,start,end,queues,reach\n"
                     f"P{i},Campaign {i},email,2030-03-01,2030-03-01,voice,{1000 + i}\n")
        procs.append(subprocess.Popen([sys.executable, "-m", "forecaster", "--config", str(folder / "site.yaml"),
                                       "--lock-timeout", "120", "campaigns", "submit", str(f), "--by", f"user{i}"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT))
    failed = sum(p.wait(timeout=600) != 0 for p in procs)
    con = duckdb.connect(str(folder / "store.duckdb"), read_only=True)
    try:
        landed = con.execute("SELECT count(DISTINCT campaign_id) FROM campaign_versions").fetchall()[0][0]
    finally:
        con.close()
    return int(landed), failed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--processes", type=int, default=20)
    args = ap.parse_args()
    lost_rounds = 0
    for k in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            landed, failed = one_round(Path(tmp), args.processes)
        lost = args.processes - landed
        lost_rounds += lost > 0
        print(f"round {k + 1}: {landed}/{args.processes} landed, {failed} process(es) failed", flush=True)
    print(f"{lost_rounds} of {args.rounds} round(s) lost a submission")
    sys.exit(1 if lost_rounds else 0)


if __name__ == "__main__":
    main()
