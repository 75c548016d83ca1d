"""Erlang C and Erlang A predictions against a discrete-event simulation (ciw)."""

from __future__ import annotations

import ciw
import numpy as np
import pytest
from scipy.stats import t as student_t

from forecaster.staffing.erlang import erlang_a_metrics, erlang_c_metrics


def simulate(arrivals_per_min, aht_min, servers, answer_min, patience_min=None, seeds=range(100, 110),
             horizon=6000.0):
    """Share answered within ``answer_min`` per replication (after a warm-up)."""
    shares = []
    for seed in seeds:
        ciw.seed(seed)
        network = ciw.create_network(
            arrival_distributions=[ciw.dists.Exponential(arrivals_per_min)],
            service_distributions=[ciw.dists.Exponential(1 / aht_min)],
            number_of_servers=[servers],
            **({"reneging_time_distributions": [ciw.dists.Exponential(1 / patience_min)]} if patience_min else {}))
        sim = ciw.Simulation(network)
        sim.simulate_until_max_time(horizon)
        records = [r for r in sim.get_all_records() if r.arrival_date > 200]
        # abandoned callers count in the denominator, as in the Erlang A service level
        ok = sum(1 for r in records if r.record_type == "service" and r.waiting_time <= answer_min)
        shares.append(ok / len(records))
    shares = np.array(shares)
    half = student_t.ppf(0.975, len(shares) - 1) * shares.std(ddof=1) / np.sqrt(len(shares))  # 95 % CI
    return shares.mean(), half


@pytest.mark.parametrize("calls, aht_s, agents, answer_s", [(100, 180, 12, 20), (60, 300, 12, 30)])
def test_erlang_c_service_level_within_simulation_ci(calls, aht_s, agents, answer_s):
    predicted = float(erlang_c_metrics(agents, calls, aht_s, 30, answer_s)["service_level"])
    mean, half = simulate(calls / 30, aht_s / 60, agents, answer_s / 60)
    assert abs(mean - predicted) <= max(half, 0.005), (mean, half, predicted)


@pytest.mark.parametrize("calls, aht_s, agents, answer_s, patience_s", [(100, 180, 10, 20, 60), (80, 240, 10, 30, 120)])
def test_erlang_a_service_level_within_simulation_ci(calls, aht_s, agents, answer_s, patience_s):
    predicted = float(erlang_a_metrics(agents, calls, aht_s, 30, answer_s, patience_s)["service_level"])
    mean, half = simulate(calls / 30, aht_s / 60, agents, answer_s / 60, patience_s / 60)
    assert abs(mean - predicted) <= max(half, 0.005), (mean, half, predicted)
