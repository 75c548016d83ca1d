"""Forecast contacts and AHT per queue and open interval.

Models (each returns a point forecast for every open interval of the horizon):

* ``snaive_week`` (baseline): the same interval one week earlier; where that was closed or
  missing, the week before that, and so on. Beyond the first week the last observed week repeats.
* ``mean4`` (baseline): the mean of the same weekday and time over the last 4 weeks of history.
* ``topdown`` and ``topdown_pooled``: the daily total of each open day from statsforecast's ARIMA
  with regressors (AR(2) errors on log totals; regressors: weekday, trend, yearly Fourier terms,
  holiday effects, campaign adstock per channel), then split over the day's intervals by the
  queue's intraday profile over the last 16 ordinary weeks: per weekday, or pooled over days
  with the same opening hours.
  Only open days enter the daily series, as consecutive steps, so closed days and holidays do not
  distort it; the calendar lives in the regressors.
* ``mstl``, the direct interval model: statsforecast's MSTL (daily and weekly seasonality) on the
  last 10 weeks of the interval series, days without data filled from the week before; trend and
  remainder by ARIMA with AR(2) errors and the holiday and campaign regressors.

Per queue, the model with the lowest WAPE over rolling origins (the last weeks before the
forecast origin) is chosen. Prediction intervals are split-conformal: the backtest residuals of
the chosen model, scaled by sqrt(forecast + 1) (counts are roughly Poisson), give the 80 % and
95 % quantiles of the scaled error. A model that fails for a queue falls back to the next best and
the run records which, and why.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecaster.config import Config
from forecaster.errors import UserError
from forecaster.features import campaign_exposure, campaign_features, holiday_features, learn_adstock
from forecaster.sitecalendar import open_grid

MODELS = ("snaive_week", "mean4", "topdown", "topdown_pooled", "mstl")
PROFILE_WEEKS = 16
MSTL_WEEKS = 10
# conditional sum of squares alone: the same daily forecasts as CSS-ML on the demo origins (to 4
# decimals of WAPE) at half the fitting time
DAILY_METHOD = "CSS"
# statsmodels STL evaluates its loess smoothers only every few points and interpolates between: 13x
# faster on 10 weeks of 30-minute intervals, seasonal shapes within 0.5 % of the full computation.
STL_SPEED = {"trend_jump": 30, "low_pass_jump": 10}
AHT_WEEKS = 8
# the campaign-impact model's carry-over shapes are re-learned when four weeks old (see campaign_contacts)
SHAPES_MAX_AGE = 28


# -- inputs ------------------------------------------------------------------------------------
def future_grid(config: Config, queues: list[str], first_day: dt.date, days: int) -> pd.DataFrame:
    """Open intervals of each queue from ``first_day`` 00:00 for ``days`` days: ``queue, ds``."""
    start = dt.datetime.combine(first_day, dt.time())
    end = start + dt.timedelta(days=days)
    parts = [pd.DataFrame({"queue": q, "ds": open_grid(config, q, start, end)}) for q in queues]
    return pd.concat(parts, ignore_index=True)


def _key(ds: pd.Series) -> pd.Series:
    """Minute of the day: the time-of-day key of profiles (an integer; strftime cost 0.25 s a fit)."""
    return ds.dt.hour * 60 + ds.dt.minute


# -- baselines -------------------------------------------------------------------------------
def seasonal_naive(hist: pd.DataFrame, grid: pd.DataFrame) -> np.ndarray:
    """Same interval k weeks earlier, for the smallest k that lands on an observed interval."""
    known = hist.set_index(["queue", "ds"])["y"]
    out = np.full(len(grid), np.nan)
    last = hist["ds"].max()
    weeks = np.maximum(1, np.ceil((grid["ds"] - last) / pd.Timedelta(days=7)).astype(int))
    for extra in range(0, 8):
        todo = np.isnan(out)
        if not todo.any():
            break
        back = grid.loc[todo, "ds"] - pd.to_timedelta((weeks[todo] + extra) * 7, unit="D")
        found = known.reindex(pd.MultiIndex.from_arrays([grid.loc[todo, "queue"], back])).to_numpy()
        out[np.flatnonzero(todo)] = found
    return np.nan_to_num(out, nan=0.0)


def weekday_mean(hist: pd.DataFrame, grid: pd.DataFrame, weeks: int = 4) -> np.ndarray:
    """Mean of the same weekday and time over the last ``weeks`` weeks of history."""
    since = hist["ds"].max().normalize() - pd.Timedelta(days=7 * weeks - 1)
    recent = hist[hist["ds"] >= since]
    means = recent.groupby([recent["queue"], recent["ds"].dt.weekday, _key(recent["ds"])])["y"].mean()
    idx = pd.MultiIndex.from_arrays([grid["queue"], grid["ds"].dt.weekday, _key(grid["ds"])])
    return np.nan_to_num(means.reindex(idx).to_numpy(), nan=0.0)


# -- top-down --------------------------------------------------------------------------------------
def _shares(hist: pd.DataFrame, special_days: set[dt.date], weeks: int):
    since = hist["ds"].max().normalize() - pd.Timedelta(days=7 * weeks - 1)
    h = hist[(hist["ds"] >= since) & ~hist["ds"].dt.date.isin(special_days)]
    day = h["ds"].dt.normalize()
    total = h.groupby([h["queue"], day])["y"].transform("sum")
    return h, day, (h["y"] / total.where(total > 0)).fillna(0.0)


def weekday_profile(hist: pd.DataFrame, special_days: set[dt.date], weeks: int = PROFILE_WEEKS) -> pd.Series:
    """Share of the day's contacts per (queue, weekday, HH:MM), over recent ordinary days."""
    h, _, share = _shares(hist, special_days, weeks)
    return share.groupby([h["queue"], h["ds"].dt.weekday, _key(h["ds"])]).mean()


def hours_profile(hist: pd.DataFrame, special_days: set[dt.date], weeks: int = PROFILE_WEEKS) -> pd.Series:
    """Like :func:`weekday_profile`, but days with the same opening hours share one profile.

    Pooling helps where those days have the same shape (the demo's Monday to Friday: 4-5 %
    lower interval WAPE) and hurts where they do not (a bank open around the clock, whose Friday
    and Saturday differ), so both are offered and the backtest chooses per queue.
    """
    h, day, share = _shares(hist, special_days, weeks)
    by_day = [h["queue"], day]
    minute = _key(h["ds"])
    hours = minute.groupby(by_day).transform("min") * 10_000 + minute.groupby(by_day).transform("max")
    pooled = share.groupby([h["queue"], hours, minute]).mean()
    latest = pd.DataFrame({"queue": h["queue"], "weekday": h["ds"].dt.weekday, "hours": hours, "day": day}) \
        .sort_values("day").drop_duplicates(["queue", "weekday"], keep="last")
    parts = []
    for r in latest.itertuples():                   # each weekday takes its latest opening hours' profile
        part = pooled.loc[(r.queue, r.hours)]
        parts.append(pd.Series(part.to_numpy(), index=pd.MultiIndex.from_product([[r.queue], [r.weekday], part.index])))
    return pd.concat(parts) if parts else pd.Series(dtype=float)


def _daily_design(dates: pd.DatetimeIndex, hol: pd.DataFrame) -> pd.DataFrame:
    """Weekday, yearly Fourier terms, trend and the holiday effects of :func:`_interval_design`."""
    doy = 2 * np.pi * dates.dayofyear.to_numpy() / 365.25
    x = _interval_design(dates, hol, None)
    for w in range(1, 7):
        x[f"wd{w}"] = (dates.weekday == w).astype(float)
    x["sin1"], x["cos1"], x["sin2"], x["cos2"] = np.sin(doy), np.cos(doy), np.sin(2 * doy), np.cos(2 * doy)
    x["trend"] = (dates - pd.Timestamp("2000-01-01")).days.to_numpy() / 365.25   # without it ARIMA differences X too
    return x


def daily_fits(series: dict[str, tuple[pd.Series, pd.DataFrame, pd.DataFrame]], engine: str = "local") -> dict:
    """Regression with AR(2) errors on log daily totals, for every queue in one statsforecast call.

    ``series`` maps queue -> (daily totals of open days, their regressors, the future days'
    regressors). Open days are consecutive integer steps. Future rows are padded to a common
    horizon (statsforecast wants one ``h``) and cut back afterwards. ``engine="dask"`` hands
    the frames to statsforecast as Dask frames, so fugue runs the fits on the current Dask
    client. Chosen over AutoARIMA on the demo's origins: as accurate at daily level at about a
    seventh of the time.
    """
    from statsforecast import StatsForecast
    from statsforecast.models import ARIMA

    cols = sorted({c for _, xh, _ in series.values() for c in xh.columns if xh[c].std() > 0})
    h = max(len(xf) for _, _, xf in series.values())
    train, future = [], []
    for queue, (y, xh, xf) in series.items():
        t = pd.DataFrame({"unique_id": queue, "ds": np.arange(len(y)), "y": np.log1p(y.to_numpy(float))})
        t[cols] = xh.reindex(columns=cols, fill_value=0.0).to_numpy()
        f = xf.reindex(columns=cols, fill_value=0.0)
        f = pd.concat([f, f.iloc[[-1] * (h - len(f))]]) if len(f) < h else f
        fut = pd.DataFrame({"unique_id": queue, "ds": np.arange(len(y), len(y) + h)})
        fut[cols] = f.to_numpy()
        train.append(t)
        future.append(fut)
    train_df, future_df = pd.concat(train, ignore_index=True), pd.concat(future, ignore_index=True)
    model = ARIMA(order=(2, 0, 0), include_mean=True, method=DAILY_METHOD, alias="arimax")
    sf = StatsForecast(models=[model], freq=1, n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if engine == "dask":
            import dask.dataframe as dd

            parts = min(len(series), 16)
            out = sf.forecast(df=dd.from_pandas(train_df, npartitions=parts), h=h,
                              X_df=dd.from_pandas(future_df, npartitions=parts))
            out = out.compute() if hasattr(out, "compute") else out
        else:
            out = sf.forecast(df=train_df, h=h, X_df=future_df)
    out = out.sort_values(["unique_id", "ds"])
    return {q: np.maximum(np.expm1(out.loc[out["unique_id"] == q, "arimax"].to_numpy()[: len(xf)]), 0.0)
            for q, (_, _, xf) in series.items()}


@dataclass
class Context:
    """What every model needs besides history: the config, holidays, campaigns and their shapes."""

    config: Config
    holidays: pd.DataFrame
    exposure: pd.DataFrame
    shapes: dict[str, tuple[int, float]] = field(default_factory=dict)
    daily_cache: dict = field(default_factory=dict, repr=False)     # one daily fit serves both profiles
    engine: str = "local"                                           # or "dask": statsforecast on Dask
    campaigns: pd.DataFrame | None = None                           # the calendar (for campaign offsets)
    impact_shapes: dict = field(default_factory=dict, repr=False)   # history end -> impact model's shapes


def campaign_contacts(hist: pd.DataFrame, groups: dict, grid: pd.DataFrame, ctx: Context) -> pd.Series | None:
    """Contacts the calendar's campaigns add per (queue, date), in history and on the grid's days,
    from the campaign-impact model (:func:`forecaster.impact.campaign_offsets`), or None.
    An empty ``ctx.shapes`` (no campaign learning, as for ``topdown_nocmp``) means no campaigns."""
    if not ctx.shapes or ctx.campaigns is None or ctx.campaigns.empty:
        return None
    from forecaster.impact import campaign_offsets

    future = {q: pd.DatetimeIndex(sorted(grid.loc[rows, "ds"].dt.normalize().unique())) for q, rows in groups.items()}
    # the impact model's own carry-over shapes, pooled over queues: on 50 demo origins twice as
    # accurate on big campaign days as the shapes of learn_adstock. Learned at most every
    # SHAPES_MAX_AGE days and only from history before the origin (no look-ahead in backtests);
    # a one-queue forecast after a backtest reuses the shapes the backtest learned on all queues.
    end = hist["ds"].max().normalize()
    channels = set(ctx.campaigns.loc[ctx.campaigns["start_ts"] <= end, "channel"])
    known = [at for at, learned in ctx.impact_shapes.items()
             if at <= end and (end - at).days <= SHAPES_MAX_AGE and channels <= set(learned)]
    shapes = ctx.impact_shapes[max(known)] if known else None
    found = campaign_offsets(hist.rename(columns={"ds": "interval_start", "y": "contacts"}), ctx.campaigns,
                             ctx.config, end.date(), future, shapes)
    if shapes is None and found.attrs.get("shapes"):
        ctx.impact_shapes[end] = found.attrs["shapes"]
    if found.empty:
        return None
    found = found.set_index(["queue", "date"])["extra"]
    return found[~found.index.duplicated(keep="last")]


def topdown(hist: pd.DataFrame, grid: pd.DataFrame, ctx: Context, pooled: bool = False) -> np.ndarray:
    """Daily totals by ARIMA with regressors (:func:`daily_fits`), split by an intraday profile.

    Campaigns enter as an offset in contacts, not as a regressor on the log scale: a campaign adds
    so many contacts per 1,000 reached whatever the day's base volume (a mailing's calls weigh
    twice as much on a half-volume Saturday). The campaign-impact model estimates each past
    campaign's contacts (one column per campaign, pooled per queue and channel), they are taken
    out of the history before the daily fit, and the expected contacts of past campaigns' tails
    and planned campaigns are added to the forecast days. On 50 demo origins this cut the daily
    WAPE on days where campaigns add 10 % or more from 10.8 % (log-scale channel regressors) to
    5.6 % (12.0 % without campaigns).
    """
    out = np.zeros(len(grid))
    hol = ctx.holidays
    special = set(hol.index[(hol["after_holiday"] == 1) | (hol["bridge"] == 1) | (hol["holiday"] == 1)].date)
    profile = (hours_profile if pooled else weekday_profile)(hist, special)
    groups = grid.groupby("queue").groups
    key = (hist["ds"].max(), tuple(sorted(ctx.shapes.items())), tuple(
        (q, grid.loc[rows, "ds"].dt.normalize().min(), grid.loc[rows, "ds"].dt.normalize().max()) for q, rows in groups.items()))
    if key not in ctx.daily_cache:
        offsets = campaign_contacts(hist, groups, grid, ctx)
        queues_off = set(offsets.index.get_level_values(0)) if offsets is not None else set()
        series = {}
        for queue, rows in groups.items():
            h = hist[hist["queue"] == queue]
            daily = h.groupby(h["ds"].dt.normalize())["y"].sum()
            if queue in queues_off:
                daily = np.maximum(daily - offsets.loc[queue].reindex(daily.index).fillna(0.0), 0.0)
            days = pd.DatetimeIndex(sorted(grid.loc[rows, "ds"].dt.normalize().unique()))
            series[queue] = (daily, _daily_design(daily.index, hol), _daily_design(days, hol))
        fits = daily_fits(series, ctx.engine)
        ctx.daily_cache[key] = {}
        for q in series:
            per_day = pd.Series(fits[q], index=series[q][2].index)
            if q in queues_off:
                per_day = per_day + offsets.loc[q].reindex(per_day.index).fillna(0.0).to_numpy()
            ctx.daily_cache[key][q] = per_day
    for queue, rows in groups.items():
        out[grid.index.get_indexer(rows)] = split_by_profile(ctx.daily_cache[key][queue], grid.loc[rows], profile)
    return out


def split_by_profile(per_day: pd.Series, g: pd.DataFrame, profile: pd.Series) -> np.ndarray:
    """Spread daily totals (indexed by date) over the rows ``g`` (``queue, ds``) by the intraday
    ``profile`` (share per queue, weekday and HH:MM), renormalised over each day's open rows."""
    share = profile.reindex(pd.MultiIndex.from_arrays([g["queue"], g["ds"].dt.weekday, _key(g["ds"])])).to_numpy()
    share = np.nan_to_num(share, nan=0.0)
    day_of = g["ds"].dt.normalize()
    norm = pd.Series(share).groupby(day_of.to_numpy()).transform("sum").to_numpy()
    return per_day.reindex(day_of).to_numpy() * np.where(norm > 0, share / norm, 0)


def _interval_design(index: pd.DatetimeIndex, hol: pd.DataFrame, cmp: pd.DataFrame | None) -> pd.DataFrame:
    """Per day of ``index`` (dates or interval starts): the holiday effects (public holiday the site
    works through, first day after a closed holiday, bridge day) and the campaign adstock columns."""
    day = index.normalize()
    h = hol.reindex(day)
    x = pd.DataFrame(index=index)
    x["after_holiday"], x["bridge"] = h["after_holiday"].to_numpy(float), h["bridge"].to_numpy(float)
    x["holiday_open"] = (h["holiday"] * (1 - h["closed"])).to_numpy(float)     # holidays the site works through
    if cmp is not None:
        for col in cmp.columns:
            x[col] = cmp[col].reindex(day).fillna(0.0).to_numpy()
    return x.fillna(0.0)


def _filled_week_grid(values: np.ndarray, per_week: int) -> np.ndarray:
    """Fill NaN (days with no data: closed or lost) from the same interval a week earlier, else a week
    later, repeatedly, so closed days do not distort the seasonal shapes."""
    vals = values.copy()
    for _ in range(len(vals) // per_week + 1):
        miss = np.isnan(vals)
        if not miss.any():
            break
        back = np.concatenate([np.full(per_week, np.nan), vals[:-per_week]])
        ahead = np.concatenate([vals[per_week:], np.full(per_week, np.nan)])
        vals = np.where(miss, np.where(np.isnan(back), ahead, back), vals)
    return np.nan_to_num(vals)


def direct_mstl(hist: pd.DataFrame, grid: pd.DataFrame, ctx: Context, weeks: int = MSTL_WEEKS) -> np.ndarray:
    """The direct interval model: statsforecast's MSTL on each queue's interval series itself.

    The last ``weeks`` weeks on the full clock (closed hours are zeros, days without data are
    filled from the week before), in contacts (a log scale was 0.7 points of WAPE worse on the
    demo), are split by MSTL into a daily and a weekly
    seasonal shape plus trend and remainder; the trend and remainder are forecast by ARIMA with
    AR(2) errors and the holiday and campaign regressors of the day. All queues go to statsforecast
    in one call, so ``--engine dask`` runs it on Dask too.
    """
    from statsforecast import StatsForecast
    from statsforecast.models import ARIMA, MSTL

    step = pd.Timedelta(minutes=ctx.config.interval_min)
    per_day = int(pd.Timedelta(days=1) / step)
    end = hist["ds"].max().normalize() + pd.Timedelta(days=1)
    start = end - pd.Timedelta(days=7 * weeks)
    past = pd.date_range(start, end, freq=step, inclusive="left")
    last = grid["ds"].max().normalize() + pd.Timedelta(days=1)
    ahead = pd.date_range(end, max(last, end + pd.Timedelta(days=1)), freq=step, inclusive="left")
    hol = ctx.holidays
    cmp_all = None
    if ctx.shapes:
        cmp_all = campaign_features(ctx.exposure, sorted(grid["queue"].unique()), hol.index.min().date(),
                                    hol.index.max().date(), ctx.shapes)
    groups = grid.groupby("queue").groups
    train, future = [], []
    xs = {}
    for queue in groups:
        h = hist[(hist["queue"] == queue) & (hist["ds"] >= start)]
        y = h.groupby("ds")["y"].sum().reindex(past).to_numpy(float)
        seen = past.normalize().isin(h["ds"].dt.normalize().unique())
        y[seen & np.isnan(y)] = 0.0                                  # closed hours of an open day
        cmp = cmp_all.loc[queue] if cmp_all is not None else None
        xs[queue] = (_interval_design(past, hol, cmp), _interval_design(ahead, hol, cmp))
        train.append(pd.DataFrame({"unique_id": queue, "ds": np.arange(len(past)),
                                   "y": _filled_week_grid(y, 7 * per_day)}))
    cols = sorted({c for xh, _ in xs.values() for c in xh.columns if xh[c].std() > 0})
    for i, queue in enumerate(groups):
        xh, xf = xs[queue]
        train[i][cols] = xh.reindex(columns=cols, fill_value=0.0).to_numpy()
        f = pd.DataFrame({"unique_id": queue, "ds": np.arange(len(past), len(past) + len(ahead))})
        f[cols] = xf.reindex(columns=cols, fill_value=0.0).to_numpy()
        future.append(f)
    model = MSTL(season_length=[per_day, 7 * per_day], stl_kwargs=STL_SPEED,
                 trend_forecaster=ARIMA(order=(2, 0, 0), include_mean=True), alias="mstl")
    sf = StatsForecast(models=[model], freq=1, n_jobs=1)
    train_df, future_df = pd.concat(train, ignore_index=True), pd.concat(future, ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if ctx.engine == "dask":
            import dask.dataframe as dd

            parts = min(len(groups), 16)
            res = sf.forecast(df=dd.from_pandas(train_df, npartitions=parts), h=len(ahead),
                              X_df=dd.from_pandas(future_df, npartitions=parts) if cols else None)
            res = res.compute() if hasattr(res, "compute") else res
        else:
            res = sf.forecast(df=train_df, h=len(ahead), X_df=future_df if cols else None)
    out = np.zeros(len(grid))
    for queue, rows in groups.items():
        r = res[res["unique_id"] == queue].sort_values("ds")
        pred = pd.Series(np.maximum(r["mstl"].to_numpy(), 0.0), index=ahead)
        out[grid.index.get_indexer(rows)] = np.nan_to_num(pred.reindex(grid.loc[rows, "ds"]).to_numpy())
    return out


def aht_forecast(hist: pd.DataFrame, grid: pd.DataFrame, config: Config, weeks: int = AHT_WEEKS) -> np.ndarray:
    """Contact-weighted mean AHT per (queue, weekday, time) over recent weeks; queue mean, then config."""
    since = hist["ds"].max().normalize() - pd.Timedelta(days=7 * weeks - 1)
    h = hist[(hist["ds"] >= since) & hist["aht_s"].notna() & (hist["y"] > 0)]
    work = h.assign(w=h["y"] * h["aht_s"])
    keys = [work["queue"], work["ds"].dt.weekday, _key(work["ds"])]
    slot = work.groupby(keys)["w"].sum() / work.groupby(keys)["y"].sum()
    queue_mean = work.groupby("queue")["w"].sum() / work.groupby("queue")["y"].sum()
    out = slot.reindex(pd.MultiIndex.from_arrays([grid["queue"], grid["ds"].dt.weekday, _key(grid["ds"])])).to_numpy()
    fallback = grid["queue"].map(queue_mean).fillna(grid["queue"].map({q.name: q.aht_s for q in config.queues}))
    return np.where(np.isnan(out), fallback.to_numpy(float), out)


# Models from outside the package (the Prophet peer in benchmarks/): name -> f(hist, grid, ctx).
# They run through the same backtest and metrics as ours; they never enter the production race.
PEER_MODELS: dict = {}


def predict(model: str, hist: pd.DataFrame, grid: pd.DataFrame, ctx: Context) -> np.ndarray:
    """Point forecast of ``model`` for every row of ``grid``; ``topdown_nocmp`` ignores campaigns."""
    if model in PEER_MODELS:
        return PEER_MODELS[model](hist, grid, ctx)
    if model == "topdown_nocmp":
        return topdown(hist, grid, Context(ctx.config, ctx.holidays, ctx.exposure, {}, ctx.daily_cache, ctx.engine),
                       pooled=True)
    if model == "snaive_week":
        return seasonal_naive(hist, grid)
    if model == "mean4":
        return weekday_mean(hist, grid)
    if model == "topdown":
        return topdown(hist, grid, ctx)
    if model == "topdown_pooled":
        return topdown(hist, grid, ctx, pooled=True)
    if model == "mstl":
        return direct_mstl(hist, grid, ctx)
    raise ValueError(f"unknown model {model!r}")


# -- selection, intervals and the run ------------------------------------------------------------
MIN_DAYS = {"topdown": 56, "topdown_pooled": 56, "mstl": 28, "mean4": 7, "snaive_week": 7}
LEVELS = (0.8, 0.95)


def backtest(hist: pd.DataFrame, ctx: Context, origins: list[pd.Timestamp], days: int,
             models: tuple[str, ...] = MODELS) -> tuple[pd.DataFrame, list[dict]]:
    """Forecast the ``days`` after each origin from the history before it, for every model.

    Returns ``queue, ds, y, p, model, origin`` and a list of failures (model, origin, reason).
    """
    frames, failures = [], []
    for origin in sorted(origins):                  # oldest first: later origins reuse what it learned
        past = hist[hist["ds"] < origin]
        test = hist[(hist["ds"] >= origin) & (hist["ds"] < origin + pd.Timedelta(days=days))].reset_index(drop=True)
        if past.empty or test.empty:
            continue
        for model in models:
            try:
                p = predict(model, past, test[["queue", "ds"]], ctx)
            except Exception as exc:  # noqa: BLE001 - recorded, and the model is skipped at this origin
                failures.append({"model": model, "origin": str(origin.date()), "reason": f"{type(exc).__name__}: {exc}"})
                continue
            frames.append(test[["queue", "ds", "y"]].assign(p=p, model=model, origin=origin))
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), failures


def wape(frame: pd.DataFrame) -> float:
    total = frame["y"].sum()
    return float(np.abs(frame["y"] - frame["p"]).sum() / total) if total > 0 else float("nan")


def conformal_widths(residuals: pd.DataFrame) -> dict[float, float]:
    """Split-conformal quantiles of |y - p| / sqrt(p + 1) for each level (finite-sample corrected)."""
    scores = np.sort((np.abs(residuals["y"] - residuals["p"]) / np.sqrt(residuals["p"] + 1)).to_numpy())
    n = len(scores)
    return {lvl: float(scores[min(n - 1, int(np.ceil((n + 1) * lvl)) - 1)]) for lvl in LEVELS} if n else \
        {lvl: float("nan") for lvl in LEVELS}


def with_intervals(point: np.ndarray, widths: dict[float, float]) -> dict[str, np.ndarray]:
    spread = np.sqrt(point + 1)
    out = {}
    for lvl, name in ((0.8, "80"), (0.95, "95")):
        w = 0.0 if np.isnan(widths[lvl]) else widths[lvl]
        out[f"lo_{name}"] = np.maximum(point - w * spread, 0.0)
        out[f"hi_{name}"] = point + w * spread
    return out


@dataclass
class ForecastResult:
    frame: pd.DataFrame                         # queue, interval_start, forecast, lo/hi 80/95, aht_s, model
    info: dict                                  # per queue: model, scores, widths; shapes; fallbacks; warnings


def make_context(config: Config, campaigns: pd.DataFrame, start: dt.date, end: dt.date) -> Context:
    exposure = campaign_exposure(campaigns, config.queue_names, start, end)
    return Context(config, holiday_features(config, start, end), exposure, campaigns=campaigns)


@contextlib.contextmanager
def engine_session(engine: str, address: str | None = None):
    """Where statsforecast runs: ``local``, or ``dask`` on the scheduler at ``address`` (or, without
    one, a local in-process cluster using every core). Spark and Ray work the same way through
    fugue and can be added here."""
    if engine != "dask":
        yield
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UserError("--engine dask needs the dask extras: pip install 'forecaster[dask]'") from None
    for name in ("distributed", "distributed.shuffle"):               # its routine shuffle notices are noise here
        logging.getLogger(name).setLevel(logging.ERROR)
    if address:
        with Client(address):
            yield
    else:
        with LocalCluster(processes=False, n_workers=os.cpu_count() or 1, threads_per_worker=1,
                          dashboard_address=None) as cluster, Client(cluster):
            yield


def run_forecast(hist: pd.DataFrame, campaigns: pd.DataFrame, config: Config, as_of: dt.date, days: int,
                 backtest_days: int = 14, origins: int = 3, engine: str = "local") -> ForecastResult:
    """Choose a model per queue by rolling-origin WAPE, then forecast ``days`` days after ``as_of``.

    ``hist`` is ``queue, ds, y, aht_s`` (actuals up to the end of ``as_of``); ``campaigns`` the
    current, not withdrawn campaigns (``channel, start_ts, end_ts, queues, reach``).
    """
    hist = hist[hist["ds"] < pd.Timestamp(as_of) + pd.Timedelta(days=1)]
    first_day = as_of + dt.timedelta(days=1)
    ctx = make_context(config, campaigns, hist["ds"].min().date(), first_day + dt.timedelta(days=days + 7))
    ctx.engine = engine
    bt_days = min(backtest_days, days)
    starts = [pd.Timestamp(first_day) - pd.Timedelta(days=bt_days + 7 * i) for i in range(origins)]
    daily = hist.groupby([hist["queue"], hist["ds"].dt.normalize().rename("date")])["y"].sum().reset_index()
    info: dict = {"queues": {}, "fallbacks": [], "warnings": [], "backtest": {"origins": [str(o.date()) for o in starts],
                                                                             "days": bt_days}}
    ctx.shapes = learn_adstock(daily[daily["date"] < min(starts)], ctx.exposure[ctx.exposure["date"] < min(starts)],
                               ctx.holidays).shapes
    results, failures = backtest(hist, ctx, starts, bt_days)
    info["fallbacks"] += [{"queue": "*", **f} for f in failures]
    # the forecast keeps the carry-over shapes its backtest scored (learned before the earliest origin,
    # four weeks back): learning them again on those four weeks more cost 10 s per 12 queues
    info["adstock"] = {c: {"lag_days": lag, "decay": d, "ramp_days": r} for c, (lag, d, r) in ctx.shapes.items()}
    grid = future_grid(config, config.queue_names, first_day, days)
    frames = []
    for queue in config.queue_names:
        q_hist = hist[hist["queue"] == queue]
        q_grid = grid[grid["queue"] == queue].reset_index(drop=True)
        if q_hist.empty:
            info["warnings"].append(f"queue {queue}: no history up to {as_of}; no forecast")
            continue
        frames.append(_forecast_queue(queue, q_hist, q_grid, results, ctx, info))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["queue", "interval_start", "forecast", "lo_80", "hi_80", "lo_95", "hi_95", "aht_s", "model"])
    return ForecastResult(frame, info)


def _forecast_queue(queue: str, q_hist: pd.DataFrame, q_grid: pd.DataFrame, results: pd.DataFrame,
                    ctx: Context, info: dict) -> pd.DataFrame:
    history_days = q_hist["ds"].dt.normalize().nunique()
    scored = {}
    if len(results):
        mine = results[results["queue"] == queue]
        scored = {m: wape(g) for m, g in mine.groupby("model")}
    eligible = [m for m in MODELS if history_days >= MIN_DAYS[m]] or ["snaive_week"]
    if len(eligible) < len(MODELS):
        info["warnings"].append(f"queue {queue}: only {history_days} days of history; using simpler models "
                                f"({', '.join(eligible)})")
    ranked = sorted(eligible, key=lambda m: np.nan_to_num(scored.get(m, np.inf), nan=np.inf))   # unscored last
    point, chosen = None, None
    for model in ranked:
        try:
            point = predict(model, q_hist, q_grid, ctx)
            chosen = model
            break
        except Exception as exc:  # noqa: BLE001 - recorded and the next model is tried
            info["fallbacks"].append({"queue": queue, "model": model, "reason": f"{type(exc).__name__}: {exc}"})
    residuals = results[(results["queue"] == queue) & (results["model"] == chosen)] if len(results) else pd.DataFrame()
    widths = conformal_widths(residuals) if len(residuals) else {lvl: float("nan") for lvl in LEVELS}
    if not len(residuals):
        info["warnings"].append(f"queue {queue}: no backtest residuals; prediction intervals are empty")
    info["queues"][queue] = {"model": chosen, "wape": {m: round(v, 4) for m, v in scored.items()},
                             "interval_scale": {str(k): round(v, 4) for k, v in widths.items()},
                             "history_days": int(history_days)}
    out = q_grid.rename(columns={"ds": "interval_start"}).assign(forecast=point, **with_intervals(point, widths))
    out["aht_s"] = aht_forecast(q_hist, q_grid, ctx.config)
    out["model"] = chosen
    return out


def parse_horizon(text: str) -> int:
    """``6w`` -> 42 days, ``10d`` -> 10 days."""
    m = re.fullmatch(r"\s*(\d+)\s*([dw])\s*", str(text).lower())
    if not m or int(m.group(1)) == 0:
        raise UserError(f"--horizon {text}: give a number of days or weeks, like 10d or 6w")
    return int(m.group(1)) * (7 if m.group(2) == "w" else 1)


def forecast_store(store_path, config: Config, as_of: dt.date | None, days: int, lock_timeout_s: float = 30.0,
                   engine: str = "local", dask_address: str | None = None):
    """Read history and campaigns, forecast with the store closed, then store the run in one transaction."""
    from forecaster.campaigns import current
    from forecaster.store import Runs, Store

    started = dt.datetime.now()
    with Store(store_path, read_only=True, lock_timeout_s=lock_timeout_s) as store:
        hist = store.actuals().rename(columns={"interval_start": "ds", "contacts": "y"})
        campaigns = current(store, include_withdrawn=False)
    if hist.empty:
        raise UserError("the store holds no actuals yet; run 'forecaster ingest FILE' first")
    last = hist["ds"].max().date()
    as_of = as_of or last
    if as_of > last:
        raise UserError(f"--as-of {as_of} is after the last actuals ({last}); ingest newer actuals or choose an "
                        "earlier date")
    if as_of < hist["ds"].min().date() + dt.timedelta(days=7):
        raise UserError(f"--as-of {as_of} leaves less than a week of history; choose a later date")
    with engine_session(engine, dask_address):
        result = run_forecast(hist, campaigns, config, as_of, days, engine=engine)
    result.info["engine"] = engine
    with Store(store_path, lock_timeout_s=lock_timeout_s) as store, store.transaction():
        runs = Runs(store)
        run_id = runs.create("forecast", as_of=as_of, params={"horizon_days": days, "engine": engine},
                             info=result.info, started_at=started)
        runs.save_forecast(run_id, result.frame)
    return run_id, result
