"""The web page and API in-process (Starlette's TestClient): accounts and roles, the security
rules of issue 20 (anonymous refused, roles, CSRF, escaping, 413, 429, cookies, CSP), and the
calendar flows, which store exactly what the CLI would and nothing on a bad file."""

from __future__ import annotations

import json
import os
import re
import stat

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from forecaster.cli.app import cli
from forecaster.core.config import load_config
from forecaster.store.database import Store, inbox_dir, scalar
from forecaster.web.app import create_app
from forecaster.web.security import LoginLimiter
from tests.web_site import PASSWORD, make_site

BAD = (b"campaign_id,name,channel,start,end,queues,reach\n"
       b"W1,Winter mailing,emial,2026-12-14,2026-12-14,voice,100000\n"
       b"W2,Winter e-mail,email,2026-12-15,2026-12-15,voice,12a\n")
GOOD = BAD.replace(b"emial", b"email").replace(b"12a", b"120000")


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    return make_site(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def app(cfg):
    config = load_config(cfg)
    return create_app(config, config.store_path, lock_timeout_s=5, drain_every_s=None)


def run(cfg, *args, input=None):
    return CliRunner().invoke(cli, ["--config", str(cfg), *map(str, args)], input=input)


def client(app, name: str | None = None) -> TestClient:
    c = TestClient(app, follow_redirects=False)
    if name:
        r = c.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": csrf(c, "/login"), "next": "/"})
        assert r.status_code == 303, r.text
    return c


def csrf(c: TestClient, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text).group(1)


def token(cfg, name: str) -> dict:
    r = run(cfg, "users", "token", name)
    assert r.exit_code == 0, r.output
    return {"Authorization": f"Bearer {r.stdout.strip()}"}


def counts(cfg) -> tuple:
    with Store(load_config(cfg).store_path, read_only=True) as s:
        return tuple(scalar(s.con, f"SELECT count(*) FROM {t}") for t in ("campaign_versions", "submissions"))


# -- accounts ---------------------------------------------------------------------------------------
def test_users_commands(cfg):
    r = run(cfg, "users", "add", "x", "--role", "marketing", "--password-stdin", input="short\n")
    assert r.exit_code == 2 and r.stderr.strip() == "Error: the password must have at least 10 characters, got 5"
    r = run(cfg, "users", "add", "mara", "--role", "marketing", "--password-stdin", input=PASSWORD + "\n")
    assert r.exit_code == 2 and "user 'mara' exists already" in r.stderr
    r = run(cfg, "users", "add", "../evil", "--role", "admin", "--password-stdin", input=PASSWORD + "\n")
    assert r.exit_code == 2 and "user name '../evil'" in r.stderr
    r = run(cfg, "users", "add", "temp", "--role", "planner", input="temporary pass\ntemporary pass\n")
    assert r.exit_code == 0 and "Added temp (planner)" in r.stdout
    tok = run(cfg, "users", "token", "temp").stdout.strip()
    assert tok.startswith("fct_") and len(tok) > 40
    listed = run(cfg, "users", "list", "--format", "json").stdout
    assert '"name":"temp"' in listed.replace(" ", "") and tok not in listed
    with Store(load_config(cfg).store_path, read_only=True) as s:     # only hashes are stored
        hashes = s.con.execute("SELECT password_hash FROM users WHERE name = 'temp'").fetchall()[0][0]
        assert hashes.startswith("$argon2id$") and "temporary" not in hashes
        assert scalar(s.con, "SELECT count(*) FROM api_tokens WHERE token_hash = ?", [tok]) == 0
    assert run(cfg, "users", "remove", "temp").stdout.strip() == "Removed temp and 1 API token(s)."
    r = run(cfg, "users", "remove", "temp")
    assert r.exit_code == 2 and r.stderr.strip() == "Error: no user 'temp'; 'forecaster users list' shows them"


# -- security ---------------------------------------------------------------------------------------
def _flat(routes):
    for route in routes:
        inner = getattr(route, "original_router", None)          # FastAPI's included routers
        yield from _flat(inner.routes) if inner is not None else [route]


def _routes(app):
    for route in _flat(app.routes):
        methods = getattr(route, "methods", None) or set()
        path = route.path
        if path.startswith("/static") or path in ("/login", "/logout", "/favicon.ico"):
            continue
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            yield method, path.replace("{campaign_id}", "E1")


def test_every_page_and_api_route_refuses_anonymous_requests(app):
    c = client(app)
    seen = 0
    for method, path in _routes(app):
        r = c.request(method, path)
        if path.startswith("/api"):
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", (method, path, r.status_code)
            assert "errors" in r.json()
        else:
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), (method, path, r.status_code)
        seen += 1
    assert seen >= 20
    r = c.get("/api/campaigns", headers={"Authorization": "Bearer fct_not-a-token"})
    assert r.status_code == 401


def test_roles(app, cfg):
    mara = token(cfg, "mara")
    assert client(app).get("/api/runs/latest", headers=mara).status_code == 403
    assert client(app).get("/api/campaigns", headers=mara).status_code == 200
    m = client(app, "mara")
    for path in ("/report", "/runs", "/users"):
        r = m.get(path)
        assert r.status_code == 403 and "this needs the" in r.text, path
    p = client(app, "piet")
    assert p.get("/report").status_code == 200 and p.get("/runs").status_code == 200
    assert p.get("/users").status_code == 403
    assert client(app, "ada").get("/users").status_code == 200
    assert client(app).get("/api/runs/latest", headers=token(cfg, "piet")).json()["is_plan"] is True


def test_form_posts_need_their_csrf_token(app, cfg):
    m = client(app, "mara")
    before = counts(cfg)
    files = {"file": ("cal.csv", GOOD, "text/csv")}
    assert m.post("/campaigns/check", files=files).status_code == 403
    assert m.post("/campaigns/check", files=files, data={"csrf_token": "forged"}).status_code == 403
    assert m.post("/campaigns/E1/withdraw", data={}).status_code == 403
    assert counts(cfg) == before
    # the API authenticates by token only: a session cookie does not let a cross-site POST through
    assert m.post("/api/campaigns", files=files).status_code == 401
    assert counts(cfg) == before


def test_user_text_is_escaped(app, cfg):
    evil = b"campaign_id,name,channel,start,end,queues,reach\nX-1,<script>alert(1)</script>,sms,2026-12-20,2026-12-20,voice,1000\n"
    r = client(app).post("/api/campaigns", headers=token(cfg, "mara"), files={"file": ("evil.csv", evil)})
    assert r.status_code == 201, r.text
    page = client(app, "mara").get("/campaigns").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page


def test_large_uploads_get_413(app, cfg):
    big = b"x" * (11 * 1024 * 1024)
    before = counts(cfg)
    r = client(app).post("/api/campaigns", headers=token(cfg, "mara"), files={"file": ("big.csv", big)})
    assert r.status_code == 413 and "10 MB" in r.text
    m = client(app, "mara")
    r = m.post("/campaigns/check", files={"file": ("big.csv", big)}, data={"csrf_token": csrf(m, "/campaigns")})
    assert r.status_code == 413

    def chunks():                                     # no Content-Length: counted as it streams
        yield b'--XX\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
        for _ in range(11):
            yield b"y" * (1024 * 1024)
        yield b"\r\n--XX--\r\n"
    r = client(app).post("/api/campaigns/validate", content=chunks(),
                         headers={**token(cfg, "mara"), "content-type": "multipart/form-data; boundary=XX"})
    assert r.status_code == 413
    assert counts(cfg) == before


def test_sixth_wrong_password_in_a_minute_gets_429(cfg):
    config = load_config(cfg)
    app = create_app(config, config.store_path, drain_every_s=None)    # a limiter of its own
    c = client(app)
    for _ in range(5):
        r = c.post("/login", data={"name": "piet", "password": "wrong password", "csrf_token": csrf(c, "/login")})
        assert r.status_code == 401 and "Wrong name or password." in r.text
    r = c.post("/login", data={"name": "piet", "password": "wrong password", "csrf_token": csrf(c, "/login")})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    r = c.post("/login", data={"name": "piet", "password": PASSWORD, "csrf_token": csrf(c, "/login")})
    assert r.status_code == 429                        # the right password too, until the minute is over
    assert client(app, "mara").get("/campaigns").status_code == 200      # another name from the same address: not yet


def test_login_limiter_forgets_after_the_window():
    lim = LoginLimiter(2, window_s=0.2)
    lim.failed(["a"]), lim.failed(["a"])
    assert lim.retry_after(["a"]) > 0 and lim.retry_after(["b"]) == 0
    import time
    time.sleep(0.25)
    assert lim.retry_after(["a"]) == 0


def test_cookies_headers_and_secret(app, cfg, tmp_path):
    c = TestClient(app, follow_redirects=False)
    r = c.get("/login")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    secret = load_config(cfg).store_path.with_name("store.duckdb.secret")
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    config = load_config(cfg)
    secure = TestClient(create_app(config, config.store_path, behind_https=True, drain_every_s=None),
                        base_url="https://testserver")
    assert "secure" in secure.get("/login").headers["set-cookie"].lower()
    for path in ("/campaigns", "/campaigns/new", "/campaigns/E1", "/api/docs"):
        assert "<script" not in client(app, "mara").get(path).text


def test_a_removed_users_session_ends(app, cfg):
    assert run(cfg, "users", "add", "leaver", "--role", "marketing", "--password-stdin",
               input=PASSWORD + "\n").exit_code == 0
    c = client(app, "leaver")
    assert c.get("/campaigns").status_code == 200
    run(cfg, "users", "remove", "leaver")
    assert c.get("/campaigns").status_code == 303


# -- the API ------------------------------------------------------------------------------------------
def test_api_validate_submit_show_withdraw(app, cfg):
    c, h = client(app), token(cfg, "mara")
    before = counts(cfg)
    r = c.post("/api/campaigns/validate", headers=h, files={"file": ("winter.csv", BAD)})
    assert r.status_code == 422
    assert r.json() == {"errors": [
        {"row": 2, "field": "channel", "value": "emial",
         "message": "must be one of direct_mail, email, sms, tv, radio, social, web, push, event, other, got 'emial'"},
        {"row": 3, "field": "reach", "value": "12a",
         "message": "must be a whole number of people reached, got '12a'; write it without separators, e.g. 200000"}]}
    assert c.post("/api/campaigns", headers=h, files={"file": ("winter.csv", BAD)}).status_code == 422
    assert counts(cfg) == before
    r = c.post("/api/campaigns/validate", headers=h, files={"file": ("winter.csv", GOOD)})
    assert r.status_code == 200 and [x["status"] for x in r.json()["campaigns"]] == ["new", "new"]
    assert counts(cfg) == before
    r = c.post("/api/campaigns", headers=h, files={"file": ("winter.csv", GOOD)})
    assert r.status_code == 201 and r.json()["new"] == 2 and not r.json()["queued"]
    shown = c.get("/api/campaigns/W1", headers=h).json()
    assert shown["campaign"]["submitted_by"] == "mara" and shown["campaign"]["status"] == "planned"
    assert c.get("/api/campaigns/NOPE", headers=h).status_code == 404
    r = c.post("/api/campaigns/W2/withdraw", headers=h)
    assert r.status_code == 200 and r.json()["withdrawn"] and r.json()["version"] == 2
    ids = {x["campaign_id"] for x in c.get("/api/campaigns", headers=h).json()}
    assert "W1" in ids and "W2" not in ids
    assert "W2" in {x["campaign_id"] for x in c.get("/api/campaigns?include_withdrawn=true", headers=h).json()}
    impact = {x["campaign_id"]: x for x in c.get("/api/impact", headers=h).json()}
    assert impact["E1"]["status"] == "past" and impact["E1"]["extra_contacts"] > 0
    assert impact["W1"]["status"] == "planned" and impact["W1"]["lo_80"] <= impact["W1"]["extra_contacts"] <= impact["W1"]["hi_80"]
    r = c.post("/api/campaigns", headers=h, files={"file": ("notes.pdf", b"%PDF")})
    assert r.status_code == 422 and "must be a calendar file" in r.json()["errors"][0]["message"]
    assert c.post("/api/campaigns", headers=h).status_code == 422              # no file field


def test_api_docs(app, cfg):
    spec = client(app).get("/api/openapi.json", headers=token(cfg, "mara")).json()
    for path in ("/api/campaigns/validate", "/api/campaigns", "/api/campaigns/{campaign_id}",
                 "/api/campaigns/{campaign_id}/withdraw", "/api/impact", "/api/runs/latest"):
        assert path in spec["paths"], path
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    page = client(app, "mara").get("/api/docs").text
    assert "POST /api/campaigns/validate" in page and "ErrorsOut" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


def test_a_busy_store_queues_the_submission_and_applies_it_later(cfg):
    config = load_config(cfg)
    app = create_app(config, config.store_path, lock_timeout_s=0.5, drain_every_s=None)
    h = token(cfg, "mara")
    cal = GOOD.replace(b"W1", b"Q1").replace(b"W2", b"Q2")
    before = counts(cfg)
    assert client(app).get("/api/campaigns", headers=h).status_code == 200
    with Store(config.store_path):                     # then a long job holds the store
        r = client(app).post("/api/campaigns", headers=h, files={"file": ("busy.csv", cal)})
    assert r.status_code == 202 and r.json()["queued"]
    assert len(list(inbox_dir(config.store_path).glob("*.json"))) == 1 and counts(cfg) == before
    import threading

    from forecaster.web.app import _drain_inbox
    stop = threading.Event()
    stop.wait = lambda s, _calls=iter([False, True]): next(_calls)        # one round of the background loop
    _drain_inbox(app.state.site, stop)
    assert not list(inbox_dir(config.store_path).glob("*.json"))
    with Store(config.store_path, read_only=True) as s:
        assert s.con.execute("SELECT submitted_by, via_inbox FROM submissions ORDER BY submission_id DESC LIMIT 1"
                             ).fetchall() == [("mara", True)]


# -- the pages --------------------------------------------------------------------------------------
def test_upload_with_mistakes_then_fixed(app, cfg):
    m = client(app, "mara")
    before = counts(cfg)
    bad = BAD.replace(b"W1", b"P1").replace(b"W2", b"P2")
    r = m.post("/campaigns/check", files={"file": ("../../etc/winter.csv", bad)}, data={"csrf_token": csrf(m, "/campaigns")})
    assert r.status_code == 422
    row2 = re.search(r'<tr id="file-row-2".*?</tr>', r.text, re.S).group(0)
    row3 = re.search(r'<tr id="file-row-3".*?</tr>', r.text, re.S).group(0)
    assert 'data-field="channel"' in row2 and "got &#39;emial&#39;" in row2 and 'class="bad">emial' in row2
    assert 'data-field="reach"' in row3 and 'class="bad">12a' in row3
    assert "winter.csv: 2 problems to fix" in r.text and "etc" not in r.text
    assert counts(cfg) == before
    good = bad.replace(b"emial", b"email").replace(b"12a", b"120000")
    r = m.post("/campaigns/check", files={"file": ("winter.csv", good)}, data={"csrf_token": csrf(m, "/campaigns")})
    assert r.status_code == 200 and "ready to submit" in r.text and counts(cfg) == before
    key = re.search(r'name="key" value="([^"]+)"', r.text).group(1)
    r = m.post("/campaigns/confirm", data={"key": key, "csrf_token": csrf(m, "/campaigns")})
    assert r.status_code == 303
    page = m.get("/campaigns").text
    assert "Submitted 2 campaign(s) from winter.csv" in page
    row = re.search(r'<tr id="row-P1".*?</tr>', page, re.S).group(0)
    assert "planned" in row and re.search(r'class="num expected">\d[\d,]*\s*<span class="interval">', row)
    assert counts(cfg)[0] == before[0] + 2
    # the same key cannot submit twice
    r = m.post("/campaigns/confirm", data={"key": key, "csrf_token": csrf(m, "/campaigns")})
    assert "expired or was already submitted" in m.get(r.headers["location"]).text
    assert counts(cfg)[0] == before[0] + 2


def test_form_add_change_and_withdraw(app, cfg):
    m = client(app, "mara")
    fields = {"campaign_id": "F1", "name": "Price letter", "channel": "direct_mail", "kind": "price change letter",
              "start": "2026-12-21", "end": "2026-12-23", "reach": "50,000", "notes": "", "queue": ["voice"]}
    r = m.post("/campaigns/form", data={**fields, "reach": "lots", "csrf_token": csrf(m, "/campaigns/new")})
    assert r.status_code == 422 and 'data-field="reach"' in r.text and 'value="Price letter"' in r.text
    r = m.post("/campaigns/form", data={**fields, "csrf_token": csrf(m, "/campaigns/new")})
    assert r.status_code == 200 and "ready to submit" in r.text
    key = re.search(r'name="key" value="([^"]+)"', r.text).group(1)
    assert m.post("/campaigns/confirm", data={"key": key, "csrf_token": csrf(m, "/campaigns")}).status_code == 303
    edit = m.get("/campaigns/F1/edit").text
    assert 'value="2026-12-21"' in edit and 'value="price change letter"' in edit and "checked" in edit
    r = m.post("/campaigns/form", data={**fields, "reach": "60000", "editing": "1", "csrf_token": csrf(m, "/campaigns")})
    key = re.search(r'name="key" value="([^"]+)"', r.text).group(1)
    assert "changed" in r.text
    m.post("/campaigns/confirm", data={"key": key, "csrf_token": csrf(m, "/campaigns")})
    r = m.post("/campaigns/F1/withdraw", data={"csrf_token": csrf(m, "/campaigns/F1")})
    assert r.status_code == 303
    page = m.get("/campaigns/F1").text
    assert "Withdrew F1 (version 3)." in page and page.count("<td>mara</td>") == 3
    shown = json.loads(run(cfg, "campaigns", "show", "F1", "--format", "json").stdout)
    assert [v["submitted_by"] for v in shown] == ["mara"] * 3 and [v["reach"] for v in shown] == [50_000, 60_000, 60_000]
    assert [v["source_file"] for v in shown] == ["web form", "web form", None] and shown[-1]["withdrawn"]


def test_planner_pages(app):
    p = client(app, "piet")
    r = p.get("/report")
    assert r.status_code == 200 and "forecast report, run 1" in r.text and "<script" not in r.text
    assert "'unsafe-inline'" in r.headers["content-security-policy"].split("style-src")[1].split(";")[0]
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert 'class="plan"' in p.get("/runs").text
    assert p.get("/report?run=99").status_code == 404


def test_serve_is_documented_and_its_app_starts_on_a_new_store(tmp_path, config_path):
    config = load_config(config_path)
    app = create_app(config, config.store_path, drain_every_s=None)
    assert client(app).get("/login").status_code == 200
    r = CliRunner().invoke(cli, ["serve", "--help"])
    assert r.exit_code == 0 and "Example:" in r.output
    assert os.path.exists(config.store_path)


def test_xlsx_and_yaml_uploads_check_like_csv(app, cfg, tmp_path):
    import pandas as pd

    h = token(cfg, "mara")
    rows = pd.DataFrame({"campaign_id": ["X-9"], "name": ["Spring"], "channel": ["tv"], "start": ["2026-12-22 20:00"],
                         "end": ["2026-12-22 21:00"], "queues": ["voice"], "reach": ["1,000,000"]})
    rows.to_excel(tmp_path / "c.xlsx", index=False)
    yaml_text = b"campaigns:\n  - {campaign_id: X-9, name: Spring, channel: tv, start: 2026-12-22 20:00,\n     end: 2026-12-22 21:00, queues: [voice], reach: 1000000}\n"
    for name, data in (("c.xlsx", (tmp_path / "c.xlsx").read_bytes()), ("c.yaml", yaml_text)):
        r = client(app).post("/api/campaigns/validate", headers=h, files={"file": (name, data)})
        assert r.status_code == 200 and r.json()["campaigns"] == [{"campaign_id": "X-9", "name": "Spring", "status": "new"}], r.text
    r = client(app).post("/api/campaigns/validate", headers=h, files={"file": ("c.yaml", b"- {campaign_id: [")})
    assert r.status_code == 422 and "is not valid YAML" in r.json()["errors"][0]["message"]


def test_a_planned_campaign_shows_its_cheapest_start_dates(app, cfg):
    cal = b"campaign_id,name,channel,start,end,queues,reach\nA-1,Advice,email,2026-11-24,2026-11-24,voice;email,100000\n"
    assert client(app).post("/api/campaigns", headers=token(cfg, "mara"), files={"file": ("a.csv", cal)}).status_code == 201
    page = client(app, "mara").get("/campaigns/A-1").text
    advice = re.search(r'<section class="box" id="advice">.*?</section>', page, re.S).group(0)
    assert "Cheapest start dates" in advice and advice.count("<tr>") >= 3 and "current" in advice
    page = client(app, "mara").get("/campaigns/W1").text          # after the forecast's end: says why there is none
    assert "too late for run #1&#39;s forecast (2026-11-23 to 2026-11-29)" in page
    assert "are not counted" in client(app, "mara").get("/campaigns/A-1").text    # the short forecast's caveat


def test_marketings_estimate_plans_a_new_kind_of_campaign_and_says_so(app, cfg):
    """A payment-due event (a channel with no past campaigns) submitted with marketing's estimate:
    the page expects that many contacts and says the estimate carries the whole figure; the API
    gives the same share."""
    cal = (b"campaign_id,name,channel,kind,start,end,queues,expected_contacts\n"
           b"EV-1,Payment due,event,payment due,2026-11-25,2026-11-25,voice,400\n")
    assert client(app).post("/api/campaigns", headers=token(cfg, "mara"), files={"file": ("e.csv", cal)}).status_code == 201
    page = client(app, "mara").get("/campaigns/EV-1").text
    assert "marketing expects 400 extra contacts" in page
    assert re.search(r'id="estimate-share">Your estimate carries 100% of this figure: past campaigns say little', page)
    rows = {r["campaign_id"]: r for r in client(app).get("/api/impact", headers=token(cfg, "mara")).json()}
    assert rows["EV-1"]["marketing_share"] == 1.0 and 300 < rows["EV-1"]["extra_contacts"] <= 400
