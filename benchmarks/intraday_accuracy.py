"""Intraday reforecast accuracy on real data: the rest of the day after 10:00, 12:00 and 14:00.

    python -m benchmarks.intraday_accuracy [--days N] [--times 10:00,12:00,14:00] [--out FILE.csv]

For every real series in ``../shared/data`` and every day with at least 12 weeks of history before
it (or the last ``--days`` days), after ``--warmup`` days whose forecasts only serve as the plans
the update is calibrated on: the day-ahead forecast the nightly job makes (``run_forecast`` from
the history up to the evening before, horizon one day, the campaign calendar as known then:
campaigns count as known 14 days before they start), then at each update time the intraday update
(:class:`forecaster.demand.intraday.LevelUpdate`, calibrated on the weeks before that day only)
from the contacts observed before the update time. Scored on the intervals from the update time to
the end of the day:

- interval WAPE of the updated forecast and of the day-ahead forecast, pooled over the days, and
  their ratio; the mean and worst of the per-day ratios and the share of days the update helped;
- the Poisson floor: the WAPE a forecast that knew every interval's rate exactly would still have
  (taking the updated forecast as the rate), the part of the error no update can remove;
- the oracle level: the day-ahead forecast scaled to the rest of the day's true total, the best any
  update of the day's level can do (what is left is the intraday shape and noise);
- the same for the unshrunk update (alpha = 0: the morning's ratio applied in full), for reference;
- coverage of the updated forecast's 80 % and 95 % bands (and of the day-ahead bands).

Targets (issue 21): ratio at most 0.70 after 12:00 and 0.85 after 10:00 on each real series; 80 %
bands covering 75-85 %.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from scipy.stats import poisson

from benchmarks.real_accuracy import SHARED, forecast_at, load_series
from forecaster.demand.intraday import LevelUpdate, calibration_pairs

TIMES = ("10:00", "12:00", "14:00")
MIN_HISTORY_DAYS = 84


def day_ahead(s, day: pd.Timestamp) -> pd.DataFrame:
    """The nightly's forecast for ``day`` (made the evening before) with the actuals."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame, _, _ = forecast_at(s, day, 1, 14)
    return frame[["queue", "ds", "y", "forecast", "lo_80", "hi_80", "lo_95", "hi_95"]]


def poisson_floor(rate: np.ndarray) -> float:
    """Summed mean absolute error of a forecast that knew each interval's Poisson rate exactly."""
    rate = np.maximum(np.asarray(rate, float), 1e-9)
    return float((2 * rate * poisson.pmf(np.floor(rate), rate)).sum())


def score_day(s, frame: pd.DataFrame, day: pd.Timestamp, times: list[str], plans: pd.DataFrame | None) -> list[dict]:
    rows = []
    hist = s.hist[s.hist["ds"] < day]
    actual = frame[["queue", "ds", "y"]]
    pairs = calibration_pairs(hist, day.date(), plans=plans)
    for hhmm in times:
        at = day + pd.Timedelta(hhmm + ":00")
        cut = at.hour * 60 + at.minute
        model = LevelUpdate().fit(pairs, cut)
        seen = actual[actual["ds"] < at]
        out = model.predict(frame.drop(columns="y"), seen, at).merge(actual, on=["queue", "ds"])
        full = LevelUpdate()
        full.alpha_ = dict.fromkeys(model.alpha_, 0.0)
        full.kappa_, full.z_ = model.kappa_, model.z_
        unshrunk = full.predict(frame.drop(columns="y"), seen, at)["forecast"].to_numpy()
        y = out["y"].to_numpy(float)
        plan = out["day_ahead"].to_numpy(float)
        oracle = plan * y.sum() / plan.sum() if plan.sum() > 0 else plan
        rows.append({
            "series": s.name, "day": day, "at": hhmm, "actual": y.sum(),
            "abs_updated": np.abs(y - out["forecast"]).sum(), "abs_day_ahead": np.abs(y - out["day_ahead"]).sum(),
            "abs_unshrunk": np.abs(y - unshrunk).sum(), "abs_oracle_level": np.abs(y - oracle).sum(), "abs_poisson_floor": poisson_floor(out["forecast"]),
            "intervals": len(out), "calibrated_on_plans": float((pairs["source"] == "plan").mean()),
            "in_80": int(((y >= out["lo_80"]) & (y <= out["hi_80"])).sum()),
            "in_95": int(((y >= out["lo_95"]) & (y <= out["hi_95"])).sum()),
            "plan_in_80": int(((y >= frame.loc[frame["ds"] >= at, "lo_80"].to_numpy())
                               & (y <= frame.loc[frame["ds"] >= at, "hi_80"].to_numpy())).sum()),
            "alpha": float(np.median(list(model.alpha_.values()))) if model.alpha_ else np.nan,
            "factor": float(out["factor"].iloc[0]) if len(out) else np.nan})
    return rows


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (series, at), g in rows.groupby(["series", "at"], sort=False):
        per_day = g["abs_updated"] / g["abs_day_ahead"].where(g["abs_day_ahead"] > 0)
        n = g["intervals"].sum()
        out.append({
            "series": series, "update_at": at, "days": len(g),
            "wape_day_ahead": g["abs_day_ahead"].sum() / g["actual"].sum(),
            "wape_updated": g["abs_updated"].sum() / g["actual"].sum(),
            "ratio": g["abs_updated"].sum() / g["abs_day_ahead"].sum(),
            "ratio_unshrunk": g["abs_unshrunk"].sum() / g["abs_day_ahead"].sum(),
            "ratio_oracle_level": g["abs_oracle_level"].sum() / g["abs_day_ahead"].sum(),
            "wape_poisson_floor": g["abs_poisson_floor"].sum() / g["actual"].sum(),
            "day_ratio_mean": per_day.mean(), "day_ratio_worst": per_day.max(),
            "days_better": float((per_day < 1).mean()),
            "cover_80": g["in_80"].sum() / n, "cover_95": g["in_95"].sum() / n,
            "plan_cover_80": g["plan_in_80"].sum() / n, "alpha_median": g["alpha"].median(),
            "calibrated_on_plans": g["calibrated_on_plans"].mean()})
    return pd.DataFrame(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=0, help="only the last N days (default: every day with 12 weeks "
                    "of history)")
    ap.add_argument("--warmup", type=int, default=56, help="days of day-ahead forecasts made before scoring "
                    "starts, so the update is calibrated on the plans of the days before (default 56)")
    ap.add_argument("--times", default=",".join(TIMES), help="update times, comma-separated HH:MM")
    ap.add_argument("--out", help="write every per-day row here (CSV)")
    args = ap.parse_args(argv)
    series = load_series()
    if not series:
        print(f"no real series under {SHARED}; nothing to measure")
        return
    times = args.times.split(",")
    rows = []
    for s in series:
        first = s.hist["ds"].min().normalize() + pd.Timedelta(days=MIN_HISTORY_DAYS)
        last = s.hist["ds"].max().normalize()
        days = list(pd.date_range(first, last, freq="D"))
        if args.days:
            days = days[-args.days:]
        t0 = time.perf_counter()
        plans: list[pd.DataFrame] = []      # the day-ahead forecasts of the days before, as a store keeps them
        for day in days:
            frame = day_ahead(s, day)
            if frame.empty or frame["y"].sum() <= 0:
                continue
            if day >= days[0] + pd.Timedelta(days=args.warmup):
                rows += score_day(s, frame, day, times, pd.concat(plans) if plans else None)
            plans = [*plans[-62:], frame[["queue", "ds", "forecast"]]]
        print(f"{s.name}: {len(days)} days from {days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d} "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 220)
    print(summarise(table).round(3).to_string(index=False))
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
