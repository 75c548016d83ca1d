"""Forecasting models behind one interface (fit, predict, alias); the registry names them.

Importing this package registers the models; they compete simplest first (a tie goes to the
simpler): the baselines, then top-down (per weekday, pooled), the direct MSTL and the median
of those five.
"""

from forecaster.demand.models import baselines, combination, mstl, topdown  # noqa: F401 - registers the models
from forecaster.demand.models.base import REGISTRY, ForecastModel, point_forecast, race, register

__all__ = ["REGISTRY", "ForecastModel", "point_forecast", "race", "register"]
