"""Compiled association loop (Numba): attach to known events, else seed a new one (the search for
new sources is in :mod:`truceline.fusion.hypotheses`).

Each *entry* is ``(time, detection, lag bin)``. Processing an entry, in this order:

1. if the detection is taken, nothing;
2. **attach**: if a recent event predicts an arrival at the detection's sensor within
   ``gate`` standard deviations (model + the event's own uncertainty), the detection joins the
   best such event (replacing a worse one from the same sensor) and the event is re-solved;
3. **seed**: otherwise the detection is tried as the first arrival of a new source at each
   candidate point of its sensor's lag bin: the point fixes the origin time, and the arrivals
   it predicts at the point's nearest sensors are looked up (coarse tolerance). The best point
   (most matches, then least misfit) is solved robustly, arrivals are gathered at every sensor
   within reach with tight gates, solved again twice, and the event is kept if enough sensors
   remain inliers (the seed among them), the fit is consistent and it does not duplicate a
   known event (else its arrivals go to that event).

Only detections that have arrived by the entry's time are seen, so the same entries give the
same events in batch and streaming runs.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from truceline.fusion.hypotheses import _mirror, _mirror_fits, _repeat, _seed
from truceline.fusion.kernels import (
    MAXM,
    P_BACK_S,
    P_DUP_M,
    P_DUP_S,
    P_GATE,
    P_GATE_MAX,
    P_GATHER_R,
    P_MAX_CHI2,
    P_MIN_STATIONS,
    P_REPEAT_S,
    P_REPEAT_SHARE,
    P_REPEAT_WINDOW,
    P_YOUNG_N,
    member_arrays,
    nearest_free,
    predict,
    solve,
)


@njit(cache=True)
def _resolve(
    e, keep, ev_x, ev_y, ev_t0, ev_cov, ev_n, ev_mem, ev_k, ev_q, d_sens, d_t, d_sig, d_follow, claimed, sx, sy, wx, prm
):
    """Re-solve event ``e`` from its members; outliers are released (``keep``, a member, must stay an inlier).

    Returns False, changing nothing, if the solution fails or drops ``keep``.
    """
    n = ev_n[e]
    m_sens, m_t, m_sig = member_arrays(ev_mem[e], n, d_sens, d_t, d_sig)
    inl = np.zeros(n, np.bool_)
    cov = np.zeros((3, 3))
    x, y, t0, chi2, n_in = solve(
        ev_x[e], ev_y[e], ev_t0[e], n, m_sens, m_t, m_sig, sx, sy, ev_k[e], wx, prm, cov, inl, 8
    )
    if n_in < prm[P_MIN_STATIONS] or not math.isfinite(x) or chi2 > prm[P_MAX_CHI2]:
        return False
    for i in range(n):
        if ev_mem[e, i] == keep and not inl[i]:
            return False
    ev_x[e], ev_y[e], ev_t0[e] = x, y, t0
    ev_cov[e] = cov
    ev_q[e] = chi2
    kept = 0
    for i in range(n):
        g = ev_mem[e, i]
        if inl[i]:
            ev_mem[e, kept] = g
            kept += 1
        else:
            claimed[g] = -1 - d_follow[g]
    for i in range(kept, n):
        ev_mem[e, i] = -1
    ev_n[e] = kept
    return True


@njit(cache=True)
def _try_attach(
    j,
    now,
    first_ev,
    n_ev,
    ev_x,
    ev_y,
    ev_t0,
    ev_cov,
    ev_n,
    ev_mem,
    ev_k,
    ev_q,
    ev_created,
    d_sens,
    d_t,
    d_sig,
    d_follow,
    claimed,
    sx,
    sy,
    wx,
    prm,
):
    """Attach detection ``j`` to the best recent event; return the event or -1."""
    s = d_sens[j]
    tj = d_t[j]
    best_e = -1
    best_z = prm[P_GATE]
    best_slot = -1
    best_flip = False
    for e in range(n_ev - 1, first_ev - 1, -1):
        if ev_created[e] < tj - prm[P_BACK_S]:
            break
        if ev_n[e] == 0 or tj < ev_t0[e] or tj - ev_t0[e] > prm[P_BACK_S]:
            continue
        if math.hypot(sx[s] - ev_x[e], sy[s] - ev_y[e]) > prm[P_GATHER_R] + 50_000.0:
            continue  # too far for the event or its mirror image
        pred, sd, dist = predict(ev_x[e], ev_y[e], ev_t0[e], ev_cov[e], s, sx, sy, ev_k[e], d_sig[j], wx, prm)
        z = abs(tj - pred) / sd
        flip = False
        if z >= best_z or abs(tj - pred) > prm[P_GATE_MAX] or dist > prm[P_GATHER_R]:
            # Heard where the event's mirror image would be heard? (a young event seen by one row so far)
            if ev_n[e] >= prm[P_YOUNG_N]:
                continue
            mx, my = _mirror(ev_x[e], ev_y[e], ev_mem[e], ev_n[e], d_sens, sx, sy)
            if math.hypot(mx - ev_x[e], my - ev_y[e]) < prm[P_DUP_M]:
                continue
            pred, sd, dist = predict(mx, my, ev_t0[e], ev_cov[e], s, sx, sy, ev_k[e], d_sig[j], wx, prm)
            z = abs(tj - pred) / sd
            if z >= best_z or abs(tj - pred) > prm[P_GATE_MAX] or dist > prm[P_GATHER_R]:
                continue
            flip = True
        slot = -1
        worse = True
        for i in range(ev_n[e]):
            g = ev_mem[e, i]
            if d_sens[g] == s:
                slot = i
                zo = abs(d_t[g] - pred) / sd
                worse = zo > z
                break
        if slot >= 0 and not worse:
            continue
        if slot < 0 and ev_n[e] >= MAXM:
            continue
        best_e, best_z, best_slot, best_flip = e, z, slot, flip
    if best_e < 0:
        return -1
    ox, oy = ev_x[best_e], ev_y[best_e]
    if best_flip:
        ev_x[best_e], ev_y[best_e] = _mirror(ox, oy, ev_mem[best_e], ev_n[best_e], d_sens, sx, sy)
    old = -1
    if best_slot >= 0:
        old = ev_mem[best_e, best_slot]
        ev_mem[best_e, best_slot] = j
    else:
        best_slot = ev_n[best_e]
        ev_mem[best_e, best_slot] = j
        ev_n[best_e] += 1
    claimed[j] = best_e
    if old >= 0:
        claimed[old] = -1 - d_follow[old]
    if not _resolve(
        best_e,
        j,
        ev_x,
        ev_y,
        ev_t0,
        ev_cov,
        ev_n,
        ev_mem,
        ev_k,
        ev_q,
        d_sens,
        d_t,
        d_sig,
        d_follow,
        claimed,
        sx,
        sy,
        wx,
        prm,
    ):
        # Undo: the arrival does not fit the event after all.
        ev_x[best_e], ev_y[best_e] = ox, oy
        claimed[j] = -1 - d_follow[j]
        if old >= 0:
            ev_mem[best_e, best_slot] = old
            claimed[old] = best_e
        else:
            ev_n[best_e] -= 1
            ev_mem[best_e, ev_n[best_e]] = -1
        return -1
    return best_e


@njit(cache=True)
def _absorb(e, mem, m, ev_n, ev_mem, d_sens, claimed):
    """Event ``e`` takes the detections ``mem[:m]`` of sensors it has no arrival from yet."""
    for i in range(m):
        g = mem[i]
        present = False
        for p in range(ev_n[e]):
            if d_sens[ev_mem[e, p]] == d_sens[g]:
                present = True
                break
        if not present and ev_n[e] < MAXM:
            ev_mem[e, ev_n[e]] = g
            ev_n[e] += 1
            claimed[g] = e


@njit(cache=True)
def _new_event(e, x, y, t0, chi2, cov, k, now, seed, mem, m, d_t, claimed, ev_x, ev_y, ev_t0, ev_q, ev_cov, ev_n,
               ev_k, ev_created, ev_seed, ev_mem, ev_last):  # fmt: skip
    """Store event ``e`` with members ``mem[:m]`` and claim them."""
    ev_x[e], ev_y[e], ev_t0[e], ev_q[e] = x, y, t0, chi2
    ev_cov[e] = cov
    ev_n[e] = m
    ev_k[e] = k
    ev_created[e] = now
    ev_seed[e] = seed
    last = -1e300
    for i in range(m):
        g = mem[i]
        ev_mem[e, i] = g
        claimed[g] = e
        last = max(last, d_t[g])
    ev_last[e] = last


@njit(cache=True)
def run_entries(
    e_time,
    e_det,
    e_bin,
    start,
    stop,
    first_ev,
    n_ev,
    n_bins,
    sb_ptr,
    cand_x,
    cand_y,
    cand_nb,
    near_ptr,
    near_idx,
    d_sens,
    d_t,
    d_sig,
    d_c,
    d_u,
    d_v,
    sk,
    w_ptr,
    w_time,
    w_id,
    claimed,
    sx,
    sy,
    wx,
    prm,
    ev_x,
    ev_y,
    ev_t0,
    ev_cov,
    ev_n,
    ev_mem,
    ev_k,
    ev_q,
    ev_created,
    ev_seed,
    ev_last,
    d_follow,
    ub_ptr,
    ub_sens,
    ub_lo,
    ub_hi,
):
    """Process entries ``start:stop``; returns ``(next entry, n_events)`` (stops early when storage is full)."""
    cap = ev_x.size
    res_cov = np.zeros((3, 3))
    res_mem = np.empty(MAXM, np.int64)
    for q in range(start, stop):
        if n_ev >= cap:
            return q, n_ev
        j = e_det[q]
        if claimed[j] >= 0:
            continue
        now = e_time[q]
        while first_ev < n_ev and ev_created[first_ev] < now - 4 * prm[P_BACK_S]:
            first_ev += 1
        if (
            _try_attach(
                j,
                now,
                first_ev,
                n_ev,
                ev_x,
                ev_y,
                ev_t0,
                ev_cov,
                ev_n,
                ev_mem,
                ev_k,
                ev_q,
                ev_created,
                d_sens,
                d_t,
                d_sig,
                d_follow,
                claimed,
                sx,
                sy,
                wx,
                prm,
            )
            >= 0
        ):
            continue
        if claimed[j] == -2:
            # A follower never seeds: it is a later round of a known source, or nothing.
            for e in range(n_ev - 1, first_ev - 1, -1):
                if ev_created[e] < now - prm[P_BACK_S]:
                    break
                if ev_n[e] == 0 or d_t[j] <= ev_t0[e]:
                    continue
                if math.hypot(sx[d_sens[j]] - ev_x[e], sy[d_sens[j]] - ev_y[e]) > prm[P_GATHER_R]:
                    continue
                # Only events heard at this sensor, and whose own arrival here came shortly before.
                t_here = -1e300
                for i in range(ev_n[e]):
                    if d_sens[ev_mem[e, i]] == d_sens[j]:
                        t_here = d_t[ev_mem[e, i]]
                        break
                if t_here == -1e300 or d_t[j] <= t_here or d_t[j] - t_here > prm[P_REPEAT_WINDOW]:
                    continue
                # Quick test on up to 8 of the first round's sensors: do they hear this round too?
                shift = d_t[j] - t_here
                tried, hits = 0, 0
                for i in range(ev_n[e]):
                    g0 = ev_mem[e, i]
                    if d_sens[g0] == d_sens[j] or d_t[g0] + shift > now:
                        continue
                    gq, _ = nearest_free(d_sens[g0], d_t[g0] + shift, 0.3, now, w_ptr, w_time, w_id, claimed)
                    tried += 1
                    hits += gq >= 0
                    if tried == 8:
                        break
                if tried == 0 or hits < prm[P_REPEAT_SHARE] * tried:
                    continue
                m, t0, chi2 = _repeat(
                    j, ev_x[e], ev_y[e], ev_k[e], now, near_ptr, near_idx, d_sens, d_t, d_sig, w_ptr, w_time, w_id,
                    claimed, sx, sy, wx, prm, res_mem
                )  # fmt: skip
                if m == 0:
                    continue
                # A later round from the same place is heard by about the same sensors.
                could, hit = 0, 0
                for i in range(ev_n[e]):
                    g0 = ev_mem[e, i]
                    if d_t[g0] + (t0 - ev_t0[e]) <= now:
                        could += 1
                        for p in range(m):
                            if d_sens[res_mem[p]] == d_sens[g0]:
                                hit += 1
                                break
                if hit < prm[P_REPEAT_SHARE] * could or hit < prm[P_MIN_STATIONS]:
                    continue
                # The same round already known (an event from the same place at the same time)?
                same = -1
                for e2 in range(n_ev - 1, first_ev - 1, -1):
                    if (
                        abs(ev_t0[e2] - t0) < prm[P_REPEAT_S]
                        and math.hypot(ev_x[e2] - ev_x[e], ev_y[e2] - ev_y[e]) < prm[P_DUP_M]
                    ):
                        same = e2
                        break
                if same >= 0:
                    _absorb(same, res_mem, m, ev_n, ev_mem, d_sens, claimed)
                    break
                _new_event(
                    n_ev, ev_x[e], ev_y[e], t0, chi2, ev_cov[e], ev_k[e], now, j, res_mem, m, d_t, claimed,
                    ev_x, ev_y, ev_t0, ev_q, ev_cov, ev_n, ev_k, ev_created, ev_seed, ev_mem, ev_last,
                )  # fmt: skip
                n_ev += 1
                break
            continue
        m, x, y, t0, chi2 = _seed(
            j,
            e_bin[q],
            now,
            n_bins,
            sb_ptr,
            cand_x,
            cand_y,
            cand_nb,
            near_ptr,
            near_idx,
            d_sens,
            d_t,
            d_sig,
            d_c,
            d_u,
            d_v,
            sk,
            w_ptr,
            w_time,
            w_id,
            claimed,
            sx,
            sy,
            wx,
            prm,
            res_cov,
            res_mem,
            ub_ptr,
            ub_sens,
            ub_lo,
            ub_hi,
        )
        if m == 0:
            continue
        # A duplicate of a recent event: give it the new arrivals instead.
        dup = -1
        for e in range(n_ev - 1, first_ev - 1, -1):
            if abs(ev_t0[e] - t0) >= prm[P_DUP_S]:
                continue
            if math.hypot(ev_x[e] - x, ev_y[e] - y) < prm[P_DUP_M]:
                dup = e
                break
            if _mirror_fits(e, x, y, ev_x, ev_y, ev_t0, ev_mem, ev_n, ev_k, d_sens, d_t, d_sig, sx, sy, wx, prm):
                # The known event is the mirror image of this one: move it here.
                ev_x[e], ev_y[e] = x, y
                dup = e
                break
        if dup >= 0:
            n_before = ev_n[dup]
            _absorb(dup, res_mem, m, ev_n, ev_mem, d_sens, claimed)
            if not _resolve(
                dup,
                -1,
                ev_x,
                ev_y,
                ev_t0,
                ev_cov,
                ev_n,
                ev_mem,
                ev_k,
                ev_q,
                d_sens,
                d_t,
                d_sig,
                d_follow,
                claimed,
                sx,
                sy,
                wx,
                prm,
            ):
                for i in range(n_before, ev_n[dup]):
                    claimed[ev_mem[dup, i]] = -1 - d_follow[ev_mem[dup, i]]
                    ev_mem[dup, i] = -1
                ev_n[dup] = n_before
            continue
        _new_event(n_ev, x, y, t0, chi2, res_cov, sk[d_sens[j]], now, j, res_mem, m, d_t, claimed,
                   ev_x, ev_y, ev_t0, ev_q, ev_cov, ev_n, ev_k, ev_created, ev_seed, ev_mem, ev_last)  # fmt: skip
        n_ev += 1
    return stop, n_ev
