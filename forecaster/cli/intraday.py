"""The intraday reforecast: the rest of today from this morning's contacts, against the schedule."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import click
import pandas as pd

from forecaster.cli.app import App, cli, format_option, warn
from forecaster.core.errors import UserError
from forecaster.io.output import render, to_json, write_bytes, write_table
from forecaster.jobs.intraday import intraday_store


def parse_at(value: str | None, tz: str, interval_min: int) -> pd.Timestamp:
    """``--at`` (``YYYY-MM-DD HH:MM``; default now at the site), rounded down to the interval."""
    if value is None:
        at = pd.Timestamp(dt.datetime.now(ZoneInfo(tz)).replace(tzinfo=None))
    else:
        try:
            at = pd.Timestamp(dt.datetime.strptime(value.strip(), "%Y-%m-%d %H:%M"))
        except ValueError:
            raise UserError(f"--at {value!r} is not a time like '2026-12-02 12:00' (YYYY-MM-DD HH:MM, the site's "
                            "local time)") from None
    return at.floor(f"{interval_min}min")


@cli.command()
@click.option("--at", "at_text", metavar='"YYYY-MM-DD HH:MM"', help="Update time, site-local. Default: now, rounded "
              "down to the interval.")
@click.option("--queue", "queues", multiple=True, help="Only this queue (repeat for several). Default: every queue.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write every interval (.csv, .parquet); .json writes "
              "intervals, queues and actions.")
@click.option("--no-drop", is_flag=True, help="Do not take in new files from the drop folder first.")
@format_option
@click.pass_obj
def intraday(app: App, at_text, queues, out, no_drop, fmt) -> None:
    """Re-forecast the rest of today from the contacts so far, and set it against the schedule.

    The published plan's forecast for the rest of the day is scaled by how the day has run so
    far (observed against planned contacts), shrunk per queue by how well a morning has
    predicted its afternoon on the queue's recent days; the 80 % and 95 % bands are calibrated
    on those days. Per queue: the service to expect with today's schedule, the chance of
    meeting the target, overtime hours needed and voluntary time off possible; outbound windows
    to cancel, shrink or open. Stored as a draft run of kind 'intraday' linked to the plan (the
    plan itself is never changed). The day's export so far is taken in from the nightly's drop
    folder first (or ingest it with 'forecaster ingest').

    \b
    Example:
      forecaster --config configs/example.yaml intraday --at "2026-11-20 12:00"
    """

    config = app.config
    unknown = sorted(set(queues) - set(config.queue_names))
    if unknown:
        raise UserError(f"--queue {unknown[0]} is not in the config; queues: {', '.join(config.queue_names)}")
    at = parse_at(at_text, config.timezone, config.interval_min)
    result = intraday_store(app.store_path, config, at, list(queues) or None, app.lock_timeout_s, drop=not no_drop)
    if result["ingested"]:
        click.echo(f"Took in {len(result['ingested'])} file(s) from the drop folder: {', '.join(result['ingested'])}.",
                   err=True)
    click.echo(f"Using {result['used']}.", err=True)
    warn(result["notes"])
    intervals, summary, actions = result["intervals"], result["queues"], result["actions"]
    if out:
        if str(out).lower().endswith(".json"):
            write_bytes(out, to_json({k: result[k].to_dict("records") for k in ("queues", "actions", "intervals")}).encode())
        else:
            write_table(intervals, out)
    if fmt == "json":
        click.echo(to_json({"run_id": result["run_id"], "plan_run_id": result["plan_run_id"], "at": str(at),
                            **{k: result[k].to_dict("records") for k in ("queues", "actions", "intervals")}}))
        return
    if fmt == "csv":
        click.echo(render(intervals, "csv"))
        return
    click.echo(f"Intraday run #{result['run_id']} at {at:%a %Y-%m-%d %H:%M}, on plan run #{result['plan_run_id']}:")
    shown = summary.assign(vs_plan=(summary["vs_plan"] * 100).round(0).astype("Int64").astype(str) + "%",
                           factor=summary["factor"].round(3),
                           service_level=(summary["service_level"] * 100).round(1),
                           chance_target=(summary["chance_target"] * 100).round(0))
    click.echo(render(shown.rename(columns={"service_level": "service_level_pct", "chance_target": "chance_target_pct"})
                      .round(1), "table"))
    if len(actions):
        click.echo("\nOutbound:")
        click.echo(render(actions.assign(start=actions["start"].dt.strftime("%H:%M"),
                                         end=pd.to_datetime(actions["end"]).dt.strftime("%H:%M")), "table"))
