"""Commands for forecasts and runs: forecast, backtest, nightly, runs, report."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import click
import pandas as pd

from forecaster.campaigns.calendar import current
from forecaster.cli.app import DEFAULT_CONFIG, RUN_ID, App, cli, format_option, warn
from forecaster.core.errors import UserError
from forecaster.core.grid import parse_horizon
from forecaster.demand.evaluation import evaluate
from forecaster.demand.intervals import daily_forecast
from forecaster.io.output import render, to_json, write_table
from forecaster.jobs.actions import forecast_store, write_report
from forecaster.jobs.nightly import STEPS, Log, publish_run, run_nightly
from forecaster.store.runs import Runs

FLAT_MONTH_PCT = 5.0      # a day-of-month cycle smaller than this either way (noise can make 3 %) is shown as flat


@cli.command()
@click.option("--horizon", default="6w", show_default=True, help="How far ahead: Nd or Nw.")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Use actuals up to this day "
              "(inclusive) and forecast from the next day. Default: the last day with actuals.")
@click.option("--out", type=click.Path(dir_okay=False), help="Also write the forecast (.csv, .parquet, .json).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Where statsforecast fits the models: here, or on Dask (see README).")
@click.option("--dask-address", metavar="HOST:PORT", help="Dask scheduler; default: a local cluster, one worker "
              "process per core.")
@click.option("--publish", is_flag=True, help="Make the run the published plan (files in output_dir/latest). "
              "Default: a draft, which no command uses unless given --run.")
@format_option
@click.pass_obj
def forecast(app: App, horizon: str, as_of, out, engine, dask_address, publish, fmt) -> None:
    """Forecast contacts and AHT per queue and open interval, with 80 % and 95 % intervals.

    Chooses a model per queue by rolling-origin backtest (baselines: same interval last week,
    mean of the last 4 weeks; main model: daily totals with holiday and campaign regressors,
    split by the intraday profile), stores the run as a draft, and prints a daily summary.
    Commands that take a run use the published plan (the last nightly's, or a run published
    with --publish or 'forecaster runs publish ID'); a draft only with --run.

    \b
    Example:
      forecaster --config configs/example.yaml forecast --horizon 6w --out var/forecast.csv
      forecaster --config configs/example.yaml forecast --as-of 2026-06-01 --horizon 2w
    """

    days = parse_horizon(horizon)
    run_id, result = forecast_store(app.store_path, app.config, as_of.date() if as_of else None, days,
                                    app.lock_timeout_s, engine, dask_address)

    info = result.info
    for w in info["warnings"]:
        warn([w])
    for f in info["fallbacks"]:
        warn([f"fallback: queue {f['queue']}, model {f['model']}: {f['reason']}"])
    if out:
        write_table(result.frame, out)
    frame = result.frame
    first = frame["interval_start"].min().normalize()
    daily = pd.concat({q: daily_forecast(g, info["queues"].get(q), first) for q, g in frame.groupby("queue")},
                      names=["queue"]).reset_index()
    daily = daily.assign(day=daily["day"].dt.date)[["queue", "day", "forecast", "lo_80", "hi_80"]].round(0)
    if fmt == "table":
        models = ", ".join(f"{q}: {v['model']} (WAPE {v['wape'].get(v['model'], float('nan')):.1%})"
                           for q, v in info["queues"].items())
        click.echo(f"Forecast run #{run_id}: {len(frame):,} intervals over {days} day{'' if days == 1 else 's'}. "
                   f"Models: {models}")
        record = sum(v.get("daily_record_days", 0) for v in info["queues"].values())
        also = f" and on {record:,} days of earlier runs" if record else ""
        click.echo(f"Daily totals; 80 % bands calibrated on the backtest's errors of daily totals{also}:")
    click.echo(render(daily, fmt))
    if publish:
        _published(publish_run(app.config, app.store_path, run_id, app.lock_timeout_s), err=True)
    else:
        click.echo(f"Run #{run_id} is a draft: the published plan is unchanged. 'forecaster staff --run {run_id}' "
                   f"(or schedule, capacity, report) works on it; 'forecaster runs publish {run_id}' makes it the plan.",
                   err=True)


@cli.command("backtest")
@click.option("--windows", default=8, show_default=True, type=click.IntRange(2, 52), help="Rolling origins, a week apart.")
@click.option("--horizon", default="2w", show_default=True, help="Days forecast at each origin: Nd or Nw.")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Last day of actuals to use. Default: the last.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write every metric row (.csv, .parquet, .json).")
@format_option
@click.pass_obj
def backtest_cmd(app: App, windows, horizon, as_of, out, fmt) -> None:
    """Rolling-origin accuracy per queue and model, baselines included.

    WAPE, MASE and bias at interval and daily level, for campaign-affected days and the
    others, and the out-of-sample coverage of the 80 % and 95 % intervals. The screen shows
    the interval and daily rows for all days; --out writes every row.

    \b
    Example:
      forecaster --config configs/example.yaml backtest --windows 8 --horizon 2w --out var/backtest.csv
    """

    days = parse_horizon(horizon)
    with app.store(read_only=True) as store:
        hist = store.actuals().rename(columns={"interval_start": "ds", "contacts": "y"})
        campaigns = current(store, include_withdrawn=False)
    if hist.empty:
        raise UserError("the store holds no actuals yet; run 'forecaster ingest FILE' first")
    last = hist["ds"].max().date()
    end = as_of.date() if as_of else last
    need = dt.timedelta(days=days + 7 * (windows - 1) + 56)
    if end - hist["ds"].min().date() < need:
        raise UserError(f"{windows} windows of {days} days need {need.days} days of history before {end}; "
                        "use fewer --windows or a shorter --horizon")
    metrics, _ = evaluate(hist, campaigns, app.config, end, windows, days)
    if out:
        write_table(metrics, out)
    shown = metrics[metrics["segment"] == "all"].drop(columns=["segment"]).round(4)
    click.echo(render(shown if fmt == "table" else metrics, fmt))


@cli.command()
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Last day of actuals to use. "
              "Default: the last day in the store.")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Where the per-queue work runs: statsforecast's fits through fugue and each queue-day's "
                   "schedule as a Dask task (see README).")
@click.option("--dask-address", metavar="HOST:PORT", help="Dask scheduler; default: a local cluster, one worker "
              "process per core.")
@click.option("--force", is_flag=True, help="Recompute even if a published run has exactly these inputs.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Log lines on stderr: text for people, json (one object per line) for machines.")
@click.pass_obj
def nightly(app: App, as_of, engine, dask_address, force, log_format) -> None:
    """The unattended refresh: new actuals, campaigns, forecast, staffing, schedule, spare capacity.

    Picks up actuals files from the config's nightly.drop_dir (good ones to processed/, bad ones
    to rejected/ with an error report), applies queued campaign submissions, then forecasts,
    staffs, schedules the first full week and finds spare capacity. The run is published in one
    transaction: readers always see the last complete run, and a killed run leaves it intact.
    Files go to output_dir/runs/run-ID, with output_dir/latest pointing at the newest.

    \b
    Exit codes: 0 published (or already up to date); 3 published, but some input files were
    rejected; 1 a step failed (nothing published); 2 bad arguments or config; 75 another
    nightly run is in progress or the store stayed locked (try again later).

    \b
    Example:
      forecaster --config configs/example.yaml nightly --log-format json
    """

    config = app.config
    config_text = Path(app.config_path or DEFAULT_CONFIG).read_text(encoding="utf-8")
    log = Log(log_format)
    bar = None
    if log_format == "text" and sys.stderr.isatty():
        bar = click.progressbar(length=len(STEPS), label="nightly", file=sys.stderr, show_pos=True,
                                item_show_func=lambda s: s)
        log = Log("text", stream=open(os.devnull, "w"))  # noqa: SIM115 - the bar replaces the log lines

    def on_step(name: str) -> None:
        if bar is not None:
            bar.update(STEPS.index(name) + 1 - bar.pos, name)

    result = run_nightly(config, config_text, app.store_path, as_of.date() if as_of else None, app.lock_timeout_s,
                         engine, dask_address, force, log, on_step)
    if bar is not None:
        bar.render_finish()
    if result.exit_code in (0, 3):
        click.echo(f"Nightly: {result.message}")
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in result.steps.items())
        if steps:
            click.echo(f"Steps: {steps}")
        for item in result.info.get("intake", {}).get("rejected", []):
            click.echo(f"Rejected: {item['file']} -> {item['moved_to']}: {item['error']}", err=True)
    else:
        click.echo(f"Error: nightly {result.message}", err=True)
    click.get_current_context().exit(result.exit_code)


@cli.command("report")
@click.option("--run", "run_id", type=RUN_ID, help="Run to report on. Default: the published plan.")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="The HTML file to write.")
@click.pass_obj
def report_cmd(app: App, run_id, out) -> None:
    """One self-contained HTML page for the week ahead (no network needed to open it).

    Forecast against actuals with bands, campaigns and holidays; backtest accuracy against the
    baselines; campaign impact and response curves; required against scheduled agents; spare
    capacity as a heat map; stored scenarios; warnings. The nightly job writes one per run.

    \b
    Example:
      forecaster --config configs/example.yaml report --out var/out/report.html
    """

    path, used = write_report(app.store_path, app.config, out, run_id, app.lock_timeout_s)
    click.echo(f"Report for {used} written to {path}")


@cli.group("runs", invoke_without_command=True)
@click.option("--kind", help="Only runs of this kind (e.g. forecast).")
@format_option
@click.pass_context
def runs_group(ctx: click.Context, kind: str | None, fmt: str) -> None:
    """List the runs in the store, newest first (``runs show ID`` for one).

    \b
    Example:
      forecaster --config configs/example.yaml runs --format json
    """
    if ctx.invoked_subcommand is not None:
        return

    with ctx.obj.store(read_only=True) as store:
        frame = Runs(store).list(kind)
    click.echo(render(frame, fmt) if len(frame) or fmt != "table" else "No runs yet: run 'forecaster forecast'.")


def _state(run: dict, plan: int | None) -> str:
    """How ``runs show`` names a run's standing: the plan, an earlier plan, or a draft."""
    if run["status"] != "ok":
        return ""
    parent = f", derived from run #{int(run['parent_run_id'])}" if pd.notna(run.get("parent_run_id")) else ""
    if run["run_id"] == plan:
        return f", the published plan{parent}"
    if Runs.frozen(run):
        return f", published earlier (read-only){parent}"
    return f", draft{parent}"


def _published(result: dict, err: bool = False) -> None:
    if result["already"]:
        click.echo(f"Run #{result['run_id']} is already the published plan; files in {result['folder']}", err=err)
        return
    click.echo(f"Run #{result['run_id']} is now the published plan; files in {result['folder']} "
               f"({', '.join(result['files'])}), output_dir/latest points at them", err=err)
    warn(result["problems"])


@runs_group.command("publish")
@click.argument("run_id", type=int)
@click.pass_obj
def runs_publish(app: App, run_id: int) -> None:
    """Make a run the published plan: the run every command uses by default, whose files are in
    output_dir/latest. A published run is never rewritten; schedule, staff and capacity on it
    make a new draft derived from it. The next nightly with new inputs publishes its own run.

    \b
    Example:
      forecaster --config configs/example.yaml runs publish 7
    """
    _published(publish_run(app.config, app.store_path, run_id, app.lock_timeout_s))


def queue_notes(q: str, v: dict) -> list[str]:
    """What ``runs show`` says of queue ``q`` beyond its table row, from its run record ``v``: why
    its model was chosen, topdown's intraday profile window, day-of-month cycle and level shift."""
    lines = []
    if v.get("reason"):
        members = f" (median of {', '.join(v['combination'])})" if v.get("combination") else ""
        lines.append(f"Chosen for {q}{members}: {v['reason']}")
    if v.get("profile"):
        def window(p: dict) -> str:
            w, hl = p["weeks"], p["halflife_weeks"]
            return f"the last {w} ordinary weeks" + (f", a day's weight halving every {hl:g} weeks" if hl else
                                                      ", weighted equally")
        own = v["profile"].get("own_weekdays") or {}
        lines.append(f"Intraday profile for {q} (topdown, chosen by its backtest): {window(v['profile'])}"
                     + "".join(f"; {day} its own, {window(p)}" for day, p in own.items()))
    if v.get("month_cycle"):
        m = v["month_cycle"]
        cycle = (f"{m['peak_pct']:+.0f} % around day {m['peak_day']}, {m['low_pct']:+.0f} % around day "
                 f"{m['low_day']}" if max(m["peak_pct"], -m["low_pct"]) >= FLAT_MONTH_PCT else
                 f"flat (within {FLAT_MONTH_PCT:.0f} % of the usual level all month)")
        lines.append(f"Day of the month for {q} (topdown's daily level, billing and pay cycles; history to "
                     f"{m['history_to']}): {cycle}")
    if v.get("level_shift"):
        shift = v["level_shift"]
        lines.append(f"Level shift for {q} (topdown's daily level; history to {shift['history_to']}): "
                     f"{shift['change_pct']:+.1f} % from {shift['from']} on")
    return lines


def _show_intraday(info: dict) -> None:
    """An intraday run: the update per queue, how it was calibrated, and the actions."""
    click.echo(f"Intraday update at {info.get('at')} on plan run #{info.get('plan_run_id')} (never published: "
               "the plan stays as it is)")
    queues = pd.DataFrame(info.get("queues", []))
    if len(queues):
        click.echo(render(queues.round(3), "table"))
    cal = info.get("calibration", {})
    if cal:
        click.echo("Calibration: " + "; ".join(f"{q} alpha {v['alpha']:g}, {v['days']} day(s), {v['on_plans']:.0%} on "
                                               "earlier plans" for q, v in cal.items()))
    for a in info.get("actions", []):
        click.echo(f"Action: {a['queue']} {a['action']} {a['start']} to {a['end']}, {a['agents']} agent(s): {a['why']}")
    for n in info.get("notes", []):
        click.echo(f"Note: {n}")


@runs_group.command("show")
@click.argument("run_id", metavar="ID|latest")
@format_option
@click.pass_obj
def runs_show(app: App, run_id: str, fmt: str) -> None:
    """Show one run: parameters, the model chosen per queue with every model's WAPE, fallbacks
    and warnings, and its outputs.

    \b
    Example:
      forecaster --config configs/example.yaml runs show 1
    """

    with app.store(read_only=True) as store:
        runs = Runs(store)
        if run_id == "latest":
            run_id, chosen = runs.forecast_run(None)
            click.echo(f"Using {Runs.describe(run_id, chosen)}.", err=True)
            run_id = str(run_id)
        elif not run_id.isdigit():
            raise UserError(f"'{run_id}' is not a run number or 'latest'; 'forecaster runs' lists them")
        run_id = int(run_id)
        run = runs.get(run_id)
        if run is None:
            raise UserError(f"no run {run_id} in the store; 'forecaster runs' lists them")
        outputs = runs.list().set_index("run_id").loc[run_id, ["forecast_rows", "requirement_rows"]].to_dict()
        plan = runs.plan()
    run["params"], run["info"] = json.loads(run["params"] or "{}"), json.loads(run["info"] or "{}")
    if fmt != "table":
        click.echo(to_json({**run, **outputs}))
        return
    as_of = f"as of {run['as_of']:%Y-%m-%d}" if pd.notna(run["as_of"]) else "no as-of yet"
    click.echo(f"Run #{run_id}: {run['kind']}, {run['status']}{_state(run, plan)}, {as_of}, started "
               f"{run['started_at']:%Y-%m-%d %H:%M}; params {json.dumps(run['params'])}")
    if run["kind"] == "intraday":
        _show_intraday(run["info"].get("intraday", {}))
    elif run["status"] == "ok" and not Runs.frozen(run):
        click.echo(f"A draft: commands use it only with --run {run_id}; 'forecaster runs publish {run_id}' makes it "
                   "the plan.")
    info = run["info"]
    if info.get("error"):
        click.echo(f"Failed in step {info.get('failed_step')}: {info['error']}")
    if info.get("steps_s"):
        click.echo("Steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in info["steps_s"].items()))
    if info.get("intake"):
        i = info["intake"]
        click.echo(f"Intake: {len(i['ingested'])} file(s) ingested ({i['rows']:,} rows), {len(i['rejected'])} rejected"
                   + "".join(f"\n  rejected {r['file']}: {r['error']}" for r in i["rejected"]))
    if info.get("data_range"):
        click.echo(f"Data: actuals {info['data_range'][0]} to {info['data_range'][1]}, "
                   f"{info.get('campaigns', 0)} campaign(s)")
    click.echo(f"Outputs: {outputs['forecast_rows']:,} forecast rows, {outputs['requirement_rows']:,} requirement rows")
    queues = run["info"].get("queues", {})
    if queues:
        table = pd.DataFrame([{"queue": q, "model": v["model"], "history_days": v["history_days"],
                               **{f"wape_{m}": w for m, w in v["wape"].items()}} for q, v in queues.items()])
        click.echo(render(table, "table"))
        for q, v in queues.items():
            for line in queue_notes(q, v):
                click.echo(line)
    for key in ("fallbacks", "warnings"):
        for item in run["info"].get(key, []):
            click.echo(f"{key[:-1].capitalize()}: {item if isinstance(item, str) else json.dumps(item)}")
    if run["info"].get("adstock"):
        click.echo("Campaign response shapes learned: " + ", ".join(
            f"{c} lag {v['lag_days']} d, ramp {v.get('ramp_days', 0)} d, decay {v['decay']}"
            + (" per activity day" if v.get("clock") == "activity" else "")
            for c, v in run["info"]["adstock"].items()))
    if run["info"].get("schedule"):
        s = run["info"]["schedule"]
        click.echo(f"Schedule: week {s['week']} ({s['method']}), queue-days {s['statuses']}, solver {s['solve_s']} s; "
                   f"required with shrinkage {s['required_with_shrinkage_agent_h']:,.0f} agent-h, scheduled {s['scheduled_agent_h']:,.0f}, "
                   f"short {s['short_agent_h']:,.1f}")
    if run["info"].get("capacity"):
        c = run["info"]["capacity"]
        click.echo(f"Spare capacity: {c['windows']} window(s), {c['spare_agent_hours']:,.1f} agent-h, "
                   f"{c['outbound_calls']:,} outbound calls, {c['callbacks']:.0f} call-backs (quantile {c['quantile']:g})")
    imp = info.get("impact")
    if imp and "past" in imp:
        click.echo(f"Campaign impact: {imp['past']} past and {imp['planned']} planned campaign(s), the planned ones "
                   f"adding about {imp['planned_extra_contacts']:,.0f} contacts; {len(imp['unexplained'])} day(s) in "
                   "the last 8 weeks above the 95% bound with no campaign or holiday ('forecaster impact --unexplained')")
