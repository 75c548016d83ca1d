"""What-if scenarios on top of a stored forecast run, with their staffing cost.

A scenario is a set of changes (:class:`Scenario`), applied to a copy of the base run's forecast
and config, never to the run itself:

* contacts: ``volume`` (+5 %), a campaign moved or dropped (the forecast re-predicted with the
  changed calendar by each queue's chosen model; the difference to the same prediction with the
  current calendar is added to the stored forecast, bands shifted by the same amount), and
  ``deflect`` (a share moved to self-service or a community);
* handling time: ``aht`` (+30 s or +10 %), and ``deflect_aht`` for the contacts that remain
  after deflection (they are the harder ones);
* staffing rules: another service target (``sl`` or ``asa``), Erlang A with a patience,
  shrinkage and an occupancy cap.

``queues`` and the ``start``/``end`` window limit every change of contacts and handling time;
``queues`` also limits the staffing-rule changes.

Both the base and the scenario go through the same steps (staff each interval, then measure),
so a scenario without changes equals the base exactly. Measured per queue and day:

* ``contacts``, ``required_agent_h`` (productive agents), ``required_with_shrinkage_agent_h`` (with
  shrinkage: what is paid), ``fte`` (scheduled hours over the config's ``fte_hours_week``,
  averaged over the days covered) and ``cost`` (scheduled hours at ``hourly_cost``);
* what happens **with today's staffing** if nobody re-staffs: the agents on shift in the run's
  schedule (productive after the scenario's shrinkage) where the run has one, else the agents
  the base run requires; ``service_level``, ``asa_s`` and ``abandon`` (Erlang A, for queues
  with a patience) weighted by contacts, ``overloaded_intervals`` (more work offered than the
  agents can handle: no steady state, so left out of the ASA average and counted instead), and
  ``spare_agent_h`` (productive agents above the requirement, for outbound work). E-mail queues
  have no queueing metrics.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from forecaster.core.config import Config
from forecaster.core.errors import UserError
from forecaster.demand.context import make_context
from forecaster.demand.selection import predict
from forecaster.planning.capacity import productive_agents
from forecaster.staffing.erlang import erlang_a_metrics
from forecaster.staffing.requirements import metrics_at, queue_settings, staff_forecast
from forecaster.store.scenarios import Scenarios

_CHANGE = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*(s|%)\s*$")


_PCT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


METRICS = ["contacts", "required_agent_h", "required_with_shrinkage_agent_h", "fte", "service_level", "asa_s", "abandon",
           "overloaded_intervals", "spare_agent_h", "cost"]


# -- parsing options ----------------------------------------------------------------------------
def parse_change(text: str, option: str, seconds: bool = True) -> tuple[str, float]:
    """``+30s`` -> ("s", 30.0); ``+10%`` -> ("%", 10.0). Seconds only where ``seconds``."""
    m = _CHANGE.match(str(text))
    if not m or (m.group(2) == "s" and not seconds):
        like = "+30s or +10%" if seconds else "+10% or -5%"
        raise UserError(f"{option} {text}: write the change like {like}")
    value = float(m.group(1))
    if m.group(2) == "%" and value <= -100:
        raise UserError(f"{option} {text}: a change of -100% or less leaves nothing; use a value above -100%")
    return m.group(2), value


def parse_share(text: str, option: str) -> float:
    """``15%`` -> 0.15 (from 0 up to, not including, 100 %)."""
    m = _PCT.match(str(text))
    if not m or float(m.group(1)) >= 100:
        raise UserError(f"{option} {text}: give a share from 0% to below 100%, like 15%")
    return float(m.group(1)) / 100


def parse_seconds(text: str, option: str) -> float:
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*s?\s*$", str(text))
    if not m or float(m.group(1)) <= 0:
        raise UserError(f"{option} {text}: give a number of seconds above 0, like 20s")
    return float(m.group(1))


def parse_moves(items: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in items:
        cid, sep, day = item.partition("=")
        try:
            dt.date.fromisoformat(day.strip())
        except ValueError:
            raise UserError(f"--campaign-move {item}: write CAMPAIGN_ID=YYYY-MM-DD (the new start date)") from None
        if not sep or not cid.strip():
            raise UserError(f"--campaign-move {item}: write CAMPAIGN_ID=YYYY-MM-DD (the new start date)")
        out[cid.strip()] = day.strip()
    return out


class Scenario(BaseModel):
    """A scenario's changes, as stored with it (so it can be reproduced)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    queues: list[str] | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None                        # exclusive
    volume: tuple[str, float] | None = None
    aht: tuple[str, float] | None = None
    deflect: float | None = Field(None, ge=0, lt=1)
    deflect_aht: tuple[str, float] | None = None
    sl: tuple[float, float] | None = None                 # fraction, answer_s
    asa_s: float | None = None
    model: str | None = None                              # erlang_c | erlang_a
    patience_s: float | None = None
    shrinkage: float | None = Field(None, ge=0, lt=1)
    max_occupancy: float | None = Field(None, gt=0, le=1)
    campaign_move: dict[str, str] = {}
    campaign_drop: list[str] = []
    quantile: float | None = None

    @property
    def changes_calendar(self) -> bool:
        return bool(self.campaign_move or self.campaign_drop)


def check(spec: Scenario, config: Config) -> None:
    """Raise UserError for options that cannot apply to this config."""
    unknown = sorted(set(spec.queues or []) - set(config.queue_names))
    if unknown:
        raise UserError(f"--queue {unknown[0]}: no such queue; the config has {', '.join(config.queue_names)}")
    if spec.sl and spec.asa_s:
        raise UserError("--sl and --asa are two service targets; give one")
    if spec.deflect_aht and spec.deflect is None:
        raise UserError("--deflect-aht is the handling time of the contacts left after --deflect; give --deflect too")
    if spec.start and spec.end and spec.end <= spec.start:
        raise UserError(f"--to {spec.end:%Y-%m-%d} is not after --from {spec.start:%Y-%m-%d}")
    if spec.model == "erlang_a" and spec.patience_s is None:
        lacking = [q.name for q in config.queues if q.channel != "email" and q.patience_s is None
                   and (spec.queues is None or q.name in spec.queues)]
        if lacking:
            raise UserError(f"--model erlang_a needs a patience: give --patience 90s or set patience_s for "
                            f"queue(s) {', '.join(lacking)} in the config")


# -- applying changes ---------------------------------------------------------------------------
def _apply_change(values: np.ndarray, change: tuple[str, float] | None, mask: np.ndarray) -> np.ndarray:
    if change is None:
        return values
    unit, amount = change
    changed = values + amount if unit == "s" else values * (1 + amount / 100)
    return np.where(mask, np.maximum(changed, 0.0), values)


def scenario_config(config: Config, spec: Scenario) -> Config:
    """The config with the scenario's staffing rules for its queues (e-mail keeps its deadline)."""
    queues = []
    for q in config.queues:
        if spec.queues is not None and q.name not in spec.queues:
            queues.append(q)
            continue
        update: dict = {}
        if q.channel != "email":
            if spec.sl:
                update.update(sl_pct=spec.sl[0] * 100, answer_s=spec.sl[1], asa_s=None)
            if spec.asa_s:
                update.update(asa_s=spec.asa_s, sl_pct=None, answer_s=None)
            if spec.patience_s:
                update["patience_s"] = spec.patience_s
        if spec.shrinkage is not None:
            update["shrinkage"] = spec.shrinkage
        if spec.max_occupancy is not None:
            update["max_occupancy"] = spec.max_occupancy
        queues.append(q.model_validate({**q.model_dump(), **update}) if update else q)
    return config.model_copy(update={"queues": queues})


def apply_forecast(forecast: pd.DataFrame, spec: Scenario, delta: pd.Series | None = None) -> pd.DataFrame:
    """The forecast with the scenario's contacts and handling time (``delta``: campaign change)."""
    f = forecast.copy()
    mask = np.ones(len(f), bool)
    if spec.queues is not None:
        mask &= f["queue"].isin(spec.queues).to_numpy()
    ts = pd.to_datetime(f["interval_start"])
    if spec.start is not None:
        mask &= (ts >= spec.start).to_numpy()
    if spec.end is not None:
        mask &= (ts < spec.end).to_numpy()
    bands = ["forecast", "lo_80", "hi_80", "lo_95", "hi_95"]
    if delta is not None:
        d = delta.reindex(pd.MultiIndex.from_arrays([f["queue"], ts])).fillna(0.0).to_numpy()
        for col in bands:
            f[col] = np.maximum(f[col].to_numpy(float) + d, 0.0)
    factor = np.ones(len(f))
    if spec.volume is not None:
        factor = np.where(mask, 1 + spec.volume[1] / 100, 1.0)
    if spec.deflect is not None:
        factor = factor * np.where(mask, 1 - spec.deflect, 1.0)
    if spec.volume is not None or spec.deflect is not None:
        for col in bands:
            f[col] = f[col].to_numpy(float) * factor
    f["aht_s"] = _apply_change(f["aht_s"].to_numpy(float), spec.aht, mask)
    f["aht_s"] = _apply_change(f["aht_s"].to_numpy(float), spec.deflect_aht, mask)
    return f


# -- measuring ----------------------------------------------------------------------------------
def staffing_today(base_req: pd.DataFrame, coverage: pd.DataFrame | None) -> pd.DataFrame:
    """Agents on shift per interval today: the schedule where the run has one, else the base plan.

    As in spare capacity, shrinkage (which includes breaks) turns agents on shift into productive
    agents, so breaks are not subtracted twice."""
    on = base_req[["queue", "interval_start", "required_with_shrinkage"]].rename(columns={"required_with_shrinkage": "scheduled_agents"})
    on["source"] = "base requirement"
    if coverage is not None and len(coverage):
        sched = coverage[["queue", "interval_start", "scheduled_agents"]].rename(columns={"scheduled_agents": "working"})
        on = on.merge(sched, on=["queue", "interval_start"], how="left")
        has = on["working"].notna()
        on.loc[has, "scheduled_agents"] = on.loc[has, "working"].astype(int)
        on.loc[has, "source"] = "schedule"
        on = on.drop(columns="working")
    return on


def measure(fc: pd.DataFrame, config: Config, model: str, quantile: float | None,
            on_shift: pd.DataFrame) -> pd.DataFrame:
    """Per interval: required agents, and service with the agents on shift today."""
    req = staff_forecast(fc, config, quantile, model)
    settings = queue_settings(config)[["queue", "channel", "sl", "answer_s", "asa_target_s", "patience_s",
                                       "shrinkage", "max_occupancy", "concurrency"]]
    f = req.merge(settings, on="queue", how="left").merge(on_shift, on=["queue", "interval_start"], how="left")
    f["interval_min"] = config.interval_min
    f["productive"] = productive_agents(f["scheduled_agents"].fillna(0).to_numpy(np.int64), f["shrinkage"].to_numpy(float))
    queueing = (f["channel"] != "email").to_numpy()
    out = f[["queue", "interval_start", "contacts", "aht_s", "required_agents", "required_with_shrinkage", "productive"]].copy()
    out["interval_min"] = config.interval_min
    for col in ("service_level", "asa_s", "abandon"):
        out[col] = np.nan
    if queueing.any():
        q = f[queueing]
        today = metrics_at(q.drop(columns=["required_agents", "required_with_shrinkage", "service_level", "asa_s", "p_wait",
                                           "occupancy", "abandon"]).assign(model="erlang_c"),
                           q["productive"].to_numpy())
        out.loc[queueing, "service_level"] = today["service_level"].to_numpy()
        out.loc[queueing, "asa_s"] = today["asa_s"].to_numpy()
        patient = q["patience_s"].notna().to_numpy()
        if patient.any():
            p = q[patient]
            rows = np.flatnonzero(queueing)[patient]
            a = erlang_a_metrics(p["productive"].to_numpy(float) * p["concurrency"].to_numpy(float),
                                 p["contacts"].to_numpy(float), p["aht_s"].to_numpy(float),
                                 p["interval_min"].to_numpy(float), p["answer_s"].fillna(0).to_numpy(float),
                                 p["patience_s"].to_numpy(float))
            out.loc[rows, "abandon"] = a["abandon"]
            if model == "erlang_a":   # the service of those who do not abandon, as Erlang A sees it
                out.loc[rows, "service_level"] = np.where(p["sl"].notna(), a["service_level"], np.nan)
                out.loc[rows, "asa_s"] = a["asa_s"]
    asa = out["asa_s"].to_numpy(float)
    out["overloaded"] = queueing & (out["contacts"].to_numpy(float) > 0) & np.isinf(asa)
    out["asa_s"] = np.where(np.isinf(asa), np.nan, asa)     # no steady state: counted, not averaged
    return out


def summarise(per_interval: pd.DataFrame, config: Config, by: list[str]) -> pd.DataFrame:
    """Metrics per group (``by``: e.g. ``["queue", "day"]``, ``["queue"]`` or ``[]`` for the total)."""
    hours = config.interval_min / 60
    f = per_interval.assign(day=pd.to_datetime(per_interval["interval_start"]).dt.date, all="total")
    f["required_agent_h"] = f["required_agents"] * hours
    f["required_with_shrinkage_agent_h"] = f["required_with_shrinkage"] * hours
    f["spare_agent_h"] = np.maximum(f["productive"] - f["required_agents"], 0) * hours
    for col in ("service_level", "asa_s", "abandon"):
        ok = f[col].notna() & (f["contacts"] > 0)
        f[f"w_{col}"] = np.where(ok, f[col].fillna(0) * f["contacts"], 0.0)
        f[f"n_{col}"] = np.where(ok, f["contacts"], 0.0)
    keys = by or ["all"]
    g = f.groupby(keys, sort=True)
    out = g.agg(contacts=("contacts", "sum"), required_agent_h=("required_agent_h", "sum"),
                required_with_shrinkage_agent_h=("required_with_shrinkage_agent_h", "sum"), spare_agent_h=("spare_agent_h", "sum"),
                overloaded_intervals=("overloaded", "sum"),
                days=("day", "nunique"))
    for col in ("service_level", "asa_s", "abandon"):
        w, n = g[f"w_{col}"].sum(), g[f"n_{col}"].sum()
        out[col] = (w / n).where(n > 0)
    out["fte"] = out["required_with_shrinkage_agent_h"] / (config.scheduling.fte_hours_week * out["days"] / 7)
    out["cost"] = out["required_with_shrinkage_agent_h"] * config.scheduling.hourly_cost
    out = out.reset_index()
    if not by:
        out = out.drop(columns="all")
    return out[[*by, *METRICS]]


def compare(base: pd.DataFrame, scen: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Base, scenario and delta side by side: ``<metric>_base``, ``<metric>``, ``<metric>_delta``."""
    merged = base.merge(scen, on=by, how="outer", suffixes=("_base", "")) if by else \
        base.add_suffix("_base").join(scen)
    for m in METRICS:
        merged[f"{m}_delta"] = merged[m] - merged[f"{m}_base"]
    return merged


def evaluate(forecast: pd.DataFrame, config: Config, spec: Scenario, coverage: pd.DataFrame | None = None,
             delta: pd.Series | None = None) -> dict[str, pd.DataFrame]:
    """The scenario against the base: per interval, per queue and day, per queue, and in total."""
    check(spec, config)
    base_req = staff_forecast(forecast, config, spec.quantile)
    on_shift = staffing_today(base_req, coverage)
    base = measure(forecast, config, "erlang_c", spec.quantile, on_shift)
    scen_config = scenario_config(config, spec)
    scen = measure(apply_forecast(forecast, spec, delta), scen_config, spec.model or "erlang_c", spec.quantile,
                   on_shift)
    out = {"intervals": base[["queue", "interval_start", "contacts", "required_agents"]].rename(
        columns={"contacts": "contacts_base", "required_agents": "required_agents_base"}).join(scen.drop(columns=["queue", "interval_start"]))}
    out["intervals"]["staffed_from"] = on_shift["source"].to_numpy()
    for name, by in (("days", ["queue", "day"]), ("queues", ["queue"]), ("total", [])):
        out[name] = compare(summarise(base, config, by), summarise(scen, scen_config, by), by)
    return out


# -- campaign changes ---------------------------------------------------------------------------
def changed_calendar(calendar: pd.DataFrame, spec: Scenario) -> pd.DataFrame:
    """The calendar with the scenario's campaigns moved (to a new start, same length) or dropped."""
    known = set(calendar["campaign_id"])
    for cid in [*spec.campaign_move, *spec.campaign_drop]:
        if cid not in known:
            raise UserError(f"campaign {cid!r} is not in the current calendar; 'forecaster campaigns list' shows "
                            "the campaigns")
    cal = calendar[~calendar["campaign_id"].isin(spec.campaign_drop)].copy()
    for cid, day in spec.campaign_move.items():
        row = cal["campaign_id"] == cid
        shift = pd.Timestamp(day) - cal.loc[row, "start_ts"].dt.normalize()
        cal.loc[row, "start_ts"] = cal.loc[row, "start_ts"] + shift
        cal.loc[row, "end_ts"] = cal.loc[row, "end_ts"] + shift
    return cal


def campaign_delta(hist: pd.DataFrame, calendar: pd.DataFrame, forecast: pd.DataFrame, run_info: dict,
                   config: Config, as_of: dt.date, spec: Scenario) -> tuple[pd.Series, list[str]]:
    """Extra contacts per (queue, interval_start) from the calendar change, by each queue's chosen
    model with the run's learned carry-over (every model carries the campaign layer). Returns the
    change and notes for queues where the run learned no carry-over."""

    moved = changed_calendar(calendar, spec)
    hist = hist[hist["ds"] < pd.Timestamp(as_of) + pd.Timedelta(days=1)]
    if hist.empty:
        raise UserError(f"the store holds no actuals up to {as_of}, the run's as-of; a campaign change needs them")
    shapes = {c: (int(s["lag_days"]), float(s["decay"]), int(s.get("ramp_days", 0)))
              for c, s in run_info.get("adstock", {}).items()}
    end = pd.to_datetime(forecast["interval_start"]).max().date() + dt.timedelta(days=7)
    start = hist["ds"].min().date()
    grid = forecast[["queue", "interval_start"]].rename(columns={"interval_start": "ds"})
    grid["ds"] = pd.to_datetime(grid["ds"])
    for cid, day in spec.campaign_move.items():
        old = calendar.loc[calendar["campaign_id"] == cid, "start_ts"].iloc[0]
        for c in (old, pd.Timestamp(day)):
            if c.date() > end or c.date() < start:
                raise UserError(f"--campaign-move {cid}={day}: the campaign must start between {start} and {end} "
                                "(history and horizon of the run)")
    notes, parts = [], []
    models = {q: run_info.get("queues", {}).get(q, {}).get("model") for q in grid["queue"].unique()}
    for model in sorted({m for m in models.values() if m}):
        queues = [q for q, m in models.items() if m == model]
        g = grid[grid["queue"].isin(queues)].reset_index(drop=True)
        if not shapes:
            notes += [f"queue {q}: the run learned no campaign carry-over (no campaign before its backtest); the "
                      "campaign change leaves it unchanged" for q in queues]
            continue
        h = hist[hist["queue"].isin(queues)]
        before, after = make_context(config, calendar, start, end), make_context(config, moved, start, end)
        before.shapes = after.shapes = shapes
        diff = predict(model, h, g, after) - predict(model, h, g, before)
        parts.append(pd.Series(diff, index=pd.MultiIndex.from_arrays([g["queue"], g["ds"]])))
    delta = pd.concat(parts) if parts else pd.Series(dtype=float)
    return delta, notes


def stored_comparison(store, names: list[str]) -> pd.DataFrame:
    """Totals of stored scenarios side by side with their base: one row per scenario."""

    sc = Scenarios(store)
    rows = []
    for name in names:
        found = sc.newest(name)
        if found is None:
            raise UserError(f"no stored scenario named {name!r}; 'forecaster scenario list' shows them")
        days = sc.days(found["scenario_id"])
        for variant in ("base", "scenario"):
            part = days[days["variant"] == variant]
            if variant == "base" and any(r["name"] == f"base of run {found['run_id']}" for r in rows):
                continue
            rows.append({"name": name if variant == "scenario" else f"base of run {found['run_id']}",
                         **_totals(part)})
    return pd.DataFrame(rows)


def _totals(days: pd.DataFrame) -> dict:
    """Totals of daily rows: sums, and contact-weighted service (as :func:`summarise` does)."""
    out = {c: float(days[c].sum()) for c in ("contacts", "required_agent_h", "required_with_shrinkage_agent_h",
                                              "spare_agent_h", "cost")}
    out["overloaded_intervals"] = int(days["overloaded_intervals"].sum())
    n_days = days["day"].nunique()
    out["fte"] = float(days["fte"].sum() / max(n_days, 1))
    for col in ("service_level", "asa_s", "abandon"):
        ok = days[col].notna() & (days["contacts"] > 0)
        w = days.loc[ok, "contacts"]
        out[col] = float((days.loc[ok, col] * w).sum() / w.sum()) if w.sum() > 0 else float("nan")
    return out


def table(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """A comparison (from :func:`compare`) for people: base -> scenario, and the change."""
    def pct(v):
        return "-" if pd.isna(v) else f"{v * 100:.1f}%"

    def num(v, digits=0):
        return "-" if pd.isna(v) else f"{v:,.{digits}f}"

    def signed(v, digits=0):
        return "-" if pd.isna(v) else f"{v:+,.{digits}f}"

    rows = []
    for r in frame.to_dict("records"):
        rows.append({**{k: r[k] for k in by},
                     "contacts": f"{num(r['contacts_base'])} -> {num(r['contacts'])}",
                     "required agent-h": f"{num(r['required_agent_h_base'])} -> {num(r['required_agent_h'])} "
                                         f"({signed(r['required_agent_h_delta'])})",
                     "FTE": f"{num(r['fte_base'], 1)} -> {num(r['fte'], 1)}",
                     "SL today": f"{pct(r['service_level_base'])} -> {pct(r['service_level'])}",
                     "ASA today": "-" if pd.isna(r["asa_s"]) and pd.isna(r["asa_s_base"])
                     else f"{num(r['asa_s_base'])} -> {num(r['asa_s'])} s",
                     "abandon today": f"{pct(r['abandon_base'])} -> {pct(r['abandon'])}",
                     "overloaded": f"{int(r['overloaded_intervals_base'])} -> {int(r['overloaded_intervals'])}",
                     "spare agent-h": f"{num(r['spare_agent_h_base'])} -> {num(r['spare_agent_h'])}",
                     "cost delta": signed(r["cost_delta"])})
    return pd.DataFrame(rows)
