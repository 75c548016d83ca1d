"""A named roster: who works which shift on which day, from a week's headcount plan.

pyworkforce's ``MinHoursRoster`` (CP-SAT) assigns named agents to the headcount per shift and
day that :mod:`forecaster.scheduling` chose, per queue: every shift gets at least its
headcount, an agent works at most one shift a day and never on a day off, everyone works at
least a minimum of hours and rests at most a number of days, and total rostered hours are as
low as possible.

The agents file (CSV, or YAML as a list) has one row per agent: ``name``, ``queue``,
``contracted_hours`` (per week) and optional ``days_off`` (weekdays separated by ``;``, e.g.
``sat;sun``). pyworkforce takes one minimum for all agents of a roster, so each queue's roster
uses its smallest contract as the minimum and the most rest days that contract allows (7 minus
the days it takes at the longest paid shift; never fewer than anyone's fixed days off). Agents
on larger contracts may then be rostered under their hours: the per-agent table says by how much.
Hours are passed to the solver in whole minutes (CP-SAT needs integers).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from pathlib import Path

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pyworkforce.rostering import MinHoursRoster

from forecaster.core.config import WEEKDAYS, Config, Weekday
from forecaster.core.errors import InputError, Problem

ROSTER_COLUMNS = ["queue", "agent", "day", "shift", "start", "end", "paid_h"]


class AgentRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    queue: str
    contracted_hours: float = Field(gt=0, le=60)
    days_off: list[Weekday] = []

    @field_validator("days_off", mode="before")
    @classmethod
    def _split(cls, v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return []
        if isinstance(v, str):
            return [d.strip().lower()[:3] for d in v.replace(",", ";").split(";") if d.strip()]
        return v


def read_agents(path: str | Path, config: Config) -> pd.DataFrame:
    """Read and check an agents file; raise InputError listing every problem (row and field)."""
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise InputError([Problem(name, None, None, "file not found; give the agents file (CSV or YAML)")])
    if path.suffix.lower() in (".yaml", ".yml"):
        records, first = yaml.safe_load(path.read_text(encoding="utf-8")) or [], 1
    else:
        records, first = pd.read_csv(path, dtype=str, keep_default_na=False).to_dict("records"), 2
    if not isinstance(records, list) or not records:
        raise InputError([Problem(name, None, None, "has no agents; add one row per agent (name, queue, "
                                  "contracted_hours, days_off)")])
    problems, rows, seen = [], [], {}
    for i, rec in enumerate(records):
        row = i + first
        clean = {k: (None if v == "" else v) for k, v in (rec or {}).items()} if isinstance(rec, dict) else {}
        try:
            a = AgentRow.model_validate({k: v for k, v in clean.items() if v is not None})
        except ValidationError as exc:
            for e in exc.errors():
                field = ".".join(str(p) for p in e["loc"][:1]) or None
                msg = ("required field is missing" if e["type"] == "missing" else
                       "unknown column; use name, queue, contracted_hours, days_off" if e["type"] == "extra_forbidden"
                       else e["msg"].removeprefix("Value error, ") + f", got {e.get('input')!r}")
                problems.append(Problem(name, row, field, msg))
            continue
        if a.queue not in config.queue_names:
            problems.append(Problem(name, row, "queue", f"unknown queue {a.queue!r}; known: {', '.join(config.queue_names)}"))
        if a.name in seen:
            problems.append(Problem(name, row, "name", f"{a.name!r} is also on row {seen[a.name]}; give each agent one row"))
        seen.setdefault(a.name, row)
        rows.append(a.model_dump())
    if problems:
        raise InputError(problems)
    return pd.DataFrame(rows)


def _solve(shifts: pd.DataFrame, agents: pd.DataFrame, week_start: dt.date, time_limit_s: float) -> dict:
    """One queue's roster through MinHoursRoster; ``shifts`` is that queue's plan (headcount > 0)."""

    names = list(agents["name"])
    variants = sorted(shifts["shift"].unique())
    minutes = {v: round(float(shifts.loc[shifts["shift"] == v, "paid_h"].iloc[0]) * 60) for v in variants}
    day_index = {week_start + dt.timedelta(days=d): d for d in range(7)}
    required = {v: [0] * 7 for v in variants}
    for r in shifts.itertuples():
        required[r.shift][day_index[r.day]] += int(r.headcount)
    notes = []
    off = {a.name: {WEEKDAYS.index(d) for d in a.days_off} for a in agents.itertuples()}
    for d in range(7):
        need = sum(required[v][d] for v in variants)
        free = sum(1 for n in names if d not in off[n])
        if need > free:
            day = week_start + dt.timedelta(days=d)
            notes.append(f"{day:%a %Y-%m-%d} needs {need} agents on shift but only {free} are not off; add agents "
                         "or lower the headcount")
    if notes:
        return {"status": "INFEASIBLE", "assignments": [], "notes": notes, "solve_s": 0.0, "min_hours": None}
    min_minutes = round(float(agents["contracted_hours"].min()) * 60)
    longest = max(minutes.values())
    max_rest = max(7 - math.ceil(min_minutes / longest), max(len(s) for s in off.values()))
    max_rest = min(max_rest, 6)
    banned = [{"resource": n, "shift": v, "day": d} for n in names for d in off[n] for v in variants]
    t0 = time.perf_counter()
    solution = MinHoursRoster(num_days=7, resources=names, shifts=variants, shifts_hours=[minutes[v] for v in variants],
                              min_working_hours=min_minutes, banned_shifts=banned, max_resting=max_rest,
                              required_resources=required, max_search_time=time_limit_s,
                              num_search_workers=2).solve()
    out = {"status": solution["status"], "assignments": solution.get("resource_shifts", []),
           "solve_s": round(time.perf_counter() - t0, 2), "min_hours": min_minutes / 60, "max_rest_days": max_rest,
           "notes": []}
    if solution["status"] not in ("OPTIMAL", "FEASIBLE"):
        out["notes"].append(f"no roster meets every rule (each agent at least {min_minutes / 60:g} h and at most "
                            f"{max_rest} days off, days off respected, every shift staffed); add agents or relax "
                            "the days off")
    return out


def roster_week(plan_shifts: pd.DataFrame, agents: pd.DataFrame, week_start: dt.date,
                time_limit_s: float = 30.0) -> dict[str, pd.DataFrame]:
    """Named roster for every queue in a week's plan (``shifts`` of :func:`scheduling.schedule_week`).

    Returns ``roster`` (queue, agent, day, shift, start, end, paid_h), ``agents`` (contracted
    against rostered hours and days per agent) and ``summary`` (solver status per queue)."""
    rosters, per_agent, summary = [], [], []
    plan = plan_shifts[plan_shifts["headcount"] > 0].assign(day=lambda f: pd.to_datetime(f["day"]).dt.date)
    for queue, shifts in plan.groupby("queue", sort=False):
        mine = agents[agents["queue"] == queue]
        if mine.empty:
            summary.append({"queue": queue, "status": "NO_AGENTS", "agents": 0, "solve_s": 0.0,
                            "notes": "the agents file has nobody for this queue"})
            continue
        res = _solve(shifts, mine.reset_index(drop=True), week_start, time_limit_s)
        first = shifts.drop_duplicates("shift").set_index("shift")            # a variant's times, any day
        offset = pd.to_datetime(first["start"]) - pd.to_datetime(first["day"])
        length = pd.to_datetime(first["end"]) - pd.to_datetime(first["start"])
        rows = []
        for a in res["assignments"]:
            day = week_start + dt.timedelta(days=int(a["day"]))
            start = pd.Timestamp(day) + offset[a["shift"]]
            rows.append({"queue": queue, "agent": a["resource"], "day": day, "shift": a["shift"], "start": start,
                         "end": start + length[a["shift"]], "paid_h": float(first.loc[a["shift"], "paid_h"])})
        roster = pd.DataFrame(rows, columns=ROSTER_COLUMNS)
        planned = shifts.groupby(["day", "shift"])["headcount"].sum()
        got = roster.groupby(["day", "shift"]).size()
        extra = int((got.reindex(got.index.union(planned.index), fill_value=0)
                     - planned.reindex(got.index.union(planned.index), fill_value=0)).clip(lower=0).sum())
        if extra:
            res["notes"].append(f"{extra} shift(s) above the plan's headcount, so that everyone reaches "
                                f"{res['min_hours']:g} h")
        rosters.append(roster)
        worked = roster.groupby("agent").agg(rostered_h=("paid_h", "sum"), days=("day", "nunique"))
        for a in mine.itertuples():
            h = float(worked["rostered_h"].get(a.name, 0.0))
            per_agent.append({"queue": queue, "agent": a.name, "contracted_h": a.contracted_hours, "rostered_h": h,
                              "days": int(worked["days"].get(a.name, 0)), "days_off": ";".join(a.days_off),
                              "vs_contract_h": round(h - a.contracted_hours, 2)})
        summary.append({"queue": queue, "status": res["status"], "agents": len(mine), "solve_s": res["solve_s"],
                        "notes": "; ".join(res["notes"])})
    return {"roster": pd.concat(rosters, ignore_index=True) if rosters else pd.DataFrame(columns=ROSTER_COLUMNS),
            "agents": pd.DataFrame(per_agent), "summary": pd.DataFrame(summary)}
