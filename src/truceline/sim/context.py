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

    def time(self, t_s: float) -> dt.datetime:
        """Absolute time of a simulation time."""
        return self.start + dt.timedelta(seconds=float(t_s))

    def sector_index(self, lon: FloatArray, lat: FloatArray) -> np.ndarray:
        """Index into the agreement's sectors of each point (-1 outside)."""
        return self.engine_at(0.0).query(lon, lat).sector

    @property
    def sector_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.agreement.sectors)


def build_world(scenario: Scenario, agreement: Agreement) -> World:
    """Project the line in force at the start and cut it to the scenario's front."""
    start = scenario.start.astimezone(dt.UTC)
    version = agreement.line_at(start)
    proj = agreement.zones(version).geometry.projection
    line_xy = shapely.transform(version.line, lambda c: np.column_stack(proj.forward(c[:, 0], c[:, 1])))
    region = None
    if scenario.sectors:
        known = {s.id: s for s in agreement.sectors}
        missing = [s for s in scenario.sectors if s not in known]
        if missing:
            raise ValueError(f"sectors: unknown sector(s) {missing}; the agreement has {sorted(known)}")
        polys = [known[s].geometry for s in scenario.sectors]
        region = shapely.transform(
            shapely.union_all(polys), lambda c: np.column_stack(proj.forward(c[:, 0], c[:, 1]))
        )
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
