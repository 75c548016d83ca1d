"""Shared fixtures: a tiny site config, a store in a temp folder, and a CLI runner."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from forecaster.cli.app import cli
from forecaster.core.config import load_config

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"

TINY_CONFIG = """\
site: Test site
timezone: Europe/Amsterdam
interval_min: 30
opening_hours:
  mon: "08:00-18:00"
  tue: "08:00-18:00"
  wed: "08:00-18:00"
  thu: "08:00-18:00"
  fri: "08:00-18:00"
  sat: closed
  sun: closed
holidays:
  country: NL
queues:
  - {name: voice, channel: voice, sl_pct: 80, answer_s: 20, aht_s: 300, patience_s: 120, shrinkage: 0.3}
  - name: email
    channel: email
    deadline_h: 24
    aht_s: 400
    opening_hours: {mon: "00:00-24:00", tue: "00:00-24:00", wed: "00:00-24:00", thu: "00:00-24:00",
                    fri: "00:00-24:00", sat: "00:00-24:00", sun: "00:00-24:00"}
store: store.duckdb
"""


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    p = tmp_path / "site.yaml"
    p.write_text(TINY_CONFIG)
    return p


@pytest.fixture
def config(config_path: Path):
    return load_config(config_path)


@pytest.fixture
def write(tmp_path: Path):
    """write("name.csv", text) -> path of a file in the temp folder."""

    def _write(name: str, text: str | bytes) -> Path:
        p = tmp_path / name
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(textwrap.dedent(text))
        return p

    return _write


@pytest.fixture
def run(config_path: Path):
    """run("ingest", "file.csv") -> click Result, with the tiny config."""
    runner = CliRunner()

    def _run(*args: str):
        return runner.invoke(cli, ["--config", str(config_path), *map(str, args)], catch_exceptions=False)

    return _run


@contextlib.contextmanager
def lock_held(path, seconds: float):
    """Another process holds the store's write lock for ``seconds``."""
    holder = subprocess.Popen([sys.executable, "-c", (
        "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
        "time.sleep(float(sys.argv[2]))"), str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield holder
    finally:
        holder.kill()
        holder.wait()


# -- the demo's config, recent history and calendar, shared by the forecasting tests --------------
DEMO = ROOT / "data" / "demo"


@pytest.fixture(scope="session")
def demo_config():
    return load_config(ROOT / "configs" / "example.yaml")


@pytest.fixture(scope="session")
def history():
    act = pd.read_csv(DEMO / "actuals.csv.gz", parse_dates=["interval_start"])
    act = act.rename(columns={"interval_start": "ds", "contacts": "y"})
    return act[act["ds"] >= "2026-05-01"].reset_index(drop=True)          # 29 weeks keep the tests quick


@pytest.fixture(scope="session")
def calendar():
    cal = pd.read_csv(DEMO / "campaigns.csv", keep_default_na=False)
    return cal.assign(start_ts=pd.to_datetime(cal.start), end_ts=pd.to_datetime(cal.end),
                      queues=cal.queues.str.split(";"), reach=cal.reach.astype(float))
