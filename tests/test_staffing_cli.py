"""The erlang calculator and the staff command, through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from forecaster.cli.app import cli
from forecaster.staffing import calculator
from forecaster.store.database import Store
from forecaster.store.runs import Runs


def invoke(*args):
    return CliRunner().invoke(cli, list(map(str, args)), catch_exceptions=False)


def test_single_interval_with_what_if_table():
    result = invoke("erlang", "--contacts", 100, "--interval", 30, "--aht", 180, "--sl", "80/20", "--shrinkage", 0.3)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == ("Required: 14 agents (20 to schedule with 30% shrinkage): service level 88.8%, ASA 7.8 s, "
                        "P(wait) 17.4%, occupancy 71.4%")
    assert lines[1].split() == ["agents", "agents_with_shrinkage", "service_level", "asa_s", "p_wait", "occupancy"]
    assert [int(line.split()[0]) for line in lines[2:]] == list(range(11, 20))


def test_json_reverse_question_erlang_a():
    result = invoke("erlang", "--calls", 100, "--aht", 180, "--model", "erlang_a", "--patience", 60,
                    "--agents", 10, "--format", "json")                      # --calls: the 0.1 name, still read
    data = json.loads(result.stdout)
    assert data["mode"] == "given_agents" and data["agents"] == 10 and data["required_agents"] == 12
    assert {"service_level", "asa_s", "p_wait", "occupancy", "abandon", "what_if"} <= set(data)
    assert data["abandon"] == pytest.approx(0.157527, abs=1e-6)
    assert [r["agents"] for r in data["what_if"]] == list(range(7, 16))


def test_asa_target_and_occupancy_cap():
    data = json.loads(invoke("erlang", "--contacts", 400, "--aht", 257, "--sl", "80/20", "--max-occupancy", 0.85,
                             "--shrinkage", 0.3, "--format", "json").stdout)
    assert data["agents"] == 68 and data["agents_with_shrinkage"] == 98
    data = json.loads(invoke("erlang", "--contacts", 100, "--aht", 180, "--asa", 20, "--format", "json").stdout)
    assert data["asa_s"] <= 20


BAD = [
    (["--contacts", -5, "--aht", 180], "Error: --contacts must be a number >= 0, got -5"),
    (["--contacts", 10, "--aht", 0], "Error: --aht must be > 0 seconds, got 0"),
    (["--contacts", 10, "--aht", 180, "--interval", 0], "Error: --interval must be > 0 minutes, got 0"),
    (["--contacts", 10, "--aht", 180, "--sl", "120/20"], "Error: --sl 120/20: the percentage must be above 0 and at most 100"),
    (["--contacts", 10, "--aht", 180, "--sl", "80/"], "Error: --sl 80/: write the service level as PERCENT/SECONDS, e.g. 80/20"),
    (["--contacts", 10, "--aht", 180, "--shrinkage", 1], "Error: --shrinkage must be a fraction from 0 to below 1 (0.3 = 30 %), got 1"),
    (["--contacts", 10, "--aht", 180, "--model", "erlang_a"],
     "Error: --model erlang_a needs --patience SECONDS (mean time callers wait before hanging up), > 0"),
    (["--aht", 180], "Error: give --contacts and --aht (or --input FILE); see 'forecaster erlang --help'"),
    (["--contacts", "1e9", "--aht", "1e9"], ("Error: --contacts x --aht over --interval is 555,555,555,555,556 Erlangs "
     "(agents busy at once), above the 1,000,000 this calculator staffs; check the units: aht in seconds, interval "
     "in minutes")),
]


@pytest.mark.parametrize("args, line", BAD, ids=[b[1][7:40] for b in BAD])
def test_bad_options_exit_2_with_one_line(args, line):
    result = invoke("erlang", *args)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [line]


def test_bulk_file_round_trip(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("calls,interval_min,aht_s,sl,model,patience_s\n100,30,180,80/20,,\n100,30,180,0.8,erlang_a,60\n"
                   "0,30,180,,,\n")
    out = tmp_path / "out.csv"
    result = invoke("erlang", "--input", src, "--out", out)
    assert result.exit_code == 0 and "Staffed 3 rows" in result.stdout
    got = pd.read_csv(out)
    assert got["required_agents"].tolist() == [14, 12, 0]
    assert {"required_with_shrinkage", "service_level", "asa_s", "p_wait", "occupancy", "abandon"} <= set(got.columns)
    # the input's old column name is read, and the 0.1 output names are kept beside the new ones for 0.2
    assert got["agents"].tolist() == [14, 12, 0] and got["scheduled"].equals(got["required_with_shrinkage"])
    src.write_text("contacts,interval_min,aht_s\n100,30,180\n")
    assert invoke("erlang", "--input", src, "--out", out).exit_code == 0
    assert pd.read_csv(out)["required_agents"].tolist() == [14]
    src.write_text("contacts;interval_min;aht_s;sl\n100;30;180,0;80/20\n")      # a Dutch Excel export
    assert invoke("erlang", "--input", src, "--out", out).exit_code == 0
    assert pd.read_csv(out)["required_agents"].tolist() == [14]


def test_malformed_bulk_file(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("calls,interval_min,aht_s,sl\n100,30,-1,80/20\n-3,30,180,150\n")
    result = invoke("erlang", "--input", src)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == f"Error: {src}:2:aht_s: aht_s must be a number of seconds > 0, got '-1' (+2 more problems, listed below)"
    assert any(":3:calls:" in line for line in lines) and any(":3:sl:" in line for line in lines)
    missing = tmp_path / "m.csv"
    missing.write_text("calls,aht_s\n1,2\n")
    result = invoke("erlang", "--input", missing)
    assert result.exit_code == 2 and "misses column 'interval_min'" in result.stderr


def test_a_load_no_contact_centre_has_is_refused_by_row_not_staffed_for_ever(tmp_path):
    """An hour typed as seconds, or an overflowing cell, makes a load of millions of Erlangs: the
    row is named (Erlang B's sum would run for hours, and an infinite load staffed nobody)."""
    src = tmp_path / "in.csv"
    src.write_text("contacts,interval_min,aht_s\n100,30,180\n2000000,1,60\n1e300,30,1e300\n100,30,1e400\n")
    result = invoke("erlang", "--input", src)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"Error: {src}:3:contacts: contacts x aht_s over interval_min is 2,000,000 Erlangs")
    assert lines[1].startswith(f"  {src}:4:contacts: contacts x aht_s over interval_min is inf Erlangs")
    assert lines[2] == f"  {src}:5:aht_s: aht_s must be a number of seconds > 0, got '1e400'"      # said once
    assert len(lines) == 3


def test_a_missing_parquet_value_takes_the_default_and_messages_show_numbers_plainly(tmp_path):
    src = tmp_path / "in.parquet"
    pd.DataFrame({"contacts": [100.0, 100.0], "interval_min": [30, 30], "aht_s": [180.0, 180.0],
                  "shrinkage": [0.3, None]}).to_parquet(src)
    out = tmp_path / "out.csv"
    assert invoke("erlang", "--input", src, "--out", out, "--shrinkage", 0.1).exit_code == 0
    assert pd.read_csv(out)["shrinkage"].tolist() == [0.3, 0.1]             # a null is a blank cell
    pd.DataFrame({"contacts": [100.0, -3.0], "interval_min": [30, 30], "aht_s": [180.0, 180.0]}).to_parquet(src)
    result = invoke("erlang", "--input", src)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"Error: {src}:2:contacts: contacts must be a number >= 0, got -3.0"]


def clean_file(rng, n: int, columns: list[str]) -> pd.DataFrame:
    """A bulk file with every value valid: some optional columns, blanks and percentages."""
    frame = pd.DataFrame({
        "contacts": rng.uniform(0, 400, n).round(1), "interval_min": rng.choice([15, 30, 60], n),
        "aht_s": rng.uniform(30, 900, n).round(0), "sl": rng.choice([0.8, 90, np.nan], n),
        "answer_s": rng.choice([20, 0, np.nan], n), "model": rng.choice(["erlang_c", "erlang_a", None], n),
        "patience_s": rng.uniform(20, 300, n).round(0), "shrinkage": rng.choice([0.3, 0, np.nan], n),
        "max_occupancy": rng.choice([0.85, 1, np.nan], n), "max_abandon": rng.choice([0.05, np.nan], n),
        "concurrency": rng.choice([1, 2, 3], n), "asa_target_s": rng.choice([30, np.nan], n)})
    frame.loc[:5, "contacts"] = 0
    return frame[columns]


@pytest.mark.parametrize("seed", range(6))
def test_a_clean_file_staffed_by_arrow_equals_the_row_by_row_checks(tmp_path, monkeypatch, seed):
    """The fast path (Arrow, no pandas) and the row-by-row checks give the same table, to the bit."""
    rng = np.random.default_rng(seed)
    optional = list(rng.permutation(["sl", "answer_s", "model", "patience_s", "shrinkage", "max_occupancy",
                                     "max_abandon", "concurrency", "asa_target_s"])[: rng.integers(0, 10)])
    frame = clean_file(rng, 400, ["contacts", "interval_min", "aht_s", *optional])
    src = tmp_path / ("in.parquet" if seed % 2 else "in.csv")
    frame.to_parquet(src) if seed % 2 else frame.to_csv(src, index=False)
    defaults = calculator.Inputs(contacts=0.0, aht_s=1.0, interval_min=30, patience_s=90.0)
    assert calculator._plain_columns(src, defaults) is not None                 # taken by the fast path
    fast = calculator.staff_file(src, defaults)
    monkeypatch.setattr(calculator, "_plain_columns", lambda path, defaults: None)
    checked = calculator.staff_file(src, defaults)
    assert fast.equals(checked), (fast.schema, checked.schema)
    assert fast.column_names[-7:] == ["required_agents", "required_with_shrinkage", "service_level", "asa_s",
                                      "p_wait", "occupancy", "abandon"]


def test_the_bulk_calculator_loads_neither_pandas_nor_scipy_for_a_clean_file(tmp_path):
    """A clean CSV is read, staffed and written without pandas, scipy, the config or the store:
    their imports alone took 0.6 s of the 1 s the command may take on 336,000 rows (issue 22)."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("contacts,interval_min,aht_s\n100,30,180\n0,30,180\n")
    code = ("import sys\nfrom forecaster.cli.main import main\n"
            f"sys.argv = ['forecaster', 'erlang', '--input', {str(src)!r}, '--out', {str(out)!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('pandas', 'scipy', 'duckdb', 'pydantic') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.splitlines() == ["Staffed 2 rows; wrote " + str(out) + ".", "[]"]
    assert pd.read_csv(out)["required_agents"].tolist() == [14, 0]


def test_staff_a_stored_forecast_run(config_path, tmp_path):
    store_path = config_path.parent / "store.duckdb"
    times = pd.date_range("2026-03-02 08:00", periods=4, freq="30min")
    forecast = pd.concat([
        pd.DataFrame({"queue": "voice", "interval_start": times, "forecast": [50.0, 100, 100, 0],
                      "lo_80": [40.0, 85, 85, 0], "hi_80": [60.0, 115, 115, 2], "lo_95": 0.0, "hi_95": 200.0,
                      "aht_s": [300.0, 300, float("nan"), 300]}),
        pd.DataFrame({"queue": "email", "interval_start": times, "forecast": [20.0, 0, 0, 0],
                      "lo_80": 0.0, "hi_80": [30.0, 0, 0, 0], "lo_95": 0.0, "hi_95": 40.0, "aht_s": 400.0})])
    with Store(store_path) as store:
        runs = Runs(store)
        run_id = runs.create("forecast", as_of="2026-03-01")
        runs.save_forecast(run_id, forecast)
    out = tmp_path / "req.csv"
    result = CliRunner().invoke(cli, ["--config", str(config_path), "staff", "--quantile", "0.9", "--out", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    req = pd.read_csv(out)
    voice = req[req.queue == "voice"]
    assert voice["contacts"].tolist() == [60.0, 115.0, 115.0, 2.0]          # 0.9 quantile = hi_80
    assert voice["required_agents"].iloc[1] == voice["required_agents"].iloc[2]            # missing AHT falls back to the default 300 s
    email = req[req.queue == "email"]
    assert email["required_agents"].sum() > 0
    with Store(store_path, read_only=True) as store:
        stored = Runs(store)
        assert len(stored.requirements(run_id, "mean")) == 8 and len(stored.requirements(run_id, "q0.90")) == 8
    again = CliRunner().invoke(cli, ["--config", str(config_path), "staff"], catch_exceptions=False)
    assert again.exit_code == 0
    with Store(store_path, read_only=True) as store:
        assert len(Runs(store).requirements(run_id, "mean")) == 8         # re-staffing replaces, no duplicates


def test_staff_without_forecast_is_a_clear_error(run, write):
    run("ingest", write("a.csv", "queue,interval_start,contacts\nvoice,2026-03-02 08:00,1\n"))
    result = run("staff")
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: the store holds no forecast run yet; run 'forecaster nightly' or 'forecaster forecast' first"


def test_output_into_a_closed_pipe_stops_quietly():
    """`forecaster ... | head` closes the pipe early: exit 141 quietly, not an internal error."""
    import click

    from forecaster.cli.app import ForecasterGroup

    @click.group(cls=ForecasterGroup)
    def group():
        pass

    @group.command()
    def talk():
        raise BrokenPipeError(32, "Broken pipe")

    result = CliRunner().invoke(group, ["talk"])
    assert result.exit_code == 141
    assert "Internal error" not in result.output
