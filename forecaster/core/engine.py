"""Where the per-queue work runs: in this process, or on a Dask cluster.

statsforecast's own fits go through its fugue backend (the frames are handed over as Dask
frames); every other per-queue (or per queue and day) step goes through :func:`map_tasks`, which
is a plain loop locally and Dask futures on the session's client. Spark and Ray work through
fugue too and can be added to :func:`engine_session`.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

from forecaster.core.errors import UserError

_CLIENT: contextvars.ContextVar = contextvars.ContextVar("dask_client", default=None)   # the session's client


@contextlib.contextmanager
def engine_session(engine: str, address: str | None = None, processes: bool = True):
    """Where the per-queue work runs: ``local``, or ``dask`` on the scheduler at ``address`` (or,
    without one, a local cluster of one single-threaded worker process per core, so the work
    is not serialised by the interpreter's lock)."""
    if engine != "dask":
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
    return client.gather(client.map(fn, items, pure=False))
