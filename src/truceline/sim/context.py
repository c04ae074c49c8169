"""The simulated world: agreement, line in force, projection, and the stretch of front simulated."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import shapely

from truceline.agreement import Agreement
from truceline.geo.engine import ZoneEngine
from truceline.geo.projection import FloatArray, LocalProjection
from truceline.sim.scenario import Scenario


@dataclass
class World:
    """Everything the generators share.

    Attributes
    ----------
    scenario : Scenario
    agreement : Agreement
    start : datetime
        Scenario start (UTC); simulation times are seconds after it.
    duration_s : float
    projection : LocalProjection
        Metric projection used for all geometry (metres).
    front_xy : shapely (Multi)LineString
        The simulated stretch of the line in force at the start, projected.
    region_xy : shapely Polygon or None
        Union of the scenario's sectors, projected (None: everywhere).
    """

    scenario: Scenario
    agreement: Agreement
    start: dt.datetime
    duration_s: float
    projection: LocalProjection
    front_xy: shapely.Geometry
    region_xy: shapely.Geometry | None

    def engine_at(self, t_s: float) -> ZoneEngine:
        """Zone engine of the line in force ``t_s`` seconds after the start."""
        return self.agreement.zones(self.agreement.line_at(self.start + dt.timedelta(seconds=float(t_s))))

    def to_lonlat(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        return self.projection.inverse(np.asarray(x, dtype=float), np.asarray(y, dtype=float))

    def to_xy(self, lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
        return self.projection.forward(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))

    def local_hour(self, t_s: FloatArray | float) -> FloatArray:
        """Local clock hour (in the scenario start's UTC offset) of simulation times."""
        offset = self.scenario.start.utcoffset()
        off_h = offset.total_seconds() / 3600.0 if offset is not None else 0.0
        t0 = self.start.hour + self.start.minute / 60.0 + self.start.second / 3600.0
        return np.asarray((t0 + off_h + np.asarray(t_s, dtype=float) / 3600.0) % 24.0)

    def time(self, t_s: float) -> dt.datetime:
        """Absolute time of a simulation time."""
        return self.start + dt.timedelta(seconds=float(t_s))

    def sector_index(self, lon: FloatArray, lat: FloatArray) -> np.ndarray:
        """Index into the agreement's sectors of each point (-1 outside)."""
        return self.engine_at(0.0).query(lon, lat).sector

    @property
    def sector_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.agreement.sectors)


#: Digitised lines zigzag at the 100 m scale; directions are taken from the line simplified to
#: SMOOTH_TOLERANCE_M and over ±SMOOTH_SPAN_M along it.
SMOOTH_TOLERANCE_M = 1000.0
SMOOTH_SPAN_M = 5000.0


def front_frames(part: shapely.LineString, s: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Points at distances ``s`` along a projected line piece, and the unit left normal of the
    line's general direction there (from the smoothed line, not the local zigzag)."""
    pts = shapely.get_coordinates(shapely.line_interpolate_point(part, s))
    smooth = shapely.simplify(part, SMOOTH_TOLERANCE_M)
    at = shapely.line_locate_point(smooth, shapely.points(pts))
    a = shapely.get_coordinates(shapely.line_interpolate_point(smooth, np.maximum(at - SMOOTH_SPAN_M, 0.0)))
    b = shapely.get_coordinates(shapely.line_interpolate_point(smooth, np.minimum(at + SMOOTH_SPAN_M, smooth.length)))
    t = b - a
    t /= np.maximum(np.hypot(t[:, 0], t[:, 1]), 1e-9)[:, None]
    return pts, np.column_stack([-t[:, 1], t[:, 0]])


def sample_front(world: World, n: int, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """``n`` points uniform along the simulated front (projected m) and the smoothed left normals."""
    parts = [p for p in shapely.get_parts(world.front_xy) if p.length > 0]
    pts, nrm = np.empty((n, 2)), np.empty((n, 2))
    if n == 0 or not parts:
        return pts[:0], nrm[:0]
    lengths = np.array([p.length for p in parts])
    which = rng.choice(len(parts), size=n, p=lengths / lengths.sum())
    s_all = rng.uniform(0.0, 1.0, n)
    for k, part in enumerate(parts):
        sel = np.flatnonzero(which == k)
        if sel.size:
            pts[sel], nrm[sel] = front_frames(part, s_all[sel] * part.length)
    return pts, nrm


def build_world(scenario: Scenario, agreement: Agreement) -> World:
    """Project the line in force at the start and cut it to the scenario's front."""
    start = scenario.start.astimezone(dt.UTC)
    version = agreement.line_at(start)
    proj = agreement.zones(version).geometry.projection
    line_xy = proj.project_geometry(version.line, max_edge_deg=None)
    region = None
    if scenario.sectors:
        known = {s.id: s for s in agreement.sectors}
        missing = [s for s in scenario.sectors if s not in known]
        if missing:
            raise ValueError(f"sectors: unknown sector(s) {missing}; the agreement has {sorted(known)}")
        polys = [known[s].geometry for s in scenario.sectors]
        region = proj.project_geometry(shapely.union_all(polys))
        line_xy = shapely.intersection(line_xy, region)
    if scenario.front_km is not None:
        main = max(shapely.get_parts(line_xy), key=lambda g: g.length)
        if main.coords[0][0] > main.coords[-1][0]:
            main = shapely.reverse(main)
        a, b = (v * 1000.0 for v in scenario.front_km)
        if a >= main.length:
            raise ValueError(f"front_km: starts beyond the line's main piece ({main.length / 1000:.0f} km)")
        from shapely.ops import substring

        line_xy = substring(main, a, min(b, main.length))
    if line_xy.is_empty:
        raise ValueError("the scenario's sectors / front_km leave no line to simulate")
    return World(
        scenario=scenario,
        agreement=agreement,
        start=start,
        duration_s=scenario.duration_h * 3600.0,
        projection=proj,
        front_xy=line_xy,
        region_xy=region,
    )
