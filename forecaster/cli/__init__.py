"""The command line: one module per command group, each command parsing, calling one library
function and printing. ``main`` is the ``forecaster`` entry point."""

from forecaster.cli.main import main

__all__ = ["main"]
