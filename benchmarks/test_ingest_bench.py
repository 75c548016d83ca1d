"""Ingest speed (read, validate, write in one transaction) on the demo file and a 140k-row file.

Target (issue 2): the demo history, about 140,000 rows, in at most 10 s on the 2-core machine.
Run: make bench   (or python benchmarks/ingest_report.py for rows/s and peak memory)
"""

from __future__ import annotations

import itertools

import pytest

from benchmarks.common import DEMO_ACTUALS, DEMO_CONFIG, make_big
from forecaster.core.config import load_config
from forecaster.io.actuals import ingest
from forecaster.store.database import Store

counter = itertools.count()


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    return make_big(tmp_path_factory.mktemp("big"))


def _bench(benchmark, tmp_path, config, actuals):
    def setup():
        return (tmp_path / f"s{next(counter)}.duckdb",), {}

    def run(path):
        with Store(path) as store:
            return ingest([actuals], config, store)

    result = benchmark.pedantic(run, setup=setup, rounds=3, iterations=1)
    benchmark.extra_info["rows"] = result.counts["rows"]
    benchmark.extra_info["rows_per_s"] = round(result.counts["rows"] / benchmark.stats.stats.mean)


def test_ingest_demo(benchmark, tmp_path):
    _bench(benchmark, tmp_path, load_config(DEMO_CONFIG), DEMO_ACTUALS)


def test_ingest_140k_rows(benchmark, tmp_path, big):
    config_path, actuals = big
    _bench(benchmark, tmp_path, load_config(config_path), actuals)
