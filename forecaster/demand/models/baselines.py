"""The baselines: the same interval a week earlier, and the mean of the last four same weekday-intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecaster.core.grid import minute_of_day
from forecaster.demand.models.base import ForecastModel, register


@register
class SeasonalNaiveWeek(ForecastModel):
    """Same interval k weeks earlier, for the smallest k that lands on an observed interval; beyond
    the first week the last observed week repeats."""

    alias = "snaive_week"
    race_order = 0
    min_history_days = 7

    def fit(self, history: pd.DataFrame) -> SeasonalNaiveWeek:
        super().fit(history)
        self.known_ = history.set_index(["queue", "ds"])["y"]
        self.last_ = history["ds"].max()
        return self

    def _point(self, grid: pd.DataFrame) -> np.ndarray:
        return seasonal_naive(self.known_, self.last_, grid)


def seasonal_naive(known: pd.Series, last: pd.Timestamp, grid: pd.DataFrame) -> np.ndarray:
    """``known`` contacts by (queue, ds), the last observed interval ``last``; see :class:`SeasonalNaiveWeek`."""
    out = np.full(len(grid), np.nan)
    weeks = np.maximum(1, np.ceil((grid["ds"] - last) / pd.Timedelta(days=7)).astype(int))
    for extra in range(0, 8):
        todo = np.isnan(out)
        if not todo.any():
            break
        back = grid.loc[todo, "ds"] - pd.to_timedelta((weeks[todo] + extra) * 7, unit="D")
        found = known.reindex(pd.MultiIndex.from_arrays([grid.loc[todo, "queue"], back])).to_numpy()
        out[np.flatnonzero(todo)] = found
    return np.nan_to_num(out, nan=0.0)


@register
class WeekdayMean(ForecastModel):
    """Mean of the same weekday and time over the last ``weeks`` (4) weeks of history."""

    alias = "mean4"
    race_order = 1
    min_history_days = 7
    weeks = 4

    def fit(self, history: pd.DataFrame) -> WeekdayMean:
        super().fit(history)
        since = history["ds"].max().normalize() - pd.Timedelta(days=7 * self.weeks - 1)
        recent = history[history["ds"] >= since]
        self.means_ = recent.groupby([recent["queue"], recent["ds"].dt.weekday,
                                      minute_of_day(recent["ds"])])["y"].mean()
        return self

    def _point(self, grid: pd.DataFrame) -> np.ndarray:
        return slot_values(self.means_, grid)


def slot_values(means: pd.Series, grid: pd.DataFrame) -> np.ndarray:
    """Values by (queue, weekday, minute of day) looked up for every grid row; 0 where unknown."""
    idx = pd.MultiIndex.from_arrays([grid["queue"], grid["ds"].dt.weekday, minute_of_day(grid["ds"])])
    return np.nan_to_num(means.reindex(idx).to_numpy(), nan=0.0)
