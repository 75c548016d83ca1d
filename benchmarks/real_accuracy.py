"""Forecast accuracy on real data, evaluated as the tool is used.

    python -m benchmarks.real_accuracy [--origins 16] [--horizon 42] [--notice-days 14] [--demo] [--out FILE.csv]
                                       [--outage DAYS SHARE] [--keep-outages] [--weekdays]
                                       [--interval-min 15|60] [--since YYYY-MM-DD] [--thin SHARE]
                                       [--level-shift YYYY-MM-DD FACTOR] [--next-day]

For every real series in ``../shared/data`` (the Anonymous Bank's 1999 arrivals, and the same
arrivals with 52 campaign responses and their calendar), at ``--origins`` weekly origins: the
production forecast (``run_forecast``: model selection by backtest, intervals, the model chosen
at the origin before kept unless another is clearly better, as the nightly keeps the plan's) made from the
history before the origin for the horizon a nightly run asks for, with the campaign calendar as
it was known then. The shared calendar carries no submission times, so a campaign counts as known
``--notice-days`` before it starts (planners hear of campaigns late; 14 days is the freeze window).
``--weekdays`` adds the bank's arrivals as a site open Sunday to Thursday, 07:00-24:00 (its
origins are Thursdays, so that the first day ahead is open and the 1-day figures have a day to score).
``--demo`` adds the bundled demo data, whose generator shares the models' structure: a check that
the demo stays as accurate, not evidence of skill. ``--outage DAYS SHARE`` cuts the day DAYS before
every origin to SHARE of its contacts in the history the forecasts are made from (the scores stay
against the real actuals): how much an outage or a half-lost export moves the forecast;
``--keep-outages`` forecasts without mending outage days (:mod:`forecaster.demand.outliers`).

Robustness (sites unlike these: other interval lengths, histories, volumes): ``--interval-min 15`` or
``60`` forecasts the real series at another interval length, ``--since 1999-07-01`` from a short history, ``--thin 0.1``
a queue with a tenth of the calls (binomial thinning, series without campaigns only), ``--level-shift
1999-09-15 0.7`` a queue whose volume fell by 30 % for good on that day (the same thinning from it on).

``--next-day``: the forecast a nightly run makes for tomorrow, from every open day of the last
``--origins`` weeks instead of once a week (the weekly origins' first day is always the same
weekday): per weekday of the day forecast and over all, interval and daily WAPE pooled over the
days against the baselines', and the ratio per week of next-day forecasts (mean and worst week).

Reported per series and horizon (the first 1, 7, 14 and 42 days ahead):
- interval and daily WAPE of the chosen forecast and of the two baselines (``mean4``: the mean of
  the last four same weekday-intervals; ``snaive_week``: the same interval a week earlier), and
  the ratio of the chosen forecast's WAPE to the better baseline's (the baseline with the lower WAPE
  over all origins), as the mean over origins and at the worst origin;
- coverage of the 80 % and 95 % interval bands per week ahead (1..6), with how far each figure
  moves when the origins are resampled (5-95 % range): with 16 origins a daily figure rests on 16
  weeks of 7 correlated days, and its range is about +-8 points; and per third of the intervals
  by forecast (quiet, mid, busy), with the 80 % band's width as a share of the forecast;
- seconds per origin.
Targets (issue 17): 7-day interval and daily WAPE at most 0.92 x the better baseline on average and
no origin above 1.10 x; 80 % bands covering 75-85 % and 95 % bands 92-97 % in every week ahead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecaster.campaigns.calendar import read_calendar
from forecaster.core.config import Config, load_config
from forecaster.core.grid import future_grid
from forecaster.demand.context import make_context
from forecaster.demand.intervals import daily_forecast
from forecaster.demand.models import point_forecast
from forecaster.demand.selection import run_forecast

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
HORIZONS = (1, 7, 14, 42)
BASELINES = ("mean4", "snaive_week")
BAND_SIDES = ["lo_80", "hi_80", "lo_95", "hi_95"]
# The sources' clocks run through the year without daylight-saving jumps (48 intervals every day),
# so the site is taken as UTC; Israeli public holidays, open around the clock.
BANK_CONFIG = """\
site: Anonymous Bank 1999{site}
timezone: UTC
interval_min: {interval_min}
opening_hours: {{{hours}}}
holidays: {{country: IL, closed_on_public_holidays: false, observances: [optional]}}
queues: [{{name: bank, channel: voice, sl_pct: 80, answer_s: 20, aht_s: 200}}]
"""
ALL_WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class Series:
    name: str
    config: Config
    hist: pd.DataFrame          # queue, ds, y, aht_s
    calendar: pd.DataFrame      # channel, start_ts, end_ts, queues, reach (empty without campaigns)


def bank_config(days: tuple[str, ...] = ALL_WEEK, first_hour: int = 0, site: str = "", interval_min: int = 30) -> Config:
    """The bank's site, open on ``days`` from ``first_hour`` to midnight (by default around the clock)."""
    hours = ", ".join(f'{d}: "{first_hour:02d}:00-24:00"' for d in days)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bank.yaml"
        path.write_text(BANK_CONFIG.format(site=site, hours=hours, interval_min=interval_min))
        return load_config(path)


def empty_calendar() -> pd.DataFrame:
    return pd.DataFrame(columns=["campaign_id", "channel", "start_ts", "end_ts", "queues", "reach"])


def load_series(interval_min: int = 30) -> list[Series]:
    """The real series present in ``../shared/data`` (none when it is absent), at ``interval_min``
    minutes: the bank's arrivals from their 6-minute source; the campaign series (30 minutes) only
    at 30 minutes or a multiple of it."""
    out = []
    bank = SHARED / "anonymous_bank_1999" / "calls_6min.csv.gz"
    if bank.exists():
        raw = pd.read_csv(bank, parse_dates=["interval_start"])
        hist = raw.groupby(raw["interval_start"].dt.floor(f"{interval_min}min").rename("ds"))["calls"].sum().reset_index()
        hist = hist.rename(columns={"calls": "y"}).assign(queue="bank", aht_s=np.nan)
        out.append(Series("anonymous_bank_1999", bank_config(interval_min=interval_min), hist, empty_calendar()))
    camp = SHARED / "bank_campaigns_1999"
    if (camp / "actuals_30min.csv.gz").exists() and interval_min % 30 == 0:
        act = pd.read_csv(camp / "actuals_30min.csv.gz", parse_dates=["interval_start"])
        act = act.groupby(["queue", act["interval_start"].dt.floor(f"{interval_min}min")])["contacts"].sum().reset_index()
        hist = act.rename(columns={"interval_start": "ds", "contacts": "y"}).assign(aht_s=np.nan)
        out.append(Series("bank_campaigns_1999", bank_config(interval_min=interval_min), hist,
                          read_shared_calendar(camp / "calendar.csv")))
    return out


def variant(s: Series, since: str | None = None, thin: float | None = None, seed: int = 0,
            shift: tuple[str, float] | None = None) -> Series:
    """``s`` as another site would have it: its history only from ``since`` (a short history), and
    each contact kept with probability ``thin`` (a queue with a tenth of the calls: counts thinned
    binomially, so the noise is that of the smaller queue). ``shift`` (date, factor): the volume
    from that date on times the factor, for good (a new self-service option, a client won or
    lost): contacts from the date kept with probability ``factor`` (below 1), or those before it
    with ``1 / factor`` (above 1). The campaign truth is not thinned, so thinning and shifts are for
    series without campaigns."""
    hist = s.hist if since is None else s.hist[s.hist["ds"] >= pd.Timestamp(since)].reset_index(drop=True)
    rng = np.random.default_rng(seed)

    def kept(keep) -> pd.DataFrame:             # each contact kept with probability keep (one, or per row)
        return hist.assign(y=rng.binomial(np.round(hist["y"].to_numpy()).astype(int), keep).astype(float))

    if thin is not None:
        hist = kept(thin)
    if shift is not None:
        after = (hist["ds"] >= pd.Timestamp(shift[0])).to_numpy()
        hist = kept(np.where(after, min(shift[1], 1.0), min(1 / shift[1], 1.0)))
    tags = ([f"from {since}"] if since else []) + ([f"thinned to {thin:g}"] if thin is not None else []) + \
        ([f"x{shift[1]:g} from {shift[0]}"] if shift is not None else [])
    return Series(s.name + (f" ({', '.join(tags)})" if tags else ""), s.config, hist, s.calendar)


WEEKDAY_HOURS = ("sun", "mon", "tue", "wed", "thu"), 7           # the bank's busy days, from 07:00


def weekday_series(bank: Series) -> Series:
    """The Anonymous Bank's arrivals as a site open Sunday to Thursday, 07:00-24:00 (its busy days;
    Friday, Saturday and the night hours left out): the same real calls under another opening
    pattern, a check that nothing holds only for a site open every day around the clock."""
    days, first_hour = WEEKDAY_HOURS
    config = bank_config(days, first_hour, ", weekdays", bank.config.interval_min)
    h = bank.hist
    keep = h["ds"].dt.weekday.isin([ALL_WEEK.index(d) for d in days]) & (h["ds"].dt.hour >= first_hour)
    return Series("anonymous_bank_1999, weekdays 07-24", config, h[keep].reset_index(drop=True), bank.calendar)


def read_shared_calendar(path: Path) -> pd.DataFrame:
    """The calendar through the tool's own reader, as a user's submission would be read."""
    return read_calendar(path, bank_config(), today=dt.date(1999, 1, 1)).frame


def demo_series() -> Series:
    """The bundled demo (generated by data/generate_demo.py with the same structure as the models:
    a check that the demo stays as accurate, never evidence of skill)."""
    config = load_config(ROOT / "configs" / "example.yaml")
    act = pd.read_csv(ROOT / "data" / "demo" / "actuals.csv.gz", parse_dates=["interval_start"])
    hist = act.rename(columns={"interval_start": "ds", "contacts": "y"})
    calendar = read_calendar(ROOT / "data" / "demo" / "campaigns.csv", config, today=dt.date(2024, 1, 1)).frame
    return Series("demo (generated)", config, hist, calendar)


def known_at(calendar: pd.DataFrame, origin: pd.Timestamp, notice_days: int) -> pd.DataFrame:
    """The calendar as a planner had it at ``origin``: campaigns submitted ``notice_days`` before start."""
    if calendar.empty:
        return calendar
    return calendar[calendar["start_ts"] - pd.Timedelta(days=notice_days) <= origin].reset_index(drop=True)


def with_outage(past: pd.DataFrame, origin: pd.Timestamp, outage: tuple[int, float] | None) -> pd.DataFrame:
    """``past`` with the day ``days`` before ``origin`` cut to ``share`` of its contacts (``outage`` =
    (days, share)): a telephony outage or a half-lost export in the history a forecast is made from."""
    if outage is None:
        return past
    days, share = outage
    hit = past["ds"].dt.normalize() == origin - pd.Timedelta(days=days)
    return past.assign(y=np.where(hit, past["y"] * share, past["y"]))


def forecast_at(s: Series, origin: pd.Timestamp, horizon: int, notice_days: int,
                previous: dict[str, str] | None = None, outage: tuple[int, float] | None = None,
                mend_outages: bool = True, record: pd.DataFrame | None = None) -> tuple[pd.DataFrame, float, dict]:
    """The production forecast and the baselines from the history before ``origin``, with actuals;
    ``previous``: each queue's model at the origin before (the plan a nightly run would keep);
    ``outage``: a day of that history cut short (:func:`with_outage`), for the forecast and baselines alike."""
    past = with_outage(s.hist[s.hist["ds"] < origin], origin, outage)
    as_of = (origin - pd.Timedelta(days=1)).date()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc = run_forecast(past, known_at(s.calendar, origin, notice_days), s.config, as_of, horizon,
                          previous=previous, mend_outages=mend_outages, record=record)
    seconds = time.perf_counter() - t0
    grid = future_grid(s.config, s.config.queue_names, origin.date(), horizon)
    ctx = make_context(s.config, known_at(s.calendar, origin, notice_days), past["ds"].min().date(),
                       origin.date() + dt.timedelta(days=horizon + 7))
    frame = fc.frame.rename(columns={"interval_start": "ds"})
    out = grid.merge(frame[["queue", "ds", "forecast", *BAND_SIDES, "model"]],
                     on=["queue", "ds"], how="left")
    for name in BASELINES:
        out[name] = point_forecast(name, past, grid, ctx)
    out = out.merge(s.hist[["queue", "ds", "y"]], on=["queue", "ds"], how="inner")
    out["lead_day"] = (out["ds"].dt.normalize() - origin).dt.days + 1
    out["origin"] = origin
    return out, seconds, fc.info


def daily_totals_with_bands(frame: pd.DataFrame, info: dict) -> pd.DataFrame:
    """Daily totals of one origin's forecast (its first day at lead 1) with the run's daily bands,
    as the CLI and the report show them (:func:`daily_forecast`), and the actuals."""
    parts = []
    for queue, g in frame.groupby("queue"):
        first = g["ds"].min().normalize() - pd.Timedelta(days=int(g["lead_day"].min()) - 1)
        daily = daily_forecast(g.rename(columns={"ds": "interval_start"}), info["queues"][queue], first)
        actual = g.groupby(g["ds"].dt.normalize()).agg(y=("y", "sum"), lead_day=("lead_day", "first"))
        parts.append(daily.join(actual).rename_axis("ds").reset_index().assign(queue=queue))
    return pd.concat(parts, ignore_index=True)


def wape(y: pd.Series, p: pd.Series) -> float:
    total = float(y.sum())
    return float((y - p).abs().sum() / total) if total > 0 else float("nan")


def scores(frame: pd.DataFrame) -> pd.DataFrame:
    """Per origin and horizon: interval and daily WAPE of the forecast and the baselines."""
    rows = []
    cols = ["forecast", *BASELINES]
    for origin, g in frame.groupby("origin"):
        for h in HORIZONS:
            part = g[g["lead_day"] <= h]
            daily = part.groupby([part["queue"], part["ds"].dt.normalize()])[["y", *cols]].sum()
            for level, f in (("interval", part), ("daily", daily)):
                rows.append({"origin": origin, "horizon": h, "level": level,
                             **{c: wape(f["y"], f[c]) for c in cols}})
    return pd.DataFrame(rows)


def coverage(frame: pd.DataFrame) -> pd.DataFrame:
    """Share of actuals inside the 80 % and 95 % bands, per week ahead."""
    week = (frame["lead_day"] - 1) // 7 + 1
    return pd.DataFrame({
        "in_80": ((frame["y"] >= frame["lo_80"]) & (frame["y"] <= frame["hi_80"])).groupby(week).mean(),
        "in_95": ((frame["y"] >= frame["lo_95"]) & (frame["y"] <= frame["hi_95"])).groupby(week).mean(),
    }).rename_axis("week_ahead")


def coverage_by_volume(frame: pd.DataFrame) -> pd.DataFrame:
    """Share of actuals inside the interval bands per third of each queue's intervals by forecast
    (``quiet``, ``mid``, ``busy``; all weeks ahead), and the 80 % band's width as a share of the
    forecast (``width_80``: summed over the third). Staffing at a quantile reads the busy third's
    bands: overall coverage on target can hide quiet nights held by far too much and peaks by
    too little."""
    third = frame.groupby("queue")["forecast"].transform(
        lambda p: pd.qcut(p.rank(method="first"), 3, labels=["quiet", "mid", "busy"])).astype(str)
    inside = pd.DataFrame({f"in_{lvl}": (frame["y"] >= frame[f"lo_{lvl}"]) & (frame["y"] <= frame[f"hi_{lvl}"])
                           for lvl in ("80", "95")})
    out = inside.groupby(third).mean()
    width = (frame["hi_80"] - frame["lo_80"]).groupby(third).sum() / frame["forecast"].groupby(third).sum()
    return out.assign(width_80=width).reindex(["quiet", "mid", "busy"]).rename_axis("volume")


def coverage_range(frame: pd.DataFrame, draws: int = 2000, seed: int = 0) -> pd.DataFrame:
    """How far each week's coverage (:func:`coverage`) moves with the origins drawn: its 5th and 95th
    percentile over ``draws`` resamples of the origins with replacement (the days of one origin share
    its errors, so they are drawn together). A figure whose range holds the target cannot be told
    from it on these origins."""
    origin = frame["ds"].dt.normalize() - pd.to_timedelta(frame["lead_day"] - 1, unit="D")
    week = (frame["lead_day"] - 1) // 7 + 1
    inside = pd.DataFrame({lvl: (frame["y"] >= frame[f"lo_{lvl}"]) & (frame["y"] <= frame[f"hi_{lvl}"])
                           for lvl in ("80", "95")})
    counts = inside.groupby([origin.rename("origin"), week.rename("week")]).agg(["sum", "count"])
    origins = counts.index.get_level_values("origin").unique()
    pick = np.random.default_rng(seed).integers(0, len(origins), size=(draws, len(origins)))
    out = {}
    for lvl in ("80", "95"):
        hits, days = (counts[(lvl, k)].unstack().reindex(origins).fillna(0).to_numpy() for k in ("sum", "count"))
        cover = hits[pick].sum(axis=1) / days[pick].sum(axis=1)
        lo, hi = np.percentile(cover, [5, 95], axis=0)
        out[f"in_{lvl} 5-95 %"] = [f"{a:.2f}-{b:.2f}" for a, b in zip(lo, hi)]
    return pd.DataFrame(out, index=pd.Index(counts.index.get_level_values("week").unique().sort_values(),
                                            name="week_ahead"))


def summary(sc: pd.DataFrame) -> pd.DataFrame:
    """Mean WAPEs over origins and the ratio to the better baseline: mean and worst origin."""
    rows = []
    for (h, level), g in sc.groupby(["horizon", "level"]):
        better = min(BASELINES, key=lambda b: g[b].mean())
        ratio = g["forecast"] / g[better]
        rows.append({"horizon": h, "level": level, "forecast": g["forecast"].mean(),
                     **{b: g[b].mean() for b in BASELINES}, "better_baseline": better,
                     "ratio_mean": ratio.mean(), "ratio_worst": ratio.max(),
                     "origins_better": int((ratio < 1).sum()), "origins": len(g)})
    return pd.DataFrame(rows)


def next_day_summary(frame: pd.DataFrame, days: pd.DataFrame | None = None) -> pd.DataFrame:
    """Forecasts made every day for the next (``run(..., every_day=True)``, horizon 1): per weekday
    of the day forecast and over all of them, interval and daily WAPE of the forecast and the
    baselines pooled over the days (sum of absolute errors over sum of actuals), the ratio to the
    better baseline (the lower pooled WAPE over all days), and that ratio per week of next-day
    forecasts (each week's days pooled): its mean and worst week, as a nightly run's tomorrow is
    used every day, not once a week. ``in_80``, ``in_95``: the share of actuals inside the
    forecast's bands (intervals), and inside the daily bands of ``days`` (the run's daily totals
    with their bands, :func:`daily_totals_with_bands`)."""
    cols = ["forecast", *BASELINES]
    f = frame[frame["lead_day"] == 1]
    daily = f.groupby([f["queue"], f["origin"]])[["y", *cols]].sum().reset_index()
    if days is not None:
        bands = days.loc[days["lead_day"] == 1, ["queue", "ds", *BAND_SIDES]].rename(columns={"ds": "origin"})
        daily = daily.merge(bands, on=["queue", "origin"], how="left")
    first = f["origin"].min()
    rows = []
    for level, g in (("interval", f), ("daily", daily)):
        g = g.assign(weekday=g["origin"].dt.day_name().str[:3], week=(g["origin"] - first).dt.days // 7)
        better = min(BASELINES, key=lambda b: wape(g["y"], g[b]))
        weekly = pd.Series({w: wape(x["y"], x["forecast"]) / wape(x["y"], x[better]) for w, x in g.groupby("week")})
        for day, x in [*g.groupby("weekday", sort=False), ("all", g)]:
            inside = {f"in_{b}": float(((x["y"] >= x[f"lo_{b}"]) & (x["y"] <= x[f"hi_{b}"])).mean())
                      if f"lo_{b}" in x else np.nan for b in ("80", "95")}
            rows.append({"level": level, "weekday": day, "days": int(x["origin"].nunique()),
                         **{c: wape(x["y"], x[c]) for c in cols}, "better_baseline": better,
                         "ratio": wape(x["y"], x["forecast"]) / wape(x["y"], x[better]),
                         "weeks_mean": float(weekly.mean()) if day == "all" else np.nan,
                         "weeks_worst": float(weekly.max()) if day == "all" else np.nan, **inside})
    return pd.DataFrame(rows)


def run(s: Series, origins: int, horizon: int, notice_days: int, outage: tuple[int, float] | None = None,
        mend_outages: bool = True, every_day: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """``origins`` weekly origins, the last ``horizon`` days before the history ends; ``every_day``:
    every open day of those ``origins`` weeks is an origin instead (:func:`next_day_summary`)."""
    end = s.hist["ds"].max().normalize() + pd.Timedelta(days=1)
    last = end - pd.Timedelta(days=horizon)
    open_days = set(s.hist["ds"].dt.normalize())
    while last not in open_days and last > end - pd.Timedelta(days=horizon + 7):
        last -= pd.Timedelta(days=1)        # a site closed some days: every origin's first day is open
    if every_day:
        starts = [d for d in pd.date_range(last - pd.Timedelta(days=7 * origins - 1), last) if d in open_days]
    else:
        starts = [last - pd.Timedelta(days=7 * i) for i in range(origins)][::-1]
    frames, days, seconds, chosen, previous = [], [], [], {}, None
    for origin in starts:
        record = pd.concat(days, ignore_index=True) if days else None
        if record is not None:          # what the earlier origins' forecasts said of the days before this one
            record = record.assign(origin=record["ds"] - pd.to_timedelta(record["lead_day"] - 1, unit="D"),
                                   p=record["forecast"])
        f, sec, info = forecast_at(s, origin, horizon, notice_days, previous, outage, mend_outages, record)
        previous = {q: v["model"] for q, v in info["queues"].items()}
        frames.append(f)
        days.append(daily_totals_with_bands(f, info))
        seconds.append(sec)
        chosen[str(origin.date())] = {q: v["model"] for q, v in info["queues"].items()}
    frame = pd.concat(frames, ignore_index=True)
    return frame, scores(frame), {"seconds_per_origin": float(np.mean(seconds)), "chosen": chosen,
                                  "daily": pd.concat(days, ignore_index=True)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--origins", type=int, default=16)
    ap.add_argument("--horizon", type=int, default=42)
    ap.add_argument("--notice-days", type=int, default=14)
    ap.add_argument("--demo", action="store_true", help="also the bundled demo data (generated: a regression check)")
    ap.add_argument("--only-demo", action="store_true", help="the demo data alone")
    ap.add_argument("--weekdays", action="store_true",
                    help="also the bank's arrivals as a site open Sunday to Thursday 07:00-24:00 (weekday_series)")
    ap.add_argument("--out", help="write every per-origin score row here (CSV)")
    ap.add_argument("--next-day", action="store_true",
                    help="forecast every open day of the --origins weeks for the next day only, as a nightly run "
                         "is used for tomorrow: pooled WAPE per weekday and per week (next_day_summary)")
    ap.add_argument("--outage", nargs=2, type=float, metavar=("DAYS_BEFORE", "SHARE"),
                    help="robustness: at every origin, the day DAYS_BEFORE the origin keeps only SHARE of its "
                         "contacts in the history the forecasts are made from (e.g. 3 0.1: an outage three days back)")
    ap.add_argument("--keep-outages", action="store_true",
                    help="forecast from the history as it is, without mending outage days (demand.outliers): "
                         "what that step is worth")
    ap.add_argument("--interval-min", type=int, default=30, choices=(15, 30, 60),
                    help="robustness: the real series at this many minutes (the campaign series only at 30 and 60)")
    ap.add_argument("--since", help="robustness: the real series' history only from this date (YYYY-MM-DD): a short history")
    ap.add_argument("--thin", type=float, metavar="SHARE",
                    help="robustness: keep each real contact with this probability (0.1: a queue with a tenth of "
                         "the calls); the campaign series is left out, its truth would not match")
    ap.add_argument("--level-shift", nargs=2, metavar=("DATE", "FACTOR"),
                    help="robustness: the volume from DATE on times FACTOR for good (0.7: a 30 %% fall, as after a "
                         "new self-service option; 1.3: a rise), by binomial thinning; series without campaigns only")
    args = ap.parse_args(argv)
    shift = (args.level_shift[0], float(args.level_shift[1])) if args.level_shift else None
    series = [] if args.only_demo else load_series(args.interval_min)
    if args.weekdays and series and series[0].name == "anonymous_bank_1999":
        series.insert(1, weekday_series(series[0]))
    if args.thin is not None or shift is not None:
        series = [s for s in series if s.calendar.empty]
    series = [variant(s, args.since, args.thin, shift=shift) for s in series]
    if args.demo or args.only_demo:
        series.append(demo_series())
    if not series:
        print(f"no real series under {SHARED}; nothing to measure")
        return
    all_scores = []
    pd.set_option("display.width", 200)
    for s in series:
        outage = (int(args.outage[0]), args.outage[1]) if args.outage else None
        if args.next_day:
            frame, _, meta = run(s, args.origins, 1, args.notice_days, outage, not args.keep_outages, every_day=True)
            print(f"\n== {s.name}: next day from every open day, {frame['origin'].min():%Y-%m-%d} to "
                  f"{frame['origin'].max():%Y-%m-%d} ({frame['origin'].nunique()} forecasts), "
                  f"{meta['seconds_per_origin']:.1f} s each")
            nd = next_day_summary(frame, meta["daily"])
            print(nd.round(4).to_string(index=False))
            all_scores.append(nd.assign(series=s.name))
            continue
        frame, sc, meta = run(s, args.origins, args.horizon, args.notice_days, outage, not args.keep_outages)
        print(f"\n== {s.name}: {args.origins} weekly origins {frame['origin'].min():%Y-%m-%d} to "
              f"{frame['origin'].max():%Y-%m-%d}, horizon {args.horizon} days, "
              f"{meta['seconds_per_origin']:.1f} s per origin")
        picks = pd.Series([m for q in meta["chosen"].values() for m in q.values()]).value_counts().to_dict()
        print(f"models chosen at the origins: {picks}")
        print(summary(sc).round(4).to_string(index=False))
        for level, f in (("intervals", frame), ("daily totals", meta["daily"])):
            print(f"band coverage per week ahead, {level} (5-95 %: its range with the origins resampled):")
            print(pd.concat([coverage(f).round(3).T, coverage_range(f).T]).to_string())
        print("interval band coverage per third of the intervals by forecast, weeks 1-6:")
        print(coverage_by_volume(frame).round(3).T.to_string())
        all_scores.append(sc.assign(series=s.name))
    if args.out:
        pd.concat(all_scores, ignore_index=True).to_csv(args.out, index=False)
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
