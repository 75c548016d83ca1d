"""Campaign impact: the contacts each past campaign caused, what planned ones will add, and
days nobody can explain.

**Past campaigns.** Per queue, daily totals of open days are fitted by least squares on
weekday, trend, yearly Fourier terms (4 harmonics), day-of-month terms, holiday effects (all
scaled by the weekday's volume, :func:`~forecaster.features.design.impact_design`) and **one
column per campaign**: its reach spread over its flight days, carried over with its channel's
learned response shape on calendar days or on the queue's activity clock (:func:`learn_shapes`,
:class:`~forecaster.features.adstock.Response`). Estimates are pooled toward their kind's and
channel's means (:func:`shrink`). The counterfactual without campaign
``c`` is the fit minus ``beta_c * x_c``, so the extra contacts it caused on day ``d`` are
``beta_c * x_c[d]`` (actual minus counterfactual, with the day's noise left in the actual).
The fit is weighted least squares with each weekday's residual variance (:func:`fit_queue`:
busy weekdays vary more than quiet ones), and the 80 % interval comes from the coefficient's
standard error under those weights (t quantile), its lower end not below 0 (campaigns add
contacts; a negative estimate keeps its interval); a campaign's total over queues adds the
queues' variances.

**Response per channel.** From the past estimates: lag and decay (the learned carry-over),
the peak day after the start, and contacts per 1,000 reached (total extra over total reach,
per queue), with the 10th-90th percentile of the per-campaign rates.

**Planned campaigns.** Expected extra contacts per queue and day = its kind's (or channel's)
rate per 1,000 x reach x the response shape; the 80 % interval from the spread of campaigns.

**Unexplained spikes.** Days whose actual total exceeds the fit's 95 % upper bound (fit plus
1.96 residual standard deviations, the top of a two-sided 95 % band) with no campaign behind
them (estimated campaign contacts under 2 % of the day's fit), and no holiday, day after a
holiday or bridge day. By chance alone about 1 day in 40 crosses the bound, so the list is a
prompt to ask marketing, sorted by day, not proof.

**Extra agent-hours.** Each day's extra contacts are spread over its intervals by the day's own
intraday shape (actuals for past days, the run's forecast for planned ones); the campaign's
agent-hours are the requirement with them minus the requirement without them.
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, stats
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.tools.sm_exceptions import SingularMatrixWarning

from forecaster.core.config import Config
from forecaster.core.grid import future_grid
from forecaster.features.adstock import (
    ACTIVITY_DECAYS,
    INTRADAY_TAUS,
    Activity,
    Response,
    activity_cdf,
    adstock,
    after_send_weights,
    flight_spans,
    search_shapes,
)
from forecaster.features.design import impact_design
from forecaster.features.holidays import holiday_features
from forecaster.staffing.requirements import staff_forecast

Z80 = stats.norm.ppf(0.9)


MIN_DAYS = 56


def daily_totals(actuals: pd.DataFrame) -> pd.DataFrame:
    """``queue, date, y``: contacts per queue and day (days with actuals only)."""
    day = actuals["interval_start"].dt.normalize().rename("date")
    return actuals.groupby([actuals["queue"], day])["contacts"].sum().rename("y").reset_index()


Shape = Response


LAGS, RAMPS, DECAYS = (0, 1, 2, 3, 4), (0, 1, 2), (0.0, 0.2, 0.35, 0.5, 0.65, 0.8)


RESPONSE_DAYS = 90      # days after the last date in view over which a campaign's response is followed
CLOCK_DAYS = 120        # calendar days after a send over which the activity clock is followed


class Exposures:
    """Each campaign's flight per queue over ``full`` days, and its response column for a shape.

    ``activity`` (per queue) and ``open_days`` (per queue: the days it is open; days before the
    first of them and after the last are taken as open) drive the activity clock of :class:`Response`; without them a
    queue's clock runs a full day every day."""

    def __init__(self, campaigns: pd.DataFrame, queues: list[str], full: pd.DatetimeIndex,
                 activity: dict[str, Activity] | None = None, open_days: dict[str, pd.DatetimeIndex] | None = None):
        # past the last day asked for, so that a campaign's whole response is in view: the share of it
        # that the dates hold (MIN_OBSERVED) is then a share of all of it, not of what fits before the end
        full = full.append(pd.date_range(full[-1] + pd.Timedelta(days=1), periods=RESPONSE_DAYS, freq="D"))
        self.full = full
        self.raw: dict[str, dict[str, np.ndarray]] = {q: {} for q in queues}
        self.flight: dict[str, tuple[int, int, float, pd.Timestamp]] = {}
        self.channel = dict(zip(campaigns["campaign_id"], campaigns["channel"]))
        self.activity = activity or {}
        self.speed: dict[str, np.ndarray] = {}
        self.open: dict[str, np.ndarray] = {}
        for q in queues:
            act = self.activity.get(q, Activity())
            days = open_days.get(q) if open_days else None
            mask = np.ones(len(full), bool) if days is None or not len(days) else \
                full.isin(days) | (full < pd.DatetimeIndex(days).min()) | (full > pd.DatetimeIndex(days).max())
            self.speed[q] = act.speed(full, mask)
            self.open[q] = mask
        self._cache: dict[tuple, np.ndarray] = {}
        self._clock_cache: dict[tuple, tuple] = {}
        # arrays straight from the flights: a campaign_exposure frame per campaign took 1.3 s of every
        # backtest origin on the demo
        for c, (lo, hi, per_day) in zip(campaigns.itertuples(), flight_spans(campaigns, full)):
            if lo > hi:
                continue
            daily = np.zeros(len(full))
            daily[lo:hi + 1] = per_day
            self.flight[c.campaign_id] = (lo, hi, per_day, pd.Timestamp(c.start_ts))
            for q in dict.fromkeys(c.queues):
                if q in self.raw:
                    self.raw[q][c.campaign_id] = daily

    def column(self, queue: str, cid: str, shape: Response) -> np.ndarray:
        """Campaign ``cid``'s response on ``queue`` over ``full`` for ``shape``, per 1,000 reached:
        carry-over height (calendar clock) or share of the response (activity clock)."""
        key = (queue, cid, shape)
        if key not in self._cache:
            self._cache[key] = self.response(queue, (cid,), shape)
        return self._cache[key]

    def response(self, queue: str, cids: tuple[str, ...], shape: Response) -> np.ndarray:
        """The summed response of campaigns ``cids`` on ``queue`` over ``full`` (not cached)."""
        if getattr(shape, "clock", "calendar") != "activity":
            return adstock(sum(self.raw[queue][c] for c in cids), *shape[:3])     # adstock is linear
        pos, clock, weight, first = self._clocks(queue, cids)
        cdf = activity_cdf(clock, shape.lag_days, shape.decay, shape.ramp_days)
        step = np.diff(cdf, prepend=0.0)
        step[first] = cdf[first]                   # each flight day's clock starts from zero
        return np.bincount(pos, weights=step * weight, minlength=len(self.full))

    def _clocks(self, queue: str, cids: tuple[str, ...]) -> tuple[np.ndarray, ...]:
        """Every flight day of ``cids`` on ``queue``, end to end: the day positions it reaches, the
        activity clock since its send at the end of each, its reach per day and where each starts.
        The clock does not depend on the shape, so it is worked out once."""
        key = (queue, cids)
        if key not in self._clock_cache:
            speed, parts = self.speed[queue], []
            for cid in cids:
                lo, hi, per_day, start = self.flight[cid]
                sent = start - start.normalize()
                left = self.activity.get(queue, Activity()).remaining(start) if sent > pd.Timedelta(0) else 1.0
                for f in range(lo, hi + 1):
                    adv = speed[f:f + CLOCK_DAYS].copy()
                    adv[0] *= left
                    parts.append((np.arange(f, f + len(adv)), np.cumsum(adv), np.full(len(adv), per_day)))
            if not parts:
                self._clock_cache[key] = (np.zeros(0, int), np.zeros(0), np.zeros(0), np.zeros(0, int))
            else:
                sizes = np.array([len(p[0]) for p in parts])
                first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
                self._clock_cache[key] = tuple(np.concatenate([p[i] for p in parts]) for i in range(3)) + (first,)
        return self._clock_cache[key]

    def queues_of(self, cid: str) -> list[str]:
        """The queues campaign ``cid`` reaches (in the order of ``queues``)."""
        return [q for q, cids in self.raw.items() if cid in cids]

    def total(self, queue: str, cid: str, shape: Response) -> float:
        """The sum of campaign ``cid``'s column on the days ``queue`` is open, over its whole response:
        contacts per unit of its coefficient (what turns an estimate of contacts into one)."""
        return float(self.column(queue, cid, shape)[self.open[queue]].sum())

    def columns(self, queue: str, dates: pd.DatetimeIndex, shapes: dict[str, Shape]) -> pd.DataFrame:
        """Each campaign's carry-over column on ``dates``, for the campaigns with at least
        MIN_OBSERVED of their response (within ``full``) on those dates. A campaign sent before the
        history starts leaves only a tail of tiny values there: its coefficient is not identifiable
        and least squares made it absurd (-3.6 million per 1,000 reached, with a standard error
        of 1e-5, which then dragged the channel's pooled mean)."""
        pos = self.full.get_indexer(dates)
        out = {}
        for cid in self.raw[queue]:
            whole = self.column(queue, cid, shapes.get(self.channel[cid], DEFAULT))
            col = whole[pos]
            if col.sum() > 0 and col.sum() >= MIN_OBSERVED * whole.sum():
                out[cid] = col
        return pd.DataFrame(out, index=dates)


DEFAULT = Response(0, 0.5, 0)


MIN_OBSERVED = 0.2          # share of a campaign's response the history must hold to measure it


def _open_days(daily: pd.DataFrame, queue: str, hol: pd.DataFrame) -> pd.Series:
    d = daily[daily["queue"] == queue].set_index("date")["y"]
    closed = set(hol.index[hol["closed"] == 1])
    return d[~d.index.isin(closed) & (d > 0)]


MIN_WEEKDAY_DAYS = 8    # open days of a weekday needed before its own noise variance is used


def noise_variance(resid: np.ndarray, dates: pd.DatetimeIndex) -> np.ndarray:
    """Each day's noise variance, from a first fit's residuals: its weekday's mean square. Call
    volume varies more where it is larger (a Saturday of 300 calls by tens, a Monday of 1,800 by
    hundreds); a weekday open on fewer than MIN_WEEKDAY_DAYS days gets the mean square of all days."""
    r2 = pd.Series(resid ** 2)
    wd = np.asarray(dates.weekday)
    by_day = r2.groupby(wd).agg(["mean", "size"])
    overall = float(r2.mean())
    ms = by_day["mean"].where(by_day["size"] >= MIN_WEEKDAY_DAYS, overall)
    v = ms.reindex(wd).to_numpy(float)
    floor = 1e-6 * max(overall, 1e-12)
    return np.where(np.isfinite(v) & (v > floor), v, floor)


def fit_queue(y: pd.Series, base: pd.DataFrame, cmp: pd.DataFrame) -> dict:
    """One queue's open-day totals on the base terms and one column per campaign, by feasible
    generalised least squares (statsmodels' WLS): a first ordinary fit's residuals give each day's
    noise variance (:func:`noise_variance`, its weekday's), and the fit weighted by it gives the
    coefficients and their standard errors. One variance for all days charges an e-mail whose
    response falls on quiet days with the busy days' noise (on the real bank its errors came out
    about twice what they are, so pooling drowned good estimates) and a response on busy days
    with too little. ``sigma`` stays the plain residual standard deviation (the band of
    :func:`unexplained`). A campaign column the history cannot tell apart from the others gets
    no standard error (NaN); statsmodels' warning about the rank-deficient design is expected then."""
    x = np.hstack([base.to_numpy(float), cmp.to_numpy(float)])
    yv = y.to_numpy(float)
    dates = pd.DatetimeIndex(y.index)
    with warnings.catch_warnings():     # rank deficiency is handled below (NaN standard error)
        warnings.simplefilter("ignore", SingularMatrixWarning)
        first = sm.OLS(yv, x).fit()
        wls = sm.WLS(yv, x, weights=1 / noise_variance(yv - first.fittedvalues, dates)).fit()
    fitted = x @ wls.params
    resid = yv - fitted
    dof = max(len(yv) - x.shape[1], 1)
    sigma2 = float(resid @ resid) / dof
    k = base.shape[1]
    var = np.diag(wls.cov_params())[k:]
    var = np.where(np.isfinite(var) & (var > 0), var, np.nan)     # not identifiable from this history: NaN
    return {"dates": dates, "y": yv, "fitted": fitted, "sigma": np.sqrt(sigma2), "dof": dof,
            "columns": cmp, "beta": pd.Series(wls.params[k:], index=cmp.columns),
            "se": pd.Series(np.sqrt(var), index=cmp.columns), "sse": float(resid @ resid)}


CLOCK_GAIN = 0.02       # the activity clock replaces calendar days only when it leaves 2 % less residual error


def shape_candidates(clocks: tuple[str, ...] = ("calendar", "activity")) -> list[Response]:
    """The response shapes tried per channel: calendar-day carry-over and the activity clock."""
    out = []
    if "calendar" in clocks:
        out += [Response(lag, decay, ramp) for lag in LAGS for ramp in RAMPS for decay in DECAYS]
    if "activity" in clocks:
        out += [Response(lag, decay, ramp, "activity") for lag in LAGS for ramp in RAMPS for decay in ACTIVITY_DECAYS]
    return out


def learn_shapes(series: dict[str, pd.Series], bases: dict[str, pd.DataFrame], exp: Exposures,
                 passes: int = 2, kinds: dict[str, str] | None = None) -> tuple[dict[str, Shape], dict]:
    """Each channel's response shape (clock, lag, ramp, decay) by the least residual error of a fit
    with one pooled column per channel and kind (the sum of its campaigns' responses: few
    parameters, so the shape cannot soak up noise), over all queues; one channel at a time, holding
    the others, for ``passes`` rounds. ``kinds``: campaign -> kind (campaigns without one pool
    with their channel).

    A channel's candidates are scored a queue at a time, all at once: with the base terms and
    the other channels' columns projected out, a candidate's residual error is what is left of
    the queue's series minus what its own columns explain (the least-squares fit of all columns
    together, by the projection theorem). Only the other channels' current columns are kept, not
    every candidate's (which took 2.4 GB at 500 queues) and no least-squares call per candidate
    and queue (three quarters of the time). Campaigns add contacts: a candidate whose fit needs
    one of the channel's kinds drawing fewer is scored by its non-negative least-squares fit
    (on a real bank, a TV shape three days late won with negative coefficients on the dips after
    its spots, and its spots were measured at minus their size)."""
    channels = sorted(set(exp.channel.values()))
    shapes = {c: DEFAULT for c in channels}
    kinds = kinds or {}
    groups = {q: {} for q in series}            # queue -> channel -> kind -> campaigns
    for q in series:
        for cid in exp.raw[q]:
            groups[q].setdefault(exp.channel[cid], {}).setdefault(kinds.get(cid), []).append(cid)
    pos = {q: exp.full.get_indexer(y.index) for q, y in series.items()}
    basis = {q: np.linalg.qr(bases[q].to_numpy(float))[0] for q in series}   # project the base out once

    def residual(q, v):
        return v - basis[q] @ (basis[q].T @ v)

    y_r = {q: residual(q, y.to_numpy(float)) for q, y in series.items()}
    held: dict = {}                             # (queue, channel) -> (shape, its columns)

    def columns(q, ch, shape):
        return [residual(q, exp.response(q, tuple(cids), shape)[pos[q]]) for cids in groups[q].get(ch, {}).values()]

    def current(q, ch, shape):
        if held.get((q, ch), (None,))[0] != shape:
            held[(q, ch)] = (shape, columns(q, ch, shape))
        return held[(q, ch)][1]

    def score_all(trial, channel, candidates):
        total = np.zeros(len(candidates))
        for q, y in y_r.items():
            fixed = [c for ch in channels if ch != channel for c in current(q, ch, trial[ch])]
            m = len(groups[q].get(channel, {}))
            n = len(y)
            x = np.stack([np.column_stack(columns(q, channel, c)) for c in candidates]) if m else None
            uf, sf, _ = np.linalg.svd(np.column_stack(fixed), full_matrices=False) if fixed else (None, [0.0], None)
            # lstsq's rank cut-off on all the columns together: singular values below this are noise
            scale = np.maximum(sf[0], np.linalg.svd(x, compute_uv=False)[:, 0]) if m else sf[0]
            tol = np.finfo(float).eps * max(n, len(fixed) + m) * scale
            if fixed:
                u = uf[:, sf > np.max(tol)]             # the other channels' columns, an orthonormal basis
                y = y - u @ (u.T @ y)
                if m:
                    x = x - u @ np.einsum("nr,knm->krm", u, x)
            yy = float(y @ y)
            total += yy
            if m:
                ux, sx, vt = np.linalg.svd(x, full_matrices=False)
                keep = sx > np.reshape(tol, (-1, 1))
                along = np.einsum("knm,n->km", ux, y) * keep
                explained = (along ** 2).sum(axis=1)
                total -= explained
                # the least-squares coefficients; a shape that fits only with a channel (or kind)
                # drawing fewer contacts is scored by its best fit without that: non-negative least squares
                coef = np.einsum("kji,kj->ki", vt, np.divide(along, sx, out=np.zeros_like(along), where=keep))
                for k in np.flatnonzero((coef < 0).any(axis=1)):       # with one column, the fit is 0
                    total[k] += (optimize.nnls(x[k], y)[1] ** 2 if m > 1 else yy) - (yy - explained[k])
        return dict(zip(candidates, total))

    shapes, scores = search_shapes(channels, shapes, shape_candidates(), score_all, passes)
    for ch, tried in scores.items():           # the activity clock must earn its place clearly
        calendar = min((s for s in tried if s.clock == "calendar"), key=tried.get)
        if shapes[ch].clock != "calendar" and tried[shapes[ch]] > (1 - CLOCK_GAIN) * tried[calendar]:
            shapes[ch] = calendar
    return shapes, scores


DEFAULT_CV_WITHIN = 0.5     # campaigns of one kind vary by about half their mean until enough of them say otherwise
DEFAULT_CV_BETWEEN = 0.75   # kinds of one channel vary by about three quarters of the channel's mean
PRIOR_WEIGHT = 2.0          # the default spread of campaigns counts as this many campaigns' worth of evidence
MIN_KINDS = 3               # kinds needed before how much kinds differ is taken from the data alone


def _random_effects(b: np.ndarray, v: np.ndarray, tau2: float | None = None) -> tuple[float, float, float]:
    """Random-effects pooling of estimates ``b`` with variances ``v``: the mean, its variance and the
    spread ``tau2`` beyond the estimates' own noise (statsmodels' Paule-Mandel estimator; 0 with one
    estimate). With ``tau2`` given, only the mean and its variance under that spread."""
    if tau2 is None:
        if len(b) == 1:
            return float(b[0]), float(v[0]), 0.0
        with warnings.catch_warnings():      # its I^2 divides by zero when the estimates agree exactly
            warnings.simplefilter("ignore", RuntimeWarning)
            tau2 = max(0.0, float(combine_effects(b, v, method_re="pm").tau2))
    w = 1 / (v + tau2)
    return float((w * b).sum() / w.sum()), 1 / float(w.sum()), tau2


def _spread(tau2_hat: float, n: int, prior: float) -> float:
    """A spread estimated from ``n`` estimates, with the default ``prior`` counted as PRIOR_WEIGHT
    more: one campaign gets the default, not a band of zero width, and a spread of 0 from three
    campaigns that happened to agree (Paule-Mandel often says 0 on few) is not taken at its word;
    with many campaigns the data decide."""
    dof = max(n - 1, 0)
    return (dof * tau2_hat + PRIOR_WEIGHT * prior) / (dof + PRIOR_WEIGHT)


def _pool_channel(g: pd.DataFrame) -> pd.DataFrame:
    """One queue and channel: campaigns around their kind's mean, kinds around the channel's (spread
    ``tau2_kinds``); a campaign without a kind is a kind of its own.

    Campaigns of a kind vary in proportion to its size (a price change letter that draws 90 calls
    per unit varies by tens, an annual statement that draws 20 by a few): the spread within kinds is
    one coefficient of variation shared by the channel's kinds, ``cv2_within`` (each kind's
    Paule-Mandel spread over its squared mean, pooled by degrees of freedom, with the default
    DEFAULT_CV_WITHIN counted as PRIOR_WEIGHT campaigns), and a kind's spread ``tau2`` is that
    times its squared mean (plus the mean's variance, so a kind near zero is not taken as exact)."""
    b, v = g["beta"].to_numpy(float), g["se"].to_numpy(float) ** 2
    kind = g["kind"].to_numpy(object) if "kind" in g else np.full(len(g), None, dtype=object)
    known = np.array([k is not None and k == k and k != "" for k in kind])
    groups = {k: np.flatnonzero(known & (kind == k)) for k in dict.fromkeys(kind[known])}
    m0, v0, _ = _random_effects(b, v)
    raw = {k: _random_effects(b[i], v[i]) for k, i in groups.items()}       # each kind on its own
    within = [(len(groups[k]) - 1, t / (mk ** 2 + vk)) for k, (mk, vk, t) in raw.items()
              if len(groups[k]) > 1 and mk ** 2 + vk > 0]
    dof = sum(d for d, _ in within)
    cv2 = _spread(sum(d * c for d, c in within) / dof if dof else 0.0, dof + 1, DEFAULT_CV_WITHIN ** 2) \
        if groups else 0.0
    # a kind's spread is cv2 times its squared size: first its own mean, then (second round) its centre,
    # its mean moved toward the channel's, so a kind that measured near zero by chance is not taken as
    # one of tiny, exactly known campaigns; the size's own noise (the kind's raw variance) is added
    size = {k: mk for k, (mk, _, _) in raw.items()}
    size_none = m0
    for _ in range(2):
        tw = {k: cv2 * (size[k] ** 2 + raw[k][1]) for k in groups}
        tw_none = cv2 * (size_none ** 2 + v0)   # a campaign without a kind, or of a new one: at the channel's size
        # kinds (and campaigns without one) as units around the channel's mean
        units = {k: _random_effects(b[i], v[i], tw[k])[:2] for k, i in groups.items()}
        unit_b = np.array([u[0] for u in units.values()] + list(b[~known]))
        unit_v = np.array([u[1] for u in units.values()] + list(v[~known] + tw_none))
        m, var_m, tb = _random_effects(unit_b, unit_v)
        if not groups:      # no kinds: the units are campaigns, and their spread has the campaigns' default
            tb = _spread(tb, len(unit_b), (DEFAULT_CV_WITHIN * m) ** 2)
        m, var_m, _ = _random_effects(unit_b, unit_v, tb)
        for _ in range(3 if groups and len(unit_b) < MIN_KINDS else 0):
            # too few kinds to say how much kinds differ: at least the default, at the mean it gives
            tb = max(tb, (DEFAULT_CV_BETWEEN * m) ** 2)
            m, var_m, _ = _random_effects(unit_b, unit_v, tb)
        size = {k: m + (tb / (tb + units[k][1]) if tb + units[k][1] > 0 else 0.0) * (units[k][0] - m) for k in groups}
        size_none = m
    centre, centre_var, spread = np.full(len(b), m), np.full(len(b), var_m), np.full(len(b), tw_none + tb)
    for k, i in groups.items():
        mk, vk = units[k]
        s = tb / (tb + vk) if tb + vk > 0 else 0.0
        centre[i], centre_var[i] = m + s * (mk - m), s * vk + (1 - s) ** 2 * var_m
        spread[i] = tw[k]                           # a campaign's spread around its kind's centre
    k_c = np.divide(spread, spread + v, out=np.zeros(len(b)), where=spread + v > 0)
    return g.assign(beta_pooled=centre + k_c * (b - centre), se_pooled=np.sqrt(k_c * v + (1 - k_c) ** 2 * centre_var),
                    mean=m, var_mean=var_m, tau2=np.where(known, spread, tw_none), tau2_channel=tw_none,
                    tau2_kinds=tb, kind_mean=centre, kind_var=centre_var)


def shrink(estimates: pd.DataFrame) -> pd.DataFrame:
    """Hierarchical partial pooling of per-campaign coefficients within (queue, channel).

    ``estimates`` has ``queue, channel, campaign_id, beta, se`` and optionally ``kind``. Campaigns of
    a kind are taken as drawn around the kind's mean with spread ``tau2`` (the channel's shared
    coefficient of variation within kinds times the kind's squared mean, :func:`_pool_channel`) and
    kinds around the channel's mean with spread ``tau2_kinds`` (random effects, Paule-Mandel,
    through statsmodels' meta-analysis). The coefficient of variation has a default
    (DEFAULT_CV_WITHIN) counted as PRIOR_WEIGHT campaigns, so one past campaign gives a wide band,
    not none; with fewer than MIN_KINDS kinds, the kinds' spread is at least DEFAULT_CV_BETWEEN
    times the mean. Each campaign moves toward its kind's mean (itself moved toward the channel's
    by how much kinds differ beyond their noise) by ``se^2 / (se^2 + tau2)``; a campaign without a
    kind moves toward the channel's mean with both spreads. Adds ``beta_pooled, se_pooled``
    (posterior), ``mean, var_mean`` (the channel's), ``tau2`` (each campaign's spread within its
    kind), ``tau2_channel`` (the same for a campaign of a kind not seen, at the channel's mean),
    ``tau2_kinds`` and ``kind_mean, kind_var`` (the centre each campaign moved toward)."""
    if estimates.empty:
        return estimates.assign(beta_pooled=[], se_pooled=[], mean=[], var_mean=[], tau2=[], tau2_channel=[], tau2_kinds=[],
                                kind_mean=[], kind_var=[])
    return pd.concat([_pool_channel(g) for _, g in estimates.groupby(["queue", "channel"])])


MIN_QUIET_DAYS = 8      # days of the send's weekday without a timed send needed to tell the hours' noise


def send_day_evidence(hist: pd.DataFrame, campaigns: pd.DataFrame, fits: dict, interval_min: int) -> pd.DataFrame:
    """A second estimate of each timed campaign's coefficient, from its send day's intervals.

    A campaign sent at a time of day (an e-mail at 13:00, a TV spot at 21:00) brings its send day's
    contacts after the send. The hours before it hold none of them, so they foretell the day's
    volume without the campaign: with ``s`` the share of the weekday's contacts before the send (from
    days without a timed send) and ``B`` the day's contacts before it, the send's extra contacts are
    ``T - B / s``. The same sum on days without a timed send (same queue and weekday, the send's
    time) should be 0: its mean, as a share of the day, is taken off, and its spread gives the
    estimate's variance. Divided by the campaign's column on the send day (what one unit of its
    coefficient puts there) it estimates the coefficient independently of the daily fit's base
    (whose error is the day's level, not its hours). A late send is measured almost exactly (its
    evening's base is small and the day before it is known); an early one barely adds anything.
    Send days shared by two timed campaigns on a queue are left out (the split is not known).
    Returns ``queue, campaign_id, beta_send_day, se_send_day``."""
    cols = ["queue", "campaign_id", "beta_send_day", "se_send_day"]
    starts = pd.to_datetime(campaigns["start_ts"])
    timed = {c: t for c, t in zip(campaigns["campaign_id"], starts) if t != t.normalize()}
    if not timed or hist.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for q, g in hist.groupby("queue"):
        fit = fits.get(q)
        if fit is None:
            continue
        mine = {c: t for c, t in timed.items() if c in fit["columns"].columns}
        if not mine:
            continue
        days = pd.DatetimeIndex(fit["dates"])
        sends = pd.Series([t.normalize() for t in mine.values()])
        shared = set(sends[sends.duplicated()])
        quiet = days[~days.isin(set(sends))]
        act = Activity.learn(g, quiet)
        slot = ((g["interval_start"].dt.hour * 60 + g["interval_start"].dt.minute) // interval_min).to_numpy()
        code, day_index = pd.factorize(g["interval_start"].dt.normalize(), sort=True)
        per = np.zeros((len(day_index), 1440 // interval_min))
        np.add.at(per, (code, slot), g["contacts"].to_numpy(float))         # contacts per day and interval
        cum = np.concatenate([np.zeros((len(per), 1)), per.cumsum(axis=1)], axis=1)
        total = cum[:, -1]
        index = {d: i for i, d in enumerate(day_index)}
        quiet_rows = {wd: np.array([index[d] for d in quiet if d in index and d.weekday() == wd]) for wd in range(7)}
        for cid, t in mine.items():
            d = t.normalize()
            if d in shared or d not in index:
                continue
            k = (t.hour * 60 + t.minute) // interval_min            # intervals before the one the send falls in
            share = 1.0 - float(act.after[d.weekday(), k * interval_min])
            ref = quiet_rows[d.weekday()]
            x = fit["columns"][cid].to_numpy()[days.get_loc(d)] if d in days else 0.0
            if share <= 0.02 or len(ref) < MIN_QUIET_DAYS or not x > 0:
                continue
            ok = total[ref] > 0
            rho = 1.0 - cum[ref[ok], k] / share / total[ref[ok]]      # on quiet days: 0 give or take noise
            if len(rho) < MIN_QUIET_DAYS:
                continue
            i = index[d]
            extra = total[i] - cum[i, k] / share - rho.mean() * total[i]
            sd = float(np.sqrt(rho.var(ddof=1) * (1 + 1 / len(rho)))) * total[i]
            if sd > 0:
                rows.append((q, cid, extra / x, sd / x))
    return pd.DataFrame(rows, columns=cols)


PRIOR_CV = 0.5     # marketing's estimate is taken as right to about +-50 % (one sd) until its record says otherwise


def expected_totals(campaigns: pd.DataFrame) -> pd.Series:
    """Per ``campaign_id``, marketing's estimate of the extra contacts over all its queues
    (``expected_contacts``, or ``expected_per_1000`` x ``reach`` / 1,000); campaigns without one are
    left out."""
    if campaigns.empty:
        return pd.Series(dtype=float)
    out = pd.Series(np.nan, index=campaigns["campaign_id"].to_numpy(), dtype=float)
    if "expected_contacts" in campaigns:
        out = out.fillna(pd.Series(pd.to_numeric(campaigns["expected_contacts"], errors="coerce").to_numpy(float),
                                   index=out.index))
    if "expected_per_1000" in campaigns:
        per = pd.to_numeric(campaigns["expected_per_1000"], errors="coerce").to_numpy(float) * \
            pd.to_numeric(campaigns["reach"], errors="coerce").to_numpy(float) / 1000
        out = out.fillna(pd.Series(per, index=out.index))
    return out.dropna()


SEND_DAY_CV = 0.2     # least error of a send-day estimate beyond its noise: the response's send-day share is a model


def _excess_cv(d: np.ndarray, v: np.ndarray, size: np.ndarray) -> float:
    """The coefficient of variation ``c`` of an error proportional to ``size`` that makes the
    differences ``d`` (variances ``v``) agree with their noise: ``sum d^2 / (v + c^2 size^2) = n - 1``
    (Paule-Mandel's equation, on a relative scale, solved by scipy's ``brentq``); 0 when they agree
    without it, at most 10."""
    n = len(d)

    def excess(c: float) -> float:
        return float((d ** 2 / (v + c ** 2 * size ** 2)).sum()) - (n - 1)

    if n < 2 or excess(0.0) <= 0:
        return 0.0
    return 10.0 if excess(10.0) > 0 else float(optimize.brentq(excess, 0.0, 10.0))


def combine_send_day(est: pd.DataFrame, evidence: pd.DataFrame) -> pd.DataFrame:
    """The daily fit's estimates (``beta, se``) combined by precision with the send-day ones
    (:func:`send_day_evidence`); ``beta_daily, se_daily`` keep the daily fit's.

    A send-day estimate is exact about the send day only if the response shape's share of that day
    is right, so it gets a model error proportional to it: per channel, the coefficient of variation
    that makes its campaigns' send-day and daily estimates agree within their noise
    (:func:`_excess_cv`), and at least SEND_DAY_CV: the daily data rarely pin the response's shape
    (and so its send-day share) better than that, and comparing the two estimates cannot show a
    smaller error. ``send_day_cv`` records what each campaign got."""
    est = est.assign(beta_daily=est["beta"], se_daily=est["se"])
    if est.empty or evidence.empty:
        return est
    ev = est[["queue", "campaign_id", "channel"]].merge(evidence, on=["queue", "campaign_id"], how="left")
    have = ev["se_send_day"].notna().to_numpy()
    b_d, v_d = est["beta"].to_numpy(float), est["se"].to_numpy(float) ** 2
    b_s = ev["beta_send_day"].to_numpy(float)
    v_s = ev["se_send_day"].to_numpy(float) ** 2
    for ch in set(ev.loc[have, "channel"]):
        on = have & (ev["channel"] == ch).to_numpy()
        # the daily estimates are too noisy to show a send-day error as small as the default: the data
        # can make it larger, not smaller
        c = max(_excess_cv(b_s[on] - b_d[on], v_s[on] + v_d[on], np.abs(b_s[on])), SEND_DAY_CV)
        v_s[on] = v_s[on] + c ** 2 * b_s[on] ** 2
        est.loc[on, "send_day_cv"] = c
    beta, var, _ = _blend(b_d, v_d, np.where(have, b_s, 0.0), np.where(have, v_s, np.inf))
    est["beta"], est["se"] = beta, np.sqrt(var)
    return est


def marketing_calibration(est: pd.DataFrame, campaigns: pd.DataFrame, exp: Exposures,
                          shapes: dict[str, Shape]) -> dict:
    """How marketing's estimates compared with what the past campaigns that had one measured (their
    pooled estimate over the whole response, before the estimate itself counts): ``bias`` (the
    geometric mean of measured / expected) and ``cv`` (how far one estimate is off, as a coefficient
    of variation), each blended with the default (no bias, PRIOR_CV) counted as PRIOR_WEIGHT
    campaigns, and ``campaigns``, how many it rests on. A campaign measured at less than a tenth of
    its estimate counts as a tenth (a log ratio needs a positive measure; it is still a big miss)."""
    expected = expected_totals(campaigns)
    logs = []
    if len(est) and len(expected):
        for cid, g in est[est["campaign_id"].isin(expected.index)].groupby("campaign_id"):
            if expected[cid] <= 0:
                continue
            shape = shapes.get(g["channel"].iloc[0], DEFAULT)
            measured = sum(b * exp.total(q, cid, shape) for q, b in zip(g["queue"], g["beta_pooled"]))
            logs.append(np.log(max(measured, 0.1 * expected[cid]) / expected[cid]))
    n, logs = len(logs), np.array(logs)
    bias = float(np.exp(logs.sum() / (n + PRIOR_WEIGHT))) if n else 1.0
    var = _spread(float(logs.var(ddof=1)) if n > 1 else 0.0, n, np.log1p(PRIOR_CV ** 2))
    return {"campaigns": n, "bias": bias, "cv": float(np.sqrt(np.expm1(var)))}


def prior_betas(cid: str, expected: float, queues: list[str], model: dict[str, float], exp: Exposures,
                shape: Shape, volume: dict[str, float], calibration: dict) -> dict[str, tuple[float, float]]:
    """Marketing's estimate of campaign ``cid`` (``expected`` contacts over ``queues``) as a prior
    on its coefficient per queue: ``(mean, variance)``. The contacts are split over the queues as
    the model would put them (``model``: the coefficient it has for each queue, times the
    campaign's column there) or, without one, by the queues' daily volume; corrected by
    marketing's record (``calibration``: bias and cv, :func:`marketing_calibration`)."""
    totals_q = {q: exp.total(q, cid, shape) for q in queues}
    weight = {q: max(float(model[q]), 0.0) * totals_q[q] for q in queues if q in model and np.isfinite(model[q])}
    if sum(weight.values()) <= 0:
        weight = {q: max(volume.get(q, 0.0), 0.0) for q in queues}
    if sum(weight.values()) <= 0:
        weight = dict.fromkeys(queues, 1.0)
    whole = sum(weight.values())
    out = {}
    for q in queues:
        if totals_q[q] <= 0:
            continue
        mean = calibration["bias"] * expected * weight.get(q, 0.0) / whole / totals_q[q]
        # an estimate of none still has a spread: as big as the model's own coefficient's, if it has one
        scale = max(mean, abs(float(model.get(q, 0.0))) if np.isfinite(model.get(q, 0.0)) else 0.0)
        if scale > 0:
            out[q] = (mean, (calibration["cv"] * scale) ** 2)
    return out


def _blend(m, v, pm, pv):
    """Two independent normal views of one coefficient (numbers or arrays): the model's ``(m, v)``
    and another's ``(pm, pv)``; returns the combined mean, its variance and the share the other
    carries. Where ``v`` is not positive the model's view stands; an infinite ``pv`` adds nothing."""
    m, v, pm, pv = (np.asarray(a, float) for a in (m, v, pm, pv))
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = 1 / v + 1 / pv
        ok = v > 0
        mean = np.where(ok, (m / v + np.where(np.isinf(pv), 0.0, pm / pv)) / prec, m)
        var, share = np.where(ok, 1 / prec, v), np.where(ok, (1 / pv) / prec, 0.0)
    if mean.ndim == 0:
        return float(mean), float(var), float(share)
    return mean, var, share


def with_priors(est: pd.DataFrame, campaigns: pd.DataFrame, exp: Exposures, shapes: dict[str, Shape],
                volume: dict[str, float], calibration: dict) -> pd.DataFrame:
    """The pooled estimates (:func:`shrink`) of past campaigns with marketing's estimate combined in,
    as one more independent view of each (:func:`prior_betas`): ``beta_pooled, se_pooled`` are then
    the combination; adds ``prior_beta`` (NaN without an estimate) and ``prior_weight`` (the share
    of the result marketing's estimate carries: above 0.5 it dominated the history)."""
    est = est.assign(prior_beta=np.nan, prior_weight=0.0)
    expected = expected_totals(campaigns)
    if est.empty or expected.empty:
        return est
    for cid, idx in est[est["campaign_id"].isin(expected.index)].groupby("campaign_id").groups.items():
        g = est.loc[idx]
        queues = exp.queues_of(cid)
        pri = prior_betas(cid, float(expected[cid]), queues, dict(zip(g["queue"], g["beta_pooled"])), exp,
                          shapes.get(g["channel"].iloc[0], DEFAULT), volume, calibration)
        for i in idx:
            q = est.at[i, "queue"]
            if q not in pri:
                continue
            m, v, w = _blend(float(est.at[i, "beta_pooled"]), float(est.at[i, "se_pooled"]) ** 2, *pri[q])
            est.loc[i, ["beta_pooled", "se_pooled", "prior_beta", "prior_weight"]] = [m, np.sqrt(v), pri[q][0], w]
    return est


RATE_COLUMNS = ["queue", "campaign_id", "channel", "kind", "beta", "var", "prior_weight", "basis"]


def campaign_rates(result: dict, campaigns: pd.DataFrame, exp: Exposures) -> pd.DataFrame:
    """Per queue and campaign of ``campaigns`` that reaches it (in ``exp``), the coefficient forecasts
    and planned impact use, its variance and what it rests on (``basis``):

    * ``measured``: a past campaign's pooled estimate (:func:`past_impact`, marketing's estimate
      already in it); the variance is its own;
    * ``kind``: a campaign not measured whose kind has past campaigns on the queue: the kind's mean,
      with the variance of one more campaign of the kind;
    * ``channel``: otherwise the channel's mean, with the spread of kinds added (a kind not seen before);
    * ``marketing``: no past campaign of the channel on the queue, only marketing's estimate.

    Campaigns not measured combine the model's view with marketing's estimate where there is one
    (``+marketing``; ``prior_weight`` is marketing's share). Without either, a campaign has no row."""
    est = result.get("estimates")
    est = est if est is not None else pd.DataFrame(columns=["queue", "channel", "campaign_id"])
    params = est.groupby(["queue", "channel"])[["mean", "tau2_channel", "var_mean", "tau2_kinds"]].first() \
        if len(est) else pd.DataFrame()
    kinds = kind_means(est)
    measured = est.set_index(["queue", "campaign_id"]) if len(est) else pd.DataFrame()
    expected = expected_totals(campaigns)
    kind_of = dict(zip(campaigns["campaign_id"], campaigns["kind"])) if "kind" in campaigns else {}
    calibration = result.get("marketing") or {"bias": 1.0, "cv": PRIOR_CV}
    rows = []
    for cid, ch in zip(campaigns["campaign_id"], campaigns["channel"]):
        kind = kind_of.get(cid)
        kind = kind if isinstance(kind, str) and kind else None
        queues = exp.queues_of(cid)
        view: dict[str, tuple] = {}
        for q in queues:
            if (q, cid) in measured.index:
                r = measured.loc[(q, cid)]
                view[q] = (float(r["beta_pooled"]), float(r["se_pooled"]) ** 2, float(r.get("prior_weight", 0.0)),
                           "measured")
            elif (q, ch, kind) in kinds.index:
                m, var_m, tau2 = kinds.loc[(q, ch, kind)]
                view[q] = (float(m), float(tau2 + var_m), 0.0, "kind")
            elif (q, ch) in params.index:
                m, tau2, var_m, tau2_kinds = params.loc[(q, ch)]
                view[q] = (float(m), float(tau2 + tau2_kinds + var_m), 0.0, "channel")
        if cid in expected.index and (len(view) < len(queues) or any(v[3] != "measured" for v in view.values())):
            pri = prior_betas(cid, float(expected[cid]), queues, {q: v[0] for q, v in view.items()}, exp,
                              result["shapes"].get(ch, DEFAULT), result.get("volume", {}), calibration)
            for q, (pm, pv) in pri.items():
                if q not in view:
                    view[q] = (pm, pv, 1.0, "marketing")
                elif view[q][3] != "measured":
                    view[q] = (*_blend(view[q][0], view[q][1], pm, pv), view[q][3] + "+marketing")
        rows += [(q, cid, ch, kind, *v) for q, v in view.items()]
    return pd.DataFrame(rows, columns=RATE_COLUMNS)


def past_impact(actuals: pd.DataFrame, campaigns: pd.DataFrame, config: Config, as_of: dt.date,
                shapes: dict[str, Shape] | None = None) -> dict:
    """Extra contacts per past campaign, queue and day, with 80 % intervals; per-campaign totals."""
    upto = actuals["interval_start"] < pd.Timestamp(as_of) + pd.Timedelta(days=1)
    hist = actuals if upto.all() else actuals[upto]      # read only here: no copy of every row when all are in
    daily = daily_totals(hist)
    start, end = daily["date"].min().date(), daily["date"].max().date()
    hol = holiday_features(config, start - dt.timedelta(days=35), end + dt.timedelta(days=1))
    past = campaigns[campaigns["start_ts"].dt.date <= as_of].reset_index(drop=True)
    queues = sorted(q for q, g in daily.groupby("queue") if g["date"].nunique() >= MIN_DAYS)
    series = {q: _open_days(daily, q, hol) for q in queues}
    special = worked_special_days(hol)
    activity = {q: Activity.learn(g, pd.DatetimeIndex(series[q].index), special) for q, g in hist.groupby("queue")
                if q in series}
    bases = {q: impact_design(pd.DatetimeIndex(y.index), hol, activity[q].weekday) for q, y in series.items()}
    exp = Exposures(past, queues, pd.date_range(start - dt.timedelta(days=35), end, freq="D"), activity,
                    {q: pd.DatetimeIndex(y.index) for q, y in series.items()})
    kind_of = campaigns.set_index("campaign_id")["kind"].dropna().to_dict() if "kind" in campaigns else {}
    scores = {}
    if shapes is None:
        shapes, scores = learn_shapes(series, bases, exp, kinds=kind_of) if len(past) else ({}, {})
    fits, est = {}, []
    for queue, y in series.items():
        fit = fits[queue] = fit_queue(y, bases[queue], exp.columns(queue, y.index, shapes))
        est.append(pd.DataFrame({"queue": queue, "campaign_id": fit["beta"].index, "beta": fit["beta"].to_numpy(),
                                 "se": fit["se"].to_numpy(), "dof": fit["dof"]}))
    est = pd.concat(est, ignore_index=True) if est else pd.DataFrame(columns=["queue", "campaign_id", "beta", "se", "dof"])
    est["channel"] = est["campaign_id"].map(exp.channel)
    kinds = campaigns.set_index("campaign_id")["kind"] if "kind" in campaigns else pd.Series(dtype=object)
    est["kind"] = est["campaign_id"].map(kinds).where(lambda k: k.notna() & (k != ""), None)
    # a campaign whose column the history barely holds (the tail of one sent before the data starts)
    # has no usable standard error; it would turn its channel's pooled mean into NaN, so it is left
    # out: it gets no measured impact, and forecasts give it the channel's mean effect
    est = est[est["se"].notna()].reset_index(drop=True)
    # timed sends: their send day's hours are a second, independent measure (send_day_evidence)
    est = combine_send_day(est, send_day_evidence(hist, past, fits, config.interval_min))
    est = shrink(est) if len(est) else est
    volume = {q: float(y.mean()) for q, y in series.items()}
    calibration = marketing_calibration(est, past, exp, shapes)
    est = with_priors(est, past, exp, shapes, volume, calibration)
    picked = []                             # per estimate: its column, dates and actuals where it acts
    for e in est.itertuples():
        fit = fits[e.queue]
        col = fit["columns"][e.campaign_id].to_numpy()
        picked.append((col[col > 0], fit["dates"][col > 0], fit["y"][col > 0]))
    if picked:                              # arrays, one frame at the end (a frame each cost 0.25 s)
        n = [len(x) for x, _, _ in picked]
        x = np.concatenate([x for x, _, _ in picked])
        beta = np.repeat(est["beta_pooled"].to_numpy(float), n)
        half = np.repeat(stats.t.ppf(0.9, est["dof"].to_numpy(float)) * est["se_pooled"].to_numpy(float), n)
        per_day = pd.DataFrame({
            "campaign_id": np.repeat(est["campaign_id"].to_numpy(), n), "queue": np.repeat(est["queue"].to_numpy(), n),
            "day": pd.DatetimeIndex(np.concatenate([d for _, d, _ in picked])).date,
            "extra_contacts": beta * x, "lo_80": not_below_zero(beta, beta - half) * x, "hi_80": (beta + half) * x,
            "actual": np.concatenate([y for _, _, y in picked]),
            "prior_weight": np.repeat(est["prior_weight"].to_numpy(float), n)})
    else:
        per_day = pd.DataFrame(columns=["campaign_id", "queue", "day", "extra_contacts", "lo_80", "hi_80", "actual",
                                        "prior_weight"])
    return {"days": per_day, "totals": totals(per_day, past), "fits": fits, "shapes": shapes, "scores": scores,
            "holidays": hol, "estimates": est, "activity": activity, "volume": volume, "marketing": calibration,
            "exposures": exp}


def worked_special_days(hol: pd.DataFrame) -> pd.DatetimeIndex:
    """Days a site may work at a fraction of its weekday's volume: holidays, eves, bridge days, observances."""
    return hol.index[(hol[["holiday", "eve", "bridge", "observance"]] == 1).any(axis=1)]


def activity_ahead(result: dict, config: Config, days: pd.DatetimeIndex) -> dict[str, Activity]:
    """:func:`past_impact`'s activity per queue, with the special days among ``days`` it has not seen
    moving as the special days it learned (:meth:`Activity.expecting`)."""
    end = (days[-1] + pd.Timedelta(days=RESPONSE_DAYS)).date()
    special = worked_special_days(holiday_features(config, days[0].date(), end))
    return {q: a.expecting(special) for q, a in (result.get("activity") or {}).items()}


def not_below_zero(point, lo):
    """An 80 % interval's lower end for contacts a campaign adds: not below 0 (the normal interval
    around a small response reaches below it). A negative point (a past campaign measured below its
    noise) keeps its interval as it is."""
    point, lo = np.asarray(point, float), np.asarray(lo, float)
    return np.where(point >= 0, np.maximum(lo, 0.0), lo)


def interval_totals(days: pd.DataFrame, by: list[str], sums: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per ``by`` group of per-day rows (``queue, extra_contacts, hi_80`` and ``sums``): the extra
    contacts summed with their 80 % interval, each queue's half-width over its days (the upper one:
    the lower end of a day may be cut at 0) and the queues' halves added in quadrature (independent
    fits), the lower end by :func:`not_below_zero`."""
    agg = {"extra_contacts": ("extra_contacts", "sum"), "hi": ("hi_80", "sum"), **{c: (c, "sum") for c in sums}}
    q = days.groupby([*by, "queue"]).agg(**agg).reset_index()
    q["half"] = q["hi"] - q["extra_contacts"]
    g = q.groupby(by).agg(extra_contacts=("extra_contacts", "sum"), **{c: (c, "sum") for c in sums},
                          half=("half", lambda h: float(np.sqrt((h ** 2).sum())))).reset_index()
    g["lo_80"] = not_below_zero(g["extra_contacts"], g["extra_contacts"] - g["half"])
    g["hi_80"] = g["extra_contacts"] + g["half"]
    return g.drop(columns="half")


def totals(per_day: pd.DataFrame, campaigns: pd.DataFrame) -> pd.DataFrame:
    """Per campaign: extra contacts and 80 % interval (:func:`interval_totals`), share of volume."""
    if per_day.empty:
        return pd.DataFrame(columns=["campaign_id", "name", "channel", "start", "reach", "extra_contacts",
                                     "lo_80", "hi_80", "share_of_volume"])
    g = interval_totals(per_day, ["campaign_id"], ("actual",)).set_index("campaign_id")
    g["share_of_volume"] = g["extra_contacts"] / g["actual"]
    info = campaigns.set_index("campaign_id").reindex(columns=["name", "channel", "start_ts", "reach"]).rename(
        columns={"start_ts": "start"})
    out = info.join(g, how="inner").reset_index()
    return out[["campaign_id", "name", "channel", "start", "reach", "extra_contacts", "lo_80", "hi_80",
                "share_of_volume"]].sort_values("start").reset_index(drop=True)


def response_curves(result: dict, campaigns: pd.DataFrame) -> pd.DataFrame:
    """Per channel and queue: lag, peak day, decay and contacts per 1,000 reached (10th-90th
    percentile over the channel's past campaigns)."""
    days = result["days"]
    if days.empty:
        return pd.DataFrame(columns=["channel", "queue", "clock", "lag_days", "peak_day", "decay", "campaigns",
                                     "per_1000", "per_1000_p10", "per_1000_p90"])
    reach = campaigns.set_index("campaign_id")["reach"]
    channel = campaigns.set_index("campaign_id")["channel"]
    per = days.groupby(["campaign_id", "queue"])["extra_contacts"].sum().reset_index()
    per["channel"] = per["campaign_id"].map(channel)
    per["reach"] = per["campaign_id"].map(reach)
    per = per[per["reach"].notna() & (per["reach"] > 0)]
    per["rate"] = per["extra_contacts"] / (per["reach"] / 1000)
    rows = []
    for (ch, q), g in per.groupby(["channel", "queue"]):
        lag, decay, ramp, clock = result["shapes"].get(ch, DEFAULT)
        rows.append({"channel": ch, "queue": q, "clock": clock, "lag_days": lag, "peak_day": lag + ramp, "decay": decay,
                     "campaigns": len(g), "per_1000": g["extra_contacts"].sum() / (g["reach"].sum() / 1000),
                     "per_1000_p10": g["rate"].quantile(0.1), "per_1000_p90": g["rate"].quantile(0.9)})
    return pd.DataFrame(rows)


KIND_COLUMNS = ["queue", "channel", "kind", "campaigns", "per_1000", "lo_80", "hi_80", "channel_per_1000",
                "with_estimate", "marketing_share", "marketing_dominated"]


def kind_table(result: dict, campaigns: pd.DataFrame) -> pd.DataFrame:
    """Per queue, channel and kind: what a new campaign of the kind is expected to bring, in contacts
    per 1,000 reached (the kind's pooled mean, :func:`shrink`), with the 80 % interval of one more
    campaign of it; the channel's mean beside it; how many past campaigns it rests on, how many had
    marketing's estimate and its average share in their figures (``marketing_dominated`` when above
    half: the history says little and the calendar's estimates carry them). Campaigns without a kind
    are one row, ``kind`` empty, each of them its own kind (their interval is the channel's for a
    kind not seen before). Contacts per 1,000 from a coefficient: the campaigns' own ratio of
    contacts on open days over their whole response to reach."""
    est = result.get("estimates")
    exp = result.get("exposures")
    if est is None or est.empty or exp is None:
        return pd.DataFrame(columns=KIND_COLUMNS)
    z = stats.norm.ppf(0.9)
    rows = []
    for (q, ch), g in est.groupby(["queue", "channel"]):
        shape = result["shapes"].get(ch, DEFAULT)
        scale = {cid: exp.total(q, cid, shape) / max(exp.flight[cid][2] * (exp.flight[cid][1] - exp.flight[cid][0] + 1),
                                                     1e-12) for cid in g["campaign_id"]}
        for kind, k in g.groupby(g["kind"].fillna(""), sort=True):
            f = float(np.mean([scale[c] for c in k["campaign_id"]]))
            if kind:
                m, spread = float(k["kind_mean"].iloc[0]), float(k["tau2"].iloc[0] + k["kind_var"].iloc[0])
            else:
                m = float(k["mean"].iloc[0])
                spread = float(k["tau2_channel"].iloc[0] + k["tau2_kinds"].iloc[0] + k["var_mean"].iloc[0])
            half = z * np.sqrt(spread)
            priors = k["prior_weight"] > 0 if "prior_weight" in k else pd.Series(False, index=k.index)
            share = float(k.loc[priors, "prior_weight"].mean()) if priors.any() else 0.0
            rows.append({"queue": q, "channel": ch, "kind": kind, "campaigns": len(k), "per_1000": m * f,
                         "lo_80": float(not_below_zero(m, m - half)) * f, "hi_80": (m + half) * f,
                         "channel_per_1000": float(k["mean"].iloc[0]) * f,
                         "with_estimate": int(priors.sum()), "marketing_share": share, "marketing_dominated": share > 0.5})
    return pd.DataFrame(rows, columns=KIND_COLUMNS)


def kind_means(est: pd.DataFrame) -> pd.DataFrame:
    """Per queue, channel and kind of the pooled estimates (:func:`shrink`): the kind's mean, shrunk
    toward the channel's, its variance and the spread of campaigns within the kind (``mean``,
    ``var_mean``, ``tau2``: what :func:`planned_impact` gives a planned campaign of that kind)."""
    cols = ["mean", "var_mean", "tau2"]
    empty = pd.DataFrame(columns=cols, index=pd.MultiIndex.from_tuples([], names=["queue", "channel", "kind"]))
    if est.empty or "kind" not in est or est["kind"].isna().all():
        return empty
    known = est[est["kind"].notna() & (est["kind"] != "")]
    return known.groupby(["queue", "channel", "kind"])[["kind_mean", "kind_var", "tau2"]].first().set_axis(cols, axis=1)


def planned_impact(result: dict, campaigns: pd.DataFrame, config: Config, as_of: dt.date,
                   open_days: dict[str, pd.DatetimeIndex]) -> pd.DataFrame:
    """Expected extra contacts per planned campaign (start after ``as_of``), queue and open day.

    Each campaign's coefficient per queue is :func:`campaign_rates`' (its kind's mean, else its
    channel's, combined with marketing's estimate where the calendar has one); the 80 % interval
    comes from the spread of campaigns around it plus the mean's own uncertainty (a new campaign is
    one more draw). ``open_days`` per queue: the days that will be open (responses on closed days
    are lost, as in history). ``prior_weight``: the share of marketing's estimate in the figure."""
    planned = campaigns[campaigns["start_ts"].dt.date > as_of].reset_index(drop=True)
    cols = ["campaign_id", "queue", "day", "extra_contacts", "lo_80", "hi_80", "prior_weight"]
    if planned.empty or not open_days:
        return pd.DataFrame(columns=cols)
    days = sorted({d for idx in open_days.values() for d in idx})
    full = pd.date_range(min(as_of, planned["start_ts"].min().date()) - dt.timedelta(days=35),
                         max(days[-1], planned["end_ts"].max()).date() if days else planned["end_ts"].max().date(),
                         freq="D")
    exp = Exposures(planned, list(open_days), full, activity_ahead(result, config, full), open_days)
    rates = campaign_rates(result, planned, exp).set_index(["queue", "campaign_id"])
    z = stats.norm.ppf(0.9)
    rows = []
    for queue, dates in open_days.items():
        cols_q = exp.columns(queue, pd.DatetimeIndex(dates), result.get("shapes", {}))
        for cid in cols_q.columns:
            if (queue, cid) not in rates.index:
                continue              # no past campaign of this channel on this queue, and no estimate from marketing
            r = rates.loc[(queue, cid)]
            x = cols_q[cid].to_numpy()
            on = x > 0
            half = z * np.sqrt(float(r["var"]))
            m = max(float(r["beta"]), 0.0)      # a campaign adds contacts: a mean below 0 is noise, planned as none
            rows.append(pd.DataFrame({"campaign_id": cid, "queue": queue, "day": cols_q.index[on].date,
                                      "extra_contacts": m * x[on], "lo_80": float(not_below_zero(m, m - half)) * x[on],
                                      "hi_80": (m + half) * x[on], "prior_weight": float(r["prior_weight"])}))
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


def unexplained(result: dict, since: dt.date | None = None, z: float = stats.norm.ppf(0.975)) -> pd.DataFrame:
    """Days above the fit's 95 % upper bound with no campaign, holiday, day-after, bridge or observance behind them."""
    hol = result["holidays"]
    special = set(hol.index[(hol[["holiday", "after_holiday", "bridge", "observance"]] == 1).any(axis=1)])
    rows = []
    for queue, fit in result["fits"].items():
        dates = fit["dates"]
        campaign_part = np.zeros(len(dates))
        for cid in fit["columns"].columns:
            campaign_part += max(fit["beta"][cid], 0) * fit["columns"][cid].to_numpy()
        upper = fit["fitted"] + z * fit["sigma"]
        quiet = campaign_part < 0.02 * fit["fitted"]
        hit = (fit["y"] > upper) & quiet & ~dates.isin(special)
        if since is not None:
            hit &= dates.date >= since
        for i in np.flatnonzero(hit):
            rows.append({"queue": queue, "day": dates[i].date(), "actual": fit["y"][i],
                         "expected": round(float(fit["fitted"][i]), 1), "upper_95": round(float(upper[i]), 1),
                         "excess": round(float(fit["y"][i] - fit["fitted"][i]), 1)})
    out = pd.DataFrame(rows, columns=["queue", "day", "actual", "expected", "upper_95", "excess"])
    return out.sort_values(["day", "queue"]).reset_index(drop=True)


HOURS_CHUNK_ROWS = 200_000     # intervals staffed at once by extra_agent_hours (bounds its memory)


def extra_agent_hours(per_day: pd.DataFrame, intervals: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Agent-hours each campaign needs, per campaign and queue: staffing of ``intervals`` (``queue,
    interval_start, contacts, aht_s``: actuals for past days, the forecast for planned ones) minus
    staffing without the campaign's extra contacts, spread over each day by its intraday shape.

    Queues are staffed independently, so they are taken a few at a time (about
    :data:`HOURS_CHUNK_ROWS` intervals): the staffing frames of a 500-queue centre's campaign
    days never sit in memory at once."""
    empty = pd.DataFrame(columns=["campaign_id", "queue", "extra_agent_hours"])
    if per_day.empty or intervals.empty:
        return empty
    rows_of = intervals.groupby("queue", sort=True).indices
    days_of = per_day.groupby("queue", sort=True).indices
    queues = [q for q in rows_of if q in days_of]
    if not queues:
        return empty
    # a queue joins the chunk its first interval falls in, counting intervals over the queues in turn
    chunk_of = np.cumsum([0] + [len(rows_of[q]) for q in queues[:-1]]) // HOURS_CHUNK_ROWS
    chunks = [[q for q, k in zip(queues, chunk_of) if k == c] for c in np.unique(chunk_of)]
    parts = [_extra_agent_hours(per_day.iloc[np.concatenate([days_of[q] for q in c])],
                                intervals.iloc[np.sort(np.concatenate([rows_of[q] for q in c]))], config)
             for c in chunks]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts).sort_values(["campaign_id", "queue"]).reset_index(drop=True) if parts else empty


def _extra_agent_hours(per_day: pd.DataFrame, intervals: pd.DataFrame, config: Config) -> pd.DataFrame:
    iv = intervals.assign(day=pd.to_datetime(intervals["interval_start"]).dt.date)
    iv["share"] = iv["contacts"] / iv.groupby(["queue", "day"])["contacts"].transform("sum").replace(0, np.nan)
    iv["share"] = iv["share"].fillna(0.0)
    hours = config.interval_min / 60
    touched = iv.merge(per_day[["campaign_id", "queue", "day", "extra_contacts"]], on=["queue", "day"], how="inner")
    if touched.empty:
        return pd.DataFrame(columns=["campaign_id", "queue", "extra_agent_hours"])
    touched["without"] = np.maximum(touched["contacts"] - touched["extra_contacts"] * touched["share"], 0.0)
    email = {q.name for q in config.queues if q.channel == "email"}
    # queueing models staff each interval on its own: every campaign in one call, in the order
    # staff_forecast returns (queue, interval_start; stable); e-mail spreads work over later
    # intervals, so each campaign is staffed alone there
    parts = [touched[~touched["queue"].isin(email)]] + \
        [g for _, g in touched[touched["queue"].isin(email)].groupby("campaign_id")]
    rows = []
    for part in parts:
        if part.empty:
            continue
        part = part.sort_values(["queue", "interval_start", "campaign_id"], kind="stable")
        # staff_forecast reads the point forecast's column: the contacts go in under that name
        with_it = staff_forecast(part[["queue", "interval_start", "aht_s"]].assign(
            forecast=part["contacts"].to_numpy()), config)
        without = staff_forecast(part[["queue", "interval_start", "aht_s"]].assign(
            forecast=part["without"].to_numpy()), config)
        diff = (with_it["required_agents"] - without["required_agents"]).to_numpy() * hours
        rows.append(pd.DataFrame({"campaign_id": part["campaign_id"].to_numpy(), "queue": part["queue"].to_numpy(),
                                  "extra_agent_hours": diff}))
    out = pd.concat(rows).groupby(["campaign_id", "queue"], as_index=False)["extra_agent_hours"].sum()
    return out


# -- the whole analysis on the store's data ------------------------------------------------------
def analyse(actuals: pd.DataFrame, campaigns: pd.DataFrame, config: Config, as_of: dt.date,
            forecast: pd.DataFrame | None = None, horizon_days: int = 42) -> dict:
    """Past and planned impact with agent-hours, response curves and the fit (for spikes).

    ``actuals``: ``queue, interval_start, contacts, aht_s``; ``campaigns``: the current calendar
    (withdrawn ones removed); ``forecast`` (optional): a run's forecast, whose intervals give the
    planned campaigns' agent-hours (without it they are left empty)."""

    result = past_impact(actuals, campaigns, config, as_of)
    past_iv = actuals[pd.to_datetime(actuals["interval_start"]).dt.date.isin(set(result["days"]["day"]))]
    hours_past = extra_agent_hours(result["days"], past_iv, config)
    planned = campaigns[campaigns["start_ts"].dt.date > as_of]
    last = max([as_of + dt.timedelta(days=horizon_days)] +
               [d.date() + dt.timedelta(days=28) for d in planned["end_ts"]])
    grid = future_grid(config, config.queue_names, as_of + dt.timedelta(days=1), (last - as_of).days)
    open_days = {q: pd.DatetimeIndex(sorted(g["ds"].dt.normalize().unique())) for q, g in grid.groupby("queue")}
    plan_days = planned_impact(result, campaigns, config, as_of, open_days)
    hours_plan = extra_agent_hours(plan_days, forecast.rename(columns={"forecast": "contacts"}), config) \
        if forecast is not None else \
        pd.DataFrame(columns=["campaign_id", "queue", "extra_agent_hours"])
    days = pd.concat([f for f in (result["days"].drop(columns="actual").assign(status="past"),
                                  plan_days.assign(status="planned")) if len(f)], ignore_index=True) \
        if len(result["days"]) or len(plan_days) else plan_days.assign(status=pd.Series(dtype=str))
    hours = pd.concat([f for f in (hours_past, hours_plan) if len(f)], ignore_index=True) \
        if len(hours_past) or len(hours_plan) else hours_past
    days = days.merge(hours, on=["campaign_id", "queue"], how="left")
    days["extra_agent_hours"] = days["extra_agent_hours"] * days["extra_contacts"] / \
        days.groupby(["campaign_id", "queue"])["extra_contacts"].transform("sum").replace(0, np.nan)
    return {"days": days, "campaigns": campaign_table(days, result["totals"], campaigns, hours),
            "curves": response_curves(result, campaigns), "kinds": kind_table(result, campaigns), "result": result}


def campaign_table(days: pd.DataFrame, past_totals: pd.DataFrame, campaigns: pd.DataFrame,
                   hours: pd.DataFrame) -> pd.DataFrame:
    """One row per campaign, past and planned: extra contacts with the 80 % interval, agent-hours and
    ``marketing_share``, the share of marketing's estimate in the figure (0 without one)."""
    cols = ["campaign_id", "name", "channel", "start", "status", "reach", "extra_contacts", "lo_80", "hi_80",
            "share_of_volume", "extra_agent_hours", "marketing_share"]
    plan = days[days["status"] == "planned"]
    rows = []
    if len(plan):
        g = interval_totals(plan, ["campaign_id"]).set_index("campaign_id")
        info = campaigns.set_index("campaign_id")[["name", "channel", "start_ts", "reach"]].rename(
            columns={"start_ts": "start"})
        rows.append(info.join(g, how="inner").reset_index().assign(status="planned"))
    out = pd.concat([past_totals.assign(status="past"), *rows], ignore_index=True)
    h = hours.groupby("campaign_id")["extra_agent_hours"].sum() if len(hours) else pd.Series(dtype=float)
    out["extra_agent_hours"] = out["campaign_id"].map(h)
    if "prior_weight" in days and len(days):
        w = days["extra_contacts"].abs().to_numpy(float) + 1e-9
        share = (days["prior_weight"].astype(float).fillna(0.0) * w).groupby(days["campaign_id"]).sum() / \
            pd.Series(w, index=days.index).groupby(days["campaign_id"]).sum()
        out["marketing_share"] = out["campaign_id"].map(share).fillna(0.0)
    else:
        out["marketing_share"] = 0.0
    return out.reindex(columns=cols).sort_values("start").reset_index(drop=True)


# -- send-date advice ---------------------------------------------------------------------------
def per_interval_extra(daily: pd.DataFrame, forecast: pd.DataFrame) -> pd.Series:
    """Daily extra contacts (``queue, day, extra_contacts``) spread over the forecast's intervals by
    each day's forecast shape; indexed by (queue, interval_start)."""
    f = forecast[["queue", "interval_start", "forecast"]].assign(
        day=pd.to_datetime(forecast["interval_start"]).dt.date)
    f["share"] = f["forecast"] / f.groupby(["queue", "day"])["forecast"].transform("sum").replace(0, np.nan)
    f = f.merge(daily.groupby(["queue", "day"], as_index=False)["extra_contacts"].sum(), on=["queue", "day"],
                how="left")
    extra = pd.to_numeric(f["extra_contacts"], errors="coerce").fillna(0.0)
    values = (f["share"].astype(float).fillna(0.0) * extra).to_numpy(float)
    return pd.Series(values, index=pd.MultiIndex.from_arrays([f["queue"], pd.to_datetime(f["interval_start"])]))


def campaign_offsets(actuals: pd.DataFrame, campaigns: pd.DataFrame, config: Config, as_of: dt.date,
                     future: dict[str, pd.DatetimeIndex], shapes: dict[str, Shape] | None = None) -> pd.DataFrame:
    """Contacts campaigns add per queue and day, in history (up to ``as_of``) and on the
    ``future`` open days per queue, for the forecaster to take out of and put back into the
    daily totals.

    History: each past campaign's pooled estimate (:func:`past_impact`) times its carry-over
    column. Future: the same for past campaigns' tails, and for planned campaigns (and past ones
    the history could not measure) the coefficient of :func:`campaign_rates`, as in
    :func:`planned_impact`: their kind's or channel's mean, with marketing's estimate. Returns ``queue, date, extra`` and
    ``calendar_days`` (the part from channels on the calendar-day clock, which knows nothing of
    quiet weekdays), with the carry-over shapes used (given, or learned here) in ``attrs["shapes"]``
    and, in ``attrs["timed"]`` (``queue, date, send, extra, channel, tau``), the send-day contacts
    of campaigns sent at a time of day with how fast they fade within the day (:func:`learn_intraday`).
    """
    cols = ["queue", "date", "extra"]
    if campaigns.empty:
        return pd.DataFrame(columns=cols)
    result = past_impact(actuals, campaigns, config, as_of, shapes)
    est = result["estimates"]
    if (est is None or est.empty) and expected_totals(campaigns).empty:
        return pd.DataFrame(columns=cols)
    frames = []
    last = max([idx.max() for idx in future.values() if len(idx)], default=pd.Timestamp(as_of))
    # campaigns sent at a time of day (e-mail at 13:00, a TV spot at 21:00): their send day's contacts
    # come after it, which the forecaster places (``attrs["timed"]``)
    send_times = {c: pd.Timestamp(t) for c, t in zip(campaigns["campaign_id"], campaigns["start_ts"])
                  if pd.Timestamp(t) != pd.Timestamp(t).normalize()}
    timed: list[tuple] = []
    timed_ids: list[str] = []
    first = min(campaigns["start_ts"].min().normalize(), pd.Timestamp(as_of)) - pd.Timedelta(days=35)
    full = pd.date_range(first, max(last, pd.Timestamp(as_of)), freq="D")
    queues = sorted(set(result["fits"]) & set(future))
    exp = Exposures(campaigns, queues, full, activity_ahead(result, config, full),
                    {q: pd.DatetimeIndex(result["fits"][q]["dates"]).append(pd.DatetimeIndex(future[q])) for q in queues})
    beta = campaign_rates(result, campaigns, exp).set_index(["queue", "campaign_id"])["beta"]
    for queue, fit in result["fits"].items():
        if queue not in future:
            continue
        dates = pd.DatetimeIndex(fit["dates"]).append(pd.DatetimeIndex(future[queue]))
        x = exp.columns(queue, dates, result["shapes"])
        extra, by_calendar = np.zeros(len(dates)), np.zeros(len(dates))
        for cid in x.columns:
            b = beta.get((queue, cid), np.nan)
            if not np.isnan(b):
                part = max(float(b), 0.0) * x[cid].to_numpy()
                extra += part
                if result["shapes"].get(exp.channel[cid], DEFAULT).clock == "calendar":
                    by_calendar += part
                sent = send_times.get(cid)
                if sent is not None:
                    on = np.flatnonzero(dates == sent.normalize())
                    if len(on) and part[on[0]] > 0:
                        timed.append((queue, dates[on[0]], sent, float(part[on[0]])))
                        timed_ids.append(cid)
        frames.append(pd.DataFrame({"queue": queue, "date": dates, "extra": extra, "calendar_days": by_calendar}))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    out.attrs["shapes"] = result["shapes"]      # the carry-over shapes used, for the caller to reuse
    timed = pd.DataFrame(timed, columns=["queue", "date", "send", "extra"])
    timed["channel"] = [exp.channel.get(c) for c in timed_ids]
    taus = learn_intraday(actuals, timed[timed["date"] <= pd.Timestamp(as_of)], config.interval_min)
    out.attrs["timed"] = timed.assign(tau=timed["channel"].map(lambda ch: taus.get(ch)))
    out.attrs["intraday"] = taus
    return out


def learn_intraday(actuals: pd.DataFrame, timed: pd.DataFrame, interval_min: int) -> dict[str, float | None]:
    """Per channel, how fast a timed send's response fades within its day (``tau`` of
    :func:`~forecaster.features.adstock.after_send_weights`): the candidate that leaves the least
    squared error on the history's send days, where everything but the send's own contacts follows
    the weekday's intraday shape on days without a timed send. A channel without timed sends in history gets no entry."""
    if timed.empty:
        return {}
    step = pd.Timedelta(minutes=interval_min)
    # each weekday's intraday shape from the days without a timed send, so the sends' own spikes are
    # not in the shape they are measured against
    sent_days = set(timed["date"])
    quiet = {q: Activity.learn(g, pd.DatetimeIndex(sorted(set(g["interval_start"].dt.normalize()) - sent_days)))
             for q, g in actuals[actuals["queue"].isin(set(timed["queue"]))].groupby("queue")}
    a = actuals.assign(day=actuals["interval_start"].dt.normalize())
    a = a[a.set_index(["queue", "day"]).index.isin(pd.MultiIndex.from_arrays([timed["queue"], timed["date"]]))]
    days = {k: g.sort_values("interval_start") for k, g in a.groupby(["queue", "day"])}
    sse: dict[str, dict] = {}
    for t in timed.itertuples():
        g = days.get((t.queue, t.date))
        act = quiet.get(t.queue)
        if g is None or act is None:
            continue
        ts = g["interval_start"]
        minutes = (ts.dt.hour * 60 + ts.dt.minute).to_numpy()
        after = np.append(act.after[t.date.weekday()], 0.0)
        shape = after[minutes] - after[np.minimum(minutes + interval_min, 1440)]
        if shape.sum() <= 0:
            continue
        shape = shape / shape.sum()
        y = g["contacts"].to_numpy(float)
        base = (y.sum() - t.extra) * shape
        late = (ts + step > t.send).to_numpy()
        for tau in INTRADAY_TAUS:
            err = y - base - t.extra * after_send_weights(shape, late, tau)
            sse.setdefault(t.channel, {}).setdefault(tau, 0.0)
            sse[t.channel][tau] += float(err @ err)
    return {ch: min(tried, key=tried.get) for ch, tried in sse.items()}
