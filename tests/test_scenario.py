"""What-if scenarios: consistency with the base, monotone in load, options, storage, the CLI."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from forecaster.cli.app import cli
from forecaster.core.config import load_config
from forecaster.core.errors import UserError
from forecaster.core.grid import future_grid
from forecaster.scenarios import whatif as sc
from forecaster.store.database import Store
from forecaster.store.runs import Runs
from tests.conftest import ROOT, TINY_CONFIG

FIRST = dt.date(2026, 12, 7)  # a Monday


def make_forecast(config, days: int = 5, level: float = 40.0) -> pd.DataFrame:
    """A smooth forecast with bands for every open interval of the tiny site."""
    grid = future_grid(config, config.queue_names, FIRST, days)
    hour = grid["ds"].dt.hour + grid["ds"].dt.minute / 60
    point = level * (1.2 + np.sin((hour - 8) / 10 * np.pi)) * np.where(grid["queue"] == "email", 0.3, 1.0)
    f = grid.rename(columns={"ds": "interval_start"}).assign(forecast=point)
    spread = np.sqrt(point + 1)
    f["lo_80"], f["hi_80"] = np.maximum(point - 1.3 * spread, 0), point + 1.3 * spread
    f["lo_95"], f["hi_95"] = np.maximum(point - 2 * spread, 0), point + 2 * spread
    f["aht_s"] = np.where(f["queue"] == "email", 400.0, 300.0)
    return f


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    p = tmp_path_factory.mktemp("site") / "site.yaml"
    p.write_text(TINY_CONFIG)
    return load_config(p)


@pytest.fixture
def fc(config):
    return make_forecast(config)


def assert_same_as_base(result):
    for name in ("days", "queues", "total"):
        frame = result[name]
        for m in sc.METRICS:
            pd.testing.assert_series_equal(frame[m], frame[f"{m}_base"], check_names=False)
    iv = result["intervals"]
    assert (iv["required_agents"] == iv["required_agents_base"]).all() and (iv["contacts"] == iv["contacts_base"]).all()


def test_no_changes_equal_the_base_exactly(config, fc):
    result = sc.evaluate(fc, config, sc.Scenario())
    assert_same_as_base(result)
    assert result["total"]["cost_delta"].iloc[0] == 0


@pytest.mark.parametrize("spec", [
    sc.Scenario(aht=("s", 0.0)),
    sc.Scenario(aht=("%", 0.0)),
    sc.Scenario(deflect=0.0, deflect_aht=("%", 0.0)),
    sc.Scenario(volume=("%", 0.0)),
    sc.Scenario(shrinkage=0.3, queues=["voice"]),             # the voice queue's own shrinkage
])
def test_null_changes_equal_the_base_exactly(config, fc, spec):
    assert_same_as_base(sc.evaluate(fc, config, spec))


@settings(max_examples=25, deadline=None)
@given(change=st.one_of(st.tuples(st.just("s"), st.floats(0, 300)), st.tuples(st.just("%"), st.floats(0, 80))),
       volume=st.floats(0, 60), erlang_a=st.booleans())
def test_more_handling_time_or_volume_never_lowers_required_agents(site, change, volume, erlang_a):
    config = site
    fc = make_forecast(config, days=2)
    model = "erlang_a" if erlang_a else None
    base = sc.evaluate(fc, config, sc.Scenario(model=model))["intervals"]
    more = sc.evaluate(fc, config, sc.Scenario(model=model, aht=change, volume=("%", volume)))["intervals"]
    assert (more["required_agents"].to_numpy() >= base["required_agents"].to_numpy()).all()
    assert (more["required_with_shrinkage"].to_numpy() >= base["required_with_shrinkage"].to_numpy()).all()


def test_deflection_removes_that_share_and_harder_contacts_take_longer(config, fc):
    plain = sc.evaluate(fc, config, sc.Scenario(deflect=0.15))
    total = plain["total"].iloc[0]
    assert total["contacts"] == pytest.approx(0.85 * total["contacts_base"])
    assert total["required_agent_h"] <= total["required_agent_h_base"]
    harder = sc.evaluate(fc, config, sc.Scenario(deflect=0.15, deflect_aht=("%", 20)))["total"].iloc[0]
    assert harder["contacts"] == pytest.approx(total["contacts"])
    assert harder["required_agent_h"] > total["required_agent_h"]


def test_changes_stay_inside_the_queue_and_time_window(config, fc):
    spec = sc.Scenario(queues=["voice"], start=dt.datetime(2026, 12, 8), end=dt.datetime(2026, 12, 9), aht=("s", 60))
    days = sc.evaluate(fc, config, spec)["days"]
    changed = days[days["required_agent_h_delta"] != 0]
    assert set(zip(changed["queue"], changed["day"])) == {("voice", dt.date(2026, 12, 8))}


def test_a_stricter_target_costs_more_and_lifts_service_with_today_staffing_unchanged(config, fc):
    result = sc.evaluate(fc, config, sc.Scenario(sl=(0.9, 15)))
    voice = result["queues"].set_index("queue").loc["voice"]
    assert voice["required_agent_h"] > voice["required_agent_h_base"] and voice["cost_delta"] > 0
    # today's staffing is the base plan: the service it gives does not depend on the new target
    assert voice["service_level"] == pytest.approx(voice["service_level_base"], abs=0.1)
    email = result["queues"].set_index("queue").loc["email"]
    assert email["required_agent_h_delta"] == 0                              # e-mail keeps its deadline


def test_longer_handling_with_todays_schedule_lowers_service_and_uses_the_schedule(config, fc):
    base_req = sc.staff_forecast(fc, config)
    coverage = base_req[["queue", "interval_start"]].assign(scheduled_agents=base_req["required_with_shrinkage"] + 1, on_break=1)
    result = sc.evaluate(fc, config, sc.Scenario(aht=("s", 60)), coverage=coverage)
    assert (result["intervals"]["staffed_from"] == "schedule").all()
    voice = result["queues"].set_index("queue").loc["voice"]
    assert voice["service_level"] < voice["service_level_base"]
    assert voice["asa_s"] > voice["asa_s_base"] and voice["abandon"] > voice["abandon_base"]
    assert voice["spare_agent_h"] < voice["spare_agent_h_base"]


def test_fte_and_cost_follow_the_config(config, fc):
    total = sc.evaluate(fc, config, sc.Scenario())["total"].iloc[0]
    days = 7                                       # the forecast spans Monday to Friday plus e-mail's weekend
    assert total["cost"] == pytest.approx(total["required_with_shrinkage_agent_h"] * config.scheduling.hourly_cost)
    n_days = fc["interval_start"].dt.date.nunique()
    assert n_days <= days
    assert total["fte"] == pytest.approx(total["required_with_shrinkage_agent_h"] / (config.scheduling.fte_hours_week * n_days / 7))


@pytest.mark.parametrize(("parse", "text", "message"), [
    (lambda t: sc.parse_share(t, "--deflect"), "140%", "--deflect 140%: give a share from 0% to below 100%, like 15%"),
    (lambda t: sc.parse_change(t, "--aht"), "30 minutes", "--aht 30 minutes: write the change like +30s or +10%"),
    (lambda t: sc.parse_change(t, "--volume", seconds=False), "+5s", "--volume +5s: write the change like +10% or -5%"),
    (lambda t: sc.parse_moves((t,)), "CMP-1", "--campaign-move CMP-1: write CAMPAIGN_ID=YYYY-MM-DD (the new start date)"),
])
def test_bad_options_say_what_to_write(parse, text, message):
    with pytest.raises(UserError) as err:
        parse(text)
    assert str(err.value) == message


def test_moved_and_dropped_campaigns_change_the_calendar():
    cal = pd.DataFrame({"campaign_id": ["A", "B"], "channel": ["email", "sms"],
                        "start_ts": pd.to_datetime(["2026-12-01 09:00", "2026-12-03 00:00"]),
                        "end_ts": pd.to_datetime(["2026-12-02 17:00", "2026-12-03 00:00"]),
                        "queues": [["voice"], ["voice"]], "reach": [1000, 2000]})
    out = sc.changed_calendar(cal, sc.Scenario(campaign_move={"A": "2026-12-08"}, campaign_drop=["B"]))
    assert out["campaign_id"].tolist() == ["A"]
    assert out["start_ts"].iloc[0] == pd.Timestamp("2026-12-08 09:00")
    assert out["end_ts"].iloc[0] == pd.Timestamp("2026-12-09 17:00")
    with pytest.raises(UserError, match="campaign 'C' is not in the current calendar"):
        sc.changed_calendar(cal, sc.Scenario(campaign_drop=["C"]))


# -- on a stored run, through the CLI ---------------------------------------------------------------
@pytest.fixture
def stored(tmp_path, config_path, config):
    fc = make_forecast(config)
    with Store(tmp_path / "store.duckdb") as store, store.transaction():
        runs = Runs(store)
        run_id = runs.create("forecast", as_of=FIRST - dt.timedelta(days=1), params={}, info={})
        runs.save_forecast(run_id, fc)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, ["--config", str(config_path), *map(str, args)])

    return run, tmp_path / "store.duckdb"


def test_cli_scenarios_are_stored_compared_and_leave_the_run_alone(stored):
    run, path = stored
    with Store(path, read_only=True) as s:
        before = Runs(s).forecast(1)
    r = run("scenario", "--name", "help-properly", "--aht", "+30s")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("Scenario 'help-properly' (#1) on run #1; today's staffing: ")
    assert "TOTAL" in r.stdout and "cost delta" in r.stdout
    assert run("scenario", "--name", "community", "--deflect", "15%", "--deflect-aht", "+20%").exit_code == 0
    assert run("scenario", "--name", "nothing").exit_code == 0
    cmp = run("scenario", "compare", "help-properly", "community", "nothing", "--format", "json")
    assert cmp.exit_code == 0, cmp.output
    import json

    rows = {r["name"]: r for r in json.loads(cmp.stdout)}
    assert set(rows) == {"base of run 1", "help-properly", "community", "nothing"}
    assert rows["help-properly"]["cost"] > rows["base of run 1"]["cost"]
    assert rows["community"]["contacts"] == pytest.approx(0.85 * rows["base of run 1"]["contacts"])
    assert rows["nothing"] == {**rows["base of run 1"], "name": "nothing"}
    listed = run("scenario", "list", "--format", "json")
    assert [r["name"] for r in json.loads(listed.stdout)] == ["nothing", "community", "help-properly"]
    with Store(path, read_only=True) as s:
        pd.testing.assert_frame_equal(Runs(s).forecast(1), before)


@pytest.mark.parametrize(("args", "line"), [
    (["--deflect", "140%"], "Error: --deflect 140%: give a share from 0% to below 100%, like 15%"),
    (["--sl", "80/"], "Error: --sl 80/: write the service level as PERCENT/SECONDS, e.g. 80/20"),
    (["--campaign-drop", "NOPE"], "Error: campaign 'NOPE' is not in the current calendar; 'forecaster campaigns "
                                  "list' shows the campaigns"),
    (["--queue", "sales"], "Error: --queue sales: no such queue; the config has voice, email"),
    (["--deflect-aht", "+20%"], "Error: --deflect-aht is the handling time of the contacts left after --deflect; "
                                "give --deflect too"),
])
def test_cli_bad_options_exit_2_with_one_line(stored, args, line):
    run, path = stored
    r = run("scenario", *args)
    assert r.exit_code == 2
    assert r.stderr.strip() == line
    with Store(path, read_only=True) as s:
        assert s.con.execute("SELECT count(*) FROM scenarios").fetchone()[0] == 0


def test_cli_compare_of_an_unknown_name(stored):
    run, _ = stored
    r = run("scenario", "compare", "nope")
    assert r.exit_code == 2 and "no stored scenario named 'nope'" in r.stderr


def test_example_config_documents_scenario_costs():
    text = (ROOT / "configs" / "example.yaml").read_text()
    assert "fte_hours_week" in text and "hourly_cost" in text


def campaign_history(config, days: int = 150, seed: int = 3):
    """A voice queue's history with e-mail campaigns that add contacts, and a 2-week forecast grid."""
    rng = np.random.default_rng(seed)
    start = FIRST - dt.timedelta(days=days)
    grid = future_grid(config, ["voice"], start, days)
    cal = pd.DataFrame({"campaign_id": ["E1", "E2", "E3", "E4", "NEXT"], "channel": "email",
                        "start_ts": pd.to_datetime(["2026-08-04", "2026-09-08", "2026-10-06", "2026-11-03",
                                                    "2026-12-09"]),
                        "queues": [["voice"]] * 5, "reach": 100_000})
    cal["end_ts"] = cal["start_ts"] + pd.Timedelta(hours=23, minutes=59)
    day = grid["ds"].dt.normalize()
    lift = np.zeros(len(grid))
    for s in cal["start_ts"]:
        lift += np.where(day == s, 1.0, 0.0) + np.where(day == s + pd.Timedelta(days=1), 0.5, 0.0)
    hist = grid.assign(y=rng.poisson(20 * (1 + lift)).astype(float), aht_s=300.0)
    future = future_grid(config, ["voice"], FIRST, 14).rename(columns={"ds": "interval_start"})
    return hist, cal, future.assign(forecast=20.0, lo_80=15.0, hi_80=25.0, lo_95=12.0, hi_95=28.0, aht_s=300.0)


def test_campaign_changes_are_re_predicted_by_the_runs_model(config):
    hist, cal, future = campaign_history(config)
    info = {"adstock": {"email": {"lag_days": 0, "decay": 0.5}}, "queues": {"voice": {"model": "topdown"}}}
    as_of = FIRST - dt.timedelta(days=1)
    same, notes = sc.campaign_delta(hist, cal, future, info, config, as_of,
                                    sc.Scenario(campaign_move={"NEXT": "2026-12-09"}))
    assert notes == [] and len(same) == len(future) and (same == 0).all()
    dropped, _ = sc.campaign_delta(hist, cal, future, info, config, as_of, sc.Scenario(campaign_drop=["NEXT"]))
    by_day = dropped.groupby(dropped.index.get_level_values(1).normalize()).sum()
    assert (by_day[by_day.index < "2026-12-09"] == 0).all()
    assert by_day.loc["2026-12-09"] < -100                     # the campaign day loses its extra contacts
    moved, _ = sc.campaign_delta(hist, cal, future, info, config, as_of,
                                 sc.Scenario(campaign_move={"NEXT": "2026-12-16"}))
    by_day = moved.groupby(moved.index.get_level_values(1).normalize()).sum()
    assert by_day.loc["2026-12-09"] < -100 and by_day.loc["2026-12-16"] > 100
    # a baseline model carries the same campaign layer: dropping the campaign changes its forecast too
    baseline_info = {**info, "queues": {"voice": {"model": "mean4"}}}
    by_mean4, notes = sc.campaign_delta(hist, cal, future, baseline_info, config, as_of,
                                        sc.Scenario(campaign_drop=["NEXT"]))
    per_day = by_mean4.groupby(by_mean4.index.get_level_values(1).normalize()).sum()
    assert notes == [] and per_day.loc["2026-12-09"] < -100 and (per_day[per_day.index < "2026-12-09"] == 0).all()
    unlearned = {**info, "adstock": {}}
    none, notes = sc.campaign_delta(hist, cal, future, unlearned, config, as_of, sc.Scenario(campaign_drop=["NEXT"]))
    assert none.empty and notes == ["queue voice: the run learned no campaign carry-over (no campaign before its "
                                    "backtest); the campaign change leaves it unchanged"]
    result = sc.evaluate(future, config, sc.Scenario(campaign_drop=["NEXT"]), delta=dropped)
    total = result["total"].iloc[0]
    # the stored forecast (flat 20 here) moves by the change, never below zero
    expected = np.maximum(future["forecast"].to_numpy() + dropped.to_numpy(), 0).sum()
    assert total["contacts"] == pytest.approx(expected, rel=1e-12)
