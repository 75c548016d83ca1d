"""The named roster: pyworkforce MinHoursRoster on a week's plan, the agents file, and the CLI."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from forecaster.core.errors import InputError
from forecaster.planning.roster import read_agents, roster_week

WEEK = dt.date(2026, 12, 7)  # a Monday


def plan(heads: dict[str, list[int]], paid_h: dict[str, float]) -> pd.DataFrame:
    """A headcount plan for the voice queue: shift name@HH:MM -> headcount Monday..Sunday."""
    rows = []
    for shift, per_day in heads.items():
        h, m = map(int, shift.split("@")[1].split(":"))
        for d, n in enumerate(per_day):
            day = WEEK + dt.timedelta(days=d)
            start = pd.Timestamp(day) + pd.Timedelta(hours=h, minutes=m)
            rows.append({"queue": "voice", "day": day, "shift": shift, "start": start,
                         "end": start + pd.Timedelta(hours=8), "paid_h": paid_h[shift], "headcount": n})
    return pd.DataFrame(rows)


def agents(n: int, off: dict[int, str] | None = None, hours: float = 30.0) -> pd.DataFrame:
    off = off or {}
    return pd.DataFrame([{"name": f"a{i}", "queue": "voice", "contracted_hours": hours,
                          "days_off": off.get(i, "").split(";") if off.get(i) else []} for i in range(n)])


def test_every_shift_is_staffed_by_named_agents_who_keep_their_days_off():
    p = plan({"early@08:00": [2, 2, 2, 2, 2, 1, 0], "late@10:00": [1, 1, 1, 1, 1, 0, 0]},
             {"early@08:00": 7.5, "late@10:00": 7.5})
    team = agents(6, off={0: "sat;sun", 1: "mon", 2: "fri"}, hours=22.5)
    out = roster_week(p, team, WEEK, time_limit_s=10)
    assert out["summary"]["status"].iloc[0] in ("OPTIMAL", "FEASIBLE")
    r = out["roster"]
    got = r.groupby(["day", "shift"]).size()
    need = p.set_index(["day", "shift"])["headcount"]
    assert (got.reindex(need.index, fill_value=0) >= need).all()                  # every shift covered
    assert not r.duplicated(["agent", "day"]).any()                                # one shift a day
    weekday = pd.to_datetime(r["day"]).dt.strftime("%a").str.lower()
    for i, days in {0: {"sat", "sun"}, 1: {"mon"}, 2: {"fri"}}.items():
        assert not weekday[r["agent"] == f"a{i}"].isin(days).any()                 # days off kept
    hours = out["agents"].set_index("agent")["rostered_h"]
    assert (hours >= 22.5).all()                                                   # the minimum hours
    assert (r["start"].dt.date == r["day"]).all() and (r["end"] - r["start"] == pd.Timedelta(hours=8)).all()


def test_too_few_agents_on_a_day_is_reported_not_solved():
    p = plan({"early@08:00": [3, 0, 0, 0, 0, 0, 0]}, {"early@08:00": 7.5})
    out = roster_week(p, agents(3, off={0: "mon"}, hours=7.5), WEEK, time_limit_s=5)
    row = out["summary"].iloc[0]
    assert row["status"] == "INFEASIBLE"
    assert row["notes"] == ("Mon 2026-12-07 needs 3 agents on shift but only 2 are not off; add agents or lower "
                            "the headcount")
    assert out["roster"].empty


def test_a_queue_without_agents_is_named(config):
    p = plan({"early@08:00": [1, 0, 0, 0, 0, 0, 0]}, {"early@08:00": 7.5})
    out = roster_week(p, agents(2).assign(queue="email"), WEEK, time_limit_s=5)
    assert out["summary"].to_dict("records")[0]["status"] == "NO_AGENTS"


def test_agents_file_errors_name_row_and_field(write, config):
    bad = write("agents.csv", """\
        name,queue,contracted_hours,days_off
        ann,voice,36,sun
        bob,sales,36,
        ann,voice,0,someday
        """)
    with pytest.raises(InputError) as err:
        read_agents(bad, config)
    lines = [str(p) for p in err.value.problems]
    assert any(":3:queue" in line and "unknown queue 'sales'" in line for line in lines)
    assert any(":4:contracted_hours" in line for line in lines)
    assert any(":4:days_off" in line for line in lines)
    good = write("ok.csv", "name,queue,contracted_hours,days_off\nann,voice,36,sat;sun\nbob,voice,24,\n")
    frame = read_agents(good, config)
    assert frame["days_off"].tolist() == [["sat", "sun"], []]


def test_cli_schedule_with_agents_rejects_a_bad_file_before_solving(run, write):
    bad = write("agents.csv", "name,queue,contracted_hours\nann,nowhere,36\n")
    r = run("schedule", "--agents", bad)
    assert r.exit_code == 2 and "unknown queue 'nowhere'" in r.stderr
    r = run("schedule", "--roster-out", "x.csv")
    assert r.exit_code == 2 and r.stderr.strip() == "Error: --roster-out needs --agents FILE (the agents to roster)"
