"""Fusion against the peer (PyOcto 0.2.2), side by side on the same simulated loads.

    .venv/bin/python benchmarks/fusion_vs_pyocto.py [--loads small line_3k line_10k] [--peer-loads small]

For each load of ``benchmarks/fusion_loads.py`` (two staggered rows ±8 km from the line, 5 km
spacing, 50 ms timing noise; false detections calibrated to the load's ratio): simulate, run
``truceline fuse`` and PyOcto (``benchmarks/peer_pyocto.py``) on the same detections, grade both
with ``truceline score`` (F1 over detectable events, ±2 s and 2 km), and compute the Cramér-Rao
bound of each matched true event's position from the sensors that heard it (arrival variance
σ_t² + path jitter² + (0.001·travel)²; known weather). Writes
``benchmarks/results/fusion_vs_pyocto.json``, then renders ``.md`` and the blocks of the README and
``docs/fusion.md`` from it (``figures.py``, ``figures_fusion.py``: the goals' verdicts are computed
there from the measured figures). Fusion's time is wall time of association, location, attribution
and pairing (reading excluded; the Numba kernels compiled beforehand). PyOcto's figures carry
``same_run: true``: only figures measured in this run on the same load are compared with
truceline's; a load PyOcto does not run on shows "not measured here".
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Geod

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import publish
from figures_fusion import goals
from fusion_loads import LOADS, simulate_load

from truceline.fusion.run import fuse
from truceline.io.jsonl import read_objects
from truceline.scoring.score import score_dirs

GEOD = Geod(ellps="WGS84")
#: The peer's settings: the best of the grid tried on the small load (cell 2 / 1 km, tolerance 1.5 /
#: 0.5 s, cutoff 80 / 30 km, location split 6-4 / 8-6): F1 0.31-0.45 there; the rest as in
#: ``peer_pyocto.DEFAULTS`` (one P phase at the sound speed, 4 picks, min_interevent_time 0.1 s).
PEER_SETTINGS: dict[str, Any] = {
    "tolerance": 0.5,
    "association_cutoff_distance": 30.0,
    "location_split_depth": 8,
    "location_split_return": 6,
}
PEER_CELL_KM = 1.0


def crb_m(sim: Path) -> dict[str, float]:
    """Cramér-Rao bound (m, sqrt of the position variance trace) per true event, from its detecting sensors."""
    sensors = {
        o["id"]: (o["position"]["lon_deg"], o["position"]["lat_deg"])
        for _, o in read_objects(sim / "observations/sensors.jsonl")
    }
    det_sensor: dict[str, str] = {}
    with (sim / "observations/detections.csv").open() as fh:
        for row in csv.DictReader(fh):
            det_sensor[row["id"]] = row["sensor_id"]
    by_event: dict[str, list[str]] = {}
    with (sim / "truth/detections.csv").open() as fh:
        for row in csv.DictReader(fh):
            if row["event_id"]:
                by_event.setdefault(row["event_id"], []).append(det_sensor[row["detection_id"]])
    out = {}
    c = 340.0
    for _, e in read_objects(sim / "truth/events.jsonl"):
        ids = by_event.get(e["id"], [])
        if len(ids) < 3:
            continue
        lon = np.array([sensors[s][0] for s in ids])
        lat = np.array([sensors[s][1] for s in ids])
        az, _, d = GEOD.inv(np.full(lon.size, e["lon"]), np.full(lon.size, e["lat"]), lon, lat)
        az = np.radians(np.asarray(az))
        tt = np.asarray(d) / c
        var = 0.05**2 + 0.02**2 + (0.001 * tt) ** 2 + 0.002**2
        jac = np.column_stack([-np.sin(az) / c, -np.cos(az) / c, np.ones(lon.size)])
        fisher = (jac / var[:, None]).T @ jac
        try:
            cov = np.linalg.inv(fisher)
        except np.linalg.LinAlgError:
            continue
        out[e["id"]] = float(np.sqrt(max(cov[0, 0] + cov[1, 1], 0.0)))
    return out


def location_vs_crb(sim: Path, result: Path) -> dict[str, float]:
    """Median and p90 of the location error and of the CRB over the events matched (nearest, ±2 s, 2 km)."""
    crb = crb_m(sim)
    truth = {e["id"]: e for _, e in read_objects(sim / "truth/events.jsonl")}
    res = [o for _, o in read_objects(result / "events.jsonl")]
    t_truth = sorted((dt.datetime.fromisoformat(e["time"]).timestamp(), k) for k, e in truth.items())
    times = np.array([t for t, _ in t_truth])
    errs, bounds = [], []
    for r in res:
        t = dt.datetime.fromisoformat(r["origin_time"]).timestamp()
        lo, hi = np.searchsorted(times, [t - 2.0, t + 2.0])
        best = None
        for k in range(lo, hi):
            e = truth[t_truth[k][1]]
            d = GEOD.inv(r["position"]["lon_deg"], r["position"]["lat_deg"], e["lon"], e["lat"])[2]
            if d < 2000 and (best is None or d < best[0]):
                best = (d, e["id"])
        if best and best[1] in crb:
            errs.append(best[0])
            bounds.append(crb[best[1]])
    if not errs:
        return {}
    e, b = np.array(errs), np.array(bounds)
    return {
        "n": int(e.size),
        "error_median_m": float(np.median(e)),
        "error_p90_m": float(np.quantile(e, 0.9)),
        "crb_median_m": float(np.median(b)),
        "crb_p90_m": float(np.quantile(b, 0.9)),
        "median_ratio_to_crb": float(np.median(e) / np.median(b)),
    }


def _card(sim: Path, out: Path) -> dict[str, Any]:
    c = score_dirs(sim, out).to_dict()
    e, s, i = c["events"], c["side_of_line"], c["incidents"]
    return {
        "f1": e["f1"],
        "precision": e["precision"],
        "recall": e["recall_detectable"],
        "location_error_median_m": e["location_error_median_m"],
        "location_error_p90_m": e["location_error_p90_m"],
        "ellipse_coverage": e["ellipse_coverage"],
        "association_purity": e["association_purity"],
        "side_correct_beyond_2km": s["side_correct_beyond_2km"],
        "wrong_party_rate": s["wrong_party_rate"],
        "pairing_f1": i["pairing_f1"],
        "wrong_blame_rate": i["wrong_blame_rate"],
    }


def warm_up() -> None:
    """Compile the Numba kernels once (cached on disk) so timings measure the work."""
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.fusion.synth import lon_at, network, write_case

    with tempfile.TemporaryDirectory() as tmp:
        write_case(Path(tmp), network(), [(lon_at(-5.0), 48.0, 10.0, "launch")])
        from truceline.fusion.associate import associate
        from truceline.fusion.inputs import load_inputs

        inp = load_inputs(tmp)
        associate(inp.sensors, inp.weather, inp.det_sensor, inp.det_t, inp.detections.time_sigma_s)


def run(loads: list[str], peer_loads: list[str], work: Path) -> dict[str, Any]:
    warm_up()
    out: dict[str, Any] = {
        "benchmark": "fusion_vs_pyocto",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "loads": {},
    }
    for name in loads:
        sim = work / name / "sim"
        info = simulate_load(name, sim)
        row: dict[str, Any] = {"load": LOADS[name].description, "simulated": info}
        t = time.perf_counter()
        summary = fuse(sim, work / name / "truceline")
        wall = time.perf_counter() - t
        fuse_s = wall - summary.timings_s.get("read", 0.0)
        row["truceline"] = {
            "wall_s": round(fuse_s, 2),
            "timings_s": {k: round(v, 2) for k, v in summary.timings_s.items()},
            "latency_s": summary.latency_s,
            **_card(sim, work / name / "truceline"),
            "vs_crb": location_vs_crb(sim, work / name / "truceline"),
        }
        if name in peer_loads:
            from peer_pyocto import run_pyocto

            p = run_pyocto(sim, work / name / "pyocto", cell_km=PEER_CELL_KM, **PEER_SETTINGS)
            row["pyocto"] = {
                "same_run": True,
                "wall_s": round(p["wall_s"], 2),
                "settings": p["settings"],
                **_card(sim, work / name / "pyocto"),
            }
        row["goals"] = goals(name, row)
        out["loads"][name] = row
        print(json.dumps({name: row}, indent=1, default=str), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loads", nargs="*", default=list(LOADS))
    ap.add_argument(
        "--peer-loads",
        nargs="*",
        default=["small"],
        help="loads PyOcto also runs on (it needs `pip install pyocto==0.2.2`; ~7 min on small, hours on the line)",
    )
    ap.add_argument("--work", type=Path, default=Path("out/bench/fusion"))
    args = ap.parse_args()
    print(publish("fusion_vs_pyocto", run(args.loads, args.peer_loads, args.work)))


if __name__ == "__main__":
    main()
