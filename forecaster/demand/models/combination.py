"""The median of other models' forecasts, per interval: a combination.

Combinations are hard to beat and rarely fail badly: a single model's bad week (a daily level
that drifts, a seasonal shape that breaks) is outvoted by the others. The selection
(:mod:`forecaster.demand.selection`) puts the median of each queue's three best models in the race
(a trimmed combination: the two worst are left out); registered alone, ``median`` combines all five.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from forecaster.demand.models.base import REGISTRY, ForecastModel, point_forecast, register

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
        return self.combine([point_forecast(m, self.history_, grid, self.ctx) for m in self.members_])

    @staticmethod
    def combine(points: list[np.ndarray]) -> np.ndarray:
        """The members' forecasts (arrays of one length) combined: their median per row."""
        return np.median(np.vstack(points), axis=0)
