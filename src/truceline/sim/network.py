"""The sensor network: layouts along the line, clocks, and outages."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from numpy.typing import NDArray

from truceline.core.enums import SensorHealth
from truceline.sim.context import World, front_frames
from truceline.sim.scenario import Network

FloatArray = NDArray[np.float64]


@dataclass
class SensorNet:
    """Arrays describing every sensor (one entry per sensor).

    Attributes
    ----------
    ids : list of str
    x, y, lon, lat : arrays
        Position, projected metres and degrees.
    clock_offset_s, clock_drift : arrays
        True clock error: ``offset + drift * t`` seconds at simulation time ``t``.
    has_bearing : bool
    bearing_sigma_deg, timing_sigma_s : float
    contingent : list of str
    outages : list of (sensor index, start_s, end_s, health, party)
    """

    ids: list[str]
    x: FloatArray
    y: FloatArray
    lon: FloatArray
    lat: FloatArray
    clock_offset_s: FloatArray
    clock_drift: FloatArray
    has_bearing: bool
    bearing_sigma_deg: float
    timing_sigma_s: float
    contingent: list[str]
    outages: list[tuple[int, float, float, SensorHealth, str | None]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def down(self, sensor: NDArray[np.int64], t_s: FloatArray) -> NDArray[np.bool_]:
        """Whether each (sensor, time) falls in an outage that silences the sensor."""
        out = np.zeros(sensor.shape, dtype=bool)
        for idx, start, end, health, _ in self.outages:
            if health is SensorHealth.DEGRADED:
                continue
            out |= (sensor == idx) & (t_s >= start) & (t_s < end)
        return out

    def silenced_over(self, sensor: int, t0: float, t1: float) -> bool:
        """Whether outages silence ``sensor`` for the whole of ``[t0, t1]`` (touching ones merged)."""
        spans = sorted(
            (start, end)
            for idx, start, end, health, _ in self.outages
            if idx == sensor and health is not SensorHealth.DEGRADED
        )
        reach = t0
        for start, end in spans:
            if start > reach:
                break
            reach = max(reach, end)
            if reach >= t1:
                return True
        return False

    def degraded(self, sensor: NDArray[np.int64], t_s: FloatArray) -> NDArray[np.bool_]:
        """Whether each (sensor, time) falls in a degraded period (higher detection threshold)."""
        out = np.zeros(sensor.shape, dtype=bool)
        for idx, start, end, health, _ in self.outages:
            if health is SensorHealth.DEGRADED:
                out |= (sensor == idx) & (t_s >= start) & (t_s < end)
        return out


def _stations(line: shapely.Geometry, spacing_m: float, shift_m: float) -> tuple[FloatArray, FloatArray]:
    """Points every ``spacing_m`` along each piece (starting at ``shift_m``) and smoothed left normals."""
    pts, normals = [], []
    for part in shapely.get_parts(line):
        length = part.length
        s = np.array([length / 2.0]) if length < spacing_m else np.arange(spacing_m / 2.0 + shift_m, length, spacing_m)
        if s.size:
            p, n = front_frames(part, s)
            pts.append(p)
            normals.append(n)
    if not pts:
        return np.empty((0, 2)), np.empty((0, 2))
    return np.vstack(pts), np.vstack(normals)


def _well_placed(world: World, foot: FloatArray, q: FloatArray, sign: float, offset_m: float) -> NDArray[np.bool_]:
    """Sensors of an offset row that lie on their row's side of the whole line in force, at least
    half the offset from it.

    ``foot`` are the stations' points on the line and ``q`` the offset positions. The row's side
    is the side of a probe 1 km out from the foot along the smoothed normal. Where a sharp bend
    (or the line beyond the simulated sectors) would put a sensor near the line or across it, that
    place gets no sensor of this row, as a survey team would not put one there.
    """
    if offset_m == 0 or not len(q):
        return np.ones(len(q), dtype=bool)
    direction = (q - foot) / offset_m
    probe = foot + direction * 1000.0
    eng = world.engine_at(0.0)
    lon, lat = world.to_lonlat(q[:, 0], q[:, 1])
    plon, plat = world.to_lonlat(probe[:, 0], probe[:, 1])
    at = eng.query(lon, lat).sides
    side_of_row = eng.query(plon, plat).sides.side
    return np.asarray((at.side == side_of_row) & (at.side >= 0) & (at.distance_km * 1000.0 >= 0.5 * offset_m))


def build_network(world: World, cfg: Network, rng: np.random.Generator) -> SensorNet:
    """Lay the sensors along the simulated front as the scenario's layout says."""
    spacing = cfg.spacing_km * 1000.0
    off = cfg.offset_km * 1000.0
    rows: list[tuple[str, FloatArray]] = []
    if cfg.layout == "single_row":
        p, _ = _stations(world.front_xy, spacing, 0.0)
        rows.append(("A", p))
    else:
        for row, sign, shift in (("A", 1.0, 0.0), ("B", -1.0, spacing / 2.0)):
            p, n = _stations(world.front_xy, spacing, shift)
            q = p + sign * n * off
            rows.append((row, q[_well_placed(world, p, q, sign, off)]))
    ids, xs, ys = [], [], []
    for row, pts in rows:
        for k, (x, y) in enumerate(pts):
            ids.append(f"SN-{row}{k + 1:04d}")
            xs.append(x)
            ys.append(y)
    x, y = np.array(xs), np.array(ys)
    lon, lat = world.to_lonlat(x, y)
    count = len(ids)
    offset = rng.normal(0.0, cfg.clock_offset_sigma_ms / 1000.0, count)
    if cfg.clock_faults:
        bad = rng.choice(count, size=min(cfg.clock_faults, count), replace=False)
        offset[bad] += rng.choice([-1.0, 1.0], bad.size) * cfg.clock_fault_s
    drift = rng.normal(0.0, cfg.clock_drift_sigma_ppm * 1e-6, count)
    sector = world.sector_index(lon, lat)
    contingents = [world.agreement.sectors[i].contingent or "MNB" if i >= 0 else "MNB" for i in sector]
    net = SensorNet(
        ids=ids,
        x=x,
        y=y,
        lon=lon,
        lat=lat,
        clock_offset_s=offset,
        clock_drift=drift,
        has_bearing=cfg.layout == "arrays",
        bearing_sigma_deg=cfg.bearing_sigma_deg,
        timing_sigma_s=cfg.timing_sigma_ms / 1000.0,
        contingent=contingents,
    )
    ids_of = world.sector_ids
    for o in cfg.outages:
        if o.sector not in ids_of:
            raise ValueError(f"network.outages: unknown sector {o.sector!r}; the agreement has {list(ids_of)}")
        members = np.flatnonzero(sector == ids_of.index(o.sector))
        if members.size == 0:
            raise ValueError(f"network.outages: sector {o.sector!r} has no sensors in this scenario")
        if o.start_h * 3600.0 >= world.duration_s:
            raise ValueError(f"network.outages: start_h {o.start_h} is after the scenario's end")
        k = max(1, round(o.share * members.size))
        chosen = np.sort(rng.choice(members, size=k, replace=False))
        end = world.duration_s if o.health is SensorHealth.DESTROYED else min(o.end_h * 3600.0, world.duration_s)
        for i in chosen:
            net.outages.append((int(i), o.start_h * 3600.0, end, o.health, o.party))
    return net
