"""The nightly job: one command that refreshes everything, unattended.

Steps, each a plain function (frames in, frames out), timed and logged:

1. ``intake``: every actuals file in ``nightly.drop_dir`` is checked on its own; good files are
   ingested together in one transaction and moved to ``processed/``, bad ones to ``rejected/``
   with ``<file>.error.txt`` beside them. A file is moved only after its ingest committed; a
   file seen again after a crash is ingested again, which changes nothing (ingest replaces by
   queue and interval).
2. ``campaigns``: queued campaign submissions (the inbox) are applied; the current calendar is read.
3. ``forecast``, ``staff`` (mean and ``nightly.quantile``), ``schedule`` (the first full week) and
   ``capacity`` (both skipped, with a warning, for a config without shift templates), ``impact``
   (past and planned campaigns, unexplained days): computed in memory with the store closed, so
   campaign submissions and ingests made meanwhile land at once (and count from the next run).
4. ``export``: files written to a staging folder under ``output_dir/runs``.
5. ``publish``: the run's rows and its status go in **one transaction**.
6. ``report``: the planner report (``report.html``) of the published run joins the staging
   folder, which is then renamed to ``run-<id>``; ``output_dir/latest`` is switched to it.

A run is recorded as ``running`` when it starts. Killed at any point, it leaves that row behind
(the next run marks it ``killed``) and nothing else: readers always see the last published
run. Only one nightly runs at a time (an OS file lock, released by the kernel even on kill -9).
The same as-of with unchanged inputs is not recomputed: the published run is already it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from forecaster import __version__
from forecaster.campaigns import effects
from forecaster.campaigns.calendar import current, drain_inbox
from forecaster.core.config import Config
from forecaster.core.engine import engine_session, trim_memory
from forecaster.core.errors import ForecasterError, InputError, StoreLockedError, UserError
from forecaster.core.grid import parse_horizon
from forecaster.core.site_calendar import complete_as_of
from forecaster.demand.intervals import CALIBRATED_WEEKS, RECORD_WEEKS
from forecaster.demand.selection import run_forecast
from forecaster.io.actuals import load_actuals
from forecaster.io.output import old_names_of, write_bytes, write_table
from forecaster.jobs.actions import write_report
from forecaster.planning import capacity, shifts
from forecaster.staffing.requirements import staff_forecast
from forecaster.store.database import Store, scalar
from forecaster.store.runs import Runs

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REJECTED = 3
EXIT_BUSY = 75  # EX_TEMPFAIL: try again later

ACTUALS_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq", ".txt", ".xlsx")
STEPS = ("intake", "campaigns", "forecast", "staff", "schedule", "capacity", "impact", "export", "publish", "report")


class NightlyBusy(ForecasterError):
    """Another nightly job holds the lock."""

    exit_code = EXIT_BUSY


class Log:
    """Log lines to stderr: ``text`` for people, ``json`` (one object per line) for machines."""

    def __init__(self, fmt: str = "text", stream=None):
        self.fmt = fmt
        self.stream = stream or sys.stderr

    def __call__(self, event: str, level: str = "info", **fields: object) -> None:
        now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        if self.fmt == "json":
            line = json.dumps({"ts": now, "level": level, "event": event, **fields}, default=str)
        else:
            extra = " ".join(f"{k}={v}" for k, v in fields.items())
            line = f"{now} {level.upper():5} {event}" + (f" {extra}" if extra else "")
        print(line, file=self.stream, flush=True)


@contextlib.contextmanager
def job_lock(store_path: Path) -> Iterator[None]:
    """Hold ``<store>.nightly.lock`` for the job; raise :class:`NightlyBusy` if another job has it."""
    path = Path(f"{store_path}.nightly.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            raise NightlyBusy(f"another nightly run is in progress ({holder}); this one exits without "
                              f"changing anything (exit code {EXIT_BUSY}: try again later)") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {dt.datetime.now():%Y-%m-%d %H:%M:%S}".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock; the kernel does the same if we are killed


@dataclass
class Intake:
    ingested: list[str] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    rows: int = 0
    warnings: list[str] = field(default_factory=list)


def pending_files(drop: Path) -> list[Path]:
    """Actuals files waiting in ``drop`` (hidden and ``.tmp``/``.part`` files are still being written)."""
    if not drop.is_dir():
        return []
    return sorted(p for p in drop.iterdir() if p.is_file() and not p.name.startswith(".")
                  and p.name.lower().endswith(ACTUALS_SUFFIXES))


def _move(path: Path, folder: Path, stamp: str) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{stamp}-{path.name}"
    os.replace(path, target)
    return target


def intake(config: Config, store_path: Path, lock_timeout_s: float, log: Log,
           checkpoint: Callable[[str], None] = lambda _: None) -> Intake:
    """Check each dropped file alone, ingest the good ones together, move every file away."""

    drop = config.resolve(config.nightly.drop_dir)
    files = pending_files(drop)
    out = Intake()
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    good = []
    for path in files:
        try:
            good.append(load_actuals(path, config))
        except InputError as exc:
            target = _move(path, drop / "rejected", stamp)
            report = "\n".join([f"Error: {exc}", *exc.details()]) + "\n"
            Path(f"{target}.error.txt").write_text(report, encoding="utf-8")
            out.rejected.append({"file": path.name, "moved_to": str(target), "error": str(exc)})
            log("file rejected", "warning", file=path.name, error=str(exc))
    if good:
        frame = pd.concat([f.frame for f in good], ignore_index=True).drop_duplicates(
            ["queue", "interval_start"], keep="last")
        with Store(store_path, lock_timeout_s=lock_timeout_s) as store:
            counts = store.replace_actuals(frame, [f.path for f in good], [f.sha256 for f in good], by="nightly")
        checkpoint("intake-committed")
        for f in good:                                   # only after the commit
            _move(Path(f.path), drop / "processed", stamp)
            out.ingested.append(Path(f.path).name)
            out.warnings += f.warnings
        out.rows = counts["rows"]
        log("files ingested", files=len(good), rows=counts["rows"], replaced=counts["replaced"])
    return out


def _fingerprint(config_text: str, as_of: dt.date, store) -> str:
    """What a run's results depend on: code (its version and content), config, as-of, the actuals
    and the campaign calendar."""

    parts = [__version__, code_hash(), config_text, str(as_of),
             str(scalar(store.con, "SELECT max(ingest_id) FROM ingests")),
             str(store.con.execute("SELECT count(*), max(submitted_at) FROM campaign_versions").fetchall())]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


@functools.cache
def code_hash() -> str:
    """A hash of the package's own source, so a changed install (same version string) recomputes."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class NightlyResult:
    run_id: int | None
    status: str
    exit_code: int
    as_of: dt.date | None = None
    steps: dict[str, float] = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    message: str = ""


def _mark_killed(runs) -> list[int]:
    stale = [r[0] for r in runs.con.execute("SELECT run_id FROM runs WHERE status = 'running'").fetchall()]
    if stale:
        runs.con.execute("UPDATE runs SET status = 'killed' WHERE status = 'running'")
    return stale


def _impact(actuals, calendar, config, as_of, forecast, info, log) -> dict:
    """Campaign impact for the run; a calendar without campaigns (or too little history) gives
    empty tables and a note, not a failed run."""

    empty = {"campaigns": pd.DataFrame(columns=["campaign_id"]), "days": pd.DataFrame(
        columns=["campaign_id", "queue", "day", "extra_contacts", "lo_80", "hi_80", "extra_agent_hours", "status"])}
    if calendar.empty:
        info["impact"] = {"note": "no campaigns in the calendar"}
        return empty
    out = effects.analyse(actuals, calendar, config, as_of, forecast)
    spikes = effects.unexplained(out["result"], as_of - dt.timedelta(weeks=8))
    c = out["campaigns"]
    info["impact"] = {"past": int((c["status"] == "past").sum()), "planned": int((c["status"] == "planned").sum()),
                      "planned_extra_contacts": round(float(c.loc[c["status"] == "planned", "extra_contacts"].sum()), 1),
                      "curves": out["curves"].to_dict("records"), "kinds": out["kinds"].to_dict("records"),
                      "marketing": out["result"].get("marketing", {}), "unexplained": spikes.to_dict("records")}
    if len(spikes):
        log("days above the 95% bound with no campaign or holiday", "warning", days=len(spikes))
    return out


def _report(store_path, config, run_id, folder, lock_timeout_s, info, log) -> None:
    """The planner report of the published run, into its folder. The run is already published, so a
    failure here is logged and recorded with the run, and the run stands."""
    try:
        write_report(store_path, config, folder / "report.html", run_id, lock_timeout_s)
    except Exception as exc:  # noqa: BLE001 - the published run stands without its report
        error = f"{type(exc).__name__}: {exc}"
        log("report not written", "warning", error=error)
        try:
            with Store(store_path, lock_timeout_s=lock_timeout_s) as store:
                Runs(store).set_info(run_id, "report_error", error)
        except Exception as again:  # noqa: BLE001 - the log line above already tells the user
            log("report error not recorded with the run", "warning", error=f"{type(again).__name__}: {again}")


def export_run(folder: Path, outputs: dict[str, pd.DataFrame], ics: bytes | None) -> None:
    """Write the run's files into ``folder`` (a staging folder, renamed once the run is published)."""

    for name, frame in outputs.items():
        write_table(frame, folder / f"{name}.csv", old_names_of(name))   # renamed columns keep 0.1 copies
    if ics is not None:
        write_bytes(folder / "outbound.ics", ics)


def _switch_latest(out_dir: Path, target: Path) -> None:
    link = out_dir / "latest"
    tmp = out_dir / f".latest.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(target.relative_to(out_dir), tmp)
    os.replace(tmp, link)


def _prune(runs_dir: Path, keep: int, current: Path) -> list[str]:
    """Remove run folders beyond the newest ``keep`` (never ``current``) and staging folders that
    killed runs left; returns what could not be removed."""
    done = sorted((p for p in runs_dir.glob("run-*") if p.is_dir() and p.name[4:].isdigit()),
                  key=lambda p: int(p.name[4:]))
    problems = []
    for old in [*(p for p in done[:-keep] if p != current), *runs_dir.glob(".staging-*")]:
        try:
            shutil.rmtree(old)
        except OSError as exc:
            problems.append(f"old run folder {old} not removed ({type(exc).__name__}: {exc})")
    return problems


def run_nightly(config: Config, config_text: str, store_path: Path, as_of: dt.date | None = None,
                lock_timeout_s: float = 30.0, engine: str = "local", dask_address: str | None = None,
                force: bool = False, log: Log | None = None,
                on_step: Callable[[str], None] | None = None, *,
                checkpoint: Callable[[str], None] | None = None) -> NightlyResult:
    """The whole job; see the module docstring. Never raises for a failed step: the result says.

    ``on_step(name)`` is called as each step starts (a progress bar); ``checkpoint(name)`` at each
    step's start and at the points where something has just been committed (``intake-committed``,
    ``export-written``, ``publish-commit``): the kill tests stop the job there."""
    job = Job(config, config_text, Path(store_path), lock_timeout_s, engine, dask_address, force, log or Log(),
              on_step or (lambda _: None), checkpoint or (lambda _: None), requested_as_of=as_of)
    with job_lock(store_path):
        try:
            return _run(job)
        except Exception as exc:  # noqa: BLE001 - a failed step is recorded, then reported by the CLI
            return _failed(job, exc)


@dataclass
class Job:
    """What the steps share: the settings, the run being made and what each step recorded."""

    config: Config
    config_text: str
    store_path: Path
    lock_timeout_s: float
    engine: str
    dask_address: str | None
    force: bool
    log: Log
    on_step: Callable[[str], None]
    checkpoint: Callable[[str], None]
    requested_as_of: dt.date | None = None
    as_of: dt.date | None = None
    started: dt.datetime = field(default_factory=dt.datetime.now)
    run_id: int | None = None
    step_name: str = "start"
    timings: dict[str, float] = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    def store(self) -> Store:
        return Store(self.store_path, lock_timeout_s=self.lock_timeout_s)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time and log one step; a failure inside names it."""
        self.step_name = name
        self.on_step(name)
        self.log("step started", step=name)
        self.checkpoint(name)
        t0 = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - t0, 2)
        self.log("step done", step=name, seconds=self.timings[name])


@dataclass
class Inputs:
    """What the campaigns step read: the calendar, the actuals, and the run these inputs gave before."""

    calendar: pd.DataFrame
    actuals: pd.DataFrame
    hist: pd.DataFrame
    same_run: int | None
    previous: dict[str, str]        # each queue's model in the published plan (kept unless clearly beaten)
    record: pd.DataFrame            # earlier runs' daily totals against the actuals (Runs.daily_record)


def _run(job: Job) -> NightlyResult:
    job.info = {"version": __version__, "engine": job.engine}
    start_run(job)
    got = step_intake(job)
    inputs = step_campaigns(job)
    if inputs.same_run and not job.force and not got.rejected:
        return unchanged(job, inputs.same_run)
    with engine_session(job.engine, job.dask_address):      # one cluster for every per-queue step
        frame = step_forecast(job, inputs)
        kept = [p for p, done in trim_memory().items() if not done]   # the forecast's high-water, here and in the workers
        if kept:
            job.log("freed memory stays with these processes (their C library has no malloc_trim)", "info",
                    processes=kept)
        req_mean, req_q = step_staff(job, frame)
        plan = step_schedule(job, frame)
        cap = step_capacity(job, frame, plan)
    # the campaign model pools across queues and runs in this process: the cluster's workers (or the
    # local pool) and the memory they hold are gone by then (100 queues on Dask: 2.7 -> 1.7 GiB in this step)
    imp = step_impact(job, inputs, frame)
    staging = step_export(job, frame, req_mean, req_q, plan, cap, imp)
    step_publish(job, got, frame, req_mean, req_q, plan, cap, imp)
    step_report(job, staging)
    record_timings(job)
    final = place_files(job, staging)
    code = EXIT_REJECTED if got.rejected else EXIT_OK
    status = "ok, with rejected input" if got.rejected else "ok"
    job.log("run published", run_id=job.run_id, status=status,
            seconds=round((dt.datetime.now() - job.started).total_seconds(), 1))
    return NightlyResult(job.run_id, status, code, job.as_of, job.timings, job.info,
                         f"run #{job.run_id} published (as of {job.as_of}); files in {final}")


def start_run(job: Job) -> None:
    """Record the run as ``running`` (earlier runs left ``running`` were killed: say so)."""
    with job.store() as store, store.transaction():
        runs = Runs(store)
        killed = _mark_killed(runs)
        job.run_id = runs.create("nightly", status="running", started_at=job.started, params={
            "as_of": str(job.requested_as_of) if job.requested_as_of else None, "engine": job.engine})
        runs.con.execute("UPDATE runs SET published = false, finished_at = NULL WHERE run_id = ?", [job.run_id])
    if killed:
        job.log("earlier runs never finished; marked killed", "warning", runs=killed)
    job.log("run started", run_id=job.run_id)


def step_intake(job: Job) -> Intake:
    with job.step("intake"):
        got = intake(job.config, job.store_path, job.lock_timeout_s, job.log, job.checkpoint)
    job.info["intake"] = {"ingested": got.ingested, "rejected": got.rejected, "rows": got.rows}
    return got


def step_campaigns(job: Job) -> Inputs:
    """Apply queued submissions, read the calendar and actuals, settle the as-of, and find a
    published run with exactly these inputs."""
    with job.step("campaigns"), job.store() as store:
        applied = drain_inbox(store)
        calendar = current(store, include_withdrawn=False)
        actuals = store.actuals()
        # the same columns under the models' names, not a copy (a copy is 0.6 GB at 500 queues, held to the
        # end); run_forecast selects its rows into a frame of its own before it changes anything
        hist = actuals.rename(columns={"interval_start": "ds", "contacts": "y"}, copy=False)
        job.as_of = _as_of(job, hist)
        fingerprint = _fingerprint(job.config_text, job.as_of, store)
        runs = Runs(store)
        plan = runs.plan()              # the plan stands if it was computed from exactly these inputs
        previous = runs.plan_models(plan)
        record = runs.daily_record(job.as_of, RECORD_WEEKS, 7 * CALIBRATED_WEEKS)   # how earlier runs did
        same = plan if plan is not None and scalar(
            store.con, "SELECT json_extract_string(info, '$.fingerprint') FROM runs WHERE run_id = ?",
            [plan]) == fingerprint else None
    job.info.update(as_of=str(job.as_of), fingerprint=fingerprint, inbox_applied=len(applied),
                    data_range=[str(hist["ds"].min()), str(hist["ds"].max())], campaigns=int(len(calendar)))
    return Inputs(calendar, actuals, hist, same, previous, record)


def _as_of(job: Job, hist: pd.DataFrame) -> dt.date:
    if hist.empty:
        raise UserError("the store holds no actuals; drop an actuals file into "
                        f"{job.config.resolve(job.config.nightly.drop_dir)} or run 'forecaster ingest FILE'")
    last = hist["ds"].max().date()
    if job.requested_as_of and job.requested_as_of > last:
        raise UserError(f"--as-of {job.requested_as_of} is after the last actuals ({last}); ingest newer actuals first")
    return complete_as_of(job.config, hist, job.requested_as_of)    # a partial day (intraday ingests) waits


def unchanged(job: Job, same: int) -> NightlyResult:
    """The published run ``same`` already has these inputs: drop this run's row, publish nothing."""
    with job.store() as store:
        store.con.execute("DELETE FROM runs WHERE run_id = ?", [job.run_id])
    job.log("up to date", published_run=same)
    return NightlyResult(int(same), "unchanged", EXIT_OK, job.as_of, job.timings, job.info,
                         f"run #{same} already has these inputs (as of {job.as_of}); nothing to do (--force recomputes)")


def step_forecast(job: Job, inputs: Inputs) -> pd.DataFrame:
    with job.step("forecast"):
        fc = run_forecast(inputs.hist, inputs.calendar, job.config, job.as_of,
                          parse_horizon(job.config.nightly.horizon), engine=job.engine, previous=inputs.previous,
                          record=inputs.record)
    job.info.update(fc.info)
    return fc.frame


def step_staff(job: Job, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Requirements at the mean and at the nightly's staffing quantile."""
    with job.step("staff"):
        return staff_forecast(frame, job.config, None), staff_forecast(frame, job.config, job.config.nightly.quantile)


NO_SHIFTS = ("the config has no shift templates, so this run has no schedule and no spare capacity; add a "
             "'shifts:' section (see configs/example.yaml) to get them")


def step_schedule(job: Job, frame: pd.DataFrame) -> dict | None:
    """Shifts for the first full week of the forecast; None, with a warning, for a config without shift
    templates (a site that forecasts and staffs but schedules elsewhere still gets its nightly plan)."""
    if not job.config.shifts:
        job.info["warnings"] = [*job.info.get("warnings", []), NO_SHIFTS]
        job.log("schedule and capacity skipped", "warning", reason=NO_SHIFTS)
        return None
    with job.step("schedule"):
        plan = shifts.plan_run(frame, job.config, job.run_id, engine=job.engine)
    job.info["schedule"] = plan.pop("meta")
    return plan


def step_capacity(job: Job, frame: pd.DataFrame, plan: dict | None) -> dict | None:
    if plan is None:
        return None
    with job.step("capacity"):
        cap = capacity.spare_capacity(frame, plan["coverage"], job.config)
    job.info["capacity"] = capacity.capacity_meta(cap, job.config)
    job.info["warnings"] = list(job.info.get("warnings", [])) + cap["notes"]
    for note in cap["notes"]:
        job.log("spare capacity", "warning", note=note)
    return cap


def step_impact(job: Job, inputs: Inputs, frame: pd.DataFrame) -> dict:
    with job.step("impact"):
        return _impact(inputs.actuals, inputs.calendar, job.config, job.as_of, frame, job.info, job.log)


def step_export(job: Job, frame, req_mean, req_q, plan, cap, imp) -> Path:
    """The run's files, into a staging folder (renamed once the run is published)."""
    out_dir = job.config.resolve(job.config.output_dir)
    staging = out_dir / "runs" / f".staging-{job.run_id}"
    q = job.config.nightly.quantile
    with job.step("export"):
        outputs = {"forecast": frame, "requirements": req_mean, f"requirements_q{q:.2f}": req_q}
        if plan is not None:
            outputs.update(shifts=plan["shifts"], coverage=plan["coverage"], breaks=plan["breaks"],
                           schedule_summary=plan["summary"], capacity=cap["windows"])
        outputs.update(campaign_impact=imp["campaigns"], campaign_impact_days=imp["days"])
        try:
            export_run(staging, outputs, None if cap is None else
                       capacity.to_ics(cap["windows"], job.config, pd.Timestamp(job.started).tz_localize("UTC")))
        except UserError as exc:
            raise UserError(f"cannot write the run's files under {out_dir}: {exc}".replace("--out ", "")) from None
        job.checkpoint("export-written")
    return staging


def step_publish(job: Job, got: Intake, frame, req_mean, req_q, plan, cap, imp) -> None:
    """The run's rows and its status in one transaction; earlier runs of the same as-of step back."""
    with job.step("publish"), job.store() as store, store.transaction():
        runs = Runs(store)
        runs.save_forecast(job.run_id, frame)
        runs.save_requirements(job.run_id, "mean", req_mean)
        runs.save_requirements(job.run_id, f"q{job.config.nightly.quantile:.2f}", req_q)
        if plan is not None:
            runs.save_schedule(job.run_id, plan)
            runs.save_capacity(job.run_id, cap)
        runs.save_impact(job.run_id, imp["days"])
        job.info["steps_s"] = job.timings
        job.info["warnings"] = list(job.info.get("warnings", [])) + got.warnings
        now = dt.datetime.now()
        store.con.execute("""UPDATE runs SET status = 'ok', published = true, published_at = ?, as_of = ?,
                             finished_at = ?, info = ? WHERE run_id = ?""",
                          [now, job.as_of, now, json.dumps(job.info, default=str), job.run_id])
        store.con.execute("""UPDATE runs SET published = false WHERE kind = 'nightly' AND as_of = ?
                             AND run_id <> ?""", [job.as_of, job.run_id])
        job.checkpoint("publish-commit")


def step_report(job: Job, staging: Path) -> None:
    with job.step("report"):
        _report(job.store_path, job.config, job.run_id, staging, job.lock_timeout_s, job.info, job.log)


def record_timings(job: Job) -> None:
    """The run's info was committed inside the publish step: add the publish and report steps' times,
    so ``runs show`` has every step. The run stands if this fails; the log says so."""
    try:
        with job.store() as store, store.transaction():
            Runs(store).set_info(job.run_id, "steps_s", dict(job.timings))
    except Exception as exc:  # noqa: BLE001 - the step times are in the log already
        job.log("step times not recorded with the run", "warning", error=f"{type(exc).__name__}: {exc}")


def place_files(job: Job, staging: Path) -> Path:
    """Rename the staging folder to ``run-<id>``, point ``latest`` at it and prune old runs. The store
    is the truth: a failure here is logged and recorded with the run (``runs show`` says it), never fatal."""
    out_dir = job.config.resolve(job.config.output_dir)
    final, problems = place(out_dir, staging, job.run_id, job.config.nightly.keep_runs)
    for problem in problems:
        job.log("run files not placed", "warning", folder=str(final), error=problem)
    if problems:
        _record_warnings(job.store_path, job.run_id, problems, job.lock_timeout_s, job.log)
    return final


def place(out_dir: Path, staging: Path, run_id: int, keep: int) -> tuple[Path, list[str]]:
    """``staging`` becomes ``runs/run-<id>``, ``latest`` points at it, runs beyond ``keep`` are
    removed. Returns the folder and what went wrong (each a sentence for the run's warnings)."""
    final = out_dir / "runs" / f"run-{run_id}"
    try:
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
        _switch_latest(out_dir, final)
    except OSError as exc:
        return final, [f"the run's files were not placed in {final} ({type(exc).__name__}: {exc}); they are in "
                       f"{staging}"]
    return final, _prune(out_dir / "runs", keep, final)


def _record_warnings(store_path, run_id: int, problems: list[str], lock_timeout_s: float, log) -> None:
    try:
        with Store(store_path, lock_timeout_s=lock_timeout_s) as store, store.transaction():
            runs = Runs(store)
            info = json.loads(runs.get(run_id)["info"] or "{}")
            runs.set_info(run_id, "warnings", list(info.get("warnings", [])) + problems)
    except Exception as again:  # noqa: BLE001 - the log lines already tell the user
        log("file warnings not recorded with the run", "warning", error=f"{type(again).__name__}: {again}")


def publish_run(config: Config, store_path: Path, run_id: int, lock_timeout_s: float = 30.0) -> dict:
    """Make a stored draft the published plan: its files go to ``output_dir/runs/run-<id>`` (with
    its report) and ``latest`` points at them, exactly as for a nightly run. Runs under the
    nightly's lock, so the two never switch ``latest`` at once."""
    out_dir = config.resolve(config.output_dir)
    staging = out_dir / "runs" / f".staging-{run_id}"
    with job_lock(store_path):
        with Store(store_path, read_only=True, lock_timeout_s=lock_timeout_s) as store:
            runs = Runs(store)
            run_id, run = runs.forecast_run(run_id)
            outputs, bases = run_outputs(runs, run_id, config)
        if Runs.frozen(run) and run_id == _plan_id(store_path, lock_timeout_s):
            return {"run_id": run_id, "already": True, "folder": out_dir / "runs" / f"run-{run_id}", "problems": []}
        windows = outputs.get("capacity")
        ics = capacity.to_ics(windows, config) if windows is not None else None
        try:
            export_run(staging, outputs, ics)
        except UserError as exc:
            raise UserError(f"cannot write the run's files under {out_dir}: {exc}".replace("--out ", "")) from None
        with Store(store_path, lock_timeout_s=lock_timeout_s) as store, store.transaction():
            Runs(store).publish(run_id)
        problems = []
        try:
            write_report(store_path, config, staging / "report.html", run_id, lock_timeout_s)
        except Exception as exc:  # noqa: BLE001 - the published run stands without its report; recorded below
            problems.append(f"the report was not written ({type(exc).__name__}: {exc})")
        final, placed = place(out_dir, staging, run_id, config.nightly.keep_runs)
        problems += placed
        if problems:
            def say(event, level, **fields):            # the command prints every problem; this one too
                problems.append(f"{event}: {fields.get('error')}")
            _record_warnings(store_path, run_id, list(problems), lock_timeout_s, say)
    return {"run_id": run_id, "already": False, "folder": final, "problems": problems, "files": sorted(outputs),
            "bases": bases}


def _plan_id(store_path, lock_timeout_s: float) -> int | None:
    with Store(store_path, read_only=True, lock_timeout_s=lock_timeout_s) as store:
        return Runs(store).plan()


def run_outputs(runs: Runs, run_id: int, config: Config) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The files a stored run gives (named as the nightly names them); only what the run holds."""
    bases = [b for (b,) in runs.con.execute(
        "SELECT DISTINCT basis FROM run_requirements WHERE run_id = ? ORDER BY basis", [run_id]).fetchall()]
    out = {"forecast": runs.forecast(run_id)}
    for basis in bases:
        out["requirements" if basis == "mean" else f"requirements_{basis}"] = runs.requirements(run_id, basis)
    plan = runs.schedule(run_id)
    if len(plan["shifts"]):
        out.update(shifts=plan["shifts"], coverage=plan["coverage"], breaks=plan["breaks"],
                   schedule_summary=plan["summary"])
    cap = runs.capacity(run_id)
    if len(cap["intervals"]):
        out["capacity"] = cap["windows"]
    impact = runs.impact(run_id)
    if len(impact):
        out["campaign_impact_days"] = impact
    return out, bases


def _failed(job: Job, exc: Exception) -> NightlyResult:
    """Record the failed step with the run; the last published run stays as it was."""
    user = isinstance(exc, UserError)
    message = str(exc) if user else f"{type(exc).__name__}: {exc}"
    job.log("run failed", "error", step=job.step_name, error=message)
    if job.run_id is not None:
        job.info.update(failed_step=job.step_name, error=message, steps_s=job.timings)
        try:
            with job.store() as store:
                store.con.execute("UPDATE runs SET status = 'failed', finished_at = ?, info = ? WHERE run_id = ?",
                                  [dt.datetime.now(), json.dumps(job.info, default=str), job.run_id])
        except Exception as again:  # noqa: BLE001 - the log line above already tells the user
            job.log("failure not recorded with the run", "warning", error=f"{type(again).__name__}: {again}")
    if not user and os.environ.get("FORECASTER_DEBUG"):
        raise exc
    code = EXIT_BUSY if isinstance(exc, StoreLockedError) else EXIT_FAILED
    return NightlyResult(job.run_id, "failed", code, job.as_of, job.timings, job.info,
                         f"step {job.step_name} failed: {message}; the last published run is unchanged")
