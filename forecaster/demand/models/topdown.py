"""Top-down: daily totals by ARIMA with regressors, split over the day by an intraday profile."""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import replace
from typing import NamedTuple

import numpy as np
import pandas as pd

from forecaster.core.engine import statsforecast_jobs
from forecaster.core.grid import minute_of_day
from forecaster.demand.context import Context, after_send, campaign_contacts, campaign_layer
from forecaster.demand.models.base import ForecastModel, register
from forecaster.features.design import (
    MONTH_COLS,
    MONTHLY_MIN_DAYS,
    SHORT_DAY,
    SPECIAL_COLS,
    daily_design,
    month_cycle,
    weekday_weights,
    within_seen,
)

PROFILE_WEEKS = 16
# Yearly Fourier terms need at least one whole year of history: on less they are nearly collinear
# with the trend and extrapolate wildly (7 months of the real bank data: daily forecasts 3.4 x the
# actuals at one origin).
YEARLY_MIN_DAYS = 365


# conditional sum of squares alone: the same daily forecasts as CSS-ML on the demo origins (to 4
# decimals of WAPE) at half the fitting time
DAILY_METHOD = "CSS"
# the IMA(1,1) fit by CSS-ML: statsforecast 2.1's CSS alone, with differencing and regressors,
# forecasts log levels near zero (its CSS branch never runs the Kalman filter, so the state the
# forecast starts from stays empty); ML alone stayed at its start (MA 0: a random walk) on the real
# bank and the demo, where CSS-ML finds -0.86 to -0.96. The ML pass adds about 70 % to the CSS time
LOCAL_METHOD = "CSS-ML"


# -- top-down --------------------------------------------------------------------------------------
def _shares(hist: pd.DataFrame, special_days: set[dt.date], weeks: int):
    since = hist["ds"].max().normalize() - pd.Timedelta(days=7 * weeks - 1)
    h = hist[(hist["ds"] >= since) & ~hist["ds"].dt.date.isin(special_days)]
    day = h["ds"].dt.normalize()
    total = h.groupby([h["queue"], day])["y"].transform("sum")
    return h, day, (h["y"] / total.where(total > 0)).fillna(0.0)


def weekday_profile(hist: pd.DataFrame, special_days: set[dt.date], weeks: int = PROFILE_WEEKS,
                    halflife: float | None = None) -> pd.Series:
    """Share of the day's contacts per (queue, weekday, HH:MM), over the last ``weeks`` of ordinary
    days; with ``halflife`` (weeks), a day's weight halves with every ``halflife`` weeks of age."""
    h, day, share = _shares(hist, special_days, weeks)
    keys = [h["queue"], h["ds"].dt.weekday, minute_of_day(h["ds"])]
    if halflife is None:
        return share.groupby(keys).mean()
    w = 0.5 ** ((day.max() - day).dt.days.to_numpy() / 7 / halflife)
    return (share * w).groupby(keys).sum() / pd.Series(w, index=share.index).groupby(keys).sum()


# the intraday profile's windows (weeks) and weightings (half-life in weeks; None: equal) tried
PROFILE_CHOICES = ((2, None), (4, None), (8, None), (16, None), (16, 4.0))
PROFILE_TEST_WEEKS = 6       # the latest weeks each choice forecasts, from the weeks before each


OWN_WINDOW_GAIN = 0.10       # a weekday takes its own window where that splits its days this much better


class ProfileChoice(NamedTuple):
    """A queue's intraday profile window and weighting (one of :data:`PROFILE_CHOICES`), and the
    weekdays (Monday 0) that take their own."""

    window: tuple[int, float | None]
    weekdays: dict[int, tuple[int, float | None]]

    def of(self, weekday: int) -> tuple[int, float | None]:
        return self.weekdays.get(weekday, self.window)


DEFAULT_PROFILE = ProfileChoice((PROFILE_WEEKS, None), {})   # where no choice can be made (or none was)


def profile_choice(hist: pd.DataFrame, special_days: set[dt.date],
                   gain: float = OWN_WINDOW_GAIN) -> dict[str, ProfileChoice]:
    """Per queue, the profile window and weighting (:data:`PROFILE_CHOICES`) whose profile split
    the actual daily totals of each of the last PROFILE_TEST_WEEKS weeks, built from the weeks before
    it, with the least absolute error over the intervals (ordinary days only). A short window follows
    a shape that has moved, a long one is steadier; which wins is the queue's own history's say.

    A weekday whose own best choice splits its own test days ``gain`` better than the queue's
    takes it (0: every weekday its own best; 1: none). A shape can move at its own pace on one
    day: a real bank's Saturday calls start when the Sabbath ends, earlier every week into the
    winter, and its Saturdays' interval WAPE given the day's total was 0.49 with the queue's 16
    weeks and 0.41 with their own 4. Only a clear gain counts, as six test days per weekday are a
    noisy vote (every weekday by its own best: Monday 0.196 -> 0.201 on that bank;
    ``python -m benchmarks.profile_windows``)."""
    end = hist["ds"].max().normalize()
    longest = max(w for w, _ in PROFILE_CHOICES)
    h = hist[(hist["ds"] > end - pd.Timedelta(weeks=longest + PROFILE_TEST_WEEKS))
             & ~hist["ds"].dt.date.isin(special_days)]
    out = {}
    for queue, g in h.groupby("queue"):
        day_code, days = pd.factorize(g["ds"].dt.normalize(), sort=True)
        slot_code, _ = pd.factorize(minute_of_day(g["ds"]))
        y = np.zeros((len(days), slot_code.max() + 1 if len(slot_code) else 0))
        np.add.at(y, (day_code, slot_code), g["y"].to_numpy(float))      # contacts per day and time of day
        busy = y.sum(axis=1) > 0
        y, days = y[busy], pd.DatetimeIndex(days[busy])
        total = y.sum(axis=1)
        share = y / total[:, None]
        weekday = days.weekday
        errors = np.zeros((7, len(PROFILE_CHOICES)))                      # per weekday and choice
        for k in range(1, PROFILE_TEST_WEEKS + 1):
            origin = end + pd.Timedelta(days=1) - pd.Timedelta(weeks=k)
            target = (days >= origin) & (days < origin + pd.Timedelta(weeks=1))
            age = (origin - days).days.to_numpy() / 7                     # weeks before the origin
            weights = [np.where((days < origin) & (age <= weeks), 0.5 ** (age / halflife) if halflife else 1.0, 0.0)
                       for weeks, halflife in PROFILE_CHOICES]
            for wd in np.unique(weekday[target]):
                same = weekday == wd
                rows = target & same
                for i, w in enumerate(weights):
                    mine = w * same
                    if mine.sum() <= 0:
                        errors[wd, i] = np.inf
                        continue
                    profile = mine @ share / mine.sum()
                    errors[wd, i] += np.abs(y[rows] - total[rows, None] * profile).sum()
        overall = errors.sum(axis=0)
        if not np.isfinite(overall).any():
            out[queue] = DEFAULT_PROFILE
            continue
        best = int(np.argmin(overall))
        own = {wd: PROFILE_CHOICES[int(np.argmin(e))] for wd, e in enumerate(errors)
               if e.min() < (1 - gain) * e[best]}
        out[queue] = ProfileChoice(PROFILE_CHOICES[best], own)
    return out


PROFILE_MAX_AGE_DAYS = 28   # a queue's choice is made again once the history has moved on this far


def chosen_weekday_profile(hist: pd.DataFrame, special_days: set[dt.date], chosen: dict | None = None) -> pd.Series:
    """:func:`weekday_profile` per queue with its own window and weighting (:func:`profile_choice`).
    ``chosen`` (queue -> (history end, choice)) keeps the choices: a queue's is reused by later
    histories up to PROFILE_MAX_AGE_DAYS on (a backtest's later origins and the forecast, as the
    campaign shapes are), never by an earlier one."""
    chosen = {} if chosen is None else chosen
    end = hist["ds"].max().normalize()
    queues = hist["queue"].unique()
    stale = [q for q in queues
             if not (q in chosen and chosen[q][0] <= end and (end - chosen[q][0]).days <= PROFILE_MAX_AGE_DAYS)]
    if stale:
        chosen.update({q: (end, c) for q, c in profile_choice(hist[hist["queue"].isin(stale)], special_days).items()})
    by_choice: dict[tuple, dict[str, list[int]]] = {}    # the queues and weekdays of one choice in one call
    for q in queues:
        choice = chosen[q][1] if q in chosen else DEFAULT_PROFILE
        for wd in range(7):
            by_choice.setdefault(choice.of(wd), {}).setdefault(q, []).append(wd)
    parts = []
    for c, mine in by_choice.items():
        profile = weekday_profile(hist[hist["queue"].isin(list(mine))] if len(by_choice) > 1 else hist, special_days, *c)
        if len(by_choice) > 1:
            keep = pd.MultiIndex.from_tuples([(q, wd) for q, wds in mine.items() for wd in wds])
            profile = profile[profile.index.droplevel(2).isin(keep)]
        parts.append(profile)
    return pd.concat(parts).sort_index() if parts else pd.Series(dtype=float)


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


def daily_fits(series: dict[str, tuple[pd.Series, pd.DataFrame, pd.DataFrame]], engine: str = "local",
               cycles: dict | None = None, shifts: dict | None = None) -> dict:
    """The daily level of every queue's days ahead from its log daily totals: two regressions,
    each for every queue in one statsforecast call, and the recent level (:func:`daily_level`).

    * AR(2) errors (``arimax``): the forecast reverts to the level the whole history implies.
      Chosen over AutoARIMA on the demo's origins: as accurate at daily level at about a seventh of
      the time.
    * IMA(1,1) errors (``local``, a regression on differences): a change of level is carried on.
      Fitted on the full weekdays only (:func:`full_weekdays`): a short day's relative noise is large,
      and a real bank's Fridays (a third of a Sunday's volume, shorter into the winter as the
      Sabbath starts earlier) pulled every day's level down with them.

    ``series`` maps queue -> (daily totals of open days, their regressors, the future days'
    regressors). Open days are consecutive integer steps. ``engine="dask"`` hands the frames to
    statsforecast as Dask frames, so fugue runs the fits on the current Dask client (:func:`_fits`).
    ``cycles``, where given, receives each queue's day-of-month cycle
    (:func:`~forecaster.features.design.month_cycle`) when its regressors hold the month terms;
    ``shifts`` each level shift's fitted size on the log level (:func:`level_shift`).
    The day-of-month and special-day terms are fitted before both (:func:`prefit_coefficients`).
    """
    # statsforecast's import (numba, fugue, dask) costs about 1.5 s: paid by forecasting only, not by every command
    from statsforecast.models import ARIMA

    coef = {q: prefit_coefficients(np.log1p(y.to_numpy(float)), xh) for q, (y, xh, _) in series.items()}
    prefit = {q: (prefit_part(xh, coef[q]), prefit_part(xf, coef[q])) for q, (_, xh, xf) in series.items()}
    if cycles is not None:
        for q, b in coef.items():
            month = [c for c in MONTH_COLS if b is not None and c in b.index]
            if month:
                cycles[q] = month_cycle(b[month])
    if shifts is not None:
        shifts.update({q: float(b[LEVEL_SHIFT]) for q, b in coef.items() if b is not None and LEVEL_SHIFT in b.index})
    cols = sorted({c for _, xh, _ in series.values() for c in xh.columns
                   if xh[c].std() > 0 and c not in (*MONTH_COLS, *SPECIAL_COLS, LEVEL_SHIFT)})
    logs = {q: pd.Series(np.log1p(y.to_numpy(float)) - prefit[q][0], index=y.index) for q, (y, _, _) in series.items()}
    weekdays = {q: full_weekdays(y, xh) for q, (y, xh, _) in series.items()}
    full = {q: weekdays[q][y.index.weekday] for q, (y, _, _) in series.items()}
    full_ahead = {q: weekdays[q][xf.index.weekday] for q, (_, _, xf) in series.items()}
    arimax = _fits(ARIMA(order=(2, 0, 0), include_mean=True, method=DAILY_METHOD, alias="arimax"),
                   {q: (logs[q], xh, xf) for q, (_, xh, xf) in series.items()}, cols, engine)
    local = _fits(ARIMA(order=(0, 1, 1), include_mean=False, method=LOCAL_METHOD, alias="local"),
                  {q: (logs[q][full[q]], xh[full[q]], xf[full_ahead[q]]) for q, (_, xh, xf) in series.items()
                   if full[q].sum() > LOCAL_MIN_DAYS and full_ahead[q].any()}, cols, engine)
    out = {}
    for q, (y, xh, xf) in series.items():
        fits = np.full((len(xf), 2), np.nan)
        fits[:, 0] = arimax[q]
        if q in local:
            fits[full_ahead[q], 1] = local[q]
        out[q] = daily_level(np.maximum(np.expm1(fits + prefit[q][1][:, None]), 0.0), y, xh, xf)
    return out


def _fits(model, series: dict[str, tuple[pd.Series, pd.DataFrame, pd.DataFrame]], cols: list[str],
          engine: str) -> dict[str, np.ndarray]:
    """``model``'s forecasts of every queue's log daily series (queue -> (series, regressors,
    the future days' regressors)) in one statsforecast call, on the regressors ``cols``. Future
    rows are padded to a common horizon (statsforecast wants one ``h``) and cut back afterwards."""
    from statsforecast import StatsForecast  # as in daily_fits: loaded by forecasting only

    if not series:
        return {}
    h = max(len(xf) for _, _, xf in series.values())
    train, future = [], []
    for queue, (y, xh, xf) in series.items():
        t = pd.DataFrame({"unique_id": queue, "ds": np.arange(len(y)), "y": y.to_numpy(float)})
        t[cols] = xh.reindex(columns=cols, fill_value=0.0).to_numpy()
        f = xf.reindex(columns=cols, fill_value=0.0)
        f = pd.concat([f, f.iloc[[-1] * (h - len(f))]]) if len(f) < h else f
        fut = pd.DataFrame({"unique_id": queue, "ds": np.arange(len(y), len(y) + h)})
        fut[cols] = f.to_numpy()
        train.append(t)
        future.append(fut)
    train_df, future_df = pd.concat(train, ignore_index=True), pd.concat(future, ignore_index=True)
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
    alias = str(model)
    return {q: g.sort_values("ds")[alias].to_numpy()[: len(series[q][2])] for q, g in out.groupby("unique_id", sort=False)}


LOCAL_MIN_DAYS = 28   # full days of history before the IMA(1,1) fit is made


def full_weekdays(y: pd.Series, xh: pd.DataFrame) -> np.ndarray:
    """Per weekday (Monday first), whether it is a full one in the daily totals ``y`` (regressors
    ``xh``): at least SHORT_DAY of the busiest weekday's volume over the ordinary days
    (:func:`weekday_weights`)."""
    return weekday_weights(y, set(y.index[special_terms(xh)].date)) >= SHORT_DAY


def special_terms(x: pd.DataFrame) -> np.ndarray:
    """Which days of the design ``x`` carry a special-day term (:data:`SPECIAL_COLS`)."""
    cols = [c for c in SPECIAL_COLS if c in x.columns]
    return (x[cols].to_numpy(float) != 0).any(axis=1) if cols else np.zeros(len(x), bool)


RECENT_DAYS = 28        # the recent level: the same weekday's ordinary days in the last four weeks
RECENT_LEADS = (7, 14)  # days ahead: the median counts fully up to the first, not at all from the second


def recent_level(y: pd.Series, xh: pd.DataFrame, days: pd.DatetimeIndex) -> np.ndarray:
    """Per day of ``days``, the mean of the daily totals ``y`` on the ordinary days (no special-day
    term in ``xh``) of the same weekday in the last RECENT_DAYS days of history; NaN where there is none."""
    recent = (y.index > y.index.max() - pd.Timedelta(days=RECENT_DAYS)) & ~special_terms(xh)
    mean = y[recent].astype(float).groupby(y.index[recent].weekday).mean()
    return mean.reindex(days.weekday).to_numpy(float)


def daily_level(fits: np.ndarray, y: pd.Series, xh: pd.DataFrame, xf: pd.DataFrame) -> np.ndarray:
    """The daily totals ahead (the days of ``xf``) from the two fits of :func:`daily_fits`
    (``fits``: AR(2), IMA(1,1), one column each; NaN where the IMA has no forecast: short days)
    and the recent level of the history ``y`` (:func:`recent_level`).

    In the first week ahead, per day, the median of the three (where a member has a value); on a
    special day, which the recent level knows nothing of, the mean of the fits. From there the
    AR(2) fit takes over, alone from the second week on (RECENT_LEADS). A real bank's volume rose
    by about a fifth in late October 1999; four weeks on, AR(2) still forecast its weekdays 10-20 %
    low, while the four-week mean had caught up. With the median, the worst of 16 weekly origins
    went from 1.65 to 1.14 times the four-week mean's 7-day daily WAPE, and the mean ratio from
    0.75 to 0.70 (the bank open Sunday to Thursday: worst 1.87 to 1.21). With the median over the
    whole horizon, the daily error 8-42 days ahead was higher than AR(2)'s alone on three of four
    series and even on the fourth: the recent past says less about a month ahead
    (``python -m benchmarks.real_accuracy --weekdays --demo``)."""
    lead = (xf.index - y.index.max()).days.to_numpy()
    near = np.clip((RECENT_LEADS[1] - lead) / (RECENT_LEADS[1] - RECENT_LEADS[0]), 0.0, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)             # a day without a recent level or IMA
        median = np.nanmedian(np.column_stack([fits, recent_level(y, xh, xf.index)]), axis=1)
        median = np.where(special_terms(xf), np.nanmean(fits, axis=1), median)
    return near * median + (1 - near) * fits[:, 0]


def prefit_coefficients(y: np.ndarray, xh: pd.DataFrame) -> pd.Series | None:
    """The coefficients of the day-of-month terms (:data:`MONTH_COLS`) and the special-day terms
    (:data:`SPECIAL_COLS`: worked holidays, eves, observances, days after a closed holiday, bridge
    days) and of a level shift (:func:`level_shift`) for log daily totals ``y`` (None without such
    terms in ``xh``), from least squares on
    all of ``xh``'s regressors: consistent under the AR errors, if not efficient. Their part is
    taken out before the ARIMA fit and put back after (:func:`prefit_part`).

    Day-of-month terms: the six terms then cost the fit no parameters; each cost the joint
    optimiser a numerical gradient dimension (on 50 queues the daily fits took 35 % longer).
    Special days: a history holds each kind on a few days, often next to days no term fits (a
    holiday the site opened for an hour). Fitted jointly with AR errors, a term seen once also
    served to predict the misfit of the days after it, and carried that to the next such day: on
    a real bank's 15-week history, one eve (an ordinary Friday, just before a holiday Saturday at
    a seventh of its calls) put Yom Kippur's eve, a Sunday, at 1.6 times an ordinary Sunday (338
    calls came). By least squares each term measures only its own days. With that bank's history
    starting on 1999-06-01 (10 to 25 weeks at 16 weekly origins), its 7-day daily WAPE fell from
    20.1 % to 16.7 % (the four-week mean's: 21.0 %); on the whole year it moved by under 0.1
    point (``python -m benchmarks.real_accuracy --since 1999-06-01``)."""
    terms = [c for c in (*MONTH_COLS, *SPECIAL_COLS, LEVEL_SHIFT) if c in xh.columns and xh[c].std() > 0]
    if not terms:
        return None
    x = np.column_stack([np.ones(len(xh)), xh.to_numpy(float)])
    beta = np.linalg.lstsq(x, y, rcond=None)[0][1:]
    return pd.Series(beta, index=xh.columns)[terms]


def prefit_part(x: pd.DataFrame, coef: pd.Series | None) -> np.ndarray:
    """The part of the log level that :func:`prefit_coefficients` fitted, on the days of ``x``
    (zeros without coefficients)."""
    if coef is None:
        return np.zeros(len(x))
    return x.reindex(columns=coef.index, fill_value=0.0).to_numpy(float) @ coef.to_numpy()


# A lasting change of the daily level (a new IVR or self-service option, a client won or lost):
# looked for in the last LEVEL_SHIFT_DAYS open days, taken only when large and clear (LEVEL_SHIFT_MIN on
# the log level, about 16 %, at LEVEL_SHIFT_T standard errors) and seen on LEVEL_SHIFT_MIN_AFTER
# open days at least. On the real series and the demo, nothing passes both bars: their largest
# steps were 0.18 at 5.4 standard errors (the weekday site's August) and 0.10 at 6.8 (the demo's
# summer dip ending).
LEVEL_SHIFT = "level_shift"
LEVEL_SHIFT_DAYS = 56
LEVEL_SHIFT_MIN_AFTER = 10
LEVEL_SHIFT_T = 6.0
LEVEL_SHIFT_MIN = 0.15


def level_shift(y: np.ndarray, xh: pd.DataFrame) -> tuple[int, float] | None:
    """Where a lasting step in log daily totals ``y`` starts (a position in ``y``) and its size on
    the log level, or None. The daily ARIMA reverts to the level its whole history implies: after
    a real bank's volume fell by 30 % it kept forecasting the old level for weeks, 1.3-2.0 times
    the four-week mean's daily error, until that mean had forgotten the old level too.

    Each candidate start in the last LEVEL_SHIFT_DAYS open days is a step regressor added to ``xh``'s
    regressors; the errors of the least-squares fit without it are prewhitened by an AR(2) (as the
    daily model's errors are), and the step's t statistic comes from the prewhitened regression,
    with the error scale from the smallest 95 % of the squared residuals (holidays and outages are
    the other 5 %, which would hide a step as large as theirs). The candidate with the largest
    statistic is taken when it passes LEVEL_SHIFT_T and LEVEL_SHIFT_MIN."""
    n = len(y)
    first = max(LEVEL_SHIFT_DAYS, n - LEVEL_SHIFT_DAYS)           # at least as many days before it
    starts = np.arange(first, n - LEVEL_SHIFT_MIN_AFTER + 1)
    if not len(starts):
        return None
    keep = xh.to_numpy(float).std(axis=0) > 0
    x = np.column_stack([np.ones(n), xh.to_numpy(float)[:, keep]])
    resid = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
    phi = np.linalg.lstsq(np.column_stack([resid[1:-1], resid[:-2]]), resid[2:], rcond=None)[0]

    def whiten(v: np.ndarray) -> np.ndarray:
        return v[2:] - phi[0] * v[1:-1] - phi[1] * v[:-2]

    u, sv, _ = np.linalg.svd(whiten(x), full_matrices=False)
    basis = u[:, sv > sv[0] * 1e-10]            # the regressors' span (weekday dummies can sum to the constant)
    e = whiten(y)
    e = e - basis @ (basis.T @ e)
    steps = whiten((np.arange(n)[:, None] >= starts[None, :]).astype(float))
    steps = steps - basis @ (basis.T @ steps)
    norm = np.sqrt((steps ** 2).sum(axis=0))
    size = (steps.T @ e) / np.where(norm > 0, norm ** 2, np.inf)
    scale = float(np.sqrt(np.mean(np.sort(e ** 2)[: max(1, int(0.95 * len(e)))])))
    if scale <= 0:
        return None
    t = size * norm / scale
    best = int(np.argmax(np.abs(t)))
    if abs(t[best]) < LEVEL_SHIFT_T or abs(size[best]) < LEVEL_SHIFT_MIN:
        return None
    return int(starts[best]), float(size[best])


def special_days(hol: pd.DataFrame) -> set[dt.date]:
    """Holidays, their eves, days after a closed holiday, bridge days and observances: left out of
    intraday profiles."""
    return set(hol.index[(hol[["holiday", "eve", "after_holiday", "bridge", "observance"]] == 1).any(axis=1)].date)


@register
class TopDown(ForecastModel):
    """Daily totals by ARIMA with regressors (:func:`topdown`), split over the day by the queue's
    intraday profile per weekday over recent ordinary weeks (window and weighting per queue:
    :func:`profile_choice`)."""

    alias = "topdown"
    race_order = 2
    min_history_days = 56
    pooled = False
    campaigns_inside = True            # the offsets go into and out of the daily totals (see topdown)
    models_holidays = True             # holidays and eves in the daily fit, in proportion to the weekday

    def fit(self, history: pd.DataFrame) -> TopDown:
        super().fit(history)
        special = special_days(self.ctx.holidays)
        self.profile_ = hours_profile(history, special) if self.pooled else \
            chosen_weekday_profile(history, special, self.ctx.profile_choices)
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
        series, starts = {}, {}
        special = special_days(hol)
        totals = {q: h.groupby(h["ds"].dt.normalize())["y"].sum() for q, h in hist.groupby("queue", sort=False)}
        for queue, rows in groups.items():
            daily = totals.get(queue, pd.Series(dtype=float))
            if queue in queues_off:
                daily = np.maximum(daily - offsets.loc[queue].reindex(daily.index).fillna(0.0), 0.0)
            days = pd.DatetimeIndex(sorted(grid.loc[rows, "ds"].dt.normalize().unique()))
            span = (daily.index.max() - daily.index.min()).days + 1
            yearly, monthly = span >= YEARLY_MIN_DAYS, span >= MONTHLY_MIN_DAYS
            weight = weekday_weights(daily, special)
            past = daily_design(daily.index, hol, yearly, weight, monthly)
            future = within_seen(past, daily_design(days, hol, yearly, weight, monthly))
            shift = level_shift(np.log1p(daily.to_numpy(float)), past)
            if shift is not None:                # the step and its size are fitted before the ARIMA fit
                past[LEVEL_SHIFT] = (np.arange(len(daily)) >= shift[0]).astype(float)
                future[LEVEL_SHIFT] = 1.0
            starts[queue] = None if shift is None else daily.index[shift[0]]
            series[queue] = (daily, past, future)
        cycles: dict = {}
        sizes: dict = {}
        fits = daily_fits(series, ctx.engine, cycles, sizes)
        end = hist["ds"].max().normalize()
        for q, start in starts.items():          # the latest history's, for the run's record
            if q not in ctx.level_shifts or ctx.level_shifts[q][0] <= end:
                ctx.level_shifts[q] = (end, None if start is None else {
                    "from": str(start.date()), "change_pct": round(100 * float(np.expm1(sizes[q])), 1)})
        for q, cycle in cycles.items():          # the latest history's cycle, for the run's record
            if q not in ctx.month_cycles or ctx.month_cycles[q][0] <= end:
                ctx.month_cycles[q] = (end, cycle)
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
