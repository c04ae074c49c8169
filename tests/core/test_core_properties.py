"""Property tests (hypothesis): round-trips, ellipse invariants, parse never leaks."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from truceline.core import (  # noqa: E402
    RECORD_TYPES,
    CountRange,
    Detection,
    GeoUncertainty,
    ObservationMode,
    ObserverReport,
    Position,
    RecordError,
    TimeUncertainty,
    ViolationKind,
    WeaponClass,
    chi2_2dof_scale,
    from_json_dict,
    make_id,
    parse_record,
    to_json_dict,
)
from truceline.core.examples import example_records  # noqa: E402

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
aware_times = st.datetimes(min_value=dt.datetime(2000, 1, 2), max_value=dt.datetime(2099, 12, 30), timezones=offsets)
# Valid ids as core.base defines them: no ".." anywhere (a path-like id is refused).
ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:-]{0,40}\Z").filter(lambda s: ".." not in s)
positions = st.builds(
    Position,
    lon_deg=st.floats(-180.0, 180.0, allow_nan=False),
    lat_deg=st.floats(-90.0, 90.0, allow_nan=False),
)
sigmas = st.floats(0.0, 1e6, allow_nan=False)
probabilities = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def count_ranges(draw: st.DrawFn) -> CountRange:
    values = sorted(draw(st.lists(st.integers(0, 10**6), min_size=3, max_size=3)))
    return CountRange(low=values[0], best=values[1], high=values[2])


@st.composite
def covariances(draw: st.DrawFn) -> tuple[tuple[float, float], tuple[float, float]]:
    a = draw(st.floats(0.0, 1e4, allow_nan=False))
    b = draw(st.floats(-1e4, 1e4, allow_nan=False))
    c = draw(st.floats(0.0, 1e4, allow_nan=False))
    return ((a * a, a * b), (a * b, b * b + c * c))  # L @ L.T with L = [[a, 0], [b, c]]


@st.composite
def detections(draw: st.DrawFn) -> Detection:
    bearing = draw(st.none() | st.floats(0.0, 359.999, allow_nan=False))
    return Detection(
        id=draw(ids),
        sensor_id=draw(ids),
        arrival_time=draw(aware_times),
        time_sigma_s=draw(sigmas),
        bearing_deg=bearing,
        bearing_sigma_deg=None if bearing is None else draw(st.floats(0.01, 180.0)),
        amplitude_pa=draw(st.none() | st.floats(0.0, 1e5, allow_nan=False)),
        class_scores=draw(st.dictionaries(st.text(min_size=1, max_size=10), probabilities)),
    )


@st.composite
def observer_reports(draw: st.DrawFn) -> ObserverReport:
    direction = draw(st.none() | st.floats(0.0, 359.9, allow_nan=False))
    return ObserverReport(
        id=draw(ids),
        patrol_id=draw(ids),
        observer_nationality=draw(st.from_regex(r"\A[A-Z]{2,3}\Z")),
        observer_position=draw(positions),
        time=draw(aware_times),
        time_uncertainty=draw(st.builds(TimeUncertainty, sigma_s=st.none() | sigmas)),
        mode=draw(st.sampled_from(ObservationMode)),
        kind=draw(st.sampled_from(ViolationKind)),
        direction_deg=direction,
        direction_sigma_deg=None if direction is None else draw(st.floats(0.5, 90.0)),
        count=draw(count_ranges()),
        assessed_weapon=draw(st.sampled_from(WeaponClass)),
        notes=draw(st.text(max_size=50)),
    )


def _json_round_trip(record: Any) -> Any:
    text = json.dumps(to_json_dict(record), allow_nan=False)
    return from_json_dict(type(record), json.loads(text))


@given(detections())
def test_detection_round_trip(det: Detection) -> None:
    back = _json_round_trip(det)
    assert back == det
    assert back.arrival_time == det.arrival_time  # same instant, microseconds kept


@given(observer_reports())
def test_observer_report_round_trip(report: ObserverReport) -> None:
    assert _json_round_trip(report) == report


@given(covariances(), st.sampled_from([0.5, 0.9, 0.95, 0.99]))
def test_ellipse_invariants(cov: tuple[tuple[float, float], tuple[float, float]], confidence: float) -> None:
    g = GeoUncertainty(cov_en_m2=cov)
    assert _json_round_trip(g) == g
    major, minor, azimuth = g.ellipse(confidence)
    k2 = chi2_2dof_scale(confidence) ** 2
    (c_ee, c_en), (_, c_nn) = cov
    assert major >= minor >= 0.0
    assert 0.0 <= azimuth < 180.0
    trace = c_ee + c_nn
    assert major**2 + minor**2 == pytest.approx(k2 * trace, rel=1e-9, abs=1e-6)
    det = max(c_ee * c_nn - c_en * c_en, 0.0)
    assert (major * minor) ** 2 == pytest.approx(k2 * k2 * det, rel=1e-6, abs=1e-3 * k2 * trace)


@given(st.integers(-5, 20), st.integers(-5, 20), st.integers(-5, 20))
def test_count_range_valid_iff_ordered(low: int, best: int, high: int) -> None:
    ok = 0 <= low <= best <= high
    try:
        parse_record(CountRange, {"low": low, "best": best, "high": high})
    except RecordError as err:
        assert not ok
        assert err.field in {"low", "best", "high"}
    else:
        assert ok


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True))
def test_position_valid_iff_in_range(lon: float, lat: float) -> None:
    ok = math.isfinite(lon) and math.isfinite(lat) and abs(lon) <= 180 and abs(lat) <= 90
    try:
        parse_record(Position, {"lon_deg": lon, "lat_deg": lat})
    except RecordError as err:
        assert not ok
        assert err.field in {"lon_deg", "lat_deg"}
    else:
        assert ok


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300)
@given(
    st.sampled_from(sorted(RECORD_TYPES)),
    st.dictionaries(st.text(max_size=12), json_values, max_size=6),
    st.data(),
)
def test_parse_never_leaks_validation_error(name: str, junk: dict[str, Any], data: Any) -> None:
    """Untrusted input only ever raises RecordError (mutating a valid record or pure junk)."""
    base = to_json_dict(example_records()[name])
    field = data.draw(st.sampled_from(sorted(base)))
    for candidate in (junk, {**base, **junk}, {**base, field: data.draw(json_values)}):
        try:
            parse_record(name, candidate)
        except RecordError as err:
            assert err.record_type == RECORD_TYPES[name].__name__
            assert err.errors
            assert isinstance(err.field, str)


@given(st.lists(st.text(max_size=20), max_size=4), st.lists(st.text(max_size=20), max_size=4))
def test_make_id_deterministic_and_distinct(a: list[str], b: list[str]) -> None:
    assert make_id("x", *a) == make_id("x", *a)
    assert (make_id("x", *a) == make_id("x", *b)) == (a == b)
