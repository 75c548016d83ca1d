"""Commands for marketing's campaign calendar and the impact of campaigns."""

from __future__ import annotations

import datetime as dt

import click
import pandas as pd

from forecaster.campaigns.calendar import current, json_schema, read_calendar, versions
from forecaster.campaigns.effects import unexplained as spikes
from forecaster.cli.app import App, cli, format_option, warn
from forecaster.core.errors import UserError
from forecaster.io.output import render, to_json, write_table
from forecaster.jobs.actions import (
    advise_store,
    check_calendar,
    check_peaks,
    impact_store,
    submit_calendar,
    withdraw_campaign,
)


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

    cal = read_calendar(file, app.config)
    planned = check_calendar(app.store_path, app.config, cal, app.lock_timeout_s)
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

    cal = read_calendar(file, app.config)
    warn(cal.warnings + check_peaks(app.store_path, app.config, cal.frame))
    result = submit_calendar(app.store_path, cal, by, app.lock_timeout_s)
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

    with app.store(read_only=True) as store:
        frame = current(store, include_withdrawn=show_all)
    frame = frame.assign(queues=frame["queues"].map(lambda q: ";".join(q)))
    cols = ["campaign_id", "version", "name", "channel", "kind", "start_ts", "end_ts", "queues", "reach", "withdrawn",
            "submitted_by", "submitted_at"] + (["expected_contacts", "expected_per_1000", "notes"] if fmt != "table" else [])
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
    with its lag and decay) is added to the published plan's forecast, and the scenario
    machinery measures the extra required agent-hours and their cost, and the service level,
    abandonment and overloaded intervals with today's schedule. Cheapest and safest first;
    the current date is marked.

    \b
    Example:
      forecaster --config configs/example.yaml campaigns advise CMP-2026-046 --window 2026-12-01..2026-12-20
    """

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
    click.echo(f"{campaign_id} ({c['name']}, {c['channel']}, reach {c['reach']:,.0f}) on run #{out['run_id']} "
               f"(the published plan): cheapest start {best['start']} ({best['weekday']}), cost change {best['cost_delta']:+,.0f} against "
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

    version = withdraw_campaign(app.store_path, campaign_id, by, app.lock_timeout_s)
    click.echo(f"Withdrew {campaign_id} (version {version}).")


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
        kinds = result.get("kinds")
        if kinds is not None and len(kinds):
            click.echo("\nResponse per kind (contacts per 1,000 reached for a new campaign of the kind, 80% interval; "
                       "empty kind: campaigns without one):")
            click.echo(render(kinds.round(2), "table"))
        m = (result.get("result") or {}).get("marketing") or {}
        if m.get("campaigns"):
            click.echo(f"\nMarketing's estimates against {m['campaigns']} measured campaign(s): {m['bias']:.2f} x on "
                       f"average (1 = right), about {m['cv']:.0%} off on one campaign; planned estimates are corrected by it.")
