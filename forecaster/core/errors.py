"""One exception family. The core raises these; ``cli.py`` translates them in one place.

``UserError`` and its subclasses are mistakes a user can fix (bad arguments, config or input):
exit code 2 with ``Error: ...``. Anything else is an internal failure: exit code 1.
"""

from __future__ import annotations

from dataclasses import dataclass


class ForecasterError(Exception):
    """Base of every error the core raises on purpose."""

    exit_code = 1


class UserError(ForecasterError):
    """A mistake in arguments, config or input that the user can fix."""

    exit_code = 2


class StoreError(UserError):
    """The store cannot be opened or used as asked."""


class StoreVersionError(StoreError):
    """The store was written by another schema version."""


class StoreLockedError(StoreError):
    """Another process holds the store's write lock for longer than we wait."""


@dataclass(frozen=True)
class Problem:
    """One problem in an input file, located as precisely as we can."""

    file: str
    row: int | None
    column: str | None
    message: str
    value: object = None          # the offending value as given, where there is one (for the API's errors)

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f":{self.row}"
        if self.column:
            where += f":{self.column}"
        return f"{where}: {self.message}"


class InputError(UserError):
    """One or more problems in an input file. ``str()`` is the first; all are kept."""

    def __init__(self, problems: list[Problem]):
        if not problems:
            raise ValueError("InputError needs at least one problem")
        self.problems = problems
        more = len(problems) - 1
        suffix = f" (+{more} more problem{'s' if more > 1 else ''}, listed below)" if more else ""
        super().__init__(f"{problems[0]}{suffix}")

    def details(self, limit: int = 20) -> list[str]:
        """The further problems, one line each, at most ``limit``."""
        rest = [str(p) for p in self.problems[1 : limit + 1]]
        hidden = len(self.problems) - 1 - len(rest)
        if hidden > 0:
            rest.append(f"... and {hidden} more")
        return rest


class ConfigError(InputError):
    """The config file is missing, unreadable or invalid; problems name the field."""
