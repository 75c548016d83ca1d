"""Where the per-queue work runs: in this process, or on a Dask cluster.

statsforecast's own fits go through its fugue backend (the frames are handed over as Dask
frames); every other per-queue (or per queue and day) step goes through :func:`map_tasks`, which
is a plain loop locally and Dask futures on the session's client. Spark and Ray work through
fugue too and can be added to :func:`engine_session`.

Locally, statsforecast's fits use its own process pool (``n_jobs``, :func:`statsforecast_jobs`):
one process per core the job may use, inside an :func:`engine_session` only.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import ctypes.util
import functools
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable
from typing import Any

from forecaster.core.errors import UserError
from forecaster.core.pool_guard import JOB_PID_VAR

_CLIENT: contextvars.ContextVar = contextvars.ContextVar("dask_client", default=None)   # the session's client
_JOBS: contextvars.ContextVar = contextvars.ContextVar("local_jobs", default=1)         # statsforecast's n_jobs

# what statsforecast's pool processes unpickle their work with, imported once in the fork server
# (and the guard that ends them with the job, should it be killed)
POOL_PRELOAD = ["forecaster.core.pool_guard", "statsforecast.core", "statsforecast.models"]


# a statsforecast call on fewer series stays in this process: starting the pool (the fork server
# imports statsforecast once, each call starts its processes) cost 2-6 s more than it saved on the
# 4-queue demo, won 2 s at 16 queues and 17 s of 85 at 50 (2 cores)
POOL_MIN_SERIES = 16


def statsforecast_jobs(n_series: int) -> int:
    """``n_jobs`` for a local statsforecast call on ``n_series`` series: the cores of the current
    local :func:`engine_session` for at least :data:`POOL_MIN_SERIES`; 1 outside a session, for
    fewer series, and on Dask, where the cluster spreads the work."""
    return _JOBS.get() if n_series >= POOL_MIN_SERIES else 1


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity: ``taskset`` and cgroup cpusets limit it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:                                   # no affinity call on this platform
        return os.cpu_count() or 1


@contextlib.contextmanager
def _local_pool(jobs: int):
    """statsforecast's pool (a ``ProcessPoolExecutor`` of the default start method) started from a
    fork server: forking this process itself could deadlock a child on a lock another thread held
    (DuckDB's and Arrow's threads run here), and would copy the whole job into each worker. The
    start method belongs to the process, so it is made ``forkserver`` (unless it is ``spawn``,
    also safe) and kept, not switched back and forth under concurrent sessions; a ``fork`` that
    a library fixed by asking for the default is replaced too."""
    if jobs > 1:
        _pool_start_method()
    token = _JOBS.set(jobs)
    try:
        yield
    finally:
        _JOBS.reset(token)


def _pool_start_method() -> None:
    if multiprocessing.get_start_method(allow_none=True) in ("forkserver", "spawn"):
        return
    os.environ[JOB_PID_VAR] = str(os.getpid())               # who the server's children watch
    multiprocessing.set_forkserver_preload(POOL_PRELOAD)
    multiprocessing.set_start_method("forkserver", force=True)


@contextlib.contextmanager
def engine_session(engine: str, address: str | None = None, processes: bool = True, jobs: int | None = None):
    """Where the per-queue work runs: ``local`` (statsforecast's fits on ``jobs`` processes of
    its own pool, default one per usable core), or ``dask`` on the scheduler at ``address`` (or,
    without one, a local cluster of one single-threaded worker process per core, so the work
    is not serialised by the interpreter's lock)."""
    if engine != "dask":
        with _local_pool(jobs or usable_cores()):
            yield
        return
    try:
        from distributed import Client, LocalCluster  # optional extra (forecaster[dask]), loaded on demand
    except ImportError:
        raise UserError("--engine dask needs the dask extras: pip install 'forecaster[dask]'") from None
    for name in ("distributed", "distributed.shuffle"):               # its routine shuffle notices are noise here
        logging.getLogger(name).setLevel(logging.ERROR)
    with contextlib.ExitStack() as stack:
        if address:
            client = stack.enter_context(Client(address))
        else:
            cluster = stack.enter_context(LocalCluster(processes=processes, n_workers=os.cpu_count() or 1,
                                                       threads_per_worker=1, dashboard_address=None,
                                                       silence_logs=logging.ERROR))
            client = stack.enter_context(Client(cluster))
        token = _CLIENT.set(client)
        try:
            yield
        finally:
            _CLIENT.reset(token)


def map_tasks(fn: Callable[[Any], Any], items: Iterable[Any], engine: str = "local") -> list:
    """``[fn(item) for item in items]``, in order: in this process, or with ``engine="dask"`` as
    one Dask task per item on the client of the current :func:`engine_session`. ``fn`` must be a
    module-level function (or a ``functools.partial`` of one) so worker processes can load it.
    A task's exception is raised here, as the loop would raise it."""
    items = list(items)
    client = _CLIENT.get()
    if engine != "dask" or len(items) < 2:
        return [fn(item) for item in items]
    if client is None:
        raise RuntimeError("engine 'dask' needs an engine_session around the work")
    if isinstance(fn, functools.partial) and not fn.args and fn.keywords:
        # the arguments every task shares go to each worker once (scattered), not inside every task:
        # a 500-queue config in each of 3,500 scheduling tasks was unpickled per task and kept, 1.8 GiB
        # per worker; scattered, 15 MiB
        shared = client.scatter(list(fn.keywords.values()), broadcast=True)
        return client.gather(client.map(fn.func, items, pure=False, **dict(zip(fn.keywords, shared))))
    return client.gather(client.map(fn, items, pure=False))


def _malloc_trim() -> bool:
    """Give the C heap's free memory back to the operating system (glibc's ``malloc_trim``); False
    where the C library has no such call (not glibc: macOS, musl)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.malloc_trim(0))
    except (OSError, AttributeError, TypeError):
        return False


def trim_memory() -> dict[str, bool]:
    """Return memory that a step freed, but that its processes still hold, to the system: in this
    process and, in a Dask session, in every worker (Dask's advice for memory "not released back
    to the OS": ``client.run`` of ``malloc_trim``). Python frees a step's frames, but the C heap
    keeps the pages for reuse, so each process stays at its high-water mark: at 500 queues on Dask,
    the forecast's left the job and its two workers holding 8.6 GiB through scheduling. Returns,
    per process (``job`` and each worker's address), whether its C library could trim."""
    done = {"job": _malloc_trim()}
    client = _CLIENT.get()
    if client is not None:
        done.update(client.run(_malloc_trim))
    return done
