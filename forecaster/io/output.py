"""Printing and writing tables: one place for ``--format table|csv|json`` and ``--out FILE``."""

from __future__ import annotations

import contextlib
import json
import math
import os
from pathlib import Path

import pandas as pd

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


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` to ``path``: CSV, Parquet or JSON by the file's extension.

    The file is written beside its target and renamed over it, so a reader never sees half a file.
    """
    p = Path(path)
    suffix = "".join(p.suffixes[-2:]).lower() if p.suffix.lower() == ".gz" else p.suffix.lower()
    if suffix not in (".csv", ".csv.gz", ".parquet", ".pq", ".json"):
        raise UserError(f"--out {p}: unknown file type '{suffix or p.name}'; use .csv, .csv.gz, .parquet or .json")
    if suffix in (".csv", ".csv.gz"):
        return write_atomic(p, lambda tmp: frame.to_csv(tmp, index=False, compression="gzip" if suffix == ".csv.gz" else None))
    if suffix in (".parquet", ".pq"):
        return write_atomic(p, lambda tmp: frame.to_parquet(tmp, index=False))
    return write_bytes(p, (render(frame, "json") + "\n").encode("utf-8"))


def write_atomic(path: str | Path, write) -> Path:
    """Call ``write(tmp_path)`` and rename the result over ``path`` (all or nothing)."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        os.replace(tmp, p)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise UserError(f"--out {p}: cannot write ({exc.strerror or exc}); choose a writable path") from None
    return p


def write_bytes(path: str | Path, data: bytes) -> Path:
    return write_atomic(path, lambda tmp: Path(tmp).write_bytes(data))
