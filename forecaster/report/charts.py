"""The report's charts: matplotlib figures embedded as inline SVG (text kept as text)."""

from __future__ import annotations

import datetime as dt
import io

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from forecaster.core.grid import by_queue
from forecaster.demand.intervals import daily_forecast
from forecaster.features.adstock import adstock

COLORS = {"actual": "#222222", "forecast": "#1f5fa8", "band80": "#8fb3dd", "band95": "#d3e2f3",
          "campaign": "#f3c27a", "holiday": "#b03a2e", "planned": "#e07b00", "past": "#1f5fa8"}


# -- charts -------------------------------------------------------------------------------------
def _svg(fig) -> str:

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _figure(w: float, h: float):

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False,
                                "axes.spines.right": False, "svg.hashsalt": "forecaster"})

    return plt.subplots(figsize=(w, h))


def forecast_chart(queue: str, f: pd.DataFrame, a: pd.DataFrame, calendar: pd.DataFrame,
                   holidays: list[dt.date], queue_info: dict | None = None, first_day: pd.Timestamp | None = None) -> str:
    """Daily totals of one queue (``f``, ``a``: its forecast and actual rows): actuals, forecast,
    bands, campaigns and holidays. The bands come
    from the run's calibration of daily totals (``queue_info``: ``daily_scale``, ``lead_growth``);
    a run made before there was one shows the sum of its interval bands."""
    daily = daily_forecast(f, queue_info, first_day)
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
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=4, fontsize=7, frameon=False)   # above: campaign labels hang from the top
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
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))     # beside the bars, not on them
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
    times = pd.to_datetime(coverage["interval_start"])
    rows, span = by_queue(coverage.assign(interval_start=times)), (times.min(), times.max())
    _figure(1, 1)                                             # the shared style
    plt.close("all")
    # One time axis for all queues, set on each panel rather than shared: matplotlib propagates every
    # limit change to all axes sharing it, which made this chart quadratic in the number of queues
    # (24 s of the 200-queue report).
    fig, axes = plt.subplots(len(rows), 1, figsize=(9.5, 1.7 * len(rows)), squeeze=False)
    for ax, (q, g) in zip(axes[:, 0], rows.items()):
        full = pd.date_range(g["interval_start"].min(), g["interval_start"].max(), freq=f"{step_min}min")
        g = g.set_index("interval_start").reindex(full).rename_axis("interval_start").reset_index()  # gaps: closed
        t = g["interval_start"]
        ax.step(t, g["required_with_shrinkage"], where="post", color="#b03a2e", lw=1, label="required (with shrinkage)")
        ax.step(t, g["scheduled_agents"], where="post", color="#1f5fa8", lw=1, label="scheduled on shift")
        ax.set_ylabel(q, fontsize=8)
        ax.set_xlim(*span)
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
