"""Side of the line as a probability, with the mirror ambiguity.

A located source is a Gaussian (position, 2-D covariance). The probability that it lies in a
party's controlled area is ``Φ(d / σ_n)``, with ``d`` the signed distance to the line in force
at its time and ``σ_n`` the standard deviation of the position along the line's normal there
(the gradient of the signed distance, taken numerically), combined with the line's own error there
where the agreement gives a band between sources (:func:`line_sigma_km`). Where the arrivals also fit a second,
mirrored position (sensors in one row hear a source and its reflection across the row alike),
the two solutions are mixed with weights from their robust misfits: ``w ∝ exp(-cost)``.
Finally a small chance of a gross mislocation (a mixed association, ``N(0, 1.5 km)``) is mixed in,
so that events close to the line are attributed only when that cannot flip them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

from truceline.agreement import Agreement, band_km_at
from truceline.geo.projection import LocalProjection

FloatArray = NDArray[np.float64]

#: Offset for the numerical gradient of the signed distance, metres.
_STEP_M = 50.0


def _signed_km(
    agreement: Agreement, proj: LocalProjection, x: FloatArray, y: FloatArray, times: Sequence[dt.datetime]
) -> FloatArray:
    lon, lat = proj.inverse(x, y)
    out = np.full(x.size, np.nan)
    for idx, res in agreement.query_at_times(lon, lat, list(times)):
        out[idx] = res.sides.signed_distance_km
    return out


def first_party_probability(
    agreement: Agreement,
    proj: LocalProjection,
    times: Sequence[dt.datetime],
    x: FloatArray,
    y: FloatArray,
    cov_xy: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """``P(position in parties[0]'s area)`` and the signed distance (km); NaN where no party holds it."""
    if x.size == 0:
        return np.zeros(0), np.zeros(0)
    times = list(times)
    d = _signed_km(agreement, proj, x, y, times)
    line_km = line_sigma_km(agreement, proj, x, y, times)
    gx = (_signed_km(agreement, proj, x + _STEP_M, y, times) - d) / _STEP_M
    gy = (_signed_km(agreement, proj, x, y + _STEP_M, times) - d) / _STEP_M
    norm = np.hypot(gx, gy)
    ok = np.isfinite(norm) & (norm > 0)
    nx = np.where(ok, gx / np.where(ok, norm, 1.0), 0.0)
    ny = np.where(ok, gy / np.where(ok, norm, 1.0), 0.0)
    var_n = nx * nx * cov_xy[:, 0, 0] + 2 * nx * ny * cov_xy[:, 0, 1] + ny * ny * cov_xy[:, 1, 1]
    # Without a usable normal (a kink, or next to an area's edge) take the widest axis.
    widest = np.linalg.eigvalsh(cov_xy)[:, -1]
    sigma_km = np.hypot(np.sqrt(np.where(ok, var_n, widest)) / 1000.0, line_km)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = ndtr(d / np.maximum(sigma_km, 1e-9))
    return np.where(np.isfinite(d), p, np.nan), d


def line_sigma_km(
    agreement: Agreement, proj: LocalProjection, x: FloatArray, y: FloatArray, times: Sequence[dt.datetime]
) -> FloatArray:
    """The line's own position error along its normal, km (0 where the agreement gives no band): the
    disagreement between two sources is the difference of two errors, so one source's is that over √2."""
    lon, lat = proj.inverse(x, y)
    return band_km_at(agreement, lon, lat, list(times)) / np.sqrt(2.0)


def blame_margin_km(
    agreement: Agreement, proj: LocalProjection, x: FloatArray, y: FloatArray, times: Sequence[dt.datetime],
    fixed_km: float, floor_km: float,
) -> FloatArray:  # fmt: skip
    """How far inside its area a launch must lie to be blamed: where the line has a band, the sources'
    disagreement there (never under ``floor_km``: sources that agree can share an error); elsewhere the
    fixed margin (the drawn line is assumed no better than ``fixed_km``)."""
    lon, lat = proj.inverse(x, y)
    band = band_km_at(agreement, lon, lat, list(times))
    return np.where(band > 0, np.maximum(band, floor_km), fixed_km)


def mirror_weight(cost: FloatArray, cost_mirror: FloatArray, distinct: NDArray[np.bool_]) -> FloatArray:
    """Probability of the mirrored solution from the two robust misfits (0 where they coincide)."""
    delta = np.clip(cost_mirror - cost, -50.0, 50.0)
    w = 1.0 / (1.0 + np.exp(delta))
    return np.where(distinct & np.isfinite(cost_mirror), w, 0.0)


def mirror_start(
    sx: FloatArray, sy: FloatArray, mask: NDArray[np.bool_], x: FloatArray, y: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Each solution reflected across the principal axis of its sensors (the row they form)."""
    w = mask.astype(float)
    n = np.maximum(w.sum(axis=1), 1.0)
    mx = (sx * w).sum(axis=1) / n
    my = (sy * w).sum(axis=1) / n
    dx, dy = (sx - mx[:, None]) * w, (sy - my[:, None]) * w
    cxx, cxy, cyy = (dx * dx).sum(axis=1), (dx * dy).sum(axis=1), (dy * dy).sum(axis=1)
    theta = 0.5 * np.arctan2(2 * cxy, cxx - cyy)
    ux, uy = np.cos(theta), np.sin(theta)
    px, py = x - mx, y - my
    along = px * ux + py * uy
    return mx + 2 * along * ux - px, my + 2 * along * uy - py


def gross_error_mix(p_first: FloatArray, dist_km: FloatArray, p_gross: FloatArray, sigma_km: float) -> FloatArray:
    """``P(side)`` allowing a chance ``p_gross`` that the position is off by ``N(0, sigma_km)`` (a mixed
    association): near the line that chance alone keeps an event from being attributed."""
    with np.errstate(invalid="ignore"):
        broad = ndtr(dist_km / sigma_km)
    return np.where(np.isfinite(dist_km), (1 - p_gross) * p_first + p_gross * broad, p_first)
