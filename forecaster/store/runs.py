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

    def latest(self, kind: str) -> int | None:
        """The newest published run of ``kind``; ``forecast`` also finds nightly runs (which hold one)."""
        kinds = ["forecast", "nightly"] if kind == "forecast" else [kind]
        return scalar(self.con, """SELECT max(run_id) FROM runs WHERE list_contains(?, kind) AND status = 'ok'
                                   AND published""", [kinds])

    def forecast_run(self, run_id: int | None = None) -> tuple[int, dict]:
        """The forecast (or nightly) run ``run_id``, by default the latest published one, or a clear error."""
        run_id = run_id or self.latest("forecast")
        if run_id is None:
            raise UserError("the store holds no forecast run yet; run 'forecaster forecast' first")
        run = self.get(run_id)
        if run is None or run["kind"] not in ("forecast", "nightly"):
            raise UserError(f"run {run_id} is not a forecast run; 'forecaster runs' lists the runs")
        return run_id, run

    def get(self, run_id: int) -> dict | None:
        rows = self.con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id]).df()
        return rows.to_dict("records")[0] if len(rows) else None

    def create(self, kind: str, as_of=None, params: dict | None = None, info: dict | None = None,
               status: str = "ok", started_at: dt.datetime | None = None) -> int:
        run_id = scalar(self.con, "SELECT coalesce(max(run_id), 0) + 1 FROM runs")
        now = dt.datetime.now()
        self.con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         [run_id, kind, status, as_of, started_at or now, now, status == "ok",
                          json.dumps(params or {}), json.dumps(info or {}, default=str)])
        return int(run_id)

    def list(self, kind: str | None = None) -> pd.DataFrame:
        """Every run, newest first, with how many output rows each has."""
        return self.con.execute(
            """SELECT r.run_id, r.kind, r.status, r.published, r.as_of, r.started_at, r.finished_at,
                      (SELECT count(*) FROM run_forecast f WHERE f.run_id = r.run_id) AS forecast_rows,
                      (SELECT count(*) FROM run_requirements q WHERE q.run_id = r.run_id) AS requirement_rows
               FROM runs r WHERE ? IS NULL OR r.kind = ? ORDER BY r.run_id DESC""", [kind, kind]).df()

    def forecast(self, run_id: int) -> pd.DataFrame:
        return self.con.execute(
            """SELECT queue, interval_start, forecast, lo_80, hi_80, lo_95, hi_95, aht_s FROM run_forecast
               WHERE run_id = ? ORDER BY queue, interval_start""", [run_id]).df()

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
            "coverage": q("""SELECT * EXCLUDE (run_id) FROM run_coverage WHERE run_id = ?
                             ORDER BY queue, interval_start"""),
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
