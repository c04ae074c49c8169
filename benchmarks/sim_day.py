"""Simulator scale: a day on the whole line, 10,000 events and ~1,000,000 detections.

Run with ``make bench``; writes ``benchmarks/results/sim_day.json``, then renders ``.md`` and the
README's block from it (``figures.py``). The goal (issue
"A digital twin of the line") is <= 2 minutes on 2 cores.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from figures import publish

from truceline.sim.run import simulate
from truceline.sim.scenario import load_scenario

HERE = Path(__file__).resolve().parent
GOAL_S = 120.0


def main() -> None:
    scenario = load_scenario(HERE / "scenarios" / "day_10k.yaml")
    out = Path(tempfile.mkdtemp(prefix="truceline-sim-"))
    try:
        t0 = time.perf_counter()
        summary = simulate(scenario, out, base_dir=HERE / "scenarios")
        wall = time.perf_counter() - t0
        size_mb = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 1e6
    finally:
        shutil.rmtree(out, ignore_errors=True)
    c = summary.counts
    result = {
        "benchmark": "sim_day",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "scenario": scenario.name,
        "wall_s": round(wall, 2),
        "goal_s": GOAL_S,
        "goal_met": wall <= GOAL_S,
        "counts": c,
        "timings_s": summary.timings_s,
        "output_mb": round(size_mb, 1),
    }
    print(publish("sim_day", result))


if __name__ == "__main__":
    main()
