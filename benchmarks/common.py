"""Inputs shared by the benchmarks: the demo file and a 24/7 file of about 140,000 rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "configs" / "example.yaml"
DEMO_ACTUALS = ROOT / "data" / "demo" / "actuals.csv.gz"

BIG_CONFIG = """\
site: Benchmark site (24/7, UTC)
timezone: UTC
interval_min: 30
opening_hours: {mon: "00:00-24:00", tue: "00:00-24:00", wed: "00:00-24:00", thu: "00:00-24:00",
                fri: "00:00-24:00", sat: "00:00-24:00", sun: "00:00-24:00"}
queues:
  - {name: q1, channel: voice, sl_pct: 80, answer_s: 20, aht_s: 300}
  - {name: q2, channel: voice, sl_pct: 80, answer_s: 20, aht_s: 300}
  - {name: q3, channel: chat, sl_pct: 80, answer_s: 60, aht_s: 500, concurrency: 2}
  - {name: q4, channel: email, deadline_h: 24, aht_s: 400}
store: store.duckdb
"""


def make_big(folder: Path) -> tuple[Path, Path]:
    """Write the 24/7 config and a 2-year x 4-queue x 30-minute CSV.gz (140,160 rows)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "big.yaml"
    config.write_text(BIG_CONFIG)
    rng = np.random.default_rng(7)
    grid = pd.date_range("2024-01-01", periods=730 * 48, freq="30min")
    frames = [pd.DataFrame({"queue": q, "interval_start": grid.strftime("%Y-%m-%d %H:%M"),
                            "contacts": rng.poisson(40, len(grid)),
                            "aht_s": np.round(rng.normal(300, 20, len(grid)), 1)}) for q in ("q1", "q2", "q3", "q4")]
    actuals = folder / "big.csv.gz"
    pd.concat(frames).to_csv(actuals, index=False)
    return config, actuals
