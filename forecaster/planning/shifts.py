"""Shift schedules from requirements, through pyworkforce's CP-SAT models.

Each queue and day is solved on its own (pyworkforce's models have no links between days, and
solving per day lets every day use only the shift templates allowed on it):

1. **Shifts**: every template start becomes one shift variant (``early@07:30``) whose coverage
   array is built with pyworkforce's :func:`shift_coverage_from_spans`.
2. **Headcount** per variant: pyworkforce :class:`MinRequiredResources` (``cover``: every interval
   covered at least, cheapest in paid agent-hours) or :class:`MinAbsDifference` (``fit``: the
   closest fit, over and under). A template's ``min_headcount`` is placed first and the solver
   fills the rest. pyworkforce has one global cap per shift, so a template's ``max_headcount``
   is enforced by fixing an over-cap variant at its cap and solving the rest again.
3. **What cannot be covered** (no allowed shift spans the interval, or the caps are too low) is
   taken out of the solver's target so it still returns the best partial plan, and listed with
   the agents missing.
4. **Breaks**: pyworkforce :class:`BreakScheduler` places each agent's unpaid and paid breaks so
   that the agents on the floor never drop below the *productive* requirement (Erlang's agents
   before shrinkage). Variants with different breaks are placed group by group.

The requirement the schedule covers is ``scheduled`` (agents after shrinkage). Shrinkage is
taken to include breaks on average; the explicit break plan only guarantees that breaks never
leave fewer agents than Erlang needs at any interval.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
from pyworkforce.breaks import BreakScheduler
from pyworkforce.scheduling import MinAbsDifference, MinRequiredResources
from pyworkforce.shifts import shift_coverage_from_spans

from forecaster.core.config import WEEKDAYS, Config, ShiftTemplate
from forecaster.core.engine import map_tasks
from forecaster.core.errors import UserError
from forecaster.staffing.requirements import staff_forecast


@dataclass(frozen=True)
class Variant:
    """One start time of one shift template, on a grid of ``periods`` intervals per day."""

    name: str
    template: ShiftTemplate
    start_p: int
    length_p: int
    breaks: tuple[tuple[str, int], ...]

    @property
    def paid_periods(self) -> float:
        """Paid length in intervals (the unpaid break is not paid): the solver's cost of one agent."""
        return self.length_p * self.template.paid_h / self.template.length_h


def shift_variants(config: Config, queue: str, weekday: int) -> list[Variant]:
    """The shift variants allowed for ``queue`` on ``weekday`` (0 = Monday)."""
    step = config.interval_min
    out = []
    for t in config.shifts:
        if WEEKDAYS[weekday] not in t.days or (t.queues != "all" and queue not in t.queues):
            continue
        breaks = tuple((label, math.ceil(minutes / step)) for label, minutes in
                       (("unpaid", t.unpaid_break_min), ("paid", t.paid_break_min)) if minutes > 0)
        for start in t.starts:
            h, m = map(int, start.split(":"))
            out.append(Variant(f"{t.name}@{start}", t, (h * 60 + m) // step, round(t.length_h * 60 / step), breaks))
    return out


def coverage_matrix(variants: list[Variant], periods: int) -> dict[str, list[int]]:
    """``{variant: 0/1 array}`` through pyworkforce's coverage helper."""
    spans = {v.name: (v.start_p, v.length_p) for v in variants}
    return shift_coverage_from_spans(spans, periods, wrap_around=False)


@dataclass
class DayPlan:
    headcount: dict[str, int]
    status: str
    cost: float  # paid agent-intervals
    gap: float | None  # CP-SAT's relative gap between the cost and its best bound
    solve_s: float
    resolves: int = 0
    notes: list[str] = field(default_factory=list)


def _coverable(req: np.ndarray, cov: dict[str, np.ndarray], caps: dict[str, int | None]) -> np.ndarray:
    """Most agents the variants can put on each interval (inf where an uncapped variant covers it)."""
    most = np.zeros(len(req))
    for name, row in cov.items():
        most += np.where(row > 0, np.inf if caps[name] is None else caps[name], 0)
    return np.minimum(req, most)


def _pyworkforce_solve(method: str, req: np.ndarray, cov: dict[str, np.ndarray],
                       cost: dict[str, float], time_limit_s: float) -> tuple[dict[str, int], str, float, float]:
    periods = len(req)
    top = max(int(req.max()), 1)
    common = dict(num_days=1, periods=periods, shifts_coverage={k: [int(x) for x in v] for k, v in cov.items()},
                  required_resources=[[int(x) for x in req]], max_period_concurrency=top * max(len(cov), 1) * 2,
                  max_shift_concurrency=top, max_search_time=float(time_limit_s), num_search_workers=2)
    if method == "cover":
        model = MinRequiredResources(cost_dict=cost, **common)
    else:
        model = MinAbsDifference(**common)
    model.solver.parameters.num_workers = 2
    solution = model.solve()
    status = solution["status"]
    if status not in ("OPTIMAL", "FEASIBLE"):
        return {}, status, math.nan, model.solver.WallTime()
    heads = {r["shift"]: int(r["resources"]) for r in solution["resources_shifts"]}
    cost, bound = float(solution["cost"]), float(model.solver.BestObjectiveBound())
    return heads, status, (cost - bound) / cost if cost > 0 else 0.0, model.solver.WallTime()


def solve_day(req: np.ndarray, variants: list[Variant], periods: int, method: str = "cover",
              time_limit_s: float = 20.0) -> DayPlan:
    """Headcount per variant for one day's requirement (``req``: agents per interval, length ``periods``)."""
    req = np.asarray(req, dtype=np.int64)
    if not variants:
        return DayPlan({}, "NO_SHIFTS" if req.any() else "OPTIMAL", 0.0, 0.0, 0.0)
    cov = {k: np.asarray(v, dtype=np.int64) for k, v in coverage_matrix(variants, periods).items()}
    fixed = {v.name: v.template.min_headcount for v in variants}
    caps = {v.name: None if v.template.max_headcount is None else v.template.max_headcount - v.template.min_headcount
            for v in variants}
    cost = {v.name: v.paid_periods for v in variants}
    free = dict(cov)
    plan = DayPlan(dict(fixed), "OPTIMAL", 0.0, 0.0, 0.0)
    while True:
        placed = sum(cov[n] * plan.headcount[n] for n in cov)
        target = np.maximum(req - placed, 0)
        if method == "cover":
            target = _coverable(target, free, caps).astype(np.int64)
        if not target.any() or not free:
            break
        heads, status, gap, took = _pyworkforce_solve(method, target, free, {k: cost[k] for k in free}, time_limit_s)
        plan.solve_s += took
        plan.gap = max(plan.gap or 0.0, gap)
        if not heads:
            plan.status = status
            break
        over = [n for n, h in heads.items() if caps[n] is not None and h > caps[n]]
        if not over:
            for n, h in heads.items():
                plan.headcount[n] += h
            plan.status = status if plan.resolves == 0 else "FEASIBLE"
            break
        plan.resolves += 1
        for n in over:  # pin the variant at its cap and solve the rest again
            plan.headcount[n] += caps[n]
            free.pop(n)
        plan.notes.append(f"capped {', '.join(over)} at max_headcount and solved the rest again")
    plan.cost = float(sum(plan.headcount[n] * cost[n] for n in cov))
    return plan


def coverage_of(plan: dict[str, int], variants: list[Variant], periods: int) -> np.ndarray:
    cov = coverage_matrix(variants, periods) if variants else {}
    total = np.zeros(periods, dtype=np.int64)
    for name, row in cov.items():
        total += np.asarray(row, dtype=np.int64) * plan.get(name, 0)
    return total


def place_breaks(plan: dict[str, int], variants: list[Variant], periods: int, productive: np.ndarray,
                 time_limit_s: float = 10.0) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Break start per agent slot through pyworkforce's BreakScheduler; returns (breaks, on_break, notes).

    Variants with the same breaks are placed together, group by group; each group must keep the
    floor at ``productive`` given the groups already placed (the others counted as present).
    """
    cov = {k: np.asarray(v, dtype=np.int64) for k, v in coverage_matrix(variants, periods).items()} if variants else {}
    on_break = np.zeros(periods, dtype=np.int64)
    rows, notes = [], []
    groups: dict[tuple, list[Variant]] = {}
    for v in variants:
        if plan.get(v.name, 0) > 0 and v.breaks:
            groups.setdefault(v.breaks, []).append(v)
    total = coverage_of(plan, variants, periods)
    for breaks, members in groups.items():
        group_cov = sum(cov[v.name] * plan[v.name] for v in members)
        others_present = total - group_cov - on_break
        need = np.clip(np.asarray(productive, np.int64) - others_present, 0, group_cov)
        spec = []
        for label, dur in breaks:
            length = min(v.length_p for v in members)
            edge = max(1, (length - dur) // 4)
            spec.append({"name": label, "duration_periods": dur, "min_start_after": edge, "max_end_before": edge})
        for relax in range(0, 4):
            solver = BreakScheduler(num_days=1, periods=periods,
                                    shifts_coverage={v.name: [int(x) for x in cov[v.name]] for v in members},
                                    scheduled_resources={v.name: [plan[v.name]] for v in members},
                                    breaks=spec, min_coverage=[[int(x) for x in np.maximum(need - relax, 0)]],
                                    max_search_time=time_limit_s, num_search_workers=2)
            result = solver.solve()
            if result["status"] in ("OPTIMAL", "FEASIBLE"):
                break
        else:
            notes.append(f"breaks for {', '.join(v.name for v in members)} could not be placed "
                         f"({result['status']}); give those shifts breaks by hand")
            continue
        if relax:
            notes.append(f"breaks for {', '.join(v.name for v in members)} leave up to {relax} agent(s) "
                         "below the productive requirement; add headcount or move break windows")
        for b in result["break_schedule"]:
            on_break[b["start_period"]:b["end_period"]] += 1
            rows.append(b)
    return pd.DataFrame(rows), on_break, notes


def iso_week_start(week: str) -> dt.date:
    """``2026-W49`` -> the Monday of that ISO week."""
    try:
        year, wk = week.upper().split("-W")
        return dt.date.fromisocalendar(int(year), int(wk), 1)
    except ValueError:
        raise UserError(f"--week '{week}' is not an ISO week like 2026-W49") from None


def default_week(first_day: dt.date) -> dt.date:
    """The first Monday on or after ``first_day``."""
    return first_day + dt.timedelta(days=(7 - first_day.weekday()) % 7)


def _grid_index(ts: pd.Series, interval_min: int) -> np.ndarray:
    return ((ts.dt.hour * 60 + ts.dt.minute) // interval_min).to_numpy()


def schedule_week(req: pd.DataFrame, config: Config, week_start: dt.date, method: str | None = None,
                  time_limit_s: float | None = None, breaks: bool = True,
                  engine: str = "local") -> dict[str, pd.DataFrame]:
    """Schedule one week from a requirements frame (``queue, interval_start, agents, scheduled``).

    Returns frames ``shifts`` (headcount per queue, day and variant), ``coverage`` (per interval:
    required, productive, on_shift, on_break, over, under), ``breaks``, ``summary`` (per queue and
    day: solver status, time, paid agent-hours, the lower bound and shortfalls) and ``shortfalls``.
    Every queue and day is its own problem (:func:`schedule_day`); ``engine="dask"`` solves them as
    Dask tasks (:func:`~forecaster.core.engine.map_tasks`).
    """
    if not config.shifts:
        raise UserError("the config has no shift templates; add a 'shifts:' section (see configs/example.yaml)")
    method = method or config.scheduling.method
    time_limit_s = time_limit_s or config.scheduling.time_limit_s
    days = [week_start + dt.timedelta(days=i) for i in range(7)]
    r = req.copy()
    r["interval_start"] = pd.to_datetime(r["interval_start"])
    r = r[r["interval_start"].dt.date.isin(days)]
    by_day = {key: g for key, g in r.groupby([r["queue"], r["interval_start"].dt.date], sort=False)}
    empty = r.iloc[:0]
    tasks = [(queue, day, by_day.get((queue, day), empty)) for queue in config.queue_names for day in days]
    solved = map_tasks(partial(schedule_day, config=config, method=method, time_limit_s=time_limit_s,
                               breaks=breaks), tasks, engine)
    shifts = [row for part in solved for row in part["shifts"]]
    coverage = [part["coverage"] for part in solved]
    breaks_rows = [part["breaks"] for part in solved if part["breaks"] is not None]
    summary = [part["summary"] for part in solved]
    cov = pd.concat(coverage, ignore_index=True) if coverage else pd.DataFrame()
    out = {
        "shifts": pd.DataFrame(shifts, columns=["queue", "day", "shift", "start", "end", "paid_h", "headcount"]),
        "coverage": cov,
        "breaks": (pd.concat(breaks_rows, ignore_index=True) if breaks_rows else
                   pd.DataFrame(columns=["queue", "day", "shift", "slot", "break", "start", "end"])),
        "summary": pd.DataFrame(summary),
    }
    out["shortfalls"] = cov.loc[cov["under"] > 0, ["queue", "interval_start", "required_with_shrinkage", "scheduled_agents", "under"]] \
        .rename(columns={"under": "agents_missing"}).reset_index(drop=True) if len(cov) else pd.DataFrame()
    return out


def schedule_day(task: tuple[str, dt.date, pd.DataFrame], config: Config, method: str, time_limit_s: float,
                 breaks: bool = True) -> dict:
    """One queue's day (``task``: queue, day, its requirement rows): the shifts (rows), the coverage
    per interval, the breaks (a frame, or None) and the summary row."""
    queue, day, d = task
    step = config.interval_min
    periods = 24 * 60 // step
    hours = step / 60
    need = np.zeros(periods, np.int64)
    prod = np.zeros(periods, np.int64)
    idx = _grid_index(d["interval_start"], step)
    need[idx] = d["required_with_shrinkage"].to_numpy(np.int64)
    prod[idx] = d["required_agents"].to_numpy(np.int64)
    variants = shift_variants(config, queue, day.weekday())
    plan = solve_day(need, variants, periods, method, time_limit_s)
    on_shift = coverage_of(plan.headcount, variants, periods)
    on_break, notes, breaks_frame = np.zeros(periods, np.int64), list(plan.notes), None
    if breaks and any(plan.headcount.values()):
        brk, on_break, more = place_breaks(plan.headcount, variants, periods, prod)
        notes += more
        if len(brk):
            start = pd.Timestamp(day)
            breaks_frame = pd.DataFrame({
                "queue": queue, "day": day, "shift": brk["shift"], "slot": brk["slot"] + 1,
                "break": brk["break_name"],
                "start": start + pd.to_timedelta(brk["start_period"] * step, unit="min"),
                "end": start + pd.to_timedelta(brk["end_period"] * step, unit="min")})
    shifts = []
    for v in variants:
        if plan.headcount.get(v.name, 0):
            start = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=v.start_p * step)
            shifts.append({"queue": queue, "day": day, "shift": v.name, "start": start,
                           "end": start + dt.timedelta(minutes=v.length_p * step),
                           "paid_h": v.template.paid_h, "headcount": plan.headcount[v.name]})
    active = (need > 0) | (on_shift > 0)
    grid = pd.Timestamp(day) + pd.to_timedelta(np.arange(periods)[active] * step, unit="min")
    under = np.maximum(need - on_shift, 0)
    coverage = pd.DataFrame({
        "queue": queue, "interval_start": grid, "required_with_shrinkage": need[active], "required_agents": prod[active],
        "scheduled_agents": on_shift[active], "on_break": on_break[active],
        "over": np.maximum(on_shift - need, 0)[active], "under": under[active]})
    summary = {"queue": queue, "day": day, "status": plan.status, "solve_s": round(plan.solve_s, 3),
               "solver_gap": round(plan.gap, 4),
               "required_with_shrinkage_agent_h": round(need.sum() * hours, 2),
               "scheduled_agent_h": round(on_shift.sum() * hours, 2),
               "paid_agent_h": round(plan.cost * hours, 2),
               "short_intervals": int((under > 0).sum()), "short_agent_h": round(under.sum() * hours, 2),
               "notes": "; ".join(notes)}
    return {"shifts": shifts, "coverage": coverage, "breaks": breaks_frame, "summary": summary}


def plan_run(forecast: pd.DataFrame, config: Config, run_id: int, week: str | None = None,
             method: str | None = None, quantile: float | None = None, engine: str = "local") -> dict:
    """Schedule one week of run ``run_id``'s forecast: the plan and its summary (``meta``)."""

    quantile = quantile if quantile is not None else config.scheduling.quantile
    days = pd.to_datetime(forecast["interval_start"]).dt.date
    first, last = days.min(), days.max()
    start = iso_week_start(week) if week else default_week(first)
    if start > last or start + dt.timedelta(days=6) < first:
        raise UserError(f"week {start:%G-W%V} is outside run {run_id}'s forecast ({first} to {last}); "
                        f"pick a week in that range")
    req = staff_forecast(forecast[(days >= start) & (days <= start + dt.timedelta(days=6))], config, quantile)
    plan = schedule_week(req, config, start, method, engine=engine)
    s = plan["summary"]
    meta = {"week": f"{start:%G-W%V}", "week_start": str(start), "method": method or config.scheduling.method,
            "quantile": quantile, "statuses": s["status"].value_counts().to_dict(),
            "solve_s": round(float(s["solve_s"].sum()), 2),
            "required_with_shrinkage_agent_h": float(s["required_with_shrinkage_agent_h"].sum()), "scheduled_agent_h": float(s["scheduled_agent_h"].sum()),
            "paid_agent_h": float(s["paid_agent_h"].sum()), "short_agent_h": float(s["short_agent_h"].sum())}
    return {**plan, "meta": meta}
