"""``forecaster serve`` as a real process: 50 concurrent API submissions all land, a server killed
with SIGKILL mid-request loses nothing it acknowledged, and a real browser (Debian's headless
Chromium through Selenium) walks marketing's upload and a planner's report. Screenshots are kept
in .artifacts/web-*.png."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2 as httpx
import pytest
from click.testing import CliRunner

from forecaster.campaigns.calendar import drain_inbox
from forecaster.cli.app import cli
from forecaster.core.config import load_config
from forecaster.store.database import Store
from tests.conftest import ROOT
from tests.test_report import browser
from tests.web_site import PASSWORD, make_site

HEADER = "campaign_id,name,channel,start,end,queues,reach\n"


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    return make_site(tmp_path_factory.mktemp("webserver"))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, cfg: Path):
        self.cfg, self.port = cfg, _port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = cfg.parent / f"serve-{self.port}.log"
        self.proc = subprocess.Popen([sys.executable, "-m", "forecaster", "--config", str(cfg), "serve", "--port",
                                      str(self.port)], stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
                                     cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                if httpx.get(self.url + "/login", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError(f"the server did not start: {self.log.read_text()}")

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(30)


@pytest.fixture
def server(cfg):
    srv = Server(cfg)
    yield srv
    srv.stop()


def token(cfg, name: str) -> str:
    r = CliRunner().invoke(cli, ["--config", str(cfg), "users", "token", name])
    assert r.exit_code == 0, r.output
    return r.stdout.strip()


def stored_ids(cfg, prefix: str) -> set[str]:
    """Campaign ids with ``prefix`` in the store, after applying anything still queued in the inbox."""
    with Store(load_config(cfg).store_path) as store:
        drain_inbox(store)
        rows = store.con.execute("SELECT DISTINCT campaign_id FROM campaign_versions WHERE campaign_id LIKE ?",
                                 [prefix + "%"]).fetchall()
    return {r[0] for r in rows}


def submit(url: str, tok: str, cid: str, client: httpx.Client | None = None) -> int:
    body = f"{HEADER}{cid},Campaign {cid},sms,2026-12-28,2026-12-28,voice,5000\n".encode()
    post = (client or httpx).post
    return post(url + "/api/campaigns", headers={"Authorization": f"Bearer {tok}"},
                files={"file": (f"{cid}.csv", body, "text/csv")}, timeout=120).status_code


def test_fifty_concurrent_submissions_all_land(cfg, server):
    tok = token(cfg, "mara")
    ids = [f"C-{i:02d}" for i in range(50)]
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        codes = list(pool.map(lambda cid: submit(server.url, tok, cid), ids))
    assert all(c in (201, 202) for c in codes), codes
    server.stop()
    assert stored_ids(cfg, "C-") == set(ids)
    with Store(load_config(cfg).store_path, read_only=True) as store:
        by = store.con.execute("SELECT DISTINCT submitted_by FROM campaign_versions WHERE campaign_id LIKE 'C-%'").fetchall()
    assert by == [("mara",)]


def test_a_killed_server_loses_nothing_it_acknowledged(cfg):
    tok = token(cfg, "mara")
    acked: list[str] = []
    lock = threading.Lock()
    srv = Server(cfg)

    def worker(k: int) -> None:
        with httpx.Client() as client:
            for i in range(200):
                cid = f"K-{k}-{i:03d}"
                try:
                    code = submit(srv.url, tok, cid, client)
                except httpx.TransportError:
                    return                                  # the server is gone
                if code in (201, 202):
                    with lock:
                        acked.append(cid)
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(acked) < 12 and time.monotonic() < deadline:
        time.sleep(0.05)
    srv.stop(signal.SIGKILL)                                 # mid-request: four clients are sending
    for t in threads:
        t.join(30)
    assert len(acked) >= 12
    assert set(acked) <= stored_ids(cfg, "K-")
    again = Server(cfg)                                      # and the store opens again for the next server
    try:
        assert submit(again.url, tok, "K-after") == 201
    finally:
        again.stop()


def test_marketing_uploads_in_a_browser_and_a_planner_opens_the_report(cfg, server, tmp_path):
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    bad = tmp_path / "winter.csv"
    bad.write_text(HEADER + "W1,Winter mailing,emial,2026-12-14,2026-12-14,voice;email,100000\n"
                   "W2,Winter e-mail,email,2026-12-15,2026-12-15,voice;email,12a\n")
    artifacts = ROOT / ".artifacts"
    artifacts.mkdir(exist_ok=True)
    driver = browser()
    try:
        def shot(name: str) -> None:
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(1280, max(800, min(height + 120, 6000)))
            assert driver.save_screenshot(str(artifacts / f"web-{name}.png"))

        def arrive(css: str, text: str) -> None:
            """Wait until the page a click led to shows ``text`` in ``css`` (the old page may linger)."""
            def shown(d):
                # The texts are read in one script, so no element handle can go stale between
                # finding and reading it; a page unloading mid-read is retried, not a failure
                # (chromium reports it as a stale node or "Node ... does not belong to the
                # document"), and the wait's timeout still fails the test with the message.
                try:
                    texts = d.execute_script(
                        "return Array.from(document.querySelectorAll(arguments[0]),"
                        " e => e.innerText)", css)
                except WebDriverException:
                    return False
                return any(text in t for t in texts or [])
            WebDriverWait(driver, 30).until(shown, f"no {css} with {text!r}: {driver.current_url}")

        def log_in(name: str) -> None:
            driver.find_element(By.ID, "name").send_keys(name)
            driver.find_element(By.ID, "password").send_keys(PASSWORD)
            driver.find_element(By.ID, "login").click()
            WebDriverWait(driver, 30).until(lambda d: "/login" not in d.current_url)

        driver.get(server.url + "/campaigns")
        assert "/login" in driver.current_url
        log_in("mara")
        assert driver.current_url.endswith("/campaigns")
        driver.find_element(By.ID, "calendar-file").send_keys(str(bad))
        driver.find_element(By.ID, "check").click()
        arrive("h1", "2 problems to fix")
        row2 = driver.find_element(By.ID, "file-row-2")
        row3 = driver.find_element(By.ID, "file-row-3")
        assert row2.find_element(By.CSS_SELECTOR, ".problem[data-field=channel]").is_displayed()
        assert "emial" in row2.find_element(By.CSS_SELECTOR, "td.bad").text
        assert "whole number" in row3.find_element(By.CSS_SELECTOR, ".problem[data-field=reach]").text
        assert driver.find_element(By.ID, "not-stored").is_displayed()
        shot("1-problems")

        bad.write_text(bad.read_text().replace("emial", "email").replace("12a", "120000"))
        driver.get(server.url + "/campaigns")
        driver.find_element(By.ID, "calendar-file").send_keys(str(bad))
        driver.find_element(By.ID, "check").click()
        arrive("h1", "ready to submit")
        shot("2-check")
        driver.find_element(By.ID, "confirm").click()
        arrive("#flash", "Submitted 2 campaign(s) from winter.csv")
        expected = driver.find_element(By.CSS_SELECTOR, "#row-W1 td.expected").text
        assert expected.split()[0].replace(",", "").isdigit() and "expected" in expected, expected
        shot("3-listed")
        driver.find_element(By.CSS_SELECTOR, "#row-W1 a").click()
        arrive("#expected", "Extra contacts to expect")
        shot("4-campaign")
        driver.find_element(By.CSS_SELECTOR, "nav button").click()           # log out
        arrive("h1", "Log in")

        log_in("piet")
        driver.get(server.url + "/report")
        assert "forecast report" in driver.title
        for sid in ("forecast", "staffing"):
            height = driver.execute_script("return document.getElementById(arguments[0]).getBoundingClientRect().height", sid)
            assert height > 60, sid
        shot("5-report")
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"
                  and "/campaigns/check - Failed to load resource: the server responded with a status of 422"
                  not in e["message"]]                  # the page with the problems answers 422, on purpose
        assert errors == [], errors                       # no CSP violation, no missing asset
    finally:
        driver.quit()
