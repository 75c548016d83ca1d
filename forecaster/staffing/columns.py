"""The column-wise staffing layer on plain arrays: inputs in, staffing columns out, for all rows at once.

:func:`forecaster.staffing.requirements.requirements` puts these columns on a frame; the bulk
calculator (``forecaster erlang --input``) puts them on an Arrow table. This module needs NumPy
and the Erlang kernels only, not pandas, so the calculator starts in a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from forecaster.staffing.erlang import (
    ceil_tol,
    erlang_a_agents,
    erlang_a_metrics,
    erlang_c_agents,
    erlang_c_metrics,
    with_shrinkage,
)

OUTPUT_COLUMNS = ["required_agents", "required_with_shrinkage", "service_level", "asa_s", "p_wait", "occupancy", "abandon"]
DEFAULTS = {"model": "erlang_c", "sl": np.nan, "answer_s": np.nan, "asa_target_s": np.nan, "patience_s": np.nan,
            "shrinkage": 0.0, "max_occupancy": 1.0, "max_abandon": 1.0, "min_agents": 0, "concurrency": 1}


def inputs(columns: Mapping) -> dict[str, np.ndarray]:
    """The columns the layer reads (``contacts``, ``aht_s``, ``interval_min`` and any of
    :data:`DEFAULTS`) as arrays, the defaults filled in where a column or a value is missing.
    ``columns`` is anything that maps names to columns: a frame, or a dict of arrays."""
    out: dict[str, np.ndarray] = {col: np.asarray(columns[col], float) for col in ("contacts", "aht_s", "interval_min")}
    n = len(out["contacts"])
    for col, default in DEFAULTS.items():
        if col == "model":
            model = np.array(columns["model"], object) if "model" in columns else np.full(n, default, object)
            model[np.equal(model, None) | np.not_equal(model, model)] = default    # None or NaN (unequal to itself)
            out[col] = model
        elif col in columns:
            v = np.asarray(columns[col], float)
            out[col] = np.where(np.isnan(v), default, v)
        else:
            out[col] = np.full(n, default, float)
    return out


def required_agents(f: dict[str, np.ndarray]) -> np.ndarray:
    """Least agents per row meeting its target (``sl`` with ``answer_s``, else ``asa_target_s``),
    occupancy and abandonment caps, at ``concurrency`` sessions each and at least ``min_agents``."""
    servers = np.zeros(len(f["contacts"]), np.int64)
    for model, solve in (("erlang_c", erlang_c_agents), ("erlang_a", erlang_a_agents)):
        rows = f["model"] == model
        if not rows.any():
            continue
        part = {key: val[rows] for key, val in f.items()}
        use_sl = ~np.isnan(part["sl"])
        args = {"contacts": part["contacts"], "aht_s": part["aht_s"], "interval_min": part["interval_min"],
                "answer_s": np.nan_to_num(part["answer_s"], nan=0.0), "max_occupancy": part["max_occupancy"]}
        if model == "erlang_a":
            args.update(patience_s=part["patience_s"], max_abandon=part["max_abandon"])
        got = np.zeros(len(part["sl"]), np.int64)
        for flag in (True, False):
            sel = use_sl == flag
            if sel.any():
                sub = {key: val[sel] for key, val in args.items()}
                target = (part["sl"] if flag else part["asa_target_s"])[sel]
                got[sel] = solve(**sub, **({"sl": target} if flag else {"asa_s": target}))
        servers[rows] = got
    return np.maximum(ceil_tol(servers / f["concurrency"]), f["min_agents"].astype(np.int64))


def staffing_columns(f: dict[str, np.ndarray], agents: np.ndarray) -> dict[str, np.ndarray]:
    """The :data:`OUTPUT_COLUMNS` at ``agents`` per row (times ``concurrency`` sessions each)."""
    n = len(agents)
    new = {"required_agents": agents, "required_with_shrinkage": with_shrinkage(agents, f["shrinkage"])}
    for col in OUTPUT_COLUMNS[2:]:
        new[col] = np.full(n, np.nan)
    servers = agents * f["concurrency"]
    for model in ("erlang_c", "erlang_a"):
        rows = f["model"] == model
        if not rows.any():
            continue
        common = (servers[rows], f["contacts"][rows], f["aht_s"][rows], f["interval_min"][rows],
                  np.nan_to_num(f["answer_s"][rows], nan=0.0))
        m = erlang_c_metrics(*common) if model == "erlang_c" else erlang_a_metrics(*common, f["patience_s"][rows])
        for col, val in m.items():
            new[col][rows] = val
    no_target = np.isnan(f["sl"]) | np.isnan(f["answer_s"])
    new["service_level"][no_target] = np.nan
    return new
