"""What fusion reads: sensors, detections and weather, as arrays in one projected frame.

``load_inputs(DIR)`` reads a simulator output (``DIR/observations/``) or any folder holding
``sensors.jsonl``, ``detections.csv`` (or ``.jsonl``) and ``weather.jsonl`` in the formats of
``docs/formats.md``. Everything is projected once with a :class:`~truceline.geo.projection.LocalProjection`
fitted to the sensors; travel times use the projection's scale factor ``k`` (a projected metre is
``1/k`` true metres), bearings and winds are turned from true north to grid north. Weather
reports are honoured for the period each one gives (:mod:`truceline.fusion.weather`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from truceline.core import Sensor, SensorHealth, SensorStatusReport, WeatherReport
from truceline.core.noise import DEGRADED_PENALTY_DB
from truceline.fusion.weather import WeatherTable, build_weather, grid_north_deg, sound_speed_ms
from truceline.geo.projection import LocalProjection
from truceline.io.detections import DetectionFileError, DetectionTable, read_detections
from truceline.io.jsonl import read_typed
from truceline.io.problems import RecordProblem

__all__ = ["FusionInput", "SensorTable", "WeatherTable", "grid_north_deg", "load_inputs", "sound_speed_ms"]

FloatArray = NDArray[np.float64]
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


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


#: Health states in which a sensor still reports what it hears (degraded: less far).
WORKING = frozenset({SensorHealth.OK, SensorHealth.DEGRADED})


@dataclass
class HealthTable:
    """Reported health changes per sensor: ``times_s`` (s from the fusion epoch) sorted within each
    sensor's slice ``ptr[i]:ptr[i+1]``, ``working`` after each change and ``penalty_db``, how much less
    the sensor hears after it (``DEGRADED_PENALTY_DB`` while degraded, 0 otherwise). No report:
    working, full sensitivity."""

    times_s: FloatArray
    working: NDArray[np.bool_]
    ptr: NDArray[np.int64]
    penalty_db: FloatArray | None = None

    def _last(self, sensor: NDArray[np.int64], t_s: FloatArray) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        """Index of each sensor's last report at or before each time, and whether there is one."""
        n = self.ptr.size - 1
        big = float(np.ptp(self.times_s)) + float(np.ptp(t_s)) + 10 * 86400.0
        base = min(float(self.times_s.min()), float(np.min(t_s)))
        key = self.times_s - base + big * np.repeat(np.arange(n), np.diff(self.ptr))
        i = np.searchsorted(key, t_s - base + big * sensor, side="right") - 1
        ok = (i >= self.ptr[sensor]) & (i < self.ptr[sensor + 1])  # a report of this sensor before t
        return np.clip(i, 0, None), ok

    def working_at(self, sensor: NDArray[np.int64], t_s: FloatArray) -> NDArray[np.bool_]:
        """Whether each sensor was working at each time, by the last report at or before it."""
        if self.times_s.size == 0:
            return np.ones(np.shape(t_s), bool)
        i, ok = self._last(sensor, t_s)
        return np.where(ok, self.working[i], True)

    def penalty_at(self, sensor: NDArray[np.int64], t_s: FloatArray) -> FloatArray:
        """How much higher each sensor's threshold was at each time, dB (0: full sensitivity)."""
        if self.times_s.size == 0 or self.penalty_db is None:
            return np.zeros(np.shape(t_s))
        i, ok = self._last(sensor, t_s)
        return np.where(ok, self.penalty_db[i], 0.0)


#: Severity of each health state: of two reports of one sensor at one instant the more severe holds.
_SEVERITY = {h: k for k, h in enumerate(SensorHealth)}


def health_table(reports: list[SensorStatusReport], ids: list[str], epoch: dt.datetime) -> HealthTable:
    """The health reports of known sensors as a :class:`HealthTable` (others are ignored)."""
    index = {sid: i for i, sid in enumerate(ids)}
    rows = sorted(
        (index[r.sensor_id], (r.time - epoch).total_seconds(), _SEVERITY[r.health], r.health)
        for r in reports
        if r.sensor_id in index
    )
    sens = np.array([r[0] for r in rows], np.int64)
    return HealthTable(
        np.array([r[1] for r in rows], float),
        np.array([r[3] in WORKING for r in rows], bool),
        np.searchsorted(sens, np.arange(len(ids) + 1)).astype(np.int64),
        np.array([DEGRADED_PENALTY_DB if r[3] == SensorHealth.DEGRADED else 0.0 for r in rows], float),
    )


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
    health: HealthTable | None = None

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
    status_path = obs / "sensor_status.jsonl"
    status: list[SensorStatusReport] = _records(status_path, SensorStatusReport) if status_path.exists() else []
    return inputs_from_records(sensors, table, reports, str(obs), str(det_path), status)


def inputs_from_records(
    sensors: list[Sensor],
    table: DetectionTable,
    reports: list[WeatherReport],
    source: str = "",
    det_source: str = "",
    status: list[SensorStatusReport] | None = None,
) -> FusionInput:
    """A :class:`FusionInput` from records in memory (what the store hands to ``truceline process``).
    ``status``: the sensors' health reports (a sensor out of service is not evidence against a source).

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
    health = health_table(status or [], sensor_tab.ids, epoch)
    return FusionInput(epoch, proj, sensor_tab, table, det_sensor, det_t, weather, source, health)
