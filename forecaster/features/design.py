"""Design matrices per day or interval, in one place.

Three builders, each named for the model it serves. They differ on purpose in what they hold
(harmonics, trend origin, weekday coding), because the models were scored with them; merging
them changes the forecasts and is left to the accuracy work, which measures it.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd


# -- learning the shapes -----------------------------------------------------------------------
def carryover_design(dates: pd.DatetimeIndex, hol: pd.DataFrame) -> np.ndarray:
    t = (dates - dates[0]).days.to_numpy() / 365.25
    doy = 2 * np.pi * dates.dayofyear.to_numpy() / 365.25
    weekday = np.eye(7)[dates.weekday]
    h = hol.reindex(dates)
    return np.column_stack([weekday, t, np.sin(doy), np.cos(doy), np.sin(2 * doy), np.cos(2 * doy),
                            h["after_holiday"].to_numpy(), h["bridge"].to_numpy()])


def interval_design(index: pd.DatetimeIndex, hol: pd.DataFrame, cmp: pd.DataFrame | None) -> pd.DataFrame:
    """Per day of ``index`` (dates or interval starts): the holiday effects (public holiday the site
    works through, first day after a closed holiday, bridge day) and the campaign adstock columns."""
    day = index.normalize()
    h = hol.reindex(day)
    x = pd.DataFrame(index=index)
    x["after_holiday"], x["bridge"] = h["after_holiday"].to_numpy(float), h["bridge"].to_numpy(float)
    x["holiday_open"] = (h["holiday"] * (1 - h["closed"])).to_numpy(float)     # holidays the site works through
    x["observance"] = h["observance"].to_numpy(float)
    if cmp is not None:
        for col in cmp.columns:
            x[col] = cmp[col].reindex(day).fillna(0.0).to_numpy()
    return x.fillna(0.0)


# the columns of special days: a public holiday the site works through, the first day after a
# closed one, a bridge day, an observance, the eve of a holiday
SPECIAL_COLS = ("holiday_open", "after_holiday", "bridge", "observance", "eve", "eve_short")

SHORT_DAY = 0.5     # a weekday under half the busiest one's volume is short anyway (a Friday before the Sabbath)


def split_eves(x: pd.DataFrame, scale: np.ndarray) -> None:
    """Move the eves that fall on a short weekday (``scale``, the day's weekday weight, under
    SHORT_DAY) from ``x["eve"]`` to a column of their own, ``eve_short``. An eve is a short day:
    on a real bank, eves from Sunday to Thursday ran at 5-50 % of their weekday's volume, eves
    on a Friday (short anyway, before the Sabbath) at 86-98 % of an ordinary Friday. With one eve
    term, scaled by the weekday's volume, its three Friday eves of 1999 were forecast a week ahead
    at 0.69-0.79 times what came (0.52-0.67 with the campaigns' responses added); with a term
    of their own, at 0.92-1.20 (0.90-1.25), and the 7-day daily WAPE went from 12.5 % to 12.2 %
    (16.9 % to 16.5 %; ``python -m benchmarks.real_accuracy``). Each kind of eve has its own
    effect, and a kind the history has not seen gets none (:func:`within_seen`)."""
    short = scale < SHORT_DAY
    x["eve_short"] = np.where(short, x["eve"].to_numpy(float), 0.0)
    x["eve"] = np.where(short, 0.0, x["eve"].to_numpy(float))


def within_seen(xh: pd.DataFrame, xf: pd.DataFrame) -> pd.DataFrame:
    """``xf`` (a design over the days ahead) with each special-day column (:data:`SPECIAL_COLS`)
    no larger than the history's ``xh`` ever held it: a special day ahead gets at most the effect
    the history has seen, never a multiple of it. The columns are scaled by the weekday's volume
    (:func:`daily_design`), so an effect seen only on a quiet weekday would otherwise be carried to
    a busy one multiplied: a real bank with eleven weeks of history had seen one holiday eve, a
    Friday at a third of a Sunday's volume that ran above a usual Friday; its next eve, the Sunday
    before Yom Kippur, was forecast at 17,742 calls (338 came; an ordinary Sunday has about 1,300)."""
    cols = [c for c in SPECIAL_COLS if c in xh.columns and c in xf.columns]
    return xf.assign(**{c: np.minimum(xf[c].to_numpy(float), float(xh[c].max()) if len(xh) else 0.0) for c in cols})


MONTHLY_HARMONICS = 3
MONTHLY_MIN_DAYS = 120      # about four monthly cycles before day-of-month terms are fitted
# The campaign-impact model's base takes them from three cycles on. There they only describe the
# history (nothing is forecast from them), and leaving them out costs more than fitting them from
# few months: a letter sent on the first of a month is given the month's surge. On the real bank
# with campaigns from 1999-05-15 (118 days at the origin 1999-10-09), a price change letter of
# 1 July was measured at 8,473 contacts (1,180 in truth), and the next one was planned from it.
IMPACT_MONTHLY_MIN_DAYS = 90
MONTH_COLS = tuple(f"{t}{k}" for k in range(1, MONTHLY_HARMONICS + 1) for t in ("msin", "mcos"))


def month_terms(x: pd.DataFrame, dates: pd.DatetimeIndex) -> None:
    """Add the day-of-month Fourier terms (:data:`MONTH_COLS`: ``msin1``, ``mcos1``, ...) of
    ``dates`` to ``x``: the position in the month as an angle, so a month's first days meet its last ones."""
    dom = 2 * np.pi * (dates.day.to_numpy() - 1) / dates.days_in_month.to_numpy()
    for k in range(1, MONTHLY_HARMONICS + 1):
        x[f"msin{k}"], x[f"mcos{k}"] = np.sin(k * dom), np.cos(k * dom)


def month_cycle(coef: pd.Series) -> dict:
    """What day-of-month coefficients (on the log level, indexed by :data:`MONTH_COLS`) say, over a
    30-day month: the day it peaks and the day it is lowest, each with its percentage against
    the month's usual level, for planners to read (``runs show``)."""
    days = pd.date_range("2001-04-01", periods=30)          # April: 30 days
    x = pd.DataFrame(index=days)
    month_terms(x, days)
    pct = 100 * np.expm1(x[coef.index].to_numpy() @ coef.to_numpy())
    hi, lo = int(np.argmax(pct)), int(np.argmin(pct))
    return {"peak_day": hi + 1, "peak_pct": round(float(pct[hi]), 1), "low_day": lo + 1, "low_pct": round(float(pct[lo]), 1)}


def daily_design(dates: pd.DatetimeIndex, hol: pd.DataFrame, yearly: bool = True,
                 weekday_weight: np.ndarray | None = None, monthly: bool = False) -> pd.DataFrame:
    """Weekday, yearly Fourier terms (when ``yearly``), day-of-month terms (when ``monthly``:
    :func:`month_terms`), trend, the holiday effects of :func:`interval_design` and the eve of a
    public holiday (often a short day).

    Day-of-month terms carry billing, statement and pay cycles: a real bank's weekdays run about
    18 % above their usual level on the first four days of a month and 10 % below it after the
    25th. With them, its 7-day daily WAPE over 16 weekly origins fell from 13.2 % to 12.5 %
    (open Sunday-Thursday: 13.4 % to 12.4 %); the demo, whose generator has no such cycle, stayed
    within 0.01 points (``python -m benchmarks.real_accuracy --weekdays --demo``). The top-down
    model takes their part out before its ARIMA fit (:func:`~forecaster.demand.models.topdown.prefit_coefficients`).

    ``weekday_weight`` (7 values, the busiest weekday 1: :func:`weekday_weights`) scales a worked
    holiday and an eve by the weekday's volume, as :func:`impact_design` does: a holiday or an
    eve on an already quiet day (a Saturday at a tenth of a Monday, a Friday that is short
    anyway) loses less than on a busy one. On a log scale a single holiday coefficient would cut
    every weekday by the same share (a real bank's holiday Saturdays forecast at 24 calls where
    110-230 came). With the weights, an eve on a weekday that is short anyway gets a term of its
    own (:func:`split_eves`)."""
    doy = 2 * np.pi * dates.dayofyear.to_numpy() / 365.25
    x = interval_design(dates, hol, None)
    x["eve"] = hol["eve"].reindex(dates).fillna(0).to_numpy(float)
    if weekday_weight is not None:
        scale = np.asarray(weekday_weight, float)[dates.weekday]
        for col in ("holiday_open", "eve", "observance"):
            x[col] = x[col].to_numpy() * scale
        split_eves(x, scale)
    for w in range(1, 7):
        x[f"wd{w}"] = (dates.weekday == w).astype(float)
    if yearly:
        x["sin1"], x["cos1"], x["sin2"], x["cos2"] = np.sin(doy), np.cos(doy), np.sin(2 * doy), np.cos(2 * doy)
    if monthly:
        month_terms(x, dates)
    x["trend"] = (dates - pd.Timestamp("2000-01-01")).days.to_numpy() / 365.25   # without it ARIMA differences X too
    return x


def weekday_weights(daily: pd.Series, special: set[dt.date], weeks: int = 16) -> np.ndarray:
    """Per weekday (Monday first), its mean daily total over the last ``weeks`` weeks of ordinary
    days (``special``: dates left out) over the busiest weekday's; weekdays without such days 1."""
    recent = daily[daily.index >= daily.index.max() - pd.Timedelta(days=7 * weeks - 1)]
    recent = recent[~np.isin(recent.index.date, list(special))]
    mean = recent.astype(float).groupby(recent.index.weekday).mean().reindex(range(7))
    if not (mean.max() > 0):
        return np.ones(7)
    return (mean / mean.max()).fillna(1.0).to_numpy()


HARMONICS = 4


def impact_design(dates: pd.DatetimeIndex, hol: pd.DataFrame, weekday_weight: np.ndarray | None = None) -> pd.DataFrame:
    """Weekday, trend, yearly Fourier terms, day-of-month terms (billing and pay cycles; with at
    least IMPACT_MONTHLY_MIN_DAYS of history) and holiday effects per day: a public holiday the site works
    through, its eve, the first day after a closed one, bridge days.

    ``weekday_weight`` (7 values, the busiest weekday 1): every term but the weekday levels is
    multiplied by the day's weight, so seasons, holidays and trend move a quiet weekday in proportion
    (a holiday on a 200-call Saturday cannot take away the 1,200 calls it takes from a Monday)."""
    x = pd.DataFrame(index=dates)
    for w in range(7):
        x[f"wd{w}"] = (dates.weekday == w).astype(float)
    x["trend"] = (dates - dates[0]).days.to_numpy() / 365.25
    doy = 2 * np.pi * dates.dayofyear.to_numpy() / 365.25
    for k in range(1, HARMONICS + 1):
        x[f"sin{k}"], x[f"cos{k}"] = np.sin(k * doy), np.cos(k * doy)
    if len(dates) and (dates[-1] - dates[0]).days >= IMPACT_MONTHLY_MIN_DAYS:
        month_terms(x, dates)
    h = hol.reindex(dates)
    for col in ("after_holiday", "bridge"):
        x[col] = h[col].to_numpy(float)
    x["holiday_open"] = (h["holiday"] * (1 - h["closed"])).to_numpy(float)
    x["eve"] = h["eve"].fillna(0).to_numpy(float)
    x["observance"] = h["observance"].fillna(0).to_numpy(float)
    if weekday_weight is not None:
        scale = np.asarray(weekday_weight, float)[dates.weekday]
        for col in x.columns[7:]:
            x[col] = x[col].to_numpy() * scale
    return x.loc[:, x.std() > 0].assign(wd_all=0.0).drop(columns="wd_all")
