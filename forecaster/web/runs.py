"""Planners' area: the published run's report, the runs, and the latest run as JSON."""

from __future__ import annotations

import datetime as dt
import json

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from forecaster.core.errors import UserError
from forecaster.jobs.actions import report_html, run_record, runs_table
from forecaster.web.deps import Planner, SiteDep, page
from forecaster.web.security import REPORT_CSP

pages = APIRouter(tags=["pages"], include_in_schema=False)
api = APIRouter(prefix="/api", tags=["runs"])


class RunOut(BaseModel):
    run_id: int
    kind: str
    status: str
    as_of: dt.date | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
    published_at: dt.datetime | None
    parent_run_id: int | None
    is_plan: bool
    forecast_rows: int


class RunDetail(RunOut):
    params: dict | None
    info: dict | None


def _none(v):
    return None if v is None or v != v else v                        # NaN and NaT are None


def _run_out(row: dict, plan_id: int | None) -> RunOut:
    return RunOut(run_id=int(row["run_id"]), kind=row["kind"], status=row["status"], as_of=_none(row["as_of"]),
                  started_at=row["started_at"], finished_at=_none(row["finished_at"]),
                  published_at=_none(row["published_at"]),
                  parent_run_id=None if _none(row["parent_run_id"]) is None else int(row["parent_run_id"]),
                  is_plan=row["run_id"] == plan_id, forecast_rows=int(row["forecast_rows"]))


@api.get("/runs/latest", response_model=RunDetail, responses={404: {"description": "No run yet"}})
def api_latest(user: Planner, s: SiteDep, published: bool = True):
    """The published plan (or, with ``published=false``, the newest run of any kind), with its
    parameters and what it recorded (models chosen, fallbacks, warnings, timings)."""
    frame, plan_id = runs_table(s.store_path, s.lock_timeout_s)
    rows = [r for r in frame.to_dict("records") if not published or r["run_id"] == plan_id]
    if not rows:
        raise HTTPException(404, "no published plan yet; the nightly job publishes one" if published else "no run yet")
    row = max(rows, key=lambda r: r["run_id"])
    full = run_record(s.store_path, int(row["run_id"]), s.lock_timeout_s)
    parsed = {k: json.loads(full[k]) if isinstance(full[k], str) else full[k] for k in ("params", "info")}
    return RunDetail(**_run_out(row, plan_id).model_dump(), **parsed)


@pages.get("/runs")
def runs_page(request: Request, user: Planner, s: SiteDep):
    frame, plan_id = runs_table(s.store_path, s.lock_timeout_s)
    runs = [_run_out(r, plan_id) for r in frame.sort_values("run_id", ascending=False).head(100).to_dict("records")]
    return page(request, "runs.html", runs=runs)


@pages.get("/report", response_class=HTMLResponse)
def report_page(request: Request, user: Planner, s: SiteDep, run: int | None = None):
    try:
        html, _, _ = report_html(s.store_path, s.config, run, s.lock_timeout_s)
    except UserError as exc:
        return page(request, "error.html", status_code=404, title="No report", message=str(exc))
    return HTMLResponse(html, headers={"content-security-policy": REPORT_CSP})
