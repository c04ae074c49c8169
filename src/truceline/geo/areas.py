"""Point-in-area queries for named polygons (controlled areas, sectors, disengagement areas)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import NDArray

from truceline.geo.projection import FloatArray


class AreaIndex:
    """Which of several polygons (WGS84 degrees) contains each point.

    Parameters
    ----------
    polygons : sequence of shapely geometries
        Polygonal geometries; where they overlap, the first in the sequence wins.

    Notes
    -----
    Each polygon is prepared once; a query tests only the points inside the polygon's bounding
    box, with :func:`shapely.contains_xy`. Points on a boundary are not contained.
    """

    def __init__(self, polygons: Sequence[shapely.Geometry]) -> None:
        self._polys = [p for p in polygons]
        for p in self._polys:
            shapely.prepare(p)
        self._bounds = np.array([p.bounds for p in self._polys]).reshape(-1, 4)

    def __len__(self) -> int:
        return len(self._polys)

    def locate(self, lon: FloatArray, lat: FloatArray) -> NDArray[np.int32]:
        """Index of the first polygon containing each point, or -1."""
        out = np.full(lon.shape, -1, dtype=np.int32)
        for i, (poly, (w, s, e, n)) in enumerate(zip(self._polys, self._bounds, strict=True)):
            cand = np.flatnonzero((out < 0) & (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n))
            if cand.size:
                inside = shapely.contains_xy(poly, lon[cand], lat[cand])
                out[cand[inside]] = i
        return out
