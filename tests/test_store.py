"""The store: round trip, schema versions and migration, locks, and files that are not stores."""

from __future__ import annotations

import datetime as dt
import json
import time

import pandas as pd
import pytest
from click.testing import CliRunner

from forecaster.cli.app import cli
from forecaster.core.errors import StoreError, StoreLockedError, StoreVersionError
from forecaster.store import database as store_mod
from forecaster.store.database import SCHEMA_VERSION, Store
from tests.conftest import lock_held


def frame(n: int = 5) -> pd.DataFrame:
    return pd.DataFrame({
        "queue": ["voice"] * n,
        "interval_start": pd.date_range("2026-03-02 08:00", periods=n, freq="30min"),
        "contacts": [float(i) for i in range(n)],
        "aht_s": [300.0 + i for i in range(n - 1)] + [float("nan")],
    })


def test_round_trip(tmp_path):
    with Store(tmp_path / "s.duckdb") as s:
        s.replace_actuals(frame(), ["f.csv"], ["abc"], by="tester")
    with Store(tmp_path / "s.duckdb", read_only=True) as s:
        got = s.actuals()
        ing = s.con.execute("SELECT files, sha256, rows, ingested_by FROM ingests").fetchall()
        info = s.status()
    pd.testing.assert_frame_equal(got, frame(), check_dtype=False)
    assert ing == [(["f.csv"], ["abc"], 5, "tester")]
    assert info["schema_version"] == SCHEMA_VERSION and info["queues"][0]["rows"] == 5


def test_actuals_by_queue_and_time_with_one_string_per_queue(tmp_path):
    """``actuals`` orders by queue and time, filters by queues and a time window (end exclusive),
    gives the frame DuckDB's own reading gives, and each queue's rows share one name string (a
    string per row cost 1.2 GB at 500 queues); no rows still come with the columns."""
    f = pd.concat([frame(6).assign(queue=q) for q in ("voice", "chat", "e-mail")], ignore_index=True)
    with Store(tmp_path / "s.duckdb") as s:
        s.replace_actuals(f.sample(frac=1, random_state=1), ["f.csv"], ["abc"])
        plain = s.con.execute("SELECT queue, interval_start, contacts, aht_s FROM actuals "
                              "ORDER BY queue, interval_start").df()
        got = s.actuals()
        window = s.actuals(["voice", "chat", "none"], start=pd.Timestamp("2026-03-02 09:00").to_pydatetime(),
                           end=pd.Timestamp("2026-03-02 10:00").to_pydatetime())
        empty = s.actuals(["none"])
    pd.testing.assert_frame_equal(got, plain)
    assert list(got["queue"].drop_duplicates()) == ["chat", "e-mail", "voice"]
    assert len({id(name) for name in got["queue"]}) == 3
    assert list(zip(window["queue"], window["interval_start"].dt.strftime("%H:%M"))) == [
        ("chat", "09:00"), ("chat", "09:30"), ("voice", "09:00"), ("voice", "09:30")]
    assert empty.empty and list(empty.columns) == list(plain.columns)


def test_read_only_missing_store_is_clear(tmp_path):
    with pytest.raises(StoreError, match="no store at .* yet; run 'forecaster ingest FILE'"):
        Store(tmp_path / "none.duckdb", read_only=True)


def test_newer_store_is_refused(tmp_path):
    p = tmp_path / "s.duckdb"
    with Store(p) as s:
        s.con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    with pytest.raises(StoreVersionError, match="newer than this forecaster's"):
        Store(p)


def test_older_store_asks_for_migration_and_migrate_works(tmp_path, monkeypatch):
    p = tmp_path / "s.duckdb"
    with Store(p) as s:
        s.replace_actuals(frame(), ["f.csv"], ["abc"])
    # Pretend this forecaster is one version ahead, with a migration that adds a column.
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(store_mod.MIGRATIONS, SCHEMA_VERSION + 1, ["ALTER TABLE actuals ADD COLUMN note VARCHAR"])
    with pytest.raises(StoreVersionError, match="run 'forecaster store migrate'"):
        Store(p)
    result = CliRunner().invoke(cli, ["--store", str(p), "store", "migrate"])
    assert result.exit_code == 0, result.output
    assert f"from schema version {SCHEMA_VERSION} to {SCHEMA_VERSION + 1}" in result.stdout
    assert (tmp_path / f"s.duckdb.v{SCHEMA_VERSION}.bak").exists()
    with Store(p, read_only=True) as s:
        assert "note" in s.con.execute("SELECT * FROM actuals LIMIT 0").df().columns
        assert len(s.actuals()) == 5
    again = CliRunner().invoke(cli, ["--store", str(p), "store", "migrate"])
    assert "nothing to do" in again.stdout


def test_a_file_that_is_not_a_store(tmp_path):
    p = tmp_path / "notes.duckdb"
    p.write_text("hello, not a database")
    with pytest.raises(StoreError, match="not a forecaster store"):
        Store(p)


def test_locked_store_waits_then_fails_clearly(tmp_path):
    p = tmp_path / "s.duckdb"
    Store(p).close()
    with lock_held(p, 30):
        start = time.monotonic()
        with pytest.raises(StoreLockedError, match="in use by another forecaster process"):
            Store(p, lock_timeout_s=0.5)
        assert time.monotonic() - start < 10


def test_lock_released_while_waiting_lets_the_writer_in(tmp_path):
    p = tmp_path / "s.duckdb"
    Store(p).close()
    with lock_held(p, 1):
        with Store(p, lock_timeout_s=30) as s:
            s.replace_actuals(frame(), ["f.csv"], ["abc"])
    with Store(p, read_only=True) as s:
        assert len(s.actuals()) == 5


def test_an_empty_file_is_waited_for_as_if_being_created_then_reported(tmp_path):
    p = tmp_path / "new.duckdb"
    p.write_bytes(b"")
    start = time.monotonic()
    with pytest.raises(StoreError, match="cannot open store .*not a valid DuckDB database"):
        Store(p, lock_timeout_s=0.3)
    assert time.monotonic() - start >= 0.3


def test_a_0_1_store_gets_the_0_2_names(tmp_path, monkeypatch):
    """Schema 5 renames the columns of 0.1 (calls, agents, scheduled, required, on_shift, ...) and the
    schedule summary's keys in each run's info; the rows themselves are kept."""
    p = tmp_path / "s.duckdb"
    with monkeypatch.context() as m:                 # a store as 0.1 wrote it (schema 4)
        m.setattr(store_mod, "SCHEMA_VERSION", 4)
        with Store(p) as s:
            s.con.execute("""INSERT INTO runs (run_id, kind, status, as_of, started_at, published, info) VALUES
                (1, 'nightly', 'ok', DATE '2026-03-02', TIMESTAMP '2026-03-02 01:00', true,
                 '{"schedule": {"week": "2026-W10", "required_agent_h": 10.5, "on_shift_agent_h": 12.0}}')""")
            s.con.execute("""INSERT INTO run_requirements VALUES (1, 'voice', TIMESTAMP '2026-03-02 08:00', 'mean',
                             60, 300, 12, 18, 0.81, 14.0, 0.77, NULL)""")
            s.con.execute("""INSERT INTO run_coverage VALUES (1, 'voice', TIMESTAMP '2026-03-02 08:00', 18, 12, 19, 1, 1, 0)""")
    with Store(p, check_version=False) as s:
        assert s.migrate()[:2] == (4, SCHEMA_VERSION)
    with Store(p, read_only=True) as s:
        req = s.con.execute("SELECT contacts, required_agents, required_with_shrinkage FROM run_requirements").fetchall()
        cov = s.con.execute("SELECT required_with_shrinkage, required_agents, scheduled_agents FROM run_coverage").fetchall()
        info = s.con.execute("SELECT info FROM runs").fetchall()[0][0]
    assert req == [(60.0, 12, 18)] and cov == [(18, 12, 19)]
    assert json.loads(info)["schedule"] == {"week": "2026-W10", "required_with_shrinkage_agent_h": 10.5,
                                            "scheduled_agent_h": 12.0}


def test_the_record_of_earlier_forecasts_pairs_their_daily_totals_with_the_actuals(tmp_path):
    """``Runs.daily_record``: per queue, origin and day, what earlier runs forecast and what came,
    for the first ``days`` days of each up to the as-of; the newest run of an as-of only (a derived
    draft repeats its parent); runs of the as-of itself, too old, unfinished or intraday are left out."""
    from forecaster.store.runs import Runs

    days = pd.date_range("2026-03-02", periods=28)
    acts = pd.DataFrame({"queue": "voice", "interval_start": days + pd.Timedelta(hours=9), "contacts": 100.0,
                         "aht_s": 300.0})

    def forecast(as_of, level):                  # two intervals a day for 21 days after the as-of
        start = pd.Timestamp(as_of) + pd.Timedelta(days=1)
        ts = pd.date_range(start, periods=21).repeat(2) + pd.to_timedelta([9, 10] * 21, unit="h")
        return pd.DataFrame({"queue": "voice", "interval_start": ts, "forecast": level, "lo_80": 0.0, "hi_80": 0.0,
                             "lo_95": 0.0, "hi_95": 0.0, "aht_s": 300.0, "model": "m"})

    with Store(tmp_path / "s.duckdb") as s:
        s.replace_actuals(acts, ["f.csv"], ["abc"], by="tester")
        runs = Runs(s)
        for as_of, level, kind, status in (("2026-03-05", 40.0, "nightly", "ok"), ("2026-03-05", 45.0, "forecast", "ok"),
                                           ("2026-03-12", 60.0, "nightly", "ok"), ("2026-03-12", 99.0, "intraday", "ok"),
                                           ("2026-03-15", 70.0, "nightly", "running"),
                                           ("2026-03-16", 80.0, "nightly", "ok"), ("2026-01-01", 5.0, "nightly", "ok")):
            run_id = runs.create(kind, as_of=dt.date.fromisoformat(as_of), status=status)
            runs.save_forecast(run_id, forecast(as_of, level))
        got = runs.daily_record(dt.date(2026, 3, 16), weeks=4, days=10)
    assert set(got["origin"].dt.date.astype(str)) == {"2026-03-06", "2026-03-13"}
    first = got[got["origin"] == pd.Timestamp("2026-03-06")]
    assert len(first) == 10 and (first["p"] == 90.0).all() and (first["y"] == 100.0).all()   # its first 10 days
    second = got[got["origin"] == pd.Timestamp("2026-03-13")]
    assert second["ds"].max() == pd.Timestamp("2026-03-16") and (second["p"] == 120.0).all()
