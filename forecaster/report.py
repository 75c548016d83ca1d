"""The planner report: one self-contained HTML page for the week ahead.

Charts are drawn with matplotlib and embedded as inline SVG (text kept as text), so the file
needs no network, no CDN and no script. Sections, each an ``<section id=...>``:

* ``forecast``: per queue, daily contacts: the last weeks' actuals, the forecast with its 80 %
  and 95 % bands (the sum of the interval bands: on the safe side), campaign flights shaded,
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
import io
import json

import numpy as np
import pandas as pd

from forecaster.config import Config

PAST_WEEKS = 4
COLORS = {"actual": "#222222", "forecast": "#1f5fa8", "band80": "#8fb3dd", "band95": "#d3e2f3",
          "campaign": "#f3c27a", "holiday": "#b03a2e", "planned": "#e07b00", "past": "#1f5fa8"}


# -- gathering ----------------------------------------------------------------------------------
def gather(store, config: Config, run_id: int | None = None) -> dict:
    """Everything the page shows, read from the store (the run defaults to the latest published)."""
    from forecaster.campaigns import current
    from forecaster.errors import UserError
    from forecaster.store import Runs, Scenarios

    runs = Runs(store)
    run_id = run_id or runs.latest("forecast")
    if run_id is None:
        raise UserError("the store holds no published run yet; run 'forecaster nightly' first")
    run = runs.get(run_id)
    if run is None:
        raise UserError(f"no run {run_id} in the store; 'forecaster runs' lists them")
    info = json.loads(run["info"]) if isinstance(run["info"], str) else (run["info"] or {})
    forecast = runs.forecast(run_id)
    if forecast.empty:
        raise UserError(f"run {run_id} holds no forecast; choose a forecast or nightly run ('forecaster runs')")
    as_of = pd.Timestamp(run["as_of"]).date()
    first = as_of - dt.timedelta(weeks=PAST_WEEKS) + dt.timedelta(days=1)
    actuals = store.actuals(start=dt.datetime.combine(first, dt.time()),
                            end=pd.Timestamp(forecast["interval_start"].max()).to_pydatetime() + dt.timedelta(days=1))
    scen = Scenarios(store).list()
    return {"run_id": run_id, "run": run, "info": info, "as_of": as_of, "forecast": forecast, "actuals": actuals,
            "requirements": runs.requirements(run_id, "mean"), "schedule": runs.schedule(run_id),
            "capacity": runs.capacity(run_id), "impact": runs.impact(run_id),
            "calendar": current(store, include_withdrawn=False),
            "scenarios": scen[scen["run_id"] == run_id] if len(scen) else scen}


# -- charts -------------------------------------------------------------------------------------
def _svg(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _figure(w: float, h: float):
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False,
                                "axes.spines.right": False, "svg.hashsalt": "forecaster"})
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(w, h))


def forecast_chart(queue: str, fc: pd.DataFrame, act: pd.DataFrame, calendar: pd.DataFrame,
                   holidays: list[dt.date]) -> str:
    """Daily totals of one queue: actuals, forecast, bands, campaigns and holidays."""
    f = fc[fc["queue"] == queue]
    day = pd.to_datetime(f["interval_start"]).dt.normalize()
    daily = f.groupby(day)[["forecast", "lo_80", "hi_80", "lo_95", "hi_95"]].sum()
    a = act[act["queue"] == queue]
    actual = a.groupby(pd.to_datetime(a["interval_start"]).dt.normalize())["contacts"].sum()
    fig, ax = _figure(9.5, 2.6)
    lo, hi = min(list(actual.index[:1]) + list(daily.index[:1])), max(list(actual.index[-1:]) + list(daily.index[-1:]))
    for c in calendar.itertuples():
        if queue in c.queues and c.end_ts >= lo and c.start_ts <= hi + pd.Timedelta(days=1):
            ax.axvspan(c.start_ts.normalize(), c.end_ts.normalize() + pd.Timedelta(hours=20), color=COLORS["campaign"],
                       alpha=0.35, lw=0)
            ax.annotate(c.campaign_id, (c.start_ts.normalize(), 1), xycoords=("data", "axes fraction"),
                        fontsize=6.5, rotation=90, va="top", color="#8a5a00")
    for h in holidays:
        if lo <= pd.Timestamp(h) <= hi:
            ax.axvline(pd.Timestamp(h), color=COLORS["holiday"], ls=":", lw=1)
    ax.fill_between(daily.index, daily["lo_95"], daily["hi_95"], color=COLORS["band95"], step="mid", label="95 %")
    ax.fill_between(daily.index, daily["lo_80"], daily["hi_80"], color=COLORS["band80"], step="mid", label="80 %")
    ax.plot(daily.index, daily["forecast"], color=COLORS["forecast"], marker=".", lw=1.2, label="forecast")
    ax.plot(actual.index, actual.to_numpy(), color=COLORS["actual"], marker=".", lw=1, label="actual")
    ax.set_ylabel("contacts per day")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", ncol=4, fontsize=7, frameon=False)
    fig.autofmt_xdate()
    return _svg(fig)


def accuracy_chart(queues: dict) -> str:
    rows = [(q, m, w) for q, v in queues.items() for m, w in v.get("wape", {}).items() if w == w]
    if not rows:
        return ""
    frame = pd.DataFrame(rows, columns=["queue", "model", "wape"]).pivot(index="queue", columns="model", values="wape")
    fig, ax = _figure(9.5, 0.5 + 0.45 * len(frame) * max(1, len(frame.columns)) / 2)
    height = 0.8 / len(frame.columns)
    for i, model in enumerate(frame.columns):
        ax.barh(np.arange(len(frame)) + i * height, frame[model] * 100, height, label=model)
    ax.set_yticks(np.arange(len(frame)) + 0.4 - height / 2, frame.index)
    ax.set_xlabel("interval WAPE in backtest, % (lower is better)")
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    return _svg(fig)


def impact_chart(campaigns: pd.DataFrame) -> str:
    if campaigns.empty:
        return ""
    c = campaigns.sort_values("start")
    fig, ax = _figure(9.5, 0.6 + 0.22 * len(c))
    y = np.arange(len(c))
    colors = [COLORS["planned"] if s == "planned" else COLORS["past"] for s in c["status"]]
    ax.barh(y, c["extra_contacts"], color=colors, alpha=0.8)
    ax.errorbar(c["extra_contacts"], y, xerr=[c["extra_contacts"] - c["lo_80"], c["hi_80"] - c["extra_contacts"]],
                fmt="none", ecolor="#333333", lw=0.8, capsize=2)
    ax.set_yticks(y, [f"{i} {n[:28]} ({s})" for i, n, s in zip(c["campaign_id"], c["name"], c["status"])], fontsize=7)
    ax.invert_yaxis()
    ax.axvline(0, color="#999999", lw=0.6)
    ax.set_xlabel("extra contacts (bars) with 80 % interval (whiskers); orange: planned")
    return _svg(fig)


def response_chart(curves: pd.DataFrame) -> str:
    from forecaster.features import adstock

    if curves.empty:
        return ""
    fig, ax = _figure(9.5, 2.4)
    days = np.arange(15)
    for ch, g in curves.groupby("channel"):
        lag, peak, decay = int(g["lag_days"].iloc[0]), int(g["peak_day"].iloc[0]), float(g["decay"].iloc[0])
        impulse = np.zeros(len(days))
        impulse[0] = 1.0
        k = adstock(impulse, lag, decay, peak - lag)
        k = k / k.sum() * float(g["per_1000"].sum())
        ax.plot(days, k, marker=".", label=f"{ch}: {g['per_1000'].sum():.2f} per 1,000, peak day {peak}")
    ax.set_xlabel("days after the campaign starts")
    ax.set_ylabel("contacts per 1,000 reached")
    ax.legend(fontsize=7, frameon=False)
    return _svg(fig)


def staffing_chart(coverage: pd.DataFrame, step_min: int) -> str:
    if coverage.empty:
        return ""
    queues = list(coverage["queue"].unique())
    import matplotlib.pyplot as plt

    _figure(1, 1)                                             # the shared style
    plt.close("all")
    fig, axes = plt.subplots(len(queues), 1, figsize=(9.5, 1.7 * len(queues)), sharex=True, squeeze=False)
    for ax, q in zip(axes[:, 0], queues):
        g = coverage[coverage["queue"] == q].assign(interval_start=lambda f: pd.to_datetime(f["interval_start"]))
        full = pd.date_range(g["interval_start"].min(), g["interval_start"].max(), freq=f"{step_min}min")
        g = g.set_index("interval_start").reindex(full).rename_axis("interval_start").reset_index()  # gaps: closed
        t = g["interval_start"]
        ax.step(t, g["required"], where="post", color="#b03a2e", lw=1, label="required (with shrinkage)")
        ax.step(t, g["on_shift"], where="post", color="#1f5fa8", lw=1, label="scheduled on shift")
        ax.set_ylabel(q, fontsize=8)
    axes[0, 0].legend(fontsize=7, frameon=False, loc="upper right", ncol=2)
    fig.autofmt_xdate()
    return _svg(fig)


def capacity_heatmap(spare: pd.DataFrame) -> str:
    if spare.empty:
        return ""
    s = spare.assign(ts=pd.to_datetime(spare["interval_start"]))
    s["day"] = s["ts"].dt.strftime("%a %d %b")
    s["time"] = s["ts"].dt.strftime("%H:%M")
    s["order"] = s["ts"].dt.normalize()
    grid = s.assign(spare_pos=s["spare"].clip(lower=0)).pivot_table(index=["order", "day"], columns="time",
                                                                   values="spare_pos", aggfunc="sum")
    fig, ax = _figure(9.5, 0.6 + 0.32 * len(grid))
    im = ax.imshow(grid.to_numpy(float), aspect="auto", cmap="Greens", interpolation="nearest")
    ax.set_yticks(range(len(grid)), [d for _, d in grid.index])
    step = max(1, len(grid.columns) // 16)
    ax.set_xticks(range(0, len(grid.columns), step), list(grid.columns)[::step], rotation=90, fontsize=7)
    fig.colorbar(im, ax=ax, label="spare agents (all queues)")
    return _svg(fig)


# -- the page -----------------------------------------------------------------------------------
def _table(frame: pd.DataFrame, max_rows: int = 60) -> str:
    if frame is None or frame.empty:
        return "<p class=empty>Nothing to show.</p>"
    shown = frame.head(max_rows)
    more = f"<p class=note>{len(frame) - max_rows} more rows in the run's files.</p>" if len(frame) > max_rows else ""
    return shown.to_html(index=False, border=0, classes="data", na_rep="-", float_format=lambda v: f"{v:,.2f}") + more


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
            if c.start_ts.date() > as_of and lead < config.campaigns.freeze_days:
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
    from forecaster.sitecalendar import public_holidays

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
            ("required agent-hours next 7 days", f"{(req[pd.to_datetime(req['interval_start']) < days.min().normalize() + pd.Timedelta(days=7)]['agents'].sum() * config.interval_min / 60):,.0f}" if len(req) else "-"),
            ("scheduled week", sched.get("week", "-")),
            ("spare agent-hours for outbound", f"{cap['spare_agent_hours'].sum():,.0f}" if len(cap) else "0")]
    summary = "".join(f'<span class="kpi"><b>{esc(v)}</b>{esc(k)}</span>' for k, v in kpis)

    body = summary + "".join(f"<h3>{esc(q)}</h3>" + forecast_chart(q, fc, data["actuals"], data["calendar"], hols)
                             for q in fc["queue"].unique())
    section("forecast", "Forecast against actuals", body +
            "<p class=note>Daily totals. Bands: the sum of the interval bands (on the safe side). Shaded: campaign "
            "flights; dotted red lines: public holidays.</p>")
    q_info = info.get("queues", {})
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
            impact_chart(camp) + "<h3>Response per channel</h3>" + response_chart(curves) + _table(camp.round(1)))
    coverage = data["schedule"]["coverage"]
    section("staffing", f"Required against scheduled agents ({sched.get('week', 'no schedule')})",
            staffing_chart(coverage, config.interval_min) + _table(data["schedule"]["summary"]))
    section("capacity", "Spare capacity for outbound work",
            capacity_heatmap(data["capacity"]["intervals"]) + _table(cap.round(2)))
    scen = data["scenarios"]
    section("scenarios", "What-if scenarios on this run", _table(scen.drop(columns=["run_id"], errors="ignore")))
    warns = warnings_list(data, config)
    section("warnings", f"Warnings ({len(warns)})",
            "<ul class=warnings>" + "".join(f"<li>{esc(w)}</li>" for w in warns) + "</ul>" if warns
            else "<p class=empty>No warnings.</p>")
    nav = "".join(f'<a href="#{s}">{t}</a>' for s, t in (
        ("forecast", "Forecast"), ("accuracy", "Accuracy"), ("impact", "Campaign impact"), ("staffing", "Staffing"),
        ("capacity", "Spare capacity"), ("scenarios", "Scenarios"), ("warnings", "Warnings")))
    run = data["run"]
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in info.get("steps_s", {}).items())
    head = (f"<header><h1>{esc(config.site)}: the week ahead</h1><p>Run #{data['run_id']} ({esc(run['kind'])}, "
            f"{esc(run['status'])}), actuals up to {data['as_of']}, forecast {days.min():%Y-%m-%d} to "
            f"{days.max():%Y-%m-%d}; generated {dt.datetime.now():%Y-%m-%d %H:%M}"
            + (f"; steps: {esc(steps)}" if steps else "") + "</p></header>")
    return ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8><meta name=viewport "
            "content='width=device-width,initial-scale=1'>"
            f"<title>{esc(config.site)}: forecast report, run {data['run_id']}</title><style>{CSS}</style></head>"
            f"<body>{head}<nav>{nav}</nav><main>{''.join(parts)}</main></body></html>")


def _campaign_totals(days: pd.DataFrame, calendar: pd.DataFrame, as_of: dt.date, past_weeks: int = 26) -> pd.DataFrame:
    """Per campaign of the last half year and planned: totals with the 80 % interval (queues' halves
    added in quadrature), from a run's stored impact rows."""
    cols = ["campaign_id", "name", "channel", "start", "status", "extra_contacts", "lo_80", "hi_80",
            "extra_agent_hours"]
    if days.empty:
        return pd.DataFrame(columns=cols)
    q = days.groupby(["campaign_id", "queue", "status"]).agg(e=("extra_contacts", "sum"), lo=("lo_80", "sum"),
                                                             hi=("hi_80", "sum"), h=("extra_agent_hours", "sum"))
    q = q.reset_index()
    q["half"] = (q["hi"] - q["lo"]) / 2
    g = q.groupby(["campaign_id", "status"]).agg(extra_contacts=("e", "sum"), extra_agent_hours=("h", "sum"),
                                                 half=("half", lambda h: float(np.sqrt((h ** 2).sum())))).reset_index()
    g["lo_80"], g["hi_80"] = g["extra_contacts"] - g["half"], g["extra_contacts"] + g["half"]
    info = calendar.set_index("campaign_id")[["name", "channel", "start_ts"]].rename(columns={"start_ts": "start"})
    out = g.join(info, on="campaign_id", how="inner")
    out = out[out["start"].dt.date >= as_of - dt.timedelta(weeks=past_weeks)]
    return out[cols].sort_values("start").reset_index(drop=True)


def write_report(store_path, config: Config, out, run_id: int | None = None, lock_timeout_s: float = 30.0):
    """Gather, render and write atomically; returns (path, run id)."""
    from forecaster.output import write_bytes
    from forecaster.store import Store

    with Store(store_path, read_only=True, lock_timeout_s=lock_timeout_s) as store:
        data = gather(store, config, run_id)
    return write_bytes(out, render(data, config).encode("utf-8")), data["run_id"]
