"""A conformal local projection fitted to a region, with its exact scale factor.

Distances are measured in a Lambert conformal conic projection whose standard parallels sit at
1/6 and 5/6 of the region's latitude span. Because the projection is conformal and its scale
factor ``k`` depends only on the radius ``rho`` from the cone's apex, a projected length is turned
into a geodesic (WGS84) length by dividing by ``k`` integrated along the chord (Simpson's rule),
which keeps errors far below a metre for distances of a few hundred kilometres.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Proj, Transformer

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class LocalProjection:
    """Lambert conformal conic projection fitted to a bounding box (degrees).

    Parameters
    ----------
    west, south, east, north : float
        The region to serve, in degrees.
    """

    west: float
    south: float
    east: float
    north: float
    crs: CRS = field(init=False, repr=False, compare=False)
    _fwd: Transformer = field(init=False, repr=False, compare=False)
    _inv: Transformer = field(init=False, repr=False, compare=False)
    _apex_y: float = field(init=False, repr=False, compare=False)
    _rho_table: FloatArray = field(init=False, repr=False, compare=False)
    _k_table: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        span = max(self.north - self.south, 0.5)
        lat_1 = self.south + span / 6.0
        lat_2 = self.south + 5.0 * span / 6.0
        lat_0 = (self.south + self.north) / 2.0
        lon_0 = (self.west + self.east) / 2.0
        proj4 = (
            f"+proj=lcc +lat_1={lat_1:.6f} +lat_2={lat_2:.6f} +lat_0={lat_0:.6f} "
            f"+lon_0={lon_0:.6f} +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
        )
        crs = CRS.from_proj4(proj4)
        object.__setattr__(self, "crs", crs)
        object.__setattr__(self, "_fwd", Transformer.from_crs("EPSG:4326", crs, always_xy=True))
        object.__setattr__(self, "_inv", Transformer.from_crs(crs, "EPSG:4326", always_xy=True))
        # Apex of the cone: two points on one parallel are equidistant from it.
        _, y0 = self._fwd.transform(lon_0, lat_0)
        x1, y1 = self._fwd.transform(lon_0 + 5.0, lat_0)
        apex_y = (y0**2 - y1**2 - x1**2) / (2.0 * (y0 - y1))
        object.__setattr__(self, "_apex_y", float(apex_y))
        # Table of the scale factor k against rho, from far south to far north of the region.
        lats = np.linspace(max(self.south - 25.0, -80.0), min(self.north + 25.0, 84.0), 4001)
        _, ys = self._fwd.transform(np.full_like(lats, lon_0), lats)
        rho = apex_y - np.asarray(ys)
        k = np.asarray(Proj(crs).get_factors(np.full_like(lats, lon_0), lats).parallel_scale)
        order = np.argsort(rho)
        object.__setattr__(self, "_rho_table", rho[order])
        object.__setattr__(self, "_k_table", k[order])

    @classmethod
    def for_bounds(cls, bounds: tuple[float, float, float, float]) -> LocalProjection:
        """Projection for a ``(west, south, east, north)`` bounding box in degrees."""
        w, s, e, n = bounds
        return cls(float(w), float(s), float(e), float(n))

    def forward(self, lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Project degrees to metres."""
        x, y = self._fwd.transform(lon, lat)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def inverse(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Unproject metres to degrees."""
        lon, lat = self._inv.transform(x, y)
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)

    def project_geometry(self, geom: shapely.Geometry, max_edge_deg: float | None = 0.01) -> shapely.Geometry:
        """A WGS84 geometry in projected metres.

        Edges longer than ``max_edge_deg`` are cut first, so that an edge straight in
        longitude/latitude (a parallel, say) keeps its shape; ``None`` keeps the vertices as they are.
        """
        g = shapely.segmentize(geom, max_edge_deg) if max_edge_deg else geom
        return shapely.transform(g, lambda c: np.column_stack(self.forward(c[:, 0], c[:, 1])))

    def unproject_geometry(self, geom: shapely.Geometry) -> shapely.Geometry:
        """A projected geometry back in WGS84 degrees."""
        return shapely.transform(geom, lambda c: np.column_stack(self.inverse(c[:, 0], c[:, 1])))

    def scale(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Point scale factor k (projected length / true length) at projected points."""
        rho = np.hypot(x, self._apex_y - y)
        return np.interp(rho, self._rho_table, self._k_table)

    def geodesic_length(self, x1: FloatArray, y1: FloatArray, x2: FloatArray, y2: FloatArray) -> FloatArray:
        """True length in metres of the projected chords ``(x1, y1) -> (x2, y2)``.

        Integrates ``1/k`` along the chord with Simpson's rule.
        """
        chord = np.hypot(x2 - x1, y2 - y1)
        inv_k = (
            1.0 / self.scale(x1, y1) + 4.0 / self.scale((x1 + x2) * 0.5, (y1 + y2) * 0.5) + 1.0 / self.scale(x2, y2)
        ) / 6.0
        return np.asarray(chord * inv_k)
