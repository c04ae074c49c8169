"""Agreement geometry for simulated points that each have their own time (the line may move)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from truceline.sim.context import World

FloatArray = NDArray[np.float64]


@dataclass
class PointZones:
    """Side, distance and zones of points, merged across the line versions in force at their times.

    ``side`` indexes ``parties`` (-1: none); ``site`` and ``sector`` index the agreement's sites
    and sectors (-1: none).
    """

    parties: tuple[str, ...]
    side: NDArray[np.int8]
    signed_distance_km: FloatArray
    distance_km: FloatArray
    in_buffer: NDArray[np.bool_]
    in_withdrawal: dict[str, NDArray[np.bool_]]
    site: NDArray[np.int32]
    sector: NDArray[np.int32]

    def party_of(self) -> NDArray[np.object_]:
        names = np.array([*self.parties, None], dtype=object)
        return names[np.where(self.side >= 0, self.side, len(self.parties))]


def zones_at(world: World, x: FloatArray, y: FloatArray, t_s: FloatArray) -> PointZones:
    """Query the agreement for projected points at simulation times."""
    n = np.asarray(x).size
    lon, lat = world.to_lonlat(x, y)
    times = np.datetime64(world.start.replace(tzinfo=None), "us") + (np.asarray(t_s) * 1e6).astype("timedelta64[us]")
    a = world.agreement
    out = PointZones(
        parties=tuple(a.parties),
        side=np.full(n, -1, dtype=np.int8),
        signed_distance_km=np.full(n, np.nan),
        distance_km=np.full(n, np.nan),
        in_buffer=np.zeros(n, dtype=bool),
        in_withdrawal={c: np.zeros(n, dtype=bool) for c in a.withdrawal_km},
        site=np.full(n, -1, dtype=np.int32),
        sector=np.full(n, -1, dtype=np.int32),
    )
    if n == 0:
        return out
    for idx, r in a.query_at_times(lon, lat, times):
        out.side[idx] = r.sides.side
        out.signed_distance_km[idx] = r.sides.signed_distance_km
        out.distance_km[idx] = r.sides.distance_km
        out.in_buffer[idx] = r.in_buffer
        for c, m in r.in_withdrawal.items():
            out.in_withdrawal[c][idx] = m
        out.site[idx] = r.site
        out.sector[idx] = r.sector
    return out
