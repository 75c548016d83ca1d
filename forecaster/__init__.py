"""forecaster: workforce planning and campaign-impact forecasting for contact centres."""

import os as _os
import sys as _sys

__version__ = "0.2.0"

# One BLAS thread. Our linear algebra is thousands of small least-squares fits (carry-over searches,
# campaign-impact fits, ARIMA), on which OpenBLAS's thread pool only spins: on this 2-core machine the
# demo's carry-over search took 3.4 s with one thread, 8.6 s with the default pool while one other
# process was busy, and about a minute during the test suite. A value the user set is kept.
if "OPENBLAS_NUM_THREADS" not in _os.environ and "MKL_NUM_THREADS" not in _os.environ:
    if "numpy" in _sys.modules:                 # loaded already (imported as a library): limit it live
        from threadpoolctl import threadpool_limits as _limits

        _limits(1, user_api="blas")
    else:
        _os.environ["OPENBLAS_NUM_THREADS"] = _os.environ["MKL_NUM_THREADS"] = "1"
