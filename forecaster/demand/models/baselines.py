"""The baselines: the same interval a week earlier, and the mean of the last four same weekday-intervals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecaster.core.grid import minute_of_day


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
    means = recent.groupby([recent["queue"], recent["ds"].dt.weekday, minute_of_day(recent["ds"])])["y"].mean()
    idx = pd.MultiIndex.from_arrays([grid["queue"], grid["ds"].dt.weekday, minute_of_day(grid["ds"])])
    return np.nan_to_num(means.reindex(idx).to_numpy(), nan=0.0)
