"""Command-line interface. Each command parses, calls one library function and prints.

Errors are translated in one place (:class:`ForecasterGroup`): a user mistake prints one
``Error: ...`` line (further problems follow, indented) and exits 2; an internal failure
exits 1 with a hint to report it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import getpass
import json
import os
import sys
import traceback
from pathlib import Path

import click
import pandas as pd

from forecaster import __version__
from forecaster.config import Config, load_config
from forecaster.errors import ConfigError, ForecasterError, InputError, Problem, UserError
from forecaster.output import FORMATS, render, to_json
from forecaster.store import Store

DEFAULT_CONFIG = "forecaster.yaml"


class ForecasterGroup(click.Group):
    """A click group that turns our exceptions into one clear line and an exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except ForecasterError as exc:
            click.echo(f"Error: {exc}", err=True)
            if isinstance(exc, InputError):
                for line in exc.details():
                    click.echo(f"  {line}", err=True)
            ctx.exit(exc.exit_code)
        except BrokenPipeError:                      # e.g. `forecaster ... | head`: stop quietly
            with contextlib.suppress(OSError, ValueError):   # no later flush may raise again
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(141)
        except KeyboardInterrupt:
            click.echo("Interrupted; nothing half-written was kept.", err=True)
            ctx.exit(130)
        except Exception as exc:  # noqa: BLE001 - the one place internal failures are reported
            if os.environ.get("FORECASTER_DEBUG"):
                traceback.print_exc()
            click.echo(f"Internal error: {type(exc).__name__}: {exc}. This is a bug in forecaster; please "
                       "report it with the command you ran (FORECASTER_DEBUG=1 shows a traceback).", err=True)
            ctx.exit(1)


class App:
    """What every command shares: the config and the store, opened on demand."""

    def __init__(self, config_path: str | None, store_path: str | None, lock_timeout_s: float):
        self.config_path = config_path
        self.store_override = store_path
        self.lock_timeout_s = lock_timeout_s

    @functools.cached_property
    def config(self) -> Config:
        path = self.config_path or (DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_file() else None)
        if path is None:
            raise ConfigError([Problem("(no config)", None, None,
                                       "no config given; pass --config PATH or set FORECASTER_CONFIG "
                                       "(an example is configs/example.yaml)")])
        return load_config(path)

    @property
    def store_path(self) -> Path:
        return Path(self.store_override) if self.store_override else self.config.store_path

    def store(self, read_only: bool = False) -> Store:
        return Store(self.store_path, read_only=read_only, lock_timeout_s=self.lock_timeout_s)


def format_option(f):
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                        help="How to print the result.")(f)


def warn(lines: list[str]) -> None:
    for line in lines:
        click.echo(f"Warning: {line}", err=True)


@click.group(cls=ForecasterGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_path", envvar="FORECASTER_CONFIG", metavar="PATH",
              help=f"Site config (YAML). Env: FORECASTER_CONFIG. Default: ./{DEFAULT_CONFIG}.")
@click.option("--store", "store_path", envvar="FORECASTER_STORE", metavar="PATH",
              help="DuckDB store file; overrides the config's 'store'. Env: FORECASTER_STORE.")
@click.option("--lock-timeout", default=30.0, show_default=True, metavar="SECONDS",
              help="How long to wait while another process writes the store.")
@click.version_option(__version__, prog_name="forecaster")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, store_path: str | None, lock_timeout: float) -> None:
    """Forecast contact-centre demand with campaign calendars, staff it and plan shifts.

    \b
    Example:
      forecaster --config configs/example.yaml ingest data/demo/actuals.csv.gz
      forecaster --config configs/example.yaml status
    """
    ctx.obj = App(config_path, store_path, lock_timeout)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--by", metavar="NAME", help="Who ingests (recorded with the ingest). Default: the login name.")
@click.pass_obj
def ingest(app: App, files: tuple[str, ...], by: str | None) -> None:
    """Load actuals (CSV, CSV.gz or Parquet) into the store.

    Columns: queue, interval_start (local time, on the interval grid), contacts, and
    optionally aht_s. Every file is checked first; any error changes nothing. Intervals that
    are already in the store are replaced, so ingesting a file twice is harmless.

    \b
    Example:
      forecaster --config configs/example.yaml ingest data/demo/actuals.csv.gz
    """
    from forecaster.actuals import ingest as ingest_files

    config = app.config
    with app.store() as store:
        result = ingest_files(list(files), config, store, by=by)
    warn(result.warnings)
    c = result.counts
    click.echo(f"Ingested {c['rows']:,} rows from {len(files)} file(s) into {app.store_path} "
               f"({c['new']:,} new, {c['replaced']:,} replaced; ingest #{c['ingest_id']}).")


@cli.command()
@format_option
@click.pass_obj
def status(app: App, fmt: str) -> None:
    """Show what the store holds: queues, date range, rows, campaigns, last run.

    \b
    Example:
      forecaster --config configs/example.yaml status --format json
    """
    with app.store(read_only=True) as store:
        info = store.status()
    if fmt == "json":
        click.echo(to_json(info))
        return
    queues = pd.DataFrame(info["queues"], columns=["queue", "rows", "first_interval", "last_interval", "contacts"])
    if fmt == "csv":
        click.echo(render(queues, "csv"))
        return
    click.echo(f"Store: {info['store']} (schema v{info['schema_version']})")
    click.echo(render(queues, "table") if len(queues) else "No actuals yet: run 'forecaster ingest FILE'.")
    click.echo(f"Campaigns: {info['campaigns_active']} active, {info['campaigns_withdrawn']} withdrawn")
    ing = info["last_ingest"]
    click.echo(f"Last ingest: #{ing['ingest_id']}, {ing['rows']:,} rows by {ing['ingested_by']} at "
               f"{ing['ingested_at']:%Y-%m-%d %H:%M}" if ing else "Last ingest: none")
    run = info["last_run"]
    click.echo(f"Last run: #{run['run_id']} {run['kind']} {run['status']}" if run else "Last run: none")


@cli.command()
@click.option("--horizon", default="6w", show_default=True, help="How far ahead: Nd or Nw.")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Use actuals up to this day "
              "(inclusive) and forecast from the next day. Default: the last day with actuals.")
@click.option("--out", type=click.Path(dir_okay=False), help="Also write the forecast (.csv, .parquet, .json).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Where statsforecast fits the models: here, or on Dask (see README).")
@click.option("--dask-address", metavar="HOST:PORT", help="Dask scheduler; default: a local cluster on every core.")
@format_option
@click.pass_obj
def forecast(app: App, horizon: str, as_of, out, engine, dask_address, fmt) -> None:
    """Forecast contacts and AHT per queue and open interval, with 80 % and 95 % intervals.

    Chooses a model per queue by rolling-origin backtest (baselines: same interval last week,
    mean of the last 4 weeks; main model: daily totals with holiday and campaign regressors,
    split by the intraday profile), stores the run, and prints a daily summary.

    \b
    Example:
      forecaster --config configs/example.yaml forecast --horizon 6w --out var/forecast.csv
    """
    from forecaster.forecast import forecast_store, parse_horizon
    from forecaster.output import write_table

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
    daily = frame.assign(day=frame["interval_start"].dt.date).groupby(["queue", "day"], as_index=False).agg(
        forecast=("forecast", "sum"), lo_80=("lo_80", "sum"), hi_80=("hi_80", "sum")).round(0)
    if fmt == "table":
        models = ", ".join(f"{q}: {v['model']} (WAPE {v['wape'].get(v['model'], float('nan')):.1%})"
                           for q, v in info["queues"].items())
        click.echo(f"Forecast run #{run_id}: {len(frame):,} intervals over {days} days. Models: {models}")
        click.echo("Daily totals (interval bands summed, so the daily band is wide):")
    click.echo(render(daily, fmt))


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
    from forecaster.backtest import evaluate
    from forecaster.campaigns import current
    from forecaster.forecast import parse_horizon
    from forecaster.output import write_table

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


def _sl_option(value: str | None) -> tuple[float, float] | None:
    from forecaster.calculator import parse_sl

    return None if value is None else parse_sl(value)


@cli.command()
@click.option("--calls", type=float, help="Contacts offered in the interval.")
@click.option("--interval", "interval_min", type=float, default=30, show_default=True, help="Interval length, minutes.")
@click.option("--aht", "aht_s", type=float, help="Average handling time, seconds.")
@click.option("--sl", "sl_text", metavar="PCT/SEC", help="Service-level target, e.g. 80/20. Default 80/20 unless --asa.")
@click.option("--asa", "asa_s", type=float, help="Average-speed-of-answer target in seconds (instead of --sl).")
@click.option("--model", type=click.Choice(["erlang_c", "erlang_a"]), default="erlang_c", show_default=True)
@click.option("--patience", "patience_s", type=float, help="Mean patience in seconds (Erlang A).")
@click.option("--shrinkage", type=float, default=0.0, show_default=True, help="Fraction of paid time not available.")
@click.option("--max-occupancy", type=float, default=1.0, show_default=True, help="Occupancy cap, a fraction.")
@click.option("--max-abandon", type=float, default=1.0, show_default=True, help="Abandonment cap, a fraction (Erlang A).")
@click.option("--concurrency", type=int, default=1, show_default=True, help="Sessions per agent (chat).")
@click.option("--agents", type=int, help="Answer the reverse question: what do N agents achieve?")
@click.option("--input", "input_path", type=click.Path(dir_okay=False), help="Staff every row of a CSV/Parquet file.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the bulk result here (.csv, .parquet, .json).")
@format_option
def erlang(calls, interval_min, aht_s, sl_text, asa_s, model, patience_s, shrinkage, max_occupancy, max_abandon,
           concurrency, agents, input_path, out, fmt) -> None:
    """Erlang C / Erlang A calculator: agents for one interval, or for every row of a file.

    Prints the required agents and a what-if table of agent counts around it (service level,
    ASA, probability of waiting, occupancy, and abandonment for Erlang A). With --input, reads
    rows with columns calls, interval_min, aht_s and optionally sl, answer_s, patience_s,
    shrinkage, max_occupancy, model (the options give the defaults) and writes them back with
    the result columns.

    \b
    Example:
      forecaster erlang --calls 100 --interval 30 --aht 180 --sl 80/20 --shrinkage 0.3
      forecaster erlang --calls 100 --aht 180 --model erlang_a --patience 60 --agents 12 --format json
      forecaster erlang --input intervals.csv --out staffed.csv
    """
    from forecaster.calculator import Inputs, bulk, single
    from forecaster.output import write_table

    sl = _sl_option(sl_text or "80/20") if sl_text or asa_s is None else None
    defaults = dict(interval_min=interval_min, sl=sl[0] if sl else None, answer_s=sl[1] if sl else None,
                    asa_target_s=asa_s, model=model, patience_s=patience_s, shrinkage=shrinkage,
                    max_occupancy=max_occupancy, max_abandon=max_abandon, concurrency=concurrency)
    if input_path:
        result = bulk(input_path, Inputs(calls=0.0, aht_s=1.0, **defaults))
        if out:
            click.echo(f"Staffed {len(result):,} rows; wrote {write_table(result, out)}.")
        else:
            click.echo(render(result, fmt))
        return
    if calls is None or aht_s is None:
        raise UserError("give --calls and --aht (or --input FILE); see 'forecaster erlang --help'")
    result = single(Inputs(calls=calls, aht_s=aht_s, **defaults), agents=agents)
    table = result.pop("what_if")
    if fmt == "json":
        click.echo(to_json({**result, "what_if": table.to_dict("records")}))
        return
    if fmt == "csv":
        click.echo(render(table, "csv"))
        return
    head = (f"Required: {result['required_agents']} agents ({result['scheduled']:.0f} scheduled with "
            f"{shrinkage:.0%} shrinkage)" if agents is None else
            f"With {agents} agents (target needs {result['required_agents']})")
    parts = [f"service level {result['service_level']:.1%}" if pd.notna(result.get("service_level")) else None,
             f"ASA {result['asa_s']:.1f} s", f"P(wait) {result['p_wait']:.1%}", f"occupancy {result['occupancy']:.1%}",
             f"abandon {result['abandon']:.1%}" if model == "erlang_a" else None]
    click.echo(f"{head}: " + ", ".join(p for p in parts if p))
    click.echo(render(table.round(4), "table"))


@cli.command()
@click.option("--run", "run_id", type=int, help="Forecast run to staff. Default: the latest.")
@click.option("--quantile", type=click.FloatRange(0.5, 0.99), help="Also staff to this forecast quantile, e.g. 0.8.")
@click.option("--model", type=click.Choice(["erlang_c", "erlang_a"]), default="erlang_c", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write per-interval requirements (.csv, .parquet, .json).")
@format_option
@click.pass_obj
def staff(app: App, run_id, quantile, model, out, fmt) -> None:
    """Agents needed for every queue and interval of a stored forecast run.

    Staffs the mean forecast and, with --quantile, an upper quantile for planners who want a
    safety margin; both are stored with the run. Prints required and scheduled agent-hours per
    queue and day; --out writes every interval.

    \b
    Example:
      forecaster --config configs/example.yaml staff --quantile 0.8 --out var/requirements.csv
    """
    from forecaster.output import write_table
    from forecaster.staffing import daily_summary, staff_run
    from forecaster.store import Runs

    config = app.config
    with app.store() as store, store.transaction():
        result = staff_run(Runs(store), config, run_id, quantile, model)
    chosen = result.get("quantile", result["mean"])
    summary = daily_summary(chosen, config.interval_min)
    if out:
        write_table(chosen, out)
    basis = f"quantile {quantile:g}" if quantile is not None else "mean forecast"
    if fmt == "table":
        click.echo(f"Run #{result['run_id']}, staffed to the {basis} ({model}):")
    click.echo(render(summary, fmt))


@cli.command()
@click.option("--run", "run_id", type=int, help="Forecast run to schedule. Default: the latest.")
@click.option("--week", metavar="YYYY-Www", help="ISO week, e.g. 2026-W49. Default: the first full week forecast.")
@click.option("--method", type=click.Choice(["cover", "fit"]), help="cover: every interval covered (default, "
              "from the config); fit: closest fit, over and under.")
@click.option("--quantile", type=click.FloatRange(0.5, 0.99), help="Schedule to this forecast quantile. "
              "Default: the config's scheduling.quantile (the mean if unset).")
@click.option("--out", type=click.Path(dir_okay=False), help="Write headcount per shift and day (.csv, .parquet); "
              ".json writes the whole plan (shifts, coverage, breaks, summary, shortfalls).")
@click.option("--coverage-out", type=click.Path(dir_okay=False), help="Write coverage per interval (.csv, .parquet, .json).")
@click.option("--agents", "agents_file", type=click.Path(dir_okay=False), help="Also make a named roster for these "
              "agents (CSV or YAML: name, queue, contracted_hours, days_off).")
@click.option("--roster-out", type=click.Path(dir_okay=False), help="With --agents: write who works which shift "
              "(.csv, .parquet, .json).")
@format_option
@click.pass_obj
def schedule(app: App, run_id, week, method, quantile, out, coverage_out, agents_file, roster_out, fmt) -> None:
    """Shifts for one week: headcount per shift and day, breaks, and coverage per interval.

    pyworkforce's CP-SAT models choose the headcount per shift template start and day
    (cover: every interval at least covered at the lowest paid hours; fit: the closest fit) and
    place every agent's breaks. Intervals that no allowed shift can cover are listed with the
    agents missing; the rest is still planned. Stored with the run for 'forecaster capacity'.

    \b
    Example:
      forecaster --config configs/example.yaml schedule --week 2026-W49 --out var/out/shifts.csv
      forecaster --config configs/example.yaml schedule --agents data/demo/agents.csv --roster-out var/out/roster.csv
    """
    from forecaster.output import to_json, write_bytes, write_table
    from forecaster.scheduling import schedule_run
    from forecaster.store import Runs

    config = app.config
    agents = None
    if agents_file:
        from forecaster.rostering import read_agents

        agents = read_agents(agents_file, config)                 # checked before anything is solved
    elif roster_out:
        raise UserError("--roster-out needs --agents FILE (the agents to roster)")
    with app.store() as store, store.transaction():
        result = schedule_run(Runs(store), config, run_id, week, method, quantile)
    shifts, meta = result["shifts"], result["meta"]
    if out:
        if Path(out).suffix.lower() == ".json":
            write_bytes(out, to_json({k: result[k].to_dict("records") for k in
                                      ("summary", "shifts", "coverage", "breaks", "shortfalls")}).encode())
        else:
            write_table(shifts, out)
    if coverage_out:
        write_table(result["coverage"], coverage_out)
    if fmt != "table":
        click.echo(render(shifts, fmt))
        return
    order = {q: i for i, q in enumerate(config.queue_names)}
    shifts = shifts.sort_values(["queue", "start"], key=lambda c: c.map(order) if c.name == "queue" else c.dt.time)
    pivot = (shifts.assign(day=pd.to_datetime(shifts["day"]).dt.strftime("%a %d"))
             .pivot_table(index=["queue", "shift"], columns="day", values="headcount", aggfunc="sum", fill_value=0,
                          sort=False).reset_index())
    statuses = ", ".join(f"{n} {s}" for s, n in meta["statuses"].items())
    click.echo(f"Run #{result['run_id']}, week {meta['week']} ({meta['method']}, "
               f"{'mean' if meta['quantile'] is None else 'quantile ' + format(meta['quantile'], 'g')}): "
               f"queue-days {statuses}; solver {meta['solve_s']:.1f} s")
    click.echo(f"Required {meta['required_agent_h']:,.0f} agent-h, on shift {meta['on_shift_agent_h']:,.0f} "
               f"({meta['required_agent_h'] / max(meta['on_shift_agent_h'], 1e-9):.0%} of shift time needed), "
               f"paid {meta['paid_agent_h']:,.0f}")
    click.echo(render(pivot, "table"))
    short = result["shortfalls"]
    if len(short):
        warn([f"{len(short)} interval(s) cannot be covered ({meta['short_agent_h']:.1f} agent-h short); "
              "first: " + ", ".join(f"{r.queue} {r.interval_start:%a %d %H:%M} short {r.agents_missing}"
                                    for r in short.head(5).itertuples())])
    notes = [f"{r.queue} {r.day}: {r.notes}" for r in result["summary"].itertuples() if r.notes]
    warn(notes)
    if agents is not None:
        _roster(result, agents, config, roster_out)


def _roster(result: dict, agents: pd.DataFrame, config: Config, roster_out: str | None) -> None:
    from forecaster.output import write_table
    from forecaster.rostering import roster_week

    week_start = dt.date.fromisoformat(result["meta"]["week_start"])
    ros = roster_week(result["shifts"], agents, week_start, config.scheduling.time_limit_s)
    if roster_out:
        write_table(ros["roster"], roster_out)
    click.echo(f"\nNamed roster (pyworkforce MinHoursRoster), {len(agents)} agent(s):")
    click.echo(render(ros["summary"], "table"))
    short = ros["agents"][ros["agents"]["vs_contract_h"] < 0] if len(ros["agents"]) else ros["agents"]
    if len(short):
        click.echo(f"{len(short)} agent(s) rostered under their contract (pyworkforce takes one minimum per roster; "
                   f"{short['vs_contract_h'].sum():,.1f} h in all){'; the first 10:' if len(short) > 10 else ':'}")
        click.echo(render(short.head(10), "table"))
    warn([f"roster {r.queue}: {r.notes}" for r in ros["summary"].itertuples() if r.notes])


@cli.command()
@click.option("--run", "run_id", type=int, help="Run whose schedule to use. Default: the latest forecast run.")
@click.option("--quantile", type=click.FloatRange(0.5, 0.99), help="Spare only where the schedule beats this "
              "forecast quantile. Default: the config's outbound.quantile.")
@click.option("--min-minutes", type=click.IntRange(1, 24 * 60), help="Shortest window worth planning.")
@click.option("--min-agents", type=click.IntRange(1, 10_000), help="Fewest spare agents worth planning.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the windows (.csv, .parquet, .json or .ics).")
@format_option
@click.pass_obj
def capacity(app: App, run_id, quantile, min_minutes, min_agents, out, fmt) -> None:
    """Spare-capacity windows: where the schedule leaves agents free for outbound work.

    Spare agents are the schedule's productive agents minus those needed at a forecast
    quantile, so a window is only offered when it is likely to stay quiet. 'risk' is the chance
    that inbound demand needs the lent agents after all; call-backs caused by the outbound calls
    are added to the forecast before the windows are final. --out FILE.ics gives a calendar.

    \b
    Example:
      forecaster --config configs/example.yaml capacity --min-minutes 90 --out var/out/outbound.ics
    """
    from forecaster.capacity import capacity_run, to_ics
    from forecaster.output import write_bytes, write_table
    from forecaster.store import Runs

    with app.store() as store, store.transaction():
        result = capacity_run(Runs(store), app.config, run_id, quantile, min_minutes, min_agents)
    wins, meta = result["windows"], result["meta"]
    if out:
        if Path(out).suffix.lower() == ".ics":
            write_bytes(out, to_ics(wins, result["config"]))
        else:
            write_table(wins, out)
    if fmt == "table":
        click.echo(f"Run #{result['run_id']}: {meta['windows']} window(s), {meta['spare_agent_hours']:,.1f} spare "
                   f"agent-h, about {meta['outbound_calls']:,} connected outbound calls "
                   f"(adding {meta['callbacks']:.0f} inbound call-backs); spare beats the "
                   f"{meta['quantile']:g} quantile")
        shown = wins.assign(start=wins["start"].dt.strftime("%a %Y-%m-%d %H:%M"), end=wins["end"].dt.strftime("%H:%M"),
                            risk=(wins["risk"] * 100).round(1).astype(str) + "%")
        click.echo(render(shown, "table"))
        return
    click.echo(render(wins, fmt))


@cli.command()
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Last day of actuals to use. "
              "Default: the last day in the store.")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Where the forecasting step runs (statsforecast's Dask backend through fugue).")
@click.option("--dask-address", metavar="HOST:PORT", help="Dask scheduler; default: a local cluster.")
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
    from forecaster.nightly import STEPS, Log, run_nightly

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


@cli.command("impact")
@click.option("--campaign", "campaign_id", metavar="ID", help="Only this campaign, per queue and day.")
@click.option("--unexplained", is_flag=True, help="List days above the 95% bound with no campaign or holiday "
              "behind them instead.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="With --unexplained: from this day "
              "(default: 8 weeks before the as-of).")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Last day of actuals to use. "
              "Default: the last.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the rows shown (.csv, .parquet, .json).")
@format_option
@click.pass_obj
def impact_cmd(app: App, campaign_id, unexplained, since, as_of, out, fmt) -> None:
    """Contacts each campaign caused (past) or will add (planned), with 80% intervals and agent-hours.

    Past campaigns: actual minus the counterfactual without the campaign, from a daily fit per
    queue with one carry-over column per campaign (pooled towards its channel's typical effect).
    Planned campaigns: the channel's learned response per 1,000 reached times the reach. Also
    prints the learned response curve per channel and queue. --unexplained lists days nobody
    can explain: was there a campaign nobody told us about?

    \b
    Example:
      forecaster --config configs/example.yaml impact
      forecaster --config configs/example.yaml impact --campaign CMP-2026-046
      forecaster --config configs/example.yaml impact --unexplained --since 2026-09-01
    """
    from forecaster.impact import impact_store, unexplained as spikes
    from forecaster.output import write_table

    result = impact_store(app.store_path, app.config, as_of.date() if as_of else None, app.lock_timeout_s)
    if unexplained:
        start = since.date() if since else result["as_of"] - dt.timedelta(weeks=8)
        frame = spikes(result["result"], start)
        title = (f"{len(frame)} day(s) from {start} to {result['as_of']} above the 95% bound with no campaign or "
                 "holiday behind them (about 1 day in 40 crosses it by chance)")
    elif campaign_id:
        if campaign_id not in set(result["calendar"]["campaign_id"]):
            raise UserError(f"campaign {campaign_id!r} is not in the current calendar; 'forecaster campaigns list' "
                            "shows the campaigns")
        frame = result["days"][result["days"]["campaign_id"] == campaign_id].drop(columns="campaign_id")
        row = result["campaigns"][result["campaigns"]["campaign_id"] == campaign_id]
        title = (f"{campaign_id}: no measurable response (no past campaign of its channel reached these queues)"
                 if row.empty else
                 f"{campaign_id} ({row['status'].iloc[0]}): {row['extra_contacts'].iloc[0]:,.0f} extra contacts, 80% "
                 f"interval {row['lo_80'].iloc[0]:,.0f} to {row['hi_80'].iloc[0]:,.0f}, "
                 f"{row['extra_agent_hours'].iloc[0]:,.1f} agent-hours")
    else:
        frame = result["campaigns"]
        title = (f"Campaign impact as of {result['as_of']}: {int((frame['status'] == 'past').sum())} past, "
                 f"{int((frame['status'] == 'planned').sum())} planned (80% intervals)")
    if out:
        write_table(frame, out)
    if fmt != "table":
        click.echo(render(frame, fmt))
        return
    click.echo(title)
    click.echo(render(frame.round(2), "table"))
    if not unexplained and not campaign_id:
        click.echo("\nResponse per channel and queue (contacts per 1,000 reached; 10th-90th percentile of campaigns):")
        click.echo(render(result["curves"].round(2), "table"))


@cli.command("report")
@click.option("--run", "run_id", type=int, help="Run to report on. Default: the latest published.")
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
    from forecaster.report import write_report

    path, rid = write_report(app.store_path, app.config, out, run_id, app.lock_timeout_s)
    click.echo(f"Report for run #{rid} written to {path}")


@cli.group("scenario", invoke_without_command=True)
@click.option("--run", "run_id", type=int, help="Forecast run to start from. Default: the latest published.")
@click.option("--name", help="Store the scenario under this name (default: scenario-DATE-TIME).")
@click.option("--queue", "queues", multiple=True, help="Change only this queue (repeatable). Default: all.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
              help="Change only intervals from this day or time on.")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
              help="... up to this time (a plain day includes that whole day).")
@click.option("--volume", metavar="+N%", help="More or fewer contacts, e.g. +5% or -10%.")
@click.option("--aht", metavar="+Ns|+N%", help="Longer or shorter handling, e.g. +30s or +10%.")
@click.option("--deflect", metavar="N%", help="Share of contacts moved to self-service or a community, e.g. 15%.")
@click.option("--deflect-aht", metavar="+N%|+Ns", help="Handling time of the contacts that remain, e.g. +20%.")
@click.option("--sl", "sl_text", metavar="PCT/SEC", help="Another service-level target, e.g. 90/15.")
@click.option("--asa", "asa_text", metavar="Ns", help="An average-speed-of-answer target instead, e.g. 20s.")
@click.option("--model", type=click.Choice(["erlang_c", "erlang_a"]), help="Queueing model for the scenario.")
@click.option("--patience", "patience_text", metavar="Ns", help="Mean caller patience for Erlang A, e.g. 90s.")
@click.option("--shrinkage", type=click.FloatRange(0, 0.95), help="Another shrinkage, a fraction, e.g. 0.35.")
@click.option("--max-occupancy", type=click.FloatRange(0.05, 1.0), help="Another occupancy cap, e.g. 0.85.")
@click.option("--campaign-move", "moves", multiple=True, metavar="ID=YYYY-MM-DD",
              help="Start a campaign on another day (repeatable); the forecast is re-predicted.")
@click.option("--campaign-drop", "drops", multiple=True, metavar="ID", help="Leave a campaign out (repeatable).")
@click.option("--quantile", type=click.FloatRange(0.5, 0.99), help="Staff a forecast quantile instead of the mean.")
@click.option("--by", "by_what", type=click.Choice(["queue", "day"]), default="queue", show_default=True,
              help="Rows of the table: per queue, or per queue and day.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write base, scenario and change per queue and day "
              "(.csv, .parquet, .json).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="table for people; csv (the rows of the table, every metric) or json (totals and queues).")
@click.pass_context
def scenario_group(ctx: click.Context, run_id, name, queues, start, end, volume, aht, deflect, deflect_aht, sl_text,
                   asa_text, model, patience_text, shrinkage, max_occupancy, moves, drops, quantile, by_what, out,
                   fmt) -> None:
    """What-if: change handling time, volume, deflection, targets or campaigns; see the cost.

    Works on a copy of a stored forecast run (never changes it) and compares the scenario with
    the base per queue (or day) and in total: contacts, required agent-hours, FTE, and what
    today's schedule would give if nobody re-staffs (service level, ASA, abandonment for queues
    with a patience, spare agent-hours), and the cost at scheduling.hourly_cost. Each scenario is
    stored with its parameters; 'scenario compare NAME...' puts stored ones side by side.

    \b
    Example:
      forecaster --config configs/example.yaml scenario --name help-properly --aht +30s
      forecaster --config configs/example.yaml scenario --name community --deflect 15% --deflect-aht +20%
      forecaster --config configs/example.yaml scenario --name sl90 --sl 90/15 --model erlang_a
      forecaster --config configs/example.yaml scenario compare help-properly community sl90
    """
    if ctx.invoked_subcommand is not None:
        return
    from forecaster import scenario as sc
    from forecaster.calculator import parse_sl
    from forecaster.output import write_table

    app: App = ctx.obj
    if end is not None and (end.hour, end.minute) == (0, 0):
        end = end + dt.timedelta(days=1)                  # --to 2026-12-20 means the whole of that day
    spec = sc.Scenario(
        queues=list(queues) or None, start=start, end=end,
        volume=sc.parse_change(volume, "--volume", seconds=False) if volume else None,
        aht=sc.parse_change(aht, "--aht") if aht else None,
        deflect=sc.parse_share(deflect, "--deflect") if deflect is not None else None,
        deflect_aht=sc.parse_change(deflect_aht, "--deflect-aht") if deflect_aht else None,
        sl=parse_sl(sl_text) if sl_text else None,
        asa_s=sc.parse_seconds(asa_text, "--asa") if asa_text else None,
        model=model, patience_s=sc.parse_seconds(patience_text, "--patience") if patience_text else None,
        shrinkage=shrinkage, max_occupancy=max_occupancy, campaign_move=sc.parse_moves(moves),
        campaign_drop=list(drops), quantile=quantile)
    result = sc.scenario_store(app.store_path, app.config, spec, run_id, name, getpass.getuser(), app.lock_timeout_s)
    if out:
        write_table(result["days"], out)
    if fmt == "csv":
        click.echo(render(result["queues"] if by_what == "queue" else result["days"], "csv"))
        return
    if fmt == "json":
        click.echo(to_json({"scenario_id": result["scenario_id"], "name": result["name"], "run_id": result["run_id"],
                            "params": spec.model_dump(mode="json"), "info": result["info"],
                            "total": result["total"].to_dict("records")[0],
                            "queues": result["queues"].to_dict("records")}))
        return
    warn(result["info"]["notes"])
    staffed = ", ".join(f"{v} intervals from the {k}" for k, v in result["info"]["staffed_from"].items())
    click.echo(f"Scenario '{result['name']}' (#{result['scenario_id']}) on run #{result['run_id']}; "
               f"today's staffing: {staffed}")
    by = ["queue"] if by_what == "queue" else ["queue", "day"]
    frame = result["queues"] if by_what == "queue" else result["days"]
    total = result["total"].assign(queue="TOTAL", day="")
    click.echo(render(sc.table(pd.concat([frame, total], ignore_index=True), by), "table"))


@scenario_group.command("compare")
@click.argument("names", nargs=-1, required=True)
@format_option
@click.pass_obj
def scenario_compare(app: App, names: tuple[str, ...], fmt: str) -> None:
    """Stored scenarios side by side (totals over the horizon), each with its base.

    \b
    Example:
      forecaster --config configs/example.yaml scenario compare help-properly community sl90
    """
    from forecaster.scenario import stored_comparison

    with app.store(read_only=True) as store:
        frame = stored_comparison(store, list(names))
    if fmt == "table":
        frame = frame.round({"contacts": 0, "required_agent_h": 0, "scheduled_agent_h": 0, "fte": 1,
                             "service_level": 3, "asa_s": 1, "abandon": 3, "spare_agent_h": 0, "cost": 0})
    click.echo(render(frame, fmt))


@scenario_group.command("list")
@format_option
@click.pass_obj
def scenario_list(app: App, fmt: str) -> None:
    """Stored scenarios, newest first, with their parameters and cost change.

    \b
    Example:
      forecaster --config configs/example.yaml scenario list
    """
    from forecaster.store import Scenarios

    with app.store(read_only=True) as store:
        frame = Scenarios(store).list()
    if fmt == "table":
        frame = frame.assign(params=frame["params"].map(_changes), cost_delta=frame["cost_delta"].round(0))
    click.echo(render(frame, fmt))


def _changes(params: str) -> str:
    """Only the options a scenario set, e.g. ``aht=['s', 30.0]``."""
    p = json.loads(params) if isinstance(params, str) else params
    return " ".join(f"{k}={v}" for k, v in p.items() if v not in (None, [], {}))


@cli.group("campaigns")
def campaigns_group() -> None:
    """Marketing's campaign calendar: check, submit, list, show, withdraw."""


def _by_option(f):
    return click.option("--by", required=True, metavar="NAME", help="Who submits (kept with every version).")(f)


@campaigns_group.command("schema")
def campaigns_schema() -> None:
    """Print the calendar's JSON Schema, so other tools can check a file before sending it.

    \b
    Example:
      forecaster campaigns schema > campaign-calendar.schema.json
    """
    from forecaster.campaigns import json_schema

    click.echo(to_json(json_schema()))


def _show_plan(planned: pd.DataFrame) -> str:
    counts = planned["status"].value_counts()
    return ", ".join(f"{int(counts.get(s, 0))} {s}" for s in ("new", "changed", "unchanged", "revived")
                     if counts.get(s, 0) or s != "revived")


@campaigns_group.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_obj
def campaigns_validate(app: App, file: str) -> None:
    """Check a calendar (CSV, XLSX or YAML) and say what submitting it would change. Changes nothing.

    \b
    Example:
      forecaster --config configs/example.yaml campaigns validate data/demo/campaigns.csv
    """
    from forecaster.campaigns import plan, read_calendar

    from forecaster.impact import peak_warnings

    cal = read_calendar(file, app.config)
    cal.warnings += peak_warnings(app.store_path, app.config, cal.frame)
    store = app.store(read_only=True) if app.store_path.exists() else None
    try:
        planned = plan(store, cal)
    finally:
        if store is not None:
            store.close()
    warn(cal.warnings)
    click.echo(f"OK: {len(planned)} campaign(s) in {file}; submitting would give {_show_plan(planned)}.")


@campaigns_group.command("submit")
@click.argument("file", type=click.Path(dir_okay=False))
@_by_option
@click.pass_obj
def campaigns_submit(app: App, file: str, by: str) -> None:
    """Submit a calendar: all or nothing; a changed campaign becomes a new version.

    Every version is kept with who submitted it and when. If the store is busy for longer
    than --lock-timeout, the checked submission is queued safely and applied by the next run.

    \b
    Example:
      forecaster --config configs/example.yaml campaigns submit data/demo/campaigns.csv --by "Marketing NL"
    """
    from forecaster.campaigns import read_calendar, submit

    from forecaster.impact import peak_warnings

    cal = read_calendar(file, app.config)
    warn(cal.warnings + peak_warnings(app.store_path, app.config, cal.frame))
    result = submit(app.store_path, cal, by, app.lock_timeout_s)
    if "queued" in result:
        click.echo(f"The store is busy (a long job is running); your submission is checked and queued as "
                   f"{result['queued']}. It is applied by the next run; nothing is lost.")
        return
    click.echo(f"Submitted {len(cal.frame)} campaign(s) from {file} as submission #{result['submission_id']}: "
               f"{result['new']} new, {result['changed'] + result['revived']} changed, {result['unchanged']} unchanged.")
    if result["inbox_applied"]:
        click.echo(f"Also applied {result['inbox_applied']} queued submission(s) first.")


@campaigns_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include withdrawn campaigns.")
@format_option
@click.pass_obj
def campaigns_list(app: App, show_all: bool, fmt: str) -> None:
    """List the current version of every campaign.

    \b
    Example:
      forecaster --config configs/example.yaml campaigns list --format json
    """
    from forecaster.campaigns import current

    with app.store(read_only=True) as store:
        frame = current(store, include_withdrawn=show_all)
    frame = frame.assign(queues=frame["queues"].map(lambda q: ";".join(q)))
    cols = ["campaign_id", "version", "name", "channel", "start_ts", "end_ts", "queues", "reach", "withdrawn",
            "submitted_by", "submitted_at"] + (["notes"] if fmt != "table" else [])
    click.echo(render(frame[cols], fmt))


@campaigns_group.command("show")
@click.argument("campaign_id")
@format_option
@click.pass_obj
def campaigns_show(app: App, campaign_id: str, fmt: str) -> None:
    """Show one campaign with all its versions, oldest first.

    \b
    Example:
      forecaster --config configs/example.yaml campaigns show CMP-2026-046
    """
    from forecaster.campaigns import versions

    with app.store(read_only=True) as store:
        frame = versions(store, campaign_id)
    click.echo(render(frame.assign(queues=frame["queues"].map(lambda q: ";".join(q))), fmt))


@campaigns_group.command("advise")
@click.argument("campaign_id", metavar="ID")
@click.option("--window", metavar="FROM..TO", help="Start dates to compare, e.g. 2026-12-01..2026-12-20. "
              "Default: from a week before the planned start, three weeks long, inside the forecast.")
@format_option
@click.pass_obj
def campaigns_advise(app: App, campaign_id, window, fmt) -> None:
    """Rank start dates for a campaign by extra staffing cost and service risk.

    For every start date in the window, the channel's learned response (per 1,000 reached,
    with its lag and decay) is added to the latest published forecast, and the scenario
    machinery measures the extra required agent-hours and their cost, and the service level,
    abandonment and overloaded intervals with today's schedule. Cheapest and safest first;
    the current date is marked.

    \b
    Example:
      forecaster --config configs/example.yaml campaigns advise CMP-2026-046 --window 2026-12-01..2026-12-20
    """
    from forecaster.impact import advise_store

    span = None
    if window:
        lo, sep, hi = window.partition("..")
        try:
            span = (dt.date.fromisoformat(lo.strip()), dt.date.fromisoformat(hi.strip()))
        except ValueError:
            raise UserError(f"--window {window}: write FROM..TO with dates, e.g. 2026-12-01..2026-12-20") from None
        if not sep:
            raise UserError(f"--window {window}: write FROM..TO with dates, e.g. 2026-12-01..2026-12-20")
    out = advise_store(app.store_path, app.config, campaign_id, span, app.lock_timeout_s)
    table = out["table"]
    if fmt != "table":
        click.echo(render(table, fmt))
        return
    warn(out["notes"])
    c = out["campaign"]
    best = table.iloc[0]
    click.echo(f"{campaign_id} ({c['name']}, {c['channel']}, reach {c['reach']:,.0f}) on run #{out['run_id']}: "
               f"cheapest start {best['start']} ({best['weekday']}), cost change {best['cost_delta']:+,.0f} against "
               f"the current plan")
    shown = table.assign(current=table["current"].map({True: "<- current", False: ""}),
                         service_level_today=(table["service_level_today"] * 100).round(1).astype(str) + "%",
                         abandon_today=(table["abandon_today"] * 100).round(1).astype(str) + "%")
    click.echo(render(shown.round(1), "table"))


@campaigns_group.command("withdraw")
@click.argument("campaign_id")
@_by_option
@click.pass_obj
def campaigns_withdraw(app: App, campaign_id: str, by: str) -> None:
    """Withdraw a campaign (a new version marked withdrawn; earlier versions stay).

    \b
    Example:
      forecaster --config configs/example.yaml campaigns withdraw CMP-2026-046 --by "Marketing NL"
    """
    from forecaster.campaigns import withdraw

    with app.store() as store:
        version = withdraw(store, campaign_id, by)
    click.echo(f"Withdrew {campaign_id} (version {version}).")


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
    from forecaster.store import Runs

    with ctx.obj.store(read_only=True) as store:
        frame = Runs(store).list(kind)
    click.echo(render(frame, fmt) if len(frame) or fmt != "table" else "No runs yet: run 'forecaster forecast'.")


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

    from forecaster.store import Runs

    with app.store(read_only=True) as store:
        runs = Runs(store)
        if run_id == "latest":
            run_id = runs.latest("forecast")
            if run_id is None:
                raise UserError("no published run yet; run 'forecaster nightly' or 'forecaster forecast'")
        elif not run_id.isdigit():
            raise UserError(f"'{run_id}' is not a run number or 'latest'; 'forecaster runs' lists them")
        run_id = int(run_id)
        run = runs.get(run_id)
        if run is None:
            raise UserError(f"no run {run_id} in the store; 'forecaster runs' lists them")
        outputs = runs.list().set_index("run_id").loc[run_id, ["forecast_rows", "requirement_rows"]].to_dict()
    run["params"], run["info"] = json.loads(run["params"] or "{}"), json.loads(run["info"] or "{}")
    if fmt != "table":
        click.echo(to_json({**run, **outputs}))
        return
    as_of = f"as of {run['as_of']:%Y-%m-%d}" if pd.notna(run["as_of"]) else "no as-of yet"
    published = ", superseded by a later run of the same as-of" if run["status"] == "ok" and not run["published"] else ""
    click.echo(f"Run #{run_id}: {run['kind']}, {run['status']}{published}, {as_of}, started "
               f"{run['started_at']:%Y-%m-%d %H:%M}; params {json.dumps(run['params'])}")
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
    for key in ("fallbacks", "warnings"):
        for item in run["info"].get(key, []):
            click.echo(f"{key[:-1].capitalize()}: {item if isinstance(item, str) else json.dumps(item)}")
    if run["info"].get("adstock"):
        click.echo("Campaign carry-over learned: " + ", ".join(
            f"{c} lag {v['lag_days']} d, ramp {v.get('ramp_days', 0)} d, decay {v['decay']}"
            for c, v in run["info"]["adstock"].items()))
    if run["info"].get("schedule"):
        s = run["info"]["schedule"]
        click.echo(f"Schedule: week {s['week']} ({s['method']}), queue-days {s['statuses']}, solver {s['solve_s']} s; "
                   f"required {s['required_agent_h']:,.0f} agent-h, on shift {s['on_shift_agent_h']:,.0f}, "
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


@cli.group("store")
def store_group() -> None:
    """Look after the store file itself."""


@store_group.command("migrate")
@click.pass_obj
def store_migrate(app: App) -> None:
    """Bring a store written by an older forecaster to this version (keeps a backup copy).

    \b
    Example:
      forecaster --store var/demo.duckdb store migrate
    """
    with Store(app.store_path, lock_timeout_s=app.lock_timeout_s, check_version=False) as store:
        before, after, backup = store.migrate()
    if backup is None:
        click.echo(f"Store {app.store_path} is already at schema version {after}; nothing to do.")
    else:
        click.echo(f"Migrated {app.store_path} from schema version {before} to {after}; backup at {backup}.")


@cli.group("config")
def config_group() -> None:
    """Check the site config."""


@config_group.command("check")
@click.pass_obj
def config_check(app: App) -> None:
    """Validate the config and summarise it.

    \b
    Example:
      forecaster --config configs/example.yaml config check
    """
    c = app.config
    click.echo(f"Config OK: {c.site}, {c.timezone}, {c.interval_min}-minute intervals, "
               f"{len(c.queues)} queue(s) ({', '.join(c.queue_names)}), {len(c.shifts)} shift template(s); "
               f"store {c.store_path}")


def main() -> None:
    cli(prog_name="forecaster")


if __name__ == "__main__":
    main()
