"""Arrow columns to NumPy arrays and back, through Arrow's buffers.

pyarrow's own conversions (``Array.to_numpy``, ``pa.array``) import pandas the first time they run,
whether pandas is needed or not (apache/arrow#34994): a quarter of a second, a quarter of what the
bulk Erlang calculator may take in all. Numbers and a few labels need no pandas: these functions
read and build the buffers (Arrow's columnar format: a validity bitmap, then the values) directly.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

TYPES = {"f": (pa.float64(), np.float64), "i": (pa.int64(), np.int64)}


def _whole(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def floats(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A number column as (float64 values with NaN where null, a mask of the values given)."""
    arr = _whole(column)
    if arr.type != pa.float64():
        arr = arr.cast(pa.float64())
    n = len(arr)
    if arr.null_count == n:
        return np.full(n, np.nan), np.zeros(n, bool)
    validity, data = arr.buffers()[:2]
    values = np.frombuffer(data, np.float64, n, arr.offset * 8).copy()
    if not arr.null_count:
        return values, np.ones(n, bool)
    bits = np.unpackbits(np.frombuffer(validity, np.uint8), count=arr.offset + n, bitorder="little")
    given = bits[arr.offset:].astype(bool)
    values[~given] = np.nan
    return values, given


def labels(column: pa.ChunkedArray | pa.Array) -> tuple[list, np.ndarray]:
    """A text column as (its distinct values, None for a null, and each row's index into them)."""
    arr = _whole(column).cast(pa.string()).dictionary_encode()
    names = arr.dictionary.to_pylist()
    codes, given = floats(arr.indices)
    return [*names, None], np.where(given, codes, len(names)).astype(np.int64)


def array(values: np.ndarray) -> pa.Array:
    """A float or integer array as an Arrow array (a float NaN becomes null, as pandas writes it)."""
    values = np.ascontiguousarray(values)
    kind, dtype = TYPES[values.dtype.kind]
    values = values.astype(dtype, copy=False)
    missing = np.isnan(values) if values.dtype.kind == "f" else np.zeros(len(values), bool)
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little")) if missing.any() else None
    return pa.Array.from_buffers(kind, len(values), [validity, pa.py_buffer(values)], null_count=int(missing.sum()))


def text(codes: np.ndarray, names: list[str]) -> pa.Array:
    """Each row's ``names[code]`` as an Arrow string array."""
    encoded = np.array([name.encode() for name in names])          # fixed width, padded with zeros
    lengths = np.array([len(name.encode()) for name in names], np.int64)[codes]
    offsets = np.zeros(len(codes) + 1, np.int32)
    np.cumsum(lengths, out=offsets[1:])
    cells = encoded[codes].view(np.uint8).reshape(len(codes), encoded.itemsize)
    data = cells[np.arange(encoded.itemsize)[None, :] < lengths[:, None]].tobytes()
    return pa.Array.from_buffers(pa.string(), len(codes), [None, pa.py_buffer(offsets), pa.py_buffer(data)])
