"""The intraday reforecast end to end: take in the drop folder's new exports, read the plan and
the day so far with the store read-only, update and plan with it closed, store an intraday draft.

``forecaster intraday`` runs every 15-30 minutes beside the ACD's exports: it takes in the
files waiting in ``nightly.drop_dir`` the way the nightly does (unless a nightly job is running,
whose intake then takes them), so an export dropped there counts at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecaster.campaigns.calendar import current
from forecaster.core.config import Config
from forecaster.core.errors import UserError
from forecaster.core.site_calendar import is_open
from forecaster.demand.intraday import LevelUpdate, calibration_pairs
from forecaster.jobs.nightly import Intake, NightlyBusy, intake, job_lock
from forecaster.planning.intraday import plan_the_rest
from forecaster.store.database import Store
from forecaster.store.runs import Runs

CALIBRATION_WEEKS = 8


def _check_at(at: pd.Timestamp, span: tuple, actuals: pd.DataFrame, config: Config, queues: list[str]) -> list[str]:
    """The queues open at ``at`` with contacts before it today; a clear error otherwise."""
    first, last = span
    if first is None:
        raise UserError("the store holds no actuals yet; run 'forecaster ingest FILE' first")
    step = pd.Timedelta(minutes=config.interval_min)
    if at < first or at > last + step + pd.Timedelta(days=1):
        raise UserError(f"--at {at:%Y-%m-%d %H:%M} is outside the data (actuals from {first:%Y-%m-%d %H:%M} to "
                        f"{last:%Y-%m-%d %H:%M}); ingest today's contacts so far, or choose a time in that range")
    open_now = [q for q in queues if is_open(config, q, pd.DatetimeIndex([at]))[0]]
    if not open_now:
        raise UserError(f"--at {at:%Y-%m-%d %H:%M}: {'the site is' if len(queues) > 1 else 'queue ' + queues[0] + ' is'} "
                        "closed then (opening hours or a closed day in the config); choose a time when it is open")
    today = actuals[(actuals["interval_start"] >= at.normalize()) & (actuals["interval_start"] < at)
                    & actuals["queue"].isin(open_now)]
    if today.empty or today["contacts"].sum() <= 0:
        raise UserError(f"--at {at:%Y-%m-%d %H:%M}: the store holds no contacts of {at:%Y-%m-%d} before {at:%H:%M} "
                        "yet, so there is nothing to update the plan from; ingest this morning's export first")
    return open_now


def take_in(config: Config, store_path, lock_timeout_s: float) -> tuple[Intake | None, list[str]]:
    """The drop folder's new actuals files, ingested as the nightly's intake does (bad files moved
    to ``rejected`` with their error). Skipped while a nightly job runs: its intake has them."""
    lines: list[str] = []
    try:
        with job_lock(store_path):
            got = intake(config, store_path, lock_timeout_s, lambda *a, **k: None)
    except NightlyBusy:
        return None, ["a nightly job is running: files in the drop folder wait for its intake"]
    lines += [f"drop folder: {r['file']} rejected ({r['error']}); moved to {r['moved_to']}" for r in got.rejected]
    return got, lines + got.warnings


def intraday_store(store_path, config: Config, at: pd.Timestamp, queues: list[str] | None = None,
                   lock_timeout_s: float = 30.0, drop: bool = True) -> dict:
    """Re-forecast the rest of ``at``'s day from the contacts before it, against the published
    plan's schedule; stored as a draft of kind ``intraday`` linked to the plan (which it never
    replaces). With ``drop``, new files in the drop folder are taken in first (:func:`take_in`)."""
    got, intake_notes = take_in(config, store_path, lock_timeout_s) if drop else (None, [])
    try:
        return _update(store_path, config, at, queues or config.queue_names, lock_timeout_s, got, intake_notes)
    except UserError as exc:
        if got and got.rejected:                     # said with the error, which stops the command
            raise UserError(f"{exc} (the drop folder also had {len(got.rejected)} file(s) rejected: "
                            f"{', '.join(r['file'] for r in got.rejected)}; see its 'rejected' folder)") from None
        raise


def _update(store_path, config: Config, at: pd.Timestamp, queues: list[str], lock_timeout_s: float,
            got: Intake | None, intake_notes: list[str]) -> dict:
    day = at.normalize()
    cal_start = day - pd.Timedelta(weeks=CALIBRATION_WEEKS)
    with Store(store_path, read_only=True, lock_timeout_s=lock_timeout_s) as store:
        runs = Runs(store)
        actuals = store.actuals(queues, start=(cal_start - pd.Timedelta(weeks=4)).to_pydatetime(),
                                end=(day + pd.Timedelta(days=1)).to_pydatetime())
        open_now = _check_at(at, store.actuals_span(queues), actuals, config, queues)
        run_id, run = runs.forecast_run(None)
        tomorrow = (day + pd.Timedelta(days=1)).to_pydatetime()
        plan = runs.forecast(run_id, day.to_pydatetime(), tomorrow)
        coverage = runs.coverage(run_id, at.to_pydatetime(), tomorrow)
        windows = runs.capacity(run_id)["windows"]
        plans = runs.earlier_plans(cal_start.to_pydatetime(), day.to_pydatetime())
        calendar = current(store)
    plan = plan[plan["queue"].isin(open_now)].rename(columns={"interval_start": "ds"})
    if plan.empty:
        raise UserError(f"{Runs.describe(run_id, run)} does not forecast {day:%Y-%m-%d}; publish a plan that does "
                        "(the nightly as of the day before, or 'forecaster runs publish ID')")
    hist = actuals.rename(columns={"interval_start": "ds", "contacts": "y"})
    pairs = calibration_pairs(hist[hist["ds"] < day], day.date(), CALIBRATION_WEEKS, plans)
    model = LevelUpdate().fit(pairs, at.hour * 60 + at.minute)
    rest = model.predict(plan, hist[hist["queue"].isin(open_now)], at).rename(columns={"ds": "interval_start"})
    if rest.empty:
        raise UserError(f"--at {at:%Y-%m-%d %H:%M}: the plan holds no open interval after it today; nothing to "
                        "re-forecast")
    result = plan_the_rest(rest, coverage, windows, config, at)
    notes = intake_notes + result["notes"] + _late_data(hist, open_now, at, config) + \
        _unplanned_campaigns(calendar, run, run_id, day, open_now)
    calibration = {q: {"alpha": model.alpha_.get(q, float("inf")), "kappa": round(model.kappa_.get(q, 0.0), 5),
                       "days": model.days_.get(q, 0),
                       "on_plans": round(float((pairs.loc[pairs["queue"] == q, "source"] == "plan").mean()), 3)
                       if (pairs["queue"] == q).any() else 0.0} for q in open_now}
    info = {"intraday": {"at": str(at), "queues": result["queues"].to_dict("records"),
                         "actions": result["actions"].to_dict("records"), "notes": notes, "calibration": calibration,
                         "plan_run_id": run_id}}
    frame = rest.assign(model="intraday")
    with Store(store_path, lock_timeout_s=lock_timeout_s) as store, store.transaction():
        runs = Runs(store)
        new_id = runs.create("intraday", as_of=day.date(), params={"at": str(at), "queues": open_now},
                             info=info, parent_run_id=run_id)
        runs.save_forecast(new_id, frame)
        req = result["intervals"][["queue", "interval_start", "forecast", "aht_s", "required_agents",
                                   "required_with_shrinkage"]].rename(columns={"forecast": "contacts"})
        req = req.assign(service_level=result["intervals"]["service_level"], asa_s=result["intervals"]["asa_s"],
                         occupancy=np.nan, abandon=np.nan)
        runs.save_requirements(new_id, "mean", req)
    return {**result, "ingested": got.ingested if got else [], "run_id": new_id, "plan_run_id": run_id, "used": Runs.describe(run_id, run), "notes": notes,
            "calibration": calibration, "at": at}


def _unplanned_campaigns(calendar: pd.DataFrame, run: dict, run_id: int, day: pd.Timestamp, queues: list[str]) -> list[str]:
    """Campaigns running today that were submitted, changed or withdrawn after the plan was made:
    the plan's forecast does not hold them as they now stand, so only the contacts so far show them."""
    if calendar.empty:
        return []
    made = pd.Timestamp(run["started_at"])
    live = calendar[(calendar["start_ts"] < day + pd.Timedelta(days=1)) & (calendar["end_ts"] >= day - pd.Timedelta(days=3))
                    & (calendar["submitted_at"] > made)
                    & calendar["queues"].map(lambda qs: bool(set(qs) & set(queues)))]
    return [f"campaign {c.campaign_id} ({c.name}) was {'withdrawn' if c.withdrawn else 'submitted or changed'} after "
            f"plan run #{run_id} was made: its forecast does not hold the campaign as it stands; the update sees it "
            "only through the contacts so far" for c in live.itertuples()]


def _late_data(hist: pd.DataFrame, queues: list[str], at: pd.Timestamp, config: Config) -> list[str]:
    """Queues whose contacts stop more than one interval before ``at`` (an export not in yet)."""
    step = pd.Timedelta(minutes=config.interval_min)
    today = hist[(hist["ds"] >= at.normalize()) & (hist["ds"] < at)]
    last = today.groupby("queue")["ds"].max()
    out = []
    for q in queues:
        seen = last.get(q)
        if seen is None:
            out.append(f"queue {q}: no contacts today before {at:%H:%M}; its plan is kept as it was")
        elif seen + step < at - step:
            out.append(f"queue {q}: contacts are in up to {seen + step:%H:%M} only; the update uses the morning "
                       "up to then")
    return out
