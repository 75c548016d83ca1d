"""The nightly job: intake, atomic publish, idempotence, one at a time, exit codes and faults.

The kill harness runs the real CLI in a subprocess and kills it with SIGKILL at random points
(and at named points inside the riskiest steps); after every kill the last published run must
be whole, no dropped file may be lost, and the next run must complete.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from forecaster.cli.app import cli
from forecaster.jobs.nightly import EXIT_BUSY, EXIT_REJECTED, job_lock
from forecaster.store.database import Store
from tests.conftest import ROOT, TINY_CONFIG, lock_held
from tests.test_scheduling import SHIFTS

NIGHTLY = "nightly: {drop_dir: drop, horizon: 1w}\noutput_dir: out\n"


def actuals(start: str = "2026-09-07", end: str = "2026-11-22", seed: int = 0) -> pd.DataFrame:
    """Voice 08:00-18:00 on weekdays, e-mail 07:00-23:00 daily: a few thousand rows."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in pd.date_range(start, end, freq="D"):
        if d.weekday() < 5:
            for k in range(20):
                rows.append(("voice", d + pd.Timedelta(minutes=480 + 30 * k),
                             rng.poisson(40 + 30 * np.sin(np.pi * (k + 0.5) / 20)), 300.0))
        for k in range(14, 46):
            rows.append(("email", d + pd.Timedelta(minutes=30 * k), rng.poisson(5 if k < 44 else 1), 400.0))
    f = pd.DataFrame(rows, columns=["queue", "interval_start", "contacts", "aht_s"])
    return f.assign(interval_start=f["interval_start"].dt.strftime("%Y-%m-%d %H:%M"))


@pytest.fixture
def site(tmp_path):
    cfg = tmp_path / "site.yaml"
    cfg.write_text(TINY_CONFIG + SHIFTS + NIGHTLY)
    (tmp_path / "drop").mkdir()
    return cfg


def drop(site: Path, name: str, frame: pd.DataFrame) -> Path:
    """Deliver a file the way uploaders should: under a hidden name, then renamed."""
    tmp = site.parent / "drop" / f".{name}.part"
    frame.to_csv(tmp, index=False)
    return Path(os.replace(tmp, site.parent / "drop" / name) or site.parent / "drop" / name)


def invoke(site: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(site), "--lock-timeout", "2", "nightly", *args],
                              catch_exceptions=False)


def published(site: Path) -> list[dict]:
    with Store(site.parent / "store.duckdb", read_only=True) as s:
        return s.con.execute("""SELECT r.run_id, r.as_of, r.info->>'fingerprint' AS fp,
                                  (SELECT count(*) FROM run_forecast f WHERE f.run_id = r.run_id) AS fc,
                                  (SELECT count(*) FROM run_requirements q WHERE q.run_id = r.run_id) AS req,
                                  (SELECT count(*) FROM run_coverage c WHERE c.run_id = r.run_id) AS cov,
                                  (SELECT count(*) FROM run_schedule_summary m WHERE m.run_id = r.run_id) AS days
                                FROM runs r WHERE r.kind = 'nightly' AND r.published ORDER BY r.run_id""").df() \
            .to_dict("records")


def assert_whole(run: dict) -> None:
    """A published run has every output: forecast, mean and quantile requirements, a schedule."""
    assert run["fc"] > 0 and run["req"] == 2 * run["fc"] and run["cov"] > 0 and run["days"] == 14


def test_nightly_ingests_rejects_publishes_and_exports(site):
    drop(site, "good.csv", actuals())
    bad = actuals().head(50).assign(contacts=-1)
    drop(site, "bad.csv", bad)
    result = invoke(site)
    assert result.exit_code == EXIT_REJECTED, result.output
    assert result.stdout.startswith("Nightly: run #1 published (as of 2026-11-22)")
    assert "Rejected: bad.csv -> " in result.stderr
    folder = site.parent / "drop"
    assert [p.name for p in folder.iterdir() if p.is_file()] == []
    assert (folder / "processed" / "good.csv").is_file() and (folder / "rejected" / "bad.csv").is_file()
    report = (folder / "rejected" / "bad.csv.error.txt").read_text()
    assert report.startswith("Error: ") and "bad.csv:2:contacts" in report
    [run] = published(site)
    assert_whole(run)
    latest = site.parent / "out" / "latest"
    assert latest.resolve() == (site.parent / "out" / "runs" / "run-1").resolve()
    assert {p.name for p in latest.iterdir()} >= {"forecast.csv", "shifts.csv", "capacity.csv", "outbound.ics",
                                                  "campaign_impact.csv", "report.html"}
    shown = CliRunner().invoke(cli, ["--config", str(site), "runs", "show", "latest", "--format", "json"])
    info = json.loads(shown.stdout)["info"]
    assert set(info["steps_s"]) == {"intake", "campaigns", "forecast", "staff", "schedule", "capacity", "impact",
                                    "export", "publish", "report"}
    assert info["impact"] == {"note": "no campaigns in the calendar"} and "report_error" not in info
    assert info["intake"]["ingested"] == ["good.csv"] and info["intake"]["rejected"][0]["file"] == "bad.csv"
    assert info["schedule"]["week"] == "2026-W48" and info["data_range"][0].startswith("2026-09-07")


def test_a_config_without_shift_templates_still_publishes_its_forecast_and_says_why_no_schedule(tmp_path):
    """A site that forecasts and staffs here but rosters elsewhere has no ``shifts:``: its nightly
    publishes the forecast, requirements and campaign impact, skips the schedule and the spare
    capacity (which needs one), and says so in the log and with the run, instead of failing."""
    cfg = tmp_path / "site.yaml"
    cfg.write_text(TINY_CONFIG + NIGHTLY)
    (tmp_path / "drop").mkdir()
    drop(cfg, "a.csv", actuals())
    result = invoke(cfg)
    assert result.exit_code == 0, result.output
    assert "run #1 published" in result.stdout and "no shift templates" in result.stderr
    [run] = published(cfg)
    assert run["fc"] > 0 and run["req"] == 2 * run["fc"] and run["cov"] == 0 and run["days"] == 0
    files = {p.name for p in (tmp_path / "out" / "latest").iterdir()}
    assert {"forecast.csv", "requirements.csv", "campaign_impact.csv", "report.html"} <= files
    assert not files & {"shifts.csv", "capacity.csv", "outbound.ics"}
    shown = CliRunner().invoke(cli, ["--config", str(cfg), "runs", "show", "latest"])
    assert "no shift templates, so this run has no schedule" in shown.stdout


def test_same_inputs_are_not_recomputed_and_force_gives_the_same_numbers(site):
    drop(site, "a.csv", actuals())
    assert invoke(site, "--as-of", "2026-11-15").exit_code == 0
    again = invoke(site, "--as-of", "2026-11-15", "--log-format", "json")
    assert again.exit_code == 0 and "run #1 already has these inputs (as of 2026-11-15)" in again.stdout
    events = [json.loads(line)["event"] for line in again.stderr.splitlines()]
    assert events[-1] == "up to date" and "step started" in events
    forced = invoke(site, "--as-of", "2026-11-15", "--force")
    assert forced.exit_code == 0 and "run #2 published" in forced.stdout
    runs = published(site)
    assert [r["run_id"] for r in runs] == [2]                         # one published run per as-of
    with Store(site.parent / "store.duckdb", read_only=True) as s:
        a = s.con.execute("SELECT * EXCLUDE (run_id) FROM run_forecast WHERE run_id = 1 ORDER BY ALL").df()
        b = s.con.execute("SELECT * EXCLUDE (run_id) FROM run_forecast WHERE run_id = 2 ORDER BY ALL").df()
        assert s.con.execute("SELECT count(*) FROM actuals").fetchall()[0][0] == len(actuals())
    pd.testing.assert_frame_equal(a, b)


def test_a_run_calibrates_its_daily_bands_on_how_earlier_runs_did_too(site):
    """A run a week after another scores that run's daily totals against the actuals since, with its
    own backtest's, for its daily bands: voice is open five days of that week, e-mail seven."""
    drop(site, "a.csv", actuals())
    assert invoke(site, "--as-of", "2026-11-08").exit_code == 0
    assert invoke(site, "--as-of", "2026-11-15").exit_code == 0
    infos = [json.loads(CliRunner().invoke(cli, ["--config", str(site), "runs", "show", str(r), "--format", "json"])
                        .stdout)["info"]["queues"] for r in (1, 2)]
    assert {q: v["daily_record_days"] for q, v in infos[0].items()} == {"voice": 0, "email": 0}
    assert {q: v["daily_record_days"] for q, v in infos[1].items()} == {"voice": 5, "email": 7}


def test_the_next_run_keeps_the_plans_model_unless_another_is_clearly_better(site):
    """Hysteresis between nightly runs: each queue's model in the published plan is kept unless the
    new first choice's backtest WAPE is SWITCH_GAIN lower, and the reason says which happened."""
    from forecaster.demand.models import REGISTRY
    from forecaster.demand.selection import SWITCH_GAIN

    drop(site, "a.csv", actuals())
    assert invoke(site, "--as-of", "2026-11-15").exit_code == 0
    with Store(site.parent / "store.duckdb") as s:        # as if the plan before had chosen mean4 for voice
        s.con.execute("""UPDATE runs SET info = json_merge_patch(info, '{"queues": {"voice": {"model": "mean4"}}}')
                         WHERE run_id = 1""")
    assert invoke(site, "--as-of", "2026-11-15", "--force").exit_code == 0
    shown = CliRunner().invoke(cli, ["--config", str(site), "runs", "show", "2", "--format", "json"])
    voice = json.loads(shown.stdout)["info"]["queues"]["voice"]
    wape = {m: w for m, w in voice["wape"].items()          # the models its history is long enough for
            if m == "median" or REGISTRY[m].min_history_days <= voice["history_days"]}
    others = [w for m, w in wape.items() if m not in ("mean4", "median")]
    if voice["model"] == "mean4":
        assert voice["reason"].startswith("mean4: kept from the plan before"), voice
        assert wape["mean4"] <= (1 - SWITCH_GAIN) * wape["median"] + 1e-4, voice
        assert min(others) > (1 - SWITCH_GAIN) * wape["mean4"] - 1e-4, voice
    else:
        assert "no longer 5% below" in voice["reason"] or "switched from mean4" in voice["reason"], voice
    email = json.loads(shown.stdout)["info"]["queues"]["email"]
    assert "kept from the plan" not in email["reason"] and "switched" not in email["reason"]   # same choice


def test_changed_code_under_the_same_version_is_recomputed(site, monkeypatch):
    """The fingerprint holds a hash of the package's source: an upgrade that keeps the version
    string (a patched install, a checkout) does not look up to date."""
    from forecaster.jobs import nightly as job

    drop(site, "a.csv", actuals())
    assert invoke(site, "--as-of", "2026-11-15").exit_code == 0
    assert len(job.code_hash()) == 16 and job.code_hash() == job.code_hash.__wrapped__()
    monkeypatch.setattr(job, "code_hash", lambda: "0123456789abcdef")
    again = invoke(site, "--as-of", "2026-11-15")
    assert again.exit_code == 0 and "run #2 published" in again.stdout


def test_memory_the_forecast_freed_is_returned_or_the_log_says_why_not(site, monkeypatch):
    """After the forecast the job hands freed memory back to the system (``trim_memory``); where
    the C library cannot, the run goes on and its log says which processes keep it."""
    from forecaster.jobs import nightly as job

    drop(site, "a.csv", actuals())
    calls = []
    monkeypatch.setattr(job, "trim_memory", lambda: calls.append(1) or {"job": False})
    got = invoke(site, "--as-of", "2026-11-15", "--log-format", "json")
    assert got.exit_code == 0 and "run #1 published" in got.stdout and calls == [1]
    events = [json.loads(line) for line in got.stderr.splitlines()]
    kept = [e for e in events if e["event"].startswith("freed memory stays")]
    assert len(kept) == 1 and kept[0]["processes"] == ["job"]


def test_a_second_nightly_exits_at_once_with_its_own_code(site):
    with job_lock(site.parent / "store.duckdb"):
        t0 = time.monotonic()
        busy = invoke(site)
        assert time.monotonic() - t0 < 5
    assert busy.exit_code == EXIT_BUSY
    assert busy.stderr.startswith("Error: another nightly run is in progress (pid ")
    assert not (site.parent / "store.duckdb").exists()                # nothing was touched


def test_locked_store_and_unwritable_output_leave_the_last_run_intact(site, tmp_path):
    drop(site, "a.csv", actuals())
    assert invoke(site).exit_code == 0
    before = published(site)
    drop(site, "b.csv", actuals(seed=1))                              # new inputs: a real recompute
    with lock_held(site.parent / "store.duckdb", 30):
        locked = invoke(site)
    assert locked.exit_code == EXIT_BUSY and "is in use by another forecaster process" in locked.stderr
    assert (site.parent / "drop" / "b.csv").is_file()                 # kept for the next run
    (tmp_path / "blocker").write_text("a file where the output folder should be")
    site.write_text(site.read_text().replace("output_dir: out", "output_dir: blocker/out"))
    failed = invoke(site)
    assert failed.exit_code == 1
    assert "nightly step export failed: cannot write the run's files under" in failed.stderr
    assert "the last published run is unchanged" in failed.stderr
    assert published(site) == before
    with Store(site.parent / "store.duckdb", read_only=True) as s:
        statuses = s.con.execute("SELECT status FROM runs ORDER BY run_id").fetchall()
    assert statuses[0] == ("ok",) and statuses[-1] == ("failed",)


def test_campaign_submitted_during_a_run_is_kept_for_the_next(site, tmp_path):
    drop(site, "a.csv", actuals())
    job = subprocess.Popen(paused_at("forecast", "--config", str(site), "nightly"), cwd=ROOT,
                           stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        _wait_for_pause(job)
        cal = tmp_path / "cal.csv"
        cal.write_text("campaign_id,name,channel,start,end,queues,reach,notes\n"
                       "C1,Winter mailing,direct_mail,2026-12-01,2026-12-01,voice,50000,\n")
        sub = CliRunner().invoke(cli, ["--config", str(site), "campaigns", "submit", str(cal), "--by", "mkt"])
        assert sub.exit_code == 0, sub.output
    finally:
        job.kill()
        job.wait()
    nxt = invoke(site)
    assert nxt.exit_code == 0, nxt.output
    with Store(site.parent / "store.duckdb", read_only=True) as s:
        info = json.loads(s.con.execute("SELECT info FROM runs WHERE published").fetchall()[0][0])
        assert info["campaigns"] == 1
        assert s.con.execute("SELECT status FROM runs ORDER BY run_id").fetchall()[0] == ("killed",)


def paused_at(point: str, *args: str) -> list[str]:
    """The command that runs forecaster with the nightly job stopping at ``point`` (tests/nightly_harness.py)."""
    return [sys.executable, "-m", "tests.nightly_harness", point, *args]


def _wait_for_pause(job: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    for line in job.stderr:
        if line.startswith("paused at "):
            return
        assert time.monotonic() < deadline, "the job never reached its pause point"
    raise AssertionError(f"the job ended before its pause point (exit {job.wait()})")


def _check_after_kill(site: Path, last_good: list[dict], delivered: dict[str, int]) -> list[dict]:
    """The store opens, every published run is whole, and no delivered file is lost."""
    runs = published(site)
    assert runs, "the last published run disappeared"
    for run in runs:
        assert_whole(run)
    assert runs[-1]["run_id"] >= last_good[-1]["run_id"]
    folder = site.parent / "drop"
    with Store(site.parent / "store.duckdb", read_only=True) as s:
        ingested = {f for (files,) in s.con.execute("SELECT files FROM ingests").fetchall() for f in files}
        dupes = s.con.execute("SELECT count(*) FROM (SELECT queue, interval_start FROM actuals "
                              "GROUP BY ALL HAVING count(*) > 1)").fetchall()[0][0]
    assert dupes == 0
    for name in delivered:
        waiting = (folder / name).is_file()
        done = (folder / "processed" / name).is_file()
        assert waiting or (done and str(folder / name) in ingested), f"{name} was lost"
    return runs


def test_kill_minus_9_at_random_and_named_points_never_loses_the_last_run(site):
    """At least 20 kills at random moments, plus kills parked at the riskiest points."""
    trials = int(os.environ.get("FORECASTER_KILL_TRIALS", "20"))
    rng = np.random.default_rng(42)
    delivered = {"base.csv": 0}
    drop(site, "base.csv", actuals())
    t0 = time.monotonic()
    assert invoke(site).exit_code == 0
    full = time.monotonic() - t0 + 2.5                                # plus the interpreter's start-up
    good = published(site)
    cmd = [sys.executable, "-m", "forecaster", "--config", str(site), "nightly"]
    for i in range(trials):
        name = f"day{i}.csv"
        drop(site, name, actuals(start="2026-11-16", end="2026-11-22", seed=i + 1))
        delivered[name] = i
        job = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, full))
        job.send_signal(signal.SIGKILL)
        job.wait()
        good = _check_after_kill(site, good, delivered)
    for point in ("intake-committed", "export-written", "publish-commit"):
        name = f"{point}.csv"
        drop(site, name, actuals(start="2026-11-16", end="2026-11-22", seed=100 + len(point)))
        delivered[name] = -1
        job = subprocess.Popen(paused_at(point, "--config", str(site), "nightly"), cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            _wait_for_pause(job)
        finally:
            job.send_signal(signal.SIGKILL)
            job.wait()
        good = _check_after_kill(site, good, delivered)
    final = invoke(site)
    assert final.exit_code == 0, final.output
    runs = _check_after_kill(site, good, delivered)
    assert not [p for p in (site.parent / "drop").iterdir() if p.is_file() and not p.name.startswith(".")]
    with Store(site.parent / "store.duckdb", read_only=True) as s:
        assert s.con.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchall()[0][0] == 0
    assert (site.parent / "out" / "latest").resolve().name == f"run-{runs[-1]['run_id']}"
    shutil.rmtree(site.parent / "out")
