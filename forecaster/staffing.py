"""Vectorised Erlang C and Erlang A staffing, pinned to pyworkforce 0.5.4 by tests.

pyworkforce computes one interval at a time in pure Python; these functions take arrays (or a
frame of intervals) and compute every interval at once with NumPy. The maths and the search
rules are pyworkforce's, so the agents agree exactly:

* Erlang C: traffic ``A = calls / interval_min * aht_min``; the search starts at Python-style
  ``round(A + 1)`` and takes the first agent count whose service level reaches the target. When
  the occupancy at that count exceeds ``max_occupancy``, the count becomes ``ceil(A / max_occ)``.
  Erlang B at the start count comes from the Poisson pmf/cdf (exact, no overflow at 5,000+
  Erlangs); later counts use the usual stable recursion ``1/B(n) = 1 + n/A * 1/B(n-1)``.
* Erlang A (M/M/n+M): the birth-death chain truncated where pyworkforce truncates it (tail term
  < 1e-15 of the mass), service level by uniformization of the tagged-customer chain. pyworkforce
  runs that chain once per queue position (quadratic); by linearity we run it once from the
  delayed-state distribution, which gives the same sum. The least agent count from
  ``max(1, ceil(A))`` meeting service level, occupancy and abandonment is found by bisection,
  valid because all three improve monotonically with agents.

Shrinkage: ``scheduled = ceil(agents / (1 - shrinkage))`` as in pyworkforce, but with a 1e-9
tolerance: pyworkforce's float division turns 21 agents at 30 % shrinkage into
30.000000000000004 and schedules 31; we schedule 30.

Zero-volume intervals (pyworkforce raises on them) get ``min_agents`` agents, service level 1
and no wait. Chat: an agent handles ``concurrency`` sessions at once; we size the sessions as
servers with the session's handling time (``aht_s`` is the elapsed time of one chat while the
agent works several) and divide by ``concurrency``, rounding up. This assumes handling time does
not grow with concurrency beyond what ``aht_s`` already reflects and that an agent takes any
free session slot. E-mail: no queueing model; each interval's work (``calls * aht_s``) is spread
evenly over the queue's open intervals in the following ``deadline_h`` hours, and agents cover
that workload at ``max_occupancy``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import gammaincc, gammaln

TAIL_EPS = 1e-15           # pyworkforce's truncation of the Erlang A chain
ROUND_TOL = 1e-9           # tolerance when rounding agents up for shrinkage or concurrency

SEARCH_LIMIT = 100_000     # agents above the load at which a search gives up (as pyworkforce)

OUTPUT_COLUMNS = ["agents", "scheduled", "service_level", "asa_s", "p_wait", "occupancy", "abandon"]


def traffic(calls, aht_s, interval_min) -> np.ndarray:
    """Offered load in Erlangs, computed as pyworkforce does (``calls / interval * aht_min``)."""
    return (np.asarray(calls, float) / np.asarray(interval_min, float)) * (np.asarray(aht_s, float) / 60.0)


def ceil_tol(x) -> np.ndarray:
    """Round up, ignoring float noise of up to 1e-9 above an integer."""
    return np.ceil(np.asarray(x, float) - ROUND_TOL).astype(np.int64)


def scheduled_agents(agents, shrinkage) -> np.ndarray:
    """Agents to schedule so that ``agents`` remain after ``shrinkage`` (a fraction)."""
    return ceil_tol(np.asarray(agents, float) / (1.0 - np.asarray(shrinkage, float)))


def _check_target(target: np.ndarray, is_sl: bool) -> None:
    bad = ~((target >= 0) & (target <= 1)) if is_sl else ~(target > 0)
    if bad.any():
        what = "service level targets must be fractions from 0 to 1" if is_sl else "ASA targets must be > 0 seconds"
        raise ValueError(f"{what}; got {target[bad][0]!r}")


# -- Erlang C ------------------------------------------------------------------------------
def erlang_b(n, a) -> np.ndarray:
    """Erlang B blocking for integer ``n`` servers and load ``a`` (> 0), exact for large loads."""
    n = np.asarray(n, float)
    a = np.asarray(a, float)
    log_pmf = n * np.log(a) - a - gammaln(n + 1)
    return np.exp(log_pmf) / gammaincc(n + 1, a)


def _pw_from_b(n, a, b):
    return n * b / (n - a * (1 - b))


def erlang_c_metrics(agents, calls, aht_s, interval_min, answer_s) -> dict[str, np.ndarray]:
    """Service level, ASA (s), P(wait) and occupancy for given agents (Erlang C).

    Where agents <= load the queue is unstable: service level 0, ASA and P(wait) infinite/1.
    """
    n = np.asarray(agents, float)
    a = traffic(calls, aht_s, interval_min)
    aht = np.asarray(aht_s, float)
    n, a, aht, ans = np.broadcast_arrays(n, a, aht, np.asarray(answer_s, float))
    out = {k: np.empty(n.shape) for k in ("service_level", "asa_s", "p_wait", "occupancy")}
    zero = a <= 0
    stable = ~zero & (n > a)
    unstable = ~zero & ~stable
    if stable.any():
        ns, as_ = n[stable], a[stable]
        pw = _pw_from_b(ns, as_, erlang_b(ns, as_))
        out["p_wait"][stable] = pw
        out["service_level"][stable] = np.maximum(0, 1 - pw * np.exp(-(ns - as_) * (ans[stable] / aht[stable])))
        out["asa_s"][stable] = pw * aht[stable] / (ns - as_)
        out["occupancy"][stable] = as_ / ns
    out["service_level"][unstable], out["asa_s"][unstable], out["p_wait"][unstable] = 0.0, np.inf, 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        out["occupancy"][unstable] = np.where(n[unstable] > 0, 1.0, np.nan)
    out["service_level"][zero], out["asa_s"][zero], out["p_wait"][zero], out["occupancy"][zero] = 1.0, 0.0, 0.0, 0.0
    return out


def erlang_c_agents(calls, aht_s, interval_min, answer_s, sl=None, asa_s=None,
                    max_occupancy=1.0) -> np.ndarray:
    """Least agents meeting a service level ``sl`` (fraction within ``answer_s``) or an ASA target.

    Exactly pyworkforce's ``ErlangC.required_positions(...)["raw_positions"]`` for the SL target.
    Zero-load rows get 0.
    """
    a = traffic(calls, aht_s, interval_min)
    shape = a.shape
    a = a.ravel()
    aht = np.broadcast_to(np.asarray(aht_s, float), shape).ravel()
    ans = np.broadcast_to(np.asarray(answer_s, float), shape).ravel()
    occ = np.broadcast_to(np.asarray(max_occupancy, float), shape).ravel()
    use_sl = sl is not None
    target = np.broadcast_to(np.asarray(sl if use_sl else asa_s, float), shape).ravel()
    _check_target(target, use_sl)
    result = np.zeros(a.size, np.int64)
    idx = np.flatnonzero(a > 0)
    aa = a[idx]
    n = np.round(aa + 1)                           # round half to even, like Python's round()
    inv_b = 1.0 / erlang_b(n, aa)
    ratio = (ans / aht)[idx]
    goal = target[idx]
    if use_sl:                                     # SL >= goal  <=>  Pw * exp(-(n-A) r) <= 1 - goal
        with np.errstate(divide="ignore"):
            goal = np.log1p(-goal)
    else:
        goal = goal / aht[idx]                     # ASA <= goal  <=>  Pw / (n - A) <= goal / aht
    while idx.size:
        b = 1.0 / inv_b
        pw = _pw_from_b(n, aa, b)
        if use_sl:
            with np.errstate(divide="ignore"):
                ok = np.log(pw) - (n - aa) * ratio <= goal
            ok |= goal == 0                        # a zero target is met by the first count
        else:
            ok = pw / (n - aa) <= goal
        ok |= n > aa + SEARCH_LIMIT
        result[idx[ok]] = n[ok]
        if ok.any():
            keep = ~ok
            idx, n, inv_b, aa, ratio, goal = idx[keep], n[keep], inv_b[keep], aa[keep], ratio[keep], goal[keep]
        n = n + 1
        with np.errstate(over="ignore"):             # 1/B overflows to inf far above the load: B = 0
            inv_b = 1 + inv_b * n / aa
    pos = a > 0
    capped = pos & (a / np.maximum(result, 1) > occ)
    result[capped] = np.ceil(a[capped] / occ[capped]).astype(np.int64)
    return result.reshape(shape)


# -- Erlang A ------------------------------------------------------------------------------
def _tail(c, lam, mu, theta, head_mass):
    """Unnormalised tail r[j] = p[c+j]/p[c] up to pyworkforce's truncation, padded with 0."""
    width = 64
    while True:
        k = np.arange(1, width + 1)
        ratio = lam[:, None] / (c[:, None] * mu[:, None] + k[None, :] * theta[:, None])
        r = np.concatenate([np.ones((c.size, 1)), np.cumprod(ratio, axis=1)], axis=1)
        total = head_mass[:, None] + np.cumsum(r, axis=1)
        small = r[:, 1:] < TAIL_EPS * total[:, 1:]
        if small.any(axis=1).all():
            stop = small.argmax(axis=1) + 1           # index of the last term kept
            r[np.arange(width + 1)[None, :] > stop[:, None]] = 0.0
            return r[:, : stop.max() + 1], stop
        width *= 2


def _served_within(q, stop, c, mu, theta, t):
    """Σ_j q[j] · P(a customer with j ahead is served within t), by uniformization."""
    rate = c * mu + stop * theta + theta             # pyworkforce's uniformization rate
    lt = rate * t
    # Poisson(lt) mass beyond lt + 8 sd + 15 is below 1e-15 (pyworkforce takes 10 sd + 50)
    steps = (lt + 8 * np.sqrt(lt) + 15).astype(np.int64)
    width = q.shape[1]
    j = np.arange(width)[None, :]
    advance = (c * mu)[:, None] + j * theta[:, None]
    stay = 1 - (advance + theta[:, None]) / rate[:, None]
    move = (advance / rate[:, None])[:, 1:]
    serve = c * mu / rate
    dist = q.copy()
    moved = np.empty_like(move)
    served = np.zeros(c.size)
    result = np.zeros(c.size)
    log_lt = np.log(lt)
    for k in range(1, int(steps.max()) + 1):
        served += dist[:, 0] * serve
        np.multiply(dist[:, 1:], move, out=moved)
        dist *= stay
        dist[:, :-1] += moved
        weight = np.exp(k * log_lt - lt - math.lgamma(k + 1))
        weight[k > steps] = 0.0
        result += weight * served
    return result


def erlang_a_metrics(agents, calls, aht_s, interval_min, answer_s, patience_s) -> dict[str, np.ndarray]:
    """Service level, ASA (s), P(wait), occupancy and abandonment for given agents (Erlang A)."""
    arrays = np.broadcast_arrays(*(np.asarray(x, float) for x in
                                   (agents, calls, aht_s, interval_min, answer_s, patience_s)))
    c, calls_, aht, interval, ans, patience = (x.ravel() for x in arrays)
    out = {k: np.zeros(c.size) for k in ("service_level", "asa_s", "p_wait", "occupancy", "abandon")}
    out["service_level"][:] = 1.0
    live = (calls_ > 0) & (c > 0)
    nobody = (calls_ > 0) & (c <= 0)                  # contacts but no agents: nobody is answered
    out["service_level"][nobody], out["p_wait"][nobody], out["abandon"][nobody] = 0.0, 1.0, 1.0
    out["asa_s"][nobody] = np.inf
    if live.any():
        order = np.flatnonzero(live)
        order = order[np.argsort(c[order], kind="stable")]          # similar sizes share a chunk
        for chunk in np.array_split(order, max(1, order.size // 2048)):
            for key, val in _erlang_a_chunk(c[chunk], calls_[chunk], aht[chunk], interval[chunk],
                                            ans[chunk], patience[chunk]).items():
                out[key][chunk] = val
    return {k: v.reshape(arrays[0].shape) for k, v in out.items()}


def _erlang_a_chunk(c, calls, aht_s, interval_min, answer_s, patience_s):
    lam = calls / interval_min                      # per minute, as pyworkforce
    mu = 1.0 / (aht_s / 60.0)
    theta = 1.0 / (patience_s / 60.0)
    a = lam / mu
    b = erlang_b(c, a)
    with np.errstate(divide="ignore", invalid="ignore"):   # far above the load B = 0: all mass is head
        return _erlang_a_from_b(c, lam, mu, theta, b, answer_s)


def _erlang_a_from_b(c, lam, mu, theta, b, answer_s):
    head = 1.0 / b - 1.0                              # Σ_{n<c} p_n / p_c
    r, stop = _tail(c, lam, mu, theta, head)
    z = head + r.sum(axis=1)
    q = r / z[:, None]
    lq = (q * np.arange(r.shape[1])[None, :]).sum(axis=1)
    p_wait = q.sum(axis=1)
    abandon = theta * lq / lam
    delayed_ok = _served_within(q, stop, c, mu, theta, answer_s / 60.0)
    out = {"service_level": np.minimum(1.0, head / z + delayed_ok), "p_wait": p_wait,
           "abandon": abandon, "occupancy": lam * (1 - abandon) / (c * mu), "asa_s": lq / lam * 60.0}
    far = ~np.isfinite(head)
    if far.any():
        out["service_level"][far], out["p_wait"][far], out["abandon"][far], out["asa_s"][far] = 1.0, 0.0, 0.0, 0.0
        out["occupancy"][far] = (lam / (c * mu))[far]
    return out


def erlang_a_agents(calls, aht_s, interval_min, answer_s, patience_s, sl=None, asa_s=None,
                    max_occupancy=1.0, max_abandon=1.0) -> np.ndarray:
    """Least agents from ``max(1, ceil(A))`` meeting SL (or ASA), occupancy and abandonment caps.

    Exactly pyworkforce's ``ErlangA.required_positions(...)["raw_positions"]``. Zero-load rows: 0.
    """
    cols = np.broadcast_arrays(*(np.asarray(x, float) for x in (calls, aht_s, interval_min, answer_s, patience_s,
                                                                  max_occupancy, max_abandon,
                                                                  sl if sl is not None else asa_s)))
    calls_, aht, interval, ans, pat, occ, ab, target = (x.ravel() for x in cols)
    _check_target(target, sl is not None)
    a = traffic(calls_, aht, interval)
    result = np.zeros(a.size, np.int64)
    idx = np.flatnonzero(a > 0)
    if not idx.size:
        return result.reshape(cols[0].shape)

    def meets(rows, agents):
        m = erlang_a_metrics(agents, calls_[rows], aht[rows], interval[rows], ans[rows], pat[rows])
        goal = m["service_level"] >= target[rows] if sl is not None else m["asa_s"] <= target[rows]
        return goal & (m["occupancy"] <= occ[rows]) & (m["abandon"] <= ab[rows])

    start = np.maximum(1, np.ceil(a[idx]))
    guess = np.maximum(start, erlang_c_agents(calls_[idx], aht[idx], interval[idx], ans[idx],
                                              sl=target[idx] if sl is not None else None,
                                              asa_s=target[idx] if sl is None else None, max_occupancy=occ[idx]))
    lo, hi = start - 1, guess.astype(float)
    ok = meets(idx, hi)
    limit = a[idx] + SEARCH_LIMIT
    while not ok.all():                              # rare: caps on abandonment need more agents
        hi = np.where(ok, hi, np.minimum(limit, hi + np.maximum(1, hi - lo)))
        ok = ok | meets(idx, hi) | (hi >= limit)
    while True:
        active = np.flatnonzero(hi - lo > 1)
        if not active.size:
            break
        mid = np.floor((lo[active] + hi[active]) / 2)
        good = meets(idx[active], mid)
        hi[active] = np.where(good, mid, hi[active])
        lo[active] = np.where(good, lo[active], mid)
    result[idx] = hi.astype(np.int64)
    return result.reshape(cols[0].shape)


# -- the column-wise layer -----------------------------------------------------------------
DEFAULTS = {"model": "erlang_c", "sl": np.nan, "answer_s": np.nan, "asa_target_s": np.nan, "patience_s": np.nan,
            "shrinkage": 0.0, "max_occupancy": 1.0, "max_abandon": 1.0, "min_agents": 0, "concurrency": 1}


def _with_defaults(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col, default in DEFAULTS.items():
        if col not in out:
            out[col] = default
        elif col != "model":
            out[col] = out[col].astype(float).fillna(default)
    out["model"] = out["model"].fillna("erlang_c")
    return out


def requirements(frame: pd.DataFrame) -> pd.DataFrame:
    """Add staffing columns to a frame of intervals, computed for all rows at once.

    Input columns: ``calls``, ``aht_s``, ``interval_min``; a target, either ``sl`` (a fraction)
    with ``answer_s`` or ``asa_target_s``; optional ``model`` (``erlang_c``/``erlang_a``),
    ``patience_s`` (Erlang A), ``shrinkage``, ``max_occupancy``, ``max_abandon``, ``min_agents``,
    ``concurrency``. Output columns: ``agents`` (productive agents needed), ``scheduled`` (with
    shrinkage), ``service_level``, ``asa_s``, ``p_wait``, ``occupancy`` and ``abandon`` (Erlang A
    only; NaN for Erlang C), all at the agents returned.
    """
    f = _with_defaults(frame)
    k = f["concurrency"].to_numpy(float)
    servers = np.zeros(len(f), np.int64)
    for model, solve in (("erlang_c", erlang_c_agents), ("erlang_a", erlang_a_agents)):
        rows = (f["model"] == model).to_numpy()
        if not rows.any():
            continue
        part = f[rows]
        use_sl = part["sl"].notna().to_numpy()
        args = dict(calls=part["calls"].to_numpy(float), aht_s=part["aht_s"].to_numpy(float),
                    interval_min=part["interval_min"].to_numpy(float),
                    answer_s=part["answer_s"].fillna(0).to_numpy(float),
                    max_occupancy=part["max_occupancy"].to_numpy(float))
        if model == "erlang_a":
            args.update(patience_s=part["patience_s"].to_numpy(float), max_abandon=part["max_abandon"].to_numpy(float))
        got = np.zeros(len(part), np.int64)
        for flag in (True, False):
            sel = use_sl == flag
            if sel.any():
                sub = {key: val[sel] for key, val in args.items()}
                target = (part["sl"] if flag else part["asa_target_s"]).to_numpy(float)[sel]
                got[sel] = solve(**sub, **({"sl": target} if flag else {"asa_s": target}))
        servers[rows] = got
    agents = np.maximum(ceil_tol(servers / k), f["min_agents"].to_numpy(np.int64))
    return _attach(frame, f, agents)


def metrics_at(frame: pd.DataFrame, agents) -> pd.DataFrame:
    """``frame`` (columns as for :func:`requirements`) with the metrics at the given agents."""
    return _attach(frame, _with_defaults(frame), np.asarray(agents, np.int64))


def _attach(frame: pd.DataFrame, f: pd.DataFrame, agents: np.ndarray) -> pd.DataFrame:
    """``frame`` with the metrics at ``agents`` (times concurrency sessions) and shrinkage."""
    out = frame.copy()
    out["agents"] = agents
    out["scheduled"] = scheduled_agents(agents, f["shrinkage"].to_numpy(float))
    servers = agents * f["concurrency"].to_numpy(float)
    for col in OUTPUT_COLUMNS[2:]:
        out[col] = np.nan
    for model in ("erlang_c", "erlang_a"):
        rows = (f["model"] == model).to_numpy()
        if not rows.any():
            continue
        p = f[rows]
        common = (servers[rows], p["calls"].to_numpy(float), p["aht_s"].to_numpy(float),
                  p["interval_min"].to_numpy(float), p["answer_s"].fillna(0).to_numpy(float))
        m = erlang_c_metrics(*common) if model == "erlang_c" else erlang_a_metrics(*common, p["patience_s"].to_numpy(float))
        for col, val in m.items():
            out.loc[rows, col] = val
    no_target = f["sl"].isna() | f["answer_s"].isna()
    out.loc[no_target.to_numpy(), "service_level"] = np.nan
    return out


def deadline_requirements(frame: pd.DataFrame) -> pd.DataFrame:
    """E-mail/back-office staffing: each interval's work spread over the next ``deadline_h`` hours.

    Input: ``queue``, ``interval_start`` (the queue's open intervals), ``calls``, ``aht_s``,
    ``interval_min``, ``deadline_h``; optional ``max_occupancy``, ``shrinkage``, ``min_agents``.
    Work arriving in an interval is shared evenly by the queue's open intervals from that one up
    to ``deadline_h`` later, so each is answered within its deadline if agents work at
    ``max_occupancy``. Output as :func:`requirements`; queueing metrics are NaN, ``occupancy``
    is the workload over the agents.
    """
    f = _with_defaults(frame).sort_values(["queue", "interval_start"], kind="stable")
    load = np.zeros(len(f))
    for _, part in f.groupby("queue", sort=False):
        t = part["interval_start"].to_numpy("datetime64[ns]")
        window = (part["deadline_h"].to_numpy(float) * 3.6e12).astype("timedelta64[ns]")
        end = np.searchsorted(t, t + window, side="left")
        start = np.arange(len(t))
        share = part["calls"].to_numpy(float) * part["aht_s"].to_numpy(float) / np.maximum(end - start, 1)
        acc = np.zeros(len(t) + 1)
        np.add.at(acc, start, share)
        np.add.at(acc, end, -share)
        load[f.index.get_indexer(part.index)] = np.cumsum(acc)[:-1]
    interval_s = f["interval_min"].to_numpy(float) * 60
    erlangs = load / interval_s
    agents = np.maximum(ceil_tol(erlangs / f["max_occupancy"].to_numpy(float)), f["min_agents"].to_numpy(np.int64))
    out = frame.loc[f.index].copy()
    out["agents"] = agents
    out["scheduled"] = scheduled_agents(agents, f["shrinkage"].to_numpy(float))
    out["service_level"] = out["asa_s"] = out["p_wait"] = out["abandon"] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        out["occupancy"] = np.where(agents > 0, erlangs / agents, 0.0)
    return out.loc[frame.index]


# -- staffing a stored forecast --------------------------------------------------------------
def quantile_calls(forecast: pd.DataFrame, quantile: float | None) -> np.ndarray:
    """Contacts at a forecast quantile, from the 80 % band under a normal error shape.

    ``hi_80`` is the 0.9 quantile, so 0.9 gives ``hi_80`` exactly; other quantiles scale the
    band's half-width by the normal z-ratio. ``None`` gives the mean forecast.
    """
    mean = forecast["forecast"].to_numpy(float)
    if quantile is None:
        return mean
    from scipy.stats import norm

    z = norm.ppf(quantile) / norm.ppf(0.9)
    band = (forecast["hi_80"] if quantile >= 0.5 else forecast["lo_80"]).to_numpy(float)
    half = np.where(np.isnan(band), 0.0, np.abs(band - mean))
    return np.maximum(0.0, mean + z * half)


def staff_forecast(forecast: pd.DataFrame, config, quantile: float | None = None,
                   model: str = "erlang_c") -> pd.DataFrame:
    """Requirements per queue and interval of a forecast (``queue, interval_start, forecast, ...``).

    Each queue's settings come from the config; the forecast's ``aht_s`` is used where given,
    else the queue's default. E-mail queues use :func:`deadline_requirements`.
    """
    f = forecast.copy()
    f["calls"] = quantile_calls(f, quantile)
    settings = pd.DataFrame([{
        "queue": q.name, "channel": q.channel, "default_aht_s": q.aht_s, "sl": (q.sl_pct or np.nan) / 100,
        "answer_s": q.answer_s, "asa_target_s": q.asa_s, "patience_s": q.patience_s, "shrinkage": q.shrinkage,
        "max_occupancy": q.max_occupancy, "min_agents": q.min_agents, "concurrency": q.concurrency,
        "deadline_h": q.deadline_h} for q in config.queues])
    f = f.merge(settings, on="queue", how="left", validate="many_to_one")
    aht = f["aht_s"] if "aht_s" in f else pd.Series(np.nan, index=f.index)
    f["aht_s"] = aht.where(aht > 0, f["default_aht_s"])
    f["interval_min"] = config.interval_min
    f["model"] = model
    email = (f["channel"] == "email").to_numpy()
    parts = []
    if (~email).any():
        parts.append(requirements(f[~email].drop(columns=["deadline_h"])))
    if email.any():
        parts.append(deadline_requirements(f[email]))
    out = pd.concat(parts).sort_values(["queue", "interval_start"], kind="stable")
    keep = ["queue", "interval_start", "calls", "aht_s", "agents", "scheduled", "service_level", "asa_s",
            "p_wait", "occupancy", "abandon"]
    return out[keep].reset_index(drop=True)


def daily_summary(req: pd.DataFrame, interval_min: int) -> pd.DataFrame:
    """Per queue and day: contacts, required and scheduled agent-hours, peak agents."""
    hours = interval_min / 60
    day = pd.to_datetime(req["interval_start"]).dt.date
    g = req.assign(day=day, agent_hours=req["agents"] * hours, scheduled_hours=req["scheduled"] * hours)
    return g.groupby(["queue", "day"], as_index=False).agg(
        contacts=("calls", "sum"), agent_hours=("agent_hours", "sum"),
        scheduled_hours=("scheduled_hours", "sum"), peak_agents=("agents", "max")).round(1)


def staff_run(runs, config, run_id: int | None = None, quantile: float | None = None,
              model: str = "erlang_c") -> dict:
    """Staff a stored forecast run at the mean and, if given, a quantile; store both with the run."""
    from forecaster.errors import UserError

    run_id = run_id or runs.latest("forecast")
    if run_id is None:
        raise UserError("the store holds no forecast run yet; run 'forecaster forecast' first")
    run = runs.get(run_id)
    if run is None or run["kind"] not in ("forecast", "nightly"):
        raise UserError(f"run {run_id} is not a forecast run; 'forecaster status' shows the runs")
    if model == "erlang_a":
        lacking = [q.name for q in config.queues if q.channel != "email" and q.patience_s is None]
        if lacking:
            raise UserError(f"--model erlang_a needs patience_s for queue(s) {', '.join(lacking)}; add it to the config")
    forecast = runs.forecast(run_id)
    out = {"run_id": run_id, "mean": staff_forecast(forecast, config, None, model)}
    runs.save_requirements(run_id, "mean", out["mean"])
    if quantile is not None:
        out["quantile"] = staff_forecast(forecast, config, quantile, model)
        runs.save_requirements(run_id, f"q{quantile:.2f}", out["quantile"])
    return out
