"""Weather reports honoured for the period each one gives (``valid_for_s``): steps, gaps, overlaps."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from pyproj import Geod

from tests.fusion.synth import T_START, lon_at, network, write_case
from truceline.core import Event, Position, WeatherReport, parse_record
from truceline.fusion.bundles import Weather
from truceline.fusion.inputs import load_inputs
from truceline.fusion.kernels import weather_at
from truceline.fusion.run import fuse
from truceline.fusion.weather import build_weather, sound_speed_ms
from truceline.geo.projection import LocalProjection
from truceline.io.jsonl import read_objects

GEOD = Geod(ellps="WGS84")
PROJ = LocalProjection.for_bounds((34.0, 47.0, 36.0, 49.0))


def _report(start_s: float, wind_u: float, valid_s: float = 3600.0, lon: float = 35.0, temp: float = 15.0):
    return WeatherReport(
        id=f"wx-{lon}-{start_s}",
        time=T_START + dt.timedelta(seconds=start_s),
        valid_for_s=valid_s,
        position=Position(lon_deg=lon, lat_deg=48.0),
        region_radius_km=200.0,
        temperature_c=temp,
        wind_u_ms=wind_u,
        wind_v_ms=0.0,
    )


def _wind_east(table, t: float, lon: float = 35.0) -> float:
    x, y = PROJ.forward(lon, 48.0)
    _, u, v = table.at(np.array([t]), np.array([x]), np.array([y]))
    return float(np.hypot(u[0], v[0]) * np.sign(u[0]))


def test_touching_periods_are_a_step_not_a_ramp():
    table = build_weather([_report(0, 0.0), _report(3600, 12.0), _report(7200, 12.0)], PROJ, T_START)
    assert _wind_east(table, 1800) == pytest.approx(0.0)
    assert _wind_east(table, 3599.9) == pytest.approx(0.0)  # the first report is still in force
    assert _wind_east(table, 3600) == pytest.approx(12.0)
    assert _wind_east(table, -500) == pytest.approx(0.0)  # before the first report: it holds
    assert _wind_east(table, 50_000) == pytest.approx(12.0)  # after the last period: it holds


def test_gap_no_report_covers_is_interpolated():
    # Samples of a smooth field: each holds for a minute, then nobody reports until the next hour.
    table = build_weather([_report(0, 0.0, 60.0), _report(3600, 12.0, 60.0)], PROJ, T_START)
    assert _wind_east(table, 30) == pytest.approx(0.0)
    assert _wind_east(table, 60 + 3540 / 2) == pytest.approx(6.0, abs=1e-6)
    assert _wind_east(table, 3630) == pytest.approx(12.0)


def test_overlapping_reports_the_later_supersedes_from_its_start():
    table = build_weather([_report(0, 0.0, 7200.0), _report(1800, 8.0, 3600.0)], PROJ, T_START)
    assert _wind_east(table, 1799) == pytest.approx(0.0)
    assert _wind_east(table, 1800) == pytest.approx(8.0)
    assert _wind_east(table, 5000) == pytest.approx(8.0)


def test_regions_keep_their_own_steps_and_the_compiled_lookup_agrees():
    reports = [_report(0, 0.0), _report(3600, 10.0), _report(0, 4.0, 60.0, lon=35.6, temp=5.0)]
    reports.append(_report(5400, -4.0, 60.0, lon=35.6, temp=-5.0))
    table = build_weather(reports, PROJ, T_START)
    assert _wind_east(table, 3599, lon=35.6) == pytest.approx(4.0 - 8.0 * (3599 - 60) / 5340, abs=0.05)
    rng = np.random.default_rng(3)
    t = rng.uniform(-100, 8000, 400)
    t[:4] = [3600.0, 60.0, 5400.0, 5460.0]  # knot times exactly
    lon = rng.choice([35.0, 35.6], t.size)
    x, y = PROJ.forward(lon, np.full(t.size, 48.0))
    c, u, v = table.at(t, x, y)
    wx = Weather.of(table)
    for i in range(t.size):
        assert np.allclose(weather_at(t[i], x[i], y[i], wx), (c[i], u[i], v[i]))
    cold = table.at(np.array([7000.0]), *PROJ.forward(35.6, 48.0))[0]
    assert float(cold[0]) == pytest.approx(float(sound_speed_ms(-5.0)))


#: How many events held at least 3 detections of each source, by (tmp_path, run tag, source).
HOLDING: dict[tuple[str, str, int], int] = {}


def _located(
    tmp_path: Path, make_agreement, weather: list[WeatherReport], tag: str
) -> list[tuple[float, Event | None]]:
    """Two sources 100 s either side of a wind change from still air to 8 m/s eastwards at 3600 s;
    the error (m) of each and its event (None if not found)."""
    sources = [(lon_at(-3.0), 48.0, 3500.0, "launch"), (lon_at(-3.0), 48.1, 3700.0, "launch")]
    labels = write_case(
        tmp_path / tag, network(), sources, weather=weather, wind_east=lambda t0: 8.0 if t0 >= 3600 else 0.0
    )
    assert load_inputs(tmp_path / tag).weather.times_s.size >= 2
    out = tmp_path / f"{tag}-out"
    fuse(tmp_path / tag, out, agreement=make_agreement())
    events = [parse_record(Event, o) for _, o in read_objects(out / "events.jsonl")]
    found: list[tuple[float, Event | None]] = []
    for k, (lon, lat, _, _) in enumerate(sources):
        mine = [e for e in events if sum(labels[d] == str(k) for d in e.detection_ids) >= 3]
        HOLDING[(str(tmp_path), tag, k)] = len(mine)
        if not mine:
            found.append((float("inf"), None))
            continue
        e = mine[0]
        found.append((float(GEOD.inv(e.position.lon_deg, e.position.lat_deg, lon, lat)[2]), e))
    return found


def test_a_step_change_honoured_locates_better_than_a_ramp_or_a_stale_report(tmp_path, make_agreement):
    step = [_report(0, 0.0), _report(3600, 8.0), _report(7200, 8.0)]
    honoured = _located(tmp_path, make_agreement, step, "step")
    assert all(err < 60.0 for err, _ in honoured), [err for err, _ in honoured]
    # The same values read as samples of a smooth field (a ramp across the hour): the round just
    # before the change is computed with a wind it never had.
    ramp = _located(tmp_path, make_agreement, [_report(h * 3600, u, 1.0) for h, u in ((0, 0), (1, 8), (2, 8))], "ramp")
    assert ramp[0][0] > 3 * max(honoured[0][0], 20.0), [err for err, _ in ramp]
    # A stale report (still air, held since the change was not reported) breaks the later round: its
    # arrivals no longer fit one source, and it is split in two (one per row, origin times a second
    # apart) or misplaced. With the honoured step it is one event.
    stale = _located(tmp_path, make_agreement, [_report(0, 0.0)], "stale")
    assert stale[1][0] > 3 * max(honoured[1][0], 20.0) or HOLDING[(str(tmp_path), "stale", 1)] >= 2, stale
    assert HOLDING[(str(tmp_path), "step", 1)] == 1
