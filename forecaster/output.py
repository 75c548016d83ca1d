"""Printing and writing tables: one place for ``--format table|csv|json`` and ``--out FILE``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from forecaster.errors import UserError

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
    """Write ``frame`` to ``path``: CSV, Parquet or JSON by the file's extension."""
    p = Path(path)
    suffix = "".join(p.suffixes[-2:]).lower() if p.suffix.lower() == ".gz" else p.suffix.lower()
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        if suffix in (".csv", ".csv.gz"):
            frame.to_csv(p, index=False)
        elif suffix in (".parquet", ".pq"):
            frame.to_parquet(p, index=False)
        elif suffix == ".json":
            p.write_text(render(frame, "json") + "\n", encoding="utf-8")
        else:
            raise UserError(f"--out {p}: unknown file type '{suffix or p.name}'; use .csv, .csv.gz, .parquet or .json")
    except OSError as exc:
        raise UserError(f"--out {p}: cannot write ({exc.strerror or exc}); choose a writable path") from None
    return p
