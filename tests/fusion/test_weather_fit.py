"""Weather estimated from the located events: a report wrong by 5 m/s of wind costs little location."""

from __future__ import annotations

import numpy as np
from pyproj import Geod

from tests.fusion.synth import lon_at, network, write_case
from truceline.core import Event, parse_record
from truceline.fusion.run import FusionParams, fuse
from truceline.io.jsonl import read_objects

GEOD = Geod(ellps="WGS84")


def _sources(n: int = 14) -> list[tuple[float, float, float, str]]:
    rng = np.random.default_rng(5)
    return [
        (lon_at(float(rng.uniform(-12, 12))), float(rng.uniform(47.7, 48.3)), 100.0 + 200.0 * i, "launch")
        for i in range(n)
    ]


def _fused(tmp_path, make_agreement, on: bool) -> list[Event]:
    out = tmp_path / ("on" if on else "off")
    fuse(tmp_path / "in", out, agreement=make_agreement(), params=FusionParams(weather_fit=on))
    return [parse_record(Event, o) for _, o in read_objects(out / "events.jsonl")]


def _errors(events: list[Event], sources: list[tuple[float, float, float, str]]) -> np.ndarray:
    def nearest(lon: float, lat: float) -> float:
        return min(GEOD.inv(e.position.lon_deg, e.position.lat_deg, lon, lat)[2] for e in events)

    return np.array([nearest(lon, lat) for lon, lat, _, _ in sources])


def test_a_report_wrong_by_5_m_s_of_wind_is_estimated_and_the_sources_move_back(tmp_path, make_agreement):
    # The air moves east at 5 m/s; the reports say calm (the case's default reports).
    write_case(tmp_path / "in", network(), _sources(), wind_east=lambda t: 5.0)
    off = _errors(_fused(tmp_path, make_agreement, False), _sources())
    on = _errors(_fused(tmp_path, make_agreement, True), _sources())
    assert np.median(on) < 0.6 * np.median(off), (np.median(off), np.median(on))


def test_too_few_events_to_estimate_leave_the_reports_alone(tmp_path, make_agreement):
    three = _sources(3)  # fewer than WeatherFitParams.min_events in the hour and region
    write_case(tmp_path / "in", network(), three, wind_east=lambda t: 5.0)
    off, on = _fused(tmp_path, make_agreement, False), _fused(tmp_path, make_agreement, True)
    assert on and [e.position for e in on] == [e.position for e in off]
