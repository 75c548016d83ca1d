"""Files written atomically and durably: synced before the rename, the folder after it."""

from __future__ import annotations

import pandas as pd
import pytest

from forecaster.core.errors import UserError
from forecaster.io import output


def test_the_file_is_synced_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    events = []
    real_replace = output.os.replace
    monkeypatch.setattr(output, "fsync_path", lambda p: events.append(("fsync", p)))
    monkeypatch.setattr(output.os, "replace", lambda a, b: (events.append(("rename", b)), real_replace(a, b)))
    target = tmp_path / "out" / "t.csv"
    output.write_table(pd.DataFrame({"a": [1, 2]}), target)
    assert [e[0] for e in events] == ["fsync", "rename", "fsync"]
    assert events[1][1] == target and events[2][1] == target.parent
    assert pd.read_csv(target)["a"].tolist() == [1, 2]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "t.bin"
    output.write_bytes(target, b"old")

    def broken(tmp):
        open(tmp, "wb").write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(UserError, match="cannot write"):
        output.write_atomic(target, broken)
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["t.bin"]


@pytest.mark.parametrize("name", ["t.csv", "t.csv.gz"])
def test_csv_through_arrow_and_pandas_read_back_the_same(tmp_path, name):
    """Numbers and plain text go through Arrow's writer; text needing quotes, times and flags
    through pandas'. Either way the file reads back as the frame."""
    plain = pd.DataFrame({"contacts": [1.5, 15.0, float("nan")], "agents": [3, 4, 5], "model": ["erlang_c"] * 3})
    quoted = plain.assign(model=["a,b", 'say "hi"', "line\nbreak"])
    timed = plain.assign(at=pd.to_datetime(["2026-11-16 12:00", "2026-11-16 12:30", "2026-11-16 13:00"]),
                         ok=[True, False, True])
    for frame in (plain, quoted, timed):
        path = output.write_table(frame, tmp_path / name)
        back = pd.read_csv(path, keep_default_na=True)
        if "at" in frame:
            back["at"] = pd.to_datetime(back["at"])
        pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert (tmp_path / name).exists() and not list(tmp_path.glob(".*tmp"))
    if name == "t.csv":
        output.write_table(plain, tmp_path / name)
        assert (tmp_path / name).read_text().splitlines()[:2] == ["contacts,agents,model", "1.5,3,erlang_c"]
        output.write_table(timed, tmp_path / name)
        assert (tmp_path / name).read_text().splitlines()[1] == "1.5,3,erlang_c,2026-11-16 12:00:00,True"


def test_constant_columns_are_written_as_arrow_writes_them(tmp_path):
    """A float column with one value in every row is written from that value's text, formatted
    once: the file is byte for byte what Arrow's writer makes of the plain column."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    n = 5
    columns = {"whole": [15.0] * n, "fraction": [0.1] * n, "big": [1e20] * n, "tiny": [1e-300] * n,
               "minus_zero": [-0.0] * n, "mixed_zeros": [0.0, -0.0, 0.0, 0.0, 0.0], "none": [None] * n,
               "some_none": [1.5, None, 1.5, 1.5, 1.5], "varied": [0.8123456789012345, 2.0, 3.5, 4.0, 5.0],
               "count": [3] * n, "text": ["erlang_c"] * n}
    table = pa.table({k: pa.array(v, pa.int64() if k == "count" else pa.string() if k == "text" else pa.float64())
                      for k, v in columns.items()})
    plain = tmp_path / "plain.csv"
    pa_csv.write_csv(table, plain, pa_csv.WriteOptions(**output.CSV_OPTIONS))
    ours = output.write_table(table, tmp_path / "ours.csv")
    assert ours.read_bytes() == plain.read_bytes()
    as_text = output._constants_as_text(table)
    assert [f.name for f in as_text.schema if f.type == pa.string()] == [
        "whole", "fraction", "big", "tiny", "minus_zero", "none", "text"]      # mixed zeros print apart


def test_an_arrow_table_is_written_to_every_format(tmp_path):
    import pyarrow as pa

    table = pa.table({"contacts": [1.5, 2.0], "agents": [3, 4], "model": ["erlang_c", "erlang_a"]})
    for name in ("t.csv", "t.parquet", "t.json"):
        output.write_table(table, tmp_path / name, "erlang_bulk")
    back = pd.read_csv(tmp_path / "t.csv")
    assert back.columns.tolist() == ["contacts", "agents", "model", "calls"]       # the 0.1 name kept too
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), back)
    assert pd.read_json(tmp_path / "t.json")["calls"].tolist() == [1.5, 2.0]
