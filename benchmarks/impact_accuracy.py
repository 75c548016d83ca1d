"""Campaign-impact accuracy on the demo data, where each past campaign's true extra contacts are
known (data/demo/campaign_truth.csv, the realised Poisson draws). Prints a report.

Targets (issue 5): for past campaigns that added at least 2 % to their queues' volume in their
active window, the estimated total within +-15 % of the truth for at least 80 % of them; 80 %
intervals cover the truth for 70 to 90 % of campaigns. The active window is reported two ways:
every day the generator gave the campaign a response (long tails included), and the days whose
expected response is at least 10 % of the campaign's peak day (where the response is visible).
Baseline in the same run: the same fit without partial pooling (each campaign on its own).

    python -m benchmarks.impact_accuracy [--seeds N]

``--seeds N`` also scores N more draws of the demo generator (seeds 1..N, written to a temporary
directory) and prints their mean: the bundled demo is one draw.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from benchmarks.common import DEMO_CONFIG, ROOT
from forecaster.campaigns import effects
from forecaster.campaigns.calendar import read_calendar
from forecaster.core.config import load_config

AS_OF = dt.date(2026, 11, 22)


def score(totals: pd.DataFrame, truth: pd.DataFrame, shares: dict[str, pd.Series]) -> dict:
    true_total = truth.groupby("campaign_id")["realised"].sum().rename("truth")
    m = totals.set_index("campaign_id").join(true_total, how="inner")
    m["error"] = m["extra_contacts"] / m["truth"] - 1
    m["covered"] = (m["lo_80"] <= m["truth"]) & (m["truth"] <= m["hi_80"])
    out = {"campaigns": len(m), "coverage_80_all": round(m["covered"].mean(), 3),
           "median_abs_error_all": round(m["error"].abs().median(), 3)}
    for name, share in shares.items():
        big = m[share.reindex(m.index) >= 0.02]
        out[f"eligible ({name})"] = len(big)
        out[f"within_15pct ({name})"] = round((big["error"].abs() <= 0.15).mean(), 3) if len(big) else None
        out[f"coverage_80 ({name})"] = round(big["covered"].mean(), 3) if len(big) else None
    return out, m


def evaluate(data_dir: Path, config) -> tuple[dict, dict, pd.DataFrame, dict, float]:
    """``past_impact`` on one demo directory (actuals, campaigns, truth), scored pooled (ours) and
    with each campaign alone (the baseline)."""
    actuals = pd.read_csv(data_dir / "actuals.csv.gz", parse_dates=["interval_start"])
    calendar = read_calendar(data_dir / "campaigns.csv", config, AS_OF).frame
    truth = pd.read_csv(data_dir / "campaign_truth.csv")
    volume = actuals.groupby([actuals["queue"], actuals["interval_start"].dt.date.astype(str)])["contacts"].sum()
    t = truth[truth["expected"] > 0].copy()
    t["volume"] = volume.reindex(pd.MultiIndex.from_arrays([t["queue"], t["day"]])).to_numpy()
    day_total = t.groupby(["campaign_id", "day"])["expected"].transform("sum")
    peak = t.assign(d=day_total).groupby("campaign_id")["d"].transform("max")
    visible = t[day_total >= 0.1 * peak]
    shares = {"every response day": t.groupby("campaign_id")["realised"].sum() / t.groupby("campaign_id")["volume"].sum(),
              "days >= 10% of peak": visible.groupby("campaign_id")["realised"].sum()
              / visible.groupby("campaign_id")["volume"].sum()}
    t0 = time.perf_counter()
    result = effects.past_impact(actuals, calendar, config, AS_OF)
    secs = time.perf_counter() - t0
    ours, detail = score(result["totals"], truth, shares)
    est = result["estimates"]
    alone = est.assign(beta_pooled=est["beta"], se_pooled=est["se"])   # baseline: no pooling
    days = []
    for e in alone.itertuples():
        col = result["fits"][e.queue]["columns"][e.campaign_id]
        x = col.to_numpy()[col.to_numpy() > 0]
        tq = stats.t.ppf(0.9, e.dof)
        days.append(pd.DataFrame({"campaign_id": e.campaign_id, "queue": e.queue, "extra_contacts": e.beta * x,
                                  "lo_80": (e.beta - tq * e.se) * x, "hi_80": (e.beta + tq * e.se) * x,
                                  "actual": np.nan}))
    base_totals = effects.totals(pd.concat(days, ignore_index=True), calendar[calendar["start_ts"].dt.date <= AS_OF])
    baseline, _ = score(base_totals, truth, shares)
    return ours, baseline, detail, result, secs


def replicates(seeds: int, config) -> pd.DataFrame:
    """The same scores on ``seeds`` more draws of the demo generator (seeds 1..N): the bundled demo
    is one draw, and a model can look good or bad on it by luck."""
    spec = importlib.util.spec_from_file_location("generate_demo", ROOT / "data" / "generate_demo.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(1, seeds + 1):
            data = gen.generate(seed)
            d = Path(tmp) / str(seed)
            d.mkdir()
            data["actuals"].to_csv(d / "actuals.csv.gz", index=False)
            data["campaigns"].to_csv(d / "campaigns.csv", index=False)
            data["campaign_truth"].to_csv(d / "campaign_truth.csv", index=False)
            ours, baseline, *_ = evaluate(d, config)
            key = "days >= 10% of peak"
            rows.append({"seed": seed, "eligible": ours[f"eligible ({key})"],
                         "within_15pct": ours[f"within_15pct ({key})"], "coverage_80": ours[f"coverage_80 ({key})"],
                         "median_abs_error_all": ours["median_abs_error_all"], "coverage_80_all": ours["coverage_80_all"],
                         "baseline_within_15pct": baseline[f"within_15pct ({key})"],
                         "baseline_median_abs_error_all": baseline["median_abs_error_all"]})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=0,
                    help="also score N more draws of the demo generator (seeds 1..N) and their mean")
    args = ap.parse_args()
    config = load_config(DEMO_CONFIG)
    ours, baseline, detail, result, secs = evaluate(ROOT / "data" / "demo", config)
    print(f"{len(result['totals'])} past campaigns, 4 queues, 2 years of days; analysis {secs:.1f} s")
    print("learned shapes:", result["shapes"])
    print(pd.DataFrame({"pooled (ours)": ours, "each campaign alone (baseline)": baseline}).to_string())
    by_channel = detail.groupby("channel").agg(campaigns=("truth", "size"), truth=("truth", "sum"),
                                               estimate=("extra_contacts", "sum"),
                                               median_abs_error=("error", lambda e: e.abs().median()),
                                               coverage_80=("covered", "mean"))
    print(by_channel.round(3).to_string())
    if args.seeds:
        rep = replicates(args.seeds, config)
        print(f"\n{args.seeds} more draws of the demo generator (days >= 10% of peak; _all: every campaign):")
        print(rep.round(3).to_string(index=False))
        print("mean:", rep.drop(columns="seed").mean().round(3).to_dict())


if __name__ == "__main__":
    main()
