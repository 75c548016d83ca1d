"""Runs and their outputs: forecasts, requirements, schedules, capacity and campaign impact."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from forecaster.core.errors import UserError
from forecaster.store.database import Store, scalar


class Runs:
    """Reading and writing runs and their outputs (a thin layer over :class:`Store`)."""

    def __init__(self, store: Store):
        self.con = store.con

    def plan(self) -> int | None:
        """The published plan: the run published last (by the nightly, or ``runs publish``)."""
        return scalar(self.con, """SELECT run_id FROM runs WHERE published AND status = 'ok'
                                   AND kind IN ('forecast', 'nightly') ORDER BY published_at DESC, run_id DESC LIMIT 1""")

    def newest_draft(self) -> int | None:
        return scalar(self.con, """SELECT max(run_id) FROM runs WHERE status = 'ok' AND kind IN ('forecast', 'nightly')
                                   AND published_at IS NULL""")

    def forecast_run(self, run_id: int | None = None) -> tuple[int, dict]:
        """The forecast (or nightly) run ``run_id``, by default the published plan, or a clear error.

        With no plan published yet, the newest draft is used. ``run["used_as"]`` says which it is,
        for the command to tell the user."""
        used_as = "as asked"
        if run_id is None:
            run_id, used_as = self.plan(), "the published plan"
            if run_id is None:
                run_id, used_as = self.newest_draft(), "the newest draft; no run is published yet"
        if run_id is None:
            raise UserError("the store holds no forecast run yet; run 'forecaster nightly' or 'forecaster forecast' first")
        run = self.get(run_id)
        if run is not None and run["kind"] == "intraday":
            raise UserError(f"run {run_id} is an intraday update of run #{run['parent_run_id']}: intraday runs stay "
                            "drafts beside the plan and are not used or published as plans; 'forecaster runs' lists "
                            "the forecast runs")
        if run is None or run["kind"] not in ("forecast", "nightly") or run["status"] != "ok":
            raise UserError(f"run {run_id} is not a finished forecast run; 'forecaster runs' lists the runs")
        run["used_as"] = used_as
        return int(run_id), run

    @staticmethod
    def frozen(run: dict) -> bool:
        """Published runs (the plan, and earlier plans) are never rewritten: their files match them."""
        return pd.notna(run.get("published_at"))

    @staticmethod
    def describe(run_id: int, run: dict) -> str:
        """``run #5 (the published plan, nightly as of 2026-11-30)``: which run a command used."""
        as_of = f" as of {pd.Timestamp(run['as_of']):%Y-%m-%d}" if pd.notna(run.get("as_of")) else ""
        state = "published" if Runs.frozen(run) else "draft"
        used = run.get("used_as", "as asked")
        what = used if used != "as asked" else state
        return f"run #{run_id} ({what}, {run['kind']}{as_of})"

    def get(self, run_id: int) -> dict | None:
        rows = self.con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id]).df()
        return rows.to_dict("records")[0] if len(rows) else None

    def create(self, kind: str, as_of=None, params: dict | None = None, info: dict | None = None,
               status: str = "ok", started_at: dt.datetime | None = None, publish: bool = False,
               parent_run_id: int | None = None) -> int:
        """A new run; a draft unless ``publish`` (then it becomes the plan)."""
        run_id = scalar(self.con, "SELECT coalesce(max(run_id), 0) + 1 FROM runs")
        now = dt.datetime.now()
        self.con.execute("""INSERT INTO runs (run_id, kind, status, as_of, started_at, finished_at, published,
                            published_at, parent_run_id, params, info) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                         [run_id, kind, status, as_of, started_at or now, now, publish, now if publish else None,
                          parent_run_id, json.dumps(params or {}), json.dumps(info or {}, default=str)])
        return int(run_id)

    def publish(self, run_id: int) -> None:
        """Make ``run_id`` the published plan (it is read-only from now on)."""
        self.con.execute("UPDATE runs SET published = true, published_at = ? WHERE run_id = ?",
                         [dt.datetime.now(), run_id])

    RUN_TABLES = ("run_forecast", "run_requirements", "run_schedule", "run_coverage", "run_breaks",
                  "run_schedule_summary", "run_capacity", "run_spare", "run_impact")

    def derive(self, parent_id: int, by: str) -> int:
        """A draft copy of run ``parent_id`` (every output, its info), for ``by`` to change instead of the parent."""
        parent = self.get(parent_id)
        info = json.loads(parent["info"] or "{}")   # with the parent's input fingerprint: once published, a
        # nightly with the same inputs leaves the planner's change standing
        params = {**json.loads(parent["params"] or "{}"), "parent_run_id": parent_id, "derived_by": by}
        run_id = self.create("forecast", as_of=parent["as_of"], params=params, info=info, parent_run_id=parent_id)
        for table in self.RUN_TABLES:
            cols = [c for (c,) in self.con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND column_name <> 'run_id' "
                "ORDER BY column_index", [table]).fetchall()]
            names = ", ".join(cols)
            self.con.execute(f"INSERT INTO {table} (run_id, {names}) SELECT ?, {names} FROM {table} WHERE run_id = ?",
                             [run_id, parent_id])
        return run_id

    def writable(self, run_id: int, run: dict, by: str) -> int:
        """The run ``by`` may change: ``run_id`` itself if it is a draft, else a new draft derived from it."""
        return self.derive(run_id, by) if self.frozen(run) else run_id

    def list(self, kind: str | None = None) -> pd.DataFrame:
        """Every run, newest first, with how many output rows each has."""
        return self.con.execute(
            """SELECT r.run_id, r.kind, r.status, r.published, r.published_at, r.parent_run_id, r.as_of,
                      r.started_at, r.finished_at,
                      (SELECT count(*) FROM run_forecast f WHERE f.run_id = r.run_id) AS forecast_rows,
                      (SELECT count(*) FROM run_requirements q WHERE q.run_id = r.run_id) AS requirement_rows
               FROM runs r WHERE ? IS NULL OR r.kind = ? ORDER BY r.run_id DESC""", [kind, kind]).df()

    def forecast(self, run_id: int, start=None, end=None) -> pd.DataFrame:
        """The run's forecast, or its intervals in ``[start, end)``."""
        return self.con.execute(
            """SELECT queue, interval_start, forecast, lo_80, hi_80, lo_95, hi_95, aht_s FROM run_forecast
               WHERE run_id = ? AND (?::TIMESTAMP IS NULL OR interval_start >= ?)
                 AND (?::TIMESTAMP IS NULL OR interval_start < ?) ORDER BY queue, interval_start""",
            [run_id, start, start, end, end]).df()

    def coverage(self, run_id: int, start=None, end=None) -> pd.DataFrame:
        """The run's schedule coverage per interval, or its intervals in ``[start, end)``."""
        return self.con.execute(
            """SELECT * EXCLUDE (run_id) FROM run_coverage WHERE run_id = ?
                 AND (?::TIMESTAMP IS NULL OR interval_start >= ?) AND (?::TIMESTAMP IS NULL OR interval_start < ?)
               ORDER BY queue, interval_start""", [run_id, start, start, end, end]).df()

    def earlier_plans(self, start, end) -> pd.DataFrame:
        """What the published plans said of each interval in ``[start, end)`` the day before or
        earlier: per queue and interval the forecast of the newest published run made as of an
        earlier day (``queue, ds, forecast``). The intraday update calibrates on these."""
        return self.con.execute(
            """SELECT f.queue, f.interval_start AS ds, f.forecast FROM run_forecast f JOIN runs r USING (run_id)
               WHERE r.published_at IS NOT NULL AND r.status = 'ok' AND r.kind IN ('forecast', 'nightly')
                 AND f.interval_start >= ? AND f.interval_start < ? AND r.as_of < CAST(f.interval_start AS DATE)
               QUALIFY row_number() OVER (PARTITION BY f.queue, f.interval_start
                                          ORDER BY r.as_of DESC, r.published_at DESC, r.run_id DESC) = 1""",
            [start, end]).df()

    def daily_record(self, as_of: dt.date, weeks: int, days: int) -> pd.DataFrame:
        """How the forecasts made in the ``weeks`` weeks before ``as_of`` did: per queue, forecast
        origin (its first day) and day, the forecast's daily total ``p`` and the actuals' ``y``, for
        the first ``days`` days of each forecast up to ``as_of``. One run per as-of (the newest: a
        derived draft repeats its parent's forecast); runs of ``as_of`` itself are left out, so a
        forced rerun gives the same numbers."""
        return self.con.execute(
            """WITH made AS (
                   SELECT run_id, as_of FROM runs WHERE status = 'ok' AND kind IN ('forecast', 'nightly')
                     AND as_of < ? AND as_of >= ? - to_weeks(CAST(? AS INTEGER))
                   QUALIFY row_number() OVER (PARTITION BY as_of ORDER BY run_id DESC) = 1),
               fc AS (
                   SELECT f.queue, m.as_of + 1 AS origin, CAST(f.interval_start AS DATE) AS ds, sum(f.forecast) AS p
                   FROM run_forecast f JOIN made m USING (run_id)
                   WHERE CAST(f.interval_start AS DATE) <= ? AND CAST(f.interval_start AS DATE) <= m.as_of + ?
                   GROUP BY ALL),
               act AS (
                   SELECT queue, CAST(interval_start AS DATE) AS ds, sum(contacts) AS y FROM actuals
                   WHERE interval_start < CAST(? AS DATE) + 1 AND interval_start >= CAST(? AS DATE) - to_weeks(CAST(? AS INTEGER))
                   GROUP BY ALL)
               SELECT fc.queue, CAST(fc.origin AS TIMESTAMP) AS origin, CAST(fc.ds AS TIMESTAMP) AS ds, act.y, fc.p
               FROM fc JOIN act USING (queue, ds) ORDER BY ALL""",
            [as_of, as_of, weeks, as_of, days, as_of, as_of, weeks]).df()

    def latest_intraday(self, parent_id: int) -> int | None:
        """The newest intraday run made on run ``parent_id`` (for the report)."""
        return scalar(self.con, """SELECT max(run_id) FROM runs WHERE kind = 'intraday' AND status = 'ok'
                                   AND parent_run_id = ?""", [parent_id])

    def save_forecast(self, run_id: int, frame: pd.DataFrame) -> None:
        staged = frame.assign(run_id=run_id, model=frame.get("model"))
        self.con.register("staged_fc", staged)
        self.con.execute("""INSERT INTO run_forecast SELECT run_id, queue, interval_start, forecast, lo_80, hi_80,
                            lo_95, hi_95, aht_s, model FROM staged_fc""")
        self.con.unregister("staged_fc")

    def save_requirements(self, run_id: int, basis: str, frame: pd.DataFrame) -> None:
        """Replace the run's requirements on ``basis`` (``mean`` or ``q0.80``) with ``frame``."""
        self.con.execute("DELETE FROM run_requirements WHERE run_id = ? AND basis = ?", [run_id, basis])
        self.con.register("staged_req", frame.assign(run_id=run_id, basis=basis))
        self.con.execute("""INSERT INTO run_requirements SELECT run_id, queue, interval_start, basis, contacts, aht_s,
                            required_agents, required_with_shrinkage, service_level, asa_s, occupancy, abandon
                            FROM staged_req""")
        self.con.unregister("staged_req")

    def plan_models(self, run_id: int | None = None) -> dict[str, str]:
        """Each queue's forecasting model in run ``run_id``, by default the published plan (none
        without one): the choice a new forecast keeps unless another model is clearly better."""
        run_id = self.plan() if run_id is None else run_id
        raw = scalar(self.con, "SELECT info FROM runs WHERE run_id = ?", [run_id]) if run_id is not None else None
        queues = (json.loads(raw) if raw else {}).get("queues", {})
        return {q: v["model"] for q, v in queues.items() if isinstance(v, dict) and v.get("model")}

    def set_info(self, run_id: int, key: str, value: object) -> None:
        """Set ``info[key]`` of a run (a step's summary: schedule, capacity, ...)."""
        raw = scalar(self.con, "SELECT info FROM runs WHERE run_id = ?", [run_id])
        info = json.loads(raw) if raw else {}
        info[key] = value
        self.con.execute("UPDATE runs SET info = ? WHERE run_id = ?", [json.dumps(info, default=str), run_id])

    def _replace(self, table: str, run_id: int, frame: pd.DataFrame, columns: dict[str, str]) -> None:
        """Replace ``table``'s rows of ``run_id`` with ``frame`` (``columns``: table column -> frame column)."""
        self.con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
        if frame is None or frame.empty:
            return
        staged = pd.DataFrame({col: frame[src] for col, src in columns.items()}).assign(run_id=run_id)
        self.con.register("staged_rows", staged)
        names = ", ".join(["run_id", *columns])
        self.con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM staged_rows")
        self.con.unregister("staged_rows")

    def save_schedule(self, run_id: int, plan: dict[str, pd.DataFrame]) -> None:
        """Replace the run's schedule (frames from :func:`forecaster.planning.shifts.schedule_week`)."""
        self._replace("run_schedule", run_id, plan["shifts"], {
            "queue": "queue", "day": "day", "shift": "shift", "start_ts": "start", "end_ts": "end",
            "paid_h": "paid_h", "headcount": "headcount"})
        self._replace("run_coverage", run_id, plan["coverage"], {c: c for c in (
            "queue", "interval_start", "required_with_shrinkage", "required_agents", "scheduled_agents", "on_break", "over", "under")})
        self._replace("run_breaks", run_id, plan["breaks"], {
            "queue": "queue", "day": "day", "shift": "shift", "slot": "slot", "break": "break",
            "start_ts": "start", "end_ts": "end"})
        self._replace("run_schedule_summary", run_id, plan["summary"], {c: c for c in plan["summary"].columns})

    def schedule(self, run_id: int) -> dict[str, pd.DataFrame]:
        q = lambda sql: self.con.execute(sql, [run_id]).df()  # noqa: E731
        return {
            "shifts": q("""SELECT queue, day, shift, start_ts AS start, end_ts AS "end", paid_h, headcount
                           FROM run_schedule WHERE run_id = ? ORDER BY queue, day, start_ts, shift"""),
            "coverage": self.coverage(run_id),
            "breaks": q("""SELECT queue, day, shift, slot, break, start_ts AS start, end_ts AS "end" FROM run_breaks
                           WHERE run_id = ? ORDER BY queue, day, shift, slot, start_ts"""),
            "summary": q("SELECT * EXCLUDE (run_id) FROM run_schedule_summary WHERE run_id = ? ORDER BY queue, day"),
        }

    def save_capacity(self, run_id: int, cap: dict[str, pd.DataFrame]) -> None:
        self._replace("run_capacity", run_id, cap["windows"], {
            "queue": "queue", "start_ts": "start", "end_ts": "end", "spare_agents_min": "spare_agents_min",
            "spare_agent_hours": "spare_agent_hours", "outbound_calls": "outbound_calls", "risk": "risk"})
        self._replace("run_spare", run_id, cap["intervals"], {c: c for c in (
            "queue", "interval_start", "required_agents", "required_with_shrinkage", "scheduled_agents", "productive", "spare", "risk", "callbacks")})

    def capacity(self, run_id: int) -> dict[str, pd.DataFrame]:
        q = lambda sql: self.con.execute(sql, [run_id]).df()  # noqa: E731
        return {
            "windows": q("""SELECT queue, start_ts AS start, end_ts AS "end", spare_agents_min, spare_agent_hours,
                            outbound_calls, risk FROM run_capacity WHERE run_id = ? ORDER BY queue, start_ts"""),
            "intervals": q("SELECT * EXCLUDE (run_id) FROM run_spare WHERE run_id = ? ORDER BY queue, interval_start"),
        }

    def save_impact(self, run_id: int, days: pd.DataFrame) -> None:
        """Replace the run's campaign impact (per campaign, queue and day; past and planned)."""
        self._replace("run_impact", run_id, days, {c: c for c in (
            "campaign_id", "queue", "day", "extra_contacts", "lo_80", "hi_80", "extra_agent_hours", "status")})

    def impact(self, run_id: int) -> pd.DataFrame:
        return self.con.execute("""SELECT * EXCLUDE (run_id) FROM run_impact WHERE run_id = ?
                                   ORDER BY campaign_id, queue, day""", [run_id]).df()

    def requirements(self, run_id: int, basis: str) -> pd.DataFrame:
        return self.con.execute("""SELECT * EXCLUDE (run_id) FROM run_requirements WHERE run_id = ? AND basis = ?
                                   ORDER BY queue, interval_start""", [run_id, basis]).df()
