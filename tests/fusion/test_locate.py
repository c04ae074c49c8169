"""Location from arrival times and bearings, on hand-built cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from truceline.fusion.locate import LocateInput, locate

C = 340.0


def _inp(sx, sy, t, sigma=0.01, bearings=None, sigma_b=None, wind=(0.0, 0.0), path=0.0):
    sx, sy, t = (np.atleast_2d(np.asarray(a, dtype=float)) for a in (sx, sy, t))
    e = sx.shape[0]
    return LocateInput(
        sx=sx,
        sy=sy,
        t=t,
        sigma_t=np.full(sx.shape, sigma),
        mask=np.ones(sx.shape, dtype=bool),
        c=np.full(e, C),
        wind_u=np.full(e, wind[0]),
        wind_v=np.full(e, wind[1]),
        bearing_deg=None if bearings is None else np.atleast_2d(bearings),
        sigma_b_deg=None if sigma_b is None else np.full(sx.shape, sigma_b),
        sigma_c=0.0,
        path_sigma_s=path,
    )


def _arrivals(sx, sy, src, t0=100.0, wind=(0.0, 0.0)):
    dx, dy = np.asarray(sx) - src[0], np.asarray(sy) - src[1]
    d = np.hypot(dx, dy)
    return t0 + d / (C + (wind[0] * dx + wind[1] * dy) / d)


def test_three_sensors_one_source_exact():
    sx, sy = [0.0, 10_000.0, 5_000.0], [0.0, 0.0, 9_000.0]
    src = (4_000.0, 3_000.0)
    r = locate(_inp(sx, sy, _arrivals(sx, sy, src)), np.array([5_000.0]), np.array([3_000.0]), robust=False)
    assert abs(r.x[0] - src[0]) < 0.01 and abs(r.y[0] - src[1]) < 0.01
    assert abs(r.t0[0] - 100.0) < 1e-6


def test_wind_is_part_of_the_model():
    sx = np.array([0.0, 10_000.0, 5_000.0, 0.0, 10_000.0])
    sy = np.array([0.0, 0.0, 9_000.0, 9_000.0, 9_000.0])
    src, wind = (4_000.0, 3_000.0), (12.0, -5.0)
    t = _arrivals(sx, sy, src, wind=wind)
    with_wind = locate(_inp(sx, sy, t, wind=wind), np.array([5e3]), np.array([4e3]))
    without = locate(_inp(sx, sy, t), np.array([5e3]), np.array([4e3]))
    err_with = np.hypot(with_wind.x[0] - src[0], with_wind.y[0] - src[1])
    err_without = np.hypot(without.x[0] - src[0], without.y[0] - src[1])
    assert err_with < 5.0 < 50.0 < err_without


@pytest.mark.parametrize("robust", [False, True])
def test_covariance_is_calibrated_by_monte_carlo(robust):
    rng = np.random.default_rng(4)
    sx = np.array([0, 5e3, 10e3, 15e3, 2.5e3, 7.5e3, 12.5e3])
    sy = np.array([8e3, 8e3, 8e3, 8e3, -8e3, -8e3, -8e3])
    src = (6_000.0, 2_000.0)
    n = 2000
    t = _arrivals(sx, sy, src)[None, :] + rng.normal(0, 0.05, (n, sx.size))
    r = locate(
        _inp(np.tile(sx, (n, 1)), np.tile(sy, (n, 1)), t, sigma=0.05), np.full(n, 7e3), np.full(n, 0.0), robust=robust
    )
    e = np.column_stack([r.x - src[0], r.y - src[1]])
    inv = np.linalg.inv(r.cov_xy)
    m2 = np.einsum("ei,eij,ej->e", e, inv, e)
    coverage = np.mean(m2 <= 5.991)
    assert 0.93 <= coverage <= 0.97


def test_an_outlier_and_a_bad_clock_are_rejected():
    rng = np.random.default_rng(1)
    sx = np.array([0, 5e3, 10e3, 15e3, 2.5e3, 7.5e3, 12.5e3, 17.5e3])
    sy = np.array([8e3, 8e3, 8e3, 8e3, -8e3, -8e3, -8e3, -8e3])
    src = (8_000.0, -1_000.0)
    t = _arrivals(sx, sy, src) + rng.normal(0, 0.01, sx.size)
    t[2] += 1.5  # a detection of something else
    t[5] += 0.5  # a sensor whose clock is half a second off
    r = locate(_inp(sx, sy, t), np.array([8e3]), np.array([0.0]))
    assert not r.inlier[0, 2] and not r.inlier[0, 5]
    assert r.inlier[0].sum() == 6
    assert np.hypot(r.x[0] - src[0], r.y[0] - src[1]) < 20.0


def test_bearings_resolve_the_mirror_of_a_single_row():
    sx = np.arange(0, 30e3, 5e3)
    sy = np.zeros_like(sx)
    src = (12_000.0, 6_000.0)
    t = _arrivals(sx, sy, src)
    starts = (np.array([12e3, 12e3]), np.array([5e3, -5e3]))  # this side and the mirror side
    both = np.vstack([t, t])
    no_b = locate(_inp(np.vstack([sx, sx]), np.vstack([sy, sy]), both), *starts)
    assert no_b.y[0] > 0 > no_b.y[1]  # times alone fit both sides...
    assert abs(no_b.robust_cost[0] - no_b.robust_cost[1]) < 1e-6  # ...equally well
    az = np.degrees(np.arctan2(src[0] - sx, src[1] - sy)) % 360
    with_b = locate(
        _inp(np.vstack([sx, sx]), np.vstack([sy, sy]), both, bearings=np.vstack([az, az]), sigma_b=3.0), *starts
    )
    assert abs(with_b.x[0] - src[0]) < 5 and abs(with_b.y[0] - src[1]) < 5
    assert with_b.robust_cost[0] + 10 < with_b.robust_cost[1]  # bearings pick the true side


def test_many_events_at_once_with_ragged_station_counts():
    rng = np.random.default_rng(9)
    e, s = 500, 12
    sx = rng.uniform(0, 40e3, (e, s))
    sy = rng.choice([-8e3, 8e3], (e, s))
    src = np.column_stack([rng.uniform(5e3, 35e3, e), rng.uniform(-6e3, 6e3, e)])
    d = np.hypot(sx - src[:, :1], sy - src[:, 1:])
    t = 50.0 + d / C + rng.normal(0, 0.01, (e, s))
    mask = rng.uniform(0, 1, (e, s)) < 0.7
    mask[:, :4] = True
    inp = LocateInput(
        sx=sx,
        sy=sy,
        t=np.where(mask, t, 0.0),
        sigma_t=np.full((e, s), 0.01),
        mask=mask,
        c=np.full(e, C),
        wind_u=np.zeros(e),
        wind_v=np.zeros(e),
        sigma_c=0.0,
        path_sigma_s=0.0,
    )
    x0 = np.where(mask, sx, 0).sum(1) / mask.sum(1)
    y0 = np.zeros(e) + np.sign(src[:, 1]) * 1000.0
    r = locate(inp, x0, y0)
    err = np.hypot(r.x - src[:, 0], r.y - src[:, 1])
    assert np.median(err) < 10.0


def test_a_weather_error_common_to_an_event_moves_it_as_the_covariance_says():
    """Arrivals made with 1.5 m/s more sound speed than the report (a temperature 2.6 °C off): every
    fit moves, and the common-weather covariance (per m/s of error) predicts each move."""
    from dataclasses import replace

    rng = np.random.default_rng(7)
    sx, sy = rng.uniform(-20_000, 20_000, (40, 8)), rng.uniform(-20_000, 20_000, (40, 8))
    src = rng.uniform(-5_000, 5_000, (40, 2))
    dc = 1.5
    d = np.hypot(sx - src[:, :1], sy - src[:, 1:])
    base = _inp(sx, sy, 100.0 + d / (C + dc), sigma=0.01)
    fit = locate(base, src[:, 0], src[:, 1], robust=False)
    shift = np.abs(np.stack([fit.x - src[:, 0], fit.y - src[:, 1]], axis=1))
    assert np.median(np.hypot(*shift.T)) > 5.0  # the error is real
    per_ms = locate(replace(base, common_c_sigma=1.0), src[:, 0], src[:, 1], robust=False)
    predicted = np.sqrt(np.einsum("eii->ei", per_ms.cov - fit.cov)[:, :2]) * dc  # |dx/dc|, |dy/dc| times dc
    assert np.allclose(shift, predicted, rtol=0.1, atol=0.5)
    # The wind's share is there too, and none without a sigma.
    windy = locate(replace(base, common_wind_sigma=1.0), src[:, 0], src[:, 1], robust=False)
    assert np.all(np.einsum("eii->e", windy.cov - fit.cov) > 0)


def test_an_event_s_solution_does_not_depend_on_the_events_solved_with_it():
    """A row stops once it has converged: solved alone or beside a slow one, the same answer."""
    sx = np.array([0.0, 5e3, 10e3, 15e3, 2.5e3, 7.5e3, 12.5e3])
    sy = np.array([-8e3, -8e3, -8e3, -8e3, 8e3, 8e3, 8e3])
    easy = _arrivals(sx, sy, (7e3, 1e3))
    hard = _arrivals(sx, sy, (30e3, 20e3)) + np.array([0.0, 0.3, -0.2, 0.0, 0.1, 0.0, 0.4])  # far, poor fit
    both = _inp(np.vstack([sx, sx]), np.vstack([sy, sy]), np.vstack([easy, hard]))
    alone = _inp(sx, sy, easy)
    r2 = locate(both, np.array([5e3, 5e3]), np.array([0.0, 0.0]))
    r1 = locate(alone, np.array([5e3]), np.array([0.0]))
    assert not r2.converged[1] or r2.x[1] != pytest.approx(r2.x[0])  # the second row is really other work
    for name in ("x", "y", "t0", "cov", "chi2_dof", "robust_cost"):
        np.testing.assert_array_equal(getattr(r2, name)[:1], getattr(r1, name))
    assert np.hypot(r1.x[0] - 7e3, r1.y[0] - 1e3) < 1.0
