"""Hand-built fusion cases in the toy theatre (line along 35°E; UA west, RU east)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pyproj import Geod

from truceline.core import Position, Sensor, SensorKind, WeatherReport
from truceline.io.jsonl import write_records

GEOD = Geod(ellps="WGS84")
T_START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
C_15 = 331.3 * np.sqrt(1 + 15 / 273.15)
KM_LON = 111.32 * np.cos(np.radians(48.0))


def lon_at(km_east: float) -> float:
    """Longitude ``km_east`` km east of the toy line (35°E) near 48°N."""
    return 35.0 + km_east / KM_LON


def network(offsets_km: tuple[float, ...] = (-8.0, 8.0), spacing_km: float = 5.0) -> list[tuple[str, float, float]]:
    """Rows of sensors parallel to the line, staggered, from 47.6°N to 48.4°N."""
    out = []
    for r, off in enumerate(offsets_km):
        lats = np.arange(47.6 + (r % 2) * spacing_km / 222.64, 48.4, spacing_km / 111.32)
        out += [(f"S{r}-{i:02d}", lon_at(off), float(lat)) for i, lat in enumerate(lats)]
    return out


def write_case(
    root: Path,
    sensors: list[tuple[str, float, float]],
    sources: list[tuple[float, float, float, str]],
    false_per_sensor: int = 0,
    clock_s: dict[str, float] | None = None,
    shift: dict[tuple[int, str], float] | None = None,
    sigma_s: float = 0.05,
    range_km: float = 40.0,
    seed: int = 1,
    weather: list[WeatherReport] | None = None,
    wind_east: Callable[[float], float] | None = None,
    ranges_km: list[float] | None = None,
    silent: frozenset[str] = frozenset(),
    missed: frozenset[tuple[int, str]] = frozenset(),
) -> dict[str, str]:
    """Write ``root/observations``; sources are ``(lon, lat, t0 s after T_START, kind)``.

    The true air is at 15 °C with a wind towards the east of ``wind_east(t0)`` m/s (none by
    default); ``weather`` replaces the reports written (still air at 15 °C, hourly) by others.
    ``ranges_km`` gives each source its own hearing range (a quiet round), ``silent`` sensors hear
    nothing at all (dead), and a ``(source, sensor)`` of ``missed`` is a sensor that did not hear
    that source.
    Returns detection id -> source index (as a string; "" for false detections).
    """
    rng = np.random.default_rng(seed)
    obs = root / "observations"
    t_install = T_START - dt.timedelta(days=1)
    write_records(
        obs / "sensors.jsonl",
        [
            Sensor(
                id=sid,
                kind=SensorKind.ACOUSTIC,
                position=Position(lon_deg=lon, lat_deg=lat),
                elevation_m=100.0,
                contingent="GBR",
                installed_at=t_install,
            )
            for sid, lon, lat in sensors
        ],
    )
    end = max((s[2] for s in sources), default=0.0) + 600
    write_records(
        obs / "weather.jsonl",
        weather
        if weather is not None
        else [
            WeatherReport(
                id=f"wx-{h}",
                time=T_START + dt.timedelta(hours=h),
                position=Position(lon_deg=35.0, lat_deg=48.0),
                region_radius_km=200.0,
                temperature_c=15.0,
                wind_u_ms=0.0,
                wind_v_ms=0.0,
            )
            for h in range(int(end // 3600) + 2)
        ],
    )
    rows = []
    labels = {}
    for k, (lon, lat, t0, kind) in enumerate(sources):
        for sid, slon, slat in sensors:
            az, _, d = GEOD.inv(lon, lat, slon, slat)
            if d > (ranges_km[k] if ranges_km else range_km) * 1000 or sid in silent or (k, sid) in missed:
                continue
            speed = C_15 + (wind_east(t0) if wind_east else 0.0) * np.sin(np.radians(az))
            t = t0 + d / speed + rng.normal(0, sigma_s) + (clock_s or {}).get(sid, 0.0) + (shift or {}).get((k, sid), 0)
            score = 0.85 if kind == "launch" else 0.15
            rows.append((t, sid, score))
            labels[len(rows) - 1] = str(k)
    for sid, _, _ in sensors:
        for t in rng.uniform(0, end, false_per_sensor if sid not in silent else 0):
            rows.append((float(t), sid, 0.5))
            labels[len(rows) - 1] = ""
    order = sorted(range(len(rows)), key=lambda i: rows[i][0])
    out = {}
    lines = [
        "id,sensor_id,arrival_time,time_sigma_s,bearing_deg,bearing_sigma_deg,amplitude_pa,class_scores.launch,class_scores.impact"
    ]
    for n, i in enumerate(order):
        t, sid, score = rows[i]
        when = (T_START + dt.timedelta(seconds=t)).isoformat()
        lines.append(f"d{n:05d},{sid},{when},{sigma_s},,,1.0,{score},{1 - score:.2f}")
        out[f"d{n:05d}"] = labels[i]
    (obs / "detections.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
