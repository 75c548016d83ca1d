"""Config errors name the field, the value and the fix; the example config is valid."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from forecaster.cli.app import cli
from forecaster.core.config import load_config
from forecaster.core.errors import ConfigError
from tests.conftest import ROOT, TINY_CONFIG


def test_example_config_loads_and_resolves_paths():
    c = load_config(ROOT / "configs" / "example.yaml")
    assert c.queue_names == ["voice_billing", "voice_sales", "chat", "email"]
    assert c.store_path == ROOT / "var" / "demo.duckdb"
    assert c.queue("chat").concurrency == 2
    assert c.hours_for("voice_billing").ranges(6) == ()
    assert c.hours_for("email").ranges(6) == ((7 * 60, 23 * 60),)


CASES = [
    ("typo", ("interval_min: 30", "interval_min: 30\nintervall: 15"),
     "intervall: unknown field; check its spelling against configs/example.yaml"),
    ("interval", ("interval_min: 30", "interval_min: 20"), "interval_min: Input should be 15, 30 or 60, got 20"),
    ("timezone", ("Europe/Amsterdam", "Europe/Amsterdm"),
     "timezone: 'Europe/Amsterdm' is not an IANA time zone; use a name such as Europe/Amsterdam, got 'Europe/Amsterdm'"),
    ("shrinkage", ("shrinkage: 0.3", "shrinkage: 30"), "queues[0].shrinkage: Input should be less than 1, got 30"),
    ("hours", ('mon: "08:00-18:00"', 'mon: "8 till 6"'),
     "opening_hours.mon: '8 till 6' is not like '08:00-20:00' or 'closed', got '8 till 6'"),
    ("off grid hours", ('mon: "08:00-18:00"', 'mon: "08:15-18:00"'),
     "(top level): opening hours mon '08:15-18:00' do not align to the 30-minute interval grid; use times on the grid"),
    ("no target", ("sl_pct: 80, answer_s: 20, ", ""),
     "queues[0]: give exactly one service target: sl_pct with answer_s, or asa_s"),
    ("email deadline", ("    deadline_h: 24\n", ""),
     "queues[1]: an email queue needs deadline_h (response deadline in hours, e.g. 24)"),
    ("country", ("country: NL", "country: XX"),
     "holidays.country: 'XX' is not a country code the holidays package knows; use an ISO code such as NL, BE, DE, GB, IL, got 'XX'"),
]


@pytest.mark.parametrize("case, change, expected", CASES, ids=[c[0] for c in CASES])
def test_config_error_names_field_value_and_fix(tmp_path, case, change, expected):
    old, new = change
    assert old in TINY_CONFIG
    p = tmp_path / "c.yaml"
    p.write_text(TINY_CONFIG.replace(old, new, 1))
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert str(err.value).startswith(f"{p}:{expected}")


def test_cli_reports_config_error_with_exit_2(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text(TINY_CONFIG.replace("interval_min: 30", "interval_min: 7"))
    result = CliRunner().invoke(cli, ["--config", str(p), "config", "check"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"Error: {p}:interval_min: Input should be 15, 30 or 60, got 7"


def test_missing_and_unparseable_config(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(tmp_path / "none.yaml"), "status"])
    assert result.exit_code == 2
    assert "config file not found; pass --config PATH or set FORECASTER_CONFIG" in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("site: [unclosed\n")
    result = runner.invoke(cli, ["--config", str(bad), "config", "check"])
    assert result.exit_code == 2 and "not valid YAML" in result.stderr


def test_config_from_environment(config_path):
    result = CliRunner().invoke(cli, ["config", "check"], env={"FORECASTER_CONFIG": str(config_path)})
    assert result.exit_code == 0
    assert result.stdout.startswith("Config OK: Test site, Europe/Amsterdam, 30-minute intervals, 2 queue(s)")
