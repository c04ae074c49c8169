"""Weather over time and space: temperature and wind per region (grid cell) and hour."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from truceline.sim.context import World
from truceline.sim.scenario import Weather

FloatArray = NDArray[np.float64]


def sound_speed_ms(temperature_c: FloatArray) -> FloatArray:
    """Speed of sound in dry air, m/s: 331.3 * sqrt(1 + T/273.15)."""
    return 331.3 * np.sqrt(1.0 + np.asarray(temperature_c) / 273.15)


@dataclass
class WeatherField:
    """Temperature (°C) and wind (u east, v north, m/s: where the air goes) on a grid, per hour."""

    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int
    temperature_c: FloatArray  # (hours + 1, ny * nx)
    wind_u: FloatArray
    wind_v: FloatArray

    def _cell(self, x: FloatArray, y: FloatArray) -> NDArray[np.int64]:
        ix = np.clip(((x - self.x0) // self.cell_m).astype(np.int64), 0, self.nx - 1)
        iy = np.clip(((y - self.y0) // self.cell_m).astype(np.int64), 0, self.ny - 1)
        return iy * self.nx + ix

    def at(self, t_s: FloatArray, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Temperature and wind at times (s after start) and projected points; linear in time."""
        h = np.clip(np.asarray(t_s) / 3600.0, 0.0, self.temperature_c.shape[0] - 1.000001)
        h0 = np.floor(h).astype(np.int64)
        f = h - h0
        c = self._cell(np.asarray(x), np.asarray(y))

        def lerp(a: FloatArray) -> FloatArray:
            return a[h0, c] * (1.0 - f) + a[h0 + 1, c] * f

        return lerp(self.temperature_c), lerp(self.wind_u), lerp(self.wind_v)

    def cell_centres(self) -> tuple[FloatArray, FloatArray]:
        iy, ix = np.divmod(np.arange(self.nx * self.ny), self.nx)
        return self.x0 + (ix + 0.5) * self.cell_m, self.y0 + (iy + 0.5) * self.cell_m


def build_weather(world: World, cfg: Weather, rng: np.random.Generator, margin_m: float = 100_000.0) -> WeatherField:
    """A weather field covering the front and ``margin_m`` around it."""
    w, s, e, n = world.front_xy.bounds
    cell = cfg.cell_km * 1000.0
    x0, y0 = w - margin_m, s - margin_m
    nx = int(np.ceil((e - w + 2 * margin_m) / cell))
    ny = int(np.ceil((n - s + 2 * margin_m) / cell))
    hours = int(np.ceil(world.duration_s / 3600.0)) + 1
    ncell = nx * ny
    cy = y0 + (np.arange(ncell) // nx + 0.5) * cell
    local_h = world.local_hour(np.arange(hours, dtype=np.float64) * 3600.0)
    diurnal = cfg.diurnal_amplitude_c * np.cos(2 * np.pi * (local_h - 15.0) / 24.0)
    north_gradient = -0.6 * (cy - cy.mean()) / 100_000.0  # °C per 100 km northwards
    temp = (
        cfg.temperature_c
        + diurnal[:, None]
        + north_gradient[None, :]
        + rng.normal(0.0, cfg.spatial_sigma_c, ncell)[None, :]
        + rng.normal(0.0, 0.3, (hours, ncell))
    )
    to_rad = np.radians(cfg.wind_from_deg + 180.0)
    base_u, base_v = cfg.wind_speed_ms * np.sin(to_rad), cfg.wind_speed_ms * np.cos(to_rad)
    walk_u = np.cumsum(rng.normal(0.0, cfg.hourly_wind_sigma_ms, (hours, ncell)), axis=0)
    walk_v = np.cumsum(rng.normal(0.0, cfg.hourly_wind_sigma_ms, (hours, ncell)), axis=0)
    u = base_u + rng.normal(0.0, cfg.spatial_wind_sigma_ms, ncell)[None, :] + walk_u
    v = base_v + rng.normal(0.0, cfg.spatial_wind_sigma_ms, ncell)[None, :] + walk_v
    return WeatherField(x0, y0, cell, nx, ny, np.clip(temp, -60, 60), np.clip(u, -60, 60), np.clip(v, -60, 60))
