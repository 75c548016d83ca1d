"""Clock changes in a local-time export: the autumn hour that happens twice and the spring hour
that does not happen, read as an ACD writes them (no UTC offsets), forecast and staffed with
their real minutes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecaster.core.config import load_config
from forecaster.core.site_calendar import slot_minutes, wall_occurrences
from forecaster.demand.selection import at_clock_changes, run_forecast
from forecaster.io.actuals import load_actuals
from forecaster.staffing.requirements import staff_forecast
from forecaster.store.database import Store
from tests.conftest import TINY_CONFIG

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "bank_campaigns_1999"


def _export(day: str, repeated: list[tuple[str, float]] | None = None) -> list[tuple]:
    """A 24/7 e-mail queue's day in local wall-clock time, in time order, without offsets."""
    rows = []
    for t in pd.date_range(day, periods=48, freq="30min"):
        if wall_occurrences("Europe/Amsterdam", [t])[0] == 0:
            continue                                        # the skipped hour: an ACD writes no row
        rows.append(("email", f"{t:%Y-%m-%d %H:%M}", 10.0, 300.0))
        if repeated and f"{t:%H:%M}" == repeated[0][0]:
            for hhmm, contacts in repeated:                 # the clocks go back after 02:59 the first time
                rows.append(("email", f"{day} {hhmm}", contacts, 600.0))
            repeated = None
    return rows


def test_a_24_7_export_across_both_changes_ingests_without_offsets(run, write, config_path):
    rows = _export("2026-03-29") + [r for r in _export("2026-10-25") if r[1] < "2026-10-25 03:00"] \
        + [("email", "2026-10-25 02:00", 4.0, 600.0), ("email", "2026-10-25 02:30", 6.0, 600.0)] \
        + [r for r in _export("2026-10-25") if r[1] >= "2026-10-25 03:00"]
    f = write("acd.csv", "queue,interval_start,contacts,aht_s\n" + "".join(f"{q},{t},{c},{a}\n" for q, t, c, a in rows))
    result = run("ingest", f)
    assert result.exit_code == 0, result.output
    assert (f"Warning: {f}: the hour repeated when clocks go back (2026-10-25, Europe/Amsterdam): 2 time(s) given "
            "twice, read in file order as first and second occurrence; each of these intervals holds twice its usual "
            "minutes, which forecasts and staffing take into account") in result.stderr
    assert "have no row (first 2026-03-30 00:00)" in result.stderr   # the spring gap is no gap in the data
    with Store(config_path.parent / "store.duckdb", read_only=True) as s:
        got = s.actuals(queues=["email"]).set_index("interval_start")
    assert len(got) == 46 + 48
    assert got.loc["2026-10-25 02:00", "contacts"] == 14.0              # both occurrences in one slot
    assert got.loc["2026-10-25 02:00", "aht_s"] == pytest.approx((10 * 300 + 4 * 600) / 14)
    assert got.loc["2026-10-25 02:30", "contacts"] == 16.0


def test_zero_rows_in_the_spring_gap_are_left_out_with_a_note(tmp_path):
    cfg = tmp_path / "site.yaml"
    cfg.write_text(TINY_CONFIG)
    f = tmp_path / "full-grid.csv"
    f.write_text("queue,interval_start,contacts\nemail,2026-03-29 01:30,3\nemail,2026-03-29 02:00,0\n"
                 "email,2026-03-29 02:30,0\nemail,2026-03-29 03:00,4\n")
    got = load_actuals(f, load_config(cfg))
    assert got.frame["contacts"].tolist() == [3.0, 4.0]
    assert got.warnings[0] == (f"{f}: 2 row(s) with 0 contacts at times that do not exist in Europe/Amsterdam "
                               "(clocks jump forward on 2026-03-29) were left out")


def test_forecast_and_staffing_give_the_repeated_hour_its_real_minutes(tmp_path):
    cfg = tmp_path / "site.yaml"
    cfg.write_text(TINY_CONFIG.replace('{name: voice, channel: voice, sl_pct: 80, answer_s: 20, aht_s: 300, '
                                       'patience_s: 120, shrinkage: 0.3}',
                                       '{name: voice, channel: voice, sl_pct: 80, answer_s: 20, aht_s: 300, '
                                       'opening_hours: {sun: "00:00-24:00"}}'))
    config = load_config(cfg)
    times = pd.to_datetime(["2026-03-29 02:00", "2026-10-25 01:30", "2026-10-25 02:00", "2026-10-25 02:30",
                            "2026-10-25 03:00"])
    assert slot_minutes(config, times).tolist() == [0, 30, 60, 60, 30]
    fc = pd.DataFrame({"queue": "voice", "interval_start": times, "forecast": 100.0, "lo_80": 90.0, "hi_80": 110.0,
                       "lo_95": 80.0, "hi_95": 120.0, "aht_s": 300.0, "model": "x"})
    info = {"warnings": []}
    scaled = at_clock_changes(fc, config, info)
    assert scaled["forecast"].tolist() == [0.0, 100.0, 200.0, 200.0, 100.0]
    assert scaled["hi_95"].tolist() == [0.0, 120.0, 240.0, 240.0, 120.0]
    assert info["warnings"] == [
        "2 interval(s) on 2026-10-25 hold both occurrences of the repeated hour (clocks go back): twice an ordinary "
        "slot's contacts", "1 interval(s) on 2026-03-29 do not exist (clocks jump forward): 0 contacts"]
    req = staff_forecast(scaled, config)
    # 200 contacts over 60 minutes need the agents of 100 over 30: the same arrival rate
    assert req["required_agents"].tolist()[1:] == [req["required_agents"].iat[1]] * 4
    assert req["required_agents"].iat[1] > 10 and req["occupancy"].iat[2] == pytest.approx(req["occupancy"].iat[1])
    assert req["required_agents"].iat[0] == 0 and req["contacts"].iat[0] == 0


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/bank_campaigns_1999 is not in this clone (CI has it)")
def test_the_israeli_bank_export_ingests_and_staffs_in_its_real_time_zone(run, tmp_path):
    """The real 24/7 export in local time (Asia/Jerusalem): 48 rows every day, so two rows with 0
    contacts in the spring gap (1999-04-02) and one row per time in the repeated hour (1999-09-03)."""
    cfg = tmp_path / "il.yaml"
    cfg.write_text("site: Israeli bank\ntimezone: Asia/Jerusalem\ninterval_min: 30\nopening_hours: {"
                   + ", ".join(f'{d}: "00:00-24:00"' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
                   + "}\nqueues:\n  - {name: bank, channel: voice, sl_pct: 80, answer_s: 20, aht_s: 180}\n"
                   "store: store.duckdb\n")
    config = load_config(cfg)
    got = load_actuals(SHARED / "actuals_30min.csv.gz", config)
    raw = pd.read_csv(SHARED / "actuals_30min.csv.gz")
    assert len(got.frame) == len(raw) - 2 and got.frame["contacts"].sum() == raw["contacts"].sum()
    assert any("taken to hold both occurrences" in w for w in got.warnings)
    hist = got.frame.rename(columns={"interval_start": "ds", "contacts": "y"})
    result = run_forecast(hist, pd.DataFrame(columns=["campaign_id", "channel", "start_ts", "end_ts", "queues",
                                                      "reach"]), config, dt.date(1999, 8, 31), 7)
    assert "2 interval(s) on 1999-09-03 hold both occurrences" in " ".join(result.info["warnings"])
    fc = result.frame.set_index("interval_start")
    req = staff_forecast(result.frame, config).set_index("interval_start")
    slot = pd.Timestamp("1999-09-03 01:00")
    # the repeated slot's contacts arrive over 60 minutes: occupancy is contacts x AHT / 3600 s
    assert req.loc[slot, "occupancy"] == pytest.approx(fc.loc[slot, "forecast"] * 180 / 3600
                                                       / req.loc[slot, "required_agents"], rel=1e-6)
    assert np.isfinite(req["required_agents"]).all()
