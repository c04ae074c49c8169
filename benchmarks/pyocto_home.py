"""PyOcto's home ground: truceline and PyOcto 0.2.2 side by side on the peer's own simple loads.

    .venv/bin/python benchmarks/pyocto_home.py [--loads small line_3k line_10k] [--peer-loads small line_3k]
        [--peer-timeout-s 1800] [--seed 0]

The loads are made by ``../shared/bench/pyocto_simple_load.py`` (the script on which PyOcto 0.2.2
reached F1 0.957 / 0.863 / 0.765): two staggered rows of stations at y = ±8 km, 5 km apart, sources
uniform over a 40 km band, one sound speed (343 m/s), 50 ms Gaussian timing noise, a logistic
detection probability (0.9 at short range, half of that at 15 km), false detections uniform over
stations and the day; no weather, no salvos, no bearings. That script also runs PyOcto with its own
settings and holds the matching rule (PyOcto's evaluation: a found event matches the true event
holding most of its detections when they share >= 60 % of the larger set; true events with >= 4
detections are the detectable ones). Both systems are graded by that one function, in this run.

truceline reads the load as a user would: ``sensors.jsonl`` (the stations' lon/lat), a detections
CSV (``time_sigma_s`` 0.05, class scores 0.5/0.5: the load has no signatures) and one weather
report (the load's sound speed as a temperature, calm air) valid for the whole day. Its time is
wall time of ``fuse_input`` (association, location, attribution, pairing; reading excluded, the
compiled kernels warmed up beforehand on the small load, and with them the agreement's zone engine,
which a process builds once per agreement: ``Agreement.zones``). It runs on every core the machine
has (association in parts of time, ``fusion/parts.py``); PyOcto runs with the load script's settings
(``n_threads`` = 2). PyOcto runs in a child process with a
time limit; where it does not finish, the results say so.

Writes ``benchmarks/results/pyocto_home.json`` and renders the tables (``figures_fusion.py``,
``render_home``) into ``results/pyocto_home.md`` and the blocks of the README and docs/fusion.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import multiprocessing as mp
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import publish

from truceline.agreement import default_agreement
from truceline.fusion.inputs import load_inputs
from truceline.fusion.run import FusionParams, fuse_input

HERE = Path(__file__).resolve().parent
LOAD_SCRIPT = HERE.parents[1] / "shared" / "bench" / "pyocto_simple_load.py"
#: The loads of the peer's figures: length km, events per day, false detections per true one.
LOADS: dict[str, tuple[float, int, float]] = {
    "small": (200.0, 500, 0.5),
    "line_3k": (1200.0, 3000, 1.0),
    "line_10k": (1200.0, 10000, 1.0),
}
#: PyOcto's published figures on these loads (the load script's docstring), for reference only.
PEER_PUBLISHED = {"small": 0.957, "line_3k": 0.863, "line_10k": 0.765}
DAY0 = pd.Timestamp("2026-09-01T00:00:00Z")
C_MS = 343.0


def load_module() -> Any:
    """The shared load script as a module (it holds ``make_load``, ``score`` and ``run_pyocto``)."""
    if not LOAD_SCRIPT.exists():
        raise SystemExit(f"{LOAD_SCRIPT}: the peer's load script is missing (../shared/bench beside the repo)")
    spec = importlib.util.spec_from_file_location("pyocto_simple_load", LOAD_SCRIPT)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def temperature_for(c_ms: float) -> float:
    """The temperature (°C) at which truceline's ``331.3 √(1 + T/273.15)`` is ``c_ms``."""
    return 273.15 * ((c_ms / 331.3) ** 2 - 1.0)


def write_truceline_input(mod: Any, st: pd.DataFrame, det: pd.DataFrame, length_km: float, out: Path) -> None:
    """The load as truceline's observation files (sensors, detections CSV, one weather report)."""
    from pyproj import Transformer

    inv = Transformer.from_crs("+proj=aeqd +lat_0=48.0 +lon_0=37.5 +units=km", "EPSG:4326", always_xy=True)
    off = length_km / 2  # as the load script centres the line on the projection's origin
    lon, lat = inv.transform(st.x_km.to_numpy() - off, st.y_km.to_numpy())
    out.mkdir(parents=True, exist_ok=True)
    with (out / "sensors.jsonl").open("w", encoding="utf-8") as f:
        for sid, lo, la in zip(st.id, lon, lat, strict=True):
            rec = {
                "id": sid,
                "kind": "acoustic",
                "position": {"lon_deg": float(lo), "lat_deg": float(la)},
                "elevation_m": 0.0,
                "clock_sigma_ms": 0.0,
                "has_bearing": False,
                "contingent": "GBR",
                "installed_at": "2026-08-01T00:00:00+00:00",
            }
            f.write(json.dumps(rec) + "\n")
    times = (DAY0 + pd.to_timedelta(det.time_s.to_numpy(), unit="s")).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    pd.DataFrame(
        {
            "id": det.id,
            "sensor_id": det.station,
            "arrival_time": times,
            "time_sigma_s": 0.05,
            "bearing_deg": "",
            "bearing_sigma_deg": "",
            "amplitude_pa": 1.0,
            "class_scores.launch": 0.5,
            "class_scores.impact": 0.5,
        }
    ).to_csv(out / "detections.csv", index=False)
    wx = {
        "id": "wx-0",
        "time": "2026-08-31T00:00:00+00:00",
        "valid_for_s": 4 * 86400.0,
        "position": {"lon_deg": 37.5, "lat_deg": 48.0},
        "region_radius_km": 2000.0,
        "temperature_c": round(temperature_for(C_MS), 4),
        "wind_u_ms": 0.0,
        "wind_v_ms": 0.0,
    }
    (out / "weather.jsonl").write_text(json.dumps(wx) + "\n", encoding="utf-8")


def run_truceline(mod: Any, det: pd.DataFrame, folder: Path) -> dict[str, Any]:
    """Fuse the load in ``folder`` and grade it with the load script's own matching rule."""
    inp = load_inputs(folder)
    agr = default_agreement()
    t0 = time.perf_counter()
    records, _ = fuse_input(inp, agr, params=FusionParams())
    wall = time.perf_counter() - t0
    rows = [(d, e.id) for e in records["events"] for d in e.detection_ids]
    assign = pd.DataFrame(rows, columns=["detection id", "event"])
    out = mod.score(det, assign, len(records["events"]))
    out |= by_size(mod, det, assign)
    return out | {"wall_s": wall}


def by_size(mod: Any, det: pd.DataFrame, assign: pd.DataFrame) -> dict[str, Any]:
    """Recall by the number of detections of the true event (4-5, 6-7, 8+): where quiet sources fall."""
    truth = dict(zip(det.id, det.event, strict=True))
    sizes = det[det.event >= 0].groupby("event").size()
    matched: set[int] = set()
    for _, g in assign.groupby("event"):
        s = set(g["detection id"])
        best = pd.Series([truth[x] for x in s]).value_counts().index[0]
        if best >= 0 and best in sizes.index and sizes[best] >= 4:
            truth_set = set(det.id[det.event == best])
            if len(s & truth_set) / max(len(s), len(truth_set)) >= 0.6:
                matched.add(int(best))
    out = {}
    for name, lo, hi in (("4-5", 4, 5), ("6-7", 6, 7), ("8+", 8, 10**9)):
        ev = sizes[(sizes >= lo) & (sizes <= hi)].index
        out[f"recall_{name}"] = float(np.mean([int(e) in matched for e in ev])) if len(ev) else None
        out[f"detectable_{name}"] = len(ev)
    return {"by_size": out}


def _peer_child(queue: Any, st: pd.DataFrame, det: pd.DataFrame, length_km: float) -> None:
    mod = load_module()
    try:
        queue.put(mod.run_pyocto(st, det, length_km, 0.5))
    except Exception as exc:  # the peer's failure is a result, reported as such
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


def run_peer(st: pd.DataFrame, det: pd.DataFrame, length_km: float, timeout_s: float) -> dict[str, Any]:
    """PyOcto with the load script's own settings, in a child process stopped after ``timeout_s``."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_peer_child, args=(queue, st, det, length_km))
    t0 = time.perf_counter()
    proc.start()
    try:
        res = queue.get(timeout=timeout_s)
    except Exception:
        proc.kill()
        return {"same_run": True, "finished": False, "timeout_s": timeout_s}
    proc.join()
    return res | {"same_run": True, "finished": "error" not in res, "elapsed_s": time.perf_counter() - t0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loads", nargs="+", default=list(LOADS), choices=list(LOADS))
    ap.add_argument("--peer-loads", nargs="*", default=list(LOADS), choices=list(LOADS))
    ap.add_argument("--peer-timeout-s", type=float, default=1800.0)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    mod = load_module()
    res: dict[str, Any] = {
        "machine": {"cpus": mp.cpu_count(), "python": platform.python_version()},
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "benchmarks/pyocto_home.py " + " ".join(sys.argv[1:]),
        "load_script": "shared/bench/pyocto_simple_load.py",
        "seed": a.seed,
        "loads": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for i, name in enumerate(a.loads):
            length, n_ev, ratio = LOADS[name]
            st, _, det = mod.make_load(length, n_ev, ratio, 0.05, a.seed)
            folder = Path(tmp) / name
            write_truceline_input(mod, st, det, length, folder)
            if i == 0:  # compile the kernels before anything is timed
                run_truceline(mod, det, folder)
            row: dict[str, Any] = {
                "length_km": length,
                "events": n_ev,
                "false_ratio": ratio,
                "stations": len(st),
                "detections": len(det),
                "peer_published_f1": PEER_PUBLISHED[name],
            }
            row["truceline"] = run_truceline(mod, det, folder)
            print(name, "truceline", {k: v for k, v in row["truceline"].items() if k != "by_size"}, flush=True)
            if name in (a.peer_loads or []):
                row["pyocto"] = run_peer(st, det, length, a.peer_timeout_s)
                print(name, "pyocto", row["pyocto"], flush=True)
            res["loads"][name] = row
    print(publish("pyocto_home", res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
