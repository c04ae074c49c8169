"""Weather as fusion uses it: regional reports honoured for the period each one says it holds.

A :class:`~truceline.core.WeatherReport` gives temperature and wind over a region for the period
``[time, time + valid_for_s)``. Per region, the reports are taken in order of their start:

- **in force**: inside a report's period its values hold, unchanged; where periods overlap, the
  later report supersedes the earlier from its own start; where they touch, the values change
  there as a step (the change the reports describe, not a ramp across it);
- **gap**: between the end of one period and the start of the next, where no report covers the
  time, the values go linearly from the one to the other: the change happened at some time in
  the gap that nobody reported, and with that time unknown (equally likely anywhere in the gap)
  the expected value is the linear interpolation, for a jump as for a smooth drift;
- before the first report and after the last one's period the nearest report holds.

So reports written as hourly periods (``valid_for_s`` 3600, one per hour) are step changes, and
reports written as samples of a smooth field (a short ``valid_for_s``, one per hour) are joined by
straight lines. The table keeps every region's values at the union of all knot times, a time
twice where some region steps there (its value just before, then from that time on), so that
linear interpolation between consecutive knots reproduces each region exactly; the compiled
lookup (:func:`truceline.fusion.kernels.weather_at`) and :meth:`WeatherTable.at` read it alike.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from truceline.core import WeatherReport
from truceline.geo.projection import LocalProjection

__all__ = ["WeatherTable", "build_weather", "grid_north_deg", "sound_speed_ms"]

FloatArray = NDArray[np.float64]


def sound_speed_ms(temperature_c: FloatArray | float) -> FloatArray:
    """Speed of sound in dry air, m/s: ``331.3 * sqrt(1 + T/273.15)``."""
    return np.asarray(331.3 * np.sqrt(1.0 + np.asarray(temperature_c, dtype=float) / 273.15))


def grid_north_deg(proj: LocalProjection, lon: FloatArray, lat: FloatArray) -> FloatArray:
    """Grid azimuth of true north at each point (degrees, clockwise): add it to a true bearing."""
    x0, y0 = proj.forward(lon, lat)
    x1, y1 = proj.forward(lon, np.asarray(lat) + 1e-3)
    return np.degrees(np.arctan2(x1 - x0, y1 - y0))


@dataclass
class WeatherTable:
    """Sound speed and wind per region at knot times; nearest region, linear between knots.

    ``times_s`` is non-decreasing; a time listed twice is a step (the first row holds up to that
    time, the second from it on). ``raster`` maps a regular grid of ``cell_m`` cells (origin
    ``x0, y0``) to the nearest region, so that compiled code can look weather up at any projected
    point. Winds are in grid axes.
    """

    times_s: FloatArray  # (T,) seconds from the fusion epoch, non-decreasing
    c: FloatArray  # (T, R) sound speed, m/s
    u: FloatArray  # (T, R) wind towards grid east, m/s
    v: FloatArray  # (T, R) wind towards grid north, m/s
    raster: NDArray[np.int64]  # (ny, nx) region index
    x0: float
    y0: float
    cell_m: float

    @classmethod
    def constant(cls, temperature_c: float = 15.0, wind_u: float = 0.0, wind_v: float = 0.0) -> WeatherTable:
        """Still (or uniform) air everywhere, always: for tests and inputs without weather."""
        c = np.full((1, 1), float(sound_speed_ms(temperature_c)))
        return cls(
            np.zeros(1), c, np.full((1, 1), wind_u), np.full((1, 1), wind_v), np.zeros((1, 1), np.int64), 0.0, 0.0, 1e9
        )

    def at(self, t_s: FloatArray, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Sound speed and wind (grid axes) at times and points (as the compiled lookup does)."""
        t_s, x, y = np.broadcast_arrays(np.asarray(t_s, float), np.asarray(x, float), np.asarray(y, float))
        ny, nx = self.raster.shape
        ix = np.clip(((x - self.x0) // self.cell_m).astype(np.int64), 0, nx - 1)
        iy = np.clip(((y - self.y0) // self.cell_m).astype(np.int64), 0, ny - 1)
        r = self.raster[iy, ix]
        n = self.times_s.size
        # lo: the last knot at or before t (a step's second row at its time); hi the next.
        lo = np.clip(np.searchsorted(self.times_s, t_s, side="right") - 1, 0, n - 1)
        hi = np.minimum(lo + 1, n - 1)
        span = self.times_s[hi] - self.times_s[lo]
        f = np.where(span > 0, (t_s - self.times_s[lo]) / np.where(span > 0, span, 1.0), 0.0)
        f = np.clip(f, 0.0, 1.0)
        c, u, v = (a[lo, r] * (1 - f) + a[hi, r] * f for a in (self.c, self.u, self.v))
        return c, u, v


def _knots(starts: FloatArray, ends: FloatArray, values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """One region's piecewise-linear function: ``values`` held over ``[starts, ends)`` (sorted by start),
    later reports superseding earlier ones, straight lines across gaps. Knot times may repeat (a step)."""
    ends = np.minimum(ends, np.append(starts[1:], np.inf))
    kt = np.column_stack([starts, ends]).ravel()
    kv = np.repeat(values, 2, axis=0)
    return kt, kv


def _eval(kt: FloatArray, kv: FloatArray, tau: FloatArray, right: bool) -> FloatArray:
    """The knots' function at times ``tau``: its value from ``tau`` on (``right``) or just before."""
    n = kt.size
    lo = np.searchsorted(kt, tau, side="right" if right else "left") - 1
    lo_c = np.clip(lo, 0, n - 1)
    hi_c = np.clip(lo + 1, 0, n - 1)
    span = kt[hi_c] - kt[lo_c]
    f = np.where(span > 0, (tau - kt[lo_c]) / np.where(span > 0, span, 1.0), 0.0)
    f = np.clip(f, 0.0, 1.0)[:, None]
    out = kv[lo_c] * (1 - f) + kv[hi_c] * f
    out[lo < 0] = kv[0]
    out[lo >= n - 1] = kv[-1]
    return np.asarray(out)


def build_weather(reports: list[WeatherReport], proj: LocalProjection, epoch: dt.datetime) -> WeatherTable:
    """A :class:`WeatherTable` from regional reports, each honoured for its ``valid_for_s`` (module docstring).

    Reports of one region (same centre) at the same start: the last one given wins.
    """
    if not reports:
        return WeatherTable.constant()
    by_region: dict[tuple[float, float], dict[float, WeatherReport]] = defaultdict(dict)
    for r in reports:
        key = (round(r.position.lon_deg, 6), round(r.position.lat_deg, 6))
        by_region[key][(r.time - epoch).total_seconds()] = r
    keys = sorted(by_region)
    rlon = np.array([k[0] for k in keys])
    rlat = np.array([k[1] for k in keys])
    north = np.radians(grid_north_deg(proj, rlon, rlat))
    regions = []
    for j, key in enumerate(keys):
        starts = np.array(sorted(by_region[key]))
        reps = [by_region[key][s] for s in starts]
        ends = starts + np.array([r.valid_for_s for r in reps])
        temp = np.array([r.temperature_c for r in reps])
        wu = np.array([r.wind_u_ms for r in reps])
        wv = np.array([r.wind_v_ms for r in reps])
        th = north[j]
        vals = np.column_stack(
            [sound_speed_ms(temp), wu * np.cos(th) + wv * np.sin(th), -wu * np.sin(th) + wv * np.cos(th)]
        )
        regions.append(_knots(starts, ends, vals))
    tau = np.unique(np.concatenate([kt[np.isfinite(kt)] for kt, _ in regions]))
    left = np.stack([_eval(kt, kv, tau, right=False) for kt, kv in regions], axis=1)  # (T, R, 3)
    right = np.stack([_eval(kt, kv, tau, right=True) for kt, kv in regions], axis=1)
    step = np.any(left != right, axis=(1, 2))
    # Each time once, a step's time twice: its value just before, then from it on.
    times = np.concatenate([tau, tau[step]])
    vals = np.concatenate([right, left[step]])
    order = np.lexsort((np.concatenate([np.ones(tau.size), np.zeros(int(step.sum()))]), times))
    times, vals = times[order], vals[order]
    return WeatherTable(times, vals[..., 0], vals[..., 1], vals[..., 2], *_region_raster(proj, rlon, rlat))


def _region_raster(
    proj: LocalProjection, rlon: FloatArray, rlat: FloatArray
) -> tuple[NDArray[np.int64], float, float, float]:
    """A 5 km raster of the nearest region, reaching 400 km beyond the regions."""
    rx, ry = proj.forward(rlon, rlat)
    cell = 5_000.0
    x0, y0 = rx.min() - 400_000.0, ry.min() - 400_000.0
    nx = int(np.ceil((rx.max() + 400_000.0 - x0) / cell))
    ny = int(np.ceil((ry.max() + 400_000.0 - y0) / cell))
    gx, gy = np.meshgrid(x0 + (np.arange(nx) + 0.5) * cell, y0 + (np.arange(ny) + 0.5) * cell)
    _, nearest = cKDTree(np.column_stack([rx, ry])).query(np.column_stack([gx.ravel(), gy.ravel()]))
    return nearest.reshape(ny, nx).astype(np.int64), float(x0), float(y0), cell
