"""Locate acoustic sources from arrival times (and bearings), many events at once.

Model for detection ``i`` of an event at ``(x, y)`` with origin time ``t0``::

    t_i = t0 + d_i / (c + w · u_i)        d_i = |(x, y) - s_i|,  u_i = (s_i - (x, y)) / d_i
    b_i = azimuth from s_i to (x, y)       (arrays only)

with the effective sound speed ``c`` from the weather and the wind ``w`` (east, north m/s; where
the air goes). Events are solved together: each is a row of a padded ``(events, stations)``
array with a mask, and Gauss-Newton steps (with Levenberg damping) run on all rows at once.
Outliers are down-weighted by iteratively reweighted least squares (Tukey biweight on
standardized residuals, cut at 4 sigma) and flagged.

The covariance of ``(x, y)`` is the inverse of the weighted normal matrix, with each arrival's
variance = timing + path jitter + sound-speed uncertainty (``travel × σ_c / c``)², so that the
95% ellipses are calibrated when those inputs are right; it is inflated by the reduced chi-square
when the fit is worse than the stated errors.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, fields

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Standardized residual beyond which a detection gets zero weight.
TUKEY_C = 4.0
#: Levenberg damping of the normal matrix's diagonal.
LEVENBERG = 1e-3


@dataclass(frozen=True)
class LocateInput:
    """Padded arrays for ``E`` events with up to ``S`` detections each (metres, seconds, degrees).

    Attributes
    ----------
    sx, sy : (E, S)
        Sensor positions (projected metres).
    t : (E, S)
        Arrival times, seconds from any common epoch.
    sigma_t : (E, S)
        Timing standard deviation of each arrival (sensor clock and picking), s.
    mask : (E, S) bool
        Which entries are real detections.
    bearing_deg, sigma_b_deg : (E, S), optional
        Measured back-azimuths (grid north of the projection) and their sigmas; NaN where absent.
    c : (E,) or (E, S)
        Sound speed at each event, or along each path (from temperature), m/s.
    wind_u, wind_v : (E,) or (E, S)
        Wind components, per event or per path, m/s.
    sigma_c : float
        Uncertainty of the effective sound speed, m/s (weather error); keyword-only, no default:
        the caller passes its :class:`~truceline.core.NoiseModel`'s (``sound_speed_sigma_ms``).
    path_sigma_s : float
        Per-path travel-time jitter, s; keyword-only, the model's ``path_sigma_s``.
    common_c_sigma, common_wind_sigma : float
        Error of the weather common to all the paths of one event (the report for its region and
        hour is off), m/s: sound speed and each wind component. It moves every arrival of the event
        together, so it does not show in the residuals; it is added to the covariance as the
        solution's sensitivity to it (0: none).
    """

    sx: FloatArray
    sy: FloatArray
    t: FloatArray
    sigma_t: FloatArray
    mask: BoolArray
    c: FloatArray
    wind_u: FloatArray
    wind_v: FloatArray
    bearing_deg: FloatArray | None = None
    sigma_b_deg: FloatArray | None = None
    _: KW_ONLY
    sigma_c: float
    path_sigma_s: float
    common_c_sigma: float = 0.0
    common_wind_sigma: float = 0.0


@dataclass(frozen=True)
class LocateResult:
    """Solutions, one row per event.

    Attributes
    ----------
    x, y, t0 : (E,)
        Source position (projected metres) and origin time (s, same epoch as the input).
    cov : (E, 3, 3)
        Covariance of ``(x, y, t0)`` (m², m·s, s²).
    residual_rms_s : (E,)
        RMS of the arrival-time residuals of the inliers, s.
    inlier : (E, S) bool
        Detections kept (weight > 0) in the final fit.
    chi2_dof : (E,)
        Reduced chi-square of the final fit (NaN with no degrees of freedom).
    converged : (E,) bool
    n_obs : (E,) int
        Observations in the final fit (inlier arrivals and bearings): ``chi2_dof`` has ``n_obs - 3``
        degrees of freedom.
    robust_cost : (E,)
        Sum over all observations of Tukey's rho of the standardized residual (an outlier costs
        ``TUKEY_C² / 6``): compares fits of the same detections, e.g. a source and its mirror.
    """

    x: FloatArray
    y: FloatArray
    t0: FloatArray
    cov: FloatArray
    residual_rms_s: FloatArray
    inlier: BoolArray
    chi2_dof: FloatArray
    converged: BoolArray
    robust_cost: FloatArray
    n_obs: NDArray[np.int64]

    @property
    def cov_xy(self) -> FloatArray:
        """2×2 position covariance (m²) of each event."""
        return self.cov[:, :2, :2]


def _predict(inp: LocateInput, x: FloatArray, y: FloatArray) -> tuple[FloatArray, ...]:
    dx = inp.sx - x[:, None]
    dy = inp.sy - y[:, None]
    d = np.maximum(np.hypot(dx, dy), 1.0)
    ux, uy = dx / d, dy / d
    v = _col(inp.c) + _col(inp.wind_u) * ux + _col(inp.wind_v) * uy
    return d, ux, uy, v


def _col(a: FloatArray) -> FloatArray:
    """Per-event values as a column; per-path (E, S) values as they are."""
    return a if a.ndim == 2 else a[:, None]


def locate(inp: LocateInput, x0: FloatArray, y0: FloatArray, iterations: int = 12, robust: bool = True) -> LocateResult:
    """Solve every event from starting positions ``x0, y0`` (e.g. the centroid of its sensors).

    Returns positions, origin times, covariances and inlier masks; see :class:`LocateResult`. A row
    stops iterating once it has converged (after the first five steps), so each event's solution
    depends on its own arrivals only, not on the others solved with it.
    """
    x, y = np.array(x0, dtype=float), np.array(y0, dtype=float)
    d, _, _, v = _predict(inp, x, y)
    t0 = np.nanmedian(np.where(inp.mask, inp.t - d / v, np.nan), axis=1)
    converged = np.zeros(x.shape, dtype=bool)
    act = np.arange(x.size)
    sub = inp
    for it in range(iterations):
        step = _step(sub, x[act], y[act], t0[act], robust and it >= 1)
        x[act] += step[:, 0]
        y[act] += step[:, 1]
        t0[act] += step[:, 2]
        converged[act] = np.hypot(step[:, 0], step[:, 1]) < 0.5
        if it >= 4:
            still = ~converged[act]
            if not still.any():
                break
            if not still.all():
                act = act[still]
                sub = _rows(inp, act)
    d, _, _, v = _predict(inp, x, y)
    m = inp.mask
    has_b = inp.bearing_deg is not None and inp.sigma_b_deg is not None
    # Final weights and covariance.
    var = _variance(inp, d, v)
    r, jac = _residuals_and_jacobian(inp, x, y, t0)
    z = np.abs(r) / np.sqrt(var)
    inlier = m & (z < TUKEY_C) if robust else m.copy()
    wt = inlier / var
    cost = _rho(np.where(m, z, 0.0)).sum(axis=1)
    if has_b:
        rb, jb, var_b = _bearing_terms(inp, x, y)
        zb = np.abs(np.nan_to_num(rb)) / np.sqrt(var_b)
        ok_b = m & ~np.isnan(rb) & (zb < TUKEY_C) if robust else m & ~np.isnan(rb)
        cost = cost + _rho(np.where(m & ~np.isnan(rb), zb, 0.0)).sum(axis=1)
        r_all = np.concatenate([np.where(inlier, r, 0.0), np.where(ok_b, np.nan_to_num(rb), 0.0)], axis=1)
        jac = np.concatenate([jac, jb], axis=1)
        wt = np.concatenate([wt, ok_b / var_b], axis=1)
        n_obs = inlier.sum(axis=1) + ok_b.sum(axis=1)
    else:
        r_all = np.where(inlier, r, 0.0)
        n_obs = inlier.sum(axis=1)
    a = np.einsum("es,esi,esj->eij", wt, np.nan_to_num(jac), np.nan_to_num(jac))
    cov = np.linalg.pinv(a)
    common = _common_weather_cov(inp, cov, np.nan_to_num(jac), wt, x, y)
    dof = n_obs - 3
    chi2 = np.einsum("es,es->e", wt, r_all**2)
    chi2_dof = np.where(dof > 0, chi2 / np.maximum(dof, 1), np.nan)
    inflate = np.where(np.isfinite(chi2_dof), np.maximum(chi2_dof, 1.0), 1.0)
    cov = cov * inflate[:, None, None] + common
    n_in = np.maximum(inlier.sum(axis=1), 1)
    rms = np.sqrt(np.where(inlier, r, 0.0).__pow__(2).sum(axis=1) / n_in)
    return LocateResult(x, y, t0, cov, rms, inlier, chi2_dof, converged, cost, n_obs.astype(np.int64))


def _rows(inp: LocateInput, idx: NDArray[np.int64]) -> LocateInput:
    """The events ``idx`` of ``inp`` only."""
    take = {f.name: getattr(inp, f.name) for f in fields(inp)}
    for name in ("sx", "sy", "t", "sigma_t", "mask", "c", "wind_u", "wind_v", "bearing_deg", "sigma_b_deg"):
        if take[name] is not None:
            take[name] = take[name][idx]
    return LocateInput(**take)


def _step(inp: LocateInput, x: FloatArray, y: FloatArray, t0: FloatArray, reweight: bool) -> FloatArray:
    """One damped Gauss-Newton step ``(dx, dy, dt0)`` per event; ``reweight``: Tukey weights on the
    standardized residuals (scale: the stated sigma, or the spread of the residuals while the fit is
    still poor, 1.4826 MAD, so that early steps tolerate everything and outliers drop out as the
    solution settles)."""
    d, _, _, v = _predict(inp, x, y)
    w = inp.mask.astype(float)
    var = _variance(inp, d, v)
    r, jac = _residuals_and_jacobian(inp, x, y, t0)
    if inp.bearing_deg is not None and inp.sigma_b_deg is not None:
        rb, jb, var_b = _bearing_terms(inp, x, y)
        r = np.concatenate([r, rb], axis=1)
        jac = np.concatenate([jac, jb], axis=1)
        var = np.concatenate([var, var_b], axis=1)
        w = np.concatenate([w, np.where(np.isnan(rb), 0.0, w)], axis=1)
    r = np.nan_to_num(r)
    if reweight:
        spread = 1.4826 * np.nanmedian(np.where(w > 0, np.abs(r), np.nan), axis=1, keepdims=True)
        z = np.abs(r) / np.maximum(np.sqrt(var), np.nan_to_num(spread))
        w = w * np.where(z < TUKEY_C, (1 - (z / TUKEY_C) ** 2) ** 2, 0.0)
    wt = w / var
    a = np.einsum("es,esi,esj->eij", wt, jac, jac)
    g = np.einsum("es,esi,es->ei", wt, jac, r)
    a_damped = a + LEVENBERG * np.eye(3) * np.maximum(np.einsum("eii->ei", a), 1e-12)[:, :, None]
    return np.nan_to_num(np.linalg.solve(a_damped + 1e-12 * np.eye(3), -g[:, :, None])[:, :, 0])


def _common_weather_cov(
    inp: LocateInput, cov: FloatArray, jac: FloatArray, wt: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """Covariance of the solution from a weather error shared by all of an event's paths: the shift
    of the least-squares solution per m/s of sound speed and of wind, squared and scaled."""
    if inp.common_c_sigma <= 0 and inp.common_wind_sigma <= 0:
        return np.zeros_like(cov)
    d, ux, uy, v = _predict(inp, x, y)
    dt_dc = np.where(inp.mask, -d / (v * v), 0.0)  # d(travel)/d(speed), s per m/s
    b = np.stack([dt_dc, dt_dc * ux, dt_dc * uy], axis=2)  # (E, S, 3): sound speed, wind u, wind v
    n_t = b.shape[1]
    g = np.einsum("es,esi,esj->eij", wt[:, :n_t], jac[:, :n_t], b)  # J^T W B over the arrivals
    sens = cov @ g  # (E, 3, 3): solution shift per unit weather error
    sig = np.diag([inp.common_c_sigma**2, inp.common_wind_sigma**2, inp.common_wind_sigma**2])
    return np.asarray(sens @ sig @ np.transpose(sens, (0, 2, 1)), dtype=np.float64)


def _rho(z: FloatArray) -> FloatArray:
    """Tukey's biweight loss of standardized residuals."""
    c2 = TUKEY_C**2 / 6.0
    u = np.minimum(np.abs(z) / TUKEY_C, 1.0)
    return c2 * (1.0 - (1.0 - u**2) ** 3)


def _variance(inp: LocateInput, d: FloatArray, v: FloatArray) -> FloatArray:
    travel = d / v
    return inp.sigma_t**2 + inp.path_sigma_s**2 + (travel * inp.sigma_c / v) ** 2


def _residuals_and_jacobian(
    inp: LocateInput, x: FloatArray, y: FloatArray, t0: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Arrival residuals (observed - predicted, s) and d(predicted)/d(x, y, t0)."""
    d, ux, uy, v = _predict(inp, x, y)
    pred = t0[:, None] + d / v
    r = np.where(inp.mask, inp.t - pred, 0.0)
    # d(d/v)/dx with v depending weakly on direction: the wind term changes v by w·du; keep
    # the dominant geometric term -u/v (the wind's share of the derivative is w/c ~ 1-4 %).
    jac = np.stack([-ux / v, -uy / v, np.ones_like(d)], axis=2)
    # Residual r = t - pred, so d r / d p = -d pred / d p: return d pred / d p as the Jacobian
    # of the model and let the normal equations use -g.
    return -r, jac * inp.mask[:, :, None]


def _bearing_terms(inp: LocateInput, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Bearing residuals (predicted - observed, rad), their Jacobian and variance."""
    assert inp.bearing_deg is not None and inp.sigma_b_deg is not None
    dx = x[:, None] - inp.sx
    dy = y[:, None] - inp.sy
    d2 = np.maximum(dx * dx + dy * dy, 1.0)
    pred = np.arctan2(dx, dy)  # azimuth from the sensor to the source, from grid north
    obs = np.radians(inp.bearing_deg)
    r = (pred - obs + np.pi) % (2 * np.pi) - np.pi
    jac = np.stack([dy / d2, -dx / d2, np.zeros_like(dx)], axis=2)
    var = np.radians(np.where(np.isnan(inp.sigma_b_deg), 1.0, inp.sigma_b_deg)) ** 2
    return r, jac, var
