"""Commands for what-ifs: evaluate, compare and list scenarios."""

from __future__ import annotations

import datetime as dt
import getpass
import json

import click
import pandas as pd

from forecaster.cli.app import RUN_ID, App, cli, format_option, warn
from forecaster.io.output import FORMATS, render, to_json, write_table
from forecaster.jobs.actions import scenario_store
from forecaster.scenarios import whatif as sc
from forecaster.scenarios.whatif import stored_comparison
from forecaster.staffing.calculator import parse_sl
from forecaster.store.scenarios import Scenarios


@cli.group("scenario", invoke_without_command=True)
@click.option("--run", "run_id", type=RUN_ID, help="Forecast run to start from. Default: the published plan.")
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
    result = scenario_store(app.store_path, app.config, spec, run_id, name, getpass.getuser(), app.lock_timeout_s)
    click.echo(f"Using {result['used']}.", err=True)
    if out:
        write_table(result["days"], out, "scenario_days")
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

    with app.store(read_only=True) as store:
        frame = stored_comparison(store, list(names))
    if fmt == "table":
        frame = frame.round({"contacts": 0, "required_agent_h": 0, "required_with_shrinkage_agent_h": 0, "fte": 1,
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

    with app.store(read_only=True) as store:
        frame = Scenarios(store).list()
    if fmt == "table":
        frame = frame.assign(params=frame["params"].map(_changes), cost_delta=frame["cost_delta"].round(0))
    click.echo(render(frame, fmt))


def _changes(params: str) -> str:
    """Only the options a scenario set, e.g. ``aht=['s', 30.0]``."""
    p = json.loads(params) if isinstance(params, str) else params
    return " ".join(f"{k}={v}" for k, v in p.items() if v not in (None, [], {}))
