"""Compiled inner loops of association (Numba): lookups, a small robust solver, seed search.

Everything here works on the named bundles of arrays of :mod:`truceline.fusion.bundles`
(:class:`~truceline.fusion.bundles.Sensors` ``net``, :class:`~truceline.fusion.bundles.Weather`
``wx``, :class:`~truceline.fusion.bundles.Arrivals` ``arv``, ...) prepared by
:mod:`truceline.fusion.associate`; the order of work is the order of the *entries* it is given, so
that a batch run and a streaming run that deliver the same detections make the same decisions (see
``docs/fusion.md``).

Parameters are packed in one float array ``prm`` (indices and units below) so that the compiled
functions keep a stable signature.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Indices into the parameter vector ``prm`` (AssocParams.vector), with their units.
P_COARSE_TOL = 0  # s: tolerance of the lookups at a candidate point's neighbours
P_GATE = 1  # standard deviations: gate of an arrival around its prediction
P_MIN_SEED = 2  # count: arrivals (the seed's included) a candidate point or hypothesis needs
P_MIN_STATIONS = 3  # count: inlier sensors an event needs (min_sensors; the quiet pass: evidence_min_sensors)
P_GATHER_R = 4  # projected m: farthest sensor an event gathers arrivals from
P_PATH_SIGMA = 5  # s: path jitter that does not grow with the path (NoiseModel.path_sigma_s)
P_PATH_FRAC = 6  # dimensionless: part of the travel time added as sigma (NoiseModel.path_fraction)
P_SIGMA_C = 7  # m/s: the search's sound-speed sigma (AssocParams.search_sound_speed_sigma_ms)
P_BACK_S = 8  # s: how long after its creation (and its origin) an event takes arrivals
P_MAX_CHI2 = 9  # dimensionless: largest chi-square per degree of freedom of an event
P_GATE_MAX = 10  # s: widest gate, whatever the predicted sigma
P_DUP_S = 11  # s: a new event this close in time to a known one (and P_DUP_M in space) duplicates it
P_DUP_M = 12  # projected m: ... and this close in space
P_GRID = 13  # projected m: spacing of the candidate points
P_FINE_TOL = 14  # s: widest gate of a hypothesis' confirmations
P_REPEAT_S = 15  # s: a later round this close in time to a known one at the same place is that round
P_REPEAT_SHARE = 16  # fraction: of the first round's sensors a later round must be heard by
P_NEAREST_N = 17  # count: sensors nearest a new source that are looked at
P_NEAREST_MIN = 18  # count: of those, how many must have heard it
P_REPEAT_WINDOW = 19  # s: latest a later round may follow the first at the sensor
P_YOUNG_N = 20  # count: an event with fewer members may still be moved to its mirror image
P_RATIO = 21  # fraction: an arrival is taken only when nearer the prediction than this times the next
N_PRM = 22

MAXM = 128  # most members (sensors) of one event
TUKEY = 4.0


# Inlined where it is called (here and in _path, _variance): a bundle passed to a compiled call is
# unpacked field by field at every call, which in the solver's innermost loop cost 7 % of the
# association's time (measured against the positional version it replaced).
@njit(cache=True, inline="always")
def weather_at(t, x, y, wx):
    """Sound speed and grid-axis wind (m/s) at time ``t`` (s) and point ``(x, y)`` (projected m) of weather ``wx``."""
    w_t, w_c, w_u, w_v, raster, x0, y0, cell = wx
    ny, nx = raster.shape
    ix = int((x - x0) // cell)
    iy = int((y - y0) // cell)
    ix = min(max(ix, 0), nx - 1)
    iy = min(max(iy, 0), ny - 1)
    r = raster[iy, ix]
    n = w_t.size
    if n == 1 or t <= w_t[0]:
        return w_c[0, r], w_u[0, r], w_v[0, r]
    if t >= w_t[n - 1]:
        return w_c[n - 1, r], w_u[n - 1, r], w_v[n - 1, r]
    lo, hi = 0, n - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if w_t[mid] <= t:
            lo = mid
        else:
            hi = mid
    f = (t - w_t[lo]) / (w_t[hi] - w_t[lo])
    return (
        w_c[lo, r] * (1 - f) + w_c[hi, r] * f,
        w_u[lo, r] * (1 - f) + w_u[hi, r] * f,
        w_v[lo, r] * (1 - f) + w_v[hi, r] * f,
    )


@njit(cache=True)
def first_at_or_after(w_time, target, lo, hi):
    """Index of the first of ``w_time[lo:hi]`` (sorted) that is >= ``target`` (``hi`` if none)."""
    while lo < hi:
        mid = (lo + hi) // 2
        if w_time[mid] < target:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def member_arrays(mem, n, det):
    """Sensor, arrival time and timing sigma of the detections ``mem[:n]`` (the solver's inputs)."""
    d_sens, d_t, d_sig = det.sens, det.t, det.sig
    m_sens = np.empty(n, np.int64)
    m_t = np.empty(n)
    m_sig = np.empty(n)
    for i in range(n):
        g = mem[i]
        m_sens[i], m_t[i], m_sig[i] = d_sens[g], d_t[g], d_sig[g]
    return m_sens, m_t, m_sig


@njit(cache=True)
def nearest_free(sens, target, tol, now, arv, heads_only=False):
    """The unclaimed detection of ``sens`` nearest ``target`` within ``tol`` that has arrived by ``now``.

    Returns the detection (-1 if none) and its distance from ``target``, s. ``arv.claimed`` is -1
    for a free detection, -2 for a free *follower* (one that comes less than the train gap after
    another at its sensor: a later round of a ripple), else the event holding it. ``heads_only``
    skips followers.
    """
    w_ptr, w_time, w_id, claimed = arv.w_ptr, arv.w_time, arv.w_id, arv.claimed
    free = -1 if heads_only else 0
    lo = w_ptr[sens]
    hi = w_ptr[sens + 1]
    a = first_at_or_after(w_time, target, lo, hi)
    best = -1
    best_d = tol
    j = a
    while j < hi:
        tj = w_time[j]
        if tj - target > best_d or tj > now:
            break
        if claimed[w_id[j]] < free or claimed[w_id[j]] == -1:
            best = w_id[j]
            best_d = tj - target
            break
        j += 1
    j = a - 1
    while j >= lo:
        tj = w_time[j]
        if target - tj > best_d:
            break
        if (claimed[w_id[j]] < free or claimed[w_id[j]] == -1) and tj <= now:
            best = w_id[j]
            best_d = target - tj
            break
        j -= 1
    return best, best_d


@njit(cache=True)
def nearest_clear(sens, target, tol, now, arv, ratio):
    """Like :func:`nearest_free`, but only an arrival clearly nearer ``target`` than any other one of
    the sensor (``d_best <= ratio * d_second``): in a train of arrivals 0.5 s apart the nearest is
    taken only when the prediction leaves no doubt which one it is."""
    g, d = nearest_free(sens, target, tol, now, arv)
    if g < 0:
        return g, d
    w_ptr, w_time, w_id = arv.w_ptr, arv.w_time, arv.w_id
    lo, hi = w_ptr[sens], w_ptr[sens + 1]
    a = first_at_or_after(w_time, target, lo, hi)
    second = 1e300
    for q in range(max(lo, a - 2), min(hi, a + 2)):
        if w_id[q] == g or w_time[q] > now:
            continue
        second = min(second, abs(w_time[q] - target))
    if d > ratio * second:
        return -1, d
    return g, d


@njit(cache=True)
def _inv3(a, out):
    """Inverse of a symmetric 3x3 matrix into ``out``; False if singular."""
    c00 = a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1]
    c01 = a[1, 2] * a[2, 0] - a[1, 0] * a[2, 2]
    c02 = a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0]
    det = a[0, 0] * c00 + a[0, 1] * c01 + a[0, 2] * c02
    if not (abs(det) > 1e-300) or not math.isfinite(det):
        return False
    out[0, 0] = c00 / det
    out[0, 1] = (a[0, 2] * a[2, 1] - a[0, 1] * a[2, 2]) / det
    out[0, 2] = (a[0, 1] * a[1, 2] - a[0, 2] * a[1, 1]) / det
    out[1, 0] = c01 / det
    out[1, 1] = (a[0, 0] * a[2, 2] - a[0, 2] * a[2, 0]) / det
    out[1, 2] = (a[0, 2] * a[1, 0] - a[0, 0] * a[1, 2]) / det
    out[2, 0] = c02 / det
    out[2, 1] = (a[0, 1] * a[2, 0] - a[0, 0] * a[2, 1]) / det
    out[2, 2] = (a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]) / det
    return True


@njit(cache=True, inline="always")
def _path(x, y, t0, qx, qy, k, wx):
    """The path from a source at ``(x, y)`` firing at ``t0`` to a sensor at ``(qx, qy)``.

    Returns ``dx, dy`` (sensor minus source, projected m), the distance ``d`` (projected m, at least
    1), the effective speed ``vel`` (sound speed plus the wind along the path, at the path's
    midpoint and ``t0``, times the scale factor ``k``: projected m/s) and the travel time ``tt``, s.
    """
    dx, dy = qx - x, qy - y
    d = max(math.hypot(dx, dy), 1.0)
    c, u, v = weather_at(t0, (x + qx) * 0.5, (y + qy) * 0.5, wx)
    vel = (c + (u * dx + v * dy) / d) * k
    tt = d / vel
    return dx, dy, d, vel, tt


@njit(cache=True, inline="always")
def _variance(sig_t, tt, vel, k, prm):
    """Variance of an arrival (s²) with timing sigma ``sig_t`` (s) after ``tt`` (s) at ``vel``
    (projected m/s): the noise model's, with the search's sound-speed sigma."""
    return sig_t**2 + prm[P_PATH_SIGMA] ** 2 + (prm[P_PATH_FRAC] * tt) ** 2 + (tt * prm[P_SIGMA_C] / vel * k) ** 2


@njit(cache=True)
def _normal_equations(n, r, var, jx, jy, wgt, a, g):
    """The weighted normal matrix ``a`` (3x3, symmetric, slightly damped) and gradient ``g`` of one step."""
    a[:, :] = 0.0
    g[:] = 0.0
    for i in range(n):
        w = wgt[i] / var[i]
        j0, j1 = jx[i], jy[i]
        a[0, 0] += w * j0 * j0
        a[0, 1] += w * j0 * j1
        a[0, 2] += w * j0
        a[1, 1] += w * j1 * j1
        a[1, 2] += w * j1
        a[2, 2] += w
        g[0] += w * j0 * r[i]
        g[1] += w * j1 * r[i]
        g[2] += w * r[i]
    a[1, 0], a[2, 0], a[2, 1] = a[0, 1], a[0, 2], a[1, 2]
    for q in range(3):
        a[q, q] *= 1.0 + 1e-6


@njit(cache=True)
def solve(x, y, t0, n, m_sens, m_t, m_sig, k, net, wx, prm, cov, inl, iterations, robust=True):
    """Robust Gauss-Newton for one source from ``n`` arrivals; returns ``x, y, t0, chi2/dof, n_inliers``.

    The arrivals are at sensors ``m_sens`` (of ``net``) at times ``m_t`` (s) with timing sigmas
    ``m_sig`` (s); ``(x, y, t0)`` is the start (projected m, s), ``k`` the scale factor.
    ``cov`` (3x3, m² m·s s²) and ``inl`` (n,) are written.
    """
    sx, sy = net.x, net.y
    r = np.empty(n)
    var = np.empty(n)
    jx = np.empty(n)
    jy = np.empty(n)
    wgt = np.ones(n)
    a = np.zeros((3, 3))
    g = np.zeros(3)
    ok = True
    for it in range(iterations):
        for i in range(n):
            dx, dy, d, vel, tt = _path(x, y, t0, sx[m_sens[i]], sy[m_sens[i]], k, wx)
            r[i] = m_t[i] - (t0 + tt)
            var[i] = _variance(m_sig[i], tt, vel, k, prm)
            jx[i] = -dx / d / vel
            jy[i] = -dy / d / vel
        if robust and it >= 1:
            absr = np.abs(r)
            spread = 1.4826 * np.median(absr) if it < iterations - 2 else 0.0
            for i in range(n):
                z = absr[i] / max(math.sqrt(var[i]), spread)
                wgt[i] = (1 - (z / TUKEY) ** 2) ** 2 if z < TUKEY else 0.0
        _normal_equations(n, r, var, jx, jy, wgt, a, g)
        ok = _inv3(a, cov)
        if not ok:
            break
        sx_ = cov[0, 0] * g[0] + cov[0, 1] * g[1] + cov[0, 2] * g[2]
        sy_ = cov[1, 0] * g[0] + cov[1, 1] * g[1] + cov[1, 2] * g[2]
        st = cov[2, 0] * g[0] + cov[2, 1] * g[1] + cov[2, 2] * g[2]
        step = math.hypot(sx_, sy_)
        if step > 20_000.0:  # a wild step from a poor start: take part of it
            f = 20_000.0 / step
            sx_, sy_, st = sx_ * f, sy_ * f, st * f
        x += sx_
        y += sy_
        t0 += st
        if it >= 3 and step < 1.0:
            break
    # Final residuals, inliers and chi-square at the solution.
    chi2 = 0.0
    n_in = 0
    for i in range(n):
        _, _, _, vel, tt = _path(x, y, t0, sx[m_sens[i]], sy[m_sens[i]], k, wx)
        res = m_t[i] - (t0 + tt)
        z = abs(res) / math.sqrt(_variance(m_sig[i], tt, vel, k, prm))
        inl[i] = ok and z < TUKEY
        if inl[i]:
            chi2 += z * z
            n_in += 1
    dof = n_in - 3
    return x, y, t0, (chi2 / dof if dof > 0 else 0.0), n_in


@njit(cache=True)
def predict(x, y, t0, cov, s, k, sig_t, net, wx, prm):
    """Predicted arrival (s) at sensor ``s`` of a source at ``(x, y, t0)`` with covariance ``cov``,
    its standard deviation (s; model with timing sigma ``sig_t`` + position uncertainty) and the
    distance (projected m)."""
    dx, dy, d, vel, tt = _path(x, y, t0, net.x[s], net.y[s], k, wx)
    j0, j1 = -dx / d / vel, -dy / d / vel
    pv = (
        j0 * j0 * cov[0, 0]
        + 2 * j0 * j1 * cov[0, 1]
        + 2 * j0 * cov[0, 2]
        + j1 * j1 * cov[1, 1]
        + 2 * j1 * cov[1, 2]
        + cov[2, 2]
    )
    var = _variance(sig_t, tt, vel, k, prm)
    return t0 + tt, math.sqrt(var + max(pv, 0.0)), d
