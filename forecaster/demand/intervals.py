"""Prediction intervals: split-conformal widths from backtest errors, per interval and per day,
each side from its own tail (errors of contact counts are skewed), and how they widen with the
lead time.

A model's backtest (14 days ahead) calibrates the bands of the first two weeks. Errors grow
further out (the level drifts, a profile ages), so each week ahead from the third gets the growth
that the four-week average (``mean4``, cheap enough to run at many origins over the whole horizon)
shows on the queue's own history: one slope for its squared error quantiles over the weeks past
the first two (:func:`_linear_variance`), never below 1, applied to both sides.

Campaigns not on the calendar yet are the one error that only adds contacts: the backtest's
calendar held every campaign its days saw, but planners hear of a campaign days or weeks before
it starts, so past the calendar's last known start the days will hold campaigns nobody has
submitted. Upper bands there widen by what past campaigns put on a day (:func:`unannounced`): a
day's total by all of it, each interval by its share of the day (so staffing quantiles too).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecaster.demand.models.baselines import WeekdayMean
from forecaster.demand.models.combination import special_rows

LEVELS = (0.8, 0.95)
CALIBRATED_WEEKS = 2            # the backtest's horizon: its widths hold for these weeks ahead
GROWTH_ORIGINS = 6              # mean4 origins a week apart, each forecasting the whole horizon


def signed_scores(residuals: pd.DataFrame) -> np.ndarray:
    """Errors scaled as counts are (roughly Poisson): (y - p) / sqrt(p + 1)."""
    return ((residuals["y"] - residuals["p"]) / np.sqrt(residuals["p"] + 1)).to_numpy(float)


def scores(residuals: pd.DataFrame) -> np.ndarray:
    """:func:`signed_scores` without their sign: |y - p| / sqrt(p + 1)."""
    return np.abs(signed_scores(residuals))


SIDES = ("lower", "upper")


def conformal_widths(residuals: pd.DataFrame) -> dict[str, dict[float, float]]:
    """Split-conformal half-widths per side and level, in units of sqrt(p + 1): the ``lower`` and
    ``upper`` quantiles of the signed scores (y - p) / sqrt(p + 1), each tail holding half of what
    the band leaves out (finite-sample corrected, never inside the point). Errors of contact
    counts are skewed: a campaign's response under-estimated, an unmodelled spike, only ever add
    contacts, while the quiet side is ordinary noise. One width for both sides took the wide
    side's: on a real bank with campaigns, its intervals' 95 % bands were exceeded above 2.9-3.7 %
    of the time and below 0.2-1.0 %. (Daily totals, fewer by far, take :func:`symmetric_widths`.)"""
    s = np.sort(signed_scores(residuals)) if len(residuals) else np.array([])
    n = len(s)
    if not n:
        return {side: {lvl: float("nan") for lvl in LEVELS} for side in SIDES}
    out: dict[str, dict[float, float]] = {side: {} for side in SIDES}
    for lvl in LEVELS:
        tail = (1 - lvl) / 2
        lo = s[max(int(np.floor((n + 1) * tail)), 1) - 1]
        hi = s[min(n, int(np.ceil((n + 1) * (1 - tail)))) - 1]
        out["lower"][lvl], out["upper"][lvl] = max(-float(lo), 0.0), max(float(hi), 0.0)
    return out


VOLUME_EDGES = (0.25, 1.0, 4.0)     # forecast contacts: the quiet intervals' bins, a factor of 4 apart
MIN_GROUP_ROWS = 200                # backtest rows a bin needs before it is calibrated on its own


def volume_widths(residuals: pd.DataFrame) -> dict:
    """Conformal widths (:func:`conformal_widths`) per bin of the forecast: below 0.25 contacts,
    0.25-1, 1-4 and from 4 up (:data:`VOLUME_EDGES`), each bin from its own backtest rows;
    ``{"edges": [...], "widths": [one per bin, the quietest first]}``. An edge is kept only where
    both sides of it hold :data:`MIN_GROUP_ROWS` rows (a short bin joins the next busier one), so
    a site without quiet intervals keeps one pooled width.

    Below a few contacts a count's error is mostly its whole-number steps (0.3 expected: 0 or 1
    seen, small scaled scores), while a busy interval shares its day's level error, more than
    sqrt(p + 1) allows for. One width for all took the middle: on a real bank open day and night
    its 80 % bands held 97 % of its quietest third of intervals (the nights) and 70 % of its
    busiest third, so staffing at the 0.8 quantile was thin at the peaks. One cut at two contacts
    fixed that bank but, on the same calls thinned to a tenth, held the intervals just under the
    cut (1-2 contacts, calibrated with the nights of 0.1) 66 % of the time."""
    p = residuals["p"].to_numpy(float) if len(residuals) else np.array([])
    edges: list[float] = []
    for edge in VOLUME_EDGES:
        below = (p < edge) & (p >= (edges[-1] if edges else -np.inf))
        if below.sum() >= MIN_GROUP_ROWS and (p >= edge).sum() >= MIN_GROUP_ROWS:
            edges.append(edge)
    bins = np.searchsorted(edges, p, side="right")
    return {"edges": edges, "widths": [conformal_widths(residuals[bins == k]) for k in range(len(edges) + 1)]}


def per_interval(point: np.ndarray, by_volume: dict) -> dict[str, dict[float, np.ndarray]]:
    """One width per row of ``point`` (as :func:`sided`): its bin's of ``by_volume`` (as
    :func:`volume_widths` returns it or a run records it)."""
    k = np.searchsorted(by_volume["edges"], np.asarray(point, dtype=float), side="right")
    bins = [sided(w) for w in by_volume["widths"]]
    return {side: {lvl: np.array([b[side][lvl] for b in bins], dtype=float)[k] for lvl in LEVELS} for side in SIDES}


def symmetric_widths(residuals: pd.DataFrame) -> dict[str, dict[float, float]]:
    """Split-conformal half-widths as :func:`conformal_widths` returns them, one for both sides:
    the ``level`` quantile of the unsigned scores |y - p| / sqrt(p + 1) (finite-sample corrected).
    Each side's own tail rests on a twentieth (95 %) or a tenth (80 %) of the rows, which a few
    dozen distinct days cannot tell from noise; both tails together rest on twice as many."""
    s = np.sort(scores(residuals)) if len(residuals) else np.array([])
    n = len(s)
    width = {lvl: float(s[min(n, int(np.ceil((n + 1) * lvl))) - 1]) if n else float("nan") for lvl in LEVELS}
    return {side: dict(width) for side in SIDES}


def sided(widths: dict) -> dict[str, dict[float, float | np.ndarray]]:
    """Widths as ``{"lower": {level: w}, "upper": {level: w}}``, levels as numbers (a run's record
    holds them as strings); one width per level, as runs recorded before the sides, serves both."""
    if "lower" in widths:
        return {side: {float(k): v for k, v in widths[side].items()} for side in SIDES}
    one = {float(k): v for k, v in widths.items()}
    return {side: one for side in SIDES}


def daily_totals(residuals: pd.DataFrame) -> pd.DataFrame:
    """Residual rows summed per origin and day (``origin``, ``ds`` at midnight, ``y``, ``p``)."""
    day = residuals["ds"].dt.normalize().rename("ds")
    return residuals.groupby([residuals["origin"], day])[["y", "p"]].sum().reset_index()


def daily_widths(residuals: pd.DataFrame, record: pd.DataFrame | None = None) -> dict[str, dict[float, float]]:
    """:func:`symmetric_widths` of daily totals (per origin and day): the daily bands' own calibration.
    A day's total is not as uncertain as the sum of its interval bands says (their errors partly
    cancel), nor as certain as independent intervals would make it (a day's level error is shared).
    One width for both sides: the backtest's three overlapping windows hold about 20 distinct
    days, and each side from its own tail followed their noise. On the real series
    (``benchmarks.real_accuracy``, 16 weekly origins) 15 of the 48 daily coverage figures per week
    ahead were outside the targets with a width per side, 7 with one for both; the campaign
    series' campaign days were inside their 80 % bands 67 % and 64 % of the time.

    ``record``: earlier forecasts' daily totals against the actuals (``origin, ds, y, p``, the
    first :data:`CALIBRATED_WEEKS` weeks of each), scored with the backtest's. A day's error is
    mostly its week's level, which the backtest's three overlapping windows see one or two of:
    bands from them alone follow the last month's calm or storm."""
    days = daily_totals(residuals) if len(residuals) else residuals
    if record is not None and len(record):
        days = pd.concat([days, record[["origin", "ds", "y", "p"]]], ignore_index=True)
    return symmetric_widths(days)


RECORD_WEEKS = 16       # earlier forecasts in the daily calibration: those made in the last 16 weeks


def forecast_record(record: pd.DataFrame | None, queue: str, first_day: pd.Timestamp) -> pd.DataFrame | None:
    """``queue``'s rows of ``record`` (``queue, origin, ds, y, p``: earlier forecasts' daily totals
    and the actuals) that a forecast from ``first_day`` may use: days before it, in the first
    :data:`CALIBRATED_WEEKS` weeks of a forecast made in the last :data:`RECORD_WEEKS` weeks."""
    if record is None or not len(record):
        return None
    r = record[record["queue"] == queue]
    lead = (r["ds"] - r["origin"]).dt.days
    keep = (r["ds"] < first_day) & (lead >= 0) & (lead < 7 * CALIBRATED_WEEKS) & \
        (r["origin"] >= first_day - pd.Timedelta(weeks=RECORD_WEEKS))
    return r[keep]


def with_intervals(point: np.ndarray, widths: dict) -> dict[str, np.ndarray]:
    """80 % and 95 % bands around ``point`` (as :func:`sided`); a width may be one number or one per row."""
    spread = np.sqrt(point + 1)
    w = sided(widths)
    out = {}
    for lvl, name in ((0.8, "80"), (0.95, "95")):
        lo, hi = (np.nan_to_num(np.asarray(w[side][lvl], dtype=float), nan=0.0) for side in SIDES)
        out[f"lo_{name}"] = np.maximum(point - lo * spread, 0.0)
        out[f"hi_{name}"] = point + hi * spread
    return out


def week_ahead(ds: pd.Series, first_day: pd.Timestamp) -> np.ndarray:
    """1 for the first seven days from ``first_day``, 2 for the next seven, and so on."""
    return ((ds.dt.normalize() - first_day).dt.days.to_numpy() // 7 + 1).astype(int)


def lead_growth(history: pd.DataFrame, ctx, first_day: pd.Timestamp, weeks: int) -> dict | None:
    """Per level of detail (``interval``, ``daily``) and band (0.8, 0.95): the factor for each week
    ahead (1..``weeks``) by which the backtest's widths grow, from ``mean4``'s errors at
    :data:`GROWTH_ORIGINS` origins on ``history`` (one queue). None when the history is too short.

    Special days (holidays, eves, days after a closed holiday, bridge days, observances) are left
    out of both sides of the ratio: ``mean4`` knows nothing of them, so its errors there measure
    the holiday terms it lacks, not the lead time, and the models forecast them with those terms.
    On a real bank, the autumn holidays in mean4's weeks 3-6 made the daily 95 % bands 2.4-2.7
    times the backtest's for every day of those weeks, ordinary or not."""
    horizon = pd.Timedelta(days=7 * weeks)
    frames = []
    for i in range(GROWTH_ORIGINS):
        origin = first_day - horizon - pd.Timedelta(days=7 * i)
        past, test = history[history["ds"] < origin], history[(history["ds"] >= origin) & (history["ds"] < origin + horizon)]
        if past["ds"].dt.normalize().nunique() < 28 or test.empty:
            continue
        p = WeekdayMean(ctx).forecast(past, test[["queue", "ds"]])["mean4"].to_numpy()
        frames.append(test[["queue", "ds", "y"]].assign(p=p, origin=origin, week=week_ahead(test["ds"], origin)))
    if len(frames) < 2 or weeks <= CALIBRATED_WEEKS:
        return None
    res = pd.concat(frames, ignore_index=True)
    hol = getattr(ctx, "holidays", None)
    if hol is not None and len(hol):
        res = res[~special_rows(res["ds"], hol)]
    day = daily_totals(res)
    day["week"] = ((day["ds"] - day["origin"]).dt.days // 7 + 1).astype(int)
    out = {}
    for level, frame in (("interval", res), ("daily", day)):
        s = pd.Series(scores(frame), index=frame.index)
        out[level] = {str(lvl): _linear_variance(s, frame["week"], lvl, weeks) for lvl in LEVELS}
    return out


def _linear_variance(s: pd.Series, week: pd.Series, lvl: float, weeks: int) -> list[float]:
    """Growth factors for weeks 1..``weeks``: 1 for the calibrated weeks, then ``sqrt(1 + c (k - 2))``,
    the squared width growing linearly with the weeks past them, ``c >= 0`` fitted by least
    squares to the squared ratios of each later week's ``lvl`` quantile of the scores ``s`` to the
    calibrated weeks'. One slope from all later weeks: each week's own ratio rests on a few dozen
    days, and clipped at 1 week by week its noise only ever widened the bands."""
    ref = s[week <= CALIBRATED_WEEKS].quantile(lvl) if (week <= CALIBRATED_WEEKS).any() else 0.0
    later = [(k - CALIBRATED_WEEKS, float(s[week == k].quantile(lvl) / ref) ** 2 - 1)
             for k in range(CALIBRATED_WEEKS + 1, weeks + 1) if (week == k).any()] if ref > 0 else []
    c = max(0.0, sum(x * y for x, y in later) / sum(x * x for x, _ in later)) if later else 0.0
    return [1.0 if k <= CALIBRATED_WEEKS else round(float(np.sqrt(1 + c * (k - CALIBRATED_WEEKS))), 3)
            for k in range(1, weeks + 1)]


def grown(widths: dict, growth: dict | None, level: str, weeks: np.ndarray) -> dict:
    """``widths`` (as :func:`sided`) per row: each row's week ahead scales both sides by ``growth``
    (as :func:`lead_growth`)."""
    w = sided(widths)
    if not growth:
        return w
    factors = {lvl: np.asarray(growth[level][str(lvl)], dtype=float) for lvl in LEVELS}
    per_row = {lvl: f[np.clip(weeks, 1, len(f)) - 1] for lvl, f in factors.items()}
    return {side: {lvl: w[side][lvl] * per_row[lvl] for lvl in LEVELS} for side in SIDES}


def daily_bands(point: np.ndarray, weeks: np.ndarray, queue_info: dict,
                days: pd.DatetimeIndex | None = None) -> dict[str, np.ndarray] | None:
    """Bands for daily totals ``point`` (one per day, ``weeks`` ahead) from a run's record of the
    queue (``daily_scale`` and ``lead_growth``); None for a run made before daily calibration.
    With ``days`` (the dates of ``point``), days past the calendar's last campaign start get the
    upper allowance for campaigns not on the calendar yet (``unannounced``, :func:`unannounced`)."""
    scale = queue_info.get("daily_scale")
    if not scale:
        return None
    bands = with_intervals(point, grown(scale, queue_info.get("lead_growth"), "daily", weeks))
    allowance = queue_info.get("unannounced")
    return with_unannounced(point, bands, allowance, days) if allowance and days is not None else bands


BAND_COLUMNS = ("forecast", "lo_80", "hi_80", "lo_95", "hi_95")


def daily_forecast(frame: pd.DataFrame, queue_info: dict | None, first_day: pd.Timestamp | None = None) -> pd.DataFrame:
    """Daily totals of one queue's forecast rows (``interval_start`` and :data:`BAND_COLUMNS`), one
    row per day (index ``day``): the forecast summed, the bands from the run's calibration of daily
    totals (:func:`daily_bands`, weeks ahead counted from the run's ``first_day``, by default the
    queue's first). A run made before there was one keeps the sum of its interval bands, which is
    several times too wide."""
    day = pd.to_datetime(frame["interval_start"]).dt.normalize().rename("day")
    daily = frame.groupby(day)[list(BAND_COLUMNS)].sum()
    if len(daily):
        weeks = week_ahead(daily.index.to_series(), daily.index.min() if first_day is None else first_day)
        for col, band in (daily_bands(daily["forecast"].to_numpy(float), weeks, queue_info or {}, daily.index)
                          or {}).items():
            daily[col] = band
    return daily


def with_unannounced(point: np.ndarray, bands: dict[str, np.ndarray], allowance: dict, days) -> dict[str, np.ndarray]:
    """``bands`` around ``point`` with the upper ones widened, on the ``days`` (one per row) past
    ``allowance["after"]``, by the allowance of :func:`unannounced`: its ``per_contact`` ratio
    times each row's forecast (a quiet Saturday or a night interval gets room in proportion).
    Those contacts only ever add and are independent of the model's error, so the half-widths
    are added in quadrature; lower bands stay. A run recorded before the ratio holds contacts per
    day (by the ``"0.8"`` key), which its daily totals get as they are."""
    beyond = np.asarray(pd.DatetimeIndex(days) > pd.Timestamp(allowance["after"]))
    ratio = allowance.get("per_contact")
    out = dict(bands)
    for lvl, name in ((0.8, "80"), (0.95, "95")):
        room = ratio[str(lvl)] * np.asarray(point, float) if ratio else np.full(len(point), float(allowance[str(lvl)]))
        extra = np.where(beyond, room, 0.0)
        half = np.maximum(bands[f"hi_{name}"] - point, 0.0)
        out[f"hi_{name}"] = point + np.sqrt(half ** 2 + extra ** 2)
    return out


UNANNOUNCED_WEEKS = 16
MAX_SHARE = 0.9         # a day's campaign share counted at most: 9 campaign contacts per other contact


def unannounced(extra: pd.Series | None, history: pd.DataFrame, calendar: pd.DataFrame | None,
                queue: str) -> dict | None:
    """Campaigns not on the calendar yet: planners hear of campaigns days or weeks ahead, so past
    the calendar's last known campaign start, days will hold campaign contacts the forecast does
    not know of. Their allowance per band, ``per_contact``, is the upper quantile (0.9 for the 80 %
    band, 0.975 for the 95 %) over the last :data:`UNANNOUNCED_WEEKS` weeks of the contacts the
    campaign-impact model put on past campaigns per contact the day had without them (``extra``:
    per queue and date; ``history``: the queue's own). Campaign responses follow the day's volume,
    so a Saturday at a tenth of a Monday gets a tenth of its room (one allowance in contacts for
    every day gave a real bank's quiet Fridays and Saturdays 95 % bands of +-230-350 %). ``after``
    is the last known start. None for a queue whose recent history holds no campaign contacts."""
    if extra is None or queue not in set(extra.index.get_level_values(0)):
        return None
    days = pd.DatetimeIndex(history["ds"].dt.normalize().unique())
    days = days[days > days.max() - pd.Timedelta(weeks=UNANNOUNCED_WEEKS)]
    past = extra.loc[queue].reindex(days).fillna(0.0).clip(lower=0.0)
    if not (past > 0).any():
        return None
    volume = history.groupby(history["ds"].dt.normalize())["y"].sum().reindex(days).fillna(0.0)
    # the campaigns' share of each day, at most MAX_SHARE (the model can put more on a day than it held)
    share = np.clip(np.divide(past.to_numpy(float), volume.to_numpy(float), out=np.zeros(len(days)),
                              where=volume.to_numpy(float) > 0), 0.0, MAX_SHARE)
    ratio = pd.Series(share / (1 - share), index=days)      # per contact of the day without them
    after = days.max()
    if calendar is not None and len(calendar):
        starts = calendar.loc[calendar["queues"].map(lambda qs: queue in qs), "start_ts"]
        if len(starts):
            after = max(after, starts.max().normalize())
    return {"after": str(after.date()),
            "per_contact": {"0.8": round(float(ratio.quantile(0.9)), 4), "0.95": round(float(ratio.quantile(0.975)), 4)}}
