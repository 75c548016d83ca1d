"""What every forecasting model needs besides history: config, holidays, campaigns and their
carry-over shapes; and the contacts the campaign-effects model says campaigns add.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

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
    found = found.set_index(["queue", "date"])["extra"]
    return found[~found.index.duplicated(keep="last")]
