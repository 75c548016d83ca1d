"""Any input file gives a clear error or a clean result, never a traceback."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecaster.core.errors import InputError
from forecaster.io.actuals import load_actuals

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _load(path, config):
    try:
        result = load_actuals(path, config)
    except InputError as exc:
        assert str(exc).startswith(str(path))
        return None
    frame = result.frame
    assert list(frame.columns) == ["queue", "interval_start", "contacts", "aht_s"]
    assert (frame["contacts"] >= 0).all()
    assert not frame.duplicated(["queue", "interval_start"]).any()
    return frame


@FAST
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes(tmp_path, config, data):
    p = tmp_path / "fuzz.csv"
    p.write_bytes(data)
    _load(p, config)


@FAST
@given(prefix=st.sampled_from([b"", b"\x1f\x8b", b"PAR1", b"queue,interval_start,contacts\n"]),
       data=st.binary(max_size=200))
def test_bytes_behind_magic_numbers(tmp_path, config, prefix, data):
    p = tmp_path / "fuzz.bin"
    p.write_bytes(prefix + data)
    _load(p, config)


cell = st.one_of(st.text(max_size=12), st.sampled_from(
    ["voice", "email", "2026-03-02 08:00", "2026-03-02 08:30", "2026-10-25 02:30", "2026-03-29 02:00",
     "2026-10-25T02:30:00+01:00", "1", "0", "-1", "1e400", "nan", "inf", "", " ", "3.5", '"', ";"]))


@FAST
@given(rows=st.lists(st.tuples(cell, cell, cell, cell), max_size=8),
       header=st.sampled_from(["queue,interval_start,contacts,aht_s", "queue,interval_start,contacts", "a,b,c,d"]))
def test_arbitrary_rows(tmp_path, config, rows, header):
    width = header.count(",") + 1
    body = "\n".join(",".join(r[:width]) for r in rows)
    p = tmp_path / "rows.csv"
    p.write_text(f"{header}\n{body}\n", encoding="utf-8")
    _load(p, config)


@FAST
@given(rows=st.lists(st.tuples(st.sampled_from(["voice", "email", "x"]),
                               st.datetimes(min_value=pd.Timestamp("2026-01-01").to_pydatetime(),
                                            max_value=pd.Timestamp("2026-12-31").to_pydatetime()),
                               st.one_of(st.integers(-5, 500), st.floats(allow_nan=True, allow_infinity=True))),
                     max_size=10))
def test_arbitrary_parquet_rows(tmp_path, config, rows):
    frame = pd.DataFrame(rows, columns=["queue", "interval_start", "contacts"])
    p = tmp_path / "rows.parquet"
    frame.to_parquet(p)
    _load(p, config)


def _staff(path):
    """The bulk calculator on ``path``: a table whose agents meet the rules, or one clear InputError."""
    import numpy as np

    from forecaster.staffing.calculator import Inputs, staff_file

    try:
        table = staff_file(path, Inputs(contacts=0.0, aht_s=1.0, interval_min=30))
    except InputError as exc:
        assert str(exc).startswith(str(path))
        return None
    agents = np.asarray(table.column("required_agents").to_pylist())
    assert (agents >= 0).all() and table.num_rows > 0
    return table


bulk_cell = st.one_of(st.text(max_size=8), st.sampled_from(
    ["100", "0", "-1", "30", "180", "0.8", "80", "80/20", "erlang_a", "erlang_c", "", " ", "nan", "inf", "1e400",
     "1,5", '"', "0.3", "60"]))


@FAST
@given(data=st.binary(max_size=300),
       prefix=st.sampled_from([b"", b"\x1f\x8b", b"PAR1", b"contacts,interval_min,aht_s\n"]))
def test_arbitrary_bytes_to_the_bulk_calculator(tmp_path, data, prefix):
    p = tmp_path / "fuzz.csv"
    p.write_bytes(prefix + data)
    _staff(p)


@FAST
@given(rows=st.lists(st.tuples(bulk_cell, bulk_cell, bulk_cell, bulk_cell, bulk_cell), min_size=1, max_size=6),
       header=st.sampled_from(["contacts,interval_min,aht_s,sl,model", "calls,interval_min,aht_s,patience_s,model",
                               "contacts,interval_min,aht_s,shrinkage,concurrency", "contacts;interval_min;aht_s;sl;x"]))
def test_arbitrary_rows_to_the_bulk_calculator(tmp_path, rows, header):
    sep = ";" if ";" in header else ","
    body = "\n".join(sep.join(r) for r in rows)
    p = tmp_path / "rows.csv"
    p.write_text(f"{header}\n{body}\n", encoding="utf-8")
    _staff(p)
