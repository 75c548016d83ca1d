"""What every forecasting model needs besides history: config, holidays, campaigns and their
carry-over shapes; and the contacts the campaign-effects model says campaigns add.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecaster.campaigns.effects import DEFAULT as DEFAULT_RESPONSE
from forecaster.campaigns.effects import campaign_offsets
from forecaster.core.config import Config
from forecaster.features.adstock import after_send_weights, campaign_exposure
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
    profile_choices: dict = field(default_factory=dict, repr=False)  # queue -> (history end, intraday profile window)
    month_cycles: dict = field(default_factory=dict, repr=False)     # queue -> (history end, topdown's day-of-month cycle)
    level_shifts: dict = field(default_factory=dict, repr=False)     # queue -> (history end, topdown's level shift or None)


def make_context(config: Config, campaigns: pd.DataFrame, start: dt.date, end: dt.date) -> Context:
    exposure = campaign_exposure(campaigns, config.queue_names, start, end)
    return Context(config, holiday_features(config, start, end), exposure, campaigns=campaigns)


def switch_on_campaigns(ctx: Context, before: pd.Timestamp) -> None:
    """Turn the campaign layer on for the channels with campaigns before ``before`` (a backtest's
    earliest origin: a layer with nothing to learn from stays off). Their response shapes are
    the campaign-impact model's, learned at its first fit (:func:`_campaign_contacts`); until
    then ``ctx.shapes`` holds that model's default shape, the switch and part of the cache keys."""
    ctx.shapes = {c: DEFAULT_RESPONSE for c in sorted(set(ctx.exposure.loc[ctx.exposure["date"] < before, "channel"]))}


def shapes_for(ctx: Context, end: pd.Timestamp) -> dict | None:
    """The campaign-impact model's response shapes that serve a history ending on day ``end``: the
    newest learned on history up to ``end``, at most SHAPES_MAX_AGE days before it, covering every
    channel with a campaign started by then; None when none do (they are learned anew)."""
    cal = ctx.campaigns
    channels = set(cal.loc[cal["start_ts"] <= end, "channel"]) if cal is not None and len(cal) else set()
    known = [at for at, learned in ctx.impact_shapes.items()
             if at <= end and (end - at).days <= SHAPES_MAX_AGE and channels <= set(learned)]
    return ctx.impact_shapes[max(known)] if known else None


def learned_shapes(ctx: Context, end: pd.Timestamp) -> dict:
    """The response shapes a forecast from history ending on day ``end`` used, per channel, for the run's record."""
    return {c: {"lag_days": int(s.lag_days), "decay": float(s.decay), "ramp_days": int(s.ramp_days), "clock": s.clock}
            for c, s in sorted((shapes_for(ctx, end) or {}).items())}


def campaign_contacts(hist: pd.DataFrame, groups: dict, grid: pd.DataFrame, ctx: Context) -> pd.Series | None:
    """Contacts the calendar's campaigns add per (queue, date), in history and on the grid's days,
    from the campaign-impact model (:func:`forecaster.campaigns.effects.campaign_offsets`), or None.
    An empty ``ctx.shapes`` (no campaign learning, as for ``topdown_nocmp``) means no campaigns."""
    return campaign_layer(hist, groups, grid, ctx)[0]


def campaign_layer(hist: pd.DataFrame, groups: dict, grid: pd.DataFrame,
                   ctx: Context) -> tuple[pd.Series | None, pd.DataFrame | None]:
    """:func:`campaign_contacts` and the send-day shares of campaigns sent at a time of day
    (``queue, date, send, share, tau``; None without any), from one impact fit per history and days."""
    if not ctx.shapes or ctx.campaigns is None or ctx.campaigns.empty:
        return None, None
    future, key = _future_days(hist, groups, grid, ctx)
    if key not in ctx.offsets_cache:
        if len(ctx.offsets_cache) > 64:
            ctx.offsets_cache.clear()
        found = _campaign_contacts(hist, future, ctx)
        if found is None:
            ctx.offsets_cache[key] = (None, None)
        else:
            extra = _by_weekday_volume(found, hist)
            timed = found.attrs.get("timed")
            if timed is not None and len(timed):     # each send's share of its day's contacts
                raw = found["extra"].reindex(pd.MultiIndex.from_arrays([timed["queue"], timed["date"]])).to_numpy()
                timed = timed.assign(share=np.divide(timed["extra"].to_numpy(), raw, out=np.zeros(len(timed)),
                                                     where=raw > 0))
            ctx.offsets_cache[key] = (extra, timed)
    return ctx.offsets_cache[key]


def _future_days(hist: pd.DataFrame, groups: dict, grid: pd.DataFrame, ctx: Context) -> tuple[dict, tuple]:
    """The grid's days per queue, and the cache key of the impact fit for this history and days:
    every model of an origin asks with the same history and days, so the fit runs once for them."""
    future = {q: pd.DatetimeIndex(sorted(grid.loc[rows, "ds"].dt.normalize().unique())) for q, rows in groups.items()}
    key = (hist["ds"].max(), len(hist), float(hist["y"].sum()), tuple(sorted(ctx.shapes.items())),
           tuple((q, tuple(d)) for q, d in sorted(future.items())))
    return future, key


def after_send(point: np.ndarray, added: np.ndarray, grid: pd.DataFrame, timed: pd.DataFrame | None,
               interval_min: int) -> np.ndarray:
    """Move each timed send's share of a day's added campaign contacts (spread by the day's shape)
    to the intervals from its send time on, by the same shape fading as fast as its channel's
    responses were seen to (``tau``): an e-mail sent at 13:00 adds nothing to the morning.
    ``point``: the forecast with ``added`` (per row) already in it."""
    if timed is None or timed.empty or not np.any(added):
        return point
    out = point.copy()
    step = pd.Timedelta(minutes=interval_min)
    # each (queue, day)'s rows, found once: a comparison over the grid per send grew with queues x sends
    where = grid.groupby([grid["queue"], grid["ds"].dt.normalize()], sort=False).indices
    for t in timed.itertuples():
        rows = where.get((t.queue, pd.Timestamp(t.date)), np.array([], dtype=int))
        if not len(rows):
            continue
        shape = np.maximum(point[rows], 0.0)
        if shape.sum() <= 0:
            continue
        shape = shape / shape.sum()
        late = (grid["ds"].to_numpy()[rows] + step) > np.datetime64(t.send)
        if not late.any() or shape[late].sum() <= 0:
            continue
        amount = t.share * added[rows].sum()
        tau = getattr(t, "tau", None)
        out[rows] += amount * (after_send_weights(shape, late, None if pd.isna(tau) else tau) - shape)
    return np.maximum(out, 0.0)


def _campaign_contacts(hist: pd.DataFrame, future: dict, ctx: Context) -> pd.Series | None:
    # the impact model's own carry-over shapes, pooled over queues: on 50 demo origins twice as
    # accurate on big campaign days as the shapes of learn_adstock. Learned at most every
    # SHAPES_MAX_AGE days and only from history before the origin (no look-ahead in backtests);
    # a one-queue forecast after a backtest reuses the shapes the backtest learned on all queues.
    end = hist["ds"].max().normalize()
    shapes = shapes_for(ctx, end)
    found = campaign_offsets(hist.rename(columns={"ds": "interval_start", "y": "contacts"}, copy=False), ctx.campaigns,
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
    none), the send day's contacts of a campaign sent at a time of day over the intervals from that
    time on (:func:`after_send`). Without campaigns or shapes it is ``base(history)``.
    """
    grid = grid.reset_index(drop=True)
    extra, timed = campaign_layer(history, grid.groupby("queue").groups, grid, ctx)
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
    spread = added * share
    return after_send(np.maximum(point + spread, 0.0), spread, grid, timed, ctx.config.interval_min)


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
