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
    erlang_c_metrics,
    erlang_c_search,
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


def _rows(arrays: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
    """The rows of ``mask`` of each array (the arrays themselves where that is every row)."""
    return arrays if mask.all() else {key: val[mask] for key, val in arrays.items()}


def _servers(f: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(servers, P(wait) at them where the Erlang C search knows it, else NaN) per row."""
    servers = np.zeros(len(f["contacts"]), np.int64)
    p_wait = np.full(len(servers), np.nan)
    for model in ("erlang_c", "erlang_a"):
        rows = f["model"] == model
        if not rows.any():
            continue
        part = _rows(f, rows)
        use_sl = ~np.isnan(part["sl"])
        args = {"contacts": part["contacts"], "aht_s": part["aht_s"], "interval_min": part["interval_min"],
                "answer_s": np.nan_to_num(part["answer_s"], nan=0.0), "max_occupancy": part["max_occupancy"]}
        if model == "erlang_a":
            args.update(patience_s=part["patience_s"], max_abandon=part["max_abandon"])
        got, pw = np.zeros(len(use_sl), np.int64), np.full(len(use_sl), np.nan)
        for flag in (True, False):
            sel = use_sl == flag
            if sel.any():
                target = {"sl" if flag else "asa_s": (part["sl"] if flag else part["asa_target_s"])[sel]}
                if model == "erlang_c":
                    got[sel], pw[sel] = erlang_c_search(**_rows(args, sel), **target)
                else:
                    got[sel] = erlang_a_agents(**_rows(args, sel), **target)
        servers[rows], p_wait[rows] = got, pw
    return servers, p_wait


def _agents(f: dict[str, np.ndarray], servers: np.ndarray) -> np.ndarray:
    return np.maximum(ceil_tol(servers / f["concurrency"]), f["min_agents"].astype(np.int64))


def required_agents(f: dict[str, np.ndarray]) -> np.ndarray:
    """Least agents per row meeting its target (``sl`` with ``answer_s``, else ``asa_target_s``),
    occupancy and abandonment caps, at ``concurrency`` sessions each and at least ``min_agents``."""
    return _agents(f, _servers(f)[0])


def requirement_columns(f: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """:func:`staffing_columns` at :func:`required_agents`, reusing what the search computed."""
    servers, p_wait = _servers(f)
    agents = _agents(f, servers)
    return staffing_columns(f, agents, np.where(agents * f["concurrency"] == servers, p_wait, np.nan))


def staffing_columns(f: dict[str, np.ndarray], agents: np.ndarray, p_wait: np.ndarray | None = None
                     ) -> dict[str, np.ndarray]:
    """The :data:`OUTPUT_COLUMNS` at ``agents`` per row (times ``concurrency`` sessions each);
    ``p_wait``: Erlang C's P(wait) at those servers where already known (NaN elsewhere)."""
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
        if model == "erlang_c":
            m = erlang_c_metrics(*common, None if p_wait is None else p_wait[rows])
        else:
            m = erlang_a_metrics(*common, f["patience_s"][rows])
        for col, val in m.items():
            new[col][rows] = val
    no_target = np.isnan(f["sl"]) | np.isnan(f["answer_s"])
    new["service_level"][no_target] = np.nan
    return new
