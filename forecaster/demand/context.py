"""What every forecasting model needs besides history: config, holidays, campaigns and their
carry-over shapes; and the contacts the campaign-effects model says campaigns add.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecaster.campaigns.effects import campaign_offsets
from forecaster.core.config import Config
from forecaster.features.adstock import campaign_exposure
from forecaster.features.holidays import holiday_features

# the campaign-impact model's carry-over shapes are re-learned when four weeks old (see campaign_contacts)
SHAPES_MAX_AGE = 28


@dataclass
class Context:
    """What every model needs besides history: the config, holidays, campaigns and their shapes."""

    config: Config
    holidays: pd.DataFrame
    exposure: pd.DataFrame
    shapes: dict[str, tuple[int, float]] = field(default_factory=dict)
    daily_cache: dict = field(default_factory=dict, repr=False)     # one daily fit serves both profiles
    engine: str = "local"                                           # or "dask": statsforecast on Dask
    campaigns: pd.DataFrame | None = None                           # the calendar (for campaign offsets)
    impact_shapes: dict = field(default_factory=dict, repr=False)   # history end -> impact model's shapes
    offsets_cache: dict = field(default_factory=dict, repr=False)   # campaign_contacts per history and grid


def make_context(config: Config, campaigns: pd.DataFrame, start: dt.date, end: dt.date) -> Context:
    exposure = campaign_exposure(campaigns, config.queue_names, start, end)
    return Context(config, holiday_features(config, start, end), exposure, campaigns=campaigns)


def campaign_contacts(hist: pd.DataFrame, groups: dict, grid: pd.DataFrame, ctx: Context) -> pd.Series | None:
    """Contacts the calendar's campaigns add per (queue, date), in history and on the grid's days,
    from the campaign-impact model (:func:`forecaster.campaigns.effects.campaign_offsets`), or None.
    An empty ``ctx.shapes`` (no campaign learning, as for ``topdown_nocmp``) means no campaigns."""
    if not ctx.shapes or ctx.campaigns is None or ctx.campaigns.empty:
        return None

    future = {q: pd.DatetimeIndex(sorted(grid.loc[rows, "ds"].dt.normalize().unique())) for q, rows in groups.items()}
    # every model of an origin asks with the same history and days: the impact fit runs once for them
    key = (hist["ds"].max(), len(hist), float(hist["y"].sum()), tuple(sorted(ctx.shapes.items())),
           tuple((q, tuple(d)) for q, d in sorted(future.items())))
    if key not in ctx.offsets_cache:
        if len(ctx.offsets_cache) > 64:
            ctx.offsets_cache.clear()
        found = _campaign_contacts(hist, future, ctx)
        ctx.offsets_cache[key] = None if found is None else _by_weekday_volume(found, hist)
    return ctx.offsets_cache[key]


def _campaign_contacts(hist: pd.DataFrame, future: dict, ctx: Context) -> pd.Series | None:
    # the impact model's own carry-over shapes, pooled over queues: on 50 demo origins twice as
    # accurate on big campaign days as the shapes of learn_adstock. Learned at most every
    # SHAPES_MAX_AGE days and only from history before the origin (no look-ahead in backtests);
    # a one-queue forecast after a backtest reuses the shapes the backtest learned on all queues.
    end = hist["ds"].max().normalize()
    channels = set(ctx.campaigns.loc[ctx.campaigns["start_ts"] <= end, "channel"])
    known = [at for at, learned in ctx.impact_shapes.items()
             if at <= end and (end - at).days <= SHAPES_MAX_AGE and channels <= set(learned)]
    shapes = ctx.impact_shapes[max(known)] if known else None
    found = campaign_offsets(hist.rename(columns={"ds": "interval_start", "y": "contacts"}), ctx.campaigns,
                             ctx.config, end.date(), future, shapes)
    if shapes is None and found.attrs.get("shapes"):
        ctx.impact_shapes[end] = found.attrs["shapes"]
    if found.empty:
        return None
    found = found.set_index(["queue", "date"])
    return found[~found.index.duplicated(keep="last")]


def with_campaigns(base, history: pd.DataFrame, grid: pd.DataFrame, ctx: Context) -> np.ndarray:
    """The campaign layer, the same on every model: ``base(history)`` (a model's point forecast for
    ``grid``) fitted on the history with each past campaign's contacts taken out, and the contacts
    the calendar adds on the forecast days (past campaigns' tails, planned campaigns) put back.

    The contacts per queue and day come from the campaign-impact model (:func:`campaign_contacts`).
    In history they are taken out of each interval in proportion to its contacts (at most half of a
    day's contacts; where the estimate is negative, at most 30 % added); on a forecast day they are
    spread over its intervals by the model's own intraday shape (evenly where the model forecasts
    none). Without campaigns or shapes it is ``base(history)``.
    """
    grid = grid.reset_index(drop=True)
    extra = campaign_contacts(history, grid.groupby("queue").groups, grid, ctx)
    if extra is None:
        return base(history)
    day = history["ds"].dt.normalize()
    taken = extra.reindex(pd.MultiIndex.from_arrays([history["queue"], day])).fillna(0.0).to_numpy()
    total = history.groupby([history["queue"], day])["y"].transform("sum").to_numpy(float)
    ratio = np.clip(np.divide(taken, total, out=np.zeros(len(total)), where=total > 0), -0.3, 0.5)
    point = np.asarray(base(history.assign(y=history["y"].to_numpy(float) * (1.0 - ratio))), dtype=float)
    gday = grid["ds"].dt.normalize()
    added = extra.reindex(pd.MultiIndex.from_arrays([grid["queue"], gday])).fillna(0.0).to_numpy()
    keys = [grid["queue"].to_numpy(), gday.to_numpy()]
    day_total = pd.Series(point).groupby(keys).transform("sum").to_numpy()
    rows = pd.Series(point).groupby(keys).transform("size").to_numpy()
    share = np.divide(point, day_total, out=1.0 / rows, where=day_total > 0)
    return np.maximum(point + added * share, 0.0)


def _by_weekday_volume(found: pd.DataFrame, history: pd.DataFrame) -> pd.Series:
    """Contacts per (queue, date). A channel on the impact model's calendar-day clock knows
    nothing of quiet weekdays; a quiet weekday (a Saturday at a tenth of a Monday) cannot hold a
    Monday's share of a response: its contacts are weighted by their weekday's volume relative to
    the queue's mean day. Channels on the activity clock already follow the weekday's volume."""
    extra = found["calendar_days"]
    day = history["ds"].dt.normalize()
    daily = history.groupby([history["queue"], day])["y"].sum()
    by_wd = daily.groupby([daily.index.get_level_values(0), daily.index.get_level_values(1).weekday]).mean()
    rel = by_wd / by_wd.groupby(level=0).transform("mean")
    q, d = extra.index.get_level_values(0), pd.DatetimeIndex(extra.index.get_level_values(1))
    w = rel.reindex(pd.MultiIndex.from_arrays([q, d.weekday])).fillna(1.0).to_numpy()
    return extra * w + (found["extra"] - found["calendar_days"])
