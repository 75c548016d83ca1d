"""Printing and writing tables: one place for ``--format table|csv|json`` and ``--out FILE``."""

from __future__ import annotations

import contextlib
import json
import math
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from forecaster.core.errors import UserError

FORMATS = ("table", "csv", "json")


def _jsonable(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
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


def with_old_names(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """``frame`` with copies of its renamed columns under their 0.1 names (see :data:`OLD_NAMES`).

    A copy is added only where the old name is free: a column renamed onto another's old name
    (``scenario_days``' ``required_agent_h``) keeps the new meaning."""
    extra = {}
    for new, old in OLD_NAMES[kind].items():
        for suffix in ("", "_base", "_delta"):       # a scenario's base, scenario and change
            if new + suffix in frame and old + suffix not in frame:
                extra[old + suffix] = frame[new + suffix]
    return frame.assign(**extra) if extra else frame


def write_table(frame: pd.DataFrame, path: str | Path, old_names: str | None = None) -> Path:
    """Write ``frame`` to ``path``: CSV, Parquet or JSON by the file's extension; ``old_names``
    (a kind of :data:`OLD_NAMES`) adds the 0.1 column names for this release.

    The file is written beside its target and renamed over it, so a reader never sees half a file.
    """
    frame = with_old_names(frame, old_names) if old_names else frame
    p = Path(path)
    suffix = "".join(p.suffixes[-2:]).lower() if p.suffix.lower() == ".gz" else p.suffix.lower()
    if suffix not in (".csv", ".csv.gz", ".parquet", ".pq", ".json"):
        raise UserError(f"--out {p}: unknown file type '{suffix or p.name}'; use .csv, .csv.gz, .parquet or .json")
    if suffix in (".csv", ".csv.gz"):
        gz = suffix == ".csv.gz"
        return write_atomic(p, lambda tmp: _arrow_csv(frame, tmp, gz) or frame.to_csv(
            tmp, index=False, compression="gzip" if gz else None))
    if suffix in (".parquet", ".pq"):
        return write_atomic(p, lambda tmp: frame.to_parquet(tmp, index=False))
    return write_bytes(p, (render(frame, "json") + "\n").encode("utf-8"))


def _arrow_csv(frame: pd.DataFrame, path: Path, gz: bool) -> bool:
    """Write a frame of numbers and plain text through Arrow's CSV writer (ten times pandas' on
    336,000 staffed rows); False, having written nothing, for anything else (times, flags, text
    that needs quotes), which pandas then writes. Whole numbers stored as floats come out as
    ``15``, not ``15.0``."""
    if frame.empty or not all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
                              or pd.api.types.is_object_dtype(t) or pd.api.types.is_string_dtype(t)
                              for t in frame.dtypes):
        return False
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError):
        return False
    if any(not (pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_string(f.type)
                or pa.types.is_large_string(f.type)) for f in table.schema):
        return False
    if any(not str(c).isidentifier() for c in frame.columns):
        return False                                    # headers that might need quotes: pandas' rules
    try:
        sink = pa.CompressedOutputStream(str(path), "gzip") if gz else pa.OSFile(str(path), "wb")
        with sink:
            pa_csv.write_csv(table, sink, pa_csv.WriteOptions(quoting_style="none", quoting_header="none"))
    except pa.ArrowInvalid:                             # a value that needs quotes
        Path(path).unlink(missing_ok=True)
        return False
    return True


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
