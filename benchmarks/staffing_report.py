"""Report: our vectorised Erlang C / Erlang A against pyworkforce 0.5.4, measured in the same run.

Workload (issue 3): 50 queues x 1 week x 15 minutes = 33,600 intervals, calls 0-800,
AHT 180-600 s, 80/20 (patience 30-300 s for Erlang A). pyworkforce's ErlangC loops over all
33,600; its ErlangA is timed on a sample (it needs about 0.3 s per interval) and scaled.
Usage: python benchmarks/staffing_report.py [--erlang-a-sample 40]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.staffing_inputs import week_of_intervals  # noqa: E402
from forecaster.staffing.erlang import erlang_a_agents, erlang_c_agents  # noqa: E402


def best_of(fn, rounds):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--erlang-a-sample", type=int, default=40)
    args = parser.parse_args()
    from pyworkforce.queuing import ErlangA, ErlangC

    f = week_of_intervals()
    calls, aht, pat = f["contacts"].to_numpy(), f["aht_s"].to_numpy(), f["patience_s"].to_numpy()
    live = calls > 0
    ours_c, agents_c = best_of(lambda: erlang_c_agents(calls, aht, 15.0, 20.0, sl=0.8), 7)

    def pyworkforce_c():
        return [ErlangC(transactions=x, aht=h / 60, asa=20 / 60, interval=15).required_positions(0.8)["raw_positions"]
                for x, h in zip(calls[live], aht[live])]

    ref_c, ref_agents = best_of(pyworkforce_c, 2)
    assert (agents_c[live] == np.array(ref_agents)).all()
    print(f"Erlang C, {len(f):,} intervals: ours {ours_c * 1000:.1f} ms, pyworkforce {ref_c:.2f} s, "
          f"ratio {ref_c / ours_c:.0f}x (same agents on every interval)")

    ours_a, _ = best_of(lambda: erlang_a_agents(calls, aht, 15.0, 20.0, pat, sl=0.8), 1)
    sample = np.random.default_rng(1).choice(np.flatnonzero(live), args.erlang_a_sample, replace=False)
    start = time.perf_counter()
    for i in sample:
        ErlangA(transactions=calls[i], aht=aht[i] / 60, asa=20 / 60, interval=15,
                patience=pat[i] / 60).required_positions(0.8)
    per = (time.perf_counter() - start) / len(sample)
    print(f"Erlang A, {len(f):,} intervals: ours {ours_a:.2f} s; pyworkforce {per:.3f} s per interval "
          f"(sample of {len(sample)}), about {per * live.sum() / 60:.0f} min for all, ratio ~{per * live.sum() / ours_a:.0f}x")


if __name__ == "__main__":
    main()
