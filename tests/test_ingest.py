"""Ingest: good files land once; every bad file exits 2 with one Error line and changes nothing."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from forecaster.store.database import Store

GOOD = """\
queue,interval_start,contacts,aht_s
voice,2026-03-02 08:00,12,310.5
voice,2026-03-02 08:30,15,
email,2026-03-02 08:00,3,400
"""


def snapshot(config_path):
    store = config_path.parent / "store.duckdb"
    if not store.exists():
        return None
    with Store(store, read_only=True) as s:
        return (s.actuals().to_csv(index=False),
                s.con.execute("SELECT count(*) FROM ingests").fetchall())


def test_good_file_lands_and_reingest_replaces(run, write, config_path):
    f = write("good.csv", GOOD)
    first = run("ingest", f)
    assert first.exit_code == 0, first.output
    assert "Ingested 3 rows from 1 file(s)" in first.stdout and "(3 new, 0 replaced" in first.stdout
    again = run("ingest", f)
    assert "(0 new, 3 replaced" in again.stdout
    with Store(config_path.parent / "store.duckdb", read_only=True) as s:
        got = s.actuals()
    assert len(got) == 3
    assert got.loc[got.queue == "voice", "contacts"].tolist() == [12.0, 15.0]
    assert pd.isna(got.loc[(got.queue == "voice") & (got.contacts == 15), "aht_s"]).all()


def test_overlap_replaces_only_those_intervals(run, write, config_path):
    run("ingest", write("a.csv", GOOD))
    run("ingest", write("b.csv", "queue,interval_start,contacts\nvoice,2026-03-02 08:30,99\n"))
    with Store(config_path.parent / "store.duckdb", read_only=True) as s:
        got = s.actuals()
    assert got.loc[got.queue == "voice", "contacts"].tolist() == [12.0, 99.0]
    assert len(got) == 3


BAD = [
    ("missing column", "queue,interval_start\nvoice,2026-03-02 08:00\n",
     "bad.csv:1:contacts: misses column 'contacts' (found queue, interval_start); "
     "expected columns queue, interval_start, contacts and optionally aht_s"),
    ("unknown column", "queue,interval_start,contacts,agent\nvoice,2026-03-02 08:00,1,x\n",
     "bad.csv:1:agent: has unknown column 'agent'; expected columns queue, interval_start, contacts and optionally aht_s"),
    ("unparseable timestamp", "queue,interval_start,contacts\nvoice,2026-03-02 08:00,1\nvoice,next tuesday,2\n",
     "bad.csv:3:interval_start: cannot read 'next tuesday' as a date and time; use local time like 2026-03-02 08:30"),
    ("off the grid", "queue,interval_start,contacts\nvoice,2026-03-02 08:10,1\n",
     "bad.csv:2:interval_start: '2026-03-02 08:10' is not on the 30-minute grid; give the start of an interval "
     "(minutes divisible by 30, no seconds)"),
    ("negative count", "queue,interval_start,contacts\nvoice,2026-03-02 08:00,-3\n",
     "bad.csv:2:contacts: contacts must be a number >= 0, got '-3'"),
    ("non-numeric count", "queue,interval_start,contacts\nvoice,2026-03-02 08:00,twelve\n",
     "bad.csv:2:contacts: contacts must be a number >= 0, got 'twelve'"),
    ("duplicate row", "queue,interval_start,contacts\nvoice,2026-03-02 08:00,1\nvoice,2026-03-02 08:00,2\n",
     "bad.csv:3:interval_start: duplicate of row 2 (same queue and interval_start); keep one of them"),
    ("unknown queue", "queue,interval_start,contacts\nsales,2026-03-02 08:00,1\n",
     "bad.csv:2:queue: queue 'sales' is not in the config (known: email, voice); fix the name or add the queue to the config"),
    ("DST gap", "queue,interval_start,contacts\nemail,2026-03-29 02:30,1\n",
     "bad.csv:2:interval_start: 2026-03-29 02:30 does not exist in Europe/Amsterdam (clocks jump forward that night) "
     "but has 1 contacts; move them to the interval they belong to, or give times with a UTC offset"),
    ("DST repeated three times", "queue,interval_start,contacts\nemail,2026-10-25 02:30,1\nemail,2026-10-25 02:30,1\n"
     "email,2026-10-25 02:30,1\n",
     "bad.csv:4:interval_start: 2026-10-25 02:30 happens twice in Europe/Amsterdam (clocks go back that night), and "
     "this is its third row for the queue; keep two (first and second occurrence, in time order) or add UTC offsets"),
    ("aht zero", "queue,interval_start,contacts,aht_s\nvoice,2026-03-02 08:00,1,0\n",
     "bad.csv:2:aht_s: aht_s must be a number of seconds > 0 (or empty), got '0'"),
    ("aht text", "queue,interval_start,contacts,aht_s\nvoice,2026-03-02 08:00,1,slow\n",
     "bad.csv:2:aht_s: aht_s must be a number of seconds > 0 (or empty), got 'slow'"),
    ("empty file", "",
     "bad.csv: is empty; it needs a header row queue,interval_start,contacts[,aht_s] and data rows"),
    ("header only", "queue,interval_start,contacts\n",
     "bad.csv: has a header but no data rows; nothing to ingest"),
    ("ragged row", "queue,interval_start,contacts\nvoice,2026-03-02 08:00,1,7\n",
     "bad.csv:2: has 4 fields where the header has 3; remove the stray separator or quote the value"),
    ("binary junk", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe",
     "bad.csv: is neither CSV text (UTF-8), XLSX nor Parquet; export the data as CSV, XLSX or Parquet"),
    ("broken parquet", b"PAR1\x00\x01\x02garbage",
     None),
    ("broken gzip", b"\x1f\x8b\x08\x00garbage",
     None),
]


@pytest.mark.parametrize("case, content, expected", BAD, ids=[c[0] for c in BAD])
def test_bad_input_exit_2_one_line_store_unchanged(run, write, config_path, case, content, expected):
    run("ingest", write("seed.csv", GOOD))
    before = snapshot(config_path)
    bad = write("bad.csv", content)
    result = run("ingest", bad)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: ")
    assert sum(line.startswith("Error:") for line in lines) == 1
    if expected is None:
        assert f"{bad}: " in lines[0]
    else:
        assert lines[0] == f"Error: {str(bad).replace('bad.csv', '')}{expected}"
    assert "Traceback" not in result.output
    assert snapshot(config_path) == before


def test_every_problem_is_listed(run, write):
    bad = write("bad.csv", "queue,interval_start,contacts\nvoice,2026-03-02 08:00,-1\nfoo,2026-03-02 08:30,2\n"
                           "voice,2026-03-02 09:10,x\n")
    result = run("ingest", bad)
    assert result.exit_code == 2
    assert "(+3 more problems, listed below)" in result.stderr
    assert f"  {bad}:3:queue:" in result.stderr
    assert f"  {bad}:4:interval_start:" in result.stderr and f"  {bad}:4:contacts:" in result.stderr


def test_one_bad_file_among_several_changes_nothing(run, write, config_path):
    result = run("ingest", write("good.csv", GOOD), write("bad.csv", "queue,interval_start,contacts\nvoice,x,1\n"))
    assert result.exit_code == 2
    assert snapshot(config_path) in (None, ("queue,interval_start,contacts,aht_s\n", [(0,)]))


def test_repeated_hour_with_offsets_is_folded(run, write, config_path):
    f = write("dst.csv", """\
        queue,interval_start,contacts,aht_s
        email,2026-10-25T02:30:00+02:00,4,100
        email,2026-10-25T02:30:00+01:00,6,200
        email,2026-10-25 03:00,1,
        """)
    result = run("ingest", f)
    assert result.exit_code == 0, result.output
    with Store(config_path.parent / "store.duckdb", read_only=True) as s:
        got = s.actuals().set_index("interval_start")
    row = got.loc[pd.Timestamp("2026-10-25 02:30")]
    assert row.contacts == 10 and row.aht_s == pytest.approx(160.0)
    assert len(got) == 2


def test_semicolon_csv_gzip_and_parquet_are_read(run, write, tmp_path, config_path):
    semi = write("semi.csv", GOOD.replace(",", ";"))
    gz = tmp_path / "good.csv.gz"
    gz.write_bytes(gzip.compress(GOOD.encode()))
    pq = tmp_path / "good.parquet"
    pd.DataFrame({"queue": ["voice"], "interval_start": [pd.Timestamp("2026-03-03 09:00")],
                  "contacts": [7], "aht_s": [250.0]}).to_parquet(pq)
    for f in (semi, gz, pq):
        result = run("ingest", f)
        assert result.exit_code == 0, result.output
    with Store(config_path.parent / "store.duckdb", read_only=True) as s:
        assert len(s.actuals()) == 4


def test_a_parquet_files_bad_cells_are_named_as_written(run, write, tmp_path, config_path):
    """Timestamp and number cells are shown as text only in the messages that name them."""
    assert run("ingest", write("good.csv", GOOD)).exit_code == 0
    pq = tmp_path / "bad.parquet"
    pd.DataFrame({"queue": ["voice", "voice", "voice"],
                  "interval_start": pd.to_datetime(["2026-03-03 09:00", "2026-03-03 09:10", "2026-03-03 09:30"]),
                  "contacts": [7.0, 3.0, -2.5], "aht_s": [250.0, 0.0, 300.0]}).to_parquet(pq)
    before = snapshot(config_path)
    result = run("ingest", pq)
    assert result.exit_code == 2
    assert f"{pq}:2:interval_start: '2026-03-03 09:10:00' is not on the 30-minute grid" in result.stderr
    assert f"{pq}:2:aht_s: aht_s must be a number of seconds > 0 (or empty), got '0.0'" in result.stderr
    assert f"{pq}:3:contacts: contacts must be a number >= 0, got '-2.5'" in result.stderr
    assert snapshot(config_path) == before


def test_gaps_in_opening_hours_are_warnings(run, write):
    f = write("gappy.csv", "queue,interval_start,contacts\nvoice,2026-03-02 08:00,1\nvoice,2026-03-02 10:00,1\n"
                           "voice,2026-03-07 10:00,1\n")
    result = run("ingest", f)
    assert result.exit_code == 0
    assert (f"Warning: {f}: queue voice: 98 open interval(s) between 2026-03-02 and 2026-03-07 have no row "
            "(first 2026-03-02 08:30); they count as missing data, not as zero contacts") in result.stderr
    assert f"Warning: {f}: queue voice: 1 row(s) fall outside opening hours or on closed days (first 2026-03-07 10:00)" \
        in result.stderr


def test_missing_file_is_a_user_error(run, tmp_path):
    result = run("ingest", tmp_path / "nope.csv")
    assert result.exit_code == 2
    assert "Error: " in result.stderr and "nope.csv" in result.stderr


def test_repeated_nonexistent_time_is_reported_once_per_row_not_as_duplicate(run, write):
    bad = write("bad.csv", "queue,interval_start,contacts\nemail,2026-03-29 02:30,1\nemail,2026-03-29 02:30,2\n"
                           "email,2026-03-29 02:00,0\n")
    result = run("ingest", bad)
    assert result.exit_code == 2
    assert result.stderr.count("does not exist in Europe/Amsterdam") == 2
    assert "duplicate" not in result.stderr


def test_a_dutch_excel_export_with_decimal_commas_is_read(run, write):
    """;-separated files are continental-European exports: 185,5 is 185.5 there. In a ,-separated
    file a decimal comma is refused with how to fix it (1,855 could be a thousands separator)."""
    nl = write("nl.csv", "queue;interval_start;contacts;aht_s\nvoice;2026-03-02 08:00;12;185,5\n"
                         "voice;2026-03-02 08:30;3;,5\n")
    assert run("ingest", nl).exit_code == 0
    got = json.loads(run("status", "--format", "json").stdout)
    assert got["queues"][0]["rows"] == 2
    en = write("en.csv", 'queue,interval_start,contacts,aht_s\nvoice,2026-03-02 09:00,12,"185,5"\n')
    refused = run("ingest", en)
    assert refused.exit_code == 2
    assert refused.stderr.splitlines()[0] == (
        f"Error: {en}:2:aht_s: aht_s must be a number of seconds > 0 (or empty), got '185,5'; write decimals "
        "with a dot (185.5), or export the file ;-separated, where 185,5 is read")


def test_a_semicolon_decimal_comma_file_and_an_xlsx_file_ingest_to_the_same_rows_as_the_csv(run, config_path, tmp_path):
    rows = pd.DataFrame({"queue": ["voice", "voice", "email", "email"],
                         "interval_start": pd.to_datetime(["2026-03-02 08:00", "2026-03-02 08:30", "2026-03-02 00:00",
                                                           "2026-03-02 23:30"]),
                         "contacts": [12, 3, 0, 7], "aht_s": [185.5, np.nan, 410.25, 90.0]})
    plain = tmp_path / "plain.csv"
    rows.assign(interval_start=rows["interval_start"].dt.strftime("%Y-%m-%d %H:%M")).to_csv(plain, index=False)
    dutch = tmp_path / "dutch.csv"
    rows.assign(interval_start=rows["interval_start"].dt.strftime("%Y-%m-%d %H:%M")).to_csv(
        dutch, index=False, sep=";", decimal=",")
    xlsx = tmp_path / "export.xlsx"
    rows.to_excel(xlsx, index=False)                 # date-time and number cells, as Excel stores them
    got = {}
    for f in (plain, dutch, xlsx):
        store = tmp_path / f"{f.stem}.duckdb"
        result = run("--store", store, "ingest", f)
        assert result.exit_code == 0, result.output
        with Store(store, read_only=True) as s:
            got[f.stem] = s.actuals()
    assert "185,5" in dutch.read_text()
    pd.testing.assert_frame_equal(got["plain"], got["dutch"])
    pd.testing.assert_frame_equal(got["plain"], got["export"])
    expected = rows.sort_values(["queue", "interval_start"]).reset_index(drop=True)
    assert got["plain"]["contacts"].tolist() == expected["contacts"].astype(float).tolist()
    pd.testing.assert_series_equal(got["plain"]["aht_s"], expected["aht_s"], check_names=False)
