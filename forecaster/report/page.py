"""The planner report: one self-contained HTML page for the week ahead.

Charts are drawn with matplotlib and embedded as inline SVG (text kept as text), so the file
needs no network, no CDN and no script. Sections, each an ``<section id=...>``:

* ``forecast``: per queue, daily contacts: the last weeks' actuals, the forecast with its 80 %
  and 95 % bands (calibrated on daily totals' backtest errors), campaign flights shaded,
  public holidays marked;
* ``accuracy``: each model's backtest WAPE per queue next to the two baselines;
* ``impact``: extra contacts per campaign with 80 % intervals (recent past and planned), and
  the learned response per channel;
* ``staffing``: required against scheduled agents per interval in the scheduled week;
* ``capacity``: spare agents as a heat map (day x time of day) and the windows;
* ``scenarios``: stored what-ifs on this run;
* ``warnings``: model fallbacks, run warnings, unexplained days, short-notice campaigns and
  rejected input files.
"""

from __future__ import annotations

import datetime as dt
import html
import json

import pandas as pd

from forecaster.campaigns.calendar import current
from forecaster.campaigns.effects import interval_totals
from forecaster.core.config import Config
from forecaster.core.errors import UserError
from forecaster.core.grid import by_queue
from forecaster.core.site_calendar import public_holidays
from forecaster.report.charts import (
    accuracy_chart,
    capacity_heatmap,
    forecast_chart,
    impact_chart,
    response_chart,
    staffing_chart,
)
from forecaster.store.runs import Runs
from forecaster.store.scenarios import Scenarios

PAST_WEEKS = 4


# -- gathering ----------------------------------------------------------------------------------
def gather(store, config: Config, run_id: int | None = None) -> dict:
    """Everything the page shows, read from the store (the run defaults to the published plan)."""

    runs = Runs(store)
    run_id, run = runs.forecast_run(run_id)
    info = json.loads(run["info"]) if isinstance(run["info"], str) else (run["info"] or {})
    forecast = runs.forecast(run_id)
    if forecast.empty:
        raise UserError(f"run {run_id} holds no forecast; choose a forecast or nightly run ('forecaster runs')")
    as_of = pd.Timestamp(run["as_of"]).date()
    first = as_of - dt.timedelta(weeks=PAST_WEEKS) + dt.timedelta(days=1)
    actuals = store.actuals(start=dt.datetime.combine(first, dt.time()),
                            end=pd.Timestamp(forecast["interval_start"].max()).to_pydatetime() + dt.timedelta(days=1))
    scen = Scenarios(store).list()
    intraday_id = runs.latest_intraday(run_id)
    intraday = runs.get(intraday_id) if intraday_id else None
    return {"intraday": intraday,"run_id": run_id, "run": run, "info": info, "as_of": as_of, "forecast": forecast, "actuals": actuals,
            "requirements": runs.requirements(run_id, "mean"), "schedule": runs.schedule(run_id),
            "capacity": runs.capacity(run_id), "impact": runs.impact(run_id),
            "calendar": current(store, include_withdrawn=False),
            "scenarios": scen[scen["run_id"] == run_id] if len(scen) else scen}


# -- the page -----------------------------------------------------------------------------------
def _table(frame: pd.DataFrame, max_rows: int = 60) -> str:
    if frame is None or frame.empty:
        return "<p class=empty>Nothing to show.</p>"
    shown = frame.head(max_rows)
    more = f"<p class=note>{len(frame) - max_rows} more rows in the run's files.</p>" if len(frame) > max_rows else ""
    return shown.to_html(index=False, border=0, classes="data", na_rep="-", float_format=lambda v: f"{v:,.2f}") + more


def _kinds(impact: dict) -> str:
    """The learned response per queue, channel and kind, and how marketing's estimates have fared."""
    kinds = pd.DataFrame(impact.get("kinds", []))
    if kinds.empty:
        return "<p class=empty>No past campaign measured yet.</p>"
    kinds = kinds.assign(kind=kinds["kind"].replace("", "(none given)"))
    shown = kinds.rename(columns={"per_1000": "per 1,000 reached", "lo_80": "new campaign: 80% from",
                                  "hi_80": "to", "channel_per_1000": "channel's per 1,000",
                                  "with_estimate": "with marketing's estimate", "marketing_share": "estimate's share",
                                  "marketing_dominated": "estimate dominated"})
    m = impact.get("marketing") or {}
    note = ""
    if m.get("campaigns"):
        note = (f"<p class=note>Marketing's estimates against what {m['campaigns']} past campaign(s) measured: "
                f"{m['bias']:.2f} x on average (1 = right), off by about {m['cv']:.0%} on one campaign. "
                "Planned campaigns' estimates are corrected by this record.</p>")
    return _table(shown.round(2)) + note + ("<p class=note>Per kind: a new campaign of the kind gets the kind's "
                                           "response, moved toward the channel's when few campaigns of it were "
                                           "measured; campaigns without a kind each count as a kind of their own.</p>")


def warnings_list(data: dict, config: Config) -> list[str]:
    info, as_of = data["info"], data["as_of"]
    out = [f"Model fallback, queue {f['queue']}: {f['model']} failed ({f['reason']})" for f in info.get("fallbacks", [])]
    out += [f"Run warning: {w}" for w in info.get("warnings", [])]
    for r in info.get("intake", {}).get("rejected", []):
        out.append(f"Rejected input file {r['file']}: {r['error']} (moved to {r['moved_to']})")
    for s in info.get("impact", {}).get("unexplained", []):
        out.append(f"Unexplained day: {s['queue']} on {s['day']}: {s['actual']:,.0f} contacts against about "
                   f"{s['expected']:,.0f} expected (95 % bound {s['upper_95']:,.0f}), with no campaign or holiday behind it")
    cal = data["calendar"]
    if len(cal):
        submitted = pd.to_datetime(cal["submitted_at"]).dt.date if "submitted_at" in cal else None
        for i, c in enumerate(cal.itertuples()):
            lead = (c.start_ts.date() - (submitted.iloc[i] if submitted is not None else as_of)).days
            # a submission after the start is a record made afterwards (a run replayed for an earlier
            # day), not short notice: as the calendar's own check, only leads of 0 and more
            if c.start_ts.date() > as_of and 0 <= lead < config.campaigns.freeze_days:
                out.append(f"Short-notice campaign {c.campaign_id} ({c.name}): starts {c.start_ts:%Y-%m-%d}, "
                           f"announced {lead} day(s) ahead (freeze window {config.campaigns.freeze_days} days)")
    return out


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#1f3b5c;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;font-size:13px;opacity:.9}nav{padding:8px 24px;background:#e8eef5;font-size:13px}
nav a{margin-right:14px;color:#1f3b5c}main{padding:0 24px 40px;max-width:1100px}
section{background:#fff;border:1px solid #dde3ea;border-radius:6px;margin:18px 0;padding:12px 18px}
h2{font-size:17px;margin:6px 0 10px}h3{font-size:14px;margin:14px 0 4px}svg{max-width:100%;height:auto}
table.data{border-collapse:collapse;font-size:12px;margin:6px 0}table.data td,table.data th{padding:3px 8px;
border-bottom:1px solid #eee;text-align:right}table.data th{background:#f1f4f8}
table.data td:first-child,table.data th:first-child{text-align:left}.note,.empty{color:#666;font-size:12px}
ul.warnings li{margin:3px 0;font-size:13px}.kpi{display:inline-block;margin:4px 18px 4px 0;font-size:13px}
.kpi b{display:block;font-size:18px}
"""


def render(data: dict, config: Config) -> str:
    """The page as one HTML string."""

    info, fc = data["info"], data["forecast"]
    days = pd.to_datetime(fc["interval_start"])
    start = min(days.min().date(), data["as_of"]) - dt.timedelta(weeks=PAST_WEEKS)
    hols = sorted(public_holidays(config.holidays, start, days.max().date()))
    esc = html.escape
    parts = []

    def section(sid: str, title: str, body: str) -> None:
        parts.append(f'<section id="{sid}"><h2>{esc(title)}</h2>{body}</section>')

    week = fc[days < days.min().normalize() + pd.Timedelta(days=7)]
    req = data["requirements"]
    sched = info.get("schedule", {})
    cap = data["capacity"]["windows"]
    kpis = [("contacts next 7 days", f"{week['forecast'].sum():,.0f}"),
            ("required agent-hours next 7 days", f"{(req[pd.to_datetime(req['interval_start']) < days.min().normalize() + pd.Timedelta(days=7)]['required_agents'].sum() * config.interval_min / 60):,.0f}" if len(req) else "-"),
            ("scheduled week", sched.get("week", "-")),
            ("spare agent-hours for outbound", f"{cap['spare_agent_hours'].sum():,.0f}" if len(cap) else "0")]
    summary = "".join(f'<span class="kpi"><b>{esc(v)}</b>{esc(k)}</span>' for k, v in kpis)

    q_info = info.get("queues", {})
    act, no_actuals = by_queue(data["actuals"]), data["actuals"].iloc[:0]
    body = summary + "".join(f"<h3>{esc(q)}</h3>" + forecast_chart(q, f, act.get(q, no_actuals), data["calendar"],
                                                                   hols, q_info.get(q, {}), days.min().normalize())
                             for q, f in by_queue(fc).items())
    section("forecast", "Forecast against actuals", body +
            "<p class=note>Daily totals. Bands: calibrated on the backtest's errors of daily totals and how the "
            "earlier runs' forecasts did. Shaded: "
            "campaign flights; dotted red lines: public holidays.</p>")
    acc = pd.DataFrame([{"queue": q, "chosen model": v.get("model"), **{f"WAPE {m}": w for m, w in v.get("wape", {}).items()}}
                        for q, v in q_info.items()])
    section("accuracy", "Backtest accuracy against the baselines",
            accuracy_chart(q_info) + _table(acc) +
            "<p class=note>snaive_week and mean4 are the baselines (same interval last week; mean of the last 4 "
            "same weekdays).</p>")
    imp = data["impact"]
    camp = _campaign_totals(imp, data["calendar"], data["as_of"])
    curves = pd.DataFrame(info.get("impact", {}).get("curves", []))
    section("impact", "Campaign impact",
            impact_chart(camp) + "<h3>Response per channel</h3>" + response_chart(curves) + _table(camp.round(1)) +
            "<h3>Response per kind</h3>" + _kinds(info.get("impact", {}))
            if "impact" in info or len(imp) else
            f"<p class=empty>Run #{data['run_id']} measured no campaign impact: the nightly job does, a "
            "<code>forecast</code> run does not. <code>forecaster impact</code> shows it on the latest actuals.</p>")
    coverage = data["schedule"]["coverage"]
    section("staffing", f"Required against scheduled agents ({sched.get('week', 'no schedule')})",
            staffing_chart(coverage, config.interval_min) + _table(data["schedule"]["summary"]))
    section("capacity", "Spare capacity for outbound work",
            capacity_heatmap(data["capacity"]["intervals"]) + _table(cap.round(2)))
    if data.get("intraday"):
        section("intraday", "Intraday update", _intraday(data["intraday"]))
    scen = data["scenarios"]
    section("scenarios", "What-if scenarios on this run", _table(scen.drop(columns=["run_id"], errors="ignore")))
    warns = warnings_list(data, config)
    section("warnings", f"Warnings ({len(warns)})",
            "<ul class=warnings>" + "".join(f"<li>{esc(w)}</li>" for w in warns) + "</ul>" if warns
            else "<p class=empty>No warnings.</p>")
    nav = "".join(f'<a href="#{s}">{t}</a>' for s, t in (
        ("forecast", "Forecast"), ("accuracy", "Accuracy"), ("impact", "Campaign impact"), ("staffing", "Staffing"),
        ("capacity", "Spare capacity"), *([("intraday", "Intraday")] if data.get("intraday") else []),
        ("scenarios", "Scenarios"), ("warnings", "Warnings")))
    run = data["run"]
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in info.get("steps_s", {}).items())
    standing = "published" if Runs.frozen(run) else "<strong>draft</strong>, not the published plan"
    head = (f"<header><h1>{esc(config.site)}: the week ahead</h1><p>Run #{data['run_id']} ({esc(run['kind'])}, "
            f"{esc(run['status'])}, {standing}), actuals up to {data['as_of']}, forecast {days.min():%Y-%m-%d} to "
            f"{days.max():%Y-%m-%d}; generated {dt.datetime.now():%Y-%m-%d %H:%M}"
            + (f"; steps: {esc(steps)}" if steps else "") + "</p></header>")
    return ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8><meta name=viewport "
            "content='width=device-width,initial-scale=1'>"
            f"<title>{esc(config.site)}: forecast report, run {data['run_id']}</title><style>{CSS}</style></head>"
            f"<body>{head}<nav>{nav}</nav><main>{''.join(parts)}</main></body></html>")


def _intraday(run: dict) -> str:
    """The newest intraday run on this plan: per queue the day so far and the rest, and the actions."""
    info = (json.loads(run["info"]) if isinstance(run["info"], str) else (run["info"] or {})).get("intraday", {})
    queues = pd.DataFrame(info.get("queues", []))
    if len(queues):
        queues = queues.assign(vs_plan=(queues["vs_plan"] * 100).round(0), service_level=queues["service_level"] * 100,
                               chance_target=queues["chance_target"] * 100).rename(columns={
            "vs_plan": "so far vs plan %", "service_level": "service level %", "chance_target": "chance of target %"})
    actions = pd.DataFrame(info.get("actions", []))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in info.get("notes", []))
    return (f"<p class=note>Intraday run #{run['run_id']} at {html.escape(str(info.get('at', '')))}: the rest of the day "
            "re-forecast from the contacts so far, against today's schedule ('forecaster intraday').</p>"
            + _table(queues.round(2)) + "<h3>Outbound windows to change</h3>" + _table(actions)
            + (f"<ul class=warnings>{notes}</ul>" if notes else ""))


def _campaign_totals(days: pd.DataFrame, calendar: pd.DataFrame, as_of: dt.date, past_weeks: int = 26) -> pd.DataFrame:
    """Per campaign of the last half year and planned: totals with the 80 % interval (queues' halves
    added in quadrature), from a run's stored impact rows."""
    cols = ["campaign_id", "name", "channel", "start", "status", "extra_contacts", "lo_80", "hi_80",
            "extra_agent_hours"]
    if days.empty:
        return pd.DataFrame(columns=cols)
    g = interval_totals(days, ["campaign_id", "status"], ("extra_agent_hours",))
    info = calendar.set_index("campaign_id")[["name", "channel", "start_ts"]].rename(columns={"start_ts": "start"})
    out = g.join(info, on="campaign_id", how="inner")
    out = out[out["start"].dt.date >= as_of - dt.timedelta(weeks=past_weeks)]
    return out[cols].sort_values("start").reset_index(drop=True)
