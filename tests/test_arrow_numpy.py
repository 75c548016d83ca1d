"""Arrow columns to NumPy and back through Arrow's buffers, without pyarrow's pandas import."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa

from forecaster.io import arrow_numpy


def test_floats_read_values_and_nulls_at_any_offset():
    chunked = pa.chunked_array([pa.array([1.0, None, 3.0]), pa.array([None, 5.0, 6.5])])
    values, given = arrow_numpy.floats(chunked)
    assert np.array_equal(values, [1.0, np.nan, 3.0, np.nan, 5.0, 6.5], equal_nan=True)
    assert given.tolist() == [True, False, True, False, True, True]
    sliced = pa.array([None, 2.0, None, 4.0, 5.0, None, 7.0, 8.0, None, 10.0]).slice(3, 6)   # bitmap offset 3
    values, given = arrow_numpy.floats(sliced)
    assert np.array_equal(values, [4.0, 5.0, np.nan, 7.0, 8.0, np.nan], equal_nan=True)
    assert arrow_numpy.floats(pa.array([1, None, 3], pa.int64()))[1].tolist() == [True, False, True]
    assert arrow_numpy.floats(pa.nulls(2))[1].tolist() == [False, False]
    assert arrow_numpy.floats(pa.array([], pa.float64()))[0].size == 0


def test_arrays_and_text_round_trip():
    floats = np.array([1.5, np.nan, -0.0, 1e300])
    arr = arrow_numpy.array(floats)
    assert arr.type == pa.float64() and arr.to_pylist()[:2] == [1.5, None] and arr.null_count == 1
    assert arrow_numpy.array(np.array([3, 4])).to_pylist() == [3, 4]
    names = ["erlang_c", "erlang_a", "é"]
    codes = np.array([0, 1, 2, 1, 0])
    text = arrow_numpy.text(codes, names)
    assert text.to_pylist() == [names[c] for c in codes]
    distinct, back = arrow_numpy.labels(pa.chunked_array([text, pa.array([None], pa.string())]))
    assert [distinct[c] for c in back] == [*[names[c] for c in codes], None]


def test_none_of_it_imports_pandas():
    code = ("import sys, numpy as np, pyarrow as pa\n"
            "from forecaster.io import arrow_numpy as a\n"
            "t = a.array(np.array([1.0, np.nan]))\n"
            "a.floats(pa.chunked_array([t])); a.text(np.array([0, 1]), ['x', 'y'])\n"
            "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
