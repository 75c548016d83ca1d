"""The entry point: the ``forecaster`` group; each command's module is loaded when it runs
(:data:`forecaster.cli.app.COMMAND_MODULES`)."""

from __future__ import annotations

from forecaster.cli.app import cli


def main() -> None:
    cli(prog_name="forecaster")
