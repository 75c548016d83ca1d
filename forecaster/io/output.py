"""Printing and writing tables: one place for ``--format table|csv|json`` and ``--out FILE``.

Tables are pandas frames, or Arrow tables where a command works without pandas (the bulk Erlang
calculator): this module imports pandas only when it is handed a frame.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from forecaster.core.errors import UserError
from forecaster.io import arrow_numpy

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("table", "csv", "json")


def _jsonable(value: object) -> object:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def to_json(obj: object) -> str:
    return json.dumps(obj, default=_jsonable, indent=2, ensure_ascii=False)


def render(frame: pd.DataFrame, fmt: str) -> str:
    """A frame as aligned text, CSV or a JSON array of records."""
    if fmt == "csv":
        return frame.to_csv(index=False).rstrip("\n")
    if fmt == "json":
        return to_json(frame.to_dict("records"))
    if frame.empty:
        return "(no rows)"
    return frame.to_string(index=False)


# Columns renamed in 0.2 so that one quantity has one name everywhere. For this one release the
# files that had them carry the old names too, as copies after the new columns, so scripts that read
# them keep working; 0.3 drops the copies. Per kind of file: new name -> old name.
OLD_NAMES: dict[str, dict[str, str]] = {
    "requirements": {"contacts": "calls", "required_agents": "agents", "required_with_shrinkage": "scheduled"},
    "coverage": {"required_with_shrinkage": "required", "required_agents": "productive_required",
                 "scheduled_agents": "on_shift"},
    "schedule_summary": {"required_with_shrinkage_agent_h": "required_agent_h", "scheduled_agent_h": "on_shift_agent_h"},
    "staff_days": {"required_agent_h": "agent_hours", "required_with_shrinkage_agent_h": "scheduled_hours",
                   "peak_required_agents": "peak_agents"},
    "scenario_days": {"required_with_shrinkage_agent_h": "scheduled_agent_h"},
    "erlang_bulk": {"contacts": "calls", "required_agents": "agents", "required_with_shrinkage": "scheduled"},
}


def old_names_of(file_stem: str) -> str | None:
    """The :data:`OLD_NAMES` kind of an exported file (``requirements_q0.80`` -> ``requirements``)."""
    kind = file_stem.split("_q")[0]
    return kind if kind in OLD_NAMES else None


def with_old_names(frame: pd.DataFrame | pa.Table, kind: str) -> pd.DataFrame | pa.Table:
    """``frame`` with copies of its renamed columns under their 0.1 names (see :data:`OLD_NAMES`).

    A copy is added only where the old name is free: a column renamed onto another's old name
    (``scenario_days``' ``required_agent_h``) keeps the new meaning."""
    names = set(frame.column_names if isinstance(frame, pa.Table) else frame.columns)
    extra = {}
    for new, old in OLD_NAMES[kind].items():
        for suffix in ("", "_base", "_delta"):       # a scenario's base, scenario and change
            if new + suffix in names and old + suffix not in names:
                extra[old + suffix] = frame[new + suffix]
    if isinstance(frame, pa.Table):
        for name, column in extra.items():
            frame = frame.append_column(name, column)
        return frame
    return frame.assign(**extra) if extra else frame


def write_table(frame: pd.DataFrame | pa.Table, path: str | Path, old_names: str | None = None) -> Path:
    """Write ``frame`` (a pandas frame or an Arrow table) to ``path``: CSV, Parquet or JSON by the
    file's extension; ``old_names`` (a kind of :data:`OLD_NAMES`) adds the 0.1 column names for
    this release.

    The file is written beside its target and renamed over it, so a reader never sees half a file.
    """
    frame = with_old_names(frame, old_names) if old_names else frame
    p = Path(path)
    suffix = "".join(p.suffixes[-2:]).lower() if p.suffix.lower() == ".gz" else p.suffix.lower()
    if suffix not in (".csv", ".csv.gz", ".parquet", ".pq", ".json"):
        raise UserError(f"--out {p}: unknown file type '{suffix or p.name}'; use .csv, .csv.gz, .parquet or .json")
    if suffix in (".csv", ".csv.gz"):
        gz = suffix == ".csv.gz"
        return write_atomic(p, lambda tmp: _arrow_csv(frame, tmp, gz) or _frame(frame).to_csv(
            tmp, index=False, compression="gzip" if gz else None))
    if suffix in (".parquet", ".pq"):
        return write_atomic(p, lambda tmp: _frame(frame).to_parquet(tmp, index=False))
    return write_bytes(p, (render(_frame(frame), "json") + "\n").encode("utf-8"))


def _frame(table: pd.DataFrame | pa.Table) -> pd.DataFrame:
    return table.to_pandas() if isinstance(table, pa.Table) else table


WRITE_BATCH_ROWS = 65_536      # Arrow's CSV writer: 10 % faster than its default 1,024 on 336,000 rows
CSV_OPTIONS = {"quoting_style": "none", "quoting_header": "none", "batch_size": WRITE_BATCH_ROWS}


def _arrow_csv(frame: pd.DataFrame | pa.Table, path: Path, gz: bool) -> bool:
    """Write a table of numbers and plain text through Arrow's CSV writer (ten times pandas' on
    336,000 staffed rows); False, having written nothing, for anything else (times, flags, text
    that needs quotes), which pandas then writes. Whole numbers stored as floats come out as
    ``15``, not ``15.0``."""
    table = frame if isinstance(frame, pa.Table) else _plain_table(frame)
    if table is None or table.num_rows == 0:
        return False
    if any(not (pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_string(f.type)
                or pa.types.is_large_string(f.type)) for f in table.schema):
        return False
    if any(not str(c).isidentifier() for c in table.column_names):
        return False                                    # headers that might need quotes: pandas' rules
    try:
        table = _constants_as_text(table)
        sink = pa.CompressedOutputStream(str(path), "gzip") if gz else pa.OSFile(str(path), "wb")
        with sink:
            pa_csv.write_csv(table, sink, pa_csv.WriteOptions(**CSV_OPTIONS))
    except pa.ArrowInvalid:                             # a value that needs quotes
        Path(path).unlink(missing_ok=True)
        return False
    return True


def _constants_as_text(table: pa.Table) -> pa.Table:
    """``table`` with each float column that holds one value in every row (a default, an interval
    length) turned into that value's text, or into nulls where it holds none. Arrow's CSV writer
    formats every float anew, which on 336,000 staffed rows is a third of the writing; the text is
    Arrow's own: the value written once by the same writer."""
    for i, field in enumerate(table.schema):
        if field.type != pa.float64():
            continue
        values, given = arrow_numpy.floats(table.column(i))
        bits = values.view(np.int64)
        if not given.any():
            text = pa.nulls(len(values), pa.string())
        elif given.all() and bits.min() == bits.max():         # bit for bit: 0.0 and -0.0 print apart
            one = io.BytesIO()
            pa_csv.write_csv(pa.Table.from_arrays([arrow_numpy.array(values[:1])], names=["v"]), one,
                             pa_csv.WriteOptions(**CSV_OPTIONS, include_header=False))
            text = arrow_numpy.text(np.zeros(len(values), np.int64), [one.getvalue().decode().rstrip("\n")])
        else:
            continue
        table = table.set_column(i, field.name, text)
    return table


def _plain_table(frame: pd.DataFrame) -> pa.Table | None:
    """A frame of numbers and text as an Arrow table; None when it holds anything else (times,
    flags; a categorical column passes here and is turned away by its Arrow type)."""
    if not all(getattr(t, "kind", None) in ("i", "u", "f", "O") for t in frame.dtypes):
        return None
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError):
        return None


def fsync_path(path: Path) -> None:
    """Flush a file (or a folder's entries) to disk: a rename survives a crash only once both are."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str | Path, write) -> Path:
    """Call ``write(tmp_path)`` and rename the result over ``path`` (all or nothing, and on disk:
    the file is synced before the rename and the folder after it)."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        fsync_path(tmp)
        os.replace(tmp, p)
        fsync_path(p.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise UserError(f"--out {p}: cannot write ({exc.strerror or exc}); choose a writable path") from None
    return p


def write_bytes(path: str | Path, data: bytes) -> Path:
    return write_atomic(path, lambda tmp: Path(tmp).write_bytes(data))
