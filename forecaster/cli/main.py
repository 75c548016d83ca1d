"""The entry point: the ``forecaster`` group with every command group registered on it."""

from __future__ import annotations

# each module registers its commands on the group when imported
from forecaster.cli import campaigns, data, forecasting, planning, scenarios, staffing  # noqa: F401
from forecaster.cli.app import cli


def main() -> None:
    cli(prog_name="forecaster")
