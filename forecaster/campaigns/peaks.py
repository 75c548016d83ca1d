"""Peak warnings for a calendar being submitted: campaigns whose expected response needs more
agents than the published plan's schedule has.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecaster.campaigns.calendar import current
from forecaster.campaigns.effects import past_impact, per_interval_extra, planned_impact
from forecaster.core.config import Config
from forecaster.staffing.requirements import staff_forecast
from forecaster.store.database import Store
from forecaster.store.runs import Runs

MAX_CHECKED = 100


@dataclass
class PeakInputs:
    """What the check reads from the store: the published plan (when it has a schedule), and history."""

    run_id: int
    as_of: dt.date
    forecast: pd.DataFrame
    coverage: pd.DataFrame
    calendar: pd.DataFrame
    actuals: pd.DataFrame


def read_inputs(store: Store) -> PeakInputs | None:
    """The inputs of :func:`peak_warnings`, or None when no plan is published or it has no schedule."""
    runs = Runs(store)
    run_id = runs.plan()
    if run_id is None:
        return None
    coverage = runs.schedule(run_id)["coverage"]
    if coverage.empty:
        return None
    return PeakInputs(run_id, pd.Timestamp(runs.get(run_id)["as_of"]).date(), runs.forecast(run_id), coverage,
                      current(store, include_withdrawn=False), store.actuals())


def peak_warnings(inputs: PeakInputs, config: Config, submitted: pd.DataFrame) -> list[str]:
    """Warnings for a calendar being submitted: campaigns whose expected response pushes the
    agents needed above the run's schedule, one line per campaign."""
    run_id, as_of, forecast, coverage = inputs.run_id, inputs.as_of, inputs.forecast, inputs.coverage
    calendar, actuals = inputs.calendar, inputs.actuals
    last = pd.to_datetime(forecast["interval_start"]).max()
    new = submitted[(submitted["start_ts"].dt.date > as_of) & (submitted["start_ts"] <= last)]
    if new.empty or calendar.empty:
        return []
    result = past_impact(actuals, calendar, config, as_of)
    days = pd.to_datetime(forecast["interval_start"])
    open_days = {q: pd.DatetimeIndex(sorted(g.dt.normalize().unique())) for q, g in days.groupby(forecast["queue"])}
    new = new.head(MAX_CHECKED)                       # a big file is checked on its first campaigns in the horizon
    old = calendar[calendar["campaign_id"].isin(new["campaign_id"])]
    after = planned_impact(result, new, config, as_of, open_days)          # one call for all, then per campaign
    before = planned_impact(result, old, config, as_of, open_days)
    deltas = {}
    for cid in new["campaign_id"]:
        added = per_interval_extra(after[after["campaign_id"] == cid], forecast)
        if (before["campaign_id"] == cid).any():
            added = added - per_interval_extra(before[before["campaign_id"] == cid], forecast)
        deltas[cid] = added
    total = sum(deltas.values())
    key = pd.MultiIndex.from_arrays([forecast["queue"], days])
    with_new = forecast.assign(forecast=np.maximum(forecast["forecast"].to_numpy() + total.reindex(key).fillna(0)
                                                   .to_numpy(), 0.0))
    cov = coverage.assign(interval_start=pd.to_datetime(coverage["interval_start"]))
    req = staff_forecast(with_new, config).assign(interval_start=lambda f: pd.to_datetime(f["interval_start"]))
    base = staff_forecast(forecast, config).assign(interval_start=lambda f: pd.to_datetime(f["interval_start"]))
    f = req.merge(cov[["queue", "interval_start", "scheduled_agents"]], on=["queue", "interval_start"]).merge(
        base[["queue", "interval_start", "required_with_shrinkage"]].rename(columns={"required_with_shrinkage": "before"}),
        on=["queue", "interval_start"])
    pushed = f[(f["required_with_shrinkage"] > f["scheduled_agents"]) & (f["before"] <= f["scheduled_agents"])]
    out = []
    for cid, d in deltas.items():
        mine = pushed[d.reindex(pd.MultiIndex.from_arrays([pushed["queue"], pushed["interval_start"]]))
                      .fillna(0).to_numpy() > 0]
        if len(mine):
            worst = mine.assign(gap=mine["required_with_shrinkage"] - mine["scheduled_agents"]).sort_values("gap").iloc[-1]
            out.append(f"{cid}: its expected response needs more agents than run #{run_id}'s schedule has in "
                       f"{len(mine)} interval(s); worst {worst['queue']} {worst['interval_start']:%a %Y-%m-%d %H:%M}: "
                       f"{int(worst['required_with_shrinkage'])} needed, {int(worst['scheduled_agents'])} on shift. Tell the planners")
    return out
