"""Point-in-area queries for named polygons (controlled areas, sectors, disengagement areas)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import NDArray

from truceline.geo.projection import FloatArray

#: Cells of the accelerating grid, degrees; cells wholly inside one polygon (or touching none)
#: answer without a point-in-polygon test.
CELL_DEG = 0.05
#: Below this many points a query skips the grid.
_GRID_MIN_POINTS = 20_000
_MIXED = -2


class AreaIndex:
    """Which of several polygons (WGS84 degrees) contains each point.

    Parameters
    ----------
    polygons : sequence of shapely geometries
        Polygonal geometries; where they overlap, the first in the sequence wins.

    Notes
    -----
    Each polygon is prepared once. A regular grid (built on the first large query) marks the
    cells lying wholly inside one polygon or touching none, so only points in cells crossed by
    a boundary need :func:`shapely.contains_xy`; those are tested polygon by polygon, and only
    inside the polygon's bounding box. Points on a boundary are not contained.
    """

    def __init__(self, polygons: Sequence[shapely.Geometry]) -> None:
        self._polys = list(polygons)
        for p in self._polys:
            shapely.prepare(p)
        self._bounds = np.array([p.bounds for p in self._polys]).reshape(-1, 4)
        self._grid: NDArray[np.int32] | None = None

    def __len__(self) -> int:
        return len(self._polys)

    def _build_grid(self) -> None:
        w, s = self._bounds[:, 0].min(), self._bounds[:, 1].min()
        e, n = self._bounds[:, 2].max(), self._bounds[:, 3].max()
        self._x0, self._y0 = float(w), float(s)
        self._nx = int(np.ceil((e - w) / CELL_DEG)) + 1
        self._ny = int(np.ceil((n - s) / CELL_DEG)) + 1
        iy, ix = np.divmod(np.arange(self._nx * self._ny), self._nx)
        x0 = self._x0 + ix * CELL_DEG
        y0 = self._y0 + iy * CELL_DEG
        boxes = shapely.box(x0, y0, x0 + CELL_DEG, y0 + CELL_DEG)
        state = np.full(boxes.size, -1, dtype=np.int32)
        for i in range(len(self._polys) - 1, -1, -1):  # the first polygon wins: let it write last
            poly = self._polys[i]
            touches = shapely.intersects(poly, boxes)
            inside = touches & shapely.contains_properly(poly, boxes)
            state[touches & ~inside] = _MIXED
            state[inside] = i
        # A cell wholly inside polygon i but touched by an earlier polygon is mixed.
        for i, poly in enumerate(self._polys):
            later_inside = state > i
            if later_inside.any():
                hit = shapely.intersects(poly, boxes[later_inside])
                idx = np.flatnonzero(later_inside)[hit]
                state[idx] = _MIXED
        self._grid = state

    def locate(self, lon: FloatArray, lat: FloatArray) -> NDArray[np.int32]:
        """Index of the first polygon containing each point, or -1."""
        out = np.full(lon.shape, -1, dtype=np.int32)
        if not self._polys:
            return out
        todo = np.arange(lon.size)
        if lon.size >= _GRID_MIN_POINTS:
            if self._grid is None:
                self._build_grid()
            assert self._grid is not None
            ix = np.floor((lon - self._x0) / CELL_DEG).astype(np.int64)
            iy = np.floor((lat - self._y0) / CELL_DEG).astype(np.int64)
            on = (ix >= 0) & (ix < self._nx) & (iy >= 0) & (iy < self._ny)
            state = np.full(lon.shape, _MIXED, dtype=np.int32)
            state[on] = self._grid[iy[on] * self._nx + ix[on]]
            decided = state != _MIXED
            out[decided] = state[decided]
            todo = np.flatnonzero(~decided)
        for i, (poly, (w, s, e, n)) in enumerate(zip(self._polys, self._bounds, strict=True)):
            sub = todo[out[todo] < 0]
            cand = sub[(lon[sub] >= w) & (lon[sub] <= e) & (lat[sub] >= s) & (lat[sub] <= n)]
            if cand.size:
                inside = shapely.contains_xy(poly, lon[cand], lat[cand])
                out[cand[inside]] = i
        return out
