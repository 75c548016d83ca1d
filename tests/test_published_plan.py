"""The published plan and drafts: ad-hoc work never moves the plan, a published run is never
rewritten, and the files in output_dir/latest always match the published run."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from forecaster.cli.app import cli
from forecaster.store.database import Store
from forecaster.store.runs import Runs
from tests.conftest import TINY_CONFIG
from tests.test_nightly import NIGHTLY, actuals, drop
from tests.test_scheduling import SHIFTS


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("plan")
    cfg = root / "site.yaml"
    cfg.write_text(TINY_CONFIG + SHIFTS + NIGHTLY)
    (root / "drop").mkdir()
    drop(cfg, "history.csv", actuals())
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, ["--config", str(cfg), *map(str, args)], catch_exceptions=False)

    assert run("nightly").exit_code == 0
    return root, run


def _rows(root, run_id: int) -> dict[str, int]:
    with Store(root / "store.duckdb", read_only=True) as s:
        return {t: s.con.execute(f"SELECT count(*) FROM {t} WHERE run_id = ?", [run_id]).fetchall()[0][0]
                for t in Runs.RUN_TABLES}


def _latest_files(root) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "out" / "latest").iterdir()) if p.suffix == ".csv"}


def test_ad_hoc_forecast_is_a_draft_and_defaults_stay_on_the_nightly(site):
    root, run = site
    files, rows = _latest_files(root), _rows(root, 1)
    adhoc = run("forecast", "--as-of", "2026-11-01", "--horizon", "2w")
    assert adhoc.exit_code == 0, adhoc.output
    assert adhoc.stdout.startswith("Forecast run #2: ")
    assert "Run #2 is a draft: the published plan is unchanged." in adhoc.stderr
    shown = run("runs", "show", "latest")
    assert shown.stdout.startswith("Run #1: nightly, ok, the published plan, as of 2026-11-22")
    assert shown.stderr.strip() == "Using run #1 (the published plan, nightly as of 2026-11-22)."
    cap = run("capacity", "--format", "json")
    assert cap.exit_code == 0, cap.output
    assert cap.stderr.startswith("Using run #1 (the published plan, nightly as of 2026-11-22).\n"
                                 "Run #1 is published and stays as it is: the new spare capacity is in draft run #3")
    report = run("report", "--out", root / "r.html")
    assert report.stdout.startswith("Report for run #1 (the published plan, nightly as of 2026-11-22) written to ")
    # --run takes 'latest' as runs show does (the published plan, as leaving it out), and says what else it takes
    latest = run("report", "--run", "latest", "--out", root / "r.html")
    assert latest.exit_code == 0 and latest.stdout == report.stdout
    bad = run("staff", "--run", "newest")
    assert bad.exit_code == 2 and "'newest' is not a run number or 'latest'" in bad.stderr
    scen = run("scenario", "--aht", "+10%", "--format", "json")
    assert scen.exit_code == 0, scen.output
    assert json.loads(scen.stdout)["run_id"] == 1
    assert _latest_files(root) == files and _rows(root, 1) == rows        # the plan and its files untouched
    with Store(root / "store.duckdb", read_only=True) as s:
        runs = Runs(s)
        assert runs.plan() == 1 and runs.get(3)["parent_run_id"] == 1
        assert _rows(root, 3) == rows                         # the derived draft: a full copy, capacity redone


def test_schedule_on_the_plan_derives_a_draft_then_publish_makes_it_the_plan(site):
    root, run = site
    files, rows = _latest_files(root), _rows(root, 1)
    with Store(root / "store.duckdb", read_only=True) as s:
        before = s.con.execute("SELECT max(run_id) FROM runs").fetchall()[0][0]
    sched = run("schedule", "--method", "fit")
    assert sched.exit_code == 0, sched.output
    new = before + 1
    assert f"the new schedule is in draft run #{new}, derived from it" in sched.stderr
    assert sched.stdout.startswith(f"Run #{new}, week 2026-W48 (fit, mean)")
    assert _latest_files(root) == files and _rows(root, 1) == rows
    derived = _rows(root, new)
    assert derived["run_capacity"] == 0 and derived["run_spare"] == 0       # the old schedule's capacity is gone
    on_draft = run("capacity", "--run", new)                     # a draft is changed in place
    assert on_draft.exit_code == 0 and "derived" not in on_draft.stderr
    assert on_draft.stderr.strip() == f"Using run #{new} (draft, forecast as of 2026-11-22)."
    published = run("runs", "publish", new)
    assert published.exit_code == 0, published.output
    assert published.stdout.startswith(f"Run #{new} is now the published plan; files in ")
    latest = root / "out" / "latest"
    assert latest.resolve().name == f"run-{new}"
    with Store(root / "store.duckdb", read_only=True) as s:
        runs = Runs(s)
        assert runs.plan() == new
        shifts = runs.schedule(new)["shifts"]
        windows = runs.capacity(new)["windows"]
    assert len(pd.read_csv(latest / "shifts.csv")) == len(shifts) and len(pd.read_csv(latest / "capacity.csv")) == len(windows)
    assert (latest / "report.html").is_file() and (latest / "outbound.ics").is_file()
    again = run("runs", "publish", new)
    assert again.stdout.startswith(f"Run #{new} is already the published plan")
    shown = run("runs", "show", "latest")
    assert shown.stdout.startswith(f"Run #{new}: forecast, ok, the published plan, derived from run #1, as of")
    old = run("runs", "show", 1)
    assert old.stdout.startswith("Run #1: nightly, ok, published earlier (read-only), as of 2026-11-22")
    # the nightly with the same inputs leaves the planner's plan standing
    nightly = run("nightly")
    assert nightly.exit_code == 0 and f"run #{new} already has these inputs" in nightly.stdout


def test_publish_refuses_unfinished_or_unknown_runs(site):
    _, run = site
    missing = run("runs", "publish", 999)
    assert missing.exit_code == 2
    assert missing.stderr.strip() == "Error: run 999 is not a finished forecast run; 'forecaster runs' lists the runs"


def test_forecast_publish_makes_the_new_run_the_plan_with_its_files(site):
    root, run = site
    result = run("forecast", "--horizon", "1w", "--publish")
    assert result.exit_code == 0, result.output
    rid = int(result.stdout.split("#")[1].split(":")[0])
    assert f"Run #{rid} is now the published plan; files in " in result.stderr
    latest = root / "out" / "latest"
    assert latest.resolve().name == f"run-{rid}"
    with Store(root / "store.duckdb", read_only=True) as s:
        assert Runs(s).plan() == rid and len(pd.read_csv(latest / "forecast.csv")) == len(Runs(s).forecast(rid))
    assert not (latest / "shifts.csv").exists()           # only what the run holds: it has no schedule yet
