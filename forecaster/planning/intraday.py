"""The rest of today against today's schedule: gaps, the service to expect, and what to do.

Input: the updated forecast of the rest of the day (:class:`forecaster.demand.intraday.LevelUpdate`,
``queue, interval_start, forecast, day_ahead, lo/hi 80/95, aht_s``), the published plan's coverage
for today (``scheduled_agents``, ``on_break``) and its spare-capacity windows. Per interval:
required agents for the updated forecast, the productive agents the schedule gives (the rule
of :mod:`forecaster.planning.capacity`: shrinkage, and no one on a break), the gap and the
service level those agents give. Per queue:

* the service to expect for the rest of the day with today's schedule (contact-weighted service
  level, or ASA for ASA-target queues);
* the chance of meeting the target over the rest of the day: the highest forecast quantile at
  which the schedule still meets it, every interval at that quantile at once (a day runs hot or
  cold as a whole, so this is the cautious reading);
* overtime agent-hours: the scheduled agents missing against the requirement at the mean;
* voluntary time off: agent-hours the schedule holds beyond the requirement at the outbound
  quantile (0.8 by default), so time off is only offered where demand is unlikely to need them;
* outbound windows: the plan's windows to cancel or shrink where the inbound forecast now needs
  their agents, and new windows the updated forecast opens.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecaster.core.config import Config
from forecaster.core.site_calendar import slot_minutes
from forecaster.planning.capacity import on_the_phones, spare_capacity
from forecaster.staffing.requirements import service_with_agents, staff_forecast

CHANCE_GRID = np.round(np.arange(0.02, 0.991, 0.02), 2)
ACTION_COLUMNS = ["queue", "action", "start", "end", "agents", "agent_hours", "why"]


def on_the_floor(rest: pd.DataFrame, coverage: pd.DataFrame, config: Config) -> pd.DataFrame:
    """``rest`` with the requirement, ``scheduled_agents``, ``productive`` and ``gap`` per interval
    (``gap`` = productive - required: negative is short). Without a schedule for an interval its
    scheduled columns are NaN."""
    req = staff_forecast(rest, config)
    out = rest.drop(columns=["aht_s"], errors="ignore").merge(          # the handling time staffing used
        req[["queue", "interval_start", "aht_s", "required_agents", "required_with_shrinkage"]],
        on=["queue", "interval_start"], how="left")
    cols = ["queue", "interval_start", "scheduled_agents", "on_break"]
    out = out.merge(coverage[cols] if len(coverage) else pd.DataFrame(columns=cols),
                    on=["queue", "interval_start"], how="left")
    scheduled = pd.to_numeric(out["scheduled_agents"], errors="coerce")
    has = scheduled.notna().to_numpy()
    shrink = out["queue"].map({q.name: q.shrinkage for q in config.queues}).to_numpy(float)
    sched = scheduled.fillna(0).to_numpy(np.int64)
    out["on_break"] = pd.to_numeric(out["on_break"], errors="coerce").fillna(0)
    on_break = out["on_break"].to_numpy(np.int64)
    productive = on_the_phones(sched, on_break, shrink)
    out["scheduled_agents"] = scheduled
    out["productive"] = np.where(has, productive, np.nan)
    out["gap"] = out["productive"] - out["required_agents"]
    served = service_with_agents(rest, config, np.where(has, productive, 0))
    out["service_level"] = np.where(has, served["service_level"], np.nan)
    out["asa_s"] = np.where(has, served["asa_s"], np.nan)
    out["slot_h"] = slot_minutes(config, out["interval_start"]) / 60
    return out


def _met(frame: pd.DataFrame, config: Config, quantile) -> pd.Series:
    """Per queue: does the schedule meet the queue's target over ``frame``'s intervals with the
    contacts at ``quantile`` (one per row, or one for all; the mean if None) in every interval?"""
    served = service_with_agents(frame, config, frame["productive"].to_numpy(), quantile)
    need = staff_forecast(frame, config, quantile)["required_agents"].to_numpy()
    f = frame.assign(c=served["contacts"].to_numpy(), sl=served["service_level"].to_numpy(),
                     asa=served["asa_s"].to_numpy(), short=need > frame["productive"].to_numpy())
    out = {}
    for q in config.queues:
        g = f[f["queue"] == q.name]
        if g.empty:
            continue
        weight = g["c"].sum()
        if q.channel == "email" or weight <= 0:
            out[q.name] = not g["short"].any()
        elif q.sl_pct is not None:
            out[q.name] = (g["c"] * g["sl"]).sum() / weight >= q.sl_pct / 100 - 1e-9
        else:
            out[q.name] = (g["c"] * g["asa"]).sum() / weight <= q.asa_s + 1e-9
    return pd.Series(out, dtype=bool)


def chance_of_target(floor: pd.DataFrame, config: Config) -> pd.Series:
    """Per queue with a schedule: the highest quantile in :data:`CHANCE_GRID` at which the target
    is still met (0 if not even at the lowest). Meeting it only gets harder as the quantile
    rises, so every queue is bisected at once: seven evaluations, not fifty."""
    scheduled = floor[floor["productive"].notna()].sort_values(["queue", "interval_start"]).reset_index(drop=True)
    names = pd.Index(scheduled["queue"].unique())
    lo = pd.Series(-1, index=names)                       # highest grid index known to be met (-1: none)
    hi = pd.Series(len(CHANCE_GRID) - 1, index=names)     # highest index that may be met
    while (lo < hi).any():
        mid = (lo + hi + 1) // 2
        met = _met(scheduled, config, CHANCE_GRID[scheduled["queue"].map(mid).to_numpy()]).reindex(names, fill_value=False)
        active = lo < hi
        lo = lo.where(~(met & active), mid)
        hi = hi.where(~(~met & active), mid - 1)
    return pd.Series(np.where(lo >= 0, CHANCE_GRID[lo.clip(lower=0).to_numpy()], 0.0), index=names)


def outbound_actions(floor: pd.DataFrame, plan_windows: pd.DataFrame, config: Config, at: pd.Timestamp) -> pd.DataFrame:
    """The plan's windows that the updated forecast takes agents from (cancel or shrink), and new
    windows it opens (spare at the outbound quantile, as ``forecaster capacity`` finds them)."""
    sched = floor[floor["productive"].notna()]
    rows = []
    if sched.empty:
        return pd.DataFrame(columns=ACTION_COLUMNS)
    fc = sched[["queue", "interval_start", "forecast", "lo_80", "hi_80", "lo_95", "hi_95", "aht_s"]]
    cov = sched[["queue", "interval_start", "scheduled_agents", "on_break"]].astype(
        {"scheduled_agents": np.int64, "on_break": np.int64})
    spare = spare_capacity(fc, cov, config)
    per = spare["intervals"].set_index(["queue", "interval_start"])["spare"]
    step = pd.Timedelta(minutes=config.interval_min)
    ob = config.outbound
    today = plan_windows[(plan_windows["end"] > at) & (plan_windows["start"] < at.normalize() + pd.Timedelta(days=1))]
    for w in today.itertuples():
        start = max(pd.Timestamp(w.start), at)
        times = pd.date_range(start, pd.Timestamp(w.end) - step, freq=step)
        now = per.reindex(pd.MultiIndex.from_arrays([[w.queue] * len(times), times])).dropna()
        lowest = int(now.min()) if len(now) else 0
        if lowest >= w.spare_agents_min:
            continue
        hours = (pd.Timestamp(w.end) - start) / pd.Timedelta(hours=1)
        if lowest < ob.min_agents:
            rows.append({"queue": w.queue, "action": "cancel outbound", "start": start, "end": w.end, "agents": w.spare_agents_min,
                         "agent_hours": round(w.spare_agents_min * hours, 1),
                         "why": f"inbound now needs the agents (spare {max(lowest, 0)} at the {ob.quantile:g} quantile)"})
        else:
            rows.append({"queue": w.queue, "action": "shrink outbound", "start": start, "end": w.end, "agents": lowest,
                         "agent_hours": round((w.spare_agents_min - lowest) * hours, 1),
                         "why": f"{lowest} of the {w.spare_agents_min} planned agents stay spare"})
    for w in spare["windows"].itertuples():
        overlap = today[(today["queue"] == w.queue) & (today["start"] < w.end) & (today["end"] > w.start)]
        if overlap.empty:
            rows.append({"queue": w.queue, "action": "open outbound", "start": w.start, "end": w.end,
                         "agents": int(w.spare_agents_min), "agent_hours": round(float(w.spare_agent_hours), 1),
                         "why": f"spare at the {ob.quantile:g} quantile of the updated forecast, not in the plan; risk inbound needs them {w.risk:.0%}"})
    return pd.DataFrame(rows, columns=ACTION_COLUMNS)


def queue_summary(floor: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Per queue: the morning against plan, the rest of the day, service, chance and the hours to act on."""
    vto_need = staff_forecast(floor, config, config.outbound.quantile)["required_with_shrinkage"].to_numpy()
    f = floor.assign(
        overtime_h=np.clip(floor["required_with_shrinkage"] - floor["scheduled_agents"], 0, None) * floor["slot_h"],
        vto_h=np.clip(floor["scheduled_agents"] - vto_need, 0, None) * floor["slot_h"],
        short=(floor["gap"] < 0).astype(float), w_sl=floor["forecast"] * floor["service_level"],
        w_asa=floor["forecast"] * floor["asa_s"])
    g = f.groupby("queue", sort=True).agg(
        observed=("observed", "first"), expected=("expected", "first"), factor=("factor", "first"),
        rest_day_ahead=("day_ahead", "sum"), rest_forecast=("forecast", "sum"), intervals=("forecast", "size"),
        short_intervals=("short", "sum"), scheduled=("scheduled_agents", "count"),
        overtime_agent_h=("overtime_h", "sum"), vto_agent_h=("vto_h", "sum"), w_sl=("w_sl", "sum"),
        w_asa=("w_asa", "sum"))
    g["vs_plan"] = g["observed"] / g["expected"].where(g["expected"] > 0)
    weight = g["rest_forecast"].where(g["rest_forecast"] > 0)
    queueing = g.index.map({q.name: q.channel != "email" for q in config.queues}).to_numpy(bool)
    with_sl = g.index.map({q.name: q.sl_pct is not None for q in config.queues}).to_numpy(bool)
    g["service_level"] = (g.pop("w_sl") / weight).where((g["scheduled"] > 0) & queueing & with_sl)
    g["asa_s"] = (g.pop("w_asa") / weight).where((g["scheduled"] > 0) & queueing)
    targets = {q.name: (f"SL {q.sl_pct:g}% in {q.answer_s:g}s" if q.sl_pct is not None else
                        f"ASA {q.asa_s:g}s" if q.asa_s is not None else f"within {q.deadline_h:g}h")
               for q in config.queues}
    g["target"] = g.index.map(targets)
    g["chance_target"] = chance_of_target(floor, config).reindex(g.index)
    g.loc[g["scheduled"] == 0, ["overtime_agent_h", "vto_agent_h", "short_intervals"]] = np.nan
    cols = ["observed", "expected", "vs_plan", "factor", "rest_day_ahead", "rest_forecast", "service_level", "asa_s",
            "target", "chance_target", "short_intervals", "overtime_agent_h", "vto_agent_h"]
    return g[cols].reset_index()


def plan_the_rest(rest: pd.DataFrame, coverage: pd.DataFrame, plan_windows: pd.DataFrame, config: Config,
                  at: pd.Timestamp) -> dict:
    """Everything :mod:`this module <forecaster.planning.intraday>` computes: ``intervals``,
    ``queues`` and ``actions``, plus ``notes`` for queues without a schedule today."""
    floor = on_the_floor(rest, coverage, config)
    notes = [f"queue {q}: no schedule for {at:%Y-%m-%d} in the plan; requirements only (run 'forecaster schedule' "
             "for the week)" for q, g in floor.groupby("queue") if g["productive"].isna().all()]
    return {"intervals": floor.drop(columns=["slot_h"]), "queues": queue_summary(floor, config),
            "actions": outbound_actions(floor, plan_windows, config, at), "notes": notes}
