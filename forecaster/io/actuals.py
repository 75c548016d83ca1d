"""Reading and validating actuals files (CSV, CSV.gz, XLSX, Parquet) before they reach the store.

A file is checked completely and every problem is collected with its file, row and column;
nothing is written unless every file of an ingest is clean. Rows are numbered as a
spreadsheet shows them: in a CSV the header is row 1 and the first data row is row 2; in a
Parquet file the first record is row 1.

``interval_start`` is the site's local wall-clock time, as ACD exports write it. At the autumn
change a time happens twice: without UTC offsets, two rows of a queue at that time are its first
and second occurrence in file order, and one row alone holds both. With offsets
(``2026-10-25T02:30:00+01:00``) rows are converted to local time. Either way the two occurrences
fall on one wall-clock interval and are added together (AHT weighted by contacts): that interval
holds twice its minutes, which forecasts and staffing know (:func:`wall_occurrences`). A time in
the spring gap does not exist: a row there with 0 contacts is left out with a note (full-grid
exports write zeros there), one with contacts is an error.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from forecaster.core.config import Config
from forecaster.core.errors import InputError, Problem
from forecaster.core.site_calendar import is_open, open_grid, wall_occurrences

REQUIRED = ["queue", "interval_start", "contacts"]
OPTIONAL = ["aht_s"]
MAX_PROBLEMS = 1000
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_TOKENIZE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


@dataclass
class ActualsFile:
    """A validated file: rows in store shape, plus what a planner should know about it."""

    path: str
    sha256: str
    frame: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


class _Problems:
    def __init__(self, file: str):
        self.file = file
        self.items: list[Problem] = []

    def add(self, row: int | None, column: str | None, message: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(Problem(self.file, row, column, message))

    def add_rows(self, mask: np.ndarray, rows: np.ndarray, column: str, message_for) -> None:
        for i in np.flatnonzero(mask)[: MAX_PROBLEMS - len(self.items)]:
            self.add(int(rows[i]), column, message_for(i))

    def raise_if_any(self) -> None:
        if self.items:
            self.items.sort(key=lambda p: (p.row or 0))
            raise InputError(self.items)


def _fail(file: str, message: str, row: int | None = None, column: str | None = None) -> InputError:
    return InputError([Problem(file, row, column, message)])


def _read_csv(raw: bytes, name: str) -> pd.DataFrame:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _fail(name, "is neither CSV text (UTF-8), XLSX nor Parquet; export the data as CSV, XLSX or Parquet") from None
    if "\x00" in text:
        raise _fail(name, "contains binary data, so it is not a CSV file; export the data as CSV or Parquet")
    first = text.split("\n", 1)[0]
    sep = ";" if first.count(";") > first.count(",") else ","
    try:
        # header=None: with a header, pandas silently turns the first column into the index when
        # the first data row has one field too many; without one it reports the ragged line.
        table = pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=str, keep_default_na=False,
                            na_filter=False, skipinitialspace=True, quoting=csv.QUOTE_MINIMAL)
        out = table.iloc[1:].set_axis(table.iloc[0].tolist(), axis=1).reset_index(drop=True)
        # a ;-separated file is a continental-European export (Dutch, Belgian, German Excel): its
        # numbers may have a decimal comma (185,5); a ,-separated file's may not (1,855 is ambiguous)
        out.attrs["decimal_comma"] = sep == ";"
        return out
    except pd.errors.EmptyDataError:
        raise _fail(name, "has no header row; the first line must be queue,interval_start,contacts[,aht_s]") from None
    except pd.errors.ParserError as exc:
        m = _TOKENIZE.search(str(exc))
        if m:
            raise _fail(name, f"has {m.group(3)} fields where the header has {m.group(1)}; "
                        "remove the stray separator or quote the value", row=int(m.group(2))) from None
        raise _fail(name, f"is not valid CSV ({str(exc).strip()}); check quotes and separators") from None


def _read_parquet(raw: bytes, name: str) -> pd.DataFrame:
    try:
        return pq.read_table(pa.BufferReader(raw)).to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _fail(name, f"is not a readable Parquet file ({str(exc).splitlines()[0]}); export it again") from None


def _read_xlsx(raw: bytes, name: str) -> pd.DataFrame:
    """The first sheet, read as Excel stores it: date-time cells as timestamps (rounded to the
    second: Excel keeps them as fractions of a day), number cells as numbers."""
    try:
        frame = pd.read_excel(io.BytesIO(raw), sheet_name=0, engine="openpyxl")
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on damaged files
        raise _fail(name, f"is not a readable XLSX file ({type(exc).__name__}: {exc}); save it again") from None
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col]):
            frame[col] = frame[col].dt.round("s")
    return frame


def read_raw(path: str | Path) -> tuple[pd.DataFrame, int, str]:
    """Load a file as a table; returns (frame, number of the first data row, sha256)."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise _fail(name, f"cannot be read ({exc.strerror or exc}); check the path and permissions") from None
    return table_of_bytes(raw, name)


def table_of_bytes(raw: bytes, name: str) -> tuple[pd.DataFrame, int, str]:
    """:func:`read_raw` on a file's bytes (an upload, say); ``name`` is what messages call the file."""
    digest = hashlib.sha256(raw).hexdigest()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise _fail(name, f"is a damaged gzip file ({exc}); compress it again") from None
    if not raw.strip():
        raise _fail(name, "is empty; it needs a header row queue,interval_start,contacts[,aht_s] and data rows")
    if raw[:4] == b"PAR1":
        return _read_parquet(raw, name), 1, digest
    if raw[:4] == b"PK\x03\x04":
        return _read_xlsx(raw, name), 2, digest
    return _read_csv(raw, name), 2, digest


def _check_columns(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    cols = [str(c).strip().lower() for c in frame.columns]
    dupes = sorted({c for c in cols if cols.count(c) > 1})
    if dupes:
        raise _fail(name, f"has column {dupes[0]!r} more than once; keep one", row=1, column=dupes[0])
    unknown = [c for c in cols if c not in REQUIRED + OPTIONAL]
    missing = [c for c in REQUIRED if c not in cols]
    expected = "expected columns queue, interval_start, contacts and optionally aht_s"
    if missing:
        extra = f" (found {', '.join(cols)})" if cols else ""
        raise _fail(name, f"misses column {missing[0]!r}{extra}; {expected}", row=1, column=missing[0])
    if unknown:
        raise _fail(name, f"has unknown column {unknown[0]!r}; {expected}", row=1, column=unknown[0])
    frame = frame.reset_index(drop=True)             # positions 0..n-1, whatever index a Parquet file kept
    frame.columns = cols
    if frame.empty:
        raise _fail(name, "has a header but no data rows; nothing to ingest")
    return frame


_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+$")


def parse_numbers(text: pd.Series, decimal_comma: bool = False) -> pd.Series:
    """Numbers from text (NaN where unreadable); with ``decimal_comma``, ``185,5`` reads as 185.5."""
    if decimal_comma:
        text = text.where(~text.str.match(_DECIMAL_COMMA), text.str.replace(",", ".", regex=False))
    return pd.to_numeric(text, errors="coerce")


def plain_floats(text: pd.Series) -> np.ndarray | None:
    """Text cells that are all plain numbers (surrounding blanks allowed) as floats, by Arrow's
    parser (three times ``pd.to_numeric`` on 336,000 cells); None when any cell is not one (a
    blank, a word, a decimal comma), for the caller's row-by-row checks."""
    try:
        arr = pa.array(text.to_numpy(object), type=pa.string())
        return pc.cast(pc.utf8_trim_whitespace(arr), pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return None


def _comma_hint(value: str) -> str:
    """For a decimal comma in a ,-separated file: how to fix it."""
    return ("; write decimals with a dot (185.5), or export the file ;-separated, where 185,5 is read"
            if _DECIMAL_COMMA.match(str(value).strip()) else "")


def _numbers(series: pd.Series, decimal_comma: bool = False) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype(float)
    text = series.astype(str).str.strip()
    out = parse_numbers(text, decimal_comma)
    return out.where(text != "", np.nan).astype(float)


def _parse_times(series: pd.Series, tz: str) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """(wall-clock, UTC instant, had_offset) per row; NaT where it cannot be read."""
    if pd.api.types.is_datetime64_any_dtype(series):
        if getattr(series.dt, "tz", None) is not None:
            local = series.dt.tz_convert(tz)
            return local.dt.tz_localize(None), local.dt.tz_convert("UTC"), np.ones(len(series), bool)
        return series.astype("datetime64[ns]"), pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]"), \
            np.zeros(len(series), bool)
    text = series.astype(str).str.strip()
    has_off = text.str.contains(_OFFSET).to_numpy()
    wall = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    instant = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]")
    if (~has_off).any():
        wall[~has_off] = pd.to_datetime(text[~has_off], format="ISO8601", errors="coerce")
    if has_off.any():
        utc = pd.to_datetime(text[has_off], format="ISO8601", errors="coerce", utc=True)
        instant[has_off] = utc
        wall[has_off] = utc.dt.tz_convert(tz).dt.tz_localize(None)
    return wall, instant, has_off


def validate_frame(frame: pd.DataFrame, config: Config, name: str, first_row: int) -> pd.DataFrame:
    """Check every row; return ``queue, interval_start, contacts, aht_s`` or raise InputError."""
    decimal_comma = bool(frame.attrs.get("decimal_comma"))
    frame = _check_columns(frame, name)
    rows = np.arange(len(frame)) + first_row
    probs = _Problems(name)
    tz = config.timezone

    queue = frame["queue"].astype(str).str.strip()
    known = set(config.queue_names)
    bad_queue = ~queue.isin(known).to_numpy()
    probs.add_rows(bad_queue, rows, "queue", lambda i: (
        f"queue {queue.iat[i]!r} is not in the config (known: {', '.join(sorted(known))}); "
        "fix the name or add the queue to the config") if queue.iat[i] else "queue is empty; fill it in")

    wall, instant, has_off = _parse_times(frame["interval_start"], tz)
    # the cells as text only for the rows a message names: a Parquet file's cells are timestamps and
    # numbers, and a string for each took reading 100 queues' file from 737 to 1,047 MiB at its peak
    raw_ts = frame["interval_start"]
    unreadable = wall.isna().to_numpy()
    probs.add_rows(unreadable, rows, "interval_start", lambda i: (
        f"cannot read {str(raw_ts.iat[i])!r} as a date and time; use local time like 2026-03-02 08:30"))
    step = config.interval_min
    off_grid = ~unreadable & ((wall.dt.minute % step != 0) | (wall.dt.second != 0)
                              | (wall.dt.microsecond != 0) | (wall.dt.nanosecond != 0)).to_numpy()
    probs.add_rows(off_grid, rows, "interval_start", lambda i: (
        f"{str(raw_ts.iat[i])!r} is not on the {step}-minute grid; give the start of an interval "
        f"(minutes divisible by {step}, no seconds)"))
    contacts = _numbers(frame["contacts"], decimal_comma)
    naive = ~unreadable & ~has_off
    notes: list[str] = []
    skipped_zero = np.zeros(len(frame), bool)
    if naive.any():
        skipped_zero = _local_instants(frame, queue, wall, instant, naive, contacts, rows, probs, tz, notes)

    raw_c = frame["contacts"]
    bad_c = (contacts.isna() | ~np.isfinite(contacts) | (contacts < 0)).to_numpy()
    probs.add_rows(bad_c, rows, "contacts", lambda i: (
        f"contacts must be a number >= 0, got {str(raw_c.iat[i])!r}{_comma_hint(raw_c.iat[i])}"))

    if "aht_s" in frame:
        aht = _numbers(frame["aht_s"], decimal_comma)
        raw_a = frame["aht_s"]
        no_number = aht.isna().to_numpy()
        unreadable_a = np.zeros(len(frame), bool)       # a cell without a number that is not a blank
        unreadable_a[no_number] = ~raw_a[no_number].astype(str).str.strip().isin(
            ["", "nan", "NaN", "None", "<NA>"]).to_numpy()
        bad_a = unreadable_a | (aht.notna() & ((aht <= 0) | ~np.isfinite(aht))).to_numpy()
        probs.add_rows(bad_a, rows, "aht_s", lambda i: (
            f"aht_s must be a number of seconds > 0 (or empty), got {str(raw_a.iat[i]).strip()!r}"
            f"{_comma_hint(raw_a.iat[i])}"))
    else:
        aht = pd.Series(np.nan, index=frame.index)

    valid = ~(bad_queue | unreadable | instant.isna().to_numpy())   # times that do not exist are reported above
    key = pd.DataFrame({"q": queue, "t": instant})[valid]
    dup = key.duplicated(keep="first")
    if dup.any():
        first_pos = key.index.to_series().groupby([key["q"], key["t"]]).transform("first")
        for pos in dup[dup].index[:MAX_PROBLEMS]:
            probs.add(int(rows[pos]), "interval_start",
                      f"duplicate of row {rows[first_pos[pos]]} (same queue and interval_start); keep one of them")
    probs.raise_if_any()

    keep = ~skipped_zero
    out = pd.DataFrame({"queue": queue.to_numpy()[keep], "interval_start": wall.to_numpy()[keep],
                        "contacts": contacts.to_numpy()[keep], "aht_s": aht.to_numpy()[keep]})
    out = _fold_repeated_hour(out)
    out = out.sort_values(["queue", "interval_start"], kind="stable").reset_index(drop=True)
    out.attrs["warnings"] = [f"{name}: {n}" for n in notes]
    return out


def _local_instants(frame, queue, wall, instant, naive, contacts, rows, probs, tz, notes) -> np.ndarray:
    """UTC instants of rows given in local time without an offset, filled into ``instant``.

    At the autumn change a wall-clock time happens twice: rows of one queue at that time are
    read in file order as its first and second occurrence (as an ACD writes them); one row alone
    holds both (an export with one slot per wall-clock time). In the spring gap, a row with 0
    contacts is dropped (exports that write every slot of the day put zeros there); one with
    contacts is an error. Returns the dropped rows; the notes say what was done."""
    nw = wall[naive]
    occurrences = np.ones(len(frame), int)
    occurrences[naive] = wall_occurrences(tz, nw)
    twice, gap = occurrences == 2, naive & (occurrences == 0)
    order = pd.Series(0, index=frame.index)
    if twice.any():
        order[twice] = pd.DataFrame({"q": queue[twice], "t": wall[twice]}).groupby(["q", "t"]).cumcount()
    first = (order == 0).to_numpy()
    instant[naive] = nw.dt.tz_localize(tz, ambiguous=first[naive], nonexistent="NaT").dt.tz_convert("UTC")
    third = twice & (order >= 2).to_numpy()
    probs.add_rows(third, rows, "interval_start", lambda i: (
        f"{wall.iat[i]:%Y-%m-%d %H:%M} happens twice in {tz} (clocks go back that night), and this is its third row "
        "for the queue; keep two (first and second occurrence, in time order) or add UTC offsets"))
    instant[third] = pd.NaT
    with_contacts = gap & (contacts.fillna(0) != 0).to_numpy()
    probs.add_rows(with_contacts, rows, "interval_start", lambda i: (
        f"{wall.iat[i]:%Y-%m-%d %H:%M} does not exist in {tz} (clocks jump forward that night) but has "
        f"{contacts.iat[i]:g} contacts; move them to the interval they belong to, or give times with a UTC offset"))
    zero = gap & ~with_contacts
    if twice.any():
        days = sorted({f"{t:%Y-%m-%d}" for t in wall[twice]})
        seconds = int((twice & ~first).sum())
        alone = int(twice.sum()) - 2 * seconds
        how = [f"{seconds} time(s) given twice, read in file order as first and second occurrence"] if seconds else []
        how += [f"{alone} time(s) given once, taken to hold both occurrences"] if alone else []
        notes.append(f"the hour repeated when clocks go back ({', '.join(days)}, {tz}): {'; '.join(how)}; each of "
                     f"these intervals holds twice its usual minutes, which forecasts and staffing take into account")
    if zero.any():
        notes.append(f"{int(zero.sum())} row(s) with 0 contacts at times that do not exist in {tz} (clocks jump "
                     f"forward on {', '.join(sorted({f'{t:%Y-%m-%d}' for t in wall[zero]}))}) were left out")
    return zero


def _fold_repeated_hour(frame: pd.DataFrame) -> pd.DataFrame:
    """Add together rows that fall on one wall-clock interval (the hour repeated at DST end)."""
    if not frame.duplicated(["queue", "interval_start"]).any():
        return frame
    work = frame.assign(handled=frame["contacts"] * frame["aht_s"],
                        has_aht=frame["aht_s"].notna() & (frame["contacts"] > 0))
    agg = work.groupby(["queue", "interval_start"], as_index=False).agg(
        contacts=("contacts", "sum"), handled=("handled", "sum"), with_aht=("has_aht", "any"))
    agg["aht_s"] = np.where(agg["with_aht"] & (agg["contacts"] > 0), agg["handled"] / agg["contacts"].where(agg["contacts"] > 0), np.nan)
    return agg[["queue", "interval_start", "contacts", "aht_s"]]


def coverage_warnings(frame: pd.DataFrame, config: Config, name: str) -> list[str]:
    """Gaps inside opening hours, and rows in closed periods, per queue (warnings, not errors)."""
    out = []
    step = pd.Timedelta(minutes=config.interval_min)
    for queue, part in frame.groupby("queue", sort=True):
        times = pd.DatetimeIndex(part["interval_start"])
        grid = open_grid(config, queue, times.min().to_pydatetime(), (times.max() + step).to_pydatetime())
        missing = grid.difference(times)
        missing = missing[wall_occurrences(config.timezone, missing) > 0]      # the spring gap has no rows
        if len(missing):
            out.append(f"{name}: queue {queue}: {len(missing)} open interval(s) between {times.min():%Y-%m-%d} and "
                       f"{times.max():%Y-%m-%d} have no row (first {missing[0]:%Y-%m-%d %H:%M}); "
                       "they count as missing data, not as zero contacts")
        closed = ~is_open(config, queue, times)
        if closed.any():
            out.append(f"{name}: queue {queue}: {int(closed.sum())} row(s) fall outside opening hours or on closed "
                       f"days (first {times[closed][0]:%Y-%m-%d %H:%M}); kept, check the config's opening hours")
    return out


def load_actuals(path: str | Path, config: Config) -> ActualsFile:
    """Read and validate one actuals file; raise InputError listing every problem."""
    frame, first_row, digest = read_raw(path)
    clean = validate_frame(frame, config, str(path), first_row)
    return ActualsFile(str(path), digest, clean, clean.attrs.get("warnings", []) + coverage_warnings(clean, config, str(path)))


@dataclass
class IngestResult:
    files: list[ActualsFile]
    counts: dict[str, int]

    @property
    def warnings(self) -> list[str]:
        return [w for f in self.files for w in f.warnings]


def ingest(paths: list[str | Path], config: Config, store, by: str | None = None) -> IngestResult:
    """Validate every file, then write them all in one transaction (all or nothing).

    ``store`` is an open :class:`forecaster.store.Store`. Within one call a later file wins
    over an earlier one for the same queue and interval, as if they were ingested in turn.
    """
    files = [load_actuals(p, config) for p in paths]
    frame = pd.concat([f.frame for f in files], ignore_index=True)
    if len(files) > 1:
        frame = frame.drop_duplicates(["queue", "interval_start"], keep="last")
    counts = store.replace_actuals(frame, [f.path for f in files], [f.sha256 for f in files], by=by)
    return IngestResult(files, counts)
