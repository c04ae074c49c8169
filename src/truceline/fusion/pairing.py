"""Pairing launches with impacts by ballistic time of flight and range, only where unambiguous.

A launch at ``(x_L, t_L)`` and an impact at ``(x_I, t_I)``, ``d = |x_I - x_L|`` apart, can be one
round of a weapon family ``k`` of :data:`BALLISTICS` when ``d`` lies in the family's range and the
time of flight ``Δt = t_I - t_L`` in ``d / v_k · (1 ± tol)`` (``v_k`` the family's mean horizontal
speed; the tolerance spans charges and elevations), blurred by the measurement errors: the two
origin times' variances and the range's, ``uᵀ (C_L + C_I) u / v_k²`` (``u`` the unit vector from
launch to impact, ``C`` the position covariances). The density of the impact given the launch is

    f = (1/K) Σ_k  1[d in range_k] / (π (r_max² - r_min²)) · [Φ((Δt - a_k)/σ_k) - Φ((Δt - b_k)/σ_k)] / (b_k - a_k)

(a target anywhere in the family's annulus; ``[a_k, b_k]`` the time-of-flight interval; the families
equally likely a priori), and by symmetry the same expression is the density of the launch given
the impact. Against it stands chance: an unrelated impact (launch) there, at the local rate ``λ``
of impacts (launches) per m² and second, counted in the data around that impact (launch; a ball of
``rate_radius_m`` in space and ``rate_window_s`` either side in time). With even odds that a
launch's impact was located at all, the probability that impact ``I`` is launch ``L``'s round
among its candidates ``j`` or none is

    P_L(I) = (f_LI / λ_I) / (1 + Σ_j f_Lj / λ_j),

and likewise ``P_I(L)`` over the launches that could have fired ``I``. A pair is accepted only when
both are at least ``min_probability``: two launches equally able to reach one impact, or the
interchangeable rounds of a salvo, are left unpaired rather than guessed (a wrong pair can blame
the wrong party). Both above one half makes the accepted pairs disjoint.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from scipy.special import ndtr

from truceline.core.enums import WeaponClass

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Ballistic:
    """A family of weapons as pairing sees it: range (km) and mean horizontal projectile speed (m/s)."""

    name: str
    weapon_class: WeaponClass
    min_range_km: float
    max_range_km: float
    speed_ms: float


#: Mean horizontal speeds of the systems on the line (times of flight ~ range / speed).
BALLISTICS: tuple[Ballistic, ...] = (
    Ballistic("mortar_82mm", WeaponClass.MORTAR_LE_120MM, 0.1, 4.5, 120.0),
    Ballistic("mortar_120mm", WeaponClass.MORTAR_LE_120MM, 0.3, 7.5, 150.0),
    Ballistic("howitzer_122mm", WeaponClass.ARTILLERY_GE_100MM, 3.5, 16.0, 330.0),
    Ballistic("howitzer_152mm", WeaponClass.ARTILLERY_GE_100MM, 4.5, 25.0, 380.0),
    Ballistic("howitzer_155mm", WeaponClass.ARTILLERY_GE_100MM, 4.5, 31.0, 400.0),
    Ballistic("mlrs_122mm", WeaponClass.MLRS, 4.5, 21.0, 450.0),
    Ballistic("tank_125mm", WeaponClass.TANK, 0.8, 5.5, 1200.0),
)


@dataclass(frozen=True)
class Pairs:
    """Pairs found: event indices, the most likely weapon family, its relative speed misfit, and the
    smaller of the two pairing probabilities (the launch's view and the impact's)."""

    launch: IntArray
    impact: IntArray
    ballistic: IntArray
    misfit: FloatArray
    probability: FloatArray


@dataclass(frozen=True)
class PairingParams:
    """Pairing's settings: the family speed tolerance (fraction), the probability a pair needs, the
    longest time of flight considered (s), and the neighbourhood of the local event rates (m, s)."""

    speed_tolerance: float = 0.06
    min_probability: float = 0.95
    max_tof_s: float = 300.0
    rate_radius_m: float = 31_000.0
    rate_window_s: float = 3600.0


def _empty() -> Pairs:
    z = np.zeros(0, np.int64)
    return Pairs(z, z, z, np.zeros(0), np.zeros(0))


def _candidates(li: IntArray, ii: IntArray, t0: FloatArray, max_tof_s: float) -> tuple[IntArray, IntArray]:
    """Every (launch, later impact) within ``max_tof_s``, as two aligned index arrays."""
    order = np.argsort(t0[ii])
    ii, ti = ii[order], t0[ii][order]
    lo = np.searchsorted(ti, t0[li] + 0.5)
    hi = np.searchsorted(ti, t0[li] + max_tof_s)
    counts = hi - lo
    if counts.sum() == 0:
        return li[:0], li[:0]
    a = np.repeat(li, counts)
    b = ii[np.concatenate([np.arange(s, e) for s, e in zip(lo, hi, strict=True)])]
    return a, b


def _density(
    dist: FloatArray, dt: FloatArray, var_t: FloatArray, var_d: FloatArray, tol: float
) -> tuple[FloatArray, IntArray, FloatArray]:
    """Density (per m² and s) of the pair under the families, the most likely family, its speed misfit."""
    total = np.zeros(dist.size)
    best = np.zeros(dist.size)
    fam = np.full(dist.size, -1, np.int64)
    for k, w in enumerate(BALLISTICS):
        r_lo, r_hi = w.min_range_km * 1000.0, w.max_range_km * 1000.0
        sd = np.sqrt(var_d)
        in_range = (dist >= r_lo - 2 * sd) & (dist <= r_hi + 2 * sd)
        area = np.pi * (r_hi**2 - r_lo**2)
        tau = dist / w.speed_ms
        a, b = tau * (1 - tol), tau * (1 + tol)
        sig = np.sqrt(var_t + var_d / w.speed_ms**2)
        p_t = (ndtr((dt - a) / sig) - ndtr((dt - b) / sig)) / np.maximum(b - a, 1e-9)
        f = np.where(in_range, p_t / area, 0.0) / len(BALLISTICS)
        total += f
        better = f > best
        best = np.where(better, f, best)
        fam = np.where(better, k, fam)
    misfit = np.full(dist.size, np.nan)
    ok = fam >= 0
    speeds = np.array([w.speed_ms for w in BALLISTICS])
    misfit[ok] = np.abs(dist[ok] / np.maximum(dt[ok], 1e-9) / speeds[fam[ok]] - 1.0)
    return total, fam, misfit


def _rates(
    at: IntArray, of: IntArray, t0: FloatArray, x: FloatArray, y: FloatArray, radius_m: float, window_s: float
) -> FloatArray:
    """Local rate (per m² and s) of events ``of`` around each event ``at``: the count in a ball of
    ``radius_m`` (time scaled so that ``window_s`` spans the radius; the event itself counts when it
    is one of ``of``), at least one, over its volume."""
    c = radius_m / window_s
    tree = cKDTree(np.column_stack([x[of], y[of], t0[of] * c]))
    n = tree.query_ball_point(np.column_stack([x[at], y[at], t0[at] * c]), radius_m, return_length=True)
    volume = 4.0 / 3.0 * np.pi * radius_m**2 * window_s
    return np.maximum(np.asarray(n, np.float64), 1.0) / volume


def _share(owner: IntArray, weight: FloatArray, n: int) -> FloatArray:
    """Each candidate's probability among its owner's candidates and the hypothesis of none."""
    total = np.bincount(owner, weights=weight, minlength=n)
    return weight / (1.0 + total[owner])


def pair_events(
    is_launch: NDArray[np.bool_],
    is_impact: NDArray[np.bool_],
    t0: FloatArray,
    x: FloatArray,
    y: FloatArray,
    cov_xy: FloatArray,
    time_sigma_s: FloatArray,
    params: PairingParams | None = None,
) -> Pairs:
    """Pair launches with impacts (indices into the given event arrays) where the pair is unambiguous.

    ``cov_xy`` is each event's position covariance (m², the frame of ``x``, ``y``; shape ``(n, 2, 2)``)
    and ``time_sigma_s`` its origin time's standard deviation (s).
    """
    p = params or PairingParams()
    li, ii = np.flatnonzero(is_launch), np.flatnonzero(is_impact)
    if li.size == 0 or ii.size == 0:
        return _empty()
    a, b = _candidates(li, ii, t0, p.max_tof_s)
    if a.size == 0:
        return _empty()
    dx, dy = x[b] - x[a], y[b] - y[a]
    dist = np.hypot(dx, dy)
    u = np.stack([dx, dy], -1) / np.maximum(dist, 1.0)[:, None]
    c = cov_xy[a] + cov_xy[b]
    var_d = np.maximum(np.einsum("ni,nij,nj->n", u, c, u), 0.0)
    var_t = time_sigma_s[a] ** 2 + time_sigma_s[b] ** 2
    f, fam, misfit = _density(dist, t0[b] - t0[a], var_t, var_d, p.speed_tolerance)
    keep = f > 0
    a, b, f, fam, misfit = a[keep], b[keep], f[keep], fam[keep], misfit[keep]
    if a.size == 0:
        return _empty()
    n = t0.size
    lam_impact = np.zeros(n)
    lam_launch = np.zeros(n)
    lam_impact[ii] = _rates(ii, ii, t0, x, y, p.rate_radius_m, p.rate_window_s)
    lam_launch[li] = _rates(li, li, t0, x, y, p.rate_radius_m, p.rate_window_s)
    p_launch_view = _share(a, f / lam_impact[b], n)
    p_impact_view = _share(b, f / lam_launch[a], n)
    prob = np.minimum(p_launch_view, p_impact_view)
    ok = prob >= max(p.min_probability, 0.5)
    order = np.argsort(a[ok], kind="stable")
    sel = np.flatnonzero(ok)[order]
    return Pairs(a[sel], b[sel], fam[sel], misfit[sel], prob[sel])
