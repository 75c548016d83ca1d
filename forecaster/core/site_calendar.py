"""When the site is open: opening hours per weekday, public holidays and extra closed dates.

All timestamps are the site's local wall-clock time (naive), as in the store.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_pkg
import numpy as np
import pandas as pd

from forecaster.core.config import Config, HolidayCalendar
from forecaster.core.errors import UserError


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdiv: str | None, years: tuple[int, ...],
                     categories: tuple[str, ...] = ("public",)) -> dict[dt.date, str]:
    return dict(holidays_pkg.country_holidays(country, subdiv=subdiv, years=list(years), categories=categories))


def public_holidays(cal: HolidayCalendar, start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """Public holidays between ``start`` and ``end`` inclusive, date -> name."""
    if cal.country is None:
        return {}
    found = _public_holidays(cal.country, cal.subdiv, tuple(range(start.year, end.year + 1)))
    return {d: n for d, n in sorted(found.items()) if start <= d <= end}


def observances(cal: HolidayCalendar, start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """Days of the calendar's ``observances`` categories between ``start`` and ``end`` that are no
    public holiday, date -> name."""
    if cal.country is None or not cal.observances:
        return {}
    years = tuple(range(start.year, end.year + 1))
    found = _public_holidays(cal.country, cal.subdiv, years, tuple(cal.observances))
    public = _public_holidays(cal.country, cal.subdiv, years)
    return {d: n for d, n in sorted(found.items()) if start <= d <= end and d not in public}


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


def site_today(config: Config) -> dt.date:
    """Today's date at the site."""
    return dt.datetime.now(ZoneInfo(config.timezone)).date()


def partial_day(config: Config, hist: pd.DataFrame, today: dt.date | None = None) -> tuple[dt.date, str, pd.Timestamp] | None:
    """``(day, queue, last row)`` if the actuals' last day is still going on: it is today at the
    site (``today``, default the real one) and some queue's rows stop before its last open
    interval: an intraday export. A past day is complete whatever its last row (exports leave out
    quiet intervals). ``hist`` is long format (``queue, ds``). ``None`` otherwise."""
    if hist.empty:
        return None
    day = hist["ds"].max().normalize()
    if day.date() != (today or site_today(config)):
        return None
    on_day = hist[hist["ds"] >= day]
    for queue, last in on_day.groupby("queue")["ds"].max().items():
        if queue not in config.queue_names:
            continue
        slots = open_grid(config, queue, day.to_pydatetime(), (day + pd.Timedelta(days=1)).to_pydatetime())
        if len(slots) and last < slots[-1]:
            return day.date(), str(queue), last
    return None


def complete_as_of(config: Config, hist: pd.DataFrame, as_of: dt.date | None, today: dt.date | None = None) -> dt.date:
    """The day a forecast or analysis runs as of: ``as_of`` or, by default, the last *complete*
    day of actuals (a partial day ingested for the intraday reforecast is left out). An ``as_of``
    on the partial day is refused: its missing hours would read as a quiet afternoon."""
    last = hist["ds"].max().date()
    partial = partial_day(config, hist, today)
    if as_of is None:
        return last - dt.timedelta(days=1) if partial else last
    if partial and as_of >= partial[0]:
        day, queue, seen = partial
        raise UserError(f"--as-of {as_of}: the actuals of {day} stop at {seen:%H:%M} for queue {queue} (a partial "
                        f"day, for 'forecaster intraday'); use --as-of {day - dt.timedelta(days=1)} or ingest the "
                        "rest of the day first")
    return as_of
