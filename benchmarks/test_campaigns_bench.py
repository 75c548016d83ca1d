"""Validating a 1,000-row campaign calendar (issue 5 target: at most 1 s)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from benchmarks.common import DEMO_CONFIG
from forecaster.campaigns.calendar import read_calendar
from forecaster.core.config import load_config


@pytest.fixture(scope="module")
def thousand(tmp_path_factory):
    rng = np.random.default_rng(3)
    channels = ["direct_mail", "email", "sms", "tv", "social"]
    queues = ["voice_billing", "voice_sales;chat", "all", "email;chat"]
    lines = ["campaign_id,name,channel,start,end,queues,reach,notes"]
    for i in range(1000):
        start = dt.date(2027, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365)))
        end = start + dt.timedelta(days=int(rng.integers(0, 14)))
        lines.append(f"B{i:04d},Campaign {i},{channels[i % 5]},{start},{end},{queues[i % 4]},{int(rng.integers(1e3, 1e6))},")
    path = tmp_path_factory.mktemp("cal") / "calendar.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_validate_1000_row_calendar(benchmark, thousand):
    config = load_config(DEMO_CONFIG)
    cal = benchmark(read_calendar, thousand, config, dt.date(2026, 11, 23))
    assert len(cal.frame) == 1000
