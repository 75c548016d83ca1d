"""The intraday reforecast: the update itself, the partial day it needs, and the command end to end."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from forecaster.cli.app import cli
from forecaster.core.config import load_config
from forecaster.core.errors import UserError
from forecaster.core.site_calendar import complete_as_of, partial_day, site_today
from forecaster.demand.intraday import MAX_FACTOR, LevelUpdate, calibration_pairs, stand_in
from forecaster.io.actuals import coverage_warnings
from forecaster.store.database import Store
from forecaster.store.runs import Runs
from tests.conftest import TINY_CONFIG
from tests.test_nightly import NIGHTLY, drop
from tests.test_scheduling import SHIFTS

PROFILE = 40 + 30 * np.sin(np.pi * (np.arange(20) + 0.5) / 20)      # voice, 08:00-18:00 in 30 minutes


def days_with_levels(start: str, days: int, sd: float, seed: int = 0) -> pd.DataFrame:
    """Weekday voice arrivals whose level varies from day to day (lognormal, ``sd``), Poisson within."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in pd.date_range(start, periods=days, freq="D"):
        if d.weekday() >= 5:
            continue
        level = float(np.exp(rng.normal(0, sd))) if sd else 1.0
        y = rng.poisson(PROFILE * level)
        rows += [("voice", d + pd.Timedelta(minutes=480 + 30 * k), float(y[k])) for k in range(20)]
    return pd.DataFrame(rows, columns=["queue", "ds", "y"])


def _plan_for(hist: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    p = stand_in(hist, [day]).rename(columns={"p": "forecast"})
    return p.assign(lo_80=p["forecast"] * 0.8, hi_80=p["forecast"] * 1.2, lo_95=p["forecast"] * 0.7,
                    hi_95=p["forecast"] * 1.3)


# -- the update --------------------------------------------------------------------------------
def test_a_persistent_day_level_is_learned_and_removes_most_of_the_level_error():
    hist = days_with_levels("2026-01-05", 120, sd=0.25)
    days = sorted(hist["ds"].dt.normalize().unique())[-30:]
    cut = 12 * 60
    gains, cover, n = [], 0, 0
    for day in days:
        past = hist[hist["ds"] < day]
        model = LevelUpdate().fit(calibration_pairs(past, day.date()), cut)
        assert model.alpha_["voice"] <= 200            # a morning that runs hot means an afternoon that does
        today = hist[hist["ds"].dt.normalize() == day]
        out = model.predict(_plan_for(hist[hist["ds"] < day + pd.Timedelta(days=1)], day).drop(columns="y"), today, day + pd.Timedelta(hours=12))
        y = out.merge(today, on=["queue", "ds"])["y"].to_numpy()
        gains.append(np.abs(y - out["forecast"]).sum() / np.abs(y - out["day_ahead"]).sum())
        cover += int(((y >= out["lo_80"]) & (y <= out["hi_80"])).sum())
        n += len(y)
        assert (out["lo_95"] <= out["lo_80"]).all() and (out["lo_80"] <= out["forecast"]).all()
        assert (out["forecast"] <= out["hi_80"]).all() and (out["hi_80"] <= out["hi_95"]).all()
    assert np.mean(gains) < 0.85
    assert 0.7 <= cover / n <= 0.9                      # bands calibrated on the days before


def test_pure_noise_earns_a_strong_prior_on_the_plan():
    hist = days_with_levels("2026-01-05", 120, sd=0.0, seed=3)
    day = sorted(hist["ds"].dt.normalize().unique())[-1]
    model = LevelUpdate().fit(calibration_pairs(hist[hist["ds"] < day], day.date()), 12 * 60)
    assert model.alpha_["voice"] >= 500                # ~500 contacts before 12:00: mostly keep the plan


def test_without_a_morning_the_plan_stands_and_the_factor_is_capped():
    hist = days_with_levels("2026-01-05", 90, sd=0.25)
    day = sorted(hist["ds"].dt.normalize().unique())[-1]
    model = LevelUpdate().fit(calibration_pairs(hist[hist["ds"] < day], day.date()), 12 * 60)
    plan = _plan_for(hist, day).drop(columns="y")
    at = day + pd.Timedelta(hours=12)
    kept = model.predict(plan, hist.iloc[:0], at)
    assert (kept["factor"] == 1.0).all() and np.allclose(kept["forecast"], kept["day_ahead"])
    model.alpha_["voice"] = 0.0
    flood = plan[plan["ds"] < at][["queue", "ds"]].assign(y=1e6)
    assert model.predict(plan, flood, at)["factor"].max() == MAX_FACTOR


def test_calibration_uses_each_days_own_plan_where_the_store_has_it():
    hist = days_with_levels("2026-01-05", 90, sd=0.25)
    day = sorted(hist["ds"].dt.normalize().unique())[-1]
    last_week = hist[(hist["ds"] >= day - pd.Timedelta(days=7)) & (hist["ds"] < day)]
    plans = last_week[["queue", "ds"]].assign(forecast=123.0)
    pairs = calibration_pairs(hist[hist["ds"] < day], day.date(), plans=plans)
    own = pairs[pairs["source"] == "plan"]
    assert len(own) == len(last_week) and (own["p"] == 123.0).all()
    assert not pairs.duplicated(["queue", "ds"]).any()
    assert (pairs.loc[pairs["source"] == "stand-in", "ds"] < day - pd.Timedelta(days=7)).all()


# -- the partial day -----------------------------------------------------------------------------
def test_a_partial_day_is_not_missing_data_and_forecasts_wait_for_the_whole_day(config):
    day = pd.Timestamp("2026-11-16")                    # a Monday; voice opens 08:00-18:00
    frame = pd.DataFrame({"queue": "voice", "interval_start": pd.date_range(day + pd.Timedelta(hours=8), periods=7,
                                                                           freq="30min"), "contacts": 5.0})
    assert coverage_warnings(frame, config, "today.csv") == []
    hist = frame.rename(columns={"interval_start": "ds"})
    today = day.date()
    assert partial_day(config, hist, today)[:2] == (today, "voice")
    assert complete_as_of(config, hist, None, today) == dt.date(2026, 11, 15)
    with pytest.raises(UserError, match=r"--as-of 2026-11-16: the actuals of 2026-11-16 stop at 11:00 for queue voice"):
        complete_as_of(config, hist, today, today)
    whole = pd.DataFrame({"queue": "voice", "ds": pd.date_range(day + pd.Timedelta(hours=8), periods=20, freq="30min")})
    assert partial_day(config, whole, today) is None and complete_as_of(config, whole, None, today) == today
    # a past day is complete, whatever its last row: exports leave out quiet intervals
    assert partial_day(config, hist, today + dt.timedelta(days=1)) is None
    assert complete_as_of(config, hist, None, today + dt.timedelta(days=1)) == today


# -- the command -----------------------------------------------------------------------------------
def _actuals(start: str, end: str, seed: int) -> pd.DataFrame:
    voice = days_with_levels(start, (pd.Timestamp(end) - pd.Timestamp(start)).days + 1, sd=0.2, seed=seed)
    rng = np.random.default_rng(seed + 1)
    email = [("email", d + pd.Timedelta(minutes=30 * k), float(rng.poisson(5)))
             for d in pd.date_range(start, end, freq="D") for k in range(14, 46)]
    f = pd.concat([voice, pd.DataFrame(email, columns=["queue", "ds", "y"])], ignore_index=True)
    return f.rename(columns={"ds": "interval_start", "y": "contacts"}).assign(aht_s=300.0)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A nightly plan as of Friday 2026-11-13 (schedule for the week of the 16th), then Monday's
    export up to 11:30, with voice running 40 % above its usual level."""
    root = tmp_path_factory.mktemp("intraday")
    cfg = root / "site.yaml"
    cfg.write_text(TINY_CONFIG + SHIFTS + NIGHTLY)
    (root / "drop").mkdir()
    drop(cfg, "history.csv", _actuals("2026-08-03", "2026-11-13", seed=1))
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, ["--config", str(cfg), *map(str, args)], catch_exceptions=False)

    assert run("nightly").exit_code == 0
    rng = np.random.default_rng(9)
    monday = pd.Timestamp("2026-11-16")
    morning = [("voice", monday + pd.Timedelta(minutes=480 + 30 * k), float(rng.poisson(PROFILE[k] * 1.4)), 300.0)
               for k in range(8)]
    morning += [("email", monday + pd.Timedelta(minutes=30 * k), float(rng.poisson(5)), 400.0) for k in range(14, 24)]
    today = root / "today.csv"
    pd.DataFrame(morning, columns=["queue", "interval_start", "contacts", "aht_s"]).to_csv(today, index=False)
    ingested = run("ingest", today)
    assert ingested.exit_code == 0, ingested.output
    return root, run, ingested


def test_ingesting_this_mornings_export_warns_of_nothing(site):
    _, _, ingested = site
    assert "Warning" not in ingested.output and "no row" not in ingested.output


def test_intraday_updates_the_rest_of_the_day_against_the_schedule_and_keeps_the_plan(site):
    root, run, _ = site
    with Store(root / "store.duckdb", read_only=True) as s:
        plan_id = Runs(s).plan()
        plan_rows = Runs(s).forecast(plan_id)
    res = run("intraday", "--at", "2026-11-16 12:00", "--format", "json")
    assert res.exit_code == 0, res.output
    assert res.stderr.startswith(f"Using run #{plan_id} (the published plan, nightly as of 2026-11-13).")
    assert "Warning" not in res.stderr
    out = json.loads(res.stdout)
    voice = next(q for q in out["queues"] if q["queue"] == "voice")
    assert voice["vs_plan"] > 1.2 and voice["factor"] > 1.1          # a hot morning raises the afternoon
    assert voice["rest_forecast"] > voice["rest_day_ahead"] * 1.1
    assert 0 <= voice["chance_target"] <= 1 and voice["service_level"] is not None
    rows = pd.DataFrame(out["intervals"])
    assert pd.to_datetime(rows["interval_start"]).min() == pd.Timestamp("2026-11-16 12:00")
    assert (rows["lo_80"] <= rows["forecast"]).all() and (rows["forecast"] <= rows["hi_80"]).all()
    v = rows[rows["queue"] == "voice"]
    assert (v["gap"] == v["productive"] - v["required_agents"]).all()
    with Store(root / "store.duckdb", read_only=True) as s:
        runs = Runs(s)
        assert runs.plan() == plan_id                                 # never replaces the plan
        pd.testing.assert_frame_equal(runs.forecast(plan_id), plan_rows)
        new = runs.get(out["run_id"])
        assert (new["kind"], new["parent_run_id"], new["published_at"]) == ("intraday", plan_id, None) or \
            (new["kind"] == "intraday" and new["parent_run_id"] == plan_id and pd.isna(new["published_at"]))
        assert len(runs.forecast(out["run_id"])) == len(rows)
    shown = run("runs", "show", str(out["run_id"]))
    assert f"Intraday update at 2026-11-16 12:00:00 on plan run #{plan_id}" in shown.stdout
    assert run("report", "--out", root / "r.html").exit_code == 0
    assert "Intraday update" in (root / "r.html").read_text()


def test_intraday_table_names_the_run_and_the_queues(site):
    _, run, _ = site
    res = run("intraday", "--at", "2026-11-16 12:10", "--queue", "voice")
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("Intraday run #")
    assert " at Mon 2026-11-16 12:00, on plan run #" in res.stdout.splitlines()[0]      # rounded to the interval
    assert "voice" in res.stdout and "email" not in res.stdout.split("Outbound")[0]


@pytest.mark.parametrize("args, message", [
    (["--at", "2026-12-20 12:00"], "Error: --at 2026-12-20 12:00 is outside the data (actuals from 2026-08-03 07:00 "
                                   "to 2026-11-16 11:30); ingest today's contacts so far, or choose a time in that range"),
    (["--at", "2026-11-16 19:00", "--queue", "voice"], "Error: --at 2026-11-16 19:00: queue voice is closed then "
                                                       "(opening hours or a closed day in the config); choose a time when it is open"),
    (["--at", "2026-11-16 06:30"], "Error: --at 2026-11-16 06:30: the store holds no contacts of 2026-11-16 before 06:30 "
                                   "yet, so there is nothing to update the plan from; ingest this morning's export first"),
    (["--at", "16-11-2026 12:00"], "Error: --at '16-11-2026 12:00' is not a time like '2026-12-02 12:00' (YYYY-MM-DD "
                                   "HH:MM, the site's local time)"),
    (["--at", "2026-11-16 12:00", "--queue", "chat"], "Error: --queue chat is not in the config; queues: voice, email"),
])
def test_intraday_bad_input_is_one_line_and_exit_2(site, args, message):
    _, run, _ = site
    res = run("intraday", *args)
    assert res.exit_code == 2
    assert res.stderr.strip() == message


def test_forecasts_on_a_day_still_going_on_wait_for_its_end(run, tmp_path):
    """Real dates: the partial day is today at the site. The morning's rows are e-mail's, a queue
    open every day: voice is closed at weekends, and a weekend's morning export of it is no partial
    day (this test failed whenever it ran on a Saturday or Sunday at the site)."""
    today = site_today(load_config(tmp_path / "site.yaml"))
    history = _actuals(str(today - dt.timedelta(days=70)), str(today - dt.timedelta(days=1)), seed=4)
    start = pd.Timestamp(today)
    morning = pd.DataFrame({"queue": "email", "interval_start": pd.date_range(start + pd.Timedelta(hours=8), periods=2,
                                                                             freq="30min"), "contacts": 30.0, "aht_s": 300.0})
    both = pd.concat([history, morning]).assign(interval_start=lambda f: f["interval_start"].dt.strftime("%Y-%m-%d %H:%M"))
    both.to_csv(tmp_path / "a.csv", index=False)
    assert run("ingest", tmp_path / "a.csv").exit_code == 0
    refused = run("forecast", "--as-of", str(today), "--horizon", "1w")
    assert refused.exit_code == 2
    assert f"the actuals of {today} stop at 08:30 for queue email" in refused.stderr
    assert f"use --as-of {today - dt.timedelta(days=1)}" in refused.stderr
    made = run("forecast", "--horizon", "1w")
    assert made.exit_code == 0, made.output
    with Store(tmp_path / "store.duckdb", read_only=True) as s:
        assert Runs(s).get(1)["as_of"].date() == today - dt.timedelta(days=1)


def test_an_export_dropped_in_the_drop_folder_counts_at_once(site):
    """Last in this module: it adds Monday 11:30-12:00 to the shared store."""
    root, run, _ = site
    export = pd.DataFrame({"queue": ["voice"], "interval_start": ["2026-11-16 11:30"], "contacts": [80.0],
                           "aht_s": [300.0]})
    drop(root / "site.yaml", "acd-1200.csv", export)
    res = run("intraday", "--at", "2026-11-16 12:00", "--queue", "voice", "--format", "json")
    assert res.exit_code == 0, res.output
    assert res.stderr.startswith("Took in 1 file(s) from the drop folder: acd-1200.csv.\n")
    assert (root / "drop" / "processed" / "acd-1200.csv").exists()
    with Store(root / "store.duckdb", read_only=True) as s:
        assert s.actuals_span(["voice"])[1] == pd.Timestamp("2026-11-16 11:30")


def test_the_chance_of_target_bisection_agrees_with_a_scan_of_the_grid(site, tmp_path):
    from forecaster.planning.intraday import CHANCE_GRID, _met, chance_of_target

    root, run, _ = site
    out = tmp_path / "rows.json"
    assert run("intraday", "--at", "2026-11-16 10:00", "--out", out).exit_code == 0
    floor = pd.DataFrame(json.loads(out.read_text())["intervals"]).assign(
        interval_start=lambda f: pd.to_datetime(f["interval_start"]))
    config = load_config(root / "site.yaml")
    scan = pd.Series(0.0, index=pd.Index(floor["queue"].unique()))
    for u in CHANCE_GRID:
        met = _met(floor, config, float(u))
        scan[met[met].index] = float(u)
    fast = chance_of_target(floor, config)
    pd.testing.assert_series_equal(fast.sort_index(), scan.sort_index(), check_names=False)
    assert (scan > 0).any() and (scan < CHANCE_GRID[-1]).any()        # the grid's inside is exercised


def test_a_campaign_submitted_after_the_plan_is_named(site, tmp_path):
    """After the drop-folder test: it adds a campaign to the shared store."""
    root, run, _ = site
    cal = tmp_path / "late.csv"
    cal.write_text("campaign_id,name,channel,start,end,queues,reach\n"
                   "SMS-16,Monday SMS blast,sms,2026-11-16 09:00,2026-11-16 10:00,voice,20000\n")
    submitted = run("campaigns", "submit", cal, "--by", "marketing")
    assert submitted.exit_code == 0, submitted.output
    res = run("intraday", "--at", "2026-11-16 12:00", "--queue", "voice")
    assert res.exit_code == 0, res.output
    assert ("Warning: campaign SMS-16 (Monday SMS blast) was submitted or changed after plan run #1 was made: its "
            "forecast does not hold the campaign as it stands; the update sees it only through the contacts so far") \
        in res.stderr


def test_without_a_schedule_today_the_rest_is_staffed_and_the_gap_left_open(config):
    from forecaster.planning.intraday import plan_the_rest

    at = pd.Timestamp("2026-11-16 12:00")
    times = pd.date_range(at, periods=12, freq="30min")
    rest = pd.DataFrame({"queue": "voice", "interval_start": times, "forecast": 40.0, "day_ahead": 36.0,
                         "lo_80": 32.0, "hi_80": 48.0, "lo_95": 28.0, "hi_95": 53.0, "aht_s": 300.0,
                         "factor": 1.11, "observed": 400.0, "expected": 360.0})
    empty = pd.DataFrame(columns=["queue", "interval_start", "scheduled_agents", "on_break"])
    windows = pd.DataFrame(columns=["queue", "start", "end", "spare_agents_min"])
    out = plan_the_rest(rest, empty, windows, config, at)
    assert out["notes"] == ["queue voice: no schedule for 2026-11-16 in the plan; requirements only (run "
                            "'forecaster schedule' for the week)"]
    rows = out["intervals"]
    assert (rows["required_agents"] > 0).all() and rows["gap"].isna().all() and rows["service_level"].isna().all()
    q = out["queues"].iloc[0]
    assert q["rest_forecast"] == 480.0 and np.isnan(q["chance_target"]) and np.isnan(q["overtime_agent_h"])
    assert out["actions"].empty


def test_an_intraday_run_is_never_published_or_used_as_a_plan(site):
    root, run, _ = site
    with Store(root / "store.duckdb", read_only=True) as s:
        newest = s.con.execute("SELECT max(run_id) FROM runs WHERE kind = 'intraday'").fetchall()[0][0]
        plan = Runs(s).plan()
    for args in (("runs", "publish", newest), ("staff", "--run", newest)):
        res = run(*args)
        assert res.exit_code == 2
        assert res.stderr.strip() == (f"Error: run {newest} is an intraday update of run #{plan}: intraday runs stay "
                                      "drafts beside the plan and are not used or published as plans; 'forecaster "
                                      "runs' lists the forecast runs")
