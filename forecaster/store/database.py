"""The embedded store: one DuckDB file behind one small class.

DuckDB lets one process write a file at a time. Every command opens the store, does its work
in short transactions and closes it; a process that finds the file locked waits (up to
``lock_timeout_s``) and then fails with a clear message, so concurrent commands queue up
instead of losing work. Every write is one transaction: all of it lands or none of it.

The schema carries a version in ``meta``. :data:`MIGRATIONS` maps each version to the SQL that
brings a store from the version before; opening an older store asks for ``forecaster store
migrate``, which applies them in one transaction after copying the file to a backup.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import getpass
import os
import random
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from forecaster.core.errors import StoreError, StoreLockedError, StoreVersionError

SCHEMA_VERSION = 8


MIGRATIONS: dict[int, list[str]] = {
    1: [
        "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
        """CREATE TABLE IF NOT EXISTS actuals (
            queue VARCHAR NOT NULL, interval_start TIMESTAMP NOT NULL,
            contacts DOUBLE NOT NULL, aht_s DOUBLE, ingest_id BIGINT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS ingests (
            ingest_id BIGINT PRIMARY KEY, files VARCHAR[] NOT NULL, sha256 VARCHAR[] NOT NULL,
            rows BIGINT NOT NULL, replaced BIGINT NOT NULL,
            first_interval TIMESTAMP, last_interval TIMESTAMP,
            ingested_by VARCHAR NOT NULL, ingested_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS campaign_versions (
            campaign_id VARCHAR NOT NULL, version INTEGER NOT NULL, name VARCHAR NOT NULL,
            channel VARCHAR NOT NULL, start_ts TIMESTAMP NOT NULL, end_ts TIMESTAMP NOT NULL,
            queues VARCHAR[] NOT NULL, reach BIGINT, notes VARCHAR, withdrawn BOOLEAN NOT NULL,
            submitted_by VARCHAR NOT NULL, submitted_at TIMESTAMP NOT NULL, source_file VARCHAR,
            PRIMARY KEY (campaign_id, version))""",
        """CREATE TABLE IF NOT EXISTS runs (
            run_id BIGINT PRIMARY KEY, kind VARCHAR NOT NULL, status VARCHAR NOT NULL,
            as_of DATE, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP,
            published BOOLEAN NOT NULL DEFAULT FALSE, params JSON, info JSON)""",
        """CREATE TABLE IF NOT EXISTS run_forecast (
            run_id BIGINT NOT NULL, queue VARCHAR NOT NULL, interval_start TIMESTAMP NOT NULL,
            forecast DOUBLE NOT NULL, lo_80 DOUBLE, hi_80 DOUBLE, lo_95 DOUBLE, hi_95 DOUBLE,
            aht_s DOUBLE, model VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS run_requirements (
            run_id BIGINT NOT NULL, queue VARCHAR NOT NULL, interval_start TIMESTAMP NOT NULL,
            basis VARCHAR NOT NULL, calls DOUBLE NOT NULL, aht_s DOUBLE NOT NULL,
            agents INTEGER NOT NULL, scheduled INTEGER NOT NULL, service_level DOUBLE,
            asa_s DOUBLE, occupancy DOUBLE, abandon DOUBLE)""",
        """CREATE TABLE IF NOT EXISTS run_schedule (
            run_id BIGINT NOT NULL, day DATE NOT NULL, shift VARCHAR NOT NULL,
            start_ts TIMESTAMP NOT NULL, end_ts TIMESTAMP NOT NULL, headcount INTEGER NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS run_capacity (
            run_id BIGINT NOT NULL, queue VARCHAR NOT NULL, start_ts TIMESTAMP NOT NULL,
            end_ts TIMESTAMP NOT NULL, spare_agents_min INTEGER NOT NULL,
            spare_agent_hours DOUBLE NOT NULL, outbound_calls DOUBLE, risk DOUBLE)""",
        """CREATE TABLE IF NOT EXISTS run_impact (
            run_id BIGINT NOT NULL, campaign_id VARCHAR NOT NULL, queue VARCHAR NOT NULL,
            day DATE NOT NULL, extra_contacts DOUBLE NOT NULL, lo_80 DOUBLE, hi_80 DOUBLE,
            extra_agent_hours DOUBLE)""",
    ],
    2: [
        """CREATE TABLE IF NOT EXISTS submissions (
            submission_id BIGINT PRIMARY KEY, file VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
            submitted_by VARCHAR NOT NULL, submitted_at TIMESTAMP NOT NULL, campaigns INTEGER NOT NULL,
            new INTEGER NOT NULL, changed INTEGER NOT NULL, unchanged INTEGER NOT NULL, via_inbox BOOLEAN NOT NULL)""",
        "ALTER TABLE campaign_versions ADD COLUMN IF NOT EXISTS submission_id BIGINT",
    ],
    3: [  # schedules per queue with coverage, breaks and solver results; spare capacity per interval
        "ALTER TABLE run_schedule ADD COLUMN IF NOT EXISTS queue VARCHAR",
        "ALTER TABLE run_schedule ADD COLUMN IF NOT EXISTS paid_h DOUBLE",
        """CREATE TABLE IF NOT EXISTS run_coverage (
            run_id BIGINT NOT NULL, queue VARCHAR NOT NULL, interval_start TIMESTAMP NOT NULL,
            required INTEGER NOT NULL, productive_required INTEGER NOT NULL, on_shift INTEGER NOT NULL,
            on_break INTEGER NOT NULL, over INTEGER NOT NULL, under INTEGER NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS run_breaks (
            run_id BIGINT NOT NULL, queue VARCHAR NOT NULL, day DATE NOT NULL, shift VARCHAR NOT NULL,
            slot INTEGER NOT NULL, break VARCHAR NOT NULL, start_ts TIMESTAMP NOT NULL, end_ts TIMESTAMP NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS run_schedule_summary (
            run_id BIGINT NOT NULL, queue VARCHAR NOT NULL, day DATE NOT NULL, status VARCHAR NOT NULL,
            solve_s DOUBLE, solver_gap DOUBLE, required_agent_h DOUBLE, on_shift_agent_h DOUBLE,
            paid_agent_h DOUBLE, short_intervals INTEGER, short_agent_h DOUBLE, notes VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS run_spare (
            run_id BIGINT NOT NULL, queue VARCHAR NOT NULL, interval_start TIMESTAMP NOT NULL,
            agents INTEGER NOT NULL, scheduled INTEGER NOT NULL, on_shift INTEGER NOT NULL,
            productive INTEGER NOT NULL, spare INTEGER NOT NULL, risk DOUBLE, callbacks DOUBLE)""",
    ],
    4: [  # what-if scenarios: their parameters, and base against scenario per queue and day
        """CREATE TABLE IF NOT EXISTS scenarios (
            scenario_id BIGINT PRIMARY KEY, name VARCHAR NOT NULL, run_id BIGINT NOT NULL,
            created_by VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, params JSON NOT NULL, info JSON)""",
        """CREATE TABLE IF NOT EXISTS scenario_days (
            scenario_id BIGINT NOT NULL, queue VARCHAR NOT NULL, day DATE NOT NULL, variant VARCHAR NOT NULL,
            contacts DOUBLE, required_agent_h DOUBLE, scheduled_agent_h DOUBLE, fte DOUBLE,
            service_level DOUBLE, asa_s DOUBLE, abandon DOUBLE, overloaded_intervals INTEGER,
            spare_agent_h DOUBLE, cost DOUBLE)""",
        "ALTER TABLE run_impact ADD COLUMN IF NOT EXISTS status VARCHAR",   # past or planned
    ],
    5: [  # one name per quantity: contacts; required_agents (productive), required_with_shrinkage, scheduled_agents
        *(f"ALTER TABLE {table} RENAME COLUMN {old} TO {new}" for table, old, new in (
            ("run_requirements", "calls", "contacts"),
            ("run_requirements", "agents", "required_agents"),
            ("run_requirements", "scheduled", "required_with_shrinkage"),
            ("run_coverage", "required", "required_with_shrinkage"),
            ("run_coverage", "productive_required", "required_agents"),
            ("run_coverage", "on_shift", "scheduled_agents"),
            ("run_schedule_summary", "required_agent_h", "required_with_shrinkage_agent_h"),
            ("run_schedule_summary", "on_shift_agent_h", "scheduled_agent_h"),
            ("run_spare", "agents", "required_agents"),
            ("run_spare", "scheduled", "required_with_shrinkage"),
            ("run_spare", "on_shift", "scheduled_agents"),
            ("scenario_days", "scheduled_agent_h", "required_with_shrinkage_agent_h"))),
        # a campaign's kind ("tax bill", "newsletter"): campaigns of one kind respond alike
        "ALTER TABLE campaign_versions ADD COLUMN IF NOT EXISTS kind VARCHAR",
        # and the same two keys in each run's schedule summary (info JSON; JSON null removes a key)
        """UPDATE runs SET info = json_merge_patch(info, json_object('schedule', json_object(
               'required_with_shrinkage_agent_h', info->'$.schedule.required_agent_h',
               'scheduled_agent_h', info->'$.schedule.on_shift_agent_h',
               'required_agent_h', NULL::JSON, 'on_shift_agent_h', NULL::JSON)))
           WHERE json_exists(info, '$.schedule.on_shift_agent_h')""",
    ],
    6: [  # the published plan: when a run was published (the newest is the plan), and what a derived run came from
        "ALTER TABLE runs ADD COLUMN IF NOT EXISTS published_at TIMESTAMP",
        "ALTER TABLE runs ADD COLUMN IF NOT EXISTS parent_run_id BIGINT",
        # nightly runs of an as-of run again were published too: they keep their files, so they stay read-only
        """UPDATE runs SET published_at = coalesce(finished_at, started_at)
           WHERE published OR (kind = 'nightly' AND status = 'ok')""",
    ],
    7: [  # accounts for the web page and API (forecaster users ...): argon2 password hashes, SHA-256 of API tokens
        """CREATE TABLE IF NOT EXISTS users (
            name VARCHAR PRIMARY KEY, role VARCHAR NOT NULL, password_hash VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL, created_by VARCHAR NOT NULL, password_changed_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS api_tokens (
            token_hash VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL,
            created_by VARCHAR NOT NULL)""",
    ],
    8: [  # marketing's own estimate of a campaign's extra contacts, a prior for the impact model
        "ALTER TABLE campaign_versions ADD COLUMN IF NOT EXISTS expected_contacts DOUBLE",
        "ALTER TABLE campaign_versions ADD COLUMN IF NOT EXISTS expected_per_1000 DOUBLE",
    ],
}


ACTUALS_COLUMNS = ["queue", "interval_start", "contacts", "aht_s"]


def scalar(con: duckdb.DuckDBPyConnection, sql: str, args: list[object] | None = None) -> object:
    """First value of the first row (fetches the whole result: DuckDB 2 wants results finished)."""
    rows = con.execute(sql, args or []).fetchall()
    return rows[0][0] if rows else None


def inbox_dir(store_path: Path) -> Path:
    """Where submissions wait while the store is locked (beside the store file)."""
    return store_path.with_name(store_path.name + ".inbox")


def _is_lock_error(exc: Exception) -> bool:
    return "lock" in str(exc).lower()


class Store:
    """A forecaster store in one DuckDB file. Use as a context manager."""

    def __init__(self, path: str | os.PathLike, *, read_only: bool = False,
                 lock_timeout_s: float = 30.0, check_version: bool = True):
        self.path = Path(path)
        self.read_only = read_only
        self._lock_fd: int | None = None
        try:
            self.con = self._connect(lock_timeout_s)
        except BaseException:
            self._unlock()
            raise
        if check_version:
            self._check_version()

    # -- opening -------------------------------------------------------------------------
    def _connect(self, lock_timeout_s: float) -> duckdb.DuckDBPyConnection:
        if self.read_only and not self.path.exists():
            raise StoreError(f"no store at {self.path} yet; run 'forecaster ingest FILE' to create it, or pass --store PATH")
        deadline = time.monotonic() + lock_timeout_s
        if not self.read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = self._lock(deadline, lock_timeout_s)
        if not self.read_only and not self.path.exists():
            self._create()
        delay = 0.02
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=self.read_only)
                break
            except duckdb.IOException as exc:
                message = str(exc)
                being_created = self.path.exists() and self.path.stat().st_size == 0
                if "not a valid DuckDB database" in message and not being_created:
                    raise StoreError(f"{self.path} is not a forecaster store (not a DuckDB file); "
                                     "pass --store with the right file") from None
                if "Permission denied" in message:
                    raise StoreError(f"cannot open store {self.path}: permission denied; check the file's "
                                     "permissions or pass --store with a writable path") from None
                # a lock, a file another process is creating, a log being swapped: wait and retry
                if time.monotonic() >= deadline:
                    if _is_lock_error(exc):
                        raise StoreLockedError(
                            f"store {self.path} is in use by another forecaster process and stayed locked for "
                            f"{lock_timeout_s:g} s; try again when it has finished (or raise --lock-timeout)") from None
                    raise StoreError(f"cannot open store {self.path}: {message.splitlines()[0]}") from None
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.5)
            except duckdb.Error as exc:
                raise StoreError(f"{self.path} is not a forecaster store (DuckDB: {str(exc).splitlines()[0]}); "
                                 "pass --store with the right file") from None
        if not self.read_only and self._version(con) is None and not self._has_tables(con):
            self._apply(con, 0)
        return con

    def _lock(self, deadline: float, lock_timeout_s: float) -> int | None:
        """Hold ``<store>.lock`` (shared to read, exclusive to write) for as long as the store is open.

        DuckDB locks the file itself, but not around everything it does to it: under load, 20
        concurrent submissions lost one (two writers committed the same submission number; the
        test repeated 16 times lost one in 8). An OS lock taken before DuckDB opens the file and
        released after it has closed it makes writers strictly one at a time. A reader on a
        read-only medium, where the lock file cannot be made, relies on DuckDB's lock alone."""
        path = self.path.with_name(self.path.name + ".lock")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            if self.read_only:
                return None
            raise StoreError(f"cannot open store {self.path}: its lock file {path} cannot be made "
                             f"({exc.strerror or exc}); check the folder's permissions") from None
        mode = fcntl.LOCK_SH if self.read_only else fcntl.LOCK_EX
        delay = 0.02
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise StoreLockedError(
                        f"store {self.path} is in use by another forecaster process and stayed locked for "
                        f"{lock_timeout_s:g} s; try again when it has finished (or raise --lock-timeout)") from None
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.5)

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)            # closing releases the lock (the kernel does too, on kill -9)
            self._lock_fd = None

    def _create(self) -> None:
        """Make a new store whole, under a temporary name, then link it into place: two processes
        that find no store at once must not both initialise the one file (DuckDB's file creation
        is not atomic: one would overwrite the other's first commit). The loser of the race
        discards its copy and opens the winner's."""
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{random.getrandbits(32):08x}.new")
        try:
            con = duckdb.connect(str(tmp))
            try:
                self._apply(con, 0)
                con.execute("CHECKPOINT")
            finally:
                con.close()
            try:
                os.link(tmp, self.path)
            except FileExistsError:                          # another process made it first: use theirs
                pass
            except OSError:                                  # no hard links here (some network shares):
                if not self.path.exists():                   # the store's lock already serialises this
                    os.replace(tmp, self.path)
        except duckdb.Error as exc:
            raise StoreError(f"cannot create store {self.path} ({str(exc).splitlines()[0]}); check that its folder "
                             "is writable") from None
        finally:
            for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
                leftover.unlink(missing_ok=True)

    @staticmethod
    def _has_tables(con: duckdb.DuckDBPyConnection) -> bool:
        return bool(scalar(con, "SELECT count(*) FROM duckdb_tables()"))

    @staticmethod
    def _version(con: duckdb.DuckDBPyConnection) -> int | None:
        try:
            value = scalar(con, "SELECT value FROM meta WHERE key = 'schema_version'")
        except duckdb.CatalogException:
            return None
        return None if value is None else int(value)

    def _check_version(self) -> None:
        found = self._version(self.con)
        if found == SCHEMA_VERSION:
            return
        self.close(quiet=True)                      # the version error below is what the user needs
        if found is None:
            raise StoreVersionError(f"{self.path} is a DuckDB file but not a forecaster store; pass --store with the right file")
        if found > SCHEMA_VERSION:
            raise StoreVersionError(
                f"store {self.path} has schema version {found}, newer than this forecaster's {SCHEMA_VERSION}; "
                "upgrade forecaster to use it")
        raise StoreVersionError(
            f"store {self.path} has schema version {found}, this forecaster uses {SCHEMA_VERSION}; "
            "run 'forecaster store migrate' (it keeps a backup copy) and try again")

    @staticmethod
    def _apply(con: duckdb.DuckDBPyConnection, from_version: int) -> None:
        con.execute("BEGIN TRANSACTION")
        try:
            for version in range(from_version + 1, SCHEMA_VERSION + 1):
                for sql in MIGRATIONS[version]:
                    con.execute(sql)
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise

    def migrate(self) -> tuple[int, int, Path | None]:
        """Bring an older store to :data:`SCHEMA_VERSION`; returns (from, to, backup path)."""
        found = self._version(self.con) or 0
        if found > SCHEMA_VERSION:
            self._check_version()
        if found == SCHEMA_VERSION:
            return found, found, None
        self.con.execute("CHECKPOINT")
        backup = self.path.with_name(f"{self.path.name}.v{found}.bak")
        shutil.copy2(self.path, backup)
        self._apply(self.con, found)
        return found, SCHEMA_VERSION, backup

    # -- lifecycle -----------------------------------------------------------------------
    def close(self, quiet: bool = False) -> None:
        """Close the connection. A failure is an error, unless ``quiet`` (another error is already
        on its way to the user, and is the one that matters)."""
        try:
            self.con.close()
        except duckdb.Error as exc:
            if not quiet:
                raise StoreError(f"store {self.path} was not closed cleanly ({str(exc).splitlines()[0]}); "
                                 "the last change may not be saved, check with 'forecaster status'") from None
        finally:
            self._unlock()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, exc_type, *exc: object) -> None:
        self.close(quiet=exc_type is not None)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All statements inside land together or not at all."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    # -- actuals -------------------------------------------------------------------------
    def replace_actuals(self, frame: pd.DataFrame, files: list[str], sha256: list[str],
                        by: str | None = None) -> dict[str, int]:
        """Insert validated actuals; rows whose (queue, interval_start) exist are replaced."""
        staged = frame[ACTUALS_COLUMNS]
        with self.transaction() as con:
            ingest_id = scalar(con, "SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests")
            con.register("staged", staged)
            replaced = scalar(con, """DELETE FROM actuals a USING staged s
                   WHERE a.queue = s.queue AND a.interval_start = s.interval_start""")
            con.execute("INSERT INTO actuals SELECT queue, interval_start, contacts, aht_s, ? FROM staged", [ingest_id])
            con.unregister("staged")
            first, last = (staged["interval_start"].min(), staged["interval_start"].max()) if len(staged) else (None, None)
            con.execute("INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [ingest_id, files, sha256, len(staged), replaced, first, last,
                         by or getpass.getuser(), dt.datetime.now()])
        return {"ingest_id": ingest_id, "rows": len(staged), "replaced": int(replaced), "new": len(staged) - int(replaced)}

    def actuals(self, queues: list[str] | None = None, start: dt.datetime | None = None,
                end: dt.datetime | None = None) -> pd.DataFrame:
        """Actuals in long format (``queue, interval_start, contacts, aht_s``), ordered; ``end`` exclusive.

        Every row's ``queue`` is the same Python string as the other rows of its queue: DuckDB's
        ``df()`` makes a new string per row (about 70 bytes each: 1.2 GB for 500 queues of two
        years at 30 minutes, held through a nightly run), so the rows come with their queue's
        number and the names are looked up once."""
        sql = "SELECT queue, interval_start, contacts, aht_s FROM actuals WHERE 1=1"
        args: list[object] = []
        if queues is not None:
            sql += " AND list_contains(?, queue)"
            args.append(list(queues))
        if start is not None:
            sql += " AND interval_start >= ?"
            args.append(start)
        if end is not None:
            sql += " AND interval_start < ?"
            args.append(end)
        coded = f"""WITH a AS ({sql}),
                         names AS (SELECT queue, CAST(row_number() OVER (ORDER BY queue) - 1 AS INTEGER) AS code
                                   FROM (SELECT DISTINCT queue FROM a))"""
        names = np.array([r[0] for r in self.con.execute(coded + " SELECT queue FROM names ORDER BY code", args)
                          .fetchall()], dtype=object)
        frame = self.con.execute(coded + """ SELECT names.code, a.interval_start, a.contacts, a.aht_s
                                             FROM a JOIN names USING (queue) ORDER BY a.queue, a.interval_start""",
                                 args).df()
        frame.insert(0, "queue", names[frame.pop("code").to_numpy()])      # queue is NOT NULL: every row has a code
        return frame

    def actuals_span(self, queues: list[str] | None = None) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """First and last interval of the actuals (of ``queues``), or ``(None, None)`` when there are none."""
        first, last = self.con.execute("""SELECT min(interval_start), max(interval_start) FROM actuals
                                          WHERE ? IS NULL OR list_contains(?, queue)""",
                                       [queues, queues]).fetchall()[0]
        return (pd.Timestamp(first), pd.Timestamp(last)) if first is not None else (None, None)

    # -- summary -------------------------------------------------------------------------
    def stamp(self) -> tuple:
        """A value that changes whenever actuals, campaigns or runs change (a key for caches)."""
        return self.con.execute(
            """SELECT (SELECT count(*) FROM campaign_versions), (SELECT max(ingest_id) FROM ingests),
                      (SELECT max(run_id) FROM runs), (SELECT max(coalesce(published_at, started_at)) FROM runs),
                      (SELECT max(finished_at) FROM runs)""").fetchall()[0]

    def status(self) -> dict[str, object]:
        """What the store holds: per-queue actuals, campaigns, runs, ingests."""
        con = self.con
        queues = con.execute(
            """SELECT queue, count(*) AS rows, min(interval_start) AS first_interval,
                      max(interval_start) AS last_interval, sum(contacts) AS contacts
               FROM actuals GROUP BY queue ORDER BY queue""").df()
        campaigns = con.execute(
            """SELECT count(*) FILTER (WHERE NOT withdrawn), count(*) FILTER (WHERE withdrawn)
               FROM (SELECT * FROM campaign_versions
                     QUALIFY version = max(version) OVER (PARTITION BY campaign_id))""").fetchall()[0]
        last_run = con.execute(
            "SELECT run_id, kind, status, as_of, started_at, finished_at FROM runs ORDER BY run_id DESC LIMIT 1").df()
        last_ingest = con.execute(
            "SELECT ingest_id, rows, ingested_by, ingested_at FROM ingests ORDER BY ingest_id DESC LIMIT 1").df()
        return {
            "store": str(self.path),
            "schema_version": self._version(con),
            "queues": queues.to_dict("records"),
            "campaigns_active": int(campaigns[0]),
            "campaigns_withdrawn": int(campaigns[1]),
            "last_run": last_run.to_dict("records")[0] if len(last_run) else None,
            "last_ingest": last_ingest.to_dict("records")[0] if len(last_ingest) else None,
        }
