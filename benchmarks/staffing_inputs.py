"""The issue's staffing workload: 50 queues x 1 week x 15 minutes = 33,600 intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd


def week_of_intervals(seed: int = 11, n: int = 33_600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"contacts": rng.uniform(0, 800, n), "aht_s": rng.uniform(180, 600, n), "interval_min": 15.0,
                         "sl": 0.8, "answer_s": 20.0, "patience_s": rng.uniform(30, 300, n)})
