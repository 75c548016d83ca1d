"""Pool processes that end with the job that started them.

Imported (as a preload module, :data:`forecaster.core.engine.POOL_PRELOAD`) in the fork server
from which statsforecast's pool processes start. A pool process waits on a pipe for work; when
the job is killed (``kill -9``, the out-of-memory killer) nothing closes that pipe, so the
process and, through the descriptor it holds, the fork server would wait for ever, holding
hundreds of MiB each. Every process forked from the server therefore watches the job through
a pidfd (which becomes readable when the job exits, and cannot be confused with a later
process given the same pid) and leaves when it is gone.
"""

from __future__ import annotations

import os
import select
import threading

JOB_PID_VAR = "FORECASTER_POOL_JOB"     # set by the job (engine._pool_start_method) to its pid
_JOB_FD: int | None = None


def _watch(fd: int) -> None:
    select.select([fd], [], [])                 # readable once the job has exited
    os._exit(1)


def _after_fork_in_child() -> None:
    if _JOB_FD is not None:
        threading.Thread(target=_watch, args=(_JOB_FD,), name="forecaster-job-watch", daemon=True).start()


def _arm() -> None:
    """In a process the job started (the fork server): watch the job from every child forked here.
    Anywhere else (the job itself, a test importing every module) this does nothing."""
    global _JOB_FD
    if _JOB_FD is not None or os.environ.get(JOB_PID_VAR) != str(os.getppid()):
        return
    if not hasattr(os, "pidfd_open"):                                # Linux 5.3+ only: else no watch
        return
    try:
        _JOB_FD = os.pidfd_open(os.getppid())
    except OSError:                                                  # a kernel without pidfds
        return
    os.register_at_fork(after_in_child=_after_fork_in_child)


_arm()
