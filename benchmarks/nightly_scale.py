"""The nightly job end to end through the CLI: the demo store and a 50-queue store.

Each case starts from an empty store: the actuals file is dropped into the drop folder and
the calendar submitted, then ``forecaster nightly`` runs in a fresh process. Reported: wall
time, the job's own per-step timings and peak memory (max RSS of the child).
Targets (issue 7): demo at most 2 minutes, 50 queues at most 15 minutes.
Usage: python benchmarks/nightly_scale.py [--queues 50] [--skip-big]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from benchmarks.forecast_scale import build

ROOT = Path(__file__).resolve().parent.parent
FC = [sys.executable, "-m", "forecaster"]


def nightly_case(folder: Path, config: Path, actuals: Path, calendar_csv: Path) -> dict:
    drop = folder / "drop"
    drop.mkdir()
    shutil.copy(actuals, drop / actuals.name)
    subprocess.run([*FC, "--config", str(config), "campaigns", "submit", str(calendar_csv), "--by", "bench"],
                   check=True, capture_output=True, cwd=ROOT)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    out = subprocess.run([*FC, "--config", str(config), "nightly", "--log-format", "json"], capture_output=True,
                         text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert out.returncode == 0, out.stderr[-2000:]
    shown = subprocess.run([*FC, "--config", str(config), "runs", "show", "latest", "--format", "json"],
                           check=True, capture_output=True, text=True, cwd=ROOT)
    info = json.loads(shown.stdout)["info"]
    return {"wall_s": round(wall, 1), "peak_rss_mib": round(max(peak, before) / 1024),
            "steps_s": info["steps_s"], "schedule": info["schedule"]["statuses"],
            "windows": info["capacity"]["windows"]}


def demo(folder: Path) -> dict:
    cfg = yaml.safe_load((ROOT / "configs" / "example.yaml").read_text())
    cfg.update(store="demo.duckdb", output_dir="out", nightly={**cfg["nightly"], "drop_dir": "drop"})
    config = folder / "demo.yaml"
    config.write_text(yaml.safe_dump(cfg))
    return nightly_case(folder, config, ROOT / "data" / "demo" / "actuals.csv.gz",
                        ROOT / "data" / "demo" / "campaigns.csv")


def big(folder: Path, n_queues: int) -> dict:
    config, actuals, calendar = build(folder, n_queues)
    cfg = yaml.safe_load(config.read_text())
    cfg.update(output_dir="out", nightly={"drop_dir": "drop", "horizon": "6w", "quantile": 0.8})
    config.write_text(yaml.safe_dump(cfg))
    cal = pd.read_parquet(calendar)
    cal = cal[cal["queues"].map(len) > 0]
    csv = folder / "calendar.csv"
    cal.assign(queues=cal["queues"].map(";".join))[
        ["campaign_id", "name", "channel", "start", "end", "queues", "reach", "notes"]].to_csv(csv, index=False)
    act = pd.read_parquet(actuals).rename(columns={"ds": "interval_start", "y": "contacts"})
    path = folder / "actuals.parquet"
    act.to_parquet(path)
    return nightly_case(folder, config, path, csv)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queues", type=int, default=50)
    parser.add_argument("--skip-big", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "demo").mkdir()
        print("demo (4 queues):", json.dumps(demo(Path(tmp) / "demo")))
    if not args.skip_big:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"{args.queues} queues:", json.dumps(big(Path(tmp), args.queues)))


if __name__ == "__main__":
    main()
