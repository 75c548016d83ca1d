"""The median of other models' forecasts, per interval: a combination.

Combinations are hard to beat and rarely fail badly: a single model's bad week (a daily level
that drifts, a seasonal shape that breaks) is outvoted by the others. The selection
(:mod:`forecaster.demand.selection`) puts the median of each queue's three best models in the race
(a trimmed combination: the two worst are left out); registered alone, ``median`` combines all five.

On special days (a public holiday the site works through, its eve, the day after a closed one, a
bridge day: :func:`~forecaster.demand.models.topdown.special_days`) only the members whose own terms
forecast such days vote (``models_holidays``: the top-down models), where any is a member: the
four-week mean and the seasonal naive put an ordinary weekday there, and outvote the one model that
knows it is Yom Kippur or Christmas Eve.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from forecaster.demand.models.base import REGISTRY, ForecastModel, point_forecast, register
from forecaster.demand.models.topdown import special_days

MEMBERS = ("snaive_week", "mean4", "topdown", "topdown_pooled", "mstl")


@register
class MedianCombination(ForecastModel):
    """The per-interval median of the ``members`` that the history is long enough for."""

    alias = "median"
    min_history_days = 7
    in_race = False                    # the selection races the median of each queue's best three
    campaigns_inside = True            # its members carry the campaign layer
    members: ClassVar[tuple[str, ...]] = MEMBERS

    def __init__(self, ctx, members: tuple[str, ...] | None = None):
        super().__init__(ctx)
        if members is not None:
            self.members = tuple(members)

    def fit(self, history: pd.DataFrame) -> MedianCombination:
        super().fit(history)
        days = history["ds"].dt.normalize().nunique()
        self.members_ = [m for m in self.members if days >= REGISTRY[m].min_history_days]
        return self

    def _point(self, grid: pd.DataFrame) -> np.ndarray:
        # each member with its campaign layer, as in the backtest that chose them
        return self.combine([point_forecast(m, self.history_, grid, self.ctx) for m in self.members_],
                            self.members_, special_rows(grid["ds"], self.ctx.holidays))

    @staticmethod
    def combine(points: list[np.ndarray], members: list[str] | None = None,
                special: np.ndarray | None = None) -> np.ndarray:
        """The members' forecasts (arrays of one length, models ``members``) combined: their median
        per row; on the ``special`` rows (a mask) the median of the members that model holidays only."""
        stack = np.vstack(points)
        out = np.median(stack, axis=0)
        if members is None or special is None or not special.any():
            return out
        aware = np.array([REGISTRY[m].models_holidays for m in members])
        if aware.any():
            out[special] = np.median(stack[aware][:, special], axis=0)
        return out


def special_rows(ds: pd.Series, hol: pd.DataFrame) -> np.ndarray:
    """Which of the interval starts ``ds`` fall on special days (holidays, eves, days after a closed
    holiday, bridge days)."""
    days = pd.DatetimeIndex(sorted(special_days(hol)))
    return pd.DatetimeIndex(ds).normalize().isin(days)
