"""Compiled inner loops of association (Numba): lookups, a small robust solver, seed search.

Everything here works on flat arrays prepared by :mod:`truceline.fusion.associate`; the order of
work is the order of the *entries* it is given, so that a batch run and a streaming run that
deliver the same detections make the same decisions (see ``docs/fusion.md``).

Parameters are packed in one float array ``prm`` (indices below) so that the compiled
functions keep a stable signature.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Indices into the parameter vector.
P_COARSE_TOL = 0
P_GATE = 1
P_MIN_SEED = 2
P_MIN_STATIONS = 3
P_GATHER_R = 4
P_PATH_SIGMA = 5
P_PATH_FRAC = 6
P_SIGMA_C = 7
P_BACK_S = 8
P_MAX_CHI2 = 9
P_GATE_MAX = 10
P_DUP_S = 11
P_DUP_M = 12
P_GRID = 13
P_FINE_TOL = 14
P_REPEAT_S = 15
P_REPEAT_SHARE = 16
P_NEAREST_N = 17
P_NEAREST_MIN = 18
P_REPEAT_WINDOW = 19
P_YOUNG_N = 20
P_RATIO = 21
N_PRM = 22

MAXM = 128  # most members (sensors) of one event
TUKEY = 4.0


@njit(cache=True)
def weather_at(t, x, y, w_t, w_c, w_u, w_v, raster, x0, y0, cell):
    """Sound speed and grid-axis wind at time ``t`` and point ``(x, y)``."""
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
def member_arrays(mem, n, d_sens, d_t, d_sig):
    """Sensor, arrival time and timing sigma of the detections ``mem[:n]`` (the solver's inputs)."""
    m_sens = np.empty(n, np.int64)
    m_t = np.empty(n)
    m_sig = np.empty(n)
    for i in range(n):
        g = mem[i]
        m_sens[i], m_t[i], m_sig[i] = d_sens[g], d_t[g], d_sig[g]
    return m_sens, m_t, m_sig


@njit(cache=True)
def nearest_free(sens, target, tol, now, w_ptr, w_time, w_id, claimed, heads_only=False):
    """The unclaimed detection of ``sens`` nearest ``target`` within ``tol`` that has arrived by ``now``.

    ``claimed`` is -1 for a free detection, -2 for a free *follower* (one that comes less than the
    train gap after another at its sensor: a later round of a ripple), else the event holding it.
    ``heads_only`` skips followers.
    """
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
def nearest_clear(sens, target, tol, now, w_ptr, w_time, w_id, claimed, ratio):
    """Like :func:`nearest_free`, but only an arrival clearly nearer ``target`` than any other one of
    the sensor (``d_best <= ratio * d_second``): in a train of arrivals 0.5 s apart the nearest is
    taken only when the prediction leaves no doubt which one it is."""
    g, d = nearest_free(sens, target, tol, now, w_ptr, w_time, w_id, claimed)
    if g < 0:
        return g, d
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


@njit(cache=True)
def solve(x, y, t0, n, m_sens, m_t, m_sig, sx, sy, k, wx, prm, cov, inl, iterations, robust=True):
    """Robust Gauss-Newton for one source from ``n`` arrivals; returns ``x, y, t0, chi2/dof, n_inliers``.

    ``wx`` is the weather tuple; ``cov`` (3x3) and ``inl`` (n,) are written.
    """
    w_t, w_c, w_u, w_v, raster, x0, y0, cell = wx
    psig, pfrac, sc = prm[P_PATH_SIGMA], prm[P_PATH_FRAC], prm[P_SIGMA_C]
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
            s = m_sens[i]
            dx, dy = sx[s] - x, sy[s] - y
            d = max(math.hypot(dx, dy), 1.0)
            c, u, v = weather_at(t0, (x + sx[s]) * 0.5, (y + sy[s]) * 0.5, w_t, w_c, w_u, w_v, raster, x0, y0, cell)
            vel = (c + (u * dx + v * dy) / d) * k
            tt = d / vel
            r[i] = m_t[i] - (t0 + tt)
            var[i] = m_sig[i] ** 2 + psig**2 + (pfrac * tt) ** 2 + (tt * sc / vel * k) ** 2
            jx[i] = -dx / d / vel
            jy[i] = -dy / d / vel
        if robust and it >= 1:
            absr = np.abs(r)
            spread = 1.4826 * np.median(absr) if it < iterations - 2 else 0.0
            for i in range(n):
                z = absr[i] / max(math.sqrt(var[i]), spread)
                wgt[i] = (1 - (z / TUKEY) ** 2) ** 2 if z < TUKEY else 0.0
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
        s = m_sens[i]
        dx, dy = sx[s] - x, sy[s] - y
        d = max(math.hypot(dx, dy), 1.0)
        c, u, v = weather_at(t0, (x + sx[s]) * 0.5, (y + sy[s]) * 0.5, w_t, w_c, w_u, w_v, raster, x0, y0, cell)
        vel = (c + (u * dx + v * dy) / d) * k
        tt = d / vel
        res = m_t[i] - (t0 + tt)
        vv = m_sig[i] ** 2 + psig**2 + (pfrac * tt) ** 2 + (tt * sc / vel * k) ** 2
        z = abs(res) / math.sqrt(vv)
        inl[i] = ok and z < TUKEY
        if inl[i]:
            chi2 += z * z
            n_in += 1
    dof = n_in - 3
    return x, y, t0, (chi2 / dof if dof > 0 else 0.0), n_in


@njit(cache=True)
def predict(x, y, t0, cov, s, sx, sy, k, sig_t, wx, prm):
    """Predicted arrival at sensor ``s`` and its standard deviation (model + position uncertainty)."""
    w_t, w_c, w_u, w_v, raster, x0, y0, cell = wx
    dx, dy = sx[s] - x, sy[s] - y
    d = max(math.hypot(dx, dy), 1.0)
    c, u, v = weather_at(t0, (x + sx[s]) * 0.5, (y + sy[s]) * 0.5, w_t, w_c, w_u, w_v, raster, x0, y0, cell)
    vel = (c + (u * dx + v * dy) / d) * k
    tt = d / vel
    j0, j1 = -dx / d / vel, -dy / d / vel
    pv = (
        j0 * j0 * cov[0, 0]
        + 2 * j0 * j1 * cov[0, 1]
        + 2 * j0 * cov[0, 2]
        + j1 * j1 * cov[1, 1]
        + 2 * j1 * cov[1, 2]
        + cov[2, 2]
    )
    var = sig_t**2 + prm[P_PATH_SIGMA] ** 2 + (prm[P_PATH_FRAC] * tt) ** 2 + (tt * prm[P_SIGMA_C] / vel * k) ** 2
    return t0 + tt, math.sqrt(var + max(pv, 0.0)), d
