"""Campaign calendars: checks that list every problem, versions, withdrawal, and no lost submission."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecaster.campaigns.calendar import current, read_calendar, versions
from forecaster.store import database as store_mod
from forecaster.store.database import Store
from tests.conftest import lock_held

TODAY = dt.date.today()
LATER = TODAY + dt.timedelta(days=60)


def calendar(*rows: str) -> str:
    return "campaign_id,name,channel,start,end,queues,reach,notes\n" + "\n".join(rows) + "\n"


GOOD = calendar(f"C1,Winter mailing,direct_mail,{LATER},{LATER},voice,50000,",
                f"C2,Tips e-mail,email,{LATER + dt.timedelta(days=20)},{LATER + dt.timedelta(days=20)},all,,first one")


def store_of(config_path):
    return config_path.parent / "store.duckdb"


def test_validate_changes_nothing_and_says_what_submit_would_do(run, write, config_path):
    result = run("campaigns", "validate", write("cal.csv", GOOD))
    assert result.exit_code == 0, result.output
    assert "OK: 2 campaign(s)" in result.stdout and "2 new, 0 changed, 0 unchanged" in result.stdout
    assert not store_of(config_path).exists()


def test_bad_calendar_lists_every_problem_and_changes_nothing(run, write, config_path):
    run("campaigns", "submit", write("ok.csv", GOOD), "--by", "m")
    bad = write("bad.csv", calendar(
        f"C3,,email,{LATER},{LATER},voice,,",
        f"C4,Flyer,fax,{LATER},{LATER},voice,,",
        f"C5,Late,sms,{LATER},{LATER - dt.timedelta(days=2)},voice,,",
        f"C6,Wrong queue,sms,{LATER},{LATER},voice;sales,,",
        f"C6,Twice,sms,{LATER},{LATER},voice,,",
        f"C7,Bad date,sms,next week,{LATER},voice,-5,"))
    with Store(store_of(config_path), read_only=True) as s:
        before = current(s).to_csv()
    result = run("campaigns", "submit", bad, "--by", "m")
    assert result.exit_code == 2
    err = result.stderr.splitlines()
    assert err[0] == f"Error: {bad}:2:name: String should have at least 1 character, got '' (+6 more problems, listed below)" \
        or err[0].startswith(f"Error: {bad}:2:name:")
    text = result.stderr
    for where in (":3:channel: must be one of direct_mail", ":4: end ", ":5:queues: unknown queue(s) sales",
                  ":6:campaign_id: 'C6' is also on row 5", ":7:start: must be a date", ":7:reach:"):
        assert where in text, where
    with Store(store_of(config_path), read_only=True) as s:
        assert current(s).to_csv() == before


def test_versions_are_kept_and_unchanged_rows_are_left_alone(run, write, config_path):
    run("campaigns", "submit", write("a.csv", GOOD), "--by", "anna")
    changed = GOOD.replace("50000", "80000")
    result = run("campaigns", "submit", write("b.csv", changed), "--by", "bob")
    assert "0 new, 1 changed, 1 unchanged" in result.stdout
    with Store(store_of(config_path), read_only=True) as s:
        v = versions(s, "C1")
        assert v["version"].tolist() == [1, 2] and v["reach"].tolist() == [50000, 80000]
        assert v["submitted_by"].tolist() == ["anna", "bob"]
        assert versions(s, "C2")["version"].tolist() == [1]
        assert list(current(s).set_index("campaign_id").loc["C2", "queues"]) == ["voice", "email"]
    shown = run("campaigns", "show", "C1", "--format", "json")
    assert [r["version"] for r in json.loads(shown.stdout)] == [1, 2]


def test_withdraw_and_resubmit(run, write, config_path):
    f = write("a.csv", GOOD)
    run("campaigns", "submit", f, "--by", "anna")
    assert run("campaigns", "withdraw", "C1", "--by", "anna").stdout.strip() == "Withdrew C1 (version 2)."
    again = run("campaigns", "withdraw", "C1", "--by", "anna")
    assert again.exit_code == 2 and "already withdrawn" in again.stderr
    listed = json.loads(run("campaigns", "list", "--format", "json").stdout)
    assert [r["campaign_id"] for r in listed] == ["C2"]
    assert len(json.loads(run("campaigns", "list", "--all", "--format", "json").stdout)) == 2
    result = run("campaigns", "submit", f, "--by", "anna")          # the same row brings it back
    assert "1 changed, 1 unchanged" in result.stdout
    missing = run("campaigns", "show", "NOPE")
    assert missing.exit_code == 2 and "no campaign 'NOPE'" in missing.stderr


def test_yaml_and_xlsx_calendars(config, tmp_path):
    rows = [{"campaign_id": "Y1", "name": "TV flight", "channel": "tv", "start": LATER, "end": LATER + dt.timedelta(days=6),
             "queues": ["voice", "email"], "reach": 2_000_000}]
    y = tmp_path / "cal.yaml"
    y.write_text(yaml.safe_dump({"campaigns": rows}))
    x = tmp_path / "cal.xlsx"
    pd.DataFrame([{**rows[0], "queues": "voice;email"}]).to_excel(x, index=False)
    for path in (y, x):
        frame = read_calendar(path, config).frame
        assert frame.loc[0, "campaign_id"] == "Y1" and frame.loc[0, "queues"] == ["voice", "email"]
        assert frame.loc[0, "end_ts"] == pd.Timestamp(LATER + dt.timedelta(days=6)) + pd.Timedelta("23:59:59")


def test_warnings_for_short_notice_and_overlaps(config, write):
    soon = TODAY + dt.timedelta(days=3)
    cal = read_calendar(write("c.csv", calendar(f"S1,Soon,sms,{soon},{soon},voice,,",
                                                f"S2,Also,email,{soon},{soon},voice;email,,")), config, today=TODAY)
    assert any(w.startswith("S1 starts in 3 day(s), inside the 14-day freeze window") for w in cal.warnings)
    assert any(w.startswith(f"S1 and S2 both hit voice on {soon}..{soon}") for w in cal.warnings)


def test_schema_is_json_schema(run):
    schema = json.loads(run("campaigns", "schema").stdout)
    assert set(schema["properties"]) == {"campaign_id", "name", "channel", "kind", "start", "end", "queues", "reach",
                                         "expected_contacts", "expected_per_1000", "notes"}
    assert "direct_mail" in json.dumps(schema["properties"]["channel"])
    assert "event" in json.dumps(schema["properties"]["channel"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries({
    "name": st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=30)
    .filter(lambda s: s.strip() == s and s),
    "channel": st.sampled_from(["email", "tv", "sms", "direct_mail", "social"]),
    "start": st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)), "days": st.integers(0, 30),
    "queues": st.sampled_from([["voice"], ["email"], ["voice", "email"]]),
    "reach": st.one_of(st.none(), st.integers(0, 10**8)),
    "kind": st.one_of(st.none(), st.sampled_from(["tax bill", "newsletter", "prijswijziging"]))}), min_size=1, max_size=6))
def test_calendar_round_trip_through_the_store(tmp_path, config, rows):
    data = [{"campaign_id": f"H{i}", "name": r["name"], "channel": r["channel"], "start": r["start"],
             "end": r["start"] + dt.timedelta(days=r["days"]), "queues": r["queues"], "reach": r["reach"],
             "kind": r["kind"]}
            for i, r in enumerate(rows)]
    path = tmp_path / "rt.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    cal = read_calendar(path, config)
    store_path = tmp_path / f"rt{abs(hash(str(data)))}.duckdb"
    from forecaster.jobs.actions import submit_calendar

    submit_calendar(store_path, cal, "tester", 5)
    with Store(store_path, read_only=True) as s:
        back = current(s).sort_values("campaign_id").reset_index(drop=True)
    want = cal.frame.sort_values("campaign_id").reset_index(drop=True)
    assert back["name"].tolist() == want["name"].tolist()
    assert [None if pd.isna(k) else k for k in back["kind"]] == want["kind"].tolist()
    assert [list(q) for q in back["queues"]] == want["queues"].tolist()
    assert (back["start_ts"] == want["start_ts"]).all() and (back["end_ts"] == want["end_ts"]).all()
    assert [None if pd.isna(r) else int(r) for r in back["reach"]] == [r["reach"] for r in
                                                                        sorted(data, key=lambda d: d["campaign_id"])]


def test_twenty_concurrent_submissions_all_land(config_path, tmp_path):
    files = []
    for i in range(20):
        f = tmp_path / f"c{i}.csv"
        f.write_text(calendar(f"P{i},Campaign {i},email,{LATER},{LATER},voice,{1000 + i},"))
        files.append(f)
    procs = [subprocess.Popen([sys.executable, "-m", "forecaster", "--config", str(config_path), "--lock-timeout", "120",
                               "campaigns", "submit", str(f), "--by", f"user{i}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i, f in enumerate(files)]
    outs = [p.communicate(timeout=300) for p in procs]
    failed = [(i, p.returncode, outs[i][1][-500:]) for i, p in enumerate(procs) if p.returncode != 0]
    assert not failed, failed
    with Store(store_of(config_path), read_only=True) as s:
        got = current(s)
        subs = s.con.execute("SELECT count(*), sum(campaigns) FROM submissions").fetchall()[0]
    assert sorted(got["campaign_id"]) == sorted(f"P{i}" for i in range(20))
    assert sorted(got["reach"].astype(int)) == [1000 + i for i in range(20)]
    assert subs == (20, 20)


def test_submission_while_the_store_is_locked_is_queued_and_applied_later(run, write, config_path):
    run("campaigns", "submit", write("first.csv", GOOD), "--by", "anna")
    late = write("late.csv", calendar(f"L1,Queued,sms,{LATER},{LATER},voice,,"))
    store = store_of(config_path)
    with lock_held(store, 30):
        result = run("--lock-timeout", "0.3", "campaigns", "submit", late, "--by", "bob")
    assert result.exit_code == 0, result.output
    assert "queued" in result.stdout and "nothing is lost" in result.stdout
    assert len(list((store.parent / "store.duckdb.inbox").glob("*.json"))) == 1
    after = run("campaigns", "submit", write("next.csv", GOOD), "--by", "anna")
    assert "Also applied 1 queued submission(s) first." in after.stdout
    with Store(store, read_only=True) as s:
        assert versions(s, "L1")["submitted_by"].tolist() == ["bob"]
        assert s.con.execute("SELECT count(*) FROM submissions WHERE via_inbox").fetchall()[0][0] == 1
    assert list((store.parent / "store.duckdb.inbox").glob("*.json")) == []


def test_real_v1_store_migrates_to_current(tmp_path, monkeypatch):
    p = tmp_path / "old.duckdb"
    with monkeypatch.context() as m:
        m.setattr(store_mod, "SCHEMA_VERSION", 1)
        Store(p).close()
    with pytest.raises(store_mod.StoreVersionError, match=f"schema version 1, this forecaster uses {store_mod.SCHEMA_VERSION}"):
        Store(p)
    with Store(p, check_version=False) as s:
        assert s.migrate()[:2] == (1, store_mod.SCHEMA_VERSION)
    with Store(p) as s:
        assert s.con.execute("SELECT count(*) FROM submissions").fetchall() == [(0,)]


def test_a_campaigns_kind_is_kept_and_a_new_kind_is_a_new_version(run, write, config_path):
    """The optional ``kind`` column ("tax bill", "newsletter") is read, stored with each version and
    listed; changing only the kind makes a new version."""
    header = "campaign_id,name,channel,kind,start,end,queues,reach,notes\n"
    first = write("k1.csv", header + "K1,Spring letter,direct_mail,annual statement,2027-03-01,2027-03-01,voice,50000,\n")
    assert run("campaigns", "submit", first, "--by", "m").exit_code == 0
    listed = json.loads(run("campaigns", "list", "--format", "json").stdout)
    assert listed[0]["kind"] == "annual statement"
    second = write("k2.csv", header + "K2,Spring letter,direct_mail,price change letter,2027-03-01,2027-03-01,voice,50000,\n"
                   .replace("K2", "K1"))
    assert run("campaigns", "submit", second, "--by", "m").exit_code == 0
    shown = json.loads(run("campaigns", "show", "K1", "--format", "json").stdout)
    assert [v["kind"] for v in shown] == ["annual statement", "price change letter"]


def test_reach_is_read_in_the_files_own_convention(config, tmp_path, run, write):
    """A ;-separated (Dutch Excel) calendar groups thousands with dots: 200.000 is two hundred
    thousand, not 200. In a ,-separated file 200.000 is ambiguous and refused with how to fix it."""
    header = "campaign_id;name;channel;start;end;queues;reach\n"
    nl = tmp_path / "nl.csv"
    nl.write_text(header + "C1;Mailing;direct_mail;2026-12-10;2026-12-12;voice;200.000\n"
                           "C2;Blast;email;2026-12-10;2026-12-10;voice;1.500,0\nC3;SMS;sms;2026-12-11;2026-12-11;voice;750\n")
    en = tmp_path / "en.csv"
    en.write_text(header.replace(";", ",") + 'C1,Mailing,direct_mail,2026-12-10,2026-12-12,voice,"200,000"\n'
                  "C2,Blast,email,2026-12-10,2026-12-10,voice,1500.0\nC3,SMS,sms,2026-12-11,2026-12-11,voice,750\n")
    xlsx = tmp_path / "cal.xlsx"
    pd.read_csv(en, thousands=",").to_excel(xlsx, index=False)
    frames = [read_calendar(p, config, today=dt.date(2026, 11, 1)).frame for p in (nl, en, xlsx)]
    assert frames[0]["reach"].tolist() == [200_000, 1_500, 750]
    for other in frames[1:]:
        pd.testing.assert_frame_equal(frames[0], other)
    bad = write("bad.csv", header.replace(";", ",") + "C1,Mailing,direct_mail,2026-12-10,2026-12-12,voice,200.000\n")
    result = run("campaigns", "validate", bad)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        f"Error: {bad}:2:reach: '200.000' is ambiguous in a ,-separated file (200 or 200,000?); write the number "
        "without separators (200000 for 200,000), or export the file ;-separated, where . groups thousands")


def test_marketings_estimate_is_read_checked_and_versioned(config, tmp_path, run, write):
    """``expected_contacts`` or ``expected_per_1000`` (marketing's own estimate, a prior for the
    impact model) are read in the file's number convention, stored with each version, and a changed
    estimate is a new version; giving both, or a rate without reach, is refused naming the field."""
    header = "campaign_id;name;channel;kind;start;end;queues;reach;expected_contacts;expected_per_1000\n"
    nl = tmp_path / "nl.csv"
    nl.write_text(header + "E1;Letter;direct_mail;tax bill;2027-03-01;2027-03-01;voice;200.000;1.500;\n"
                           "E2;Blast;email;;2027-03-02;2027-03-02;voice;40000;;2,5\n"
                           "E3;Due date;event;payment due;2027-03-05;2027-03-05;voice;;;\n")
    frame = read_calendar(nl, config, today=dt.date(2027, 1, 1)).frame.set_index("campaign_id")
    assert frame.loc["E1", "expected_contacts"] == 1500 and pd.isna(frame.loc["E1", "expected_per_1000"])
    assert frame.loc["E2", "expected_per_1000"] == 2.5 and frame.loc["E3", "channel"] == "event"
    csv_header = header.replace(";", ",")
    ok = write("e.csv", csv_header + "E1,Letter,direct_mail,tax bill,2027-03-01,2027-03-01,voice,200000,1500,\n")
    assert run("campaigns", "submit", ok, "--by", "m").exit_code == 0
    again = write("e2.csv", csv_header + "E1,Letter,direct_mail,tax bill,2027-03-01,2027-03-01,voice,200000,2500,\n")
    assert run("campaigns", "submit", again, "--by", "m").exit_code == 0
    shown = json.loads(run("campaigns", "show", "E1", "--format", "json").stdout)
    assert [v["expected_contacts"] for v in shown] == [1500, 2500]
    bad = write("bad.csv", csv_header + "B1,Both,email,,2027-03-01,2027-03-01,voice,1000,10,2\n"
                                        "B2,No reach,email,,2027-03-01,2027-03-01,voice,,,2\n"
                                        "B3,Words,email,,2027-03-01,2027-03-01,voice,,lots,\n")
    result = run("campaigns", "validate", bad)
    assert result.exit_code == 2
    text = result.stderr
    assert f"{bad}:2:expected_per_1000: give one estimate, expected_contacts or expected_per_1000, not both" in text
    assert f"{bad}:3:expected_per_1000: needs reach (people reached) to become contacts" in text
    assert f"{bad}:4:expected_contacts: must be marketing's estimate of the extra contacts, a number of 0 or more" in text
