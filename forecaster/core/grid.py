"""The time grid: open intervals ahead, time-of-day keys and horizons given as text."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from forecaster.core.config import Config
from forecaster.core.errors import UserError
from forecaster.core.site_calendar import open_grid


# -- inputs ------------------------------------------------------------------------------------
def by_queue(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """``frame``'s rows per queue (original order and index), in one pass over the frame."""
    return {q: g for q, g in frame.groupby("queue", sort=False)}


def future_grid(config: Config, queues: list[str], first_day: dt.date, days: int) -> pd.DataFrame:
    """Open intervals of each queue from ``first_day`` 00:00 for ``days`` days: ``queue, ds``."""
    start = dt.datetime.combine(first_day, dt.time())
    end = start + dt.timedelta(days=days)
    parts = [pd.DataFrame({"queue": q, "ds": open_grid(config, q, start, end)}) for q in queues]
    return pd.concat(parts, ignore_index=True)


def minute_of_day(ds: pd.Series) -> pd.Series:
    """Minute of the day: the time-of-day key of profiles (an integer; strftime cost 0.25 s a fit)."""
    return ds.dt.hour * 60 + ds.dt.minute


def parse_horizon(text: str) -> int:
    """``6w`` -> 42 days, ``10d`` -> 10 days."""
    m = re.fullmatch(r"\s*(\d+)\s*([dw])\s*", str(text).lower())
    if not m or int(m.group(1)) == 0:
        raise UserError(f"--horizon {text}: give a number of days or weeks, like 10d or 6w")
    return int(m.group(1)) * (7 if m.group(2) == "w" else 1)
