"""Where statsforecast runs: in this process, or on a Dask cluster through fugue."""

from __future__ import annotations

import contextlib
import logging
import os

from forecaster.core.errors import UserError


@contextlib.contextmanager
def engine_session(engine: str, address: str | None = None):
    """Where statsforecast runs: ``local``, or ``dask`` on the scheduler at ``address`` (or, without
    one, a local in-process cluster using every core). Spark and Ray work the same way through
    fugue and can be added here."""
    if engine != "dask":
        yield
        return
    try:
        from distributed import Client, LocalCluster  # optional extra (forecaster[dask]), loaded on demand
    except ImportError:
        raise UserError("--engine dask needs the dask extras: pip install 'forecaster[dask]'") from None
    for name in ("distributed", "distributed.shuffle"):               # its routine shuffle notices are noise here
        logging.getLogger(name).setLevel(logging.ERROR)
    if address:
        with Client(address):
            yield
    else:
        with LocalCluster(processes=False, n_workers=os.cpu_count() or 1, threads_per_worker=1,
                          dashboard_address=None) as cluster, Client(cluster):
            yield
