"""Run ``forecaster`` with the nightly job stopping at a named point, for the kill tests.

    python -m tests.nightly_harness POINT ARGS...

POINT is a step name (``intake``, ``forecast``, ...) or a commit point (``intake-committed``,
``export-written``, ``publish-commit``). There the job says ``paused at POINT`` on stderr and
waits, so a test can kill -9 it at exactly that point. The hook lives here, not in the package:
the job only offers the ``checkpoint`` callback.
"""

from __future__ import annotations

import functools
import sys
import time

from forecaster.cli import forecasting, main


def pause_at(point: str, name: str) -> None:
    if name == point:
        print(f"paused at {name}", file=sys.stderr, flush=True)
        time.sleep(3600)


if __name__ == "__main__":
    point, args = sys.argv[1], sys.argv[2:]
    forecasting.run_nightly = functools.partial(forecasting.run_nightly, checkpoint=functools.partial(pause_at, point))
    sys.argv = ["forecaster", *args]
    main()
