"""When the site is open: opening hours per weekday, public holidays and extra closed dates.

All timestamps are the site's local wall-clock time (naive), as in the store.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays as holidays_pkg
import numpy as np
import pandas as pd

from forecaster.core.config import Config, HolidayCalendar


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdiv: str | None, years: tuple[int, ...]) -> dict[dt.date, str]:
    return dict(holidays_pkg.country_holidays(country, subdiv=subdiv, years=list(years)))


def public_holidays(cal: HolidayCalendar, start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """Public holidays between ``start`` and ``end`` inclusive, date -> name."""
    if cal.country is None:
        return {}
    found = _public_holidays(cal.country, cal.subdiv, tuple(range(start.year, end.year + 1)))
    return {d: n for d, n in sorted(found.items()) if start <= d <= end}


def closed_dates(config: Config, start: dt.date, end: dt.date) -> set[dt.date]:
    """Dates on which the whole site is closed (public holidays unless opened, plus extras)."""
    cal = config.holidays
    closed: set[dt.date] = set()
    if cal.closed_on_public_holidays:
        closed |= set(public_holidays(cal, start, end)) - set(cal.open_dates)
    closed |= {d for d in cal.extra_closed_dates if start <= d <= end}
    return closed


def is_open(config: Config, queue: str, ts: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Vectorised: is each local interval start inside ``queue``'s opening hours on an open date?"""
    idx = pd.DatetimeIndex(ts)
    if len(idx) == 0:
        return np.zeros(0, dtype=bool)
    minute = (idx.hour * 60 + idx.minute).to_numpy()
    weekday = idx.weekday.to_numpy()
    hours = config.hours_for(queue)
    open_ = np.zeros(len(idx), dtype=bool)
    for day in range(7):
        on_day = weekday == day
        for start, end in hours.ranges(day):
            open_ |= on_day & (minute >= start) & (minute < end)
    dates = idx.normalize()
    closed = closed_dates(config, dates.min().date(), dates.max().date())
    if closed:
        open_ &= ~dates.isin(pd.DatetimeIndex(sorted(closed)))
    return open_


def open_grid(config: Config, queue: str, start: dt.datetime, end: dt.datetime) -> pd.DatetimeIndex:
    """Open interval starts of ``queue`` in ``[start, end)``; local times that do not exist are left out."""
    step = f"{config.interval_min}min"
    grid = pd.date_range(pd.Timestamp(start).ceil(step), pd.Timestamp(end), freq=step, inclusive="left")
    grid = grid[is_open(config, queue, grid)]
    real = grid.tz_localize(config.timezone, nonexistent="NaT", ambiguous=np.ones(len(grid), dtype=bool))
    return grid[~real.isna()]


def wall_occurrences(tz: str, wall) -> np.ndarray:
    """How often each local wall-clock time happens: 1, 2 in the hour repeated when clocks go back,
    0 in the hour skipped when they jump forward. A grid slot on a repeated time covers twice its
    minutes; one on a skipped time covers none."""
    times = pd.DatetimeIndex(wall)
    if tz in ("UTC", "Etc/UTC") or len(times) == 0:
        return np.ones(len(times), int)
    strict = times.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    loose = times.tz_localize(tz, ambiguous=np.ones(len(times), bool), nonexistent="NaT")
    return np.where(loose.isna(), 0, np.where(strict.isna(), 2, 1))


def slot_minutes(config: Config, wall) -> np.ndarray:
    """Real minutes each interval starting at ``wall`` covers (``interval_min`` except at DST changes)."""
    return wall_occurrences(config.timezone, wall) * config.interval_min
