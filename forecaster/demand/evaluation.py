"""Rolling-origin evaluation of the forecasting models, baselines included.

Origins are a week apart, the last one ``days`` before the day after ``as_of``. At each origin
every model forecasts the next ``days`` days from the history before it. Reported per queue and
model, at interval and at daily level, for all days, campaign-affected days and the others:

* WAPE: sum |error| / sum actual; bias: sum (forecast - actual) / sum actual;
* MASE: mean |error| over the in-sample mean |error| of the weekly seasonal naive forecast;
* coverage of the 80 % and 95 % conformal intervals, out of sample: the widths for one origin
  are calibrated on the residuals of the other origins only;
* the staffing error in agent-hours (interval level, all days): agents needed for the actual
  contacts against agents staffed from the forecast, split into hours short and hours over.

Campaign-affected days of a queue: from a campaign's start to 10 days after its end, for the
queues it targets. ``topdown_nocmp`` (the same model without campaign regressors) is included
so the campaign regressors' worth can be measured.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from forecaster.core.config import Config
from forecaster.core.errors import UserError
from forecaster.demand.context import make_context, switch_on_campaigns
from forecaster.demand.intervals import per_interval, volume_widths, with_intervals
from forecaster.demand.selection import MODELS, backtest
from forecaster.staffing.requirements import staff_forecast

EVAL_MODELS = MODELS + ("median", "topdown_nocmp")   # the five models' median; topdown_pooled without campaigns
AFTER_DAYS = 10


def campaign_days(campaigns: pd.DataFrame) -> set[tuple[str, pd.Timestamp]]:
    out = set()
    for c in campaigns.itertuples():
        days = pd.date_range(pd.Timestamp(c.start_ts).normalize(),
                             pd.Timestamp(c.end_ts).normalize() + pd.Timedelta(days=AFTER_DAYS))
        out |= {(q, d) for q in c.queues for d in days}
    return out


def _naive_scale(hist: pd.DataFrame) -> pd.Series:
    """Per queue: in-sample mean |y - y one week earlier| (the MASE denominator)."""
    prev = hist.assign(ds=hist["ds"] + pd.Timedelta(days=7)).set_index(["queue", "ds"])["y"]
    cur = hist.set_index(["queue", "ds"])["y"]
    diff = (cur - prev.reindex(cur.index)).abs().dropna()
    return diff.groupby(level=0).mean()


def _coverage(res: pd.DataFrame) -> pd.DataFrame:
    """Leave-one-origin-out conformal intervals for every row of ``res`` (one queue and model)."""
    out = []
    for origin, held in res.groupby("origin"):
        widths = volume_widths(res[res["origin"] != origin])
        bands = with_intervals(held["p"].to_numpy(), per_interval(held["p"].to_numpy(), widths))
        out.append(held.assign(in_80=(held["y"] >= bands["lo_80"]) & (held["y"] <= bands["hi_80"]),
                               in_95=(held["y"] >= bands["lo_95"]) & (held["y"] <= bands["hi_95"])))
    return pd.concat(out)


def _metrics(frame: pd.DataFrame, scale: float) -> dict:
    total = frame["y"].sum()
    err = frame["p"] - frame["y"]
    return {"wape": err.abs().sum() / total if total else np.nan, "bias": err.sum() / total if total else np.nan,
            "mase": err.abs().mean() / scale if scale else np.nan, "n": len(frame)}


def staffing_error(results: pd.DataFrame, config: Config) -> pd.DataFrame:
    """What forecast errors cost: agents needed for the actual contacts against agents staffed
    from the forecast, per interval, in agent-hours (short: needed but not staffed; over: idle)."""

    hours = config.interval_min / 60
    parts = []
    for (model, _), g in results.groupby(["model", "origin"]):
        base = g[["queue", "ds"]].rename(columns={"ds": "interval_start"})
        need = staff_forecast(base.assign(forecast=g["y"].to_numpy()), config)
        plan = staff_forecast(base.assign(forecast=g["p"].to_numpy()), config)
        diff = (plan["required_agents"] - need["required_agents"]).to_numpy() * hours
        parts.append(pd.DataFrame({"queue": need["queue"], "model": model, "short_h": np.clip(-diff, 0, None),
                                   "over_h": np.clip(diff, 0, None), "needed_h": need["required_agents"] * hours}))
    frame = pd.concat(parts).groupby(["queue", "model"], as_index=False).sum()
    frame["staffing_error_h"] = frame["short_h"] + frame["over_h"]
    return frame


def evaluate(hist: pd.DataFrame, campaigns: pd.DataFrame, config: Config, as_of: dt.date, windows: int = 8,
             days: int = 14, models: tuple[str, ...] = EVAL_MODELS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns (metrics table, per-interval results with ``in_80``/``in_95``)."""
    hist = hist[hist["ds"] < pd.Timestamp(as_of) + pd.Timedelta(days=1)]
    first = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    origins = [first - pd.Timedelta(days=days + 7 * i) for i in range(windows)]
    ctx = make_context(config, campaigns, hist["ds"].min().date(), as_of + dt.timedelta(days=7))
    early = hist[hist["ds"] < min(origins)]
    switch_on_campaigns(ctx, min(origins))
    results, _ = backtest(hist, ctx, origins, days, models)
    if not len(results):
        raise UserError(f"backtest: its {windows} window(s) of {days} day(s), the last from {origins[0].date()} to "
                        f"{as_of}, hold no actuals of any queue (closed days, or no history before them); choose "
                        "an --as-of on an open day or a longer --horizon")
    results = pd.concat([_coverage(g) for _, g in results.groupby(["queue", "model"])], ignore_index=True)
    affected = campaign_days(campaigns)
    day = results["ds"].dt.normalize()
    results["campaign_day"] = [(q, d) in affected for q, d in zip(results["queue"], day)]
    interval_scale = _naive_scale(early)
    daily_hist = early.groupby(["queue", early["ds"].dt.normalize().rename("ds")])["y"].sum().reset_index()
    daily_scale = _naive_scale(daily_hist)
    rows = []
    for (queue, model), g in results.groupby(["queue", "model"]):
        d = g.groupby([g["ds"].dt.normalize(), "origin"]).agg(y=("y", "sum"), p=("p", "sum"),
                                                              campaign_day=("campaign_day", "first")).reset_index()
        for level, frame, scale in (("interval", g, interval_scale.get(queue)), ("daily", d, daily_scale.get(queue))):
            for segment, part in (("all", frame), ("campaign", frame[frame["campaign_day"]]),
                                  ("other", frame[~frame["campaign_day"]])):
                if not len(part):
                    continue
                row = {"queue": queue, "model": model, "level": level, "segment": segment, **_metrics(part, scale)}
                if level == "interval":
                    row.update(coverage_80=part["in_80"].mean(), coverage_95=part["in_95"].mean())
                rows.append(row)
    metrics = pd.DataFrame(rows)
    cost = staffing_error(results, config)
    at = (metrics["level"] == "interval") & (metrics["segment"] == "all")
    merged = metrics[at].merge(cost, on=["queue", "model"], how="left")
    for col in ("staffing_error_h", "short_h", "over_h", "needed_h"):
        metrics.loc[at, col] = merged[col].to_numpy()
    return metrics, results
