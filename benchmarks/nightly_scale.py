"""The nightly job end to end through the CLI: the demo store, then stores of N synthetic queues.

Each case starts from an empty store: the actuals file is dropped into the drop folder and
the calendar submitted, then ``forecaster nightly`` runs in a fresh process. Reported: wall
time, seconds per queue, the job's own per-step timings and peak memory of the whole process
tree (the job and any Dask worker processes, sampled every half second), overall and per step, and
per step that of the job's own process.
Targets (issue 22): 50 queues at most 5 minutes; 500 queues at most 30 minutes with
``--engine dask`` on a local cluster, peak memory at most 6 GiB.
Usage: python -m benchmarks.nightly_scale [--sizes 4,50,200,500] [--engines local,dask] [--skip-demo]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil
import yaml

from benchmarks.forecast_scale import build

ROOT = Path(__file__).resolve().parent.parent
FC = [sys.executable, "-m", "forecaster"]


def tree_rss(proc: psutil.Process) -> tuple[int, int]:
    """Resident bytes of ``proc`` and all its descendants (Dask's nannies and workers included),
    and of ``proc`` alone."""
    total = own = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            rss = p.memory_info().rss
        except psutil.Error:            # a process that ended between the listing and the reading
            continue
        total += rss
        own = rss if p.pid == proc.pid else own
    return total, own


def current_step(log, step: str) -> str:
    """The step the job's JSON log (read on from where it was) says is running."""
    for line in log.readlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("event") == "step started":
            step = event["step"]
    return step


def nightly_case(folder: Path, config: Path, actuals: Path, calendar_csv: Path, engine: str = "local") -> dict:
    drop = folder / "drop"
    drop.mkdir(exist_ok=True)
    shutil.copy(actuals, drop / actuals.name)
    subprocess.run([*FC, "--config", str(config), "campaigns", "submit", str(calendar_csv), "--by", "bench"],
                   check=True, capture_output=True, cwd=ROOT)
    t0 = time.perf_counter()
    with tempfile.NamedTemporaryFile("w+") as err, open(err.name) as log:
        child = subprocess.Popen([*FC, "--config", str(config), "nightly", "--log-format", "json", "--engine", engine],
                                 stdout=subprocess.DEVNULL, stderr=err, text=True, cwd=ROOT)
        proc, peak, by_step, own_by_step, step = psutil.Process(child.pid), 0, {}, {}, "start"
        while child.poll() is None:                     # peak memory, and per step by the job's log
            step = current_step(log, step)
            rss, own = tree_rss(proc)
            peak, by_step[step] = max(peak, rss), max(by_step.get(step, 0), rss)
            own_by_step[step] = max(own_by_step.get(step, 0), own)
            time.sleep(0.5)
        wall = time.perf_counter() - t0
        err.seek(0)
        assert child.returncode == 0, err.read()[-2000:]
    shown = subprocess.run([*FC, "--config", str(config), "runs", "show", "latest", "--format", "json"],
                           check=True, capture_output=True, text=True, cwd=ROOT)
    info = json.loads(shown.stdout)["info"]
    return {"wall_s": round(wall, 1), "peak_tree_mib": round(peak / 2**20),
            "peak_mib_by_step": {k: round(v / 2**20) for k, v in by_step.items()},
            # the job's own process: the rest of a step's peak is its pool's or Dask workers'
            "job_process_mib_by_step": {k: round(v / 2**20) for k, v in own_by_step.items()},
            "steps_s": info["steps_s"], "schedule": info["schedule"]["statuses"],
            "windows": info["capacity"]["windows"]}


def demo(folder: Path) -> dict:
    cfg = yaml.safe_load((ROOT / "configs" / "example.yaml").read_text())
    cfg.update(store="demo.duckdb", output_dir="out", nightly={**cfg["nightly"], "drop_dir": "drop"})
    config = folder / "demo.yaml"
    config.write_text(yaml.safe_dump(cfg))
    return nightly_case(folder, config, ROOT / "data" / "demo" / "actuals.csv.gz",
                        ROOT / "data" / "demo" / "campaigns.csv")


def big(folder: Path, n_queues: int, engine: str = "local") -> dict:
    config, actuals, calendar = build(folder, n_queues)
    cfg = yaml.safe_load(config.read_text())
    cfg.update(output_dir="out", nightly={"drop_dir": "drop", "horizon": "6w", "quantile": 0.8})
    config.write_text(yaml.safe_dump(cfg))
    cal = pd.read_parquet(calendar)
    cal = cal[cal["queues"].map(len) > 0]
    csv = folder / "calendar.csv"
    cal.assign(queues=cal["queues"].map(";".join))[
        ["campaign_id", "name", "channel", "start", "end", "queues", "reach", "notes"]].to_csv(csv, index=False)
    act = pd.read_parquet(actuals).rename(columns={"ds": "interval_start", "y": "contacts"})
    path = folder / "actuals.parquet"
    act.to_parquet(path)
    out = nightly_case(folder, config, path, csv, engine)
    return {"queues": n_queues, "engine": engine, "s_per_queue": round(out["wall_s"] / n_queues, 2), **out}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="50", help="comma-separated numbers of synthetic queues")
    parser.add_argument("--engines", default="local", help="comma-separated: local, dask")
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    if not args.skip_demo:
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "demo").mkdir()
            print("demo (4 queues):", json.dumps(demo(Path(tmp) / "demo")), flush=True)
    for n in (int(x) for x in args.sizes.split(",")):
        for engine in args.engines.split(","):
            with tempfile.TemporaryDirectory() as tmp:
                print(f"{n} queues, {engine}:", json.dumps(big(Path(tmp), n, engine)), flush=True)


if __name__ == "__main__":
    main()
