"""Outage days in history: found per queue, and given their weekday's usual volume before any model sees them.

An outage (telephony down for half a day), a half-lost export or a day of zeros is not demand: left
in the history it pulls every model down (the four-week mean by a quarter on that weekday, the
seasonal naive by all of it a week later, the daily ARIMA's level and, through its AR errors, the
days after it). Like the campaign layer, this is one step in front of every model, so selection
cannot bring it back. Days far *above* usual are left alone: those contacts came and were answered.
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd

from forecaster.demand.models.topdown import special_days, split_by_profile, weekday_profile

# A day whose total is under 1/OUTLIER_RATIO of its weekday's usual volume, and OUTLIER_MADS robust
# deviations below it, is taken for an outage or lost data
OUTLIER_RATIO = 2.0
OUTLIER_MADS = 5.0
OUTLIER_NEIGHBOURS = 4       # the same weekday's days before and after it that say what is usual


def outlier_days(daily: pd.Series, special: set[dt.date]) -> pd.Series:
    """Days of ``daily`` (totals by date) far below their weekday's usual volume, with that volume.

    Usual is the median of the same weekday's OUTLIER_NEIGHBOURS days before and after (holidays,
    eves and the days around them, ``special``, are neither judged nor used: their regressors say
    what they do). A day is an outlier where its log total is OUTLIER_MADS robust deviations (1.4826
    x the median absolute deviation over all ordinary days) and a factor OUTLIER_RATIO below usual.
    An outage, a half-lost export or a day of zeros would otherwise pull every model down (see the
    module's note); the median of several neighbours is not moved by one such day. Days far above usual are left as they are: those contacts came (an unannounced
    mailing, an incident, a monthly pay day) and had to be answered. Returns the usual volume,
    indexed by the outlier dates (empty if none)."""
    if len(daily) < 3 * OUTLIER_NEIGHBOURS:
        return pd.Series(dtype=float)
    ordinary = ~np.isin(daily.index.date, list(special))
    log = np.log1p(daily.to_numpy(float).clip(min=0))
    usual = np.full(len(daily), np.nan)
    steps = np.r_[-OUTLIER_NEIGHBOURS:0, 1:OUTLIER_NEIGHBOURS + 1]
    for wd in range(7):
        rows = np.flatnonzero((daily.index.weekday == wd) & ordinary)
        if len(rows) < OUTLIER_NEIGHBOURS:
            continue
        at = np.arange(len(rows))[:, None] + steps
        values = np.where((at >= 0) & (at < len(rows)), log[rows][at.clip(0, len(rows) - 1)], np.nan)
        enough = (~np.isnan(values)).sum(axis=1) >= OUTLIER_NEIGHBOURS // 2 + 1
        with warnings.catch_warnings():             # rows without neighbours: NaN, judged by no one
            warnings.simplefilter("ignore", RuntimeWarning)
            usual[rows[enough]] = np.nanmedian(values[enough], axis=1)
    dev = log - usual
    judged = ~np.isnan(dev)
    if judged.sum() < 3 * OUTLIER_NEIGHBOURS:
        return pd.Series(dtype=float)
    scale = 1.4826 * float(np.median(np.abs(dev[judged])))
    odd = judged & (np.nan_to_num(dev) < -max(OUTLIER_MADS * scale, np.log(OUTLIER_RATIO)))
    return pd.Series(np.expm1(usual[odd]), index=daily.index[odd])


def without_outages(hist: pd.DataFrame, hol: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """``hist`` (``queue, ds, y``) with every outlier day's intervals (:func:`outlier_days`) holding
    the day's usual volume, spread by the queue's weekday profile over recent ordinary days; and
    per queue the days replaced (``date, contacts, used``)."""
    special = special_days(hol)
    found, y = {}, None
    for queue, rows in hist.groupby("queue", sort=False).indices.items():
        h = hist.iloc[rows]
        day = h["ds"].dt.normalize()
        daily = h.groupby(day)["y"].sum()
        odd = outlier_days(daily, special)
        if odd.empty:
            continue
        found[queue] = pd.DataFrame({"date": odd.index, "contacts": daily.reindex(odd.index).to_numpy(),
                                     "used": odd.to_numpy()})
        hit = day.isin(odd.index).to_numpy()
        profile = weekday_profile(h[~hit], special | set(odd.index.date))
        if y is None:
            y = hist["y"].to_numpy(float).copy()
        y[rows[hit]] = split_by_profile(odd, h[hit], profile)
    return (hist if y is None else hist.assign(y=y)), found
