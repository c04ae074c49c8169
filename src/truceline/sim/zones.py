"""Agreement geometry for simulated points that each have their own time (the line may move)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from truceline.agreement.points import PointZones, zones_at_times
from truceline.sim.context import World

FloatArray = NDArray[np.float64]

__all__ = ["PointZones", "zones_at"]


def zones_at(world: World, x: FloatArray, y: FloatArray, t_s: FloatArray) -> PointZones:
    """Query the agreement for projected points at simulation times."""
    lon, lat = world.to_lonlat(x, y)
    times = np.datetime64(world.start.replace(tzinfo=None), "us") + (np.asarray(t_s) * 1e6).astype("timedelta64[us]")
    return zones_at_times(world.agreement, lon, lat, np.atleast_1d(times))
