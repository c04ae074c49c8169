"""Compiled search for new sources (Numba): candidate points, four-arrival hypotheses, growth,
mirror images, and later rounds of a ripple. Called by :mod:`truceline.fusion.seeding`.

The kernels take the bundles of :mod:`truceline.fusion.bundles`: ``det`` (Detections), ``arv``
(Arrivals), ``tab`` (Tables), ``net`` (Sensors), ``wx`` (Weather), ``ev`` (Events) and the
parameter vector ``prm`` (:mod:`truceline.fusion.kernels`). Times are s, positions projected m.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from truceline.fusion.kernels import (
    MAXM,
    P_COARSE_TOL,
    P_DUP_M,
    P_FINE_TOL,
    P_GATE,
    P_GATE_MAX,
    P_GATHER_R,
    P_GRID,
    P_MAX_CHI2,
    P_MIN_SEED,
    P_MIN_STATIONS,
    P_NEAREST_MIN,
    P_NEAREST_N,
    P_RATIO,
    first_at_or_after,
    member_arrays,
    nearest_clear,
    nearest_free,
    predict,
    solve,
)


@njit(cache=True)
def _tt_simple(px, py, qx, qy, c, u, v, k):
    """Travel time (s) from ``(px, py)`` to ``(qx, qy)`` in a uniform sound speed ``c`` and wind ``(u, v)``."""
    dx, dy = qx - px, qy - py
    d = max(math.hypot(dx, dy), 1.0)
    return d / ((c + (u * dx + v * dy) / d) * k)


@njit(cache=True)
def _free_within(sens, target, tol, now, arv, out):
    """Up to ``out.size`` free arrivals of ``sens`` within ``tol`` of ``target``, nearest first; returns the count."""
    w_ptr, w_time, w_id, claimed = arv.w_ptr, arv.w_time, arv.w_id, arv.claimed
    hi = w_ptr[sens + 1]
    a = first_at_or_after(w_time, target - tol, w_ptr[sens], hi)
    n = 0
    dist = np.empty(out.size)
    j = a
    while j < hi and w_time[j] <= target + tol and w_time[j] <= now:
        if claimed[w_id[j]] == -1:
            d = abs(w_time[j] - target)
            if n < out.size:
                out[n] = w_id[j]
                dist[n] = d
                n += 1
            else:
                worst = 0
                for q in range(1, n):
                    if dist[q] > dist[worst]:
                        worst = q
                if d < dist[worst]:
                    out[worst] = w_id[j]
                    dist[worst] = d
        j += 1
    return n


@njit(cache=True)
def _score_point(px, py, s0, tj, nbs, tol, need, now, c0, u0, v0, k, arv, net):
    """Arrivals matched at a point's neighbours: count (with the seed) and a soft score (1 per exact match)."""
    sx, sy = net.x, net.y
    t0 = tj - _tt_simple(px, py, sx[s0], sy[s0], c0, u0, v0, k)
    n, score = 1, 1.0
    n_nb = nbs.size
    for q in range(n_nb):
        if n + (n_nb - q) < need:
            break
        sl = nbs[q]
        pred = t0 + _tt_simple(px, py, sx[sl], sy[sl], c0, u0, v0, k)
        g, dd = nearest_free(sl, pred, tol, now, arv, True)
        if g >= 0:
            n += 1
            score += 1.0 - (dd / tol) ** 2
    return n, score


@njit(cache=True)
def _mirror(x, y, mem, m, det, net):
    """``(x, y)`` reflected across the principal axis of the sensors of the detections ``mem[:m]``."""
    d_sens, sx, sy = det.sens, net.x, net.y
    cx, cy = 0.0, 0.0
    for i in range(m):
        cx += sx[d_sens[mem[i]]]
        cy += sy[d_sens[mem[i]]]
    cx /= m
    cy /= m
    sxx, sxy, syy = 0.0, 0.0, 0.0
    for i in range(m):
        dx, dy = sx[d_sens[mem[i]]] - cx, sy[d_sens[mem[i]]] - cy
        sxx += dx * dx
        sxy += dx * dy
        syy += dy * dy
    th = 0.5 * math.atan2(2 * sxy, sxx - syy)
    ux, uy = math.cos(th), math.sin(th)
    px, py = x - cx, y - cy
    along = px * ux + py * uy
    return cx + 2 * along * ux - px, cy + 2 * along * uy - py


@njit(cache=True)
def _heard_by_nearest(x, y, s0, m, mem, det, tab, net, prm):
    """Whether enough of the sensors nearest ``(x, y)`` are among the members (a real source is
    heard loudest nearby; a fit assembled from unrelated arrivals usually lies where they were not)."""
    d_sens, near_ptr, near_idx, sx, sy = det.sens, tab.near_ptr, tab.near_idx, net.x, net.y
    nn = int(prm[P_NEAREST_N])
    best_d = np.full(nn, 1e300)
    best_s = np.full(nn, -1, np.int64)
    for q in range(near_ptr[s0], near_ptr[s0 + 1]):
        s = near_idx[q]
        d = math.hypot(sx[s] - x, sy[s] - y)
        if d < best_d[nn - 1]:
            i = nn - 1
            while i > 0 and best_d[i - 1] > d:
                best_d[i] = best_d[i - 1]
                best_s[i] = best_s[i - 1]
                i -= 1
            best_d[i] = d
            best_s[i] = s
    hits = 0
    for i in range(nn):
        for p in range(m):
            if d_sens[mem[p]] == best_s[i]:
                hits += 1
                break
    return hits >= prm[P_NEAREST_MIN]


@njit(cache=True)
def _mirror_fits(e, x, y, ev, det, net, wx, prm):
    """Whether event ``e``'s arrivals also fit a source at ``(x, y)``: its other local solution.

    Solved from the reflection across its sensors' row, and from ``(x, y)`` itself.
    """
    n = ev.n[e]
    m_sens, m_t, m_sig = member_arrays(ev.mem[e], n, det)
    cov = np.zeros((3, 3))
    inl = np.zeros(n, np.bool_)
    mx, my = _mirror(ev.x[e], ev.y[e], ev.mem[e], n, det, net)
    for start in range(2):
        x0, y0 = (mx, my) if start == 0 else (x, y)
        qx, qy, _, chi2, n_in = solve(x0, y0, ev.t0[e], n, m_sens, m_t, m_sig, ev.k[e], net, wx, prm, cov, inl, 10)
        if n_in >= n - 1 and chi2 <= prm[P_MAX_CHI2] and math.hypot(qx - x, qy - y) < prm[P_DUP_M]:
            return True
    return False


@njit(cache=True)
def _gather(x, y, t0, cov, s0, j, now, k, arv, tab, net, wx, prm, out):
    """Members for a source at ``(x, y, t0)``: the seed plus the best free arrival per sensor in reach."""
    near_ptr, near_idx, sx, sy = tab.near_ptr, tab.near_idx, net.x, net.y
    out[0] = j
    n = 1
    for q in range(near_ptr[s0], near_ptr[s0 + 1]):
        s = near_idx[q]
        if s == s0 or n >= MAXM:
            continue
        if math.hypot(sx[s] - x, sy[s] - y) > prm[P_GATHER_R]:
            continue
        pred, sd, _ = predict(x, y, t0, cov, s, k, 0.05, net, wx, prm)
        tol = min(prm[P_GATE] * sd, prm[P_GATE_MAX])
        g, _ = nearest_clear(s, pred, tol, now, arv, prm[P_RATIO])
        if g >= 0:
            out[n] = g
            n += 1
    return n


@njit(cache=True)
def _grow(x, y, t0, m, s0, j, now, k, det, arv, tab, net, wx, prm, res_cov, res_mem):
    """Solve, gather every sensor in reach, solve again (twice); returns ``(members, x, y, t0, chi2)``.

    The members are ``res_mem[:m]`` on entry and on return; ``res_cov`` gets the covariance.
    """
    chi2 = 0.0
    for rnd in range(3):
        m_sens, m_t, m_sig = member_arrays(res_mem, m, det)
        inl = np.zeros(m, np.bool_)
        x, y, t0, chi2, n_in = solve(x, y, t0, m, m_sens, m_t, m_sig, k, net, wx, prm, res_cov, inl, 10)
        if n_in < prm[P_MIN_STATIONS] or not inl[0] or not math.isfinite(x):
            return 0, 0.0, 0.0, 0.0, 0.0
        if rnd == 2:
            kept = 0
            for i in range(m):
                if inl[i]:
                    res_mem[kept] = res_mem[i]
                    kept += 1
            if not _heard_by_nearest(x, y, s0, kept, res_mem, det, tab, net, prm):
                return 0, 0.0, 0.0, 0.0, 0.0
            return kept, x, y, t0, chi2
        m = _gather(x, y, t0, res_cov, s0, j, now, k, arv, tab, net, wx, prm, res_mem)
    return 0, 0.0, 0.0, 0.0, 0.0


@njit(cache=True)
def _bin_can_match(s0, b, tj, now, c0, u0, v0, k, arv, tab, prm):
    """Quick test: can any candidate point of bin ``b`` of sensor ``s0`` gather enough neighbours?

    ``(c0, u0, v0)`` is the weather at the seed (m/s), ``k`` its scale factor.
    """
    tol = prm[P_COARSE_TOL]
    ub_ptr, ub_sens, ub_lo, ub_hi = tab.ub_ptr, tab.ub_sens, tab.ub_lo_m, tab.ub_hi_m
    sb = s0 * tab.n_bins + b
    wind = math.hypot(u0, v0)
    v_hi, v_lo = (c0 + wind) * k, max(c0 - wind, 200.0) * k
    hits = 0
    for q in range(ub_ptr[sb], ub_ptr[sb + 1]):
        lo = tj + ub_lo[q] / (v_hi if ub_lo[q] > 0 else v_lo) - tol
        hi = tj + ub_hi[q] / (v_lo if ub_hi[q] > 0 else v_hi) + tol
        g, _ = nearest_free(ub_sens[q], 0.5 * (lo + hi), 0.5 * (hi - lo), now, arv, True)
        if g >= 0:
            hits += 1
    return hits + 1 >= prm[P_MIN_SEED]


@njit(cache=True)
def _best_point(s0, b, tj, now, c0, u0, v0, k, arv, tab, net, prm):
    """The candidate point of bin ``b`` of sensor ``s0`` with most matched neighbours (then the best
    soft score); returns ``(matches, candidate)``."""
    sb = s0 * tab.n_bins + b
    best_n, best_r, best_c = 0, -1.0, -1
    for ci in range(tab.sb_ptr[sb], tab.sb_ptr[sb + 1]):
        need = max(best_n, int(prm[P_MIN_SEED]))
        n, r = _score_point(
            tab.cand_x[ci], tab.cand_y[ci], s0, tj, tab.cand_nb[ci], prm[P_COARSE_TOL], need, now, c0, u0, v0, k, arv,
            net,
        )  # fmt: skip
        if n > best_n or (n == best_n and r > best_r):
            best_n, best_r, best_c = n, r, ci
    return best_n, best_c


@njit(cache=True)
def _best_hypothesis(j, px, py, t0c, nbs, now, k, det, arv, net, wx, prm):
    """The seed ``j`` with one arrival at each of three near neighbours ``nbs`` of the point ``(px, py)``
    (every combination of the arrivals within the coarse tolerance of the point's prediction, origin
    ``t0c``), solved exactly; the one most neighbours confirm wins.

    Returns ``(confirmations, x, y, t0, cov)`` (confirmations -1: none; ``cov`` is the last solution's).
    """
    d_sens, d_t, d_sig, sx, sy = det.sens, det.t, det.sig, net.x, net.y
    s0, tj = d_sens[j], d_t[j]
    c0, u0, v0 = det.c[j], det.u[j], det.v[j]
    tol = prm[P_COARSE_TOL]
    n_nb = nbs.size
    cand = np.full((n_nb, 3), -1, np.int64)
    ncand = np.zeros(n_nb, np.int64)
    for q in range(n_nb):
        sl = nbs[q]
        pred = t0c + _tt_simple(px, py, sx[sl], sy[sl], c0, u0, v0, k)
        ncand[q] = _free_within(sl, pred, tol, now, arv, cand[q])
    base = np.empty(5, np.int64)
    nbase = 0
    for q in range(n_nb):
        if ncand[q] > 0 and nbase < 5:
            base[nbase] = q
            nbase += 1
    m_sens = np.empty(4, np.int64)
    m_t = np.empty(4)
    m_sig = np.empty(4)
    inl4 = np.zeros(4, np.bool_)
    cov4 = np.zeros((3, 3))
    m_sens[0], m_t[0], m_sig[0] = s0, tj, d_sig[j]
    h_best, h_score, hx, hy, ht = -1, -1.0, px, py, t0c
    fine_tol = prm[P_FINE_TOL]
    for i1 in range(nbase):
        for i2 in range(i1 + 1, nbase):
            for i3 in range(i2 + 1, nbase):
                qa, qb, qc = base[i1], base[i2], base[i3]
                for ca in range(ncand[qa]):
                    for cb in range(ncand[qb]):
                        for cc in range(ncand[qc]):
                            ga, gb, gc = cand[qa, ca], cand[qb, cb], cand[qc, cc]
                            m_sens[1], m_t[1], m_sig[1] = d_sens[ga], d_t[ga], d_sig[ga]
                            m_sens[2], m_t[2], m_sig[2] = d_sens[gb], d_t[gb], d_sig[gb]
                            m_sens[3], m_t[3], m_sig[3] = d_sens[gc], d_t[gc], d_sig[gc]
                            x4, y4, t4, c2, n4 = solve(
                                px, py, t0c, 4, m_sens, m_t, m_sig, k, net, wx, prm, cov4, inl4, 6, False
                            )
                            if n4 < 4 or not math.isfinite(x4) or c2 > prm[P_MAX_CHI2]:
                                continue
                            if math.hypot(x4 - px, y4 - py) > 3.0 * prm[P_GRID]:
                                continue
                            n_sup, score = 1, 1.0
                            for q in range(n_nb):
                                pred, sd, _ = predict(x4, y4, t4, cov4, nbs[q], k, 0.05, net, wx, prm)
                                gate = min(prm[P_GATE] * sd, fine_tol)
                                g, dd = nearest_free(nbs[q], pred, gate, now, arv, True)
                                if g >= 0:
                                    n_sup += 1
                                    score += 1.0 - (dd / gate) ** 2
                            if score > h_score:
                                h_best, h_score, hx, hy, ht = n_sup, score, x4, y4, t4
    return h_best, hx, hy, ht, cov4


@njit(cache=True)
def _seed(j, b, now, det, arv, tab, net, wx, prm, res_cov, res_mem):
    """Search bin ``b`` of detection ``j``'s sensor for a new source.

    Returns ``(n_members, x, y, t0, chi2)`` (0 members: none); the members are ``res_mem[:n]``,
    the covariance ``res_cov``.
    """
    s0 = det.sens[j]
    tj = det.t[j]
    c0, u0, v0, k = det.c[j], det.u[j], det.v[j], net.k[s0]
    if not _bin_can_match(s0, b, tj, now, c0, u0, v0, k, arv, tab, prm):
        return 0, 0.0, 0.0, 0.0, 0.0
    best_n, best_c = _best_point(s0, b, tj, now, c0, u0, v0, k, arv, tab, net, prm)
    if best_n < prm[P_MIN_SEED]:
        return 0, 0.0, 0.0, 0.0, 0.0
    px, py = tab.cand_x[best_c], tab.cand_y[best_c]
    nbs = tab.cand_nb[best_c]
    t0c = tj - _tt_simple(px, py, net.x[s0], net.y[s0], c0, u0, v0, k)
    h_best, px, py, t0, cov4 = _best_hypothesis(j, px, py, t0c, nbs, now, k, det, arv, net, wx, prm)
    if h_best < prm[P_MIN_SEED]:
        return 0, 0.0, 0.0, 0.0, 0.0
    m = 1
    res_mem[0] = j
    for q in range(nbs.size):
        pred, sd, _ = predict(px, py, t0, cov4, nbs[q], k, 0.05, net, wx, prm)
        g, _ = nearest_free(nbs[q], pred, min(prm[P_GATE] * sd, prm[P_FINE_TOL]), now, arv, True)
        if g >= 0:
            res_mem[m] = g
            m += 1
    m, x, y, t0, chi2 = _grow_both(px, py, t0, m, s0, j, now, k, det, arv, tab, net, wx, prm, res_cov, res_mem)
    if m == 0:
        return 0, 0.0, 0.0, 0.0, 0.0
    if m < prm[P_MIN_STATIONS] or chi2 > prm[P_MAX_CHI2]:
        return 0, 0.0, 0.0, 0.0, 0.0
    return m, x, y, t0, chi2


@njit(cache=True)
def _grow_both(px, py, t0, m, s0, j, now, k, det, arv, tab, net, wx, prm, res_cov, res_mem):
    """Grow from the hypothesis ``(px, py, t0)`` with members ``res_mem[:m]`` and from its mirror image
    across the row its sensors form (a row hears a source and its reflection alike); keep the one
    more sensors confirm (then the lower chi2). Returns :func:`_grow`'s tuple; the members and
    covariance of the one kept are in ``res_mem`` and ``res_cov``."""
    start = res_mem[:m].copy()
    mx, my = _mirror(px, py, start, m, det, net)
    best = (0, 0.0, 0.0, 0.0, 0.0)
    best_mem = np.empty(MAXM, np.int64)
    best_cov = np.zeros((3, 3))
    for attempt in range(2):
        res_mem[:m] = start
        gx, gy = (px, py) if attempt == 0 else (mx, my)
        out = _grow(gx, gy, t0, m, s0, j, now, k, det, arv, tab, net, wx, prm, res_cov, res_mem)
        if out[0] > best[0] or (out[0] == best[0] and out[0] > 0 and out[4] < best[4]):
            best = out
            best_mem[: out[0]] = res_mem[: out[0]]
            best_cov[:, :] = res_cov
    if best[0] > 0:
        res_mem[: best[0]] = best_mem[: best[0]]
        res_cov[:, :] = best_cov
    return best


@njit(cache=True)
def _repeat(j, x, y, k, now, det, arv, tab, net, wx, prm, out):
    """Detection ``j`` as a later round from the position ``(x, y)`` of a known event (ripple fire).

    With the position fixed only the origin time is free, so arrivals of the other rounds of a
    ripple (0.5 s apart) cannot be traded against a shift of position. Returns ``(members, t0,
    chi2/dof)``; the members are in ``out``.
    """
    d_sens, d_t, d_sig, sx, sy = det.sens, det.t, det.sig, net.x, net.y
    zero = np.zeros((3, 3))
    s = d_sens[j]
    tt, sd, dist = predict(x, y, 0.0, zero, s, k, d_sig[j], net, wx, prm)
    if dist > prm[P_GATHER_R]:
        return 0, 0.0, 0.0
    t0 = d_t[j] - tt
    m = 0
    for _ in range(2):
        out[0] = j
        m = 1
        sw, swt = 1.0 / sd**2, (d_t[j] - tt) / sd**2
        for q in range(tab.near_ptr[s], tab.near_ptr[s + 1]):
            s2 = tab.near_idx[q]
            if s2 == s or m >= MAXM:
                continue
            if math.hypot(sx[s2] - x, sy[s2] - y) > prm[P_GATHER_R]:
                continue
            p2, sd2, _ = predict(x, y, t0, zero, s2, k, 0.05, net, wx, prm)
            g, _ = nearest_clear(s2, p2, min(prm[P_GATE] * sd2, prm[P_GATE_MAX]), now, arv, prm[P_RATIO])
            if g >= 0:
                out[m] = g
                m += 1
                w = 1.0 / (sd2**2 + d_sig[g] ** 2)
                sw += w
                swt += w * (d_t[g] - (p2 - t0))
        t0 = swt / sw
    # Inliers and chi-square with one free parameter.
    kept, chi2 = 0, 0.0
    for i in range(m):
        g = out[i]
        p2, sd2, _ = predict(x, y, t0, zero, d_sens[g], k, d_sig[g], net, wx, prm)
        z = abs(d_t[g] - p2) / sd2
        if z < 4.0:
            out[kept] = g
            kept += 1
            chi2 += z * z
        elif i == 0:
            return 0, 0.0, 0.0
    if kept < prm[P_MIN_STATIONS] or chi2 / max(kept - 1, 1) > prm[P_MAX_CHI2]:
        return 0, 0.0, 0.0
    return kept, t0, chi2 / max(kept - 1, 1)
