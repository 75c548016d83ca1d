"""Every command has help that ends with an example, and the README mentions every command."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from forecaster.cli.app import cli
from tests.conftest import ROOT


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in group.commands.items():
        path = prefix + (name,)
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, path)
        else:
            yield path


cli.load_all()
COMMANDS = list(all_commands(cli))


def test_there_are_commands():
    assert ("ingest",) in COMMANDS and ("status",) in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_help_has_example(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.stdout
    assert "forecaster " in result.stdout.split("Example:")[1]


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_readme_mentions_command(path):
    readme = (ROOT / "README.md").read_text()
    assert re.search(rf"forecaster( --[\w-]+ \S+)* {' '.join(path)}\b", readme), f"README lacks {' '.join(path)}"


def test_main_module_runs():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "forecaster", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("forecaster, version ")
