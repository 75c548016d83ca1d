"""The direct interval model: statsforecast's MSTL on each queue's interval series."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from forecaster.core.engine import statsforecast_jobs
from forecaster.demand.context import Context
from forecaster.demand.models.base import ForecastModel, register
from forecaster.features.design import interval_design

MSTL_WEEKS = 10


# statsmodels STL evaluates its loess smoothers only every few points and interpolates between: 13x
# faster on 10 weeks of 30-minute intervals, seasonal shapes within 0.5 % of the full computation.
STL_SPEED = {"trend_jump": 30, "low_pass_jump": 10}


@register
class DirectMSTL(ForecastModel):
    """The direct interval model (:func:`direct_mstl`). statsforecast fits MSTL together with the
    horizon's regressors, so the fit itself runs in ``predict``."""

    alias = "mstl"
    race_order = 4
    min_history_days = 28

    def _point(self, grid: pd.DataFrame) -> np.ndarray:
        return direct_mstl(self.history_, grid, self.ctx)


def _filled_week_grid(values: np.ndarray, per_week: int) -> np.ndarray:
    """Fill NaN (days with no data: closed or lost) from the same interval a week earlier, else a week
    later, repeatedly, so closed days do not distort the seasonal shapes."""
    vals = values.copy()
    for _ in range(len(vals) // per_week + 1):
        miss = np.isnan(vals)
        if not miss.any():
            break
        back = np.concatenate([np.full(per_week, np.nan), vals[:-per_week]])
        ahead = np.concatenate([vals[per_week:], np.full(per_week, np.nan)])
        vals = np.where(miss, np.where(np.isnan(back), ahead, back), vals)
    return np.nan_to_num(vals)


def direct_mstl(hist: pd.DataFrame, grid: pd.DataFrame, ctx: Context, weeks: int = MSTL_WEEKS) -> np.ndarray:
    """The direct interval model: statsforecast's MSTL on each queue's interval series itself.

    The last ``weeks`` weeks on the full clock (closed hours are zeros, days without data are
    filled from the week before), in contacts (a log scale was 0.7 points of WAPE worse on the
    demo), are split by MSTL into a daily and a weekly
    seasonal shape plus trend and remainder; the trend and remainder are forecast by ARIMA with
    AR(2) errors and the holiday regressors of the day (campaigns come from the campaign
    layer of :func:`~forecaster.demand.models.base.point_forecast`). All queues go to statsforecast
    in one call, so ``--engine dask`` runs it on Dask too.
    """
    # statsforecast's import (numba, fugue, dask) costs about 1.5 s: paid by forecasting only, not by every command
    from statsforecast import StatsForecast
    from statsforecast.models import ARIMA, MSTL

    step = pd.Timedelta(minutes=ctx.config.interval_min)
    per_day = int(pd.Timedelta(days=1) / step)
    end = hist["ds"].max().normalize() + pd.Timedelta(days=1)
    start = end - pd.Timedelta(days=7 * weeks)
    past = pd.date_range(start, end, freq=step, inclusive="left")
    last = grid["ds"].max().normalize() + pd.Timedelta(days=1)
    ahead = pd.date_range(end, max(last, end + pd.Timedelta(days=1)), freq=step, inclusive="left")
    hol = ctx.holidays
    groups = grid.groupby("queue").groups
    train, future = [], []
    xs = {}
    recent = {q: h for q, h in hist[hist["ds"] >= start].groupby("queue", sort=False)}
    for queue in groups:
        h = recent.get(queue, hist.iloc[:0])
        y = h.groupby("ds")["y"].sum().reindex(past).to_numpy(float)
        seen = past.normalize().isin(h["ds"].dt.normalize().unique())
        y[seen & np.isnan(y)] = 0.0                                  # closed hours of an open day
        # campaigns: the layer every model gets (point_forecast), not regressors
        xs[queue] = (interval_design(past, hol, None), interval_design(ahead, hol, None))
        train.append(pd.DataFrame({"unique_id": queue, "ds": np.arange(len(past)),
                                   "y": _filled_week_grid(y, 7 * per_day)}))
    cols = sorted({c for xh, _ in xs.values() for c in xh.columns if xh[c].std() > 0})
    for i, queue in enumerate(groups):
        xh, xf = xs[queue]
        train[i][cols] = xh.reindex(columns=cols, fill_value=0.0).to_numpy()
        f = pd.DataFrame({"unique_id": queue, "ds": np.arange(len(past), len(past) + len(ahead))})
        f[cols] = xf.reindex(columns=cols, fill_value=0.0).to_numpy()
        future.append(f)
    model = MSTL(season_length=[per_day, 7 * per_day], stl_kwargs=STL_SPEED,
                 trend_forecaster=ARIMA(order=(2, 0, 0), include_mean=True), alias="mstl")
    sf = StatsForecast(models=[model], freq=1, n_jobs=1 if ctx.engine == "dask" else statsforecast_jobs(len(groups)))
    train_df, future_df = pd.concat(train, ignore_index=True), pd.concat(future, ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if ctx.engine == "dask":
            import dask.dataframe as dd  # optional extra (forecaster[dask]), loaded on demand

            parts = min(len(groups), 16)
            res = sf.forecast(df=dd.from_pandas(train_df, npartitions=parts), h=len(ahead),
                              X_df=dd.from_pandas(future_df, npartitions=parts) if cols else None)
            res = res.compute() if hasattr(res, "compute") else res
        else:
            res = sf.forecast(df=train_df, h=len(ahead), X_df=future_df if cols else None)
    out = np.zeros(len(grid))
    results = {q: r for q, r in res.groupby("unique_id", sort=False)}
    for queue, rows in groups.items():
        r = results[queue].sort_values("ds")
        pred = pd.Series(np.maximum(r["mstl"].to_numpy(), 0.0), index=ahead)
        out[grid.index.get_indexer(rows)] = np.nan_to_num(pred.reindex(grid.loc[rows, "ds"]).to_numpy())
    return out
