"""Agreement geometry for points that each have their own time (the line in force may differ).

Used by the simulator to label the truth and by the adjudication rules to judge located events,
so both apply exactly the same geometry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from truceline.agreement.model import Agreement

FloatArray = NDArray[np.float64]


@dataclass
class PointZones:
    """Side, distance and zones of points, merged across the line versions in force at their times.

    ``side`` indexes ``parties`` (-1: none); ``site``, ``sector`` and ``disengagement`` index the
    agreement's sites, sectors and disengagement areas (-1: none); ``version`` indexes the
    agreement's line versions (the one applied to each point).
    """

    parties: tuple[str, ...]
    side: NDArray[np.int8]
    signed_distance_km: FloatArray
    distance_km: FloatArray
    in_buffer: NDArray[np.bool_]
    in_withdrawal: dict[str, NDArray[np.bool_]]
    site: NDArray[np.int32]
    site_distance_km: FloatArray
    sector: NDArray[np.int32]
    disengagement: NDArray[np.int32]
    version: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.side.size)

    def party_of(self) -> NDArray[np.object_]:
        """Controlling party id per point (None where no party controls it)."""
        names = np.array([*self.parties, None], dtype=object)
        return names[np.where(self.side >= 0, self.side, len(self.parties))]


def zones_at_times(agreement: Agreement, lon: ArrayLike, lat: ArrayLike, times: Any) -> PointZones:
    """Query the agreement for points (degrees) at their own times (aware datetimes or UTC datetime64).

    Raises
    ------
    NoLineInForce
        When a time has no line in force.
    """
    lon_a = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    lat_a = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    n = lon_a.size
    out = PointZones(
        parties=tuple(agreement.parties),
        side=np.full(n, -1, dtype=np.int8),
        signed_distance_km=np.full(n, np.nan),
        distance_km=np.full(n, np.nan),
        in_buffer=np.zeros(n, dtype=bool),
        in_withdrawal={c: np.zeros(n, dtype=bool) for c in agreement.withdrawal_km},
        site=np.full(n, -1, dtype=np.int32),
        site_distance_km=np.full(n, np.nan),
        sector=np.full(n, -1, dtype=np.int32),
        disengagement=np.full(n, -1, dtype=np.int32),
        version=np.full(n, -1, dtype=np.int64),
    )
    if n == 0:
        return out
    vidx = agreement.version_index(times)
    for idx, r in agreement.query_at_times(lon_a, lat_a, times):
        out.side[idx] = r.sides.side
        out.signed_distance_km[idx] = r.sides.signed_distance_km
        out.distance_km[idx] = r.sides.distance_km
        out.in_buffer[idx] = r.in_buffer
        for c, m in r.in_withdrawal.items():
            out.in_withdrawal[c][idx] = m
        out.site[idx] = r.site
        out.site_distance_km[idx] = r.site_distance_km
        out.sector[idx] = r.sector
        out.disengagement[idx] = r.disengagement
        out.version[idx] = vidx[idx]
    return out
