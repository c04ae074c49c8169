"""Geometry engine throughput: side, signed distance and every zone for 1,000,000 points.

Run with ``make bench``. Writes ``benchmarks/results/geo_points.json``, then renders ``.md`` and the
README's block from it (``figures.py``).

The points are uniform over Ukraine's bounding box (22-40.3°E, 44.4-52.4°N), the theatre the
default agreement covers. The naive reference does the same work point by point with Shapely
(contains for each controlled area, distance to the projected line, each zone), on a 10,000
point sample, as code without the vectorized engine would.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import time

import numpy as np
import shapely
from figures import publish

from truceline.agreement import default_agreement
from truceline.geo.measure import length_km

BBOX = (22.14, 44.39, 40.23, 52.38)
N = 1_000_000
N_NAIVE = 10_000
REPEATS = 3


def naive(agreement, version, lon, lat) -> float:
    """Per-point Shapely loop doing the same queries; seconds for all points."""
    eng = agreement.zones(version)
    proj = eng.geometry.projection
    line_xy = shapely.transform(version.line, lambda c: np.column_stack(proj.forward(c[:, 0], c[:, 1])))
    areas = [version.areas[p] for p in agreement.parties]
    sites = [(shapely.Point(*proj.forward(np.array([s.lon]), np.array([s.lat]))), s.radius_km * 1000)
             for s in agreement.protected_sites]
    sectors = [s.geometry for s in agreement.sectors]
    t0 = time.perf_counter()
    for x_lon, y_lat in zip(lon, lat, strict=True):
        p = shapely.Point(x_lon, y_lat)
        side = next((i for i, a in enumerate(areas) if a.contains(p)), -1)
        px, py = proj.forward(np.array([x_lon]), np.array([y_lat]))
        q = shapely.Point(px[0], py[0])
        d_km = line_xy.distance(q) / 1000.0
        _ = (side, d_km <= agreement.buffer_zone_km, {c: d_km <= k for c, k in agreement.withdrawal_km.items()})
        _ = [s.distance(q) <= r for s, r in sites]
        _ = next((i for i, s in enumerate(sectors) if s.contains(p)), -1)
    return time.perf_counter() - t0


def main() -> None:
    agreement = default_agreement()
    version = agreement.versions[-1]
    rng = np.random.default_rng(20260822)
    lon = rng.uniform(BBOX[0], BBOX[2], N)
    lat = rng.uniform(BBOX[1], BBOX[3], N)
    t0 = time.perf_counter()
    engine = agreement.zones(version)
    build_s = time.perf_counter() - t0
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        r = engine.query(lon, lat)
        times.append(time.perf_counter() - t0)
    best = min(times)
    naive_s = naive(agreement, version, lon[:N_NAIVE], lat[:N_NAIVE])
    per_point_naive = naive_s / N_NAIVE
    per_point_vec = best / N
    result = {
        "benchmark": "geo_points",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "agreement": agreement.id,
        "line_version": version.id,
        "line_length_km": round(length_km(version.line), 1),
        "points": N,
        "bbox": BBOX,
        "engine_build_s": round(build_s, 3),
        "query_s": [round(t, 3) for t in times],
        "points_per_s": round(N / best),
        "goal_points_per_s": 500_000,
        "goal_met": N / best >= 500_000,
        "naive_sample_points": N_NAIVE,
        "naive_s": round(naive_s, 3),
        "naive_points_per_s": round(1 / per_point_naive),
        "speedup_vs_naive": round(per_point_naive / per_point_vec, 1),
        "share_in_a_party_area": round(float((r.sides.side >= 0).mean()), 4),
        "share_in_buffer": round(float(r.in_buffer.mean()), 4),
    }
    print(publish("geo_points", result))


if __name__ == "__main__":
    main()
