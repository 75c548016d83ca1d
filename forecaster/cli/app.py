"""Command-line interface. Each command parses, calls one library function and prints.

Errors are translated in one place (:class:`ForecasterGroup`): a user mistake prints one
``Error: ...`` line (further problems follow, indented) and exits 2; an internal failure
exits 1 with a hint to report it.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

import click

from forecaster import __version__
from forecaster.core.errors import ConfigError, ForecasterError, InputError, Problem
from forecaster.io.output import FORMATS

if TYPE_CHECKING:
    from forecaster.core.config import Config
    from forecaster.store.database import Store

DEFAULT_CONFIG = "forecaster.yaml"


# Which module defines each top-level command. A command's module is imported when the command is
# run (click's lazily loaded subcommands), so `forecaster erlang` does not pay for importing the
# forecasting and scheduling stacks (statsforecast, OR-tools): it starts in 0.8 s (as 0.1 did), not 1.9 s.
# The config (pydantic) and the store (DuckDB) are imported when a command first asks for them.
COMMAND_MODULES = {
    "ingest": "data", "status": "data", "store": "data", "config": "data",
    "forecast": "forecasting", "backtest": "forecasting", "nightly": "forecasting", "report": "forecasting",
    "runs": "forecasting",
    "erlang": "staffing",
    "staff": "planning", "schedule": "planning", "capacity": "planning", "intraday": "intraday",
    "scenario": "scenarios",
    "campaigns": "campaigns", "impact": "campaigns",
    "users": "users", "serve": "users",
}


class ForecasterGroup(click.Group):
    """A click group that turns our exceptions into one clear line and an exit code, and loads each
    command's module when the command is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMAND_MODULES:
            importlib.import_module(f"forecaster.cli.{COMMAND_MODULES[name]}")   # registers its commands
        return super().get_command(ctx, name)

    def load_all(self) -> None:
        """Import every command module (for tools that walk ``commands``, like the docs test)."""
        for module in sorted(set(COMMAND_MODULES.values())):
            importlib.import_module(f"forecaster.cli.{module}")

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
        from forecaster.core.config import load_config  # pydantic, holidays: not for commands without a config

        return load_config(path)

    @property
    def store_path(self) -> Path:
        return Path(self.store_override) if self.store_override else self.config.store_path

    def store(self, read_only: bool = False) -> Store:
        from forecaster.store.database import Store  # DuckDB, pandas: not for commands without a store

        return Store(self.store_path, read_only=read_only, lock_timeout_s=self.lock_timeout_s)


class RunId(click.ParamType):
    """A run number, or ``latest`` for the published plan (as ``runs show latest``), which is also
    what leaving ``--run`` out gives."""

    name = "ID|latest"

    def convert(self, value, param, ctx):
        if value is None or isinstance(value, int):
            return value
        if str(value).strip().lower() == "latest":
            return None
        if str(value).strip().isdigit():
            return int(value)
        self.fail(f"{value!r} is not a run number or 'latest'; 'forecaster runs' lists them", param, ctx)


RUN_ID = RunId()


def format_option(f):
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                        help="How to print the result.")(f)


def warn(lines: list[str]) -> None:
    for line in lines:
        click.echo(f"Warning: {line}", err=True)


def tell_run(result: dict, what: str) -> None:
    """Say on stderr which run a command used and, when that run is published, which draft now holds
    ``what`` (a published run is never rewritten)."""
    click.echo(f"Using {result['used']}.", err=True)
    if result.get("derived"):
        rid, src = result["run_id"], result["source_run_id"]
        click.echo(f"Run #{src} is published and stays as it is: the new {what} is in draft run #{rid}, derived from "
                   f"it. 'forecaster runs publish {rid}' makes it the plan; other commands take it with --run {rid}.",
                   err=True)


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
