"""Commands for planning on a stored run: requirements, shifts for a week and spare capacity."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import pandas as pd

from forecaster.cli.app import RUN_ID, App, cli, format_option, tell_run, warn
from forecaster.core.config import Config
from forecaster.core.errors import UserError
from forecaster.io.output import render, to_json, write_bytes, write_table
from forecaster.jobs.actions import capacity_store, schedule_store, staff_store
from forecaster.planning.capacity import to_ics
from forecaster.planning.roster import read_agents, roster_week
from forecaster.staffing.requirements import daily_summary


@cli.command()
@click.option("--run", "run_id", type=RUN_ID, help="Forecast run to staff. Default: the published plan.")
@click.option("--quantile", type=click.FloatRange(0.5, 0.99), help="Also staff to this forecast quantile, e.g. 0.8.")
@click.option("--model", type=click.Choice(["erlang_c", "erlang_a"]), default="erlang_c", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write per-interval requirements (.csv, .parquet, .json).")
@format_option
@click.pass_obj
def staff(app: App, run_id, quantile, model, out, fmt) -> None:
    """Agents needed for every queue and interval of a stored forecast run.

    Staffs the mean forecast and, with --quantile, an upper quantile for planners who want a
    safety margin; both are stored with the run (with a new draft derived from it, if the run
    is published: a published plan is never rewritten). Prints required and scheduled agent-hours per
    queue and day; --out writes every interval.

    \b
    Example:
      forecaster --config configs/example.yaml staff --quantile 0.8 --out var/requirements.csv
    """

    config = app.config
    result = staff_store(app.store_path, config, run_id, quantile, model, app.lock_timeout_s)
    tell_run(result, "requirements")
    chosen = result.get("quantile", result["mean"])
    summary = daily_summary(chosen, config.interval_min)
    if out:
        write_table(chosen, out, "requirements")
    basis = f"quantile {quantile:g}" if quantile is not None else "mean forecast"
    if fmt == "table":
        click.echo(f"Run #{result['run_id']}, staffed to the {basis} ({model}):")
    click.echo(render(summary, fmt))


@cli.command()
@click.option("--run", "run_id", type=RUN_ID, help="Forecast run to schedule. Default: the published plan.")
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
    agents missing; the rest is still planned. Stored with the run for 'forecaster capacity'
    (a published run is never rewritten: the plan goes to a new draft derived from it).

    \b
    Example:
      forecaster --config configs/example.yaml schedule --week 2026-W49 --out var/out/shifts.csv
      forecaster --config configs/example.yaml schedule --agents data/demo/agents.csv --roster-out var/out/roster.csv
    """

    config = app.config
    agents = None
    if agents_file:

        agents = read_agents(agents_file, config)                 # checked before anything is solved
    elif roster_out:
        raise UserError("--roster-out needs --agents FILE (the agents to roster)")
    result = schedule_store(app.store_path, config, run_id, week, method, quantile, app.lock_timeout_s)
    tell_run(result, "schedule")
    shifts, meta = result["shifts"], result["meta"]
    if out:
        if Path(out).suffix.lower() == ".json":
            write_bytes(out, to_json({k: result[k].to_dict("records") for k in
                                      ("summary", "shifts", "coverage", "breaks", "shortfalls")}).encode())
        else:
            write_table(shifts, out)
    if coverage_out:
        write_table(result["coverage"], coverage_out, "coverage")
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
    click.echo(f"Required with shrinkage {meta['required_with_shrinkage_agent_h']:,.0f} agent-h, scheduled {meta['scheduled_agent_h']:,.0f} "
               f"({meta['required_with_shrinkage_agent_h'] / max(meta['scheduled_agent_h'], 1e-9):.0%} of shift time needed), "
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
@click.option("--run", "run_id", type=RUN_ID, help="Run whose schedule to use. Default: the published plan.")
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

    result = capacity_store(app.store_path, app.config, run_id, quantile, min_minutes, min_agents, app.lock_timeout_s)
    tell_run(result, "spare capacity")
    warn(result["notes"])
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
