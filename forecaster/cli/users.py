"""Commands for the web part: accounts (``users``) and the server (``serve``)."""

from __future__ import annotations

import getpass
import sys

import click

from forecaster.cli.app import App, cli, format_option
from forecaster.core.errors import UserError
from forecaster.io.output import render
from forecaster.store.users import MIN_PASSWORD, ROLES, Users, check_password


@cli.group("users")
def users_group() -> None:
    """Accounts for the web page and API: add, list, remove, password, token."""


def _password(stdin: bool) -> str:
    if stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise UserError("--password-stdin: no password on standard input; pipe one line, e.g. "
                            "printf '%s\\n' \"$PASSWORD\" | forecaster users add ...")
        return check_password(line)
    return check_password(click.prompt(f"Password (at least {MIN_PASSWORD} characters)", hide_input=True,
                                       confirmation_prompt=True))


_stdin_option = click.option("--password-stdin", is_flag=True, help="Read the password from the first line of "
                             "standard input instead of a prompt (for scripts).")


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="marketing: campaigns, impact, advice; planner: also runs, report, scenarios; admin: also users.")
@_stdin_option
@click.pass_obj
def users_add(app: App, name: str, role: str, password_stdin: bool) -> None:
    """Add a user who logs in to 'forecaster serve' with a password (hashed with argon2).

    \b
    Example:
      forecaster --config configs/example.yaml users add anna --role marketing
      printf '%s\\n' "$PW" | forecaster --config configs/example.yaml users add piet --role planner --password-stdin
    """

    password = _password(password_stdin)
    with app.store() as store, store.transaction():
        Users(store).add(name, role, password, getpass.getuser())
    click.echo(f"Added {name} ({role}). 'forecaster users token {name}' makes an API token.")


@users_group.command("password")
@click.argument("name")
@_stdin_option
@click.pass_obj
def users_password(app: App, name: str, password_stdin: bool) -> None:
    """Set a new password for a user.

    \b
    Example:
      forecaster --config configs/example.yaml users password anna
    """

    password = _password(password_stdin)
    with app.store() as store, store.transaction():
        Users(store).set_password(name, password)
    click.echo(f"New password set for {name}.")


@users_group.command("token")
@click.argument("name")
@click.option("--replace", is_flag=True, help="Revoke the user's other tokens.")
@click.pass_obj
def users_token(app: App, name: str, replace: bool) -> None:
    """Make an API token for a user and print it once (only its hash is kept).

    Send it as 'Authorization: Bearer TOKEN'. The token has the user's role.

    \b
    Example:
      forecaster --config configs/example.yaml users token anna --replace
    """

    with app.store() as store, store.transaction():
        token = Users(store).new_token(name, getpass.getuser(), replace)
    click.echo(token)
    click.echo(f"This is {name}'s new API token; it is not shown again. Keep it like a password.", err=True)


@users_group.command("list")
@format_option
@click.pass_obj
def users_list(app: App, fmt: str) -> None:
    """List the users with their role and how many API tokens they have.

    \b
    Example:
      forecaster --config configs/example.yaml users list
    """

    with app.store(read_only=True) as store:
        click.echo(render(Users(store).list(), fmt))


@users_group.command("remove")
@click.argument("name")
@click.pass_obj
def users_remove(app: App, name: str) -> None:
    """Remove a user and their API tokens (their submissions stay, with their name).

    \b
    Example:
      forecaster --config configs/example.yaml users remove anna
    """

    with app.store() as store, store.transaction():
        tokens = Users(store).remove(name)
    click.echo(f"Removed {name} and {tokens} API token(s).")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--behind-https", is_flag=True, help="Behind an HTTPS proxy: cookies get Secure and the proxy's "
              "X-Forwarded-* headers are trusted (from --forwarded-allow-ips).")
@click.option("--forwarded-allow-ips", default="127.0.0.1", show_default=True, metavar="IPS",
              help="With --behind-https: the proxies whose X-Forwarded-* headers count.")
@click.pass_obj
def serve_cmd(app: App, host: str, port: int, behind_https: bool, forwarded_allow_ips: str) -> None:
    """Start marketing's web page and API on the store and config (one process).

    Pages: campaigns (upload, add, change, withdraw, with the expected extra contacts and the
    send-date advice), report and runs for planners. The JSON API is documented at /api/docs.
    Make accounts first with 'forecaster users add'. Stop with Ctrl-C.

    \b
    Example:
      forecaster --config configs/example.yaml serve --port 8000
    """

    from forecaster.web.app import serve  # FastAPI and the web stack load only for this command

    serve(app.config, app.store_path, host, port, behind_https, forwarded_allow_ips, app.lock_timeout_s)
