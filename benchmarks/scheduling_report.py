"""Scheduling and spare-capacity speed and quality on a demo week; prints a report.

The week is the demo's last full week of actuals staffed as if it were the forecast (the
bands at +-10 %), at the config's 30-minute grid and again at 15 minutes. Reported per grid:
solver statuses, solver and wall time, the objective against the lower bound (on-shift
agent-hours against the required agent-hours, and CP-SAT's own gap), and spare capacity.

    python benchmarks/scheduling_report.py
"""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd

from benchmarks.common import DEMO_ACTUALS, DEMO_CONFIG
from forecaster.core.config import load_config
from forecaster.planning import capacity
from forecaster.planning import shifts as scheduling
from forecaster.staffing.requirements import staff_forecast

WEEK = dt.date(2026, 11, 16)


def week_forecast(interval_min: int) -> pd.DataFrame:
    act = pd.read_csv(DEMO_ACTUALS, parse_dates=["interval_start"])
    act = act[(act["interval_start"] >= pd.Timestamp(WEEK)) & (act["interval_start"] < pd.Timestamp(WEEK) + pd.Timedelta(days=7))]
    if interval_min == 15:  # split each half hour evenly into two quarters
        halves = [act.assign(interval_start=act["interval_start"] + pd.Timedelta(minutes=m), contacts=act["contacts"] / 2)
                  for m in (0, 15)]
        act = pd.concat(halves).sort_values(["queue", "interval_start"])
    f = act.rename(columns={"contacts": "forecast"})
    return f.assign(lo_80=f.forecast * 0.9, hi_80=f.forecast * 1.1, lo_95=f.forecast * 0.85, hi_95=f.forecast * 1.15)


def one(interval_min: int) -> dict:
    config = load_config(DEMO_CONFIG)
    if interval_min != config.interval_min:
        config = config.model_copy(update={"interval_min": interval_min})
    fc = week_forecast(interval_min)
    req = staff_forecast(fc, config)
    t0 = time.perf_counter()
    plan = scheduling.schedule_week(req, config, WEEK, breaks=False)
    t_solve = time.perf_counter() - t0
    t0 = time.perf_counter()
    with_breaks = scheduling.schedule_week(req, config, WEEK)
    t_breaks = time.perf_counter() - t0
    t0 = time.perf_counter()
    cap = capacity.spare_capacity(fc, with_breaks["coverage"], config)
    t_cap = time.perf_counter() - t0
    s = plan["summary"]
    return {"interval_min": interval_min, "shift_variants": sum(len(t.starts) for t in config.shifts),
            "queue_days": len(s), "statuses": s["status"].value_counts().to_dict(),
            "solver_s": round(s["solve_s"].sum(), 2), "headcount_wall_s": round(t_solve, 2),
            "with_breaks_wall_s": round(t_breaks, 2), "max_solver_gap": float(s["solver_gap"].max()),
            "required_agent_h": round(s["required_agent_h"].sum(), 1),
            "scheduled_agent_h": round(s["scheduled_agent_h"].sum(), 1),
            "objective_vs_bound": round(s["scheduled_agent_h"].sum() / s["required_with_shrinkage_agent_h"].sum(), 3),
            "short_agent_h": float(s["short_agent_h"].sum()),
            "break_notes": int((with_breaks["summary"]["notes"] != "").sum()),
            "capacity_s": round(t_cap, 2), "windows": len(cap["windows"]),
            "spare_agent_h": round(cap["windows"]["spare_agent_hours"].sum(), 1)}


if __name__ == "__main__":
    rows = [one(30), one(15)]
    print(pd.DataFrame(rows).T.to_string(header=False))
