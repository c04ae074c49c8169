"""What fusion reads: sensors, detections and weather, as arrays in one projected frame.

``load_inputs(DIR)`` reads a simulator output (``DIR/observations/``) or any folder holding
``sensors.jsonl``, ``detections.csv`` (or ``.jsonl``) and ``weather.jsonl`` in the formats of
``docs/formats.md``. Everything is projected once with a :class:`~truceline.geo.projection.LocalProjection`
fitted to the sensors; travel times use the projection's scale factor ``k`` (a projected metre is
``1/k`` true metres), bearings and winds are turned from true north to grid north.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from truceline.core import Sensor, WeatherReport
from truceline.geo.projection import LocalProjection
from truceline.io.detections import DetectionFileError, DetectionTable, read_detections
from truceline.io.jsonl import read_typed
from truceline.io.problems import RecordProblem

__all__ = ["FusionInput", "SensorTable", "WeatherTable", "grid_north_deg", "load_inputs", "sound_speed_ms"]

FloatArray = NDArray[np.float64]
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def sound_speed_ms(temperature_c: FloatArray | float) -> FloatArray:
    """Speed of sound in dry air, m/s: ``331.3 * sqrt(1 + T/273.15)``."""
    return np.asarray(331.3 * np.sqrt(1.0 + np.asarray(temperature_c, dtype=float) / 273.15))


def grid_north_deg(proj: LocalProjection, lon: FloatArray, lat: FloatArray) -> FloatArray:
    """Grid azimuth of true north at each point (degrees, clockwise): add it to a true bearing."""
    x0, y0 = proj.forward(lon, lat)
    x1, y1 = proj.forward(lon, np.asarray(lat) + 1e-3)
    return np.degrees(np.arctan2(x1 - x0, y1 - y0))


@dataclass
class SensorTable:
    """Sensors as arrays: projected position, scale factor and grid-north angle."""

    ids: list[str]
    lon: FloatArray
    lat: FloatArray
    x: FloatArray
    y: FloatArray
    k: FloatArray
    has_bearing: NDArray[np.bool_]
    north_deg: FloatArray  # grid azimuth of true north at each sensor (add to a true bearing)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class WeatherTable:
    """Temperature and wind per region and report time; nearest region, linear in time.

    ``raster`` maps a regular grid of ``cell_m`` cells (origin ``x0, y0``) to the nearest region,
    so that compiled code can look weather up at any projected point. Winds are in grid axes.
    """

    times_s: FloatArray  # (T,) seconds from the fusion epoch, increasing
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
        """Sound speed and wind (grid axes) at times and points."""
        t_s, x, y = np.broadcast_arrays(np.asarray(t_s, float), np.asarray(x, float), np.asarray(y, float))
        ny, nx = self.raster.shape
        ix = np.clip(((x - self.x0) // self.cell_m).astype(np.int64), 0, nx - 1)
        iy = np.clip(((y - self.y0) // self.cell_m).astype(np.int64), 0, ny - 1)
        r = self.raster[iy, ix]
        n = self.times_s.size
        i1 = np.clip(np.searchsorted(self.times_s, t_s, side="right"), 1, max(n - 1, 1))
        i0 = i1 - 1 if n > 1 else np.zeros_like(i1)
        i1 = np.minimum(i1, n - 1)
        span = self.times_s[i1] - self.times_s[i0]
        f = np.clip(np.where(span > 0, (t_s - self.times_s[i0]) / np.where(span > 0, span, 1.0), 0.0), 0.0, 1.0)
        c, u, v = (a[i0, r] * (1 - f) + a[i1, r] * f for a in (self.c, self.u, self.v))
        return c, u, v


@dataclass
class FusionInput:
    """Everything fusion needs, aligned: detections carry their sensor's index."""

    epoch: dt.datetime
    proj: LocalProjection
    sensors: SensorTable
    detections: DetectionTable
    det_sensor: NDArray[np.int64]
    det_t: FloatArray  # arrival, seconds from ``epoch``
    weather: WeatherTable
    source: str = ""

    def time_of(self, t_s: float) -> dt.datetime:
        """A fusion time (s from the epoch) as a UTC datetime."""
        return self.epoch + dt.timedelta(seconds=float(t_s))


def _obs_dir(folder: Path) -> Path:
    return folder / "observations" if (folder / "observations").is_dir() else folder


def _records(path: Path, cls: type) -> list[Any]:
    return read_typed(path, cls)


def load_sensors(path: Path) -> tuple[list[Sensor], LocalProjection, SensorTable]:
    """Sensors and the projection fitted to them."""
    sensors: list[Sensor] = _records(path, Sensor)
    if not sensors:
        raise ValueError(f"{path}: no sensors")
    proj, table = sensor_table(sensors)
    return sensors, proj, table


def sensor_table(sensors: list[Sensor]) -> tuple[LocalProjection, SensorTable]:
    """The sensor table and the projection fitted to the sensors."""
    if not sensors:
        raise ValueError("no sensors")
    lon = np.array([s.position.lon_deg for s in sensors])
    lat = np.array([s.position.lat_deg for s in sensors])
    proj = LocalProjection.for_bounds((lon.min() - 1, lat.min() - 1, lon.max() + 1, lat.max() + 1))
    x, y = proj.forward(lon, lat)
    table = SensorTable(
        [s.id for s in sensors],
        lon,
        lat,
        x,
        y,
        proj.scale(x, y),
        np.array([s.has_bearing for s in sensors]),
        grid_north_deg(proj, lon, lat),
    )
    return proj, table


def build_weather(reports: list[WeatherReport], proj: LocalProjection, epoch: dt.datetime) -> WeatherTable:
    """A :class:`WeatherTable` from hourly regional reports (missing values filled in time)."""
    if not reports:
        return WeatherTable.constant()
    keys = sorted({(round(r.position.lon_deg, 6), round(r.position.lat_deg, 6)) for r in reports})
    region = {k: i for i, k in enumerate(keys)}
    times = sorted({r.time for r in reports})
    t_index = {t: i for i, t in enumerate(times)}
    shape = (len(times), len(keys))
    temp, u, v = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    rlon = np.array([k[0] for k in keys])
    rlat = np.array([k[1] for k in keys])
    north = np.radians(grid_north_deg(proj, rlon, rlat))
    for r in reports:
        i, j = t_index[r.time], region[(round(r.position.lon_deg, 6), round(r.position.lat_deg, 6))]
        temp[i, j] = r.temperature_c
        th = north[j]
        u[i, j] = r.wind_u_ms * np.cos(th) + r.wind_v_ms * np.sin(th)
        v[i, j] = -r.wind_u_ms * np.sin(th) + r.wind_v_ms * np.cos(th)
    for a in (temp, u, v):
        _fill_in_time(a)
    rx, ry = proj.forward(rlon, rlat)
    cell = 5_000.0
    x0, y0 = rx.min() - 400_000.0, ry.min() - 400_000.0
    nx = int(np.ceil((rx.max() + 400_000.0 - x0) / cell))
    ny = int(np.ceil((ry.max() + 400_000.0 - y0) / cell))
    gx, gy = np.meshgrid(x0 + (np.arange(nx) + 0.5) * cell, y0 + (np.arange(ny) + 0.5) * cell)
    _, nearest = cKDTree(np.column_stack([rx, ry])).query(np.column_stack([gx.ravel(), gy.ravel()]))
    t_s = np.array([(t - epoch).total_seconds() for t in times])
    return WeatherTable(t_s, sound_speed_ms(temp), u, v, nearest.reshape(ny, nx).astype(np.int64), x0, y0, cell)


def _fill_in_time(a: FloatArray) -> None:
    """Fill NaNs per region with the nearest earlier (else later) value, in place."""
    for j in range(a.shape[1]):
        col = a[:, j]
        ok = ~np.isnan(col)
        if not ok.any():
            col[:] = np.nanmean(a) if np.isfinite(a).any() else 0.0
            continue
        idx = np.where(ok, np.arange(col.size), -1)
        np.maximum.accumulate(idx, out=idx)
        first = int(np.flatnonzero(ok)[0])
        idx[idx < 0] = first
        a[:, j] = col[idx]


def load_inputs(folder: str | Path) -> FusionInput:
    """Read sensors, detections and weather from a folder (see the module docstring)."""
    obs = _obs_dir(Path(folder))
    sensors_path = obs / "sensors.jsonl"
    if not sensors_path.exists():
        raise FileNotFoundError(f"{sensors_path}: no sensor registry (fusion needs sensors.jsonl)")
    det_path = obs / "detections.csv"
    if not det_path.exists():
        det_path = obs / "detections.jsonl"
    sensors, _, _ = load_sensors(sensors_path)
    table = read_detections(det_path)
    weather_path = obs / "weather.jsonl"
    reports: list[WeatherReport] = _records(weather_path, WeatherReport) if weather_path.exists() else []
    return inputs_from_records(sensors, table, reports, str(obs), str(det_path))


def inputs_from_records(
    sensors: list[Sensor], table: DetectionTable, reports: list[WeatherReport], source: str = "", det_source: str = ""
) -> FusionInput:
    """A :class:`FusionInput` from records in memory (what the store hands to ``truceline process``).

    Raises
    ------
    DetectionFileError
        Naming the detections whose sensor is not in ``sensors``.
    """
    proj, sensor_tab = sensor_table(sensors)
    index = {sid: i for i, sid in enumerate(sensor_tab.ids)}
    det_sensor = np.fromiter((index.get(s, -1) for s in table.sensor_ids.tolist()), dtype=np.int64, count=len(table))
    unknown = np.flatnonzero(det_sensor < 0)
    if unknown.size:
        problems = [
            RecordProblem(
                det_source or source, int(table.line[i]), None, "sensor_id", str(table.sensor_ids[i]), "unknown sensor"
            )
            for i in unknown[:20]
        ]
        raise DetectionFileError(problems)
    first_us = int(table.t_us.min()) if len(table) else 0
    epoch = EPOCH + dt.timedelta(microseconds=(first_us // 3_600_000_000) * 3_600_000_000)
    epoch_us = (epoch - EPOCH) // dt.timedelta(microseconds=1)
    det_t = (table.t_us - epoch_us) / 1e6
    weather = build_weather(reports, proj, epoch)
    return FusionInput(epoch, proj, sensor_tab, table, det_sensor, det_t, weather, source)
