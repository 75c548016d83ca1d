"""The planner report: written by the nightly job and the CLI, self-contained, and rendered by a
real browser (Debian's headless Chromium through Selenium) with every section filled and no
console errors. The screenshot is kept in .artifacts/report.png.

`make test` installs Chromium (as root, with apt-get, and fails if that fails). Run some other way
without Chromium, the browser test is skipped with the reason, or fails if
FORECASTER_REQUIRE_BROWSER is set.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from forecaster.cli.app import cli
from tests.conftest import ROOT, TINY_CONFIG
from tests.test_nightly import NIGHTLY, actuals, drop
from tests.test_scheduling import SHIFTS

SECTIONS = ("forecast", "accuracy", "impact", "staffing", "capacity", "scenarios", "warnings")
CHARTED = ("forecast", "accuracy", "impact", "staffing", "capacity")
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A tiny site after one nightly run with past and planned campaigns, and one scenario."""
    root = tmp_path_factory.mktemp("report")
    cfg = root / "site.yaml"
    cfg.write_text(TINY_CONFIG + SHIFTS + NIGHTLY)
    (root / "drop").mkdir()
    drop(cfg, "history.csv", actuals())
    starts = ["2026-09-22", "2026-10-06", "2026-10-20", "2026-11-03", "2026-11-17", "2026-11-26"]
    pd.DataFrame({"campaign_id": [f"E{i}" for i in range(len(starts))], "name": "newsletter", "channel": "email",
                  "start": starts, "end": starts, "queues": "voice;email", "reach": 200_000}).to_csv(
        root / "cal.csv", index=False)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, ["--config", str(cfg), *map(str, args)], catch_exceptions=False)

    assert run("campaigns", "submit", root / "cal.csv", "--by", "test").exit_code == 0
    r = run("nightly")
    assert r.exit_code == 0, r.output
    assert run("scenario", "--name", "help-properly", "--aht", "+30s").exit_code == 0
    return root, run


def test_nightly_writes_a_self_contained_report(published):
    root, _ = published
    page = (root / "out" / "latest" / "report.html").read_text(encoding="utf-8")
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)           # nothing loaded from a network
    assert "<script" not in page
    assert page.count("<svg") >= 5


def test_cli_report_shows_the_stored_scenarios(published, tmp_path):
    _, run = published
    out = tmp_path / "r.html"
    r = run("report", "--out", out)
    assert r.exit_code == 0 and r.stdout.startswith("Report for run #1 (the published plan, nightly as of 2026-11-22) written to ")
    page = out.read_text(encoding="utf-8")
    scenarios = page[page.index('<section id="scenarios">'):page.index('<section id="warnings">')]
    assert "help-properly" in scenarios
    assert run("report", "--run", "99", "--out", out).exit_code == 2


def browser():
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        reason = "Debian's chromium and chromium-driver are not installed (make test installs them)"
        if os.environ.get("FORECASTER_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,2000"):
        opts.add_argument(arg)
    opts.binary_location = CHROMIUM
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


def test_report_renders_in_headless_chromium(published):
    root, _ = published
    page = root / "out" / "latest" / "report.html"
    driver = browser()
    try:
        driver.get(page.resolve().as_uri())
        for sid in SECTIONS:
            box = driver.execute_script(
                "const s = document.getElementById(arguments[0]); const r = s.getBoundingClientRect();"
                "return [r.width, r.height, s.innerText.length];", sid)
            assert box[0] > 300 and box[1] > 60 and box[2] > 20, (sid, box)
        for sid in CHARTED:
            sizes = driver.execute_script(
                "return [...document.querySelectorAll('#' + arguments[0] + ' svg')].map(s => {"
                "const r = s.getBoundingClientRect(); return r.width * r.height; });", sid)
            assert sizes and max(sizes) > 20_000, (sid, sizes)      # a real chart, drawn
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1280, min(height + 40, 16_000))
        artifacts = ROOT / ".artifacts"
        artifacts.mkdir(exist_ok=True)
        assert driver.save_screenshot(str(artifacts / "report.png"))
        shutil.copy(page, artifacts / "report.html")
    finally:
        driver.quit()


def test_campaigns_advise_ranks_start_dates(published):
    import json

    _, run = published
    r = run("campaigns", "advise", "E5", "--window", "2026-11-24..2026-11-27", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [x["rank"] for x in rows] == [1, 2, 3, 4]
    assert sorted(x["start"] for x in rows) == ["2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]
    assert [x["start"] for x in rows if x["current"]] == ["2026-11-26"]
    current = next(x for x in rows if x["current"])
    assert current["cost_delta"] == 0 and current["extra_required_agent_h"] == 0      # the plan as it is
    costs = [x["cost_delta"] for x in rows]
    assert costs == sorted(costs)
    bad = run("campaigns", "advise", "E5", "--window", "2026-12-24")
    assert bad.exit_code == 2
    assert bad.stderr.strip() == "Error: --window 2026-12-24: write FROM..TO with dates, e.g. 2026-12-01..2026-12-20"
    outside = run("campaigns", "advise", "E5", "--window", "2026-11-24..2027-03-01")
    assert outside.exit_code == 2 and "choose start dates from 2026-11-23 to 2026-11-29" in outside.stderr


def test_staffing_chart_gives_every_queue_the_same_time_axis_without_sharing_it(monkeypatch):
    """Each queue's panel spans the whole scheduled week, even a queue open only part of it; the
    panels do not share their axis (matplotlib passes every limit change on to all axes sharing
    one, which made the chart quadratic in the number of queues), and only the bottom one is labelled."""
    from forecaster.report import charts

    figs = []
    monkeypatch.setattr(charts, "_svg", lambda fig: figs.append(fig) or "<svg></svg>")
    week = pd.date_range("2026-11-23 08:00", periods=48, freq="30min")
    coverage = pd.concat([pd.DataFrame({"queue": q, "interval_start": t, "required_with_shrinkage": 3.0,
                                        "scheduled_agents": 4.0})
                          for q, t in (("voice", week), ("email", week[10:20]), ("chat", week[:30]))])
    charts.staffing_chart(coverage, 30)
    axes = figs[0].axes
    assert [ax.get_ylabel() for ax in axes] == ["voice", "email", "chat"]
    spans = {tuple(ax.get_xlim()) for ax in axes}
    assert spans == {tuple(axes[0].xaxis.convert_units([week[0], week[-1]]))}
    assert all(len(ax.get_shared_x_axes().get_siblings(ax)) == 1 for ax in axes)
    figs[0].canvas.draw()
    labelled = [any(t.get_visible() and t.get_text() for t in ax.get_xticklabels()) for ax in axes]
    assert labelled == [False, False, True]


def test_short_notice_is_a_submission_shortly_before_the_start_not_a_record_made_after_it():
    """A campaign submitted 4 days before its start is short notice (freeze window 14 days); one
    recorded 5 days after its start (a run replayed for an earlier day) is not, and was reported
    as 'announced -5 day(s) ahead'."""
    from forecaster.core.config import load_config
    from forecaster.report.page import warnings_list

    config = load_config(ROOT / "configs" / "example.yaml")
    start = pd.Timestamp("2026-11-20")
    cal = pd.DataFrame({"campaign_id": ["SHORT", "LATE"], "name": "letter", "start_ts": [start, start],
                        "submitted_at": [start - pd.Timedelta(days=4), start + pd.Timedelta(days=5)]})
    got = warnings_list({"info": {}, "as_of": pd.Timestamp("2026-11-15").date(), "calendar": cal}, config)
    assert got == [("Short-notice campaign SHORT (letter): starts 2026-11-20, announced 4 day(s) ahead "
                    f"(freeze window {config.campaigns.freeze_days} days)")]


def test_a_forecast_runs_report_says_it_measured_no_campaign_impact(published, tmp_path):
    """Only the nightly measures campaign impact: the report of a `forecast` run says so and where
    to see it, rather than 'no past campaign measured yet' beside a calendar full of them."""
    _, run = published
    r = run("forecast", "--horizon", "2w")
    assert r.exit_code == 0, r.output
    run_id = int(re.search(r"Forecast run #(\d+)", r.stdout).group(1))
    out = tmp_path / "f.html"
    assert run("report", "--run", run_id, "--out", out).exit_code == 0
    page = out.read_text(encoding="utf-8")
    impact = page[page.index('<section id="impact">'):page.index('<section id="staffing">')]
    assert f"Run #{run_id} measured no campaign impact" in impact and "forecaster impact" in impact
    nightly = (published[0] / "out" / "latest" / "report.html").read_text(encoding="utf-8")
    assert "measured no campaign impact" not in nightly
