"""Forecast speed and memory: the demo store (4 queues) and a 50-queue store of the same size.

The 50 queues are the demo's four, copied 12-13 times with their own scale and Poisson noise
(each copy a queue of its own in the config). A full forecast with model selection (3 rolling
origins, 6-week horizon) is timed in a fresh process; peak memory is that process's max RSS.
Targets (issue 4): demo at most 60 s, 50 queues at most 10 minutes.
Usage: python benchmarks/forecast_scale.py [--queues 50]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import sys, datetime as dt, warnings, pandas as pd
warnings.simplefilter("ignore")
from forecaster.core.config import load_config
from forecaster.demand.selection import run_forecast
config = load_config(sys.argv[1])
act = pd.read_parquet(sys.argv[2])
cal = pd.read_parquet(sys.argv[3])
r = run_forecast(act, cal, config, dt.date(2026, 11, 22), 42)
print(len(r.frame), sorted({v["model"] for v in r.info["queues"].values()}))
"""


def build(folder: Path, n_queues: int) -> tuple[Path, Path, Path]:
    base = yaml.safe_load((ROOT / "configs" / "example.yaml").read_text())
    act = pd.read_csv(ROOT / "data" / "demo" / "actuals.csv.gz", parse_dates=["interval_start"])
    act = act.rename(columns={"interval_start": "ds", "contacts": "y"})
    cal = pd.read_csv(ROOT / "data" / "demo" / "campaigns.csv", keep_default_na=False)
    rng = np.random.default_rng(5)
    queues, frames, mapping = [], [], {}
    for i in range(n_queues):
        src = base["queues"][i % 4]
        name = f"{src['name']}_{i:02d}"
        queues.append({**src, "name": name})
        mapping.setdefault(src["name"], []).append(name)
        part = act[act["queue"] == src["name"]].copy()
        part["queue"] = name
        part["y"] = rng.poisson(part["y"] * rng.uniform(0.5, 1.5)).astype(float)
        frames.append(part)
    config = folder / "scale.yaml"
    config.write_text(yaml.safe_dump({**base, "queues": queues, "store": "scale.duckdb"}))
    actuals = folder / "actuals.parquet"
    pd.concat(frames, ignore_index=True).to_parquet(actuals)
    cal = cal.assign(start_ts=pd.to_datetime(cal.start), end_ts=pd.to_datetime(cal.end),
                     queues=cal.queues.str.split(";").map(lambda qs: [n for q in qs for n in mapping.get(q, [])]),
                     reach=cal.reach.astype(float))
    calendar = folder / "calendar.parquet"
    cal.to_parquet(calendar)
    return config, actuals, calendar


def run(config: Path, actuals: Path, calendar: Path) -> tuple[float, float, str]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(config), str(actuals), str(calendar)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    secs = time.perf_counter() - start
    return secs, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, out.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queues", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in (4, args.queues):
            folder = Path(tmp) / f"q{n}"
            folder.mkdir()
            secs, peak, out = run(*build(folder, n))
            print(f"{n:>3} queues x 2 years x 30 min: {secs:6.1f} s, peak RSS so far {peak:,.0f} MiB -> {out}")


if __name__ == "__main__":
    main()
