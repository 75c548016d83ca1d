"""Handling time ahead: contact-weighted mean AHT per queue, weekday and time of day."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecaster.core.config import Config
from forecaster.core.grid import minute_of_day

AHT_WEEKS = 8


def aht_forecast(hist: pd.DataFrame, grid: pd.DataFrame, config: Config, weeks: int = AHT_WEEKS) -> np.ndarray:
    """Contact-weighted mean AHT per (queue, weekday, time) over recent weeks; queue mean, then config
    (also for a history without an ``aht_s`` column: actuals need not carry handling times)."""
    if "aht_s" not in hist:
        hist = hist.assign(aht_s=np.nan)
    since = hist["ds"].max().normalize() - pd.Timedelta(days=7 * weeks - 1)
    h = hist[(hist["ds"] >= since) & hist["aht_s"].notna() & (hist["y"] > 0)]
    work = h.assign(w=h["y"] * h["aht_s"])
    keys = [work["queue"], work["ds"].dt.weekday, minute_of_day(work["ds"])]
    slot = work.groupby(keys)["w"].sum() / work.groupby(keys)["y"].sum()
    queue_mean = work.groupby("queue")["w"].sum() / work.groupby("queue")["y"].sum()
    out = slot.reindex(pd.MultiIndex.from_arrays([grid["queue"], grid["ds"].dt.weekday, minute_of_day(grid["ds"])])).to_numpy()
    fallback = grid["queue"].map(queue_mean).fillna(grid["queue"].map({q.name: q.aht_s for q in config.queues}))
    return np.where(np.isnan(out), fallback.to_numpy(float), out)
