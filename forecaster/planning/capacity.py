"""Spare capacity: where the schedule leaves agents idle even if demand runs high.

Per interval, the agents a schedule puts on the floor give ``productive`` agents: the most
productive agents whose shrinkage-adjusted headcount (``with_shrinkage``, the rule staffing
uses) still fits in ``on_shift``. Spare agents are ``productive`` minus the agents needed at a
forecast *quantile* (0.8 by default), so an interval is only called quiet when it is likely to
stay quiet. An interval whose ``on_shift`` is below the requirement at that quantile therefore
never has spare agents.

Intervals with at least ``min_agents`` spare, back to back on one queue and day, become windows
of at least ``min_minutes``. Each window gets:

* ``spare_agents_min``: the constant team the window can lend for its whole length;
* ``spare_agent_hours``: all spare agent-time in it;
* ``outbound_calls``: connected calls that time allows, at ``outbound.aht_s`` per connected call
  and ``outbound.attempt_s`` per unanswered dial, with ``outbound.connect_rate``;
* ``risk``: the highest, over the window's intervals, probability that inbound demand needs the
  lent agents after all: one minus the highest forecast quantile the remaining agents still staff.

**Call-backs.** Connected outbound calls cause inbound call-backs (``outbound.callback_rate``),
arriving evenly from ``callback_delay_min`` to ``callback_delay_min + callback_spread_min`` after
the call (any delay and spread: they are binned onto the grid, :func:`callback_shares`). They are
added to the forecast (mean and bands) of the queue's later intervals, the requirement is
computed again and the windows again, until the windows stop changing; if they have not after
``max_rounds``, the result says so, as it does for call-backs landing outside the schedule.

Agents on a scheduled break in an interval are not spare there: breaks go where demand is
lowest, which is where the windows are.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import icalendar
import numpy as np
import pandas as pd

from forecaster.core.config import Config
from forecaster.core.errors import UserError
from forecaster.staffing.erlang import with_shrinkage
from forecaster.staffing.requirements import staff_forecast

RISK_GRID = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.975, 0.99)
WINDOW_COLUMNS = ["queue", "start", "end", "spare_agents_min", "spare_agent_hours", "outbound_calls", "risk"]


def productive_agents(on_shift: np.ndarray, shrinkage: np.ndarray) -> np.ndarray:
    """Most agents ``a`` with ``with_shrinkage(a, shrinkage) <= on_shift`` (vectorised)."""
    on_shift = np.asarray(on_shift, np.int64)
    s = np.asarray(shrinkage, float)
    a = np.floor(on_shift * (1 - s)).astype(np.int64) + 1
    for _ in range(3):  # float noise moves the first guess by at most one either way
        a = np.where(with_shrinkage(a, s) > on_shift, a - 1, a)
    a = np.where(with_shrinkage(a + 1, s) <= on_shift, a + 1, a)
    return np.maximum(a, 0)


def on_the_phones(scheduled: np.ndarray, on_break, shrinkage: np.ndarray) -> np.ndarray:
    """Productive agents a schedule gives: :func:`productive_agents`, but never more than those on
    shift and not on a break (breaks go where demand is lowest, the very windows offered)."""
    scheduled = np.asarray(scheduled, np.int64)
    return np.minimum(productive_agents(scheduled, shrinkage), np.maximum(scheduled - on_break, 0))


def spare_per_interval(coverage: pd.DataFrame, req_q: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Join a schedule's coverage (``queue, interval_start, on_shift``) with the requirement at
    the quantile (``queue, interval_start, agents, scheduled``); add ``productive`` and ``spare``."""
    cols = ["queue", "interval_start", "scheduled_agents"] + (["on_break"] if "on_break" in coverage else [])
    f = req_q[["queue", "interval_start", "required_agents", "required_with_shrinkage"]].merge(
        coverage[cols], on=["queue", "interval_start"], how="inner")
    shrink = f["queue"].map({q.name: q.shrinkage for q in config.queues}).to_numpy(float)
    # an agent on a break that interval cannot be lent, whatever shrinkage says on average
    on_break = f.pop("on_break").fillna(0).to_numpy(np.int64) if "on_break" in f else 0
    f["productive"] = on_the_phones(f["scheduled_agents"].to_numpy(), on_break, shrink)
    f["spare"] = f["productive"] - f["required_agents"]
    return f


def interval_risk(forecast: pd.DataFrame, remaining: pd.DataFrame, config: Config) -> np.ndarray:
    """Per row of ``remaining`` (``queue, interval_start, remaining``): 1 - the highest quantile
    in :data:`RISK_GRID` whose required productive agents fit in ``remaining``."""
    keys = remaining[["queue", "interval_start"]]
    fc = keys.merge(forecast, on=["queue", "interval_start"], how="left")
    best = np.zeros(len(keys))
    for q in RISK_GRID:
        need = staff_forecast(fc, config, q)["required_agents"].to_numpy()
        best = np.where(need <= remaining["remaining"].to_numpy(), q, best)
    return np.round(1.0 - best, 3)


def windows(spare: pd.DataFrame, config: Config, interval_min: int) -> pd.DataFrame:
    """Merge intervals with ``spare >= min_agents`` into windows of at least ``min_minutes``."""
    ob = config.outbound
    f = spare[spare["spare"] >= ob.min_agents].sort_values(["queue", "interval_start"])
    if f.empty:
        return pd.DataFrame(columns=WINDOW_COLUMNS + ["n_intervals"])
    step = pd.Timedelta(minutes=interval_min)
    new = (f["queue"] != f["queue"].shift()) | (f["interval_start"] - f["interval_start"].shift() != step)
    f = f.assign(window=new.cumsum())
    hours = interval_min / 60
    g = f.groupby("window").agg(queue=("queue", "first"), start=("interval_start", "min"),
                                last=("interval_start", "max"), spare_agents_min=("spare", "min"),
                                spare_sum=("spare", "sum"), risk=("risk", "max"), n_intervals=("spare", "size"))
    g["end"] = g["last"] + step
    g = g[g["n_intervals"] * interval_min >= ob.min_minutes].copy()
    g["spare_agent_hours"] = g["spare_sum"] * hours
    seconds_per_connect = ob.aht_s + ob.attempt_s * (1 - ob.connect_rate) / ob.connect_rate
    g["outbound_calls"] = np.floor(g["spare_agent_hours"] * 3600 / seconds_per_connect)
    return g[WINDOW_COLUMNS + ["n_intervals"]].reset_index(drop=True)


def callback_shares(config: Config, interval_min: int) -> list[tuple[int, float]]:
    """Where one interval's call-backs land: (intervals later, share). Outbound calls are made
    evenly over their interval and each one's call-backs arrive evenly from ``callback_delay_min``
    to ``callback_delay_min + callback_spread_min`` after it, so the arrivals, minute by minute,
    are the convolution of the two; binned to the grid, any delay and spread land (45 minutes on
    a 30-minute grid included), and the shares sum to 1."""
    ob = config.outbound
    minutes = np.convolve(np.full(interval_min, 1 / interval_min), np.full(ob.callback_spread_min,
                                                                          1 / ob.callback_spread_min))
    # call at minute i (0..step-1) and call-back j minutes later: lands at minute i + delay + j,
    # counted from the interval's start; the convolution's index is i + j
    slot = (np.arange(len(minutes)) + ob.callback_delay_min) // interval_min
    shares = np.bincount(slot, weights=minutes)
    return [(int(k), float(w)) for k, w in enumerate(shares) if w > 0]


def callbacks(spare: pd.DataFrame, wins: pd.DataFrame, config: Config, interval_min: int) -> pd.DataFrame:
    """Inbound call-backs per queue and interval caused by the outbound calls planned in ``wins``
    (on the grid; those landing where the queue is closed are counted by :func:`spare_capacity`)."""
    ob = config.outbound
    if wins.empty or ob.callback_rate == 0:
        return pd.DataFrame(columns=["queue", "interval_start", "callbacks"])
    seconds_per_connect = ob.aht_s + ob.attempt_s * (1 - ob.connect_rate) / ob.connect_rate
    step = pd.Timedelta(minutes=interval_min)
    parts = []
    for w in wins.itertuples():
        sel = spare[(spare["queue"] == w.queue) & (spare["interval_start"] >= w.start) & (spare["interval_start"] < w.end)]
        made = sel["spare"].to_numpy() * interval_min * 60 / seconds_per_connect * ob.callback_rate
        for k, share in callback_shares(config, interval_min):
            parts.append(pd.DataFrame({"queue": w.queue, "interval_start": sel["interval_start"] + k * step,
                                       "callbacks": made * share}))
    out = pd.concat(parts, ignore_index=True)
    return out.groupby(["queue", "interval_start"], as_index=False)["callbacks"].sum()


def with_callbacks(forecast: pd.DataFrame, cb: pd.DataFrame) -> pd.DataFrame:
    """The forecast with call-backs added to the mean and both bands (a known extra load)."""
    f = forecast.merge(cb, on=["queue", "interval_start"], how="left")
    extra = pd.to_numeric(f.pop("callbacks"), errors="coerce").fillna(0.0)
    for col in ("forecast", "lo_80", "hi_80", "lo_95", "hi_95"):
        f[col] = f[col] + extra
    return f.assign(callbacks=extra)


def spare_capacity(forecast: pd.DataFrame, coverage: pd.DataFrame, config: Config, quantile: float | None = None,
                   max_rounds: int = 5) -> dict[str, pd.DataFrame]:
    """Spare-capacity windows for a schedule's ``coverage`` against ``forecast``, with call-backs.

    Returns ``windows``, ``intervals`` (per interval: on_shift, required at the quantile,
    productive, spare, risk, callbacks) and ``callbacks``.
    """
    quantile = quantile or config.outbound.quantile
    step = config.interval_min
    fc = forecast[forecast.set_index(["queue", "interval_start"]).index.isin(
        coverage.set_index(["queue", "interval_start"]).index)].reset_index(drop=True)
    cb = pd.DataFrame(columns=["queue", "interval_start", "callbacks"])
    previous, converged = None, False
    for _ in range(max_rounds):
        adjusted = with_callbacks(fc, cb)
        req = staff_forecast(adjusted, config, quantile)
        spare = spare_per_interval(coverage, req, config)
        spare["remaining"] = spare["productive"] - spare["spare"].clip(lower=0)
        spare["risk"] = interval_risk(adjusted, spare, config)
        wins = windows(spare, config, step)
        key = wins[["queue", "start", "end", "spare_agents_min"]].to_numpy().tolist()
        if key == previous:
            converged = True
            break
        previous = key
        cb = callbacks(spare, wins, config, step)
    spare = spare.merge(adjusted[["queue", "interval_start", "callbacks"]], on=["queue", "interval_start"], how="left")
    landed = float(spare["callbacks"].sum())
    made = float(cb["callbacks"].sum()) if len(cb) else 0.0
    notes = []
    if not converged:
        notes.append(f"spare capacity did not settle in {max_rounds} rounds of call-backs (the windows still changed "
                     "when their call-backs were added); the last round is shown, so check the windows' risk")
    if made - landed > 0.5:
        notes.append(f"{made - landed:.0f} of {made:.0f} call-backs fall outside the schedule's intervals (after "
                     "closing or beyond the week) and are not staffed here")
    return {"windows": wins.drop(columns="n_intervals"), "intervals": spare.drop(columns="remaining"), "callbacks": cb,
            "converged": converged, "notes": notes}


def to_ics(wins: pd.DataFrame, config: Config, stamp: pd.Timestamp | None = None) -> bytes:
    """The windows as an iCalendar file (one event per window, local time of the site).

    ``stamp`` (UTC) is every event's DTSTAMP: pass the run's time so that the same run always
    gives the same file."""

    tz = ZoneInfo(config.timezone)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//forecaster//spare capacity//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{config.site}: spare capacity for outbound work")
    for w in wins.itertuples():
        ev = icalendar.Event()
        start, end = pd.Timestamp(w.start).to_pydatetime(), pd.Timestamp(w.end).to_pydatetime()
        ev.add("uid", f"spare-{w.queue}-{start:%Y%m%dT%H%M}@forecaster")
        ev.add("summary", f"Outbound: {w.spare_agents_min} spare agent(s) on {w.queue}")
        ev.add("dtstart", start.replace(tzinfo=tz))
        ev.add("dtend", end.replace(tzinfo=tz))
        ev.add("dtstamp", (stamp or pd.Timestamp.now(tz="UTC")).to_pydatetime())
        ev.add("description", f"{w.spare_agent_hours:.1f} spare agent-hours, about {int(w.outbound_calls)} connected "
                              f"outbound calls; risk that inbound needs them after all: {w.risk:.0%}")
        cal.add_component(ev)
    cal.add_missing_timezones()  # a VTIMEZONE for the site's zone, so every client reads local times right
    return cal.to_ical()


def capacity_of(forecast: pd.DataFrame, coverage: pd.DataFrame, config: Config, run_id: int,
                quantile: float | None = None, min_minutes: int | None = None, min_agents: int | None = None) -> dict:
    """Spare capacity of run ``run_id``'s schedule (``coverage``), with its summary (``meta``)."""

    if coverage.empty:
        raise UserError(f"run {run_id} has no schedule yet; run 'forecaster schedule --run {run_id}' first")
    changes = {k: v for k, v in (("min_minutes", min_minutes), ("min_agents", min_agents), ("quantile", quantile))
               if v is not None}
    if changes:
        config = config.model_copy(update={"outbound": config.outbound.model_copy(update=changes)})
    cap = spare_capacity(forecast, coverage, config)
    return {**cap, "meta": capacity_meta(cap, config), "config": config}


def capacity_meta(cap: dict, config: Config) -> dict:
    """The summary stored with the run (``info.capacity``)."""
    w, cb = cap["windows"], cap["callbacks"]
    return {"quantile": config.outbound.quantile, "windows": len(w),
            "spare_agent_hours": round(float(w["spare_agent_hours"].sum()), 1),
            "outbound_calls": int(w["outbound_calls"].sum()),
            "callbacks": round(float(cb["callbacks"].sum()) if len(cb) else 0.0, 1),
            "converged": cap.get("converged", True), "notes": cap.get("notes", [])}
