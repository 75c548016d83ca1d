"""Commands for the data: ingest, status, the store and the config."""

from __future__ import annotations

import click
import pandas as pd

from forecaster.cli.app import App, cli, format_option, warn
from forecaster.io.actuals import ingest as ingest_files
from forecaster.io.output import render, to_json
from forecaster.store.database import Store


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
