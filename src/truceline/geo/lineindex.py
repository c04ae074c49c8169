"""Vectorized nearest distance from many points to a line (the line of contact).

The line is cut into straight segments in a :class:`LocalProjection`. A regular grid of cells
covers the region; for each cell we keep every segment that could be nearest to some point of the
cell (those within ``d_centre + cell diagonal`` of the cell's centre, where ``d_centre`` is the
distance from the centre to the line). A query then evaluates, for each point, only the few
candidate segments of its cell, with NumPy. Points outside the grid fall back to a GEOS STRtree
nearest query. The planar distance is converted to a geodesic one with the projection's scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from truceline.geo.projection import FloatArray, LocalProjection

IntArray = NDArray[np.int64]

#: Points processed per chunk; bounds the temporary arrays of candidate pairs.
_CHUNK = 65_536
#: Vertices that move the line by less than this (metres) are dropped from the index.
SIMPLIFY_M = 0.25


@dataclass(frozen=True)
class NearestResult:
    """Nearest point on the line for each query point.

    Attributes
    ----------
    distance_m : ndarray
        Geodesic distance to the line, metres.
    segment : ndarray of int
        Index of the nearest segment.
    near_x, near_y : ndarray
        Nearest point on the line, projected metres.
    """

    distance_m: FloatArray
    segment: IntArray
    near_x: FloatArray
    near_y: FloatArray


class LineDistanceIndex:
    """Index answering "how far is each point from this line" for arrays of points.

    Parameters
    ----------
    line : shapely LineString or MultiLineString
        The line in WGS84 degrees.
    projection : LocalProjection
        The projection used for the planar search.
    grid_bounds : (west, south, east, north), optional
        Region (degrees) covered by the accelerating grid; defaults to the line's bounds grown by
        2 degrees. Queries outside it are exact but slower.
    cell_m : float
        Grid cell size in metres.
    """

    def __init__(
        self,
        line: shapely.Geometry,
        projection: LocalProjection,
        grid_bounds: tuple[float, float, float, float] | None = None,
        cell_m: float = 4000.0,
    ) -> None:
        if line.is_empty:
            raise ValueError("cannot index an empty line")
        self.projection = projection
        starts, ends = [], []
        for part in shapely.get_parts(line):
            c = shapely.get_coordinates(part)
            x, y = projection.forward(c[:, 0], c[:, 1])
            # Drop vertices that bend the line by less than SIMPLIFY_M: they only add candidates.
            c = shapely.get_coordinates(shapely.simplify(shapely.linestrings(x, y), SIMPLIFY_M))
            x, y = c[:, 0], c[:, 1]
            keep = np.r_[True, (np.diff(x) != 0) | (np.diff(y) != 0)]
            x, y = x[keep], y[keep]
            if x.size < 2:
                continue
            starts.append(np.column_stack([x[:-1], y[:-1]]))
            ends.append(np.column_stack([x[1:], y[1:]]))
        if not starts:
            raise ValueError("the line has no segment of non-zero length")
        self._a = np.vstack(starts)
        self._b = np.vstack(ends)
        self._ab = self._b - self._a
        self._ab2 = np.einsum("ij,ij->i", self._ab, self._ab)
        self._tree = shapely.STRtree(shapely.linestrings(np.stack([self._a, self._b], axis=1)))
        if grid_bounds is None:
            w, s, e, n = line.bounds
            grid_bounds = (w - 2.0, s - 2.0, e + 2.0, n + 2.0)
        self._build_grid(grid_bounds, cell_m)

    @property
    def n_segments(self) -> int:
        """Number of straight segments in the index."""
        return int(self._a.shape[0])

    def _build_grid(self, bounds: tuple[float, float, float, float], cell_m: float) -> None:
        w, s, e, n = bounds
        lon = np.array([w, e, w, e, (w + e) / 2, (w + e) / 2])
        lat = np.array([s, s, n, n, s, n])
        x, y = self.projection.forward(lon, lat)
        self._x0, self._y0 = float(x.min()), float(y.min())
        self._cell = float(cell_m)
        self._nx = int(np.ceil((x.max() - self._x0) / cell_m)) + 1
        self._ny = int(np.ceil((y.max() - self._y0) / cell_m)) + 1
        iy, ix = np.divmod(np.arange(self._nx * self._ny), self._nx)
        cx = self._x0 + (ix + 0.5) * cell_m
        cy = self._y0 + (iy + 0.5) * cell_m
        centres = shapely.points(cx, cy)
        _, d_centre = self._tree.query_nearest(centres, return_distance=True, all_matches=False)
        reach = d_centre + cell_m * np.sqrt(2.0) * 1.0001 + 1e-6
        pairs = self._tree.query(centres, predicate="dwithin", distance=reach)
        order = np.lexsort((pairs[1], pairs[0]))
        cell_of, seg = pairs[0][order], pairs[1][order]
        counts = np.bincount(cell_of, minlength=self._nx * self._ny)
        self._cand = seg.astype(np.int64)
        # Candidate-level copies of the segment geometry: a query gathers them by position.
        self._c_ax = self._a[self._cand, 0].copy()
        self._c_ay = self._a[self._cand, 1].copy()
        self._c_abx = self._ab[self._cand, 0].copy()
        self._c_aby = self._ab[self._cand, 1].copy()
        self._c_inv = 1.0 / self._ab2[self._cand]
        self._cand_count = counts.astype(np.int64)
        self._cand_start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)

    def nearest(self, x: FloatArray, y: FloatArray) -> NearestResult:
        """Nearest point of the line for projected points ``x, y`` (metres)."""
        n = x.size
        seg = np.empty(n, dtype=np.int64)
        ix = np.floor((x - self._x0) / self._cell)
        iy = np.floor((y - self._y0) / self._cell)
        in_grid = (ix >= 0) & (ix < self._nx) & (iy >= 0) & (iy < self._ny)
        grid_idx = np.flatnonzero(in_grid)
        cells = (iy[grid_idx] * self._nx + ix[grid_idx]).astype(np.int64)
        for lo in range(0, grid_idx.size, _CHUNK):
            sel = grid_idx[lo : lo + _CHUNK]
            seg[sel] = self._nearest_in_cells(x[sel], y[sel], cells[lo : lo + _CHUNK])
        out = np.flatnonzero(~in_grid)
        if out.size:
            seg[out] = self._tree.query_nearest(shapely.points(x[out], y[out]), all_matches=False)[1]
        t = self._param(seg, x, y)
        near_x = self._a[seg, 0] + t * self._ab[seg, 0]
        near_y = self._a[seg, 1] + t * self._ab[seg, 1]
        dist = self.projection.geodesic_length(x, y, near_x, near_y)
        return NearestResult(dist, seg, near_x, near_y)

    def _param(self, seg: IntArray, x: FloatArray, y: FloatArray) -> FloatArray:
        """Clamped position (0..1) along segments ``seg`` of the foot of each point."""
        ab = self._ab[seg]
        dot = (x - self._a[seg, 0]) * ab[:, 0] + (y - self._a[seg, 1]) * ab[:, 1]
        return np.clip(dot / self._ab2[seg], 0.0, 1.0)

    def _nearest_in_cells(self, x: FloatArray, y: FloatArray, cells: IntArray) -> IntArray:
        counts = self._cand_count[cells]
        first = np.cumsum(counts) - counts
        owner = np.repeat(np.arange(x.size), counts)
        pos = np.arange(owner.size) + np.repeat(self._cand_start[cells] - first, counts)
        ax, ay = self._c_ax[pos], self._c_ay[pos]
        abx, aby = self._c_abx[pos], self._c_aby[pos]
        dx = x[owner]
        dx -= ax
        dy = y[owner]
        dy -= ay
        t = dx * abx
        t += dy * aby
        t *= self._c_inv[pos]
        np.clip(t, 0.0, 1.0, out=t)
        abx *= t
        aby *= t
        dx -= abx
        dy -= aby
        dx *= dx
        dy *= dy
        dx += dy
        best = np.minimum.reduceat(dx, first)
        hit = np.flatnonzero(dx == best[owner])
        keep = np.r_[True, owner[hit][1:] != owner[hit][:-1]]
        return np.asarray(self._cand[pos[hit[keep]]], dtype=np.int64)
