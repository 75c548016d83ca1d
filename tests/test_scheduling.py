"""Scheduling and spare capacity: pyworkforce's solvers as used here, the invariants, the CLI."""

from __future__ import annotations

import datetime as dt
import json

import icalendar
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from forecaster.cli.app import cli
from forecaster.core.config import load_config
from forecaster.core.errors import ConfigError
from forecaster.planning import capacity
from forecaster.planning import shifts as scheduling
from forecaster.staffing.erlang import with_shrinkage
from forecaster.staffing.requirements import staff_forecast
from forecaster.store.database import Store
from forecaster.store.runs import Runs
from tests.conftest import ROOT, TINY_CONFIG

SHIFTS = """\
shifts:
  - {name: early, starts: ["08:00", "08:30"], length_h: 8, unpaid_break_min: 30, paid_break_min: 15}
  - {name: late, starts: ["10:00", "10:30"], length_h: 8, unpaid_break_min: 30, paid_break_min: 15}
  - {name: part, starts: ["12:00", "14:00"], length_h: 4, paid_break_min: 15, max_headcount: 2}
  - {name: sat, starts: ["09:00"], length_h: 6, days: [sat], min_headcount: 1}
"""
WEEK = dt.date(2026, 12, 7)  # a Monday


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    p = tmp_path_factory.mktemp("site") / "site.yaml"
    p.write_text(TINY_CONFIG + SHIFTS)
    return load_config(p)


def _req(config, seed: int = 1, scale: float = 12.0) -> pd.DataFrame:
    """A week's requirement frame for the tiny site: a smooth daily hump plus noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(5):
        day = pd.Timestamp(WEEK) + pd.Timedelta(days=d)
        for k in range(20):  # 08:00-18:00
            agents = max(0, round(scale * np.sin(np.pi * (k + 0.5) / 20) + rng.integers(-2, 3)))
            rows.append(("voice", day + pd.Timedelta(minutes=480 + 30 * k), agents))
    f = pd.DataFrame(rows, columns=["queue", "interval_start", "required_agents"])
    return f.assign(required_with_shrinkage=with_shrinkage(f["required_agents"], 0.3))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_optimal_cover_leaves_no_interval_under_covered(site, seed):
    plan = scheduling.schedule_week(_req(site, seed), site, WEEK)
    voice = plan["summary"][plan["summary"]["queue"] == "voice"]
    # OPTIMAL, or FEASIBLE where a max_headcount cap made the plan a second solve: covered either way
    assert (voice["status"] == "OPTIMAL").any() and voice["status"].isin(["OPTIMAL", "FEASIBLE"]).all()
    assert voice.loc[voice["status"] == "FEASIBLE", "notes"].str.contains("at max_headcount").all()
    assert plan["shortfalls"].empty
    cov = plan["coverage"]
    assert (cov["scheduled_agents"] >= cov["required_with_shrinkage"]).all() and (cov["under"] == 0).all()
    # the objective against the lower bound: shift time is at least the required agent-time
    assert (voice["scheduled_agent_h"] >= voice["required_with_shrinkage_agent_h"]).all()


def test_caps_min_headcount_and_allowed_days_are_kept(site):
    plan = scheduling.schedule_week(_req(site, scale=30), site, WEEK)
    shifts = plan["shifts"]
    part = shifts[shifts["shift"].str.startswith("part@")]
    assert not part.empty and (part["headcount"] <= 2).all()
    assert set(pd.to_datetime(shifts.loc[shifts["shift"] == "sat@09:00", "day"]).dt.weekday) == {5}
    sat = shifts[(shifts["queue"] == "voice") & (pd.to_datetime(shifts["day"]).dt.weekday == 5)]
    assert sat["headcount"].tolist() == [1]                                # min_headcount on a day with no demand


def test_uncoverable_intervals_are_listed_and_the_rest_planned(site):
    req = _req(site)
    late = pd.DataFrame({"queue": "voice", "interval_start": [pd.Timestamp(WEEK) + pd.Timedelta(hours=19)],
                         "required_agents": [3], "required_with_shrinkage": [5]})                 # no shift runs at 19:00
    plan = scheduling.schedule_week(pd.concat([req, late]), site, WEEK)
    short = plan["shortfalls"]
    assert short[["interval_start", "agents_missing"]].values.tolist() == [[late["interval_start"][0], 5]]
    monday = plan["coverage"][plan["coverage"]["interval_start"].dt.date == WEEK]
    assert (monday.loc[monday["interval_start"].dt.hour < 18, "under"] == 0).all()


def test_breaks_never_drop_the_floor_below_the_productive_requirement(site):
    plan = scheduling.schedule_week(_req(site), site, WEEK)
    assert not plan["breaks"].empty and not plan["summary"]["notes"].str.contains("below").any()
    cov = plan["coverage"]
    assert (cov["scheduled_agents"] - cov["on_break"] >= cov["required_agents"]).all()
    per_agent = plan["breaks"].groupby(["queue", "day", "shift", "slot"])["break"].apply(sorted)
    full = per_agent[per_agent.index.get_level_values("shift").str.match("early|late")]
    assert all(b == ["paid", "unpaid"] for b in full)                      # one of each per full shift
    merged = plan["breaks"].merge(plan["shifts"], on=["queue", "day", "shift"], suffixes=("", "_shift"))
    assert ((merged["start"] > merged["start_shift"]) & (merged["end"] < merged["end_shift"])).all()


def test_fit_method_runs_min_abs_difference(site):
    plan = scheduling.schedule_week(_req(site), site, WEEK, method="fit")
    assert set(plan["summary"]["status"]) <= {"OPTIMAL", "FEASIBLE"}
    assert plan["coverage"]["scheduled_agents"].sum() > 0


def test_shift_past_midnight_is_a_config_error(tmp_path):
    p = tmp_path / "site.yaml"
    p.write_text(TINY_CONFIG + "shifts:\n  - {name: night, starts: ['20:00'], length_h: 8}\n")
    with pytest.raises(ConfigError, match="ends after midnight; shifts must end by 24:00"):
        load_config(p)


@given(on_shift=st.integers(0, 400), shrinkage=st.floats(0, 0.6))
def test_productive_agents_inverts_the_shrinkage_rule(on_shift, shrinkage):
    a = capacity.productive_agents(np.array([on_shift]), np.array([shrinkage]))[0]
    assert with_shrinkage(a, shrinkage) <= on_shift < with_shrinkage(a + 1, shrinkage)


@settings(max_examples=60, deadline=None)
@given(data=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=1, max_size=40),
       shrinkage=st.sampled_from([0.0, 0.25, 0.3, 0.32, 1 / 3]), min_agents=st.integers(1, 3))
def test_windows_never_include_an_interval_below_the_requirement(site, data, shrinkage, min_agents):
    """Whatever the schedule and requirement, every interval inside a window is covered at the quantile."""
    cfg = site.model_copy(update={
        "queues": [site.queues[0].model_copy(update={"shrinkage": shrinkage})],
        "outbound": site.outbound.model_copy(update={"min_agents": min_agents, "min_minutes": 30})})
    ts = pd.Timestamp(WEEK) + pd.to_timedelta(np.arange(len(data)) * 30 + 480, unit="min")
    agents = np.array([a for a, _ in data])
    req = pd.DataFrame({"queue": "voice", "interval_start": ts, "required_agents": agents,
                        "required_with_shrinkage": with_shrinkage(agents, shrinkage)})
    cov = pd.DataFrame({"queue": "voice", "interval_start": ts, "scheduled_agents": [o for _, o in data]})
    spare = capacity.spare_per_interval(cov, req, cfg).assign(risk=0.1)
    wins = capacity.windows(spare, cfg, 30)
    for w in wins.itertuples():
        inside = spare[(spare["interval_start"] >= w.start) & (spare["interval_start"] < w.end)]
        assert (inside["scheduled_agents"] >= inside["required_with_shrinkage"]).all()
        assert inside["spare"].min() == w.spare_agents_min >= min_agents


def _forecast_frame(config) -> pd.DataFrame:
    ts = pd.date_range(pd.Timestamp(WEEK), periods=7 * 48, freq="30min")
    ts = ts[(ts.weekday < 5) & (ts.hour >= 8) & (ts.hour < 18)]
    mean = 60 + 50 * np.sin(np.pi * ((ts.hour - 8) * 2 + ts.minute / 30) / 20)
    f = pd.DataFrame({"queue": "voice", "interval_start": ts, "forecast": mean, "lo_80": mean * 0.85,
                      "hi_80": mean * 1.15, "lo_95": mean * 0.75, "hi_95": mean * 1.25, "aht_s": 300.0})
    return f


def test_callbacks_add_load_after_the_windows_and_never_add_spare(site):
    fc = _forecast_frame(site)
    req = staff_forecast(fc, site, None)
    plan = scheduling.schedule_week(req, site, WEEK, breaks=False)
    without = capacity.spare_capacity(fc, plan["coverage"], site.model_copy(update={
        "outbound": site.outbound.model_copy(update={"callback_rate": 0.0})}))
    with_cb = capacity.spare_capacity(fc, plan["coverage"], site.model_copy(update={
        "outbound": site.outbound.model_copy(update={"callback_rate": 0.5})}))
    assert not without["windows"].empty
    assert with_cb["callbacks"]["callbacks"].sum() > 0
    first = with_cb["callbacks"]["interval_start"].min()
    assert first >= with_cb["windows"]["start"].min() + pd.Timedelta(minutes=site.outbound.callback_delay_min)
    merged = without["intervals"].merge(with_cb["intervals"], on=["queue", "interval_start"], suffixes=("_0", "_1"))
    assert (merged["spare_1"] <= merged["spare_0"]).all()
    assert with_cb["windows"]["spare_agent_hours"].sum() <= without["windows"]["spare_agent_hours"].sum()
    assert ((with_cb["windows"]["risk"] >= 0) & (with_cb["windows"]["risk"] <= 1 - site.outbound.quantile + 1e-9)).all()


def _store_with_forecast(tmp_path):
    cfg = tmp_path / "site.yaml"
    cfg.write_text(TINY_CONFIG + SHIFTS)
    config = load_config(cfg)
    with Store(tmp_path / "store.duckdb") as s, s.transaction():
        runs = Runs(s)
        rid = runs.create("forecast", as_of=WEEK - dt.timedelta(days=1))
        runs.save_forecast(rid, _forecast_frame(config).assign(model="test"))
    return cfg


def test_cli_schedule_then_capacity_with_ics(tmp_path):
    cfg = _store_with_forecast(tmp_path)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, ["--config", str(cfg), *map(str, args)], catch_exceptions=False)

    early = run("capacity")
    assert early.exit_code == 2 and early.stderr.strip() == \
        "Error: run 1 has no schedule yet; run 'forecaster schedule --run 1' first"
    bad = run("schedule", "--week", "2026-W60")
    assert bad.exit_code == 2 and bad.stderr.strip() == "Error: --week '2026-W60' is not an ISO week like 2026-W49"
    outside = run("schedule", "--week", "2027-W10")
    assert outside.exit_code == 2 and "is outside run 1's forecast (2026-12-07 to 2026-12-11)" in outside.stderr
    done = run("schedule", "--out", tmp_path / "shifts.csv", "--coverage-out", tmp_path / "cov.parquet")
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("Run #1, week 2026-W50 (cover, mean): queue-days")
    shifts = pd.read_csv(tmp_path / "shifts.csv")
    assert list(shifts.columns) == ["queue", "day", "shift", "start", "end", "paid_h", "headcount"]
    assert (pd.read_parquet(tmp_path / "cov.parquet")["under"] == 0).all()
    cap = run("capacity", "--min-minutes", "60", "--out", tmp_path / "outbound.ics")
    assert cap.exit_code == 0, cap.output
    assert cap.stdout.startswith("Run #1: ") and "spare beats the 0.8 quantile" in cap.stdout
    cal = icalendar.Calendar.from_ical((tmp_path / "outbound.ics").read_bytes())
    events = [c for c in cal.walk("VEVENT")]
    listed = json.loads(run("capacity", "--format", "json").stdout)
    assert len(events) == len(listed) > 0
    assert str(events[0]["dtstart"].dt.tzinfo) == "Europe/Amsterdam"
    with Store(tmp_path / "store.duckdb", read_only=True) as s:
        runs = Runs(s)
        assert len(runs.schedule(1)["shifts"]) == len(shifts) and len(runs.capacity(1)["windows"]) == len(events)
        assert runs.get(1)["info"] and "capacity" in runs.get(1)["info"]


def test_demo_week_is_solved_to_optimal():
    """The demo config's 20 shift variants on a realistic week: every queue-day OPTIMAL, nothing short."""
    config = load_config(ROOT / "configs" / "example.yaml")
    assert sum(len(t.starts) for t in config.shifts) >= 20
    fc = pd.read_csv(ROOT / "data" / "demo" / "actuals.csv.gz", parse_dates=["interval_start"])
    week = fc[(fc["interval_start"] >= "2026-11-16") & (fc["interval_start"] < "2026-11-23")]
    week = week.rename(columns={"contacts": "forecast"}).assign(
        lo_80=lambda f: f.forecast * 0.9, hi_80=lambda f: f.forecast * 1.1, lo_95=np.nan, hi_95=np.nan)
    plan = scheduling.schedule_week(staff_forecast(week, config), config, dt.date(2026, 11, 16), breaks=False)
    assert set(plan["summary"]["status"]) == {"OPTIMAL"} and plan["shortfalls"].empty


def test_queue_days_solved_on_a_dask_cluster_of_two_processes_give_the_local_plan(site):
    """Every queue and day is its own task: on a local cluster of two worker processes the plan is
    the one solved in this process. Where each break falls is the solver's free choice among equal
    placements (it differs between two runs in one process too); how many breaks each shift gets
    does not."""
    from distributed import get_client

    from forecaster.core.engine import engine_session

    req = pd.concat([_req(site, 4), _req(site, 5).assign(queue="email")])
    local = scheduling.schedule_week(req, site, WEEK)
    with engine_session("dask"):
        workers = get_client().scheduler_info()["workers"]
        dist = scheduling.schedule_week(req, site, WEEK, engine="dask")
    assert len(workers) == 2 and all(w.get("nthreads") == 1 for w in workers.values())
    assert len(local["summary"]) == 14 and local["shifts"]["headcount"].sum() > 0 and len(local["breaks"])
    for part in ("shifts", "shortfalls"):
        pd.testing.assert_frame_equal(local[part], dist[part])
    pd.testing.assert_frame_equal(local["coverage"].drop(columns="on_break"), dist["coverage"].drop(columns="on_break"))
    pd.testing.assert_frame_equal(local["summary"].drop(columns="solve_s"), dist["summary"].drop(columns="solve_s"))
    per_shift = ["queue", "day", "shift", "break"]
    pd.testing.assert_series_equal(local["breaks"].groupby(per_shift).size(), dist["breaks"].groupby(per_shift).size())


def _which_copy(item, config=None, method=None):
    import os

    return item, os.getpid(), id(config), len(config.queue_names), method


def test_tasks_share_their_common_arguments_on_each_worker(site):
    """``map_tasks`` of a ``partial`` gives the loop's results in order, and the arguments every
    task shares (the site's config) reach each worker once: each worker's tasks see one copy.
    Inside each task, a config of 500 queues was unpickled per task and kept (1.8 GiB a worker
    for a week's scheduling)."""
    from functools import partial

    from forecaster.core.engine import engine_session, map_tasks

    fn = partial(_which_copy, config=site, method="cp_sat")
    local = map_tasks(fn, range(40))
    with engine_session("dask"):
        dist = map_tasks(fn, range(40), engine="dask")
    assert [(i, n, m) for i, _, _, n, m in dist] == [(i, n, m) for i, _, _, n, m in local]
    copies = {}
    for _, pid, ident, _, _ in dist:
        copies.setdefault(pid, set()).add(ident)
    assert len(copies) == 2 and all(len(ids) == 1 for ids in copies.values())


@pytest.mark.parametrize("delay, spread", [(45, 30), (60, 120), (10, 5), (0, 1)])
def test_callbacks_with_any_delay_and_spread_all_land_on_the_grid(site, delay, spread):
    """45 minutes on a 30-minute grid used to land nowhere (5.8 call-backs made, 0 staffed)."""
    cfg = site.model_copy(update={"outbound": site.outbound.model_copy(update={
        "callback_rate": 0.5, "callback_delay_min": delay, "callback_spread_min": spread})})
    shares = capacity.callback_shares(cfg, 30)
    assert sum(w for _, w in shares) == pytest.approx(1.0)
    assert shares[0][0] == delay // 30 and shares[-1][0] == (delay + 30 + spread - 2) // 30
    fc = _forecast_frame(cfg)
    plan = scheduling.schedule_week(staff_forecast(fc, cfg, None), cfg, WEEK, breaks=False)
    out = capacity.spare_capacity(fc, plan["coverage"], cfg)
    made = out["callbacks"]["callbacks"].sum()
    landed = out["intervals"]["callbacks"].sum()
    assert made > 0 and landed > 0
    assert landed == pytest.approx(made) or any("fall outside the schedule's intervals" in n for n in out["notes"])


def test_a_loop_that_does_not_settle_says_so(site):
    cfg = site.model_copy(update={"outbound": site.outbound.model_copy(update={"callback_rate": 0.5})})
    fc = _forecast_frame(cfg)
    plan = scheduling.schedule_week(staff_forecast(fc, cfg, None), cfg, WEEK, breaks=False)
    settled = capacity.spare_capacity(fc, plan["coverage"], cfg)
    assert settled["converged"] and not any("did not settle" in n for n in settled["notes"])
    cut = capacity.spare_capacity(fc, plan["coverage"], cfg, max_rounds=1)
    assert not cut["converged"]
    assert cut["notes"][0].startswith("spare capacity did not settle in 1 rounds of call-backs")
    assert capacity.capacity_meta(cut, cfg)["converged"] is False


def test_agents_on_a_break_are_not_spare(site):
    ts = pd.Timestamp(WEEK) + pd.to_timedelta(np.arange(4) * 30 + 600, unit="min")
    req = pd.DataFrame({"queue": "voice", "interval_start": ts, "required_agents": 2,
                        "required_with_shrinkage": with_shrinkage(np.full(4, 2), 0.3)})
    cov = pd.DataFrame({"queue": "voice", "interval_start": ts, "scheduled_agents": 10, "on_break": [0, 4, 7, 10]})
    spare = capacity.spare_per_interval(cov, req, site)
    productive = capacity.productive_agents(np.array([10]), np.array([0.3]))[0]
    assert spare["productive"].tolist() == [productive, min(productive, 6), 3, 0]
    assert spare["spare"].tolist() == [productive - 2, min(productive, 6) - 2, 1, -2]


def test_map_tasks_keeps_order_locally_and_asks_for_a_session_on_dask():
    from forecaster.core.engine import map_tasks

    assert map_tasks(abs, [-3, 2, -1]) == [3, 2, 1]
    with pytest.raises(RuntimeError, match="engine_session"):
        map_tasks(abs, [-3, 2], "dask")
