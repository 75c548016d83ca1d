"""Holiday regressors per day: public holidays, their eves, the day after a closed holiday, bridge
days, and observances (days of further categories the config names, which the site works)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from forecaster.core.config import Config
from forecaster.core.site_calendar import closed_dates, observances, public_holidays


def _site_open_weekday(config: Config, day: dt.date) -> bool:
    return bool(config.opening_hours.ranges(day.weekday()))


def holiday_features(config: Config, start: dt.date, end: dt.date) -> pd.DataFrame:
    """One row per date from ``start`` to ``end``: holiday, closed, eve (the day before a public
    holiday that is none itself), after_holiday, bridge, observance (0/1)."""
    days = pd.date_range(start, end, freq="D")
    margin = dt.timedelta(days=10)
    hols = set(public_holidays(config.holidays, start - margin, end + margin))
    closed = closed_dates(config, start - margin, end + margin)
    out = pd.DataFrame(index=days)
    out["holiday"] = [int(d in hols) for d in days.date]
    out["closed"] = [int(d in closed) for d in days.date]
    after, bridge = [], []
    for d in days.date:
        is_open = d not in closed and _site_open_weekday(config, d)
        prev = d - dt.timedelta(days=1)
        while prev not in closed and not _site_open_weekday(config, prev) and (d - prev).days < 4:
            prev -= dt.timedelta(days=1)                    # skip days the site never opens (Sunday)
        after.append(int(is_open and prev in closed and prev in hols))
        weekday = d.weekday()
        between = (weekday == 4 and (d - dt.timedelta(days=1)) in hols) or \
                  (weekday == 0 and (d + dt.timedelta(days=1)) in hols)
        bridge.append(int(is_open and d not in hols and between))
    out["eve"] = [int(d not in hols and d + dt.timedelta(days=1) in hols) for d in days.date]
    out["after_holiday"] = after
    out["bridge"] = bridge
    observed = observances(config.holidays, start, end)
    out["observance"] = [int(d in observed) for d in days.date]
    out.index.name = "date"
    return out
