"""Marketing's area: the campaign calendar as pages and as a JSON API, over the same library
functions as ``forecaster campaigns`` (read and check, check against the store, submit, withdraw,
impact, advice)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import PurePath

import pandas as pd
import yaml
from fastapi import APIRouter, File, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from forecaster.campaigns.calendar import EXPECTED, FIELDS, Calendar, Channel, calendar_rows, read_calendar
from forecaster.core.errors import InputError, Problem, UserError
from forecaster.core.site_calendar import site_today
from forecaster.jobs.actions import (
    advise_store,
    calendar_now,
    campaign_history,
    check_calendar,
    check_peaks,
    impact_store,
    submit_calendar,
    withdraw_campaign,
)
from forecaster.web.deps import Form, Marketing, Site, SiteDep, flash, page

log = logging.getLogger("forecaster.web")
pages = APIRouter(tags=["pages"], include_in_schema=False)
api = APIRouter(prefix="/api", tags=["campaigns"])
SUFFIXES = {".csv": ".csv", ".txt": ".csv", ".xlsx": ".xlsx", ".yaml": ".yaml", ".yml": ".yaml"}


# -- what pages and API share ---------------------------------------------------------------------
def upload_name(filename: str | None) -> str:
    """What messages and the store call an upload: its base name, printable, at most 120
    characters. It never becomes a path: the bytes are read from memory."""
    base = PurePath((filename or "upload").replace("\\", "/")).name
    return re.sub(r"[^\w .,()+@-]", "_", base)[:120] or "upload"


def read_upload(s: Site, data: bytes, filename: str | None) -> Calendar:
    """Check an uploaded calendar; InputError lists every problem with its row and field."""
    name = upload_name(filename)
    suffix = SUFFIXES.get(PurePath(name).suffix.lower())
    if suffix is None:
        raise InputError([Problem(name, None, None, "must be a calendar file: .csv, .xlsx or .yaml (see "
                                  "/api/docs for the columns)")])
    if not data:
        raise InputError([Problem(name, None, None, "is empty; upload a calendar with a header row and campaigns")])
    return read_calendar(f"upload{suffix}", s.config, site_today(s.config), data=data, name=name)


def form_calendar(s: Site, form) -> tuple[bytes, Calendar]:
    """One campaign from the web form, checked by the same rules as a file (it is one, in YAML)."""
    row = {f: (str(form.get(f, "")).strip() or None) for f in FIELDS}
    picked = [str(q) for q in form.getlist("queue")]
    if picked:
        row["queues"] = ";".join(picked)
    data = yaml.safe_dump([{k: v for k, v in row.items() if v is not None}], allow_unicode=True).encode()
    return data, read_calendar("form.yaml", s.config, site_today(s.config), data=data, name="web form")


def status_of(row, today: dt.date) -> str:
    if row["withdrawn"]:
        return "withdrawn"
    start, end = pd.Timestamp(row["start_ts"]).date(), pd.Timestamp(row["end_ts"]).date()
    return "planned" if start > today else ("running" if end >= today else "past")


def impact_by_campaign(s: Site) -> tuple[dict, str | None]:
    """Each campaign's extra contacts with their 80% interval (measured for past campaigns,
    expected for planned ones), and a note when they could not be computed."""
    def compute():
        try:
            out = impact_store(s.store_path, s.config, lock_timeout_s=s.lock_timeout_s)
        except UserError as exc:
            return {}, f"No expected contacts yet: {exc}"
        return {r["campaign_id"]: r for r in out["campaigns"].to_dict("records")}, None
    try:
        return s.cached(("impact",), compute)
    except Exception as exc:  # noqa: BLE001 - the list must still show; the log and the page both say why
        log.exception("campaign impact failed")
        return {}, f"The expected contacts could not be computed ({type(exc).__name__}: {exc}); see the server log."


def problems_json(exc: InputError) -> dict:
    return {"errors": [{"row": p.row, "field": p.column, "value": None if p.value is None else str(p.value),
                        "message": p.message} for p in exc.problems]}


# -- API models -----------------------------------------------------------------------------------
class ProblemOut(BaseModel):
    row: int | None
    field: str | None
    value: str | None
    message: str


class ErrorsOut(BaseModel):
    errors: list[ProblemOut]


class CheckedCampaign(BaseModel):
    campaign_id: str
    name: str
    status: str


class CheckOut(BaseModel):
    file: str
    campaigns: list[CheckedCampaign]
    warnings: list[str]


class SubmitOut(BaseModel):
    queued: bool
    submission_id: int | None = None
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    warnings: list[str]
    message: str


class CampaignOut(BaseModel):
    campaign_id: str
    version: int
    name: str
    channel: str
    kind: str | None
    start: dt.datetime
    end: dt.datetime
    queues: list[str]
    reach: int | None
    expected_contacts: float | None = None
    expected_per_1000: float | None = None
    notes: str | None
    withdrawn: bool
    status: str
    submitted_by: str
    submitted_at: dt.datetime


class CampaignDetail(BaseModel):
    campaign: CampaignOut
    versions: list[CampaignOut]


class ImpactOut(BaseModel):
    campaign_id: str
    name: str
    channel: str
    status: str
    extra_contacts: float
    lo_80: float
    hi_80: float
    extra_agent_hours: float | None
    marketing_share: float = Field(0.0, description="share of marketing's own estimate in the figure (0 to 1)")


def _campaign_out(row: dict, today: dt.date) -> CampaignOut:
    def none(v):
        return None if v is None or (not isinstance(v, list | tuple) and pd.isna(v)) else v
    return CampaignOut(
        campaign_id=row["campaign_id"], version=int(row["version"]), name=row["name"], channel=row["channel"],
        kind=none(row.get("kind")), start=row["start_ts"], end=row["end_ts"], queues=list(row["queues"]),
        reach=None if none(row["reach"]) is None else int(row["reach"]),
        expected_contacts=none(row.get("expected_contacts")), expected_per_1000=none(row.get("expected_per_1000")),
        notes=none(row["notes"]),
        withdrawn=bool(row["withdrawn"]), status=status_of(row, today), submitted_by=row["submitted_by"],
        submitted_at=row["submitted_at"])


ERRORS = {422: {"model": ErrorsOut, "description": "The calendar has problems; nothing was stored"}}


# -- API ------------------------------------------------------------------------------------------
@api.post("/campaigns/validate", response_model=CheckOut, responses=ERRORS)
def api_validate(user: Marketing, s: SiteDep, file: UploadFile = File(description="calendar: CSV, XLSX or YAML")):
    """Check a calendar and say what submitting it would change. Stores nothing."""
    cal = read_upload(s, file.file.read(), file.filename)
    planned = check_calendar(s.store_path, s.config, cal, s.lock_timeout_s)
    return CheckOut(file=cal.file, warnings=cal.warnings, campaigns=[
        CheckedCampaign(campaign_id=r["campaign_id"], name=r["name"], status=r["status"])
        for r in planned.to_dict("records")])


def _submit(s: Site, cal: Calendar, by: str) -> dict:
    with s.write_lock:
        return submit_calendar(s.store_path, cal, by, s.lock_timeout_s)


@api.post("/campaigns", response_model=SubmitOut, status_code=201,
          responses={**ERRORS, 202: {"model": SubmitOut, "description": "The store is busy: queued, applied next"}})
def api_submit(user: Marketing, s: SiteDep, file: UploadFile = File(description="calendar: CSV, XLSX or YAML")):
    """Submit a calendar: all or nothing; a changed campaign becomes a new version, recorded as
    submitted by the token's user. A busy store queues it safely (202): nothing is lost."""
    cal = read_upload(s, file.file.read(), file.filename)
    cal.warnings += check_peaks(s.store_path, s.config, cal.frame)       # never in the way of a safe submission
    result = _submit(s, cal, user["name"])
    if "queued" in result:
        return JSONResponse(SubmitOut(queued=True, warnings=cal.warnings, message=(
            "the store is busy (a long job is running); the checked submission is queued and applied by the next "
            "run")).model_dump(), status_code=202)
    return SubmitOut(queued=False, submission_id=result["submission_id"], new=result["new"],
                     changed=result["changed"] + result["revived"], unchanged=result["unchanged"],
                     warnings=cal.warnings, message=f"stored as submission #{result['submission_id']}")


@api.get("/campaigns", response_model=list[CampaignOut])
def api_list(user: Marketing, s: SiteDep, include_withdrawn: bool = False):
    """The current version of every campaign."""
    today = site_today(s.config)
    return [_campaign_out(r, today) for r in
            calendar_now(s.store_path, include_withdrawn, s.lock_timeout_s).to_dict("records")]


def _history(s: Site, campaign_id: str) -> list[dict]:
    try:
        return campaign_history(s.store_path, campaign_id, s.lock_timeout_s).to_dict("records")
    except UserError as exc:
        raise HTTPException(404, str(exc)) from None


@api.get("/campaigns/{campaign_id}", response_model=CampaignDetail, responses={404: {"description": "No such campaign"}})
def api_show(campaign_id: str, user: Marketing, s: SiteDep):
    """One campaign: its current version and every version, oldest first."""
    today = site_today(s.config)
    rows = [_campaign_out(r, today) for r in _history(s, campaign_id)]
    return CampaignDetail(campaign=rows[-1], versions=rows)


@api.post("/campaigns/{campaign_id}/withdraw", response_model=CampaignOut, responses={404: {"description": "No such campaign"}})
def api_withdraw(campaign_id: str, user: Marketing, s: SiteDep):
    """Withdraw a campaign: a new version marked withdrawn (earlier versions stay)."""
    _history(s, campaign_id)
    with s.write_lock:
        withdraw_campaign(s.store_path, campaign_id, user["name"], s.lock_timeout_s)
    return _campaign_out(_history(s, campaign_id)[-1], site_today(s.config))


@api.get("/impact", response_model=list[ImpactOut])
def api_impact(user: Marketing, s: SiteDep):
    """Contacts each campaign caused (past) or will add (planned), with 80% intervals."""
    out = impact_store(s.store_path, s.config, lock_timeout_s=s.lock_timeout_s)
    frame = out["campaigns"].astype(object).where(out["campaigns"].notna(), None)
    return [ImpactOut(**{k: r[k] for k in ImpactOut.model_fields}) for r in frame.to_dict("records")]


# -- pages ----------------------------------------------------------------------------------------
@pages.get("/campaigns")
def campaigns_page(request: Request, user: Marketing, s: SiteDep, all: bool = False):
    today = site_today(s.config)
    frame = calendar_now(s.store_path, all, s.lock_timeout_s)
    impact, note = impact_by_campaign(s)
    rows = [{**r, "status": status_of(r, today), "impact": impact.get(r["campaign_id"])}
            for r in frame.to_dict("records")]
    return page(request, "campaigns.html", rows=rows, impact_note=note, show_all=all)


def _check_page(request: Request, s: Site, user: dict, data: bytes, suffix_name: str, cal_or_exc, rows=None):
    """The result of a check: every problem next to its row and field, or what submitting would
    change, with the warnings, and a button to confirm."""
    if isinstance(cal_or_exc, InputError):
        by_row: dict = {}
        for p in cal_or_exc.problems:
            by_row.setdefault(p.row, []).append(p)
        return page(request, "check.html", status_code=422, problems=cal_or_exc.problems, by_row=by_row,
                    rows=rows, file=cal_or_exc.problems[0].file, fields=FIELDS)
    cal = cal_or_exc
    planned = check_calendar(s.store_path, s.config, cal, s.lock_timeout_s)
    key = s.hold(user["name"], {"data": data, "name": suffix_name, "file": cal.file})
    return page(request, "check.html", planned=planned.to_dict("records"), warnings=cal.warnings, key=key,
                file=cal.file)


def _rows_of(data: bytes, name: str) -> tuple[list[dict], int] | None:
    suffix = SUFFIXES.get(PurePath(name).suffix.lower())
    if suffix is None:
        return None
    try:
        return calendar_rows(data, name, suffix)
    except InputError:
        return None


@pages.post("/campaigns/check")
def check_upload(request: Request, user: Marketing, s: SiteDep, form: Form):
    upload = form.get("file")
    if not hasattr(upload, "file"):
        flash(request, "Choose a calendar file to upload first.")
        return RedirectResponse("/campaigns", status_code=303)
    data, name = upload.file.read(), upload_name(upload.filename)
    try:
        cal = read_upload(s, data, upload.filename)
    except InputError as exc:
        return _check_page(request, s, user, data, name, exc, _rows_of(data, name))
    return _check_page(request, s, user, data, name, cal)


@pages.post("/campaigns/form")
def check_form(request: Request, user: Marketing, s: SiteDep, form: Form):
    try:
        data, cal = form_calendar(s, form)
    except InputError as exc:
        return page(request, "campaign_form.html", status_code=422, values=dict(form), problems=exc.problems,
                    channels=Channel.__args__, queues=s.config.queue_names, picked=form.getlist("queue"),
                    editing=form.get("editing") == "1")
    return _check_page(request, s, user, data, "form.yaml", cal)


@pages.post("/campaigns/confirm")
def confirm(request: Request, user: Marketing, s: SiteDep, form: Form):
    item = s.take(user["name"], str(form.get("key", "")))
    if item is None:
        flash(request, "That check has expired or was already submitted; upload the calendar again.")
        return RedirectResponse("/campaigns", status_code=303)
    suffix = SUFFIXES[PurePath(item["name"]).suffix.lower()]
    cal = read_calendar(f"upload{suffix}", s.config, site_today(s.config), data=item["data"], name=item["file"])
    result = _submit(s, cal, user["name"])
    if "queued" in result:
        flash(request, "The store is busy (a long job is running): your checked submission is queued and applied by "
                       "the next run. Nothing is lost.")
    else:
        flash(request, f"Submitted {len(cal.frame)} campaign(s) from {cal.file} as submission "
                       f"#{result['submission_id']}: {result['new']} new, {result['changed'] + result['revived']} "
                       f"changed, {result['unchanged']} unchanged.")
    return RedirectResponse("/campaigns", status_code=303)


@pages.get("/campaigns/new")
def new_campaign(request: Request, user: Marketing, s: SiteDep):
    return page(request, "campaign_form.html", values={}, problems=[], channels=Channel.__args__,
                queues=s.config.queue_names, picked=[], editing=False)


@pages.get("/campaigns/{campaign_id}/edit")
def edit_campaign(campaign_id: str, request: Request, user: Marketing, s: SiteDep):
    row = _history(s, campaign_id)[-1]
    values = {"campaign_id": row["campaign_id"], "name": row["name"], "channel": row["channel"],
              "kind": row.get("kind") or "", "start": _local(row["start_ts"]), "end": _local(row["end_ts"]),
              "reach": "" if pd.isna(row["reach"]) else int(row["reach"]), "notes": row["notes"] or "",
              **{f: "" if pd.isna(row.get(f)) else f"{float(row[f]):g}" for f in EXPECTED}}
    return page(request, "campaign_form.html", values=values, problems=[], channels=Channel.__args__,
                queues=s.config.queue_names, picked=list(row["queues"]), editing=True)


def _local(ts) -> str:
    """A stored time as the form writes it: a date for a whole day's edge, else date and time."""
    ts = pd.Timestamp(ts)
    if ts.time() in (dt.time(), dt.time(23, 59, 59)):
        return f"{ts:%Y-%m-%d}"
    return f"{ts:%Y-%m-%d %H:%M}"


@pages.get("/campaigns/{campaign_id}")
def campaign_page(campaign_id: str, request: Request, user: Marketing, s: SiteDep):
    history = _history(s, campaign_id)
    today = site_today(s.config)
    row = history[-1]
    impact, note = impact_by_campaign(s)
    advice, advice_note, advice_notes = None, None, []
    mine = impact.get(campaign_id)
    ahead = mine["status"] == "planned" if mine else status_of(row, today) == "planned"   # after the data's as-of
    if not row["withdrawn"] and ahead:
        try:
            out = s.cached(("advice", campaign_id), lambda: advise_store(
                s.store_path, s.config, campaign_id, None, s.lock_timeout_s))
            advice, advice_notes = out["table"].head(7).to_dict("records"), out["notes"]
        except UserError as exc:
            advice_note = f"No send-date advice: {str(exc).removeprefix('--window ')}"
    return page(request, "campaign.html", row={**row, "status": status_of(row, today)}, history=history,
                impact=impact.get(campaign_id), impact_note=note, advice=advice, advice_note=advice_note,
                advice_notes=advice_notes)


@pages.post("/campaigns/{campaign_id}/withdraw")
def withdraw_page(campaign_id: str, request: Request, user: Marketing, s: SiteDep, form: Form):
    _history(s, campaign_id)
    with s.write_lock:
        version = withdraw_campaign(s.store_path, campaign_id, user["name"], s.lock_timeout_s)
    flash(request, f"Withdrew {campaign_id} (version {version}).")
    return RedirectResponse(f"/campaigns/{campaign_id}", status_code=303)
