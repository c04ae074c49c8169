"""Brute-force geodesic reference for distances to a line (tests only)."""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Geod

GEOD = Geod(ellps="WGS84")


def geodesic_distance_to_line_m(
    lon: float, lat: float, line: shapely.Geometry, step_m: float = 5.0, window_m: float | None = None
) -> float:
    """Minimum geodesic distance from a point to a line whose segments are geodesics.

    Each segment is densified along its geodesic every ``step_m``; with ``window_m`` only
    segments whose endpoints come within that distance (plus the segment length) are densified.
    """
    best = np.inf
    for part in shapely.get_parts(line):
        c = shapely.get_coordinates(part)
        _, _, seg_len = GEOD.inv(c[:-1, 0], c[:-1, 1], c[1:, 0], c[1:, 1])
        _, _, d0 = GEOD.inv(np.full(len(c), lon), np.full(len(c), lat), c[:, 0], c[:, 1])
        best = min(best, float(d0.min()))
        for i in range(len(c) - 1):
            if window_m is not None and min(d0[i], d0[i + 1]) > window_m + seg_len[i]:
                continue
            n = int(seg_len[i] // step_m)
            if n < 1:
                continue
            pts = np.array(GEOD.npts(c[i, 0], c[i, 1], c[i + 1, 0], c[i + 1, 1], n))
            _, _, d = GEOD.inv(np.full(n, lon), np.full(n, lat), pts[:, 0], pts[:, 1])
            best = min(best, float(d.min()))
    return best
