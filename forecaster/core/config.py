"""Typed, strict site configuration, loaded by :func:`load_config` (never at import).

Every model forbids unknown fields, so a typo fails with the field's name. Relative paths
(``store``, ``output_dir``) are resolved against the folder of the config file.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_pkg
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from forecaster.core.errors import ConfigError, Problem

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Channel = Literal["voice", "chat", "email"]
QUEUE_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_ranges(text: str) -> tuple[tuple[int, int], ...]:
    """``"08:00-12:00, 13:00-20:00"`` -> minutes since midnight; ``"closed"`` -> ()."""
    if text.strip().lower() == "closed":
        return ()
    out = []
    for part in text.split(","):
        m = _RANGE.match(part)
        if not m:
            raise ValueError(f"'{text}' is not like '08:00-20:00' or 'closed'")
        h1, m1, h2, m2 = map(int, m.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60 or end <= start:
            raise ValueError(f"'{part.strip()}' is not a range within one day (end after start, at most 24:00)")
        out.append((start, end))
    out.sort()
    for (_, e1), (s2, _) in zip(out, out[1:]):
        if s2 < e1:
            raise ValueError(f"ranges in '{text}' overlap")
    return tuple(out)


class OpeningHours(Strict):
    """Per weekday ``"HH:MM-HH:MM"`` (several joined by commas) or ``"closed"``."""

    mon: str = "closed"
    tue: str = "closed"
    wed: str = "closed"
    thu: str = "closed"
    fri: str = "closed"
    sat: str = "closed"
    sun: str = "closed"

    @field_validator(*WEEKDAYS)
    @classmethod
    def _valid_ranges(cls, v: str) -> str:
        parse_ranges(v)
        return v

    def ranges(self, weekday: int) -> tuple[tuple[int, int], ...]:
        """Open ranges in minutes since midnight for ``weekday`` (0 = Monday)."""
        return parse_ranges(getattr(self, WEEKDAYS[weekday]))


class HolidayCalendar(Strict):
    country: str | None = Field(None, description="country code for the `holidays` package, e.g. NL")
    subdiv: str | None = None
    closed_on_public_holidays: bool = True
    extra_closed_dates: list[dt.date] = []
    open_dates: list[dt.date] = Field([], description="public holidays on which the site opens anyway")
    observances: list[str] = Field([], description="further categories of the holidays package whose days the "
                                   "site works as usual but callers may not, e.g. [optional] for Israel's "
                                   "intermediate festival days; they get an effect of their own")

    @field_validator("country")
    @classmethod
    def _known_country(cls, v: str | None) -> str | None:
        if v is not None and v not in holidays_pkg.list_supported_countries():
            raise ValueError(f"'{v}' is not a country code the holidays package knows; use an ISO code such as NL, BE, DE, GB, IL")
        return v

    @model_validator(mode="after")
    def _known_observances(self) -> HolidayCalendar:
        if not self.observances:
            return self
        if self.country is None:
            raise ValueError("observances need a country: set holidays.country as well")
        known = set(holidays_pkg.country_holidays(self.country).supported_categories) - {"public"}
        unknown = [c for c in self.observances if c not in known]
        if unknown:
            raise ValueError(f"observances: the holidays package has no category '{unknown[0]}' for {self.country}; "
                             f"it has {', '.join(sorted(known)) or 'none besides public'}")
        return self


class QueueConfig(Strict):
    name: str
    channel: Channel
    aht_s: float = Field(gt=0, description="default average handling time, seconds")
    sl_pct: float | None = Field(None, gt=0, le=100, description="service level target, percent")
    answer_s: float | None = Field(None, ge=0, description="answer within this many seconds")
    asa_s: float | None = Field(None, gt=0, description="average speed of answer target, seconds")
    patience_s: float | None = Field(None, gt=0, description="mean patience for Erlang A, seconds")
    shrinkage: float = Field(0.0, ge=0, lt=1, description="fraction of paid time not available")
    max_occupancy: float = Field(1.0, gt=0, le=1, description="occupancy cap, a fraction")
    concurrency: int = Field(1, ge=1, le=20, description="chat sessions per agent")
    deadline_h: float | None = Field(None, gt=0, description="email response deadline, hours")
    min_agents: int = Field(0, ge=0, description="agents kept while the queue is open")
    opening_hours: OpeningHours | None = None

    @field_validator("name")
    @classmethod
    def _name_shape(cls, v: str) -> str:
        if not QUEUE_NAME.match(v):
            raise ValueError(f"'{v}' must be lower-case letters, digits, '_' or '-' (e.g. voice_billing)")
        return v

    @model_validator(mode="after")
    def _target_fits_channel(self) -> "QueueConfig":
        has_sl = self.sl_pct is not None or self.answer_s is not None
        if self.channel == "email":
            if self.deadline_h is None:
                raise ValueError("an email queue needs deadline_h (response deadline in hours, e.g. 24)")
            return self
        if self.deadline_h is not None:
            raise ValueError(f"deadline_h is for email queues only; remove it from {self.channel} queue '{self.name}'")
        if has_sl and (self.sl_pct is None or self.answer_s is None):
            raise ValueError("a service-level target needs both sl_pct and answer_s (e.g. sl_pct: 80, answer_s: 20)")
        if has_sl == (self.asa_s is not None):
            raise ValueError("give exactly one service target: sl_pct with answer_s, or asa_s")
        if self.channel != "chat" and self.concurrency != 1:
            raise ValueError(f"concurrency is for chat queues only; remove it from {self.channel} queue '{self.name}'")
        return self


def _hhmm(v: str) -> str:
    if not re.match(r"^([01]\d|2[0-3]):[0-5]\d$", v):
        raise ValueError(f"'{v}' is not a time like 08:30")
    return v


class ShiftTemplate(Strict):
    name: str
    starts: list[Annotated[str, Field(description="HH:MM")]] = Field(min_length=1)
    length_h: float = Field(gt=0, le=16)
    unpaid_break_min: int = Field(0, ge=0, le=180)
    paid_break_min: int = Field(0, ge=0, le=180)
    days: list[Weekday] = list(WEEKDAYS)
    min_headcount: int = Field(0, ge=0)
    max_headcount: int | None = Field(None, ge=0)
    queues: list[str] | Literal["all"] = "all"

    @field_validator("starts")
    @classmethod
    def _starts(cls, v: list[str]) -> list[str]:
        return [_hhmm(s) for s in v]

    @model_validator(mode="after")
    def _caps(self) -> "ShiftTemplate":
        if self.max_headcount is not None and self.max_headcount < self.min_headcount:
            raise ValueError(f"max_headcount {self.max_headcount} is below min_headcount {self.min_headcount}")
        for start in self.starts:
            h, m = map(int, start.split(":"))
            if h * 60 + m + self.length_h * 60 > 24 * 60:
                raise ValueError(f"shift '{self.name}' starting {start} for {self.length_h} h ends after midnight; "
                                 "shifts must end by 24:00 (each day is scheduled on its own)")
        if (self.unpaid_break_min + self.paid_break_min) >= self.length_h * 60 / 2:
            raise ValueError(f"shift '{self.name}' has breaks of half its length or more; shorten them")
        return self

    @property
    def paid_h(self) -> float:
        return self.length_h - self.unpaid_break_min / 60


class Scheduling(Strict):
    method: Literal["cover", "fit"] = Field("cover", description="cover: every interval covered; fit: closest fit")
    quantile: float | None = Field(None, gt=0, lt=1, description="schedule to this forecast quantile (None: the mean)")
    time_limit_s: float = Field(20.0, gt=0, le=600, description="solver time limit per queue and day, seconds")
    hourly_cost: float = Field(30.0, ge=0, description="cost of one paid agent-hour, for what-if costs")
    fte_hours_week: float = Field(36.0, gt=0, le=80, description="paid hours of one full-time agent per week")


class Outbound(Strict):
    """Spare capacity used for outbound calls, and the inbound call-backs they cause."""

    aht_s: float = Field(300.0, gt=0, description="handling time of a connected outbound call, seconds")
    attempt_s: float = Field(40.0, gt=0, description="time an unanswered dial costs, seconds")
    connect_rate: float = Field(0.35, gt=0, le=1, description="share of dials that reach the customer")
    callback_rate: float = Field(0.05, ge=0, le=1, description="inbound call-backs per connected outbound call")
    callback_delay_min: int = Field(60, ge=0, description="call-backs start this long after the outbound call")
    callback_spread_min: int = Field(120, gt=0, description="call-backs arrive evenly over this many minutes")
    quantile: float = Field(0.8, gt=0.5, lt=1, description="spare only where the schedule beats this quantile")
    min_minutes: int = Field(60, gt=0, description="shortest window worth planning, minutes")
    min_agents: int = Field(2, ge=1, description="fewest spare agents worth planning")


class CampaignPolicy(Strict):
    freeze_days: int = Field(14, ge=0, description="campaigns starting sooner than this many days get a warning")


class Nightly(Strict):
    """The unattended job: where new actuals arrive and what it produces."""

    drop_dir: str = Field("drop", description="folder where new actuals files arrive (relative to the config)")
    horizon: str = Field("6w", description="forecast horizon, Nd or Nw")
    quantile: float = Field(0.8, gt=0.5, lt=1, description="staffing quantile stored next to the mean")
    keep_runs: int = Field(30, ge=1, description="output folders of this many runs are kept in output_dir/runs")


class Web(Strict):
    """``forecaster serve``: marketing's web page and API."""

    max_upload_mb: float = Field(10, gt=0, le=1024, description="largest request body (an upload); larger gets 413")
    session_hours: float = Field(8, gt=0, le=24 * 30, description="a login lasts this long")
    login_attempts: int = Field(5, ge=1, description="wrong passwords per minute (per name and per address) "
                                "before further attempts get 429 for the rest of the minute")


class Config(Strict):
    site: str = Field(min_length=1)
    timezone: str
    interval_min: Literal[15, 30, 60]
    opening_hours: OpeningHours
    holidays: HolidayCalendar = HolidayCalendar()
    queues: list[QueueConfig] = Field(min_length=1)
    shifts: list[ShiftTemplate] = []
    campaigns: CampaignPolicy = CampaignPolicy()
    scheduling: Scheduling = Scheduling()
    outbound: Outbound = Outbound()
    nightly: Nightly = Nightly()
    web: Web = Web()
    store: str = "forecaster.duckdb"
    output_dir: str = "out"
    base_dir: Path = Field(Path("."), exclude=True, description="set by load_config: the config's folder")

    @field_validator("timezone")
    @classmethod
    def _iana(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{v}' is not an IANA time zone; use a name such as Europe/Amsterdam") from None
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "Config":
        names = [q.name for q in self.queues]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"queue names must be unique; repeated: {', '.join(dupes)}")
        for hours in [self.opening_hours] + [q.opening_hours for q in self.queues if q.opening_hours]:
            for day in range(7):
                for start, end in hours.ranges(day):
                    if start % self.interval_min or end % self.interval_min:
                        raise ValueError(
                            f"opening hours {WEEKDAYS[day]} '{getattr(hours, WEEKDAYS[day])}' do not align "
                            f"to the {self.interval_min}-minute interval grid; use times on the grid")
        for shift in self.shifts:
            unknown = [] if shift.queues == "all" else sorted(set(shift.queues) - set(names))
            if unknown:
                raise ValueError(f"shift '{shift.name}' names unknown queues {unknown}; known: {names}")
        return self

    def queue(self, name: str) -> QueueConfig:
        for q in self.queues:
            if q.name == name:
                return q
        raise KeyError(name)

    @property
    def queue_names(self) -> list[str]:
        return [q.name for q in self.queues]

    def hours_for(self, queue: str) -> OpeningHours:
        return self.queue(queue).opening_hours or self.opening_hours

    def resolve(self, path: str | os.PathLike) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else Path(os.path.normpath(self.base_dir / p))

    @property
    def store_path(self) -> Path:
        return self.resolve(self.store)


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _problem(file: str, err: dict[str, Any]) -> Problem:
    loc = _loc(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        msg = "unknown field; check its spelling against configs/example.yaml"
    elif kind == "missing":
        msg = "required field is missing; add it (see configs/example.yaml)"
    else:
        msg = err["msg"].removeprefix("Value error, ")
        given = err.get("input")
        if not isinstance(given, dict | list):
            msg += f", got {given!r}"
    return Problem(file, None, loc, msg)


def load_config(path: str | os.PathLike) -> Config:
    """Read and validate a YAML config; raise :class:`ConfigError` naming every bad field."""
    p = Path(path)
    name = str(path)
    if not p.is_file():
        raise ConfigError([Problem(name, None, None, "config file not found; pass --config PATH or set FORECASTER_CONFIG")])
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise ConfigError([Problem(name, None if line is None else line + 1, None,
                                   f"not valid YAML ({getattr(exc, 'problem', None) or exc}); fix the syntax")]) from None
    if not isinstance(raw, dict):
        raise ConfigError([Problem(name, None, None, "must be a YAML mapping of fields (site, timezone, queues, ...)")])
    try:
        return Config.model_validate({**raw, "base_dir": p.resolve().parent})
    except ValidationError as exc:
        raise ConfigError([_problem(name, e) for e in exc.errors()]) from None
