"""Side of the line, signed distance and zone membership for arrays of points.

:class:`LineGeometry` answers for one version of the line of contact: which party controls each
point, and its geodesic distance to the line, signed by side. :class:`ZoneEngine` adds the zones
an agreement defines around that line: the buffer zone, a withdrawal zone per weapon class,
disengagement areas, protected-site radii and sectors of responsibility.

Defined behaviour
-----------------
- Points within :data:`ON_LINE_M` of the line are *on the line*: side -1 (no party), distance 0.
- Points in neither party's controlled area (outside the country, at sea) have side -1 and a
  NaN signed distance; their unsigned distance is still given, and zone membership by distance
  applies to them as to any point.
- Crimea is an ordinary part of whichever controlled area contains it.
- NaN, infinite or out-of-range coordinates raise :class:`~truceline.geo.errors.InvalidCoordinateError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from truceline.geo.areas import AreaIndex
from truceline.geo.coords import as_lonlat
from truceline.geo.lineindex import LineDistanceIndex
from truceline.geo.projection import FloatArray, LocalProjection

#: Points closer than this to the line (metres) are on it and belong to neither side.
ON_LINE_M = 1.0


@dataclass(frozen=True)
class SideResult:
    """Side and distance of points relative to the line.

    Attributes
    ----------
    side : ndarray of int8
        Index into ``parties`` of the party controlling each point, -1 for none.
    distance_km : ndarray
        Geodesic distance to the line, km (>= 0).
    signed_distance_km : ndarray
        ``+distance`` on the side of ``parties[0]``, ``-distance`` on the side of ``parties[1]``,
        0 on the line, NaN where no party controls the point.
    on_line : ndarray of bool
        Within :data:`ON_LINE_M` of the line.
    parties : tuple of str
        Party ids in the order of their index.
    """

    side: NDArray[np.int8]
    distance_km: FloatArray
    signed_distance_km: FloatArray
    on_line: NDArray[np.bool_]
    parties: tuple[str, ...]

    def party_ids(self) -> NDArray[np.object_]:
        """Controlling party id per point (``None`` where no party controls it)."""
        names = np.array([*self.parties, None], dtype=object)
        return names[np.where(self.side >= 0, self.side, len(self.parties))]


class LineGeometry:
    """One version of the line of contact with the parties' controlled areas.

    Parameters
    ----------
    line : shapely (Multi)LineString, WGS84 degrees
    areas : mapping party id -> shapely (Multi)Polygon, WGS84 degrees
        Exactly two parties; the first key is the positive side of signed distances.
    projection : LocalProjection, optional
        Defaults to one fitted to the union of the areas and the line.
    """

    def __init__(
        self,
        line: shapely.Geometry,
        areas: Mapping[str, shapely.Geometry],
        projection: LocalProjection | None = None,
    ) -> None:
        if len(areas) != 2:
            raise ValueError(f"a line separates two parties, got {len(areas)} areas")
        self.parties = tuple(areas)
        self.line = line
        self.areas = dict(areas)
        bounds = shapely.total_bounds([line, *areas.values()])
        self.projection = projection or LocalProjection.for_bounds(tuple(bounds))
        w, s, e, n = bounds
        # The grid covers the areas (points beyond them are still exact, through the slower STRtree).
        self._lines = LineDistanceIndex(line, self.projection, (w, s, e, n))
        self._areas = AreaIndex(list(areas.values()))

    def locate(self, lon: ArrayLike, lat: ArrayLike) -> SideResult:
        """Side and distance of each point; see the module notes for edge cases."""
        lon_a, lat_a = as_lonlat(lon, lat)
        x, y = self.projection.forward(lon_a, lat_a)
        return self._locate_xy(lon_a, lat_a, x, y)

    def _locate_xy(self, lon: FloatArray, lat: FloatArray, x: FloatArray, y: FloatArray) -> SideResult:
        near = self._lines.nearest(x, y)
        on_line = near.distance_m < ON_LINE_M
        side = self._areas.locate(lon, lat).astype(np.int8)
        side[on_line] = -1
        dist_km = np.where(on_line, 0.0, near.distance_m / 1000.0)
        sign = np.select([side == 0, side == 1, on_line], [1.0, -1.0, 0.0], np.nan)
        return SideResult(side, dist_km, dist_km * sign, on_line, self.parties)


@dataclass(frozen=True)
class Site:
    """A protected site: a point and a radius (km)."""

    id: str
    lon: float
    lat: float
    radius_km: float


@dataclass(frozen=True)
class ZoneResult:
    """Everything the agreement's geometry says about each point.

    ``site`` and ``sector`` and ``disengagement`` hold indices into the engine's ``site_ids``,
    ``sector_ids`` and ``disengagement_ids`` (-1 for none).
    """

    sides: SideResult
    in_buffer: NDArray[np.bool_]
    in_withdrawal: dict[str, NDArray[np.bool_]]
    disengagement: NDArray[np.int32]
    site: NDArray[np.int32]
    site_distance_km: FloatArray
    sector: NDArray[np.int32]


class ZoneEngine:
    """The agreement's zones around one version of the line.

    Parameters
    ----------
    geometry : LineGeometry
    buffer_km : float
        Half-width of the buffer zone: a point is in it when within this distance of the line.
    withdrawal_km : mapping weapon class -> km
        A point is in the withdrawal zone of a class when within that distance of the line.
    disengagement, sectors : sequence of (id, polygon)
    sites : sequence of Site
    """

    def __init__(
        self,
        geometry: LineGeometry,
        buffer_km: float,
        withdrawal_km: Mapping[str, float],
        disengagement: Sequence[tuple[str, shapely.Geometry]] = (),
        sites: Sequence[Site] = (),
        sectors: Sequence[tuple[str, shapely.Geometry]] = (),
    ) -> None:
        self.geometry = geometry
        self.buffer_km = float(buffer_km)
        self.withdrawal_km = dict(withdrawal_km)
        self.disengagement_ids = tuple(i for i, _ in disengagement)
        self._diseng = AreaIndex([g for _, g in disengagement])
        self.sector_ids = tuple(i for i, _ in sectors)
        self._sectors = AreaIndex([g for _, g in sectors])
        self.site_ids = tuple(s.id for s in sites)
        proj = geometry.projection
        if sites:
            sx, sy = proj.forward(np.array([s.lon for s in sites]), np.array([s.lat for s in sites]))
            self._site_xy = np.column_stack([sx, sy])
            self._site_r_m = np.array([s.radius_km * 1000.0 for s in sites])
            self._site_tree: cKDTree | None = cKDTree(self._site_xy)
        else:
            self._site_tree = None

    def query(self, lon: ArrayLike, lat: ArrayLike) -> ZoneResult:
        """Side, distance and every zone for each point."""
        lon_a, lat_a = as_lonlat(lon, lat)
        x, y = self.geometry.projection.forward(lon_a, lat_a)
        sides = self.geometry._locate_xy(lon_a, lat_a, x, y)
        d = sides.distance_km
        in_buffer = d <= self.buffer_km
        withdrawal = {c: d <= km for c, km in self.withdrawal_km.items()}
        site, site_d = self._sites(x, y)
        return ZoneResult(
            sides=sides,
            in_buffer=in_buffer,
            in_withdrawal=withdrawal,
            disengagement=self._diseng.locate(lon_a, lat_a),
            site=site,
            site_distance_km=site_d,
            sector=self._sectors.locate(lon_a, lat_a),
        )

    def _sites(self, x: FloatArray, y: FloatArray) -> tuple[NDArray[np.int32], FloatArray]:
        """Covering site (nearest whose radius holds the point) and its distance in km."""
        site = np.full(x.shape, -1, dtype=np.int32)
        dist = np.full(x.shape, np.nan)
        if self._site_tree is None:
            return site, dist
        # Every site within the largest radius is a candidate (a big site can hide behind small
        # ones); candidate pairs are flattened so memory follows the pairs, not points x sites.
        # Projected distance can exceed the true one by the scale error (< 1 %): widen the search.
        reach = self._site_r_m.max() * 1.02
        xy = np.column_stack([x, y])
        nearest, _ = self._site_tree.query(xy, k=1, distance_upper_bound=reach)
        some = np.flatnonzero(np.isfinite(nearest))  # points with any site in reach (few)
        lists = self._site_tree.query_ball_point(xy[some], r=reach)
        counts = np.fromiter((len(v) for v in lists), dtype=np.int64, count=len(lists))
        if counts.sum() == 0:
            return site, dist
        pt = np.repeat(some, counts)
        st = np.fromiter((j for v in lists for j in v), dtype=np.int64, count=int(counts.sum()))
        proj = self.geometry.projection
        dm = proj.geodesic_length(x[pt], y[pt], self._site_xy[st, 0], self._site_xy[st, 1])
        inside = dm <= self._site_r_m[st]
        pt, st, dm = pt[inside], st[inside], dm[inside]
        if not pt.size:
            return site, dist
        # The nearest covering site of each point.
        order = np.lexsort((dm, pt))
        first = np.r_[True, pt[order][1:] != pt[order][:-1]]
        chosen = order[first]
        site[pt[chosen]] = st[chosen]
        dist[pt[chosen]] = dm[chosen] / 1000.0
        return site, dist
