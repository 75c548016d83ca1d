"""pytest-benchmark: Erlang C and Erlang A requirements for 33,600 intervals; pyworkforce's ErlangC
loop over the same intervals as the baseline in the same run (compare the two rows' means)."""

from __future__ import annotations

import pytest

from benchmarks.staffing_inputs import week_of_intervals
from forecaster.staffing.erlang import erlang_a_agents, erlang_c_agents


@pytest.fixture(scope="module")
def week():
    f = week_of_intervals()
    return f["contacts"].to_numpy(), f["aht_s"].to_numpy(), f["patience_s"].to_numpy()


def test_erlang_c_ours(benchmark, week):
    calls, aht, _ = week
    benchmark(erlang_c_agents, calls, aht, 15.0, 20.0, sl=0.8)


def test_erlang_c_pyworkforce_loop(benchmark, week):
    from pyworkforce.queuing import ErlangC

    calls, aht, _ = week

    def loop():
        return [ErlangC(transactions=x, aht=h / 60, asa=20 / 60, interval=15).required_positions(0.8)
                for x, h in zip(calls, aht) if x > 0]

    benchmark.pedantic(loop, rounds=2, iterations=1)


def test_erlang_a_ours(benchmark, week):
    calls, aht, patience = week
    benchmark.pedantic(erlang_a_agents, args=(calls, aht, 15.0, 20.0, patience), kwargs={"sl": 0.8},
                       rounds=1, iterations=1)
