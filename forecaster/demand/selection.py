"""Forecast contacts and AHT per queue and open interval.

Models (each returns a point forecast for every open interval of the horizon):

* ``snaive_week`` (baseline): the same interval one week earlier; where that was closed or
  missing, the week before that, and so on. Beyond the first week the last observed week repeats.
* ``mean4`` (baseline): the mean of the same weekday and time over the last 4 weeks of history.
* ``topdown`` and ``topdown_pooled``: the daily total of each open day from statsforecast's ARIMA
  with regressors (AR(2) errors on log totals; regressors: weekday, trend, yearly Fourier terms,
  holidays and their eves in proportion to the weekday's volume, a recent lasting level shift where
  one is clear; campaigns as offsets, below); in the first week ahead, the median of that, the same
  regression with IMA(1,1) errors on the full weekdays, and the last four weeks' mean,
  then split over the day's intervals by the queue's intraday profile over the last 16 ordinary
  weeks: per weekday, or pooled over days with the same opening hours.
  Only open days enter the daily series, as consecutive steps, so closed days and holidays do not
  distort it; the calendar lives in the regressors.
* ``mstl``, the direct interval model: statsforecast's MSTL (daily and weekly seasonality) on the
  last 10 weeks of the interval series, days without data filled from the week before; trend and
  remainder by ARIMA with AR(2) errors and the holiday regressors.

Campaigns: the top-down models take the campaign-impact model's contacts out of their daily
history and add them to the forecast days; every other model (and so the median) gets the same
contacts through the campaign layer of :func:`~forecaster.demand.models.base.point_forecast`.

Per queue, the model with the lowest WAPE over rolling origins (the last weeks before the
forecast origin) is chosen. Prediction intervals are split-conformal: the backtest residuals of
the chosen model, scaled by sqrt(forecast + 1) (counts are roughly Poisson), give the 80 % and
95 % quantiles of the scaled error, per bin of the forecast where quiet intervals are many
(:func:`~forecaster.demand.intervals.volume_widths`). A model that fails for a queue falls back
to the next best and the run records which, and why.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecaster.core.config import Config
from forecaster.core.errors import UserError
from forecaster.core.grid import by_queue, future_grid, minute_of_day
from forecaster.core.site_calendar import wall_occurrences
from forecaster.demand.aht import aht_forecast
from forecaster.demand.context import Context, campaign_layer, learned_shapes, make_context, switch_on_campaigns
from forecaster.demand.intervals import (
    BAND_COLUMNS,
    daily_widths,
    forecast_record,
    grown,
    lead_growth,
    per_interval,
    unannounced,
    volume_widths,
    week_ahead,
    with_intervals,
    with_unannounced,
)
from forecaster.demand.models import REGISTRY, point_forecast, race
from forecaster.demand.models.combination import MedianCombination, special_rows
from forecaster.demand.models.topdown import ProfileChoice
from forecaster.demand.outliers import without_outages

MODELS = race()          # snaive_week, mean4, topdown, topdown_pooled, mstl


def predict(model: str, hist: pd.DataFrame, grid: pd.DataFrame, ctx: Context) -> np.ndarray:
    """Point forecast of the registered ``model`` for every row of ``grid``."""
    return point_forecast(model, hist, grid, ctx)


# -- selection, intervals and the run ------------------------------------------------------------
def backtest(hist: pd.DataFrame, ctx: Context, origins: list[pd.Timestamp], days: int,
             models: tuple[str, ...] = MODELS) -> tuple[pd.DataFrame, list[dict]]:
    """Forecast the ``days`` after each origin from the history before it, for every model.

    Returns ``queue, ds, y, p, model, origin`` and a list of failures (model, origin, reason).
    """
    frames, failures = [], []
    for origin in sorted(origins):                  # oldest first: later origins reuse what it learned
        past = hist[hist["ds"] < origin]
        test = hist[(hist["ds"] >= origin) & (hist["ds"] < origin + pd.Timedelta(days=days))].reset_index(drop=True)
        if past.empty or test.empty:
            continue
        points: dict[str, np.ndarray] = {}
        for model in sorted(models, key=lambda m: hasattr(REGISTRY[m], "combine")):   # members first
            try:
                p = _backtest_point(model, past, test, ctx, points)
            except Exception as exc:  # noqa: BLE001 - recorded, and the model is skipped at this origin
                failures.append({"model": model, "origin": str(origin.date()), "reason": f"{type(exc).__name__}: {exc}"})
                continue
            points[model] = p
            frames.append(test[["queue", "ds", "y"]].assign(p=p, model=model, origin=origin))
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), failures


def _backtest_point(model: str, past: pd.DataFrame, test: pd.DataFrame, ctx: Context,
                    points: dict[str, np.ndarray]) -> np.ndarray:
    """A model's forecast at one origin; a combination whose members were all forecast there is
    combined from their forecasts instead of fitting every member again (the same numbers)."""
    cls = REGISTRY[model]
    if hasattr(cls, "combine"):
        days = past["ds"].dt.normalize().nunique()              # as the combination's own fit counts them
        members = [m for m in cls.members if days >= REGISTRY[m].min_history_days]
        if members and all(m in points for m in members):
            return cls.combine([points[m] for m in members], members, special_rows(test["ds"], ctx.holidays))
    return predict(model, past, test[["queue", "ds"]], ctx)


def wape(frame: pd.DataFrame) -> float:
    total = frame["y"].sum()
    return float(np.abs(frame["y"] - frame["p"]).sum() / total) if total > 0 else float("nan")


@dataclass
class ForecastResult:
    frame: pd.DataFrame                         # queue, interval_start, forecast, lo/hi 80/95, aht_s, model
    info: dict                                  # per queue: model, scores, widths; shapes; fallbacks; warnings


MIN_BACKTEST_DAYS = 7   # a backtest window spans every weekday, however short the horizon


def run_forecast(hist: pd.DataFrame, campaigns: pd.DataFrame, config: Config, as_of: dt.date, days: int,
                 backtest_days: int = 14, origins: int = 3, engine: str = "local",
                 previous: dict[str, str] | None = None, mend_outages: bool = True,
                 record: pd.DataFrame | None = None) -> ForecastResult:
    """Choose a model per queue by rolling-origin WAPE, then forecast ``days`` days after ``as_of``.
    The backtest forecasts ``backtest_days`` at ``origins`` weekly origins, the last window ending
    on ``as_of``: fewer days for a shorter horizon, but never fewer than :data:`MIN_BACKTEST_DAYS`.
    A window as short as one day ahead tested only the day before: from a Saturday of a
    Sunday-to-Thursday site, the closed Saturdays (no model had a score; the forecast fell back to
    last week's with no bands), and on any site three days of evidence (a choice by chance).

    ``hist`` is ``queue, ds, y`` and optionally ``aht_s`` (actuals up to the end of ``as_of``); ``campaigns`` the
    current, not withdrawn campaigns (``channel, start_ts, end_ts, queues, reach``); ``previous``
    each queue's model in the plan before, kept unless a new choice is clearly better (:func:`rank`);
    ``mend_outages=False`` leaves outage days as they are (to measure what mending them is worth);
    ``record``: earlier forecasts' daily totals against the actuals (``queue, origin, ds, y, p``),
    which the daily bands' calibration adds to the backtest's (:func:`forecast_record`).
    """
    hist = hist[hist["ds"] < pd.Timestamp(as_of) + pd.Timedelta(days=1)]
    first_day = as_of + dt.timedelta(days=1)
    ctx = make_context(config, campaigns, hist["ds"].min().date(), first_day + dt.timedelta(days=days + 7))
    ctx.engine = engine
    hist, outages = without_outages(hist, ctx.holidays) if mend_outages else (hist, {})   # for every model
    bt_days = min(backtest_days, max(days, MIN_BACKTEST_DAYS))
    starts = [pd.Timestamp(first_day) - pd.Timedelta(days=bt_days + 7 * i) for i in range(origins)]
    info: dict = {"queues": {}, "fallbacks": [], "warnings": [], "backtest": {"origins": [str(o.date()) for o in starts],
                                                                             "days": bt_days}}
    switch_on_campaigns(ctx, min(starts))
    results, failures = backtest(hist, ctx, starts, bt_days)
    info["fallbacks"] += [{"queue": "*", **f} for f in failures]
    grid = future_grid(config, config.queue_names, first_day, days)
    frames = []
    # one split per frame, not a comparison over every row per queue (that grew with the square of the queues)
    hists, grids = by_queue(hist), by_queue(grid)
    scored = by_queue(results) if len(results) else {}
    plans = {}
    last_day = first_day + dt.timedelta(days=days - 1)
    span = f"on {first_day}" if days == 1 else f"on every day from {first_day} to {last_day}"
    for queue in config.queue_names:
        if queue not in hists:
            info["warnings"].append(f"queue {queue}: no history up to {as_of}; no forecast")
            continue
        if queue not in grids:
            info["warnings"].append(f"queue {queue}: closed {span}; nothing to forecast")
            continue
        plans[queue] = _plan(queue, hists[queue], scored.get(queue, pd.DataFrame()), info,
                             (previous or {}).get(queue), ctx.holidays)
    if not plans and set(hists) & set(config.queue_names):
        raise UserError(f"nothing to forecast: every queue is closed {span} (opening hours, holidays); ask for a "
                        "longer --horizon or a later --as-of")
    if not plans:
        raise UserError(f"none of the config's queues ({', '.join(config.queue_names)}) has actuals up to {as_of} "
                        f"(the actuals hold {', '.join(sorted(hists)) or 'none'}); check the queue names in the "
                        "config against the ingested files")
    points = _first_choices(plans, hist, grid, ctx, info)
    for queue, plan in plans.items():
        frames.append(_forecast_queue(queue, hists[queue], grids[queue].reset_index(drop=True), plan,
                                      points.get(queue), ctx, info, pd.Timestamp(first_day),
                                      forecast_record(record, queue, pd.Timestamp(first_day))))
    for queue, odd in outages.items():
        if queue in info["queues"]:
            _record_outliers(queue, odd, hists[queue]["ds"].max().normalize(), info)
    # the response shapes the forecast used: normally those its backtest scored (learned by the impact
    # model before the earliest origin, four weeks back), as learning them again cost 10 s per 12 queues
    info["adstock"] = learned_shapes(ctx, pd.Timestamp(as_of))
    for queue, (_, choice) in ctx.profile_choices.items():               # topdown's intraday profile window
        if queue in info["queues"]:
            info["queues"][queue]["profile"] = profile_record(choice)
    for queue, (end, cycle) in ctx.month_cycles.items():                 # topdown's day-of-month cycle
        if queue in info["queues"]:
            info["queues"][queue]["month_cycle"] = {**cycle, "history_to": str(end.date())}
    for queue, (end, shift) in ctx.level_shifts.items():                 # topdown's level shift, if any
        if queue in info["queues"] and shift is not None:
            info["queues"][queue]["level_shift"] = {**shift, "history_to": str(end.date())}
            info["warnings"].append(
                f"queue {queue}: its daily volume moved by {shift['change_pct']:+.0f} % from {shift['from']} on and has "
                f"stayed there (history to {end.date()}); the top-down models forecast the new level. If the change "
                "does not last (a passing event), mark those days as an event in the calendar")
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["queue", "interval_start", "forecast", "lo_80", "hi_80", "lo_95", "hi_95", "aht_s", "model"])
    return ForecastResult(at_clock_changes(frame, config, info), info)


def profile_record(choice: ProfileChoice) -> dict:
    """A queue's intraday profile choice as its run records it (``runs show`` prints it): the
    window, and the weekdays that take their own (by name) where any do."""
    (weeks, halflife), own = choice
    out: dict = {"weeks": weeks, "halflife_weeks": halflife}
    if own:
        out["own_weekdays"] = {calendar.day_abbr[wd]: {"weeks": w, "halflife_weeks": hl} for wd, (w, hl) in own.items()}
    return out


def at_clock_changes(frame: pd.DataFrame, config: Config, info: dict) -> pd.DataFrame:
    """Intervals at DST changes hold their real minutes: the repeated hour's slots twice the
    contacts of an ordinary slot (both occurrences), the skipped hour's none. Models forecast
    wall-clock slots as if every one were ``interval_min`` long."""
    if frame.empty:
        return frame
    occ = wall_occurrences(config.timezone, frame["interval_start"])
    if (occ == 1).all():
        return frame
    frame = frame.copy()
    for col in BAND_COLUMNS:
        frame[col] = frame[col] * occ
    for times, what in ((frame.loc[occ == 2, "interval_start"], ("hold both occurrences of the repeated hour "
                                                                 "(clocks go back): twice an ordinary slot's contacts")),
                        (frame.loc[occ == 0, "interval_start"], "do not exist (clocks jump forward): 0 contacts")):
        if len(times):
            days = sorted({f"{t:%Y-%m-%d}" for t in times})
            info["warnings"].append(f"{len(times)} interval(s) on {', '.join(days)} {what}")
    return frame


# The combination in the race: the median of the queue's COMBINED best models by backtest WAPE. A
# single model replaces it only when its backtest WAPE is CLEAR_GAIN lower: selection on a few weeks
# of backtest is noisy, and a model picked on a lucky stretch fails the next week.
COMBINATION = "median"
COMBINED = 3
CLEAR_GAIN = 0.10
SWITCH_GAIN = 0.05        # hysteresis: how much better a new choice must be than the plan's


def combination_backtest(mine: pd.DataFrame, members: list[str], hol: pd.DataFrame) -> pd.DataFrame:
    """The combination's backtest rows (``queue, ds, y, p, model, origin``) from its members' rows
    (``hol``: the holiday features, for the days only holiday-aware members vote on)."""
    rows = mine[mine["model"].isin(members)]
    wide = rows.pivot_table(index=["queue", "origin", "ds"], columns="model", values="p")
    y = rows.groupby(["queue", "origin", "ds"])["y"].first()
    wide = wide.dropna()
    p = MedianCombination.combine([wide[m].to_numpy() for m in members], members,
                                  special_rows(wide.index.get_level_values("ds"), hol))
    return pd.DataFrame({"y": y.reindex(wide.index).to_numpy(), "p": p}, index=wide.index).reset_index() \
        .assign(model=COMBINATION)


def rank(eligible: list[str], scored: dict[str, float], previous: str | None = None) -> tuple[list[str], str]:
    """The models in the order they are tried (lowest backtest WAPE first, unscored last, the
    combination first unless a model beats it clearly), and the reason for the first.

    ``previous`` is the queue's model in the plan before (the published run). Hysteresis, as a
    plan whose model flips on a few weeks' noise is hard to trust: a single model the plan had stays
    first while its WAPE is still SWITCH_GAIN below the combination's (it took CLEAR_GAIN to get in)
    and no other model's is SWITCH_GAIN below its own. Going back to the combination, the robust
    default, takes no more than that."""
    ranked, reason = _ranked(eligible, scored)
    if previous is None or previous == ranked[0] or previous == COMBINATION or previous not in ranked:
        return ranked, reason
    score = {m: float(scored.get(m, np.nan)) for m in ranked}
    old = score[previous]
    if not np.isfinite(old):
        return ranked, reason
    singles = [v for m, v in score.items() if m not in (previous, COMBINATION) and np.isfinite(v)]
    comb = score.get(COMBINATION, np.nan)
    if np.isfinite(comb) and old > (1 - SWITCH_GAIN) * comb:
        return ranked, f"{reason}; {previous}, the plan's model before, is no longer {SWITCH_GAIN:.0%} below it ({old:.4f})"
    if singles and min(singles) <= (1 - SWITCH_GAIN) * old:
        return ranked, f"{reason}; switched from {previous} (WAPE {old:.4f}), at least {SWITCH_GAIN:.0%} worse"
    ranked.remove(previous)
    return [previous, *ranked], (f"{previous}: kept from the plan before (WAPE {old:.4f}): still {SWITCH_GAIN:.0%} "
                                 f"below the combination's, and no model {SWITCH_GAIN:.0%} below it ({reason})")


def _ranked(eligible: list[str], scored: dict[str, float]) -> tuple[list[str], str]:
    score = {m: float(scored.get(m, np.inf)) for m in eligible}
    score = {m: np.inf if np.isnan(v) else v for m, v in score.items()}
    ranked = sorted(eligible, key=score.get)
    best = ranked[0]
    if COMBINATION in score and np.isfinite(score[COMBINATION]) and best != COMBINATION:
        if score[best] > (1 - CLEAR_GAIN) * score[COMBINATION]:
            ranked.remove(COMBINATION)
            return [COMBINATION, *ranked], (f"{COMBINATION}: no model beats the combination's WAPE "
                                            f"{score[COMBINATION]:.4f} by {CLEAR_GAIN:.0%} (best {best} {score[best]:.4f})")
        return ranked, (f"{best}: WAPE {score[best]:.4f}, at least {CLEAR_GAIN:.0%} below the combination's "
                        f"{score[COMBINATION]:.4f}")
    if not np.isfinite(score[best]):
        return ranked, f"{best}: no backtest score; the first eligible model"
    return ranked, f"{best}: lowest backtest WAPE {score[best]:.4f}"


@dataclass
class _Plan:
    """A queue's race, decided on its backtest before any forecast is made."""

    ranked: list[str]                   # models in the order they are tried
    reason: str
    members: list[str]                  # the combination's members
    combined: pd.DataFrame              # the combination's backtest rows
    mine: pd.DataFrame                  # the queue's backtest rows
    scored: dict[str, float]            # backtest WAPE per model
    history_days: int


def _plan(queue: str, q_hist: pd.DataFrame, mine: pd.DataFrame, info: dict, previous: str | None,
          hol: pd.DataFrame) -> _Plan:
    """The race for one queue; ``mine`` is the queue's backtest rows (``queue, ds, y, p, model, origin``)."""
    history_days = q_hist["ds"].dt.normalize().nunique()
    scored = {m: wape(g) for m, g in mine.groupby("model")} if len(mine) else {}
    if not len(mine):
        mine = pd.DataFrame(columns=["model"])
    eligible = [m for m in MODELS if history_days >= REGISTRY[m].min_history_days] or ["snaive_week"]
    if len(eligible) < len(MODELS):
        info["warnings"].append(f"queue {queue}: only {history_days} days of history; using simpler models "
                                f"({', '.join(eligible)})")
    members = [m for m in sorted(eligible, key=lambda m: scored.get(m, np.inf)) if np.isfinite(scored.get(m, np.nan))]
    members = members[:COMBINED]
    combined = combination_backtest(mine, members, hol) if len(members) >= 2 else pd.DataFrame()
    if len(combined):
        scored[COMBINATION] = wape(combined)
        eligible = [*eligible, COMBINATION]
    ranked, reason = rank(eligible, scored, previous)
    return _Plan(ranked, reason, members, combined, mine, scored, int(history_days))


def _point(model: str, members: list[str], hist: pd.DataFrame, grid: pd.DataFrame, ctx: Context) -> np.ndarray:
    if model == COMBINATION:
        return MedianCombination(ctx, members).forecast(hist, grid)[COMBINATION].to_numpy()
    return predict(model, hist, grid, ctx)


def _first_choices(plans: dict[str, _Plan], hist: pd.DataFrame, grid: pd.DataFrame, ctx: Context,
                   info: dict) -> dict[str, tuple[np.ndarray, pd.Series | None]]:
    """Each queue's forecast by its first-ranked model, made for all queues of one choice together
    (one statsforecast call and one campaign-impact fit per model, as in the backtest, not one per
    queue), with the campaign contacts per queue and date it used. A group whose forecast fails is
    left out, with a warning: its queues go through their ranking one by one
    (:func:`_forecast_queue`), where each failure is recorded."""
    groups: dict[tuple, list[str]] = {}
    for queue, plan in plans.items():
        # the median does not depend on its members' order: queues with the same three share a fit
        key = (plan.ranked[0], tuple(sorted(plan.members)) if plan.ranked[0] == COMBINATION else ())
        groups.setdefault(key, []).append(queue)
    out = {}
    for (model, members), queues in groups.items():
        h = hist[hist["queue"].isin(queues)]
        g = grid[grid["queue"].isin(queues)].reset_index(drop=True)
        try:
            point = _point(model, list(members), h, g, ctx)
        except Exception as exc:  # noqa: BLE001 - recorded; each queue tries again alone
            info["warnings"].append(f"{model} failed for queues {', '.join(queues)} together "
                                    f"({type(exc).__name__}: {exc}); each queue was forecast alone")
            continue
        by = g.groupby("queue", sort=False)
        extra, _ = campaign_layer(h, by.groups, g, ctx)     # the fit the forecast made (cached)
        for queue, rows in by.indices.items():
            out[queue] = (point[rows], extra)
    return out


def _down_the_ranking(queue: str, plan: _Plan, q_hist: pd.DataFrame, q_grid: pd.DataFrame, ctx: Context,
                      info: dict) -> tuple[np.ndarray | None, str | None]:
    """One queue's forecast by the first of its ranked models that does not fail; each failure is recorded."""
    for model in plan.ranked:
        try:
            return _point(model, plan.members, q_hist, q_grid, ctx), model
        except Exception as exc:  # noqa: BLE001 - recorded and the next model is tried
            info["fallbacks"].append({"queue": queue, "model": model, "reason": f"{type(exc).__name__}: {exc}"})
    return None, None


def _recorded(widths: dict[str, dict[float, float]]) -> dict[str, dict[str, float]]:
    """Sided widths as a run records them: levels as strings, to 4 decimals."""
    return {side: {str(k): round(v, 4) for k, v in w.items()} for side, w in widths.items()}


def _forecast_queue(queue: str, q_hist: pd.DataFrame, q_grid: pd.DataFrame, plan: _Plan,
                    first: tuple[np.ndarray, pd.Series | None] | None, ctx: Context, info: dict,
                    first_day: pd.Timestamp, record: pd.DataFrame | None = None) -> pd.DataFrame:
    """One queue's forecast: ``first`` is its first-ranked model's point forecast and campaign
    contacts where :func:`_first_choices` made them; otherwise the ranking is tried here, model by model."""
    ranked, reason, members, combined, mine, scored = (plan.ranked, plan.reason, plan.members, plan.combined,
                                                       plan.mine, plan.scored)
    if first is not None:
        (point, extra), chosen = first, ranked[0]
    else:
        point, chosen = _down_the_ranking(queue, plan, q_hist, q_grid, ctx, info)
        extra, _ = campaign_layer(q_hist, q_grid.groupby("queue").groups, q_grid, ctx)
    if chosen == COMBINATION:
        residuals = combined
    else:
        residuals = mine[mine["model"] == chosen] if len(mine) else pd.DataFrame()
    widths = volume_widths(residuals)
    if not len(residuals):
        info["warnings"].append(f"queue {queue}: no backtest residuals; prediction intervals are empty")
    if chosen != ranked[0]:
        reason = f"{ranked[0]} failed; {chosen} is the next best"
    info["queues"][queue] = {"model": chosen, "reason": reason, "wape": {m: round(v, 4) for m, v in scored.items()},
                             "combination": members if chosen == COMBINATION else [],
                             "interval_scale": _recorded(widths["widths"][-1]),
                             "interval_bins": {"edges": widths["edges"],
                                               "widths": [_recorded(w) for w in widths["widths"]]},
                             "daily_scale": _recorded(daily_widths(residuals, record)),
                             "daily_record_days": 0 if record is None else len(record),
                             "history_days": plan.history_days}
    weeks = week_ahead(q_grid["ds"], first_day)
    growth = lead_growth(q_hist, ctx, first_day, int(weeks.max())) if len(weeks) else None
    info["queues"][queue]["lead_growth"] = growth
    room = info["queues"][queue]["unannounced"] = unannounced(extra, q_hist, ctx.campaigns, queue)
    bands = with_intervals(point, grown(per_interval(point, widths), growth, "interval", weeks))
    if room:                                    # each interval's room in proportion to its forecast
        bands = with_unannounced(point, bands, room, q_grid["ds"].dt.normalize())
    out = q_grid.rename(columns={"ds": "interval_start"}).assign(forecast=point, **bands)
    out["aht_s"] = aht_forecast(q_hist, q_grid, ctx.config)
    out["model"] = chosen
    unseen = unseen_slots(q_hist, q_grid, point)
    if unseen:
        info["warnings"].append(f"queue {queue}: {unseen}")
    return out


OUTLIERS_TOLD_DAYS = 28    # outlier days this recent are also a run warning: a planner can still check them


def _record_outliers(queue: str, odd: pd.DataFrame, last: pd.Timestamp, info: dict) -> None:
    """The outage days the models saw at their weekday's usual volume (``date, contacts, used``:
    :func:`~forecaster.demand.outliers.without_outages`) in the queue's run info, and a warning for
    each in the OUTLIERS_TOLD_DAYS days up to ``last``, the history's end."""
    info["queues"][queue]["outlier_days"] = [
        {"date": f"{r.date:%Y-%m-%d}", "contacts": round(float(r.contacts), 1), "used": round(float(r.used), 1)}
        for r in odd.itertuples()]
    for r in odd[odd["date"] > last - pd.Timedelta(days=OUTLIERS_TOLD_DAYS)].itertuples():
        info["warnings"].append(f"queue {queue}: {r.date:%a %Y-%m-%d} had {r.contacts:,.0f} contacts where that "
                                f"weekday usually has about {r.used:,.0f} (an outage, or data lost?); the models "
                                f"took it as {r.used:,.0f}")


def unseen_slots(q_hist: pd.DataFrame, q_grid: pd.DataFrame, point: np.ndarray, weeks: int = 4) -> str | None:
    """A warning for open intervals whose weekday and time have no actuals at all in the last
    ``weeks`` weeks (new opening hours): the models have nothing to forecast them from, and most
    forecast 0 there. (A quiet slot with rows of 0 contacts is history, not a gap.)"""
    since = q_hist["ds"].max().normalize() - pd.Timedelta(days=7 * weeks - 1)
    recent = q_hist[q_hist["ds"] >= since]
    seen = set(zip(recent["ds"].dt.weekday, minute_of_day(recent["ds"])))
    empty = np.array([slot not in seen for slot in zip(q_grid["ds"].dt.weekday, minute_of_day(q_grid["ds"]))])
    if not empty.any():
        return None
    first = q_grid.loc[empty, "ds"].iloc[0]
    return (f"{int(empty.sum())} open interval(s) (first {first:%a %Y-%m-%d %H:%M}) have no actuals at that weekday "
            f"and time in the last {weeks} weeks (new opening hours?): their forecast, "
            f"{float(np.asarray(point)[empty].sum()):,.0f} contacts in all, has nothing to go on; check it, or staff "
            "them by hand until there is history")