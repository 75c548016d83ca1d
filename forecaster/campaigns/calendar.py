"""Campaign calendars from marketing: one schema, strict checks, every version kept.

A calendar is a CSV, XLSX or YAML file with one campaign per row (see :class:`CampaignRow`).
Checking reports every problem at once with its row and field. Submitting is all or nothing:
a changed campaign becomes a new version, an unchanged one is left alone, and every version is
kept with who submitted it and when. Withdrawing adds a version marked withdrawn.

No submission is lost: when the store stays locked longer than the lock timeout (a long job
holds it), the checked submission is written atomically to the store's inbox folder
(``<store>.inbox/``) and applied, in order, by the next command that writes campaigns.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from forecaster.core.config import Config
from forecaster.core.errors import InputError, Problem, UserError
from forecaster.io.actuals import table_of_bytes
from forecaster.store.database import Store, inbox_dir, scalar

Channel = Literal["direct_mail", "email", "sms", "tv", "radio", "social", "web", "push", "event", "other"]
FIELDS = ["campaign_id", "name", "channel", "kind", "start", "end", "queues", "reach", "expected_contacts",
          "expected_per_1000", "notes"]
EXPECTED = ("expected_contacts", "expected_per_1000")
_QUEUE_SPLIT = re.compile(r"[;|,]")


class CampaignRow(BaseModel):
    """One campaign as marketing writes it (or, with ``channel: event``, anything else that drives
    contacts: a payment due date, a price change, an outage, a regulator's letter). ``start``/``end``
    are local dates or date-times; a date (or a time of exactly 00:00) is the whole day, so a
    date-only ``end`` means the end of that day. ``queues`` is a list or ``all``.
    ``expected_contacts`` (over all its queues) or ``expected_per_1000`` (per 1,000 reached) is
    marketing's own estimate: the impact model uses it as a prior
    (:func:`forecaster.campaigns.effects.with_priors`)."""

    model_config = ConfigDict(extra="forbid", title="Campaign calendar row")

    campaign_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
                             description="stable id; resubmitting it makes a new version")
    name: str = Field(min_length=1, max_length=200)
    channel: Channel
    kind: str | None = Field(None, max_length=100, description="what the campaign is, e.g. 'tax bill', 'newsletter', "
                             "'price change letter': campaigns of one kind respond alike")
    start: dt.datetime | dt.date
    end: dt.datetime | dt.date
    queues: list[str] | Literal["all"] = Field(description="queue names, or 'all'")
    reach: int | None = Field(None, ge=0, description="audience size (people reached)")
    expected_contacts: float | None = Field(None, ge=0, description="marketing's estimate of the extra contacts "
                                            "over all its queues and its whole response")
    expected_per_1000: float | None = Field(None, ge=0, description="marketing's estimate of the extra contacts "
                                            "per 1,000 reached (needs reach)")
    notes: str | None = Field(None, max_length=2000)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _whole_days(cls, v):
        """A value with no time, or at exactly 00:00 (as spreadsheets store dates), is a whole day."""
        if isinstance(v, str):
            try:
                v = dt.datetime.fromisoformat(v.strip())
            except ValueError:
                return v
        if isinstance(v, dt.datetime) and v.time() == dt.time() and v.tzinfo is None:
            return v.date()
        return v

    @field_validator("queues", mode="before")
    @classmethod
    def _split(cls, v):
        if isinstance(v, str):
            parts = [p.strip() for p in _QUEUE_SPLIT.split(v) if p.strip()]
            return "all" if [p.lower() for p in parts] == ["all"] else parts
        return v

    @field_validator("queues")
    @classmethod
    def _some(cls, v):
        if v != "all" and not v:
            raise ValueError("name at least one queue, or 'all'")
        return v

    @model_validator(mode="after")
    def _order(self) -> "CampaignRow":
        if self.end_ts < self.start_ts:
            raise ValueError(f"end {self.end} is before start {self.start}; swap them or fix the dates")
        return self

    def estimate_problem(self) -> tuple[str, str] | None:
        """The field and message when marketing's estimate cannot be used as given."""
        if self.expected_contacts is not None and self.expected_per_1000 is not None:
            return "expected_per_1000", "give one estimate, expected_contacts or expected_per_1000, not both"
        if self.expected_per_1000 is not None and self.reach is None:
            return "expected_per_1000", ("needs reach (people reached) to become contacts; fill in reach, or give "
                                         "expected_contacts instead")
        return None

    @property
    def expected(self) -> float | None:
        """Marketing's estimate of the extra contacts over all queues, or None."""
        if self.expected_per_1000 is not None:
            return self.expected_per_1000 * self.reach / 1000
        return self.expected_contacts

    @property
    def start_ts(self) -> dt.datetime:
        return self.start if isinstance(self.start, dt.datetime) else dt.datetime.combine(self.start, dt.time())

    @property
    def end_ts(self) -> dt.datetime:
        if isinstance(self.end, dt.datetime):
            return self.end
        return dt.datetime.combine(self.end, dt.time(23, 59, 59))


def json_schema() -> dict:
    """The calendar row's JSON Schema, for marketing's own tools."""
    return CampaignRow.model_json_schema()


@dataclass
class Calendar:
    """A checked calendar: one row per campaign in store shape, and warnings."""

    file: str
    sha256: str
    frame: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def _records(raw: bytes, name: str, suffix: str) -> tuple[list[dict], int, str, bool]:
    """Rows as dicts, the number of the first data row, the file's sha256 and whether its numbers
    use a decimal comma (a ;-separated export, where 200.000 is two hundred thousand)."""
    if suffix.lower() in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise InputError([Problem(name, mark.line + 1 if mark else None, None,
                                      f"is not valid YAML ({getattr(exc, 'problem', exc)}); fix the syntax")]) from None
        if isinstance(data, dict) and "campaigns" in data:
            data = data["campaigns"]
        if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
            raise InputError([Problem(name, None, None, "must be a YAML list of campaigns (or 'campaigns:' with one)")])
        return data, 1, hashlib.sha256(raw).hexdigest(), False
    if raw[:4] == b"PK\x03\x04":
        try:
            frame = pd.read_excel(io.BytesIO(raw), dtype=str, keep_default_na=False)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on damaged files
            raise InputError([Problem(name, None, None, f"is not a readable XLSX file ({exc}); save it again")]) from None
        return frame.to_dict("records"), 2, hashlib.sha256(raw).hexdigest(), False
    frame, first_row, digest = table_of_bytes(raw, name)
    return frame.to_dict("records"), first_row, digest, bool(frame.attrs.get("decimal_comma"))


def calendar_rows(raw: bytes, name: str, suffix: str) -> tuple[list[dict], int]:
    """A calendar file's rows as written (keys lower-cased, blanks as None) and the number of its
    first data row, for showing a file next to its problems. Raises InputError if unreadable."""
    records, first_row, _, _ = _records(raw, name, suffix)
    return [{str(k).strip().lower(): (None if v is None or (isinstance(v, str) and not v.strip())
                                      or (isinstance(v, float) and np.isnan(v)) else v)
             for k, v in rec.items()} for rec in records], first_row


class _BadNumber(ValueError):
    """A number written ambiguously: which field, and why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


_GROUPED = {False: re.compile(r"\d{1,3}(,\d{3})+(\.0+)?"), True: re.compile(r"\d{1,3}(\.\d{3})+(,0+)?")}
_DOT_GROUPS = re.compile(r"\d{1,3}(\.\d{3})+")


def _reach(value: str, decimal_comma: bool) -> object:
    """``reach`` as written in the file's convention: 200000, 200,000 or 200000.0; in a ;-separated
    file 200.000 or 200000,0. Anything else is returned as given, for the check to report."""
    text = value.replace("_", "").replace(" ", "").replace("\u00a0", "")
    if _GROUPED[decimal_comma].fullmatch(text):
        text = text.replace("." if decimal_comma else ",", "").replace(",", ".")
    elif decimal_comma and re.fullmatch(r"\d+,0+", text):
        text = text.replace(",", ".")
    elif not decimal_comma and _DOT_GROUPS.fullmatch(text):   # 200.000: two hundred, or two hundred thousand?
        raise ValueError(f"{value!r} is ambiguous in a ,-separated file (200 or 200,000?); write the number "
                         f"without separators ({text.replace('.', '')} for {text.replace('.', ',')}), or export "
                         "the file ;-separated, where . groups thousands")
    return int(float(text)) if re.fullmatch(r"\d+(\.0+)?", text) else value


def _decimal(value: str, decimal_comma: bool, whole_ambiguous: bool) -> object:
    """A decimal number as written in the file's convention (3.5 or 1,500.5; in a ;-separated file
    3,5 or 1.500,5); with ``whole_ambiguous`` (a count of contacts), 1.500 in a ,-separated file is
    refused as ambiguous, as for reach. Anything else is returned as given, for the check to report."""
    text = value.replace("_", "").replace(" ", "").replace("\u00a0", "")
    if decimal_comma:
        if re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?", text):
            text = text.replace(".", "")
        text = text.replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", text):
        text = text.replace(",", "")
    elif whole_ambiguous and _DOT_GROUPS.fullmatch(text):
        raise ValueError(f"{value!r} is ambiguous in a ,-separated file (1.5 or 1,500?); write the number "
                         f"without separators, or export the file ;-separated, where . groups thousands")
    try:
        return float(text)
    except ValueError:
        return value


def _clean(rec: dict, decimal_comma: bool = False) -> dict:
    out = {}
    for key, value in rec.items():
        key = str(key).strip().lower()
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                value = None
        if isinstance(value, float) and np.isnan(value):
            value = None
        if key == "reach" and isinstance(value, str):
            try:
                value = _reach(value, decimal_comma)
            except ValueError as exc:
                raise _BadNumber(key, str(exc)) from None
        if key in EXPECTED and isinstance(value, str):
            try:
                value = _decimal(value, decimal_comma, key == "expected_contacts")
            except ValueError as exc:
                raise _BadNumber(key, str(exc)) from None
        out[key] = value
    return out


def _field_problem(name: str, row: int, err: dict) -> Problem:
    loc = str(err["loc"][0]) if err["loc"] else None
    given = err.get("input")
    kind = err["type"]
    if kind == "extra_forbidden":
        msg = f"unknown column; the columns are {', '.join(FIELDS)}"
    elif kind == "missing":
        msg = "is required; fill it in"
    elif loc == "reach" and isinstance(given, str):
        msg = f"must be a whole number of people reached, got {given!r}; write it without separators, e.g. 200000"
    elif loc in EXPECTED and kind in ("float_parsing", "float_type", "greater_than_equal"):
        what = "extra contacts" if loc == "expected_contacts" else "extra contacts per 1,000 reached"
        msg = f"must be marketing's estimate of the {what}, a number of 0 or more (e.g. 1500 or 2.5), got {given!r}"
    elif loc == "channel":
        msg = f"must be one of {', '.join(Channel.__args__)}, got {given!r}"
    elif loc in ("start", "end"):
        msg = f"must be a date (2026-12-01) or local date-time (2026-12-01 09:00), got {given!r}"
    elif loc == "campaign_id" and kind == "string_pattern_mismatch":
        msg = f"use letters, digits, '_', '.', '-' (starting with a letter or digit), got {given!r}"
    else:
        msg = err["msg"].removeprefix("Value error, ") + ("" if isinstance(given, dict) else f", got {given!r}")
    return Problem(name, row, loc, msg, None if isinstance(given, dict) else given)


def read_calendar(path: str | Path, config: Config, today: dt.date | None = None, *, data: bytes | None = None,
                  name: str | None = None) -> Calendar:
    """Read and check a calendar; raise InputError listing every problem. ``data`` gives the file's
    bytes when they did not come from ``path`` (an upload: then ``path`` only tells the type by its
    suffix), and ``name`` what messages and the store call the file (default: ``path``)."""
    path = Path(path)
    name = name or str(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError([Problem(name, None, None, f"cannot be read ({exc.strerror or exc}); check the path "
                                      "and permissions")]) from None
    records, first_row, digest, decimal_comma = _records(data, name, path.suffix)
    if not records:
        raise InputError([Problem(name, None, None, "has no campaigns; add at least one row")])
    known = set(config.queue_names)
    problems: list[Problem] = []
    rows: list[tuple[int, CampaignRow]] = []
    seen: dict[str, int] = {}
    for n, rec in enumerate(records):
        row_no = n + first_row
        try:
            cleaned = _clean(rec, decimal_comma)
        except _BadNumber as exc:                      # a reach or estimate written ambiguously
            problems.append(Problem(name, row_no, exc.field, str(exc),
                                    next((v for k, v in rec.items() if str(k).strip().lower() == exc.field), None)))
            continue
        try:
            c = CampaignRow.model_validate(cleaned)
        except ValidationError as exc:
            problems += [_field_problem(name, row_no, e) for e in exc.errors()]
            continue
        bad = c.estimate_problem()
        if bad:
            problems.append(Problem(name, row_no, bad[0], bad[1], getattr(c, bad[0])))
        unknown = [] if c.queues == "all" else sorted(set(c.queues) - known)
        if unknown:
            problems.append(Problem(name, row_no, "queues", f"unknown queue(s) {', '.join(unknown)}; known: "
                                    f"{', '.join(config.queue_names)} or 'all'", ";".join(c.queues)))
        if c.campaign_id in seen:
            problems.append(Problem(name, row_no, "campaign_id", f"{c.campaign_id!r} is also on row {seen[c.campaign_id]}; "
                                    "give each campaign one row", c.campaign_id))
        seen.setdefault(c.campaign_id, row_no)
        rows.append((row_no, c))
    if problems:
        raise InputError(sorted(problems, key=lambda p: (p.row or 0, p.column or "")))
    frame = pd.DataFrame([{
        "campaign_id": c.campaign_id, "name": c.name, "channel": c.channel, "kind": c.kind, "start_ts": c.start_ts,
        "end_ts": c.end_ts, "queues": config.queue_names if c.queues == "all" else list(c.queues),
        "reach": c.reach, "expected_contacts": c.expected_contacts, "expected_per_1000": c.expected_per_1000,
        "notes": c.notes, "row": row_no} for row_no, c in rows])
    return Calendar(name, digest, frame, calendar_warnings(frame, config, today or dt.date.today()))


def calendar_warnings(frame: pd.DataFrame, config: Config, today: dt.date) -> list[str]:
    """Short-notice campaigns, and campaigns that hit the same queue on the same days."""
    out = []
    freeze = config.campaigns.freeze_days
    for r in frame.itertuples():
        lead = (r.start_ts.date() - today).days
        if 0 <= lead < freeze:
            out.append(f"{r.campaign_id} starts in {lead} day(s), inside the {freeze}-day freeze window; "
                       "tell the planners now, the schedule may already be fixed")
    shared: dict[tuple, list[str]] = {}
    for queue in config.queue_names:
        on = frame[frame["queues"].map(lambda qs: queue in qs)].sort_values("start_ts")
        for a, b in zip(on.itertuples(), on.iloc[1:].itertuples()):
            if b.start_ts.date() <= a.end_ts.date() and b.end_ts.date() >= today:
                days = f"{b.start_ts:%Y-%m-%d}..{min(a.end_ts, b.end_ts):%Y-%m-%d}"
                shared.setdefault((a.campaign_id, b.campaign_id, days), []).append(queue)
    for (a, b, days), queues in shared.items():
        out.append(f"{a} and {b} both hit {', '.join(queues)} on {days}; expect their peaks to add up")
    return out


# -- the store side ------------------------------------------------------------------------
VERSION_COLUMNS = ["campaign_id", "version", "name", "channel", "kind", "start_ts", "end_ts", "queues", "reach",
                   "expected_contacts", "expected_per_1000", "notes", "withdrawn", "submitted_by", "submitted_at", "source_file", "submission_id"]


def current(store: Store, include_withdrawn: bool = True) -> pd.DataFrame:
    """The latest version of every campaign."""
    frame = store.con.execute(
        f"""SELECT {', '.join(VERSION_COLUMNS)} FROM campaign_versions
            QUALIFY version = max(version) OVER (PARTITION BY campaign_id) ORDER BY start_ts, campaign_id""").df()
    return frame if include_withdrawn else frame[~frame["withdrawn"]].reset_index(drop=True)


def current_empty() -> pd.DataFrame:
    """:func:`current`'s columns with no rows (a store not made yet)."""
    return pd.DataFrame(columns=VERSION_COLUMNS)


def versions(store: Store, campaign_id: str) -> pd.DataFrame:
    frame = store.con.execute(f"SELECT {', '.join(VERSION_COLUMNS)} FROM campaign_versions WHERE campaign_id = ? "
                              "ORDER BY version", [campaign_id]).df()
    if frame.empty:
        raise UserError(f"no campaign {campaign_id!r} in the store; 'forecaster campaigns list' shows them")
    return frame


def _none(value):
    """None for missing values (None, NaN, NA), the value otherwise."""
    return None if value is None or (np.ndim(value) == 0 and pd.isna(value)) else value


def _key(rec) -> tuple:
    """What makes two versions of a campaign the same, normalised across frames and the store."""
    reach = _none(rec["reach"])
    expected = tuple(None if _none(rec.get(f)) is None else float(rec[f]) for f in EXPECTED)
    return (rec["name"], rec["channel"], _none(rec.get("kind")), pd.Timestamp(rec["start_ts"]),
            pd.Timestamp(rec["end_ts"]), tuple(rec["queues"]), None if reach is None else int(reach),
            expected, _none(rec["notes"]))


def plan(store: Store | None, cal: Calendar) -> pd.DataFrame:
    """Each campaign of ``cal`` with ``status`` new / changed / unchanged / revived against the store."""
    latest = current(store).set_index("campaign_id") if store is not None else pd.DataFrame()
    status = []
    for r in cal.frame.to_dict("records"):
        if r["campaign_id"] not in latest.index:
            status.append("new")
        else:
            old = latest.loc[r["campaign_id"]]
            status.append("changed" if _key(r) != _key(old) else ("revived" if old["withdrawn"] else "unchanged"))
    return cal.frame.assign(status=status)


def _apply(store: Store, cal: Calendar, by: str, at: dt.datetime, via_inbox: bool) -> dict:
    """Write one checked calendar in the caller's transaction; returns the counts."""
    con = store.con
    planned = plan(store, cal)
    submission_id = scalar(con, "SELECT coalesce(max(submission_id), 0) + 1 FROM submissions")
    todo = planned[planned["status"] != "unchanged"]
    if len(todo):
        versions_now = dict(con.execute("SELECT campaign_id, max(version) FROM campaign_versions GROUP BY 1").fetchall())
        rows = todo.assign(
            version=[versions_now.get(c, 0) + 1 for c in todo["campaign_id"]], withdrawn=False, submitted_by=by,
            submitted_at=at, source_file=cal.file, submission_id=submission_id)
        con.register("staged_cal", rows[VERSION_COLUMNS])
        con.execute(f"INSERT INTO campaign_versions ({', '.join(VERSION_COLUMNS)}) "
                    f"SELECT {', '.join(VERSION_COLUMNS)} FROM staged_cal")
        con.unregister("staged_cal")
    counts = {s: int((planned["status"] == s).sum()) for s in ("new", "changed", "unchanged", "revived")}
    con.execute("INSERT INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [submission_id, cal.file, cal.sha256, by, at, len(planned), counts["new"],
                 counts["changed"] + counts["revived"], counts["unchanged"], via_inbox])
    return {"submission_id": int(submission_id), **counts}


def spool(folder: Path, cal: Calendar, by: str, at: dt.datetime) -> Path:
    """Queue ``cal`` in the store's inbox when the store is locked, atomically (temp file, fsync,
    rename); the next writer applies it (:func:`drain_inbox`)."""
    folder.mkdir(parents=True, exist_ok=True)
    payload = {"file": cal.file, "sha256": cal.sha256, "by": by, "at": at.isoformat(),
               "rows": json.loads(cal.frame.drop(columns=["row"]).to_json(orient="records", date_format="iso"))}
    final = folder / f"{at:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.json"
    tmp = folder / f".{final.name}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(payload, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    return final


def drain_inbox(store: Store) -> list[dict]:
    """Apply queued submissions in the order they were made, each in its own transaction."""
    folder = inbox_dir(store.path)
    applied = []
    for item in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        data = json.loads(item.read_text(encoding="utf-8"))
        frame = pd.DataFrame(data["rows"])
        for col in ("start_ts", "end_ts"):
            frame[col] = pd.to_datetime(frame[col]).dt.tz_localize(None)
        frame["reach"] = frame["reach"].astype("Int64").astype(object).where(frame["reach"].notna(), None)
        for col in EXPECTED:                          # spooled before these fields existed: none given
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None) if col in frame else None
        cal = Calendar(data["file"], data["sha256"], frame.assign(row=0))
        with store.transaction():
            counts = _apply(store, cal, data["by"], dt.datetime.fromisoformat(data["at"]), via_inbox=True)
        item.unlink()                                  # only after the commit: a crash here re-applies as 'unchanged'
        applied.append({"file": data["file"], **counts})
    return applied


def store_submission(store: Store, cal: Calendar, by: str, at: dt.datetime) -> dict:
    """Apply queued submissions first (they were made earlier), then store ``cal`` in one transaction."""
    earlier = drain_inbox(store)
    with store.transaction():
        counts = _apply(store, cal, by, at, via_inbox=False)
    return {**counts, "inbox_applied": len(earlier)}


def withdraw(store: Store, campaign_id: str, by: str) -> int:
    """Add a withdrawn version of ``campaign_id``; returns the new version number."""
    latest = versions(store, campaign_id).iloc[-1]
    if latest["withdrawn"]:
        raise UserError(f"campaign {campaign_id!r} is already withdrawn (version {latest['version']})")
    row = latest.to_dict()
    row.update(version=int(latest["version"]) + 1, withdrawn=True, submitted_by=by, submitted_at=dt.datetime.now(),
               source_file=None, submission_id=None)
    with store.transaction() as con:
        con.register("staged_wd", pd.DataFrame([row])[VERSION_COLUMNS])
        con.execute(f"INSERT INTO campaign_versions ({', '.join(VERSION_COLUMNS)}) "
                    f"SELECT {', '.join(VERSION_COLUMNS)} FROM staged_wd")
        con.unregister("staged_wd")
    return int(row["version"])
