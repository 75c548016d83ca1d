"""What-if speed: a scenario over 6 weeks x 4 queues at 15 minutes (the issue's target: <= 5 s,
Erlang A included, without a re-forecast). Baseline in the same run: staffing the base forecast
once with Erlang C (what every scenario has to do at least twice).

The forecast is the demo's last 6 weeks of actuals split into quarter hours, with +-10 % bands;
"today's schedule" is the base requirement plus one agent per interval.

    python -m benchmarks.scenario_report
"""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd

from benchmarks.common import DEMO_ACTUALS, DEMO_CONFIG
from forecaster.core.config import load_config
from forecaster.scenarios import whatif as sc
from forecaster.staffing.requirements import staff_forecast

FIRST = dt.date(2026, 10, 12)   # a Monday; 6 weeks to 2026-11-22


def six_weeks_at_15() -> pd.DataFrame:
    act = pd.read_csv(DEMO_ACTUALS, parse_dates=["interval_start"])
    start = pd.Timestamp(FIRST)
    act = act[(act["interval_start"] >= start) & (act["interval_start"] < start + pd.Timedelta(days=42))]
    halves = [act.assign(interval_start=act["interval_start"] + pd.Timedelta(minutes=m), contacts=act["contacts"] / 2)
              for m in (0, 15)]
    f = pd.concat(halves).sort_values(["queue", "interval_start"]).rename(columns={"contacts": "forecast"})
    f["aht_s"] = f["aht_s"].fillna(400.0)
    return f.assign(lo_80=f.forecast * 0.9, hi_80=f.forecast * 1.1, lo_95=f.forecast * 0.85,
                    hi_95=f.forecast * 1.15).reset_index(drop=True)


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


SCENARIOS = {
    "no change": sc.Scenario(),
    "aht +30s": sc.Scenario(aht=("s", 30)),
    "deflect 15%, remaining +20%": sc.Scenario(deflect=0.15, deflect_aht=("%", 20)),
    "sl 90/15, Erlang A, patience 90 s": sc.Scenario(sl=(0.9, 15), model="erlang_a", patience_s=90),
    "everything at once, Erlang A": sc.Scenario(aht=("%", 10), volume=("%", 5), deflect=0.1, sl=(0.9, 15),
                                                model="erlang_a", patience_s=90, shrinkage=0.35, max_occupancy=0.85),
}


def main() -> None:
    config = load_config(DEMO_CONFIG)
    config = config.model_copy(update={"interval_min": 15})
    fc = six_weeks_at_15()
    base_s, base = timed(lambda: staff_forecast(fc, config))
    coverage = base[["queue", "interval_start"]].assign(scheduled_agents=base["required_with_shrinkage"] + 1, on_break=0)
    print(f"{len(fc):,} intervals ({fc['queue'].nunique()} queues, {fc['interval_start'].dt.date.nunique()} days, "
          f"15 min); baseline: staffing the base once with Erlang C {base_s:.2f} s")
    rows = []
    for name, spec in SCENARIOS.items():
        secs, result = timed(lambda spec=spec: sc.evaluate(fc, config, spec, coverage))
        t = result["total"].iloc[0]
        rows.append({"scenario": name, "seconds": round(secs, 2), "x_baseline": round(secs / base_s, 1),
                     "required_agent_h": f"{t['required_agent_h_base']:,.0f} -> {t['required_agent_h']:,.0f}",
                     "sl_today": f"{t['service_level_base']:.3f} -> {t['service_level']:.3f}",
                     "cost_delta": round(t["cost_delta"])})
    print(pd.DataFrame(rows).to_string(index=False))
    print("target: each scenario <= 5 s")


if __name__ == "__main__":
    main()
