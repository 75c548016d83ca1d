"""How long ``forecaster intraday`` takes for a 50-queue centre (it runs every 15-30 minutes).

    python -m benchmarks.intraday_speed [--queues 50] [--repeats 3]

The store: the demo's history copied to ``--queues`` queues (``benchmarks.forecast_scale.build``),
ingested up to Friday 2026-11-20 12:00, with a published plan as of the day before. The plan's
numbers do not matter for the timing, so it is built quickly: the mean of the last four same
weekday-intervals with +-20 % / +-35 % bands, staffed, a schedule whose coverage is the requirement
with shrinkage give or take one agent (seeded), and its spare capacity found by the real code.
Timed: ``forecaster intraday --at "2026-11-20 12:00"`` in a fresh process (wall time, the figure a
planner waits for; median of ``--repeats``), and the in-process call alone.
Target (issue 21): at most 10 s for 50 queues.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.forecast_scale import build
from forecaster.core.config import load_config
from forecaster.core.grid import future_grid
from forecaster.demand.context import make_context
from forecaster.demand.models import point_forecast
from forecaster.io.actuals import ingest
from forecaster.jobs.intraday import intraday_store
from forecaster.planning.capacity import spare_capacity
from forecaster.staffing.requirements import staff_forecast
from forecaster.store.database import Store
from forecaster.store.runs import Runs

ROOT = Path(__file__).resolve().parent.parent
DAY = pd.Timestamp("2026-11-20")
AT = DAY + pd.Timedelta(hours=12)


def make_store(folder: Path, n_queues: int) -> Path:
    config_path, actuals, _ = build(folder, n_queues)
    config = load_config(config_path)
    act = pd.read_parquet(actuals)
    act = act[act["ds"] < AT]
    csv = folder / "actuals.csv"
    act.rename(columns={"ds": "interval_start", "y": "contacts"}).to_csv(csv, index=False)
    store_path = config.store_path
    with Store(store_path) as store:
        ingest([csv], config, store, by="bench")
    past = act[act["ds"] < DAY]
    grid = future_grid(config, config.queue_names, DAY.date(), 7)
    ctx = make_context(config, pd.DataFrame(columns=["campaign_id", "channel", "start_ts", "end_ts", "queues", "reach"]),
                       past["ds"].min().date(), DAY.date() + dt.timedelta(days=14))
    mean = point_forecast("mean4", past, grid, ctx)
    fc = grid.rename(columns={"ds": "interval_start"}).assign(
        forecast=mean, lo_80=mean * 0.8, hi_80=mean * 1.2, lo_95=mean * 0.65, hi_95=mean * 1.35, aht_s=np.nan,
        model="mean4")
    req = staff_forecast(fc, config)
    rng = np.random.default_rng(0)
    coverage = req[["queue", "interval_start", "required_agents", "required_with_shrinkage"]].assign(
        scheduled_agents=np.maximum(req["required_with_shrinkage"] + rng.integers(-1, 2, len(req)), 0), on_break=0)
    coverage = coverage.assign(over=np.maximum(coverage["scheduled_agents"] - coverage["required_with_shrinkage"], 0),
                               under=np.maximum(coverage["required_with_shrinkage"] - coverage["scheduled_agents"], 0))
    cap = spare_capacity(fc, coverage, config)
    empty = {k: pd.DataFrame(columns=c) for k, c in (
        ("shifts", ["queue", "day", "shift", "start", "end", "paid_h", "headcount"]),
        ("breaks", ["queue", "day", "shift", "slot", "break", "start", "end"]))}
    with Store(store_path) as store, store.transaction():
        runs = Runs(store)
        run_id = runs.create("forecast", as_of=(DAY - pd.Timedelta(days=1)).date(), publish=True)
        runs.save_forecast(run_id, fc)
        runs.save_requirements(run_id, "mean", req)
        runs.save_schedule(run_id, {**empty, "coverage": coverage, "summary": pd.DataFrame(columns=[
            "queue", "day", "status"])})
        runs.save_capacity(run_id, cap)
    return config_path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queues", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        config_path = make_store(Path(tmp), args.queues)
        print(f"store with {args.queues} queues built in {time.perf_counter() - t0:.0f} s", flush=True)
        walls = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "forecaster", "--config", str(config_path), "intraday",
                                  "--at", f"{AT:%Y-%m-%d %H:%M}", "--no-drop"], capture_output=True, text=True, cwd=ROOT)
            walls.append(time.perf_counter() - t)
            assert out.returncode == 0, out.stderr[-2000:]
        config = load_config(config_path)
        t = time.perf_counter()
        result = intraday_store(config.store_path, config, AT, drop=False)
        inproc = time.perf_counter() - t
        print(f"intraday, {args.queues} queues, rest of {AT:%Y-%m-%d} from {AT:%H:%M}: "
              f"{len(result['intervals'])} intervals, {len(result['actions'])} outbound action(s)")
        print(f"  fresh process: median {statistics.median(walls):.2f} s (runs: {', '.join(f'{w:.2f}' for w in walls)}); "
              f"in process: {inproc:.2f} s; target at most 10 s")


if __name__ == "__main__":
    main()
