"""Campaign impact on real arrivals with responses the project did not generate.

    python -m benchmarks.real_impact [--ceiling] [--origins N]

``../shared/data/bank_campaigns_1999``: the Anonymous Bank's 1999 arrivals with the responses to 52
campaigns added by a generator that is not ours (``truth.csv`` holds each campaign's true extra
contacts). Four measurements:

1. **Past campaigns**: ``past_impact`` on the whole year (as of 1999-12-31): per campaign, the
   estimate against the truth, the share of campaigns within +-25 %, and how often the 80 % interval
   holds the truth; per channel, the ratio of estimated to true contacts.
2. **Planned campaigns**: at each campaign's start minus one day, ``planned_impact`` from the
   history before it (the campaign and later ones not yet run): the same scores for what a planner
   would have been told to expect.
3. **Campaign days in the forecast** (``--origins``, default 16 weekly origins, 14 days ahead, the
   calendar as known 14 days before each start): the production forecast with the calendar and
   with none, on the days where the campaigns' true contacts (``truth_intervals.csv.gz``) are at
   least 10 % of the day's; interval and daily WAPE, and the floor: the forecast without the
   calendar plus the true campaign contacts of each interval. The calendar's own part (the forecast
   with it minus without it) is also scored against the true campaign contacts, apart from the
   base forecast's error, and totalled over every day forecast: the forecast without the calendar
   learned its level from a history that held campaigns all year, so it carries their average
   load (and the floor counts that load twice); the calendar mostly moves those contacts to the
   days they come.
4. **The ceiling on this base** (``--ceiling``): the same calendar and true totals, but each
   campaign's response shaped exactly as the impact model's own learned shape and added to the real
   base (the arrivals minus ``truth_intervals.csv.gz``), with the calendar moved back by 0-5 whole
   weeks so that the campaigns meet other days' noise. The model's form is then right by
   construction, so what it misses is the base's day-to-day noise and the overlap of campaigns:
   the share within +-25 % it can reach on this base at best, per shift; again with the shapes
   given rather than learned (what choosing the shape from noisy days costs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

from benchmarks.real_accuracy import SHARED, bank_config, read_shared_calendar
from forecaster.campaigns import effects
from forecaster.core.grid import future_grid

DATA = SHARED / "bank_campaigns_1999"


def load() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    actuals = pd.read_csv(DATA / "actuals_30min.csv.gz", parse_dates=["interval_start"])
    return actuals, read_shared_calendar(DATA / "calendar.csv"), pd.read_csv(DATA / "truth.csv")


def scores(est: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """``est``: ``campaign_id, extra_contacts, lo_80, hi_80``; scored against ``truth``."""
    f = est.drop(columns=["channel", "kind"], errors="ignore").merge(truth, on="campaign_id")
    err = (f["extra_contacts"] - f["true_extra"]) / f["true_extra"]
    inside = (f["lo_80"] <= f["true_extra"]) & (f["true_extra"] <= f["hi_80"])
    by_channel = (f.groupby("channel")["extra_contacts"].sum() / f.groupby("channel")["true_extra"].sum()).round(2)
    by_kind = (f.groupby("kind")["extra_contacts"].sum() / f.groupby("kind")["true_extra"].sum()).round(2)
    within = (err.abs() <= 0.25).groupby(f["channel"]).agg(["sum", "size"])
    return {"campaigns": len(f), "within_25pct": float((err.abs() <= 0.25).mean()),
            "within_by_channel": {ch: f"{int(r['sum'])} of {int(r['size'])}" for ch, r in within.iterrows()},
            "median_abs_error": float(err.abs().median()), "coverage_80": float(inside.mean()),
            "ratio_by_channel": by_channel.to_dict(), "ratio_by_kind": by_kind.to_dict()}


def error_spread(result: dict, truth: pd.DataFrame) -> dict:
    """Per channel, the standard deviation of (estimate - truth) / standard error of each campaign's
    total before pooling (the daily fit combined with the send-day one): 1 when the standard errors
    are right, below 1 when they overstate the error (and pooling then drowns good estimates)."""
    rows = []
    for e in result["estimates"].itertuples():
        x = float(result["fits"][e.queue]["columns"][e.campaign_id].sum())
        rows.append((e.campaign_id, e.channel, e.beta * x, (e.se * x) ** 2))
    f = pd.DataFrame(rows, columns=["campaign_id", "channel", "est", "var"]).groupby(["campaign_id", "channel"]).sum()
    f = f.reset_index().merge(truth[["campaign_id", "true_extra"]], on="campaign_id")
    z = (f["est"] - f["true_extra"]) / np.sqrt(f["var"])
    return z.groupby(f["channel"]).std().dropna().round(2).to_dict()


def past(actuals: pd.DataFrame, calendar: pd.DataFrame, truth: pd.DataFrame) -> dict:
    result = effects.past_impact(actuals, calendar, bank_config(), dt.date(1999, 12, 31))
    return {**scores(effects.totals(result["days"], calendar), truth), "error_spread": error_spread(result, truth)}


def planned(actuals: pd.DataFrame, calendar: pd.DataFrame, truth: pd.DataFrame, skip: int = 10) -> dict:
    """Each campaign from the ``skip``-th on, forecast the day before it starts from the history
    before it, with the calendar up to that campaign."""
    config = bank_config()
    rows = []
    for c in calendar.sort_values("start_ts").iloc[skip:].itertuples():
        as_of = (c.start_ts - pd.Timedelta(days=1)).date()
        hist = actuals[actuals["interval_start"] < pd.Timestamp(as_of) + pd.Timedelta(days=1)]
        known = calendar[calendar["start_ts"] <= c.start_ts]
        result = effects.past_impact(hist, known, config, as_of)
        grid = future_grid(config, config.queue_names, as_of + dt.timedelta(days=1), 28)
        open_days = {q: pd.DatetimeIndex(sorted(g["ds"].dt.normalize().unique())) for q, g in grid.groupby("queue")}
        days = effects.planned_impact(result, calendar[calendar["campaign_id"] == c.campaign_id], config, as_of,
                                      open_days)
        if days.empty:
            continue
        rows.append({"campaign_id": c.campaign_id, "extra_contacts": days["extra_contacts"].sum(),
                     "lo_80": days["lo_80"].sum(), "hi_80": days["hi_80"].sum()})
    return scores(pd.DataFrame(rows), truth)


def with_responses(base: pd.DataFrame, calendar: pd.DataFrame, totals: pd.Series, fitted: dict) -> pd.DataFrame:
    """``base`` (``queue, interval_start, contacts``, one queue) plus each campaign's ``totals`` spread over
    its days by the response shape ``fitted`` (:func:`effects.past_impact`'s result) learned, and within a
    day by the base's intervals (a timed send's day: the intervals from the send on)."""
    queue = base["queue"].iloc[0]
    day = base["interval_start"].dt.normalize()
    days = pd.date_range(day.min() - pd.Timedelta(days=35), day.max(), freq="D")
    fit = fitted["fits"][queue]
    exp = effects.Exposures(calendar, [queue], days, fitted["activity"], {queue: pd.DatetimeIndex(fit["dates"])})
    pos = exp.full.get_indexer(day)
    extra = np.zeros(len(base))
    y = base["contacts"].to_numpy(float)
    by_day = pd.Series(y).groupby(pos)
    day_share = (y / by_day.transform("sum").replace(0, np.nan)).fillna(0.0).to_numpy()   # an untimed send's split
    for c in calendar.itertuples():
        col = exp.column(queue, c.campaign_id, fitted["shapes"][c.channel])
        open_total = col[exp.open[queue]].sum()
        if not open_total > 0:
            continue
        per_day = totals[c.campaign_id] * col / open_total
        share = day_share
        if c.start_ts != c.start_ts.normalize():        # a timed send's day: its intervals from the send on
            weight = np.where((day == c.start_ts.normalize()) & (base["interval_start"] < c.start_ts), 0.0, y)
            share = (weight / pd.Series(weight).groupby(pos).transform("sum").replace(0, np.nan)).fillna(0.0).to_numpy()
        extra += per_day[pos] * share
    return base.assign(contacts=y + extra)


def ceiling(actuals: pd.DataFrame, calendar: pd.DataFrame, truth: pd.DataFrame, weeks: int = 6) -> dict:
    """Past-campaign scores when the responses have exactly the model's learned form (module note, 4)."""
    config = bank_config()
    true_days = pd.read_csv(DATA / "truth_intervals.csv.gz", parse_dates=["interval_start"])
    base = actuals.merge(true_days, on="interval_start", how="left").fillna({"extra": 0.0})
    base = base.assign(contacts=(base["contacts"] - base["extra"]).clip(lower=0.0))[["queue", "interval_start", "contacts"]]
    fitted = effects.past_impact(actuals, calendar, config, dt.date(1999, 12, 31))
    totals = truth.set_index("campaign_id")["true_extra"]
    out = {}
    for shift in range(weeks):
        moved = calendar.assign(start_ts=calendar["start_ts"] - pd.Timedelta(days=7 * shift),
                                end_ts=calendar["end_ts"] - pd.Timedelta(days=7 * shift))
        data = with_responses(base, moved, totals, fitted)
        for how, shapes in (("learned", None), ("given", fitted["shapes"])):
            result = effects.past_impact(data, moved, config, dt.date(1999, 12, 31), shapes)
            got = scores(effects.totals(result["days"], moved), truth)
            out[(f"{7 * shift} days earlier", how)] = (got["within_25pct"], got["within_by_channel"], got["coverage_80"])
    return out


def campaign_days(origins: int = 16, horizon: int = 14, notice_days: int = 14, share: float = 0.10) -> dict:
    """Interval and daily WAPE on the campaign days of ``origins`` weekly forecasts, with the
    calendar, without it, and the floor (without it plus the true campaign contacts)."""
    from benchmarks.real_accuracy import empty_calendar, load_series, run

    series = next(s for s in load_series() if s.name == "bank_campaigns_1999")
    truth = pd.read_csv(DATA / "truth_intervals.csv.gz", parse_dates=["interval_start"])
    with_cal, _, _ = run(series, origins, horizon, notice_days)
    without, _, _ = run(replace(series, calendar=empty_calendar()), origins, horizon, notice_days)
    f = with_cal[["origin", "queue", "ds", "y", "forecast"]].merge(
        without[["origin", "queue", "ds", "forecast"]].rename(columns={"forecast": "without"}), on=["origin", "queue", "ds"])
    f = f.merge(truth.rename(columns={"interval_start": "ds"}), on="ds", how="left").fillna({"extra": 0.0})
    f["floor"] = f["without"] + f["extra"]
    f["day"] = f["ds"].dt.normalize()
    daily = f.groupby(["origin", "queue", "day"])[["y", "forecast", "without", "floor", "extra"]].sum()
    # over every day forecast: the forecast without the calendar learned its level from a history
    # that held campaigns all year, so it carries their average load; the calendar's part moves it
    all_part = float((daily["forecast"] - daily["without"]).sum() / daily["extra"].sum())
    hit = daily[daily["extra"] >= share * daily["y"]].index
    f = f.set_index(["origin", "queue", "day"]).loc[lambda x: x.index.isin(hit)]
    d = daily.loc[hit]
    out = {"origins": origins, "campaign_days": len(d), "all_days_part_ratio": all_part}
    for level, frame in (("interval", f), ("daily", d)):
        for col in ("forecast", "without", "floor"):
            out[f"{level}_{col}"] = float((frame["y"] - frame[col]).abs().sum() / frame["y"].sum())
        # the calendar's own part (with minus without) against the true campaign contacts: the campaign
        # model's error apart from the base forecast's
        part = frame["forecast"] - frame["without"]
        out[f"{level}_part_error"] = float((part - frame["extra"]).abs().sum() / frame["extra"].sum())
        out[f"{level}_part_ratio"] = float(part.sum() / frame["extra"].sum())
    return out


def main() -> None:
    if not (DATA / "truth.csv").exists():
        print(f"no {DATA}; nothing to measure")
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--origins", type=int, default=16, help="weekly origins for the campaign-day forecasts (0 skips)")
    ap.add_argument("--ceiling", action="store_true",
                    help="also the ceiling: responses of the model's own form on the real base (module note, 4)")
    args = ap.parse_args()
    actuals, calendar, truth = load()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fn in (("past campaigns (as of 1999-12-31)", past), ("planned campaigns (the day before each)", planned)):
            t0 = time.perf_counter()
            got = fn(actuals, calendar, truth)
            print(f"\n== {name} ({time.perf_counter() - t0:.0f} s)")
            print(f"campaigns {got['campaigns']}, within +-25 % of the truth: {got['within_25pct']:.0%}, median "
                  f"|error| {got['median_abs_error']:.0%}, 80 % intervals hold the truth: {got['coverage_80']:.0%}")
            print(f"within +-25 % per channel: {got['within_by_channel']}")
            print(f"estimated / true contacts per channel: {got['ratio_by_channel']}")
            print(f"per kind: {got['ratio_by_kind']}")
            if "error_spread" in got:
                print(f"before pooling, sd of (estimate - truth) / standard error per channel (1 when the errors are "
                      f"stated right): {got['error_spread']}")
        if args.ceiling:
            t0 = time.perf_counter()
            got = ceiling(actuals, calendar, truth)
            print(f"\n== the ceiling: responses of the model's learned form on the real base "
                  f"({time.perf_counter() - t0:.0f} s)")
            for (shift, how), (within, by_channel, cover) in got.items():
                print(f"calendar {shift}, shapes {how}: within +-25 % {within:.0%} {by_channel}, 80 % intervals hold "
                      f"the truth {cover:.0%}")
            for how in ("learned", "given"):
                print(f"mean over the shifts, shapes {how}: within +-25 % "
                      f"{np.mean([v[0] for k, v in got.items() if k[1] == how]):.0%}")
        if args.origins:
            t0 = time.perf_counter()
            got = campaign_days(args.origins)
            print(f"\n== campaign days in the forecast: {got['campaign_days']} days with campaigns >= 10 % of the "
                  f"day's contacts, {got['origins']} weekly origins x 14 days ({time.perf_counter() - t0:.0f} s)")
            for level in ("interval", "daily"):
                w, wo, fl = got[f"{level}_forecast"], got[f"{level}_without"], got[f"{level}_floor"]
                print(f"{level} WAPE: with the calendar {w:.2%}, without {wo:.2%} ({1 - w / wo:+.1%} lower), "
                      f"floor (without + the true campaign contacts) {fl:.2%} ({1 - fl / wo:+.1%} lower)")
                print(f"  the calendar's part (with - without) against the true campaign contacts: absolute error "
                      f"{got[f'{level}_part_error']:.1%} of them, total {got[f'{level}_part_ratio']:.2f} x theirs")
            print(f"over every day forecast, the calendar's part totals {got['all_days_part_ratio']:.2f} x the true "
                  f"campaign contacts: the forecast without it carries the history's average campaign load in its level")


if __name__ == "__main__":
    main()
