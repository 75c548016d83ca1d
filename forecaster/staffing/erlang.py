"""Vectorised Erlang C and Erlang A staffing, pinned to pyworkforce 0.5.4 by tests.

pyworkforce computes one interval at a time in pure Python; these functions take arrays (or a
frame of intervals) and compute every interval at once with NumPy. The maths and the search
rules are pyworkforce's, so the agents agree exactly:

* Erlang C: traffic ``A = contacts / interval_min * aht_min``; the search starts at Python-style
  ``round(A + 1)`` and takes the first agent count whose service level reaches the target. When
  the occupancy at that count exceeds ``max_occupancy``, the count becomes ``ceil(A / max_occ)``
  (ignoring float noise below 1e-9, where pyworkforce would add an agent).
  Erlang B at the start count is the sum of :func:`erlang_b` (exact, no overflow at 5,000+
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
free session slot. E-mail: no queueing model; each interval's work (``contacts * aht_s``) is spread
evenly over the queue's open intervals in the following ``deadline_h`` hours, and agents cover
that workload at ``max_occupancy``.
"""

from __future__ import annotations

import math

import numpy as np

TAIL_EPS = 1e-15           # pyworkforce's truncation of the Erlang A chain


ROUND_TOL = 1e-9           # tolerance when rounding agents up for shrinkage or concurrency


SEARCH_LIMIT = 100_000     # agents above the load at which a search gives up (as pyworkforce)


MAX_LOAD = 1_000_000.0     # Erlangs: a million agents busy at once is no contact centre (a unit slip:
                           # hours for seconds); Erlang B's sum would run for minutes beyond it


def traffic(contacts, aht_s, interval_min) -> np.ndarray:
    """Offered load in Erlangs, computed as pyworkforce does (``contacts / interval * aht_min``)."""
    return (np.asarray(contacts, float) / np.asarray(interval_min, float)) * (np.asarray(aht_s, float) / 60.0)


def ceil_tol(x) -> np.ndarray:
    """Round up, ignoring float noise of up to 1e-9 above an integer."""
    return np.ceil(np.asarray(x, float) - ROUND_TOL).astype(np.int64)


def with_shrinkage(agents, shrinkage) -> np.ndarray:
    """Agents to schedule so that ``agents`` remain after ``shrinkage`` (a fraction)."""
    return ceil_tol(np.asarray(agents, float) / (1.0 - np.asarray(shrinkage, float)))


def check_load(a: np.ndarray) -> None:
    """Raise ValueError for an offered load that is not a number or above :data:`MAX_LOAD`."""
    bad = ~(np.asarray(a, float) <= MAX_LOAD)
    if bad.any():
        raise ValueError(f"offered loads must be numbers of Erlangs up to {MAX_LOAD:,.0f}; got {np.asarray(a)[bad][0]!r}")


def _check_target(target: np.ndarray, is_sl: bool) -> None:
    bad = ~((target >= 0) & (target <= 1)) if is_sl else ~(target > 0)
    if bad.any():
        what = "service level targets must be fractions from 0 to 1" if is_sl else "ASA targets must be > 0 seconds"
        raise ValueError(f"{what}; got {target[bad][0]!r}")


# -- Erlang C ------------------------------------------------------------------------------
def erlang_b(n, a) -> np.ndarray:
    """Erlang B blocking for integer ``n`` servers and load ``a`` (> 0).

    ``1/B = sum_k n! / ((n-k)! a^k)``, k = 0..n, summed up to the term where the rest is below
    1e-17 of the sum: past the largest term (k = n - a) each term shrinks by at least
    ``exp(-j / a)``, so 9 sqrt(a) + 10 more are enough. Exact to about 1e-15 (5e-14 at worst from
    0.01 to 1,500 Erlangs, against exact fractions); scipy's regularised incomplete gamma, used
    before, was off by up to 3e-13 near 500 Erlangs, and its import took longer than this sum on
    336,000 intervals. Far above the load the terms overflow: B is 0 there (below 1e-300).
    """
    n, a = np.broadcast_arrays(np.asarray(n, float), np.asarray(a, float))
    check_load(a)
    shape = n.shape
    n, a = n.ravel(), a.ravel()
    need = np.minimum(n, np.ceil(np.maximum(0.0, n - a) + 9 * np.sqrt(a) + 10)).astype(np.int64)
    order = np.argsort(-need, kind="stable")        # rows needing the most terms first: the rows
    ns, inv_a, fewer = n[order], 1.0 / a[order], -need[order]   # still summing are a prefix
    total, term = np.ones(n.size), np.ones(n.size)
    with np.errstate(over="ignore"):
        for k in range(1, need.max(initial=0) + 1):
            live = np.searchsorted(fewer, -k, side="right")
            t = term[:live]
            t *= (ns[:live] - (k - 1)) * inv_a[:live]
            total[:live] += t
    out = np.empty(n.size)
    out[order] = 1.0 / total
    return out.reshape(shape)


def _pw_from_b(n, a, b):
    return n * b / (n - a * (1 - b))


def erlang_c_metrics(agents, contacts, aht_s, interval_min, answer_s, p_wait=None) -> dict[str, np.ndarray]:
    """Service level, ASA (s), P(wait) and occupancy for given agents (Erlang C).

    Where agents <= load the queue is unstable: service level 0, ASA and P(wait) infinite/1.
    ``p_wait``, where given (not NaN), is P(wait) at these agents already known (from
    :func:`erlang_c_search`), which spares computing Erlang B again.
    """
    n = np.asarray(agents, float)
    a = traffic(contacts, aht_s, interval_min)
    aht = np.asarray(aht_s, float)
    known = np.asarray(np.nan if p_wait is None else p_wait, float)
    n, a, aht, ans, known = np.broadcast_arrays(n, a, aht, np.asarray(answer_s, float), known)
    out = {k: np.empty(n.shape) for k in ("service_level", "asa_s", "p_wait", "occupancy")}
    zero = a <= 0
    stable = ~zero & (n > a)
    unstable = ~zero & ~stable
    if stable.any():
        ns, as_, pw = n[stable], a[stable], known[stable]
        todo = np.isnan(pw)
        pw[todo] = _pw_from_b(ns[todo], as_[todo], erlang_b(ns[todo], as_[todo]))
        out["p_wait"][stable] = pw
        out["service_level"][stable] = np.maximum(0, 1 - pw * np.exp(-(ns - as_) * (ans[stable] / aht[stable])))
        out["asa_s"][stable] = pw * aht[stable] / (ns - as_)
        out["occupancy"][stable] = as_ / ns
    out["service_level"][unstable], out["asa_s"][unstable], out["p_wait"][unstable] = 0.0, np.inf, 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        out["occupancy"][unstable] = np.where(n[unstable] > 0, 1.0, np.nan)
    out["service_level"][zero], out["asa_s"][zero], out["p_wait"][zero], out["occupancy"][zero] = 1.0, 0.0, 0.0, 0.0
    return out


def erlang_c_agents(contacts, aht_s, interval_min, answer_s, sl=None, asa_s=None,
                    max_occupancy=1.0) -> np.ndarray:
    """Least agents meeting a service level ``sl`` (fraction within ``answer_s``) or an ASA target.

    Exactly pyworkforce's ``ErlangC.required_positions(...)["raw_positions"]`` for the SL target.
    Zero-load rows get 0.
    """
    return erlang_c_search(contacts, aht_s, interval_min, answer_s, sl, asa_s, max_occupancy)[0]


SEARCH_STEPS = 4    # counts tried between two compactions of the rows still searching


def erlang_c_search(contacts, aht_s, interval_min, answer_s, sl=None, asa_s=None,
                    max_occupancy=1.0) -> tuple[np.ndarray, np.ndarray]:
    """:func:`erlang_c_agents`, and P(wait) at those agents where the search computed it (NaN
    where it did not: zero load, counts raised by the occupancy cap)."""
    a = traffic(contacts, aht_s, interval_min)
    shape = a.shape
    a = a.ravel()
    aht = np.broadcast_to(np.asarray(aht_s, float), shape).ravel()
    ans = np.broadcast_to(np.asarray(answer_s, float), shape).ravel()
    occ = np.broadcast_to(np.asarray(max_occupancy, float), shape).ravel()
    use_sl = sl is not None
    target = np.broadcast_to(np.asarray(sl if use_sl else asa_s, float), shape).ravel()
    _check_target(target, use_sl)
    check_load(a)
    result = np.zeros(a.size, np.int64)
    p_wait = np.full(a.size, np.nan)
    idx = np.flatnonzero(a > 0)
    aa = a[idx]
    n = np.round(aa + 1)                           # round half to even, like Python's round()
    inv_b = 1.0 / erlang_b(n, aa)
    ratio = (ans / aht)[idx]
    if use_sl:
        # SL >= goal  <=>  Pw * exp(-(n-A) r) <= 1 - goal, with Pw = n / (1/B * (n-A) + A); the
        # right side grows by exp(r) per agent, kept by a product instead of a log per count
        # (beyond exp(700) per agent, which no finite P(wait) reaches, the factor stops growing)
        grow = np.exp(np.minimum(ratio, 700.0))
        with np.errstate(over="ignore"):
            room = (1 - target[idx]) * grow ** (n - aa)
        met_at_once = target[idx] == 0             # a zero target is met by the first count
    else:                                          # ASA <= goal  <=>  Pw / (n - A) <= goal / aht
        room, grow, met_at_once = target[idx] / aht[idx], np.ones(idx.size), np.zeros(idx.size, bool)
    found = np.zeros(idx.size, bool)
    while idx.size:
        # a few counts on every row still searching, then drop the rows that found theirs: dropping
        # rows after each count copies more than the counts themselves cost
        for _ in range(SEARCH_STEPS):
            gap = n - aa
            pw = n / (inv_b * gap + aa)
            ok = (pw <= room) if use_sl else (pw / gap <= room)
            ok |= met_at_once
            ok |= gap > SEARCH_LIMIT
            ok &= ~found
            result[idx[ok]] = n[ok]
            p_wait[idx[ok]] = pw[ok]
            found |= ok
            n += 1
            with np.errstate(over="ignore"):             # 1/B overflows to inf far above the load: B = 0
                room *= grow
                inv_b = 1 + inv_b * n / aa
        keep = ~found
        idx, n, inv_b, aa, room, grow, met_at_once = (x[keep] for x in (idx, n, inv_b, aa, room, grow, met_at_once))
        found = found[keep]
    pos = a > 0
    # float noise must not cost an agent: 63 calls / 30 min at 180 s is 6.3 Erlangs, and 6.3 / 0.7 =
    # 9.000000000000002; 9 agents run at exactly 70 %, so a 70 % cap needs 9, not 10 (pyworkforce: 10)
    capped = pos & (a / np.maximum(result, 1) > occ + ROUND_TOL)
    result[capped] = ceil_tol(a[capped] / occ[capped])
    p_wait[capped] = np.nan
    return result.reshape(shape), p_wait.reshape(shape)


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
    last = int(steps.max())
    # mass j places back needs j more steps to be served: at step k, places beyond last - k can no
    # longer be served within the steps counted, so they are dropped (exactly: they never reach 0)
    width = min(q.shape[1], last + 1)
    # places down the rows, intervals along them: every step's slices are whole contiguous blocks,
    # updated in place (3.4 x faster than intervals down the rows, same numbers to the bit)
    j = np.arange(width)[:, None]
    advance = (c * mu)[None, :] + j * theta[None, :]
    stay = 1 - (advance + theta[None, :]) / rate[None, :]
    move = np.ascontiguousarray((advance / rate[None, :])[1:])
    serve = c * mu / rate
    dist = np.ascontiguousarray(q[:, :width].T)
    moved = np.empty_like(dist)
    served = np.zeros(c.size)
    result = np.zeros(c.size)
    weight = np.empty(c.size)
    log_lt = np.log(lt)
    for k in range(1, last + 1):
        w = min(width, last - k + 1)
        served += dist[0] * serve
        if w > 1:
            np.multiply(dist[1:w], move[: w - 1], out=moved[: w - 1])
            d = dist[:w]
            d *= stay[:w]
            d[:-1] += moved[: w - 1]
        np.exp(k * log_lt - lt - math.lgamma(k + 1), out=weight)
        weight[k > steps] = 0.0
        result += weight * served
    return result


def erlang_a_metrics(agents, contacts, aht_s, interval_min, answer_s, patience_s) -> dict[str, np.ndarray]:
    """Service level, ASA (s), P(wait), occupancy and abandonment for given agents (Erlang A)."""
    arrays = np.broadcast_arrays(*(np.asarray(x, float) for x in
                                   (agents, contacts, aht_s, interval_min, answer_s, patience_s)))
    c, contacts_, aht, interval, ans, patience = (x.ravel() for x in arrays)
    out = {k: np.zeros(c.size) for k in ("service_level", "asa_s", "p_wait", "occupancy", "abandon")}
    out["service_level"][:] = 1.0
    live = (contacts_ > 0) & (c > 0)
    nobody = (contacts_ > 0) & (c <= 0)                  # contacts but no agents: nobody is answered
    out["service_level"][nobody], out["p_wait"][nobody], out["abandon"][nobody] = 0.0, 1.0, 1.0
    out["asa_s"][nobody] = np.inf
    if live.any():
        order = np.flatnonzero(live)
        # similar service rates share a chunk: the uniformisation's steps grow with c * mu, and a
        # chunk runs as many as its largest row needs
        order = order[np.argsort(c[order] / aht[order], kind="stable")]
        for chunk in np.array_split(order, max(1, order.size // 2048)):
            for key, val in _erlang_a_chunk(c[chunk], contacts_[chunk], aht[chunk], interval[chunk],
                                            ans[chunk], patience[chunk]).items():
                out[key][chunk] = val
    return {k: v.reshape(arrays[0].shape) for k, v in out.items()}


def _erlang_a_chunk(c, contacts, aht_s, interval_min, answer_s, patience_s):
    lam = contacts / interval_min                      # per minute, as pyworkforce
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


WALK_STEPS = 3      # counts tried one by one from max(1, ceil(A)) before bisecting ...
WALK_PATIENCE = 1.5  # ... where callers' patience is below this many handling times


def erlang_a_agents(contacts, aht_s, interval_min, answer_s, patience_s, sl=None, asa_s=None,
                    max_occupancy=1.0, max_abandon=1.0) -> np.ndarray:
    """Least agents from ``max(1, ceil(A))`` meeting SL (or ASA), occupancy and abandonment caps.

    Exactly pyworkforce's ``ErlangA.required_positions(...)["raw_positions"]``. Zero-load rows: 0.
    """
    cols = np.broadcast_arrays(*(np.asarray(x, float) for x in (contacts, aht_s, interval_min, answer_s, patience_s,
                                                                  max_occupancy, max_abandon,
                                                                  sl if sl is not None else asa_s)))
    contacts_, aht, interval, ans, pat, occ, ab, target = (x.ravel() for x in cols)
    _check_target(target, sl is not None)
    a = traffic(contacts_, aht, interval)
    check_load(a)
    result = np.zeros(a.size, np.int64)
    idx = np.flatnonzero(a > 0)
    if not idx.size:
        return result.reshape(cols[0].shape)

    def meets(rows, agents):
        m = erlang_a_metrics(agents, contacts_[rows], aht[rows], interval[rows], ans[rows], pat[rows])
        goal = m["service_level"] >= target[rows] if sl is not None else m["asa_s"] <= target[rows]
        return goal & (m["occupancy"] <= occ[rows] + ROUND_TOL) & (m["abandon"] <= ab[rows])

    start = np.maximum(1, np.ceil(a[idx]))
    # impatient callers leave, so Erlang A then needs max(1, ceil(A)) agents or a few more (on the
    # 33,600-interval week, patience 30-300 s and handling 180-600 s: 0 more for half the intervals, at
    # most 4): walk up a few counts first, which settles most rows in one or two evaluations, and
    # bisect only what is left. Patient callers' answers lie near Erlang C's: straight to bisection.
    walk = pat[idx] < WALK_PATIENCE * aht[idx]
    rest, rest_start = idx[~walk], start[~walk]
    idx, start = idx[walk], start[walk]
    for _ in range(WALK_STEPS if idx.size else 0):
        good = meets(idx, start)
        result[idx[good]] = start[good].astype(np.int64)
        idx, start = idx[~good], start[~good] + 1
        if not idx.size:
            break
    idx, start = np.concatenate([idx, rest]), np.concatenate([start, rest_start])
    if not idx.size:
        return result.reshape(cols[0].shape)
    guess = np.maximum(start, erlang_c_agents(contacts_[idx], aht[idx], interval[idx], ans[idx],
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
