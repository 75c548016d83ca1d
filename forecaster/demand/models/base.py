"""One interface for every forecasting model, in statsforecast's shape, and the registry.

``Model(ctx).fit(history)`` returns the model with its fitted state in trailing-underscore
attributes; ``predict(grid)`` returns the grid's ``queue, ds`` with one column named after the
model's ``alias``: the point forecast of contacts for every row; ``forecast(history, grid)`` is
the two at once. ``history`` is long format (``queue, ds, y``, optionally ``aht_s``); ``grid`` the
open intervals to forecast (``queue, ds``). Models forecast the base without campaigns:
:func:`point_forecast` adds the campaign layer to every model (the top-down models and the
combination apply it themselves). Prediction intervals are not the model's business:
:mod:`forecaster.demand.selection` calibrates them on the model's backtest errors.

Models register themselves with :func:`register`; ``in_race`` models compete per queue in the
production selection, ordered by ``race_order`` (simplest first: a tie goes to the simpler model). Others (a variant for the
accuracy report, a peer from a benchmark) run through the same backtest and metrics only.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import pandas as pd

from forecaster.demand.context import Context, with_campaigns


class ForecastModel:
    """Base class: subclasses set ``alias`` and ``min_history_days`` and implement
    :meth:`fit` (calling ``super().fit``) and :meth:`_point`."""

    alias: ClassVar[str]
    min_history_days: ClassVar[int] = 7     # days with actuals the model needs to be eligible
    in_race: ClassVar[bool] = True
    race_order: ClassVar[int] = 100         # position in the race; ties go to the lower
    campaigns_inside: ClassVar[bool] = False  # True: the model applies the campaign layer itself
    models_holidays: ClassVar[bool] = False   # True: its own terms forecast a public holiday or its eve

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def fit(self, history: pd.DataFrame) -> Self:
        self.history_ = history
        return self

    def predict(self, grid: pd.DataFrame) -> pd.DataFrame:
        if not hasattr(self, "history_"):
            raise RuntimeError(f"{type(self).__name__}.predict called before fit")
        point = np.asarray(self._point(grid.reset_index(drop=True)), dtype=float)
        return grid[["queue", "ds"]].reset_index(drop=True).assign(**{self.alias: point})

    def forecast(self, history: pd.DataFrame, grid: pd.DataFrame) -> pd.DataFrame:
        return self.fit(history).predict(grid)

    def _point(self, grid: pd.DataFrame) -> np.ndarray:   # pragma: no cover - abstract
        raise NotImplementedError


REGISTRY: dict[str, type[ForecastModel]] = {}


def register(cls: type[ForecastModel]) -> type[ForecastModel]:
    """Class decorator: make ``cls`` available under its ``alias``."""
    if cls.alias in REGISTRY and REGISTRY[cls.alias] is not cls:
        raise ValueError(f"a forecasting model is already registered as {cls.alias!r}")
    REGISTRY[cls.alias] = cls
    return cls


def race() -> tuple[str, ...]:
    """The models that compete per queue, simplest first."""
    return tuple(sorted((a for a, cls in REGISTRY.items() if cls.in_race), key=lambda a: REGISTRY[a].race_order))


def point_forecast(alias: str, history: pd.DataFrame, grid: pd.DataFrame, ctx: Context) -> np.ndarray:
    """The point forecast of model ``alias`` for every row of ``grid``, as an array, with the
    campaign layer (:func:`~forecaster.demand.context.with_campaigns`): whichever model is chosen,
    the calendar's campaigns are taken out of its history and added to its forecast the same way,
    so selection can never drop the calendar."""
    if alias not in REGISTRY:
        raise ValueError(f"unknown model {alias!r}; known: {', '.join(REGISTRY)}")
    cls = REGISTRY[alias]
    if cls.campaigns_inside:
        return cls(ctx).forecast(history, grid)[alias].to_numpy()
    return with_campaigns(lambda h: cls(ctx).forecast(h, grid)[alias].to_numpy(), history, grid, ctx)
