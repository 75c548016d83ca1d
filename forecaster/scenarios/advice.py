"""Send-date advice: which start dates make a campaign's response cheapest to staff."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from forecaster.campaigns.effects import per_interval_extra, planned_impact
from forecaster.core.config import Config
from forecaster.scenarios import whatif as sc


def advise(result: dict, campaign: pd.Series, candidates: list[dt.date], forecast: pd.DataFrame,
           coverage: pd.DataFrame | None, config: Config, as_of: dt.date) -> pd.DataFrame:
    """Rank start dates for ``campaign`` by the extra staffing cost and the service with today's
    staffing. Each candidate moves the campaign (same length) and adds the channel's expected
    response to the run's forecast, less the response at its current date if that is in the
    forecast already."""

    days = pd.to_datetime(forecast["interval_start"])
    open_days = {q: pd.DatetimeIndex(sorted(g.dt.normalize().unique())) for q, g in days.groupby(forecast["queue"])}
    length = campaign["end_ts"] - campaign["start_ts"]

    def response(start: dt.date) -> pd.DataFrame:
        moved = campaign.copy()
        moved["start_ts"] = pd.Timestamp(start) + (campaign["start_ts"] - campaign["start_ts"].normalize())
        moved["end_ts"] = moved["start_ts"] + length
        return planned_impact(result, pd.DataFrame([moved]), config, as_of, open_days)

    current_start = campaign["start_ts"].date()
    now = response(current_start) if current_start > as_of else pd.DataFrame(
        columns=["queue", "day", "extra_contacts"])
    base_delta = per_interval_extra(now, forecast)
    rows = []
    for start in sorted(set(candidates) | ({current_start} if current_start > as_of else set())):
        extra = response(start)
        delta = per_interval_extra(extra, forecast) - base_delta
        total = sc.evaluate(forecast, config, sc.Scenario(), coverage, delta)["total"].iloc[0]
        rows.append({"start": start, "weekday": f"{start:%a}", "current": start == current_start,
                     "extra_contacts": float(extra["extra_contacts"].sum()) if len(extra) else 0.0,
                     "extra_required_agent_h": float(total["required_agent_h_delta"]),
                     "cost_delta": float(total["cost_delta"]),
                     "service_level_today": total["service_level"], "abandon_today": total["abandon"],
                     "overloaded_intervals": int(total["overloaded_intervals"])})
    out = pd.DataFrame(rows)
    out = out.sort_values(["cost_delta", "overloaded_intervals", "service_level_today"],
                          ascending=[True, True, False], kind="stable").reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out
