"""The planner's Erlang calculator: one interval with a what-if table, or a whole file of rows.

A clean bulk file (plain numbers, known models, every value in its range: the usual export) is read
by Arrow and staffed on arrays, without pandas, whose import alone takes a quarter of a second. A
file that is not plain gets row-by-row checks (through the actuals reader, with pandas), which
name each problem's row and field. Results are Arrow tables.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from forecaster.core.errors import InputError, Problem, UserError
from forecaster.io import arrow_numpy
from forecaster.staffing.columns import OUTPUT_COLUMNS, required_agents, requirement_columns, staffing_columns
from forecaster.staffing.columns import inputs as layer_inputs
from forecaster.staffing.erlang import MAX_LOAD, traffic

MODELS = ("erlang_c", "erlang_a")
_SL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Inputs:
    """One interval to staff; fractions for shrinkage and occupancy, seconds for times."""

    contacts: float
    interval_min: float
    aht_s: float
    sl: float | None = 0.8
    answer_s: float | None = 20.0
    asa_target_s: float | None = None
    model: str = "erlang_c"
    patience_s: float | None = None
    shrinkage: float = 0.0
    max_occupancy: float = 1.0
    max_abandon: float = 1.0
    concurrency: int = 1

    def row(self, **extra) -> dict:
        return {"contacts": self.contacts, "interval_min": self.interval_min, "aht_s": self.aht_s,
                "sl": np.nan if self.sl is None else self.sl, "answer_s": np.nan if self.answer_s is None else self.answer_s,
                "asa_target_s": np.nan if self.asa_target_s is None else self.asa_target_s, "model": self.model,
                "patience_s": np.nan if self.patience_s is None else self.patience_s, "shrinkage": self.shrinkage,
                "max_occupancy": self.max_occupancy, "max_abandon": self.max_abandon, "concurrency": self.concurrency,
                **extra}


def parse_sl(text: str, where: str = "--sl") -> tuple[float, float]:
    """``"80/20"`` -> (0.8, 20.0): percent answered within seconds."""
    m = _SL.match(str(text))
    if not m:
        raise UserError(f"{where} {text}: write the service level as PERCENT/SECONDS, e.g. 80/20")
    pct, secs = float(m.group(1)), float(m.group(2))
    if not 0 < pct <= 100:
        raise UserError(f"{where} {text}: the percentage must be above 0 and at most 100")
    return pct / 100, secs


def check(inputs: Inputs) -> None:
    """Raise UserError naming the option for any value outside its range."""
    with np.errstate(all="ignore"):                 # a zero interval is reported below
        load = float(traffic(inputs.contacts, inputs.aht_s, inputs.interval_min))
    rules = [
        (inputs.contacts >= 0 and np.isfinite(inputs.contacts), f"--contacts must be a number >= 0, got {inputs.contacts:g}"),
        (inputs.aht_s > 0, f"--aht must be > 0 seconds, got {inputs.aht_s:g}"),
        (inputs.interval_min > 0, f"--interval must be > 0 minutes, got {inputs.interval_min:g}"),
        (0 <= inputs.shrinkage < 1, f"--shrinkage must be a fraction from 0 to below 1 (0.3 = 30 %), got {inputs.shrinkage:g}"),
        (0 < inputs.max_occupancy <= 1, f"--max-occupancy must be a fraction above 0 and at most 1, got {inputs.max_occupancy:g}"),
        (0 < inputs.max_abandon <= 1, f"--max-abandon must be a fraction above 0 and at most 1, got {inputs.max_abandon:g}"),
        (1 <= inputs.concurrency <= 20, f"--concurrency must be from 1 to 20, got {inputs.concurrency}"),
        (inputs.model in MODELS, f"--model must be erlang_c or erlang_a, got {inputs.model}"),
        (inputs.model != "erlang_a" or (inputs.patience_s or 0) > 0,
         "--model erlang_a needs --patience SECONDS (mean time callers wait before hanging up), > 0"),
        (inputs.asa_target_s is None or inputs.asa_target_s > 0, f"--asa must be > 0 seconds, got {inputs.asa_target_s}"),
        (inputs.answer_s is None or inputs.answer_s >= 0, f"--sl answer time must be >= 0 seconds, got {inputs.answer_s}"),
        (not load > MAX_LOAD, _load_rule("--contacts x --aht over --interval", load)),
    ]
    for ok, message in rules:
        if not ok:
            raise UserError(message)


def _load_rule(what: str, load: float) -> str:
    shown = f"{load:,.0f}" if load < 1e15 else f"{load:.3g}"
    return (f"{what} is {shown} Erlangs (agents busy at once), above the {MAX_LOAD:,.0f} this calculator "
            "staffs; check the units: aht in seconds, interval in minutes")


def _layer_inputs(inputs: Inputs, rows: int) -> dict[str, np.ndarray]:
    return layer_inputs({key: np.full(rows, value) for key, value in inputs.row().items()})


def _table(inputs: Inputs, agents: np.ndarray) -> dict[str, np.ndarray]:
    """Metrics at each agent count in ``agents``, as the what-if table's columns."""
    got = staffing_columns(_layer_inputs(inputs, len(agents)), np.asarray(agents, np.int64))
    cols = ["required_agents", "required_with_shrinkage", "service_level", "asa_s", "p_wait", "occupancy"]
    if inputs.model == "erlang_a":
        cols.append("abandon")
    return {WHAT_IF_NAMES.get(col, col): got[col] for col in cols}


def single(inputs: Inputs, agents: int | None = None, span: tuple[int, int] = (3, 5)) -> dict:
    """Required agents (or what ``agents`` achieve) with a what-if table (an Arrow table) around that count."""
    check(inputs)
    needed = int(required_agents(_layer_inputs(inputs, 1))[0])
    center = needed if agents is None else agents
    if agents is not None and agents < 0:
        raise UserError(f"--agents must be >= 0, got {agents}")
    counts = np.arange(max(0 if inputs.contacts == 0 else 1, center - span[0]), center + span[1] + 1)
    table = _table(inputs, counts)
    at = {col: values[counts == center][0].item() for col, values in table.items()}
    return {"mode": "required" if agents is None else "given_agents", "required_agents": needed, **at,
            "what_if": pa.Table.from_arrays([arrow_numpy.array(v) for v in table.values()], names=list(table))}


# the what-if table's rows are agent counts tried, not requirements
WHAT_IF_NAMES = {"required_agents": "agents", "required_with_shrinkage": "agents_with_shrinkage"}
BULK_REQUIRED = ["contacts", "interval_min", "aht_s"]
BULK_OLD_NAMES = {"calls": "contacts"}       # read for one release (0.2); say 'contacts' in new files
BULK_OPTIONAL = ["sl", "answer_s", "patience_s", "shrinkage", "max_occupancy", "model", "asa_target_s",
                 "max_abandon", "concurrency"]
# A bulk file's number columns in the order the result lists them, each with the rule its values
# keep (on arrays or Series) and what a message says of a value that breaks it. Blank cells take the
# default, unchecked.
NUMBER_RULES = [
    ("contacts", lambda v: (v >= 0) & np.isfinite(v), "must be a number >= 0"),
    ("interval_min", lambda v: (v > 0) & np.isfinite(v), "must be a number of minutes > 0"),
    ("aht_s", lambda v: (v > 0) & np.isfinite(v), "must be a number of seconds > 0"),
    ("shrinkage", lambda v: (v >= 0) & (v < 1), "must be a fraction from 0 to below 1"),
    ("max_occupancy", lambda v: (v > 0) & (v <= 1), "must be a fraction above 0 and at most 1"),
    ("max_abandon", lambda v: (v > 0) & (v <= 1), "must be a fraction above 0 and at most 1"),
    ("concurrency", lambda v: (v >= 1) & (v <= 20) & (v % 1 == 0), "must be a whole number from 1 to 20"),
    ("patience_s", lambda v: np.isnan(v) | ((v > 0) & np.isfinite(v)), "must be a number of seconds > 0"),
    ("asa_target_s", lambda v: np.isnan(v) | ((v > 0) & np.isfinite(v)), "must be a number of seconds > 0"),
    ("answer_s", lambda v: np.isnan(v) | ((v >= 0) & np.isfinite(v)), "must be a number of seconds >= 0"),
]


def staff_file(path: str | Path, defaults: Inputs) -> pa.Table:
    """Staff every row of a CSV/Parquet file; missing optional columns and blank cells take
    ``defaults``. Returns the file's columns (all of them, defaults filled in) and the staffing
    columns, as an Arrow table. Raises :class:`InputError` naming each bad row and field."""
    columns = _plain_columns(path, defaults) or _checked_columns(path, defaults)   # anything not plain: by row
    result = {**columns, **requirement_columns(layer_inputs(columns))}
    model = result.pop("model")
    arrays = {name: arrow_numpy.array(values) for name, values in result.items()}
    arrays["model"] = arrow_numpy.text((model == MODELS[1]).astype(np.int64), list(MODELS))
    order = [name for name, _, _ in NUMBER_RULES] + ["sl", "model"] + OUTPUT_COLUMNS
    return pa.Table.from_arrays([arrays[name] for name in order], names=order)


def _plain_columns(path: str | Path, defaults: Inputs) -> dict[str, np.ndarray] | None:
    """A bulk file's columns as arrays, defaults filled in, when it is plain: read by Arrow (a CSV
    file separated by commas, or Parquet), with the known columns, numbers in number columns and
    every value within its rule. None for anything else (no file, another format, text in a number
    column, a value out of range), which the row-by-row checks then explain."""
    table = _arrow_table(path)
    if table is None or table.num_rows == 0:
        return None
    names = [str(c).strip().lower() for c in table.column_names]
    renamed = {old: new for old, new in BULK_OLD_NAMES.items() if old in names and new not in names}
    names = [renamed.get(c, c) for c in names]
    if len(set(names)) < len(names) or set(BULK_REQUIRED) - set(names) or \
            set(names) - set(BULK_REQUIRED + BULK_OPTIONAL):
        return None
    table = table.rename_columns(names)
    n, base = table.num_rows, defaults.row()
    out: dict[str, np.ndarray] = {}
    for col, ok, _ in [*NUMBER_RULES, ("sl", lambda v: (v > 0) & (v <= 1), "")]:
        if col not in names:
            out[col] = np.full(n, base[col], float)
            continue
        raw = table[col]
        if not (pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type) or pa.types.is_null(raw.type)):
            return None                               # text ("80/20", "185,5", a word): checked by row
        values, given = arrow_numpy.floats(raw)
        if col == "sl":
            values = np.where(values > 1, values / 100, values)      # a percentage
        with np.errstate(invalid="ignore"):
            if (given & ~ok(values)).any():
                return None
        out[col] = np.where(given, values, base[col])
    out["model"] = np.full(n, defaults.model, object)
    if "model" in names:
        raw = table["model"]
        if not (pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type) or pa.types.is_null(raw.type)):
            return None
        given, codes = arrow_numpy.labels(raw)
        named = [(value or "").strip() or defaults.model for value in given]    # blank: the default
        if set(named) - set(MODELS):
            return None
        out["model"] = np.array(named, object)[codes]
    if ((out["model"] == "erlang_a") & np.isnan(out["patience_s"])).any() or \
            (np.isnan(out["sl"]) & np.isnan(out["asa_target_s"])).any() or \
            (~(traffic(out["contacts"], out["aht_s"], out["interval_min"]) <= MAX_LOAD)).any():
        return None
    return out


def _arrow_table(path: str | Path) -> pa.Table | None:
    """A comma-separated CSV file (number columns as numbers, ``model`` as text) or a Parquet file
    read by Arrow; None for other files and for anything Arrow refuses."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
            fh.seek(0)
            first = fh.readline(1 << 20)
        if head == b"PAR1":
            return pq.read_table(path)
        first = first.decode("utf-8-sig")
        if head[:2] == b"\x1f\x8b" or head == b"PK\x03\x04" or first.count(";") > first.count(","):
            return None                                # gzip, XLSX, or ;-separated with decimal commas
        header = next(csv.reader([first]))
        types = {name: pa.string() if name.strip().lower() == "model" else pa.float64() for name in header}
        return pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(
            column_types=types, null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=True))
    except (pa.ArrowException, OSError, ValueError, StopIteration, csv.Error):
        return None


def _cell(value: object) -> str:
    """A file's value as a message shows it: text quoted, numbers as they are."""
    return repr(value) if isinstance(value, str) else str(value)


def _checked_columns(path: str | Path, defaults: Inputs) -> dict[str, np.ndarray]:
    """:func:`_plain_columns` for any file :func:`read_raw` reads (XLSX, gzip, decimal commas, text
    in number cells), checking every row: raises :class:`InputError` naming each problem's row and field."""
    # pandas and the actuals reader load for files Arrow did not take: a clean CSV never needs them
    from forecaster.io.actuals import parse_numbers, plain_floats, read_raw

    frame, first_row, _ = read_raw(path)
    decimal_comma = bool(frame.attrs.get("decimal_comma"))
    name = str(path)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    renamed = {new: old for old, new in BULK_OLD_NAMES.items() if old in frame.columns and new not in frame.columns}
    frame = frame.rename(columns={old: new for new, old in renamed.items()})
    missing = [c for c in BULK_REQUIRED if c not in frame.columns]
    unknown = [c for c in frame.columns if c not in BULK_REQUIRED + BULK_OPTIONAL]
    hint = f"expected {', '.join(BULK_REQUIRED)} and optionally {', '.join(BULK_OPTIONAL)}"
    if missing or unknown:
        col = (missing or unknown)[0]
        raise InputError([Problem(name, 1, col, f"{'misses' if missing else 'has unknown'} column {col!r}; {hint}")])
    if frame.empty:
        raise InputError([Problem(name, None, None, "has a header but no data rows; nothing to staff")])
    n = len(frame)
    work: dict[str, np.ndarray] = {}
    problems: list[Problem] = []
    rows = np.arange(n) + first_row
    base = defaults.row()
    broken = np.zeros(n, bool)                      # rows with a number that breaks its rule

    for col, ok, rule in NUMBER_RULES:
        if col not in frame:                        # the default (checked by the caller), for every row
            work[col] = np.full(n, base[col], float)
            continue
        raw = frame[col]
        fast = plain_floats(raw) if raw.dtype == object else None
        # plain numbers at parser speed; text only where that fails
        val = np.array(fast if fast is not None else parse_numbers(raw), float)
        given = np.ones(n, bool)
        odd = np.isnan(val)
        if odd.any():
            # a blank cell, or a missing value in a Parquet file's column, takes the default, unchecked
            text = raw[odd].fillna("").astype(str).str.strip()
            given[odd] = (text != "").to_numpy()
            val[odd] = parse_numbers(text, decimal_comma).where(text != "", base[col]).to_numpy(float)
        shown = renamed.get(col, col)              # the column as the user's file names it
        with np.errstate(invalid="ignore"):
            bad = ~ok(val) & given
        broken |= bad
        for i in np.flatnonzero(bad)[:50]:
            problems.append(Problem(name, int(rows[i]), shown, f"{shown} {rule}, got {_cell(raw.iat[i])}"))
        work[col] = val
    _bulk_sl(frame, work, base, problems, name, rows)
    model = frame["model"].fillna("").astype(str).str.strip().to_numpy(object) if "model" in frame else \
        np.full(n, defaults.model, object)
    model[model == ""] = defaults.model
    for i in np.flatnonzero(~np.isin(model, MODELS))[:50]:
        problems.append(Problem(name, int(rows[i]), "model", f"model must be erlang_c or erlang_a, got {model[i]!r}"))
    work["model"] = model
    for i in np.flatnonzero((model == "erlang_a") & np.isnan(work["patience_s"]))[:50]:
        problems.append(Problem(name, int(rows[i]), "patience_s", "erlang_a needs patience_s (seconds) > 0"))
    for i in np.flatnonzero(np.isnan(work["sl"]) & np.isnan(work["asa_target_s"]))[:50]:
        problems.append(Problem(name, int(rows[i]), "sl", "needs a target: sl (with answer_s) or asa_target_s"))
    with np.errstate(all="ignore"):
        load = traffic(work["contacts"], work["aht_s"], work["interval_min"])
    shown = renamed.get("contacts", "contacts")
    for i in np.flatnonzero((load > MAX_LOAD) & ~broken)[:50]:
        problems.append(Problem(name, int(rows[i]), shown, _load_rule(f"{shown} x aht_s over interval_min", load[i])))
    if problems:
        raise InputError(sorted(problems, key=lambda p: p.row or 0))
    return work


def _bulk_sl(frame, work, base, problems, name, rows) -> None:
    """``sl`` may be a fraction (0.8), a percentage (80) or PERCENT/SECONDS (80/20)."""
    sl = np.full(len(frame), base["sl"])            # a blank cell takes the default target
    work["sl"] = sl
    if "sl" not in frame:
        return
    for i, raw in enumerate(frame["sl"].astype(str).str.strip()):
        if raw == "" or raw.lower() == "nan":
            continue
        m = _SL.match(raw)
        try:
            value = float(m.group(1)) if m else float(raw)
        except ValueError:
            value = np.nan
        value = value / 100 if value > 1 else value
        if not 0 < value <= 1:
            problems.append(Problem(name, int(rows[i]), "sl", f"sl must be a fraction (0.8), a percentage (80) or "
                                    f"PERCENT/SECONDS (80/20) above 0 and at most 100 %, got {raw!r}"))
            sl[i] = 0.5                              # reported above; keeps 'needs a target' from repeating it
            continue
        sl[i] = value
        if m:
            work["answer_s"][i] = float(m.group(2))
