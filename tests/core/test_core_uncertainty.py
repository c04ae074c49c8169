"""Uncertainty value objects: positions, ellipses, counts, time windows."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from pydantic import ValidationError

from truceline.core import (
    CountRange,
    GeoPrecision,
    GeoUncertainty,
    Position,
    TimePrecision,
    TimeUncertainty,
    TimeWindow,
    chi2_2dof_scale,
)


def test_chi2_scale_95() -> None:
    # chi-square 2 dof, p = 0.95: 5.991464547
    assert chi2_2dof_scale(0.95) ** 2 == pytest.approx(5.991464547107979, rel=1e-12)
    assert chi2_2dof_scale(0.3934693402873666) == pytest.approx(1.0)  # 1-sigma ellipse
    for bad in (0.0, 1.0, -0.1, 1.5, math.nan):
        with pytest.raises(ValueError):
            chi2_2dof_scale(bad)


def test_ellipse_known_diagonal_covariance() -> None:
    g = GeoUncertainty(cov_en_m2=((100.0**2, 0.0), (0.0, 50.0**2)))
    major, minor, azimuth = g.ellipse(0.95)
    assert major == pytest.approx(244.77, abs=0.01)
    assert minor == pytest.approx(122.39, abs=0.01)
    assert azimuth == pytest.approx(90.0)


def test_ellipse_major_axis_north() -> None:
    g = GeoUncertainty(cov_en_m2=((50.0**2, 0.0), (0.0, 100.0**2)))
    major, minor, azimuth = g.ellipse()
    assert (major, minor) == pytest.approx((244.77, 122.39), abs=0.01)
    assert azimuth == pytest.approx(0.0)


@pytest.mark.parametrize("azimuth_deg", [0.0, 30.0, 45.0, 90.0, 120.0, 179.0])
def test_ellipse_recovers_rotation(azimuth_deg: float) -> None:
    # major axis unit vector in (east, north) for an azimuth clockwise from north
    a = math.radians(azimuth_deg)
    u = np.array([math.sin(a), math.cos(a)])
    v = np.array([math.cos(a), -math.sin(a)])
    cov = 300.0**2 * np.outer(u, u) + 80.0**2 * np.outer(v, v)
    g = GeoUncertainty.from_covariance(cov)
    major, minor, az = g.ellipse(0.95)
    k = chi2_2dof_scale(0.95)
    assert major == pytest.approx(k * 300.0)
    assert minor == pytest.approx(k * 80.0)
    assert az == pytest.approx(azimuth_deg % 180.0, abs=1e-6)


def test_ellipse_isotropic_and_circle() -> None:
    k = chi2_2dof_scale(0.9)
    assert GeoUncertainty.isotropic(10.0).ellipse(0.9) == pytest.approx((k * 10, k * 10, 0.0))
    circle = GeoUncertainty(cov_en_m2=((100.0, 0.0), (0.0, 100.0)))
    assert circle.ellipse(0.9) == pytest.approx((k * 10, k * 10, 0.0))


def test_ellipse_needs_numbers() -> None:
    g = GeoUncertainty(precision=GeoPrecision.SETTLEMENT)
    assert not g.has_numeric
    with pytest.raises(ValueError, match="no numeric"):
        g.ellipse()
    with pytest.raises(ValueError, match="no numeric"):
        g.covariance_en_m2()


def test_covariance_array() -> None:
    assert np.array_equal(GeoUncertainty.isotropic(3.0).covariance_en_m2(), 9.0 * np.eye(2))
    g = GeoUncertainty(cov_en_m2=((4.0, 1.0), (1.0, 9.0)))
    assert g.covariance_en_m2().tolist() == [[4.0, 1.0], [1.0, 9.0]]


def test_singular_psd_covariance_accepted() -> None:
    g = GeoUncertainty(cov_en_m2=((1.0, 1.0), (1.0, 1.0)))  # rank 1, PSD
    _major, minor, az = g.ellipse()
    assert minor == pytest.approx(0.0, abs=1e-9)
    assert az == pytest.approx(45.0)


@pytest.mark.parametrize(
    ("cov", "reason"),
    [
        (((1.0, 2.0), (2.0, 1.0)), "positive semi-definite"),
        (((-1.0, 0.0), (0.0, 1.0)), "positive semi-definite"),
        (((1.0, 0.5), (0.2, 1.0)), "symmetric"),
    ],
)
def test_bad_covariance(cov: object, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        GeoUncertainty(cov_en_m2=cov)


def test_sigma_and_covariance_exclusive() -> None:
    with pytest.raises(ValidationError, match="not both"):
        GeoUncertainty(sigma_m=1.0, cov_en_m2=((1.0, 0.0), (0.0, 1.0)))


def test_covariance_shape_checked() -> None:
    with pytest.raises(ValueError, match="2x2"):
        GeoUncertainty.from_covariance(np.eye(3))


def test_position_bounds() -> None:
    assert Position(lon_deg=180.0, lat_deg=-90.0).as_tuple() == (180.0, -90.0)
    for lon, lat in [(181.0, 0.0), (0.0, 90.5), (math.nan, 0.0), (0.0, math.inf)]:
        with pytest.raises(ValidationError):
            Position(lon_deg=lon, lat_deg=lat)


def test_position_rejects_strings_and_bools() -> None:
    with pytest.raises(ValidationError):
        Position(lon_deg="37.5", lat_deg=47.0)
    with pytest.raises(ValidationError):
        Position(lon_deg=True, lat_deg=47.0)


def test_count_range() -> None:
    assert CountRange.exact(3) == CountRange(low=3, best=3, high=3)
    assert CountRange.one().best == 1
    CountRange(low=0, best=0, high=0)
    with pytest.raises(ValidationError, match=r"low \(5\) > best \(3\)"):
        CountRange(low=5, best=3, high=9)
    with pytest.raises(ValidationError, match=r"high \(2\) < best \(3\)"):
        CountRange(low=1, best=3, high=2)
    with pytest.raises(ValidationError):
        CountRange(low=-1, best=0, high=0)
    with pytest.raises(ValidationError):
        CountRange(low=1.0, best=1, high=1)


def test_time_uncertainty_effective_sigma() -> None:
    assert TimeUncertainty(sigma_s=2.0, precision=TimePrecision.HOUR).effective_sigma_s == 2.0
    assert TimeUncertainty(precision=TimePrecision.HOUR).effective_sigma_s == pytest.approx(3600.0 / math.sqrt(12.0))
    with pytest.raises(ValidationError):
        TimeUncertainty(sigma_s=-1.0)


def test_time_window() -> None:
    t0 = dt.datetime(2025, 4, 20, tzinfo=dt.UTC)
    w = TimeWindow(start=t0, end=t0 + dt.timedelta(minutes=2))
    assert w.duration_s == 120.0
    assert w.contains(t0 + dt.timedelta(seconds=1))
    assert not w.contains(t0 - dt.timedelta(seconds=1))
    TimeWindow(start=t0, end=t0)
    with pytest.raises(ValidationError, match="end is before start"):
        TimeWindow(start=t0, end=t0 - dt.timedelta(microseconds=1))


def test_times_normalised_to_utc() -> None:
    kyiv = dt.timezone(dt.timedelta(hours=3))
    w = TimeWindow(start=dt.datetime(2025, 4, 20, 6, 0, tzinfo=kyiv), end="2025-04-20T03:30:00Z")
    assert w.start == dt.datetime(2025, 4, 20, 3, 0, tzinfo=dt.UTC)
    assert w.start.utcoffset() == dt.timedelta(0)
    assert w.end.tzinfo is dt.UTC
