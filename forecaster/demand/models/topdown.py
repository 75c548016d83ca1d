"""Top-down: daily totals by ARIMA with regressors, split over the day by an intraday profile."""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

from forecaster.core.engine import statsforecast_jobs
from forecaster.core.grid import minute_of_day
from forecaster.demand.context import Context, after_send, campaign_contacts, campaign_layer
from forecaster.demand.models.base import ForecastModel, register
from forecaster.features.design import daily_design, weekday_weights

PROFILE_WEEKS = 16
# Yearly Fourier terms need at least one whole year of history: on less they are nearly collinear
# with the trend and extrapolate wildly (7 months of the real bank data: daily forecasts 3.4 x the
# actuals at one origin).
YEARLY_MIN_DAYS = 365


# conditional sum of squares alone: the same daily forecasts as CSS-ML on the demo origins (to 4
# decimals of WAPE) at half the fitting time
DAILY_METHOD = "CSS"


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
    return share.groupby([h["queue"], h["ds"].dt.weekday, minute_of_day(h["ds"])]).mean()


def hours_profile(hist: pd.DataFrame, special_days: set[dt.date], weeks: int = PROFILE_WEEKS) -> pd.Series:
    """Like :func:`weekday_profile`, but days with the same opening hours share one profile.

    Pooling helps where those days have the same shape (the demo's Monday to Friday: 4-5 %
    lower interval WAPE) and hurts where they do not (a bank open around the clock, whose Friday
    and Saturday differ), so both are offered and the backtest chooses per queue.
    """
    h, day, share = _shares(hist, special_days, weeks)
    by_day = [h["queue"], day]
    minute = minute_of_day(h["ds"])
    hours = minute.groupby(by_day).transform("min") * 10_000 + minute.groupby(by_day).transform("max")
    pooled = share.groupby([h["queue"], hours, minute]).mean()
    latest = pd.DataFrame({"queue": h["queue"], "weekday": h["ds"].dt.weekday, "hours": hours, "day": day}) \
        .sort_values("day").drop_duplicates(["queue", "weekday"], keep="last")
    parts = []
    for r in latest.itertuples():                   # each weekday takes its latest opening hours' profile
        part = pooled.loc[(r.queue, r.hours)]
        parts.append(pd.Series(part.to_numpy(), index=pd.MultiIndex.from_product([[r.queue], [r.weekday], part.index])))
    return pd.concat(parts) if parts else pd.Series(dtype=float)


def daily_fits(series: dict[str, tuple[pd.Series, pd.DataFrame, pd.DataFrame]], engine: str = "local") -> dict:
    """Regression with AR(2) errors on log daily totals, for every queue in one statsforecast call.

    ``series`` maps queue -> (daily totals of open days, their regressors, the future days'
    regressors). Open days are consecutive integer steps. Future rows are padded to a common
    horizon (statsforecast wants one ``h``) and cut back afterwards. ``engine="dask"`` hands
    the frames to statsforecast as Dask frames, so fugue runs the fits on the current Dask
    client. Chosen over AutoARIMA on the demo's origins: as accurate at daily level at about a
    seventh of the time.
    """
    # statsforecast's import (numba, fugue, dask) costs about 1.5 s: paid by forecasting only, not by every command
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
    sf = StatsForecast(models=[model], freq=1, n_jobs=1 if engine == "dask" else statsforecast_jobs(len(series)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if engine == "dask":
            import dask.dataframe as dd  # optional extra (forecaster[dask]), loaded on demand

            parts = min(len(series), 16)
            out = sf.forecast(df=dd.from_pandas(train_df, npartitions=parts), h=h,
                              X_df=dd.from_pandas(future_df, npartitions=parts))
            out = out.compute() if hasattr(out, "compute") else out
        else:
            out = sf.forecast(df=train_df, h=h, X_df=future_df)
    per_queue = {q: g.sort_values("ds")["arimax"].to_numpy() for q, g in out.groupby("unique_id", sort=False)}
    return {q: np.maximum(np.expm1(per_queue[q][: len(xf)]), 0.0) for q, (_, _, xf) in series.items()}


def special_days(hol: pd.DataFrame) -> set[dt.date]:
    """Holidays, their eves, days after a closed holiday, bridge days and observances: left out of
    intraday profiles."""
    return set(hol.index[(hol[["holiday", "eve", "after_holiday", "bridge", "observance"]] == 1).any(axis=1)].date)


@register
class TopDown(ForecastModel):
    """Daily totals by ARIMA with regressors (:func:`topdown`), split over the day by the queue's
    intraday profile per weekday over the last 16 ordinary weeks."""

    alias = "topdown"
    race_order = 2
    min_history_days = 56
    pooled = False
    campaigns_inside = True            # the offsets go into and out of the daily totals (see topdown)
    models_holidays = True             # holidays and eves in the daily fit, in proportion to the weekday

    def fit(self, history: pd.DataFrame) -> TopDown:
        super().fit(history)
        profile = hours_profile if self.pooled else weekday_profile
        self.profile_ = profile(history, special_days(self.ctx.holidays))
        return self

    def _point(self, grid: pd.DataFrame) -> np.ndarray:
        # the daily ARIMA fit needs the horizon's regressors, so it runs here (as statsforecast's
        # forecast does), once per history end and horizon: both profiles share it (ctx.daily_cache)
        return topdown(self.history_, grid, self.ctx, self.profile_)


@register
class TopDownPooled(TopDown):
    """Like :class:`TopDown`, but days with the same opening hours share one intraday profile."""

    alias = "topdown_pooled"
    race_order = 3
    pooled = True


@register
class TopDownNoCampaigns(TopDownPooled):
    """:class:`TopDownPooled` without the campaign offsets: what the calendar adds, for the accuracy
    report. Never chosen in production."""

    alias = "topdown_nocmp"
    in_race = False

    def __init__(self, ctx: Context):
        super().__init__(replace(ctx, shapes={}, campaigns=None, impact_shapes={}))


def topdown(hist: pd.DataFrame, grid: pd.DataFrame, ctx: Context, profile: pd.Series) -> np.ndarray:
    """Daily totals by ARIMA with regressors (:func:`daily_fits`), split by an intraday profile.

    Campaigns enter as an offset in contacts, not as a regressor on the log scale: a campaign adds
    so many contacts per 1,000 reached whatever the day's base volume (a mailing's calls weigh
    twice as much on a half-volume Saturday). The campaign-impact model estimates each past
    campaign's contacts (one column per campaign, pooled per queue and channel), they are taken
    out of the history before the daily fit, and the expected contacts of past campaigns' tails
    and planned campaigns are added to the forecast days (the campaign-day figures of
    ``benchmarks/forecast_accuracy.py``).
    """
    out = np.zeros(len(grid))
    hol = ctx.holidays
    groups = grid.groupby("queue").groups
    key = (hist["ds"].max(), tuple(sorted(ctx.shapes.items())), tuple(
        (q, grid.loc[rows, "ds"].dt.normalize().min(), grid.loc[rows, "ds"].dt.normalize().max()) for q, rows in groups.items()))
    if key not in ctx.daily_cache:
        offsets = campaign_contacts(hist, groups, grid, ctx)
        queues_off = set(offsets.index.get_level_values(0)) if offsets is not None else set()
        series = {}
        special = special_days(hol)
        totals = {q: h.groupby(h["ds"].dt.normalize())["y"].sum() for q, h in hist.groupby("queue", sort=False)}
        for queue, rows in groups.items():
            daily = totals.get(queue, pd.Series(dtype=float))
            if queue in queues_off:
                daily = np.maximum(daily - offsets.loc[queue].reindex(daily.index).fillna(0.0), 0.0)
            days = pd.DatetimeIndex(sorted(grid.loc[rows, "ds"].dt.normalize().unique()))
            yearly = (daily.index.max() - daily.index.min()).days + 1 >= YEARLY_MIN_DAYS
            weight = weekday_weights(daily, special)
            series[queue] = (daily, daily_design(daily.index, hol, yearly, weight),
                             daily_design(days, hol, yearly, weight))
        fits = daily_fits(series, ctx.engine)
        ctx.daily_cache[key] = {}
        for q in series:
            per_day = pd.Series(fits[q], index=series[q][2].index)
            if q in queues_off:
                per_day = per_day + offsets.loc[q].reindex(per_day.index).fillna(0.0).to_numpy()
            ctx.daily_cache[key][q] = per_day
    for queue, rows in groups.items():
        out[grid.index.get_indexer(rows)] = split_by_profile(ctx.daily_cache[key][queue], grid.loc[rows], profile)
    offsets, timed = campaign_layer(hist, groups, grid, ctx)
    if timed is not None and len(timed):        # a timed send's day: its contacts from the send time on
        added = np.zeros(len(grid))
        for queue, rows in groups.items():
            if queue in set(offsets.index.get_level_values(0)):
                days = pd.DatetimeIndex(sorted(grid.loc[rows, "ds"].dt.normalize().unique()))
                added[grid.index.get_indexer(rows)] = split_by_profile(
                    offsets.loc[queue].reindex(days).fillna(0.0), grid.loc[rows], profile)
        out = after_send(out, added, grid, timed, ctx.config.interval_min)
    return out


def split_by_profile(per_day: pd.Series, g: pd.DataFrame, profile: pd.Series) -> np.ndarray:
    """Spread daily totals (indexed by date) over the rows ``g`` (``queue, ds``) by the intraday
    ``profile`` (share per queue, weekday and HH:MM), renormalised over each day's open rows."""
    share = profile.reindex(pd.MultiIndex.from_arrays([g["queue"], g["ds"].dt.weekday, minute_of_day(g["ds"])])).to_numpy()
    share = np.nan_to_num(share, nan=0.0)
    day_of = g["ds"].dt.normalize()
    norm = pd.Series(share).groupby(day_of.to_numpy()).transform("sum").to_numpy()
    return per_day.reindex(day_of).to_numpy() * np.where(norm > 0, share / norm, 0)
