"""What a command does end to end on the store: open it, call the domain, store the result.

The domain packages take frames and a :class:`~forecaster.store.Store` object, never a path.
These functions are the one place that opens the store from a path: read what is needed with the
store open read-only, compute with it closed (so ingests and submissions are never kept
waiting), then store the result in one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pandas as pd

from forecaster.campaigns import peaks
from forecaster.campaigns.calendar import (
    Calendar,
    current,
    current_empty,
    plan,
    spool,
    store_submission,
    versions,
    withdraw,
)
from forecaster.campaigns.effects import analyse, past_impact
from forecaster.core.config import Config
from forecaster.core.engine import engine_session
from forecaster.core.errors import StoreLockedError, UserError
from forecaster.core.site_calendar import complete_as_of
from forecaster.demand.intervals import CALIBRATED_WEEKS, RECORD_WEEKS
from forecaster.demand.selection import run_forecast
from forecaster.io.output import write_bytes
from forecaster.planning.capacity import capacity_of
from forecaster.planning.shifts import plan_run
from forecaster.report.page import gather, render
from forecaster.scenarios.advice import advise
from forecaster.scenarios.whatif import METRICS, Scenario, campaign_delta, check, evaluate
from forecaster.staffing.requirements import staff_run
from forecaster.store.database import Store, inbox_dir
from forecaster.store.runs import Runs
from forecaster.store.scenarios import Scenarios


def forecast_store(store_path, config: Config, as_of: dt.date | None, days: int, lock_timeout_s: float = 30.0,
                   engine: str = "local", dask_address: str | None = None):
    """Read history and campaigns, forecast with the store closed, then store the run in one
    transaction, as a draft: it becomes the plan only when published (``runs publish``)."""

    started = dt.datetime.now()
    with Store(store_path, read_only=True, lock_timeout_s=lock_timeout_s) as store:
        hist = store.actuals().rename(columns={"interval_start": "ds", "contacts": "y"})
        campaigns = current(store, include_withdrawn=False)
        runs = Runs(store)
        previous = runs.plan_models()
        if hist.empty:
            raise UserError("the store holds no actuals yet; run 'forecaster ingest FILE' first")
        last = hist["ds"].max().date()
        if as_of and as_of > last:
            raise UserError(f"--as-of {as_of} is after the last actuals ({last}); ingest newer actuals or choose an "
                            "earlier date")
        as_of = complete_as_of(config, hist, as_of)
        if as_of < hist["ds"].min().date() + dt.timedelta(days=7):
            raise UserError(f"--as-of {as_of} leaves less than a week of history; choose a later date")
        record = runs.daily_record(as_of, RECORD_WEEKS, 7 * CALIBRATED_WEEKS)    # how earlier runs did
    with engine_session(engine, dask_address):
        result = run_forecast(hist, campaigns, config, as_of, days, engine=engine, previous=previous, record=record)
    result.info["engine"] = engine
    with Store(store_path, lock_timeout_s=lock_timeout_s) as store, store.transaction():
        runs = Runs(store)
        run_id = runs.create("forecast", as_of=as_of, params={"horizon_days": days, "engine": engine},
                             info=result.info, started_at=started)
        runs.save_forecast(run_id, result.frame)
    return run_id, result


def impact_store(store_path, config: Config, as_of: dt.date | None = None, lock_timeout_s: float = 30.0) -> dict:
    """:func:`analyse` on the store's actuals and current calendar; planned campaigns' agent-hours
    on the published plan (when there is one)."""

    with Store(store_path, read_only=True, lock_timeout_s=lock_timeout_s) as store:
        actuals = store.actuals()
        calendar = current(store, include_withdrawn=False)
        runs = Runs(store)
        run_id = runs.plan()
        forecast = runs.forecast(run_id) if run_id else None
    if actuals.empty:
        raise UserError("the store holds no actuals yet; run 'forecaster ingest FILE' first")
    last = actuals["interval_start"].max().date()
    if as_of and as_of > last:
        raise UserError(f"--as-of {as_of} is after the last actuals ({last}); choose an earlier date")
    as_of = complete_as_of(config, actuals.rename(columns={"interval_start": "ds"}), as_of)
    if calendar.empty:
        raise UserError("the calendar holds no campaigns; submit one with 'forecaster campaigns submit FILE --by NAME'")
    out = analyse(actuals, calendar, config, as_of, forecast)
    return {**out, "as_of": as_of, "run_id": run_id, "calendar": calendar}


def advise_store(store_path, config: Config, campaign_id: str, window: tuple[dt.date, dt.date] | None = None,
                 lock_timeout_s: float = 30.0) -> dict:
    """Send-date advice for a campaign on the published plan (see :func:`advise`)."""

    with Store(store_path, read_only=True, lock_timeout_s=lock_timeout_s) as store:
        actuals = store.actuals()
        calendar = current(store, include_withdrawn=False)
        runs = Runs(store)
        run_id = runs.plan()
        if run_id is None:
            raise UserError("advice needs a published plan; run 'forecaster nightly' or publish a run with "
                            "'forecaster runs publish ID'")
        forecast, coverage = runs.forecast(run_id), runs.schedule(run_id)["coverage"]
        as_of = pd.Timestamp(runs.get(run_id)["as_of"]).date()
    if campaign_id not in set(calendar["campaign_id"]):
        raise UserError(f"campaign {campaign_id!r} is not in the current calendar; 'forecaster campaigns list' "
                        "shows the campaigns")
    campaign = calendar.set_index("campaign_id").loc[campaign_id].copy()
    campaign["campaign_id"] = campaign_id
    first_fc = pd.to_datetime(forecast["interval_start"]).min().date()
    last_fc = pd.to_datetime(forecast["interval_start"]).max().date()
    if window is None:
        start = max(first_fc, campaign["start_ts"].date() - dt.timedelta(days=7))
        window = (start, min(last_fc - dt.timedelta(days=7), start + dt.timedelta(days=20)))
        if window[1] < window[0] and campaign["start_ts"].date() <= last_fc:   # a short forecast: no week to spare
            window = (start, min(last_fc, start + dt.timedelta(days=20)))
        if window[1] < window[0]:
            raise UserError(f"{campaign_id} starts on {campaign['start_ts']:%Y-%m-%d}, too late for run #{run_id}'s "
                            f"forecast ({first_fc} to {last_fc}): advice compares start dates inside the published "
                            "forecast")
    lo, hi = window
    if lo <= as_of or hi > last_fc:
        raise UserError(f"--window {lo}..{hi}: choose start dates from {first_fc} to {last_fc} (run #{run_id}'s "
                        "forecast), so the response can be staffed")
    if hi < lo:
        raise UserError(f"--window {lo}..{hi}: the end is before the start")
    result = past_impact(actuals, calendar, config, as_of)
    channel = campaign["channel"]
    if not (result["estimates"]["channel"] == channel).any():
        raise UserError(f"no past {channel} campaign to learn from; advice needs the channel's response")
    candidates = [lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)]
    table = advise(result, campaign, candidates, forecast, coverage if len(coverage) else None, config, as_of)
    tail = last_fc - hi
    notes = [f"responses after {last_fc} (the end of run #{run_id}'s forecast) are not counted"] if tail.days < 14 else []
    return {"table": table, "run_id": run_id, "campaign": campaign, "window": window, "notes": notes}


# -- on a stored run ----------------------------------------------------------------------------
def _changed_run(store_path, run_id: int, run: dict, by: str, lock_timeout_s: float, save) -> dict:
    """Store what ``by`` computed on run ``run_id``: on the run itself if it is a draft, else on a new
    draft derived from it (a published run is never rewritten). ``save(runs, target)`` writes it.
    Returns where it went, for the command to say."""
    with Store(store_path, lock_timeout_s=lock_timeout_s) as store, store.transaction():
        runs = Runs(store)
        target = runs.writable(run_id, run, by)
        save(runs, target)
    return {"run_id": target, "source_run_id": run_id, "used": Runs.describe(run_id, run), "derived": target != run_id}


def staff_store(store_path, config: Config, run_id: int | None, quantile: float | None, model: str,
                lock_timeout_s: float = 30.0) -> dict:
    """Requirements of a stored forecast run (default: the published plan), stored with it."""
    with Store(store_path, read_only=True, lock_timeout_s=lock_timeout_s) as store:
        runs = Runs(store)
        run_id, run = runs.forecast_run(run_id)
        forecast = runs.forecast(run_id)
    out = staff_run(forecast, config, quantile, model)

    def save(runs: Runs, target: int) -> None:
        runs.save_requirements(target, "mean", out["mean"])
        if quantile is not None:
            runs.save_requirements(target, f"q{quantile:.2f}", out["quantile"])
    return {**out, **_changed_run(store_path, run_id, run, "staff", lock_timeout_s, save)}


def schedule_store(store_path, config: Config, run_id: int | None, week: str | None, method: str | None,
                   quantile: float | None, lock_timeout_s: float = 30.0) -> dict:
    """Shifts for a week of a stored run (default: the published plan). CP-SAT solves with the
    store closed; the plan is stored afterwards, and the run's spare capacity, which belonged to
    the old schedule, is cleared."""
    with Store(store_path, read_only=True, lock_timeout_s=lock_timeout_s) as store:
        runs = Runs(store)
        run_id, run = runs.forecast_run(run_id)
        forecast = runs.forecast(run_id)
    result = plan_run(forecast, config, run_id, week, method, quantile)

    def save(runs: Runs, target: int) -> None:
        runs.save_schedule(target, result)
        runs.set_info(target, "schedule", result["meta"])
        runs.save_capacity(target, {"windows": None, "intervals": None})
        runs.set_info(target, "capacity", None)
    return {**result, **_changed_run(store_path, run_id, run, "schedule", lock_timeout_s, save)}


def capacity_store(store_path, config: Config, run_id: int | None, quantile: float | None, min_minutes: int | None,
                   min_agents: int | None, lock_timeout_s: float = 30.0) -> dict:
    """Spare capacity of a stored run's schedule (default: the published plan), stored with it."""
    with Store(store_path, read_only=True, lock_timeout_s=lock_timeout_s) as store:
        runs = Runs(store)
        run_id, run = runs.forecast_run(run_id)
        forecast, coverage = runs.forecast(run_id), runs.schedule(run_id)["coverage"]
    result = capacity_of(forecast, coverage, config, run_id, quantile, min_minutes, min_agents)

    def save(runs: Runs, target: int) -> None:
        runs.save_capacity(target, result)
        runs.set_info(target, "capacity", result["meta"])
    return {**result, **_changed_run(store_path, run_id, run, "capacity", lock_timeout_s, save)}


def scenario_store(store_path, config: Config, spec: Scenario, run_id: int | None = None, name: str | None = None,
                   by: str = "unknown", lock_timeout_s: float = 30.0) -> dict:
    """Evaluate ``spec`` on a stored forecast run (default: the published plan) and store it with
    its parameters under ``name``. The run itself is only read."""

    check(spec, config)
    t0 = time.perf_counter()
    with Store(store_path, read_only=True, lock_timeout_s=lock_timeout_s) as store:
        runs = Runs(store)
        run_id, run = runs.forecast_run(run_id)
        forecast = runs.forecast(run_id)
        coverage = runs.schedule(run_id)["coverage"]
        delta, notes = None, []
        if spec.changes_calendar:
            hist = store.actuals().rename(columns={"interval_start": "ds", "contacts": "y"})
            calendar = current(store, include_withdrawn=False)
    if spec.changes_calendar:
        info = json.loads(run["info"]) if isinstance(run["info"], str) else (run["info"] or {})
        delta, notes = campaign_delta(hist, calendar, forecast, info, config, pd.Timestamp(run["as_of"]).date(), spec)
    t1 = time.perf_counter()
    result = evaluate(forecast, config, spec, coverage if len(coverage) else None, delta)
    t2 = time.perf_counter()
    staffed = result["intervals"]["staffed_from"].value_counts().to_dict()
    info = {"notes": notes, "staffed_from": staffed, "reforecast_s": round(t1 - t0, 2), "compute_s": round(t2 - t1, 2)}
    name = name or f"scenario-{dt.datetime.now():%Y%m%d-%H%M%S}"
    days = result["days"]
    base_days = days[["queue", "day", *[f"{m}_base" for m in METRICS]]].rename(columns=lambda c: c.removesuffix("_base"))
    with Store(store_path, lock_timeout_s=lock_timeout_s) as store, store.transaction():
        sid = Scenarios(store).save(name, run_id, by, spec.model_dump(mode="json"), info, base_days,
                                    days[["queue", "day", *METRICS]])
    return {**result, "scenario_id": sid, "name": name, "run_id": run_id, "info": info,
            "used": Runs.describe(run_id, run)}


def submit_calendar(store_path: Path, cal: Calendar, by: str, lock_timeout_s: float) -> dict:
    """Store a checked calendar, or queue it in the inbox if the store stays locked: a submission
    is never lost."""
    at = dt.datetime.now()
    try:
        store = Store(store_path, lock_timeout_s=lock_timeout_s)
    except StoreLockedError:
        return {"queued": str(spool(inbox_dir(store_path), cal, by, at))}
    with store:
        return store_submission(store, cal, by, at)


def check_calendar(store_path: Path, config: Config, cal: Calendar, lock_timeout_s: float = 30.0) -> pd.DataFrame:
    """What submitting ``cal`` would do: each campaign with its status (new, changed, unchanged,
    revived). Adds the peak warnings to ``cal.warnings``. Changes nothing."""
    cal.warnings += check_peaks(store_path, config, cal.frame)
    if not Path(store_path).exists():
        return plan(None, cal)
    with Store(store_path, read_only=True, lock_timeout_s=lock_timeout_s) as store:
        return plan(store, cal)


def calendar_now(store_path: Path, include_withdrawn: bool = False, lock_timeout_s: float = 30.0) -> pd.DataFrame:
    """The current version of every campaign (none before the store exists)."""
    if not Path(store_path).exists():
        return current_empty()
    with Store(store_path, read_only=True, lock_timeout_s=lock_timeout_s) as store:
        return current(store, include_withdrawn=include_withdrawn)


def campaign_history(store_path: Path, campaign_id: str, lock_timeout_s: float = 30.0) -> pd.DataFrame:
    """Every version of one campaign, oldest first."""
    with Store(store_path, read_only=True, lock_timeout_s=lock_timeout_s) as store:
        return versions(store, campaign_id)


def withdraw_campaign(store_path: Path, campaign_id: str, by: str, lock_timeout_s: float = 30.0) -> int:
    """Withdraw a campaign (a new version marked withdrawn); returns that version's number."""
    with Store(store_path, lock_timeout_s=lock_timeout_s) as store:
        return withdraw(store, campaign_id, by)


def check_peaks(store_path: Path, config: Config, submitted: pd.DataFrame, lock_timeout_s: float = 2.0) -> list[str]:
    """Peak warnings for a calendar being checked or submitted (:func:`forecaster.campaigns.peaks.peak_warnings`).
    Never raises: a warning must not stand between marketing and a safe submission. Without a
    store or a scheduled run it says nothing; when the check itself fails, it says so."""
    if not Path(store_path).exists():
        return []
    try:
        with Store(store_path, read_only=True, lock_timeout_s=lock_timeout_s) as store:
            inputs = peaks.read_inputs(store)
        return peaks.peak_warnings(inputs, config, submitted) if inputs else []
    except Exception as exc:  # noqa: BLE001 - advisory only, and the user is told it did not run
        return [f"the campaigns were not checked against the schedule ({type(exc).__name__}: {exc}); "
                "the calendar itself is valid"]


def runs_table(store_path: Path, lock_timeout_s: float = 30.0) -> tuple[pd.DataFrame, int | None]:
    """Every run, and which one is the published plan."""
    with Store(store_path, read_only=True, lock_timeout_s=lock_timeout_s) as store:
        runs = Runs(store)
        return runs.list(), runs.plan()


def run_record(store_path: Path, run_id: int, lock_timeout_s: float = 30.0) -> dict:
    """One run's row: kind, status, dates, params and info (JSON text)."""
    with Store(store_path, read_only=True, lock_timeout_s=lock_timeout_s) as store:
        return Runs(store).get(run_id)


def report_html(store_path: Path, config: Config, run_id: int | None = None,
                lock_timeout_s: float = 30.0) -> tuple[str, int, str]:
    """The run's report page (default: the published plan), gathered with the store open and
    rendered with it closed; returns (html, run id, which run it is: :meth:`Runs.describe`)."""
    with Store(store_path, read_only=True, lock_timeout_s=lock_timeout_s) as store:
        data = gather(store, config, run_id)
    return render(data, config), data["run_id"], Runs.describe(data["run_id"], data["run"])


def write_report(store_path: Path, config: Config, out, run_id: int | None = None,
                 lock_timeout_s: float = 30.0) -> tuple[Path, str]:
    """:func:`report_html`, written atomically; returns (path, which run it is)."""
    html, _, used = report_html(store_path, config, run_id, lock_timeout_s)
    return write_bytes(out, html.encode("utf-8")), used
