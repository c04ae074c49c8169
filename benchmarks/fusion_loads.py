"""The three loads of the fusion benchmark, simulated by ``truceline simulate``.

Every load is a 24 h day on the default agreement's line with the simulator's default network: two
staggered rows ±8 km from the line at 5 km spacing, 50 ms timing noise (``staggered_rows``,
``offset_km`` 8, ``spacing_km`` 5, ``timing_sigma_ms`` 50), no clock faults and no outages.

| load | front | acoustic events / day | false : true detections |
|---|---|---|---|
| ``small`` | 200 km (``front_km: [600, 800]``) | 500 | 0.5 : 1 |
| ``line_3k`` | the whole line | 3,000 | 1 : 1 |
| ``line_10k`` | the whole line | 10,000 | 1 : 1 |

An acoustic event is a launch or an impact, so a round gives two and ``rounds_per_day`` is half
the events. The realised number is a little lower and varies with the seed: missions are a
Poisson process and the simulator drops rounds that fall where no party's own side is found.

False detections are calibrated (:func:`simulate_load`): the true detections are what the
network hears, so the false rate that gives a ratio is only known after a first run. The first
run uses a guess (``EXPECTED_TRUE_PER_EVENT`` true detections per event); the false rate is then
rescaled to ``ratio x measured true detections`` and the day simulated again (up to
``MAX_RUNS`` runs) until the ratio is within ``TOLERANCE`` (10 %). Bursts (one sensor spraying
``false_burst_size`` = 30 detections within 120 s: wind gusts, a generator) are kept at a fixed,
modest share of the false detections (``BURST_SHARE``, 5 %, about the simulator's default share
on the whole line: 20 bursts of 30 against 451 sensors at 1 an hour): ``false_bursts_per_day``
is set proportionally to the target, the rest is Poisson ``false_per_sensor_hour``.

Run ``.venv/bin/python benchmarks/fusion_loads.py small /tmp/bench/small`` to simulate a load and
print its counts and the time it took. The counts of the loads the benchmark ran (true and
detectable events, sensors, true and false detections, ratio, runs and their times) are in
``results/fusion_vs_pyocto.json`` (``simulated``), written by ``fusion_vs_pyocto.py``. The realised
events differ from the nominal rate by the Poisson draw of fire missions (a mission is one round
to an MLRS salvo).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from truceline.sim.run import simulate
from truceline.sim.scenario import parse_scenario

#: True detections per true event expected on the default network (the simulator benchmark
#: measured ~28.8 on the whole line); only the first guess of the calibration.
EXPECTED_TRUE_PER_EVENT = 28.0
#: Share of the false detections that come in bursts.
BURST_SHARE = 0.05
#: Detections per burst (the simulator's default ``false_burst_size``).
BURST_SIZE = 30
#: Relative tolerance on the false : true ratio.
TOLERANCE = 0.10
#: Most simulations one calibration runs.
MAX_RUNS = 4
#: Sensors per km of front of the default network (two rows at 5 km): the first guess only.
SENSORS_PER_KM = 0.32


@dataclass(frozen=True)
class Load:
    """One benchmark load.

    Attributes
    ----------
    name : str
        Load name (``small``, ``line_3k``, ``line_10k``).
    description : str
        One line: what it is.
    events_per_day : float
        Acoustic events (launches + impacts) a day; ``rounds_per_day`` is half of it.
    false_ratio : float
        Target false : true detection ratio.
    front_km : tuple of float or None
        Stretch of the line's main piece (km from its western end), or None for the whole line.
    """

    name: str
    description: str
    events_per_day: float
    false_ratio: float
    front_km: tuple[float, float] | None = None

    @property
    def rounds_per_day(self) -> float:
        """Rounds a day: every round is a launch and an impact."""
        return self.events_per_day / 2.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe description and parameters."""
        return {
            "description": self.description,
            "events_per_day": self.events_per_day,
            "rounds_per_day": self.rounds_per_day,
            "false_ratio": self.false_ratio,
            "front_km": list(self.front_km) if self.front_km else None,
        }


LOADS: dict[str, Load] = {
    "small": Load(
        "small",
        "200 km of front (km 600-800 of the line), 500 acoustic events/day, 0.5 false detections per true one",
        events_per_day=500.0,
        false_ratio=0.5,
        front_km=(600.0, 800.0),
    ),
    "line_3k": Load(
        "line_3k",
        "the whole line, 3,000 acoustic events/day, false:true detections 1:1",
        events_per_day=3000.0,
        false_ratio=1.0,
    ),
    "line_10k": Load(
        "line_10k",
        "the whole line, 10,000 acoustic events/day, false:true detections 1:1",
        events_per_day=10000.0,
        false_ratio=1.0,
    ),
}


def scenario_for(name: str, false_per_sensor_hour: float, false_bursts_per_day: float = 0.0) -> dict[str, Any]:
    """The scenario mapping of a load (validate it with ``truceline.sim.scenario.parse_scenario``).

    Parameters
    ----------
    name : str
        A key of :data:`LOADS`.
    false_per_sensor_hour : float
        Poisson false detections per sensor and hour.
    false_bursts_per_day : float
        Bursts of ``BURST_SIZE`` false detections a day (0: none).
    """
    load = LOADS[name]
    scenario: dict[str, Any] = {
        "scenario": 1,
        "name": f"fusion_{name}",
        "description": f"Fusion benchmark load '{name}': {load.description}.",
        "start": "2026-09-02T00:00:00+03:00",
        "duration_h": 24,
        "network": {
            "layout": "staggered_rows",
            "offset_km": 8.0,
            "spacing_km": 5.0,
            "timing_sigma_ms": 50.0,
            "clock_faults": 0,
            "outages": [],
        },
        "activity": {"rounds_per_day": load.rounds_per_day},
        "propagation": {
            "false_per_sensor_hour": float(false_per_sensor_hour),
            "false_bursts_per_day": float(false_bursts_per_day),
            "false_burst_size": BURST_SIZE,
        },
    }
    if load.front_km is not None:
        scenario["front_km"] = list(load.front_km)
    return scenario


def count_detections(sim_dir: str | Path) -> tuple[int, int]:
    """(true, false) detections of a simulation, from ``truth/detections.csv`` (empty event_id: false)."""
    n_true = n_false = 0
    with (Path(sim_dir) / "truth" / "detections.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["event_id"]:
                n_true += 1
            else:
                n_false += 1
    return n_true, n_false


def _false_params(target_false: float, n_sensors: int) -> tuple[float, float]:
    """(false_per_sensor_hour, false_bursts_per_day) giving ``target_false`` a day, ``BURST_SHARE`` in bursts."""
    bursts = BURST_SHARE * target_false / BURST_SIZE
    rate = (1.0 - BURST_SHARE) * target_false / (max(n_sensors, 1) * 24.0)
    return rate, bursts


def simulate_load(name: str, out_dir: str | Path, seed: int = 1) -> dict[str, Any]:
    """Simulate a load into ``out_dir`` with its false : true detection ratio calibrated.

    Simulates once with a guessed false rate, measures the true detections and rescales the
    false rate (and proportionally the bursts, kept at ``BURST_SHARE`` of the false detections),
    simulating again until the ratio is within ``TOLERANCE`` of the target (at most ``MAX_RUNS``
    runs; the last run's files stay in ``out_dir``).

    Returns
    -------
    dict
        ``load``, ``seed``, ``true_events``, ``detectable_events``, ``rounds``, ``true_detections``,
        ``false_detections``, ``detections``, ``ratio`` (false / true), ``target_ratio``,
        ``sensors``, ``false_per_sensor_hour``, ``false_bursts_per_day``, ``runs``,
        ``simulate_s`` (the wall time of each run, s) and ``calibrate_s`` (all of it, s).
    """
    load = LOADS[name]
    out = Path(out_dir)
    # First guess: sensors from the front length (the whole line is ~1,400 km), true detections per event.
    front = (load.front_km[1] - load.front_km[0]) if load.front_km else 1400.0
    n_sensors_guess = max(int(front * SENSORS_PER_KM), 1)
    rate, bursts = _false_params(load.false_ratio * EXPECTED_TRUE_PER_EVENT * load.events_per_day, n_sensors_guess)
    timings: list[float] = []
    t_all = time.perf_counter()
    counts: dict[str, int] = {}
    n_true = n_false = 0
    used = (rate, bursts)
    for _ in range(MAX_RUNS):
        used = (rate, bursts)
        scenario = parse_scenario(scenario_for(name, rate, bursts), f"<fusion load {name}>")
        t0 = time.perf_counter()
        summary = simulate(scenario, out, seed=seed)
        timings.append(round(time.perf_counter() - t0, 2))
        counts = summary.counts
        n_true, n_false = count_detections(out)
        ratio = n_false / n_true if n_true else math.inf
        if n_true == 0 or abs(ratio / load.false_ratio - 1.0) <= TOLERANCE:
            break
        rate, bursts = _false_params(load.false_ratio * n_true, counts["sensors"])
    return {
        "load": name,
        "seed": seed,
        "true_events": counts["truth_events"],
        "detectable_events": counts["truth_detectable_events"],
        "rounds": counts["rounds"],
        "true_detections": n_true,
        "false_detections": n_false,
        "detections": n_true + n_false,
        "ratio": round(n_false / n_true, 4) if n_true else None,
        "target_ratio": load.false_ratio,
        "sensors": counts["sensors"],
        "false_per_sensor_hour": round(used[0], 4),
        "false_bursts_per_day": round(used[1], 2),
        "runs": len(timings),
        "simulate_s": timings,
        "calibrate_s": round(time.perf_counter() - t_all, 2),
    }


def main() -> None:
    """``fusion_loads.py LOAD OUT_DIR [--seed N]``: simulate a load and print its counts as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("load", choices=sorted(LOADS))
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    print(json.dumps(simulate_load(args.load, args.out_dir, args.seed), indent=2))


if __name__ == "__main__":
    main()
