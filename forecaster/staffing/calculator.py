"""The planner's Erlang calculator: one interval with a what-if table, or a whole file of rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecaster.core.errors import InputError, Problem, UserError
from forecaster.io.actuals import parse_numbers, plain_floats, read_raw
from forecaster.staffing.requirements import metrics_at, requirements

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
    rules = [
        (inputs.contacts >= 0 and np.isfinite(inputs.contacts), f"--contacts must be a number >= 0, got {inputs.contacts:g}"),
        (inputs.aht_s > 0, f"--aht must be > 0 seconds, got {inputs.aht_s:g}"),
        (inputs.interval_min > 0, f"--interval must be > 0 minutes, got {inputs.interval_min:g}"),
        (0 <= inputs.shrinkage < 1, f"--shrinkage must be a fraction from 0 to below 1 (0.3 = 30 %), got {inputs.shrinkage:g}"),
        (0 < inputs.max_occupancy <= 1, f"--max-occupancy must be a fraction above 0 and at most 1, got {inputs.max_occupancy:g}"),
        (0 < inputs.max_abandon <= 1, f"--max-abandon must be a fraction above 0 and at most 1, got {inputs.max_abandon:g}"),
        (inputs.concurrency >= 1, f"--concurrency must be at least 1, got {inputs.concurrency}"),
        (inputs.model in MODELS, f"--model must be erlang_c or erlang_a, got {inputs.model}"),
        (inputs.model != "erlang_a" or (inputs.patience_s or 0) > 0,
         "--model erlang_a needs --patience SECONDS (mean time callers wait before hanging up), > 0"),
        (inputs.asa_target_s is None or inputs.asa_target_s > 0, f"--asa must be > 0 seconds, got {inputs.asa_target_s}"),
        (inputs.answer_s is None or inputs.answer_s >= 0, f"--sl answer time must be >= 0 seconds, got {inputs.answer_s}"),
    ]
    for ok, message in rules:
        if not ok:
            raise UserError(message)


def _table(inputs: Inputs, agents: np.ndarray) -> pd.DataFrame:
    """Metrics at each agent count in ``agents``."""
    got = metrics_at(pd.DataFrame([inputs.row()] * len(agents)), agents).rename(columns=WHAT_IF_NAMES)
    cols = ["agents", "agents_with_shrinkage", "service_level", "asa_s", "p_wait", "occupancy"]
    if inputs.model == "erlang_a":
        cols.append("abandon")
    return got[cols].reset_index(drop=True)


def single(inputs: Inputs, agents: int | None = None, span: tuple[int, int] = (3, 5)) -> dict:
    """Required agents (or what ``agents`` achieve) with a what-if table around that count."""
    check(inputs)
    needed = int(requirements(pd.DataFrame([inputs.row()]))["required_agents"].iloc[0])
    center = needed if agents is None else agents
    if agents is not None and agents < 0:
        raise UserError(f"--agents must be >= 0, got {agents}")
    counts = np.arange(max(0 if inputs.contacts == 0 else 1, center - span[0]), center + span[1] + 1)
    table = _table(inputs, counts)
    at = table[table["agents"] == center].iloc[0].to_dict()
    at["agents"], at["agents_with_shrinkage"] = int(at["agents"]), int(at["agents_with_shrinkage"])
    return {"mode": "required" if agents is None else "given_agents", "required_agents": needed, **at,
            "what_if": table}


# the what-if table's rows are agent counts tried, not requirements
WHAT_IF_NAMES = {"required_agents": "agents", "required_with_shrinkage": "agents_with_shrinkage"}
BULK_REQUIRED = ["contacts", "interval_min", "aht_s"]
BULK_OLD_NAMES = {"calls": "contacts"}       # read for one release (0.2); say 'contacts' in new files
BULK_OPTIONAL = ["sl", "answer_s", "patience_s", "shrinkage", "max_occupancy", "model", "asa_target_s",
                 "max_abandon", "concurrency"]


def bulk(path: str | Path, defaults: Inputs) -> pd.DataFrame:
    """Staff every row of a CSV/Parquet file; missing optional columns take ``defaults``."""
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
    work = pd.DataFrame(index=frame.index)
    problems: list[Problem] = []
    rows = np.arange(len(frame)) + first_row
    base = defaults.row()

    def numbers(col, ok, rule):
        if col not in frame:                        # the default (checked by the caller), for every row
            work[col] = float("nan") if base[col] is None else float(base[col])
            return
        raw = frame[col]
        fast = plain_floats(raw) if raw.dtype == object else None
        # plain numbers at parser speed; text only where that fails
        val = pd.Series(fast, index=frame.index) if fast is not None else pd.to_numeric(raw, errors="coerce")
        given = pd.Series(True, index=frame.index)
        odd = val.isna().to_numpy()
        if odd.any():
            text = raw[odd].astype(str).str.strip()
            given[odd] = (text != "").to_numpy()    # a blank cell takes the default, unchecked
            val[odd] = parse_numbers(text, decimal_comma).where(text != "", base[col]).to_numpy(float)
        bad = ~ok(val) & given
        shown = renamed.get(col, col)              # the column as the user's file names it
        for i in np.flatnonzero(bad.to_numpy())[:50]:
            problems.append(Problem(name, int(rows[i]), shown, f"{shown} {rule}, got {raw.iat[i]!r}"))
        work[col] = val.astype(float)

    numbers("contacts", lambda v: (v >= 0) & np.isfinite(v), "must be a number >= 0")
    numbers("interval_min", lambda v: v > 0, "must be a number of minutes > 0")
    numbers("aht_s", lambda v: v > 0, "must be a number of seconds > 0")
    numbers("shrinkage", lambda v: (v >= 0) & (v < 1), "must be a fraction from 0 to below 1")
    numbers("max_occupancy", lambda v: (v > 0) & (v <= 1), "must be a fraction above 0 and at most 1")
    numbers("max_abandon", lambda v: (v > 0) & (v <= 1), "must be a fraction above 0 and at most 1")
    numbers("concurrency", lambda v: v >= 1, "must be a whole number >= 1")
    numbers("patience_s", lambda v: v.isna() | (v > 0), "must be a number of seconds > 0")
    numbers("asa_target_s", lambda v: v.isna() | (v > 0), "must be a number of seconds > 0")
    numbers("answer_s", lambda v: v.isna() | (v >= 0), "must be a number of seconds >= 0")
    _bulk_sl(frame, work, base, problems, name, rows)
    model = frame["model"].astype(str).str.strip().replace("", defaults.model) if "model" in frame else \
        pd.Series(defaults.model, index=frame.index)
    for i in np.flatnonzero(~model.isin(MODELS).to_numpy())[:50]:
        problems.append(Problem(name, int(rows[i]), "model", f"model must be erlang_c or erlang_a, got {model.iat[i]!r}"))
    work["model"] = model
    no_patience = (model == "erlang_a") & work["patience_s"].isna()
    for i in np.flatnonzero(no_patience.to_numpy())[:50]:
        problems.append(Problem(name, int(rows[i]), "patience_s", "erlang_a needs patience_s (seconds) > 0"))
    no_target = work["sl"].isna() & work["asa_target_s"].isna()
    for i in np.flatnonzero(no_target.to_numpy())[:50]:
        problems.append(Problem(name, int(rows[i]), "sl", "needs a target: sl (with answer_s) or asa_target_s"))
    if problems:
        raise InputError(sorted(problems, key=lambda p: p.row or 0))
    return requirements(pd.concat([frame.drop(columns=[c for c in work if c in frame]), work], axis=1))


def _bulk_sl(frame, work, base, problems, name, rows) -> None:
    """``sl`` may be a fraction (0.8), a percentage (80) or PERCENT/SECONDS (80/20)."""
    if "sl" not in frame:
        work["sl"] = base["sl"]
        return
    sl = np.full(len(frame), base["sl"])            # a blank cell takes the default target
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
            work.loc[work.index[i], "answer_s"] = float(m.group(2))
    work["sl"] = sl
