"""A small site for the web tests: a few weeks of actuals in which e-mail campaigns really draw
calls, their calendar, one nightly run (a published plan with a report) and three accounts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from forecaster.cli.app import cli
from tests.conftest import TINY_CONFIG
from tests.test_nightly import NIGHTLY, actuals, drop
from tests.test_scheduling import SHIFTS

PASSWORD = "correct horse battery"
STARTS = ["2026-09-22", "2026-10-06", "2026-10-20", "2026-11-03", "2026-11-17"]
ROLES = {"mara": "marketing", "piet": "planner", "ada": "admin"}


def responding_actuals() -> pd.DataFrame:
    """The nightly tests' actuals from late August (so both queues have the impact model's 56 open
    days), with 40 % more contacts on each campaign's day and 20 % more the day after."""
    frame = actuals(start="2026-08-17")
    day = frame["interval_start"].str[:10]
    lift = pd.Series(1.0, index=frame.index)
    for start in STARTS:
        after = (pd.Timestamp(start) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
        lift[day == start] = 1.4
        lift[day == after] = 1.2
    return frame.assign(contacts=(frame["contacts"] * lift).round().astype(int))


def make_site(root: Path) -> Path:
    cfg = root / "site.yaml"
    cfg.write_text(TINY_CONFIG + SHIFTS + NIGHTLY)
    (root / "drop").mkdir()
    drop(cfg, "history.csv", responding_actuals())
    pd.DataFrame({"campaign_id": [f"E{i}" for i in range(len(STARTS))], "name": "newsletter", "channel": "email",
                  "start": STARTS, "end": STARTS, "queues": "voice;email", "reach": 200_000}).to_csv(
        root / "cal.csv", index=False)
    runner = CliRunner()

    def run(*args, **kw):
        r = runner.invoke(cli, ["--config", str(cfg), *map(str, args)], catch_exceptions=False, **kw)
        assert r.exit_code == 0, r.output
        return r

    run("campaigns", "submit", root / "cal.csv", "--by", "test")
    run("nightly")
    for name, role in ROLES.items():
        run("users", "add", name, "--role", role, "--password-stdin", input=PASSWORD + "\n")
    return cfg
