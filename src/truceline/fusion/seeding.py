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

The kernels take the bundles of :mod:`truceline.fusion.bundles`: ``ent`` (Entries), ``det``
(Detections), ``arv`` (Arrivals: the index of arrived detections and their claims), ``ev``
(Events), ``tab`` (Tables), ``net`` (Sensors), ``wx`` (Weather) and the parameter vector ``prm``
(:mod:`truceline.fusion.kernels`). Times are s, positions projected m.
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
def _resolve(e, keep, ev, det, arv, net, wx, prm):
    """Re-solve event ``e`` from its members; outliers are released (``keep``, a member, must stay an inlier).

    Returns False, changing nothing, if the solution fails or drops ``keep``.
    """
    claimed, d_follow = arv.claimed, det.follow
    n = ev.n[e]
    m_sens, m_t, m_sig = member_arrays(ev.mem[e], n, det)
    inl = np.zeros(n, np.bool_)
    cov = np.zeros((3, 3))
    x, y, t0, chi2, n_in = solve(ev.x[e], ev.y[e], ev.t0[e], n, m_sens, m_t, m_sig, ev.k[e], net, wx, prm, cov, inl, 8)
    if n_in < prm[P_MIN_STATIONS] or not math.isfinite(x) or chi2 > prm[P_MAX_CHI2]:
        return False
    for i in range(n):
        if ev.mem[e, i] == keep and not inl[i]:
            return False
    ev.x[e], ev.y[e], ev.t0[e] = x, y, t0
    ev.cov[e] = cov
    ev.q[e] = chi2
    kept = 0
    for i in range(n):
        g = ev.mem[e, i]
        if inl[i]:
            ev.mem[e, kept] = g
            kept += 1
        else:
            claimed[g] = -1 - d_follow[g]
    for i in range(kept, n):
        ev.mem[e, i] = -1
    ev.n[e] = kept
    return True


@njit(cache=True)
def _best_attachment(j, first_ev, n_ev, ev, det, net, wx, prm):
    """The recent event that best predicts detection ``j`` within the gate.

    Returns ``(event, slot, flip)``: event -1 if none; slot the member of the same sensor it would
    replace (-1: none); flip whether the event's mirror image is what predicts it.
    """
    d_sens, d_t, d_sig, sx, sy = det.sens, det.t, det.sig, net.x, net.y
    s = d_sens[j]
    tj = d_t[j]
    best_e = -1
    best_z = prm[P_GATE]
    best_slot = -1
    best_flip = False
    for e in range(n_ev - 1, first_ev - 1, -1):
        if ev.created[e] < tj - prm[P_BACK_S]:
            break
        if ev.n[e] == 0 or tj < ev.t0[e] or tj - ev.t0[e] > prm[P_BACK_S]:
            continue
        if math.hypot(sx[s] - ev.x[e], sy[s] - ev.y[e]) > prm[P_GATHER_R] + 50_000.0:
            continue  # too far for the event or its mirror image
        pred, sd, dist = predict(ev.x[e], ev.y[e], ev.t0[e], ev.cov[e], s, ev.k[e], d_sig[j], net, wx, prm)
        z = abs(tj - pred) / sd
        flip = False
        if z >= best_z or abs(tj - pred) > prm[P_GATE_MAX] or dist > prm[P_GATHER_R]:
            # Heard where the event's mirror image would be heard? (a young event seen by one row so far)
            if ev.n[e] >= prm[P_YOUNG_N]:
                continue
            mx, my = _mirror(ev.x[e], ev.y[e], ev.mem[e], ev.n[e], det, net)
            if math.hypot(mx - ev.x[e], my - ev.y[e]) < prm[P_DUP_M]:
                continue
            pred, sd, dist = predict(mx, my, ev.t0[e], ev.cov[e], s, ev.k[e], d_sig[j], net, wx, prm)
            z = abs(tj - pred) / sd
            if z >= best_z or abs(tj - pred) > prm[P_GATE_MAX] or dist > prm[P_GATHER_R]:
                continue
            flip = True
        slot = -1
        worse = True
        for i in range(ev.n[e]):
            g = ev.mem[e, i]
            if d_sens[g] == s:
                slot = i
                zo = abs(d_t[g] - pred) / sd
                worse = zo > z
                break
        if slot >= 0 and not worse:
            continue
        if slot < 0 and ev.n[e] >= MAXM:
            continue
        best_e, best_z, best_slot, best_flip = e, z, slot, flip
    return best_e, best_slot, best_flip


@njit(cache=True)
def _try_attach(j, first_ev, n_ev, ev, det, arv, net, wx, prm):
    """Attach detection ``j`` to the best recent event; return the event or -1."""
    claimed, d_follow = arv.claimed, det.follow
    best_e, best_slot, best_flip = _best_attachment(j, first_ev, n_ev, ev, det, net, wx, prm)
    if best_e < 0:
        return -1
    ox, oy = ev.x[best_e], ev.y[best_e]
    if best_flip:
        ev.x[best_e], ev.y[best_e] = _mirror(ox, oy, ev.mem[best_e], ev.n[best_e], det, net)
    old = -1
    if best_slot >= 0:
        old = ev.mem[best_e, best_slot]
        ev.mem[best_e, best_slot] = j
    else:
        best_slot = ev.n[best_e]
        ev.mem[best_e, best_slot] = j
        ev.n[best_e] += 1
    claimed[j] = best_e
    if old >= 0:
        claimed[old] = -1 - d_follow[old]
    if not _resolve(best_e, j, ev, det, arv, net, wx, prm):
        # Undo: the arrival does not fit the event after all.
        ev.x[best_e], ev.y[best_e] = ox, oy
        claimed[j] = -1 - d_follow[j]
        if old >= 0:
            ev.mem[best_e, best_slot] = old
            claimed[old] = best_e
        else:
            ev.n[best_e] -= 1
            ev.mem[best_e, ev.n[best_e]] = -1
        return -1
    return best_e


@njit(cache=True)
def _absorb(e, mem, m, ev, det, arv):
    """Event ``e`` takes the detections ``mem[:m]`` of sensors it has no arrival from yet."""
    d_sens, claimed = det.sens, arv.claimed
    for i in range(m):
        g = mem[i]
        present = False
        for p in range(ev.n[e]):
            if d_sens[ev.mem[e, p]] == d_sens[g]:
                present = True
                break
        if not present and ev.n[e] < MAXM:
            ev.mem[e, ev.n[e]] = g
            ev.n[e] += 1
            claimed[g] = e


@njit(cache=True)
def _new_event(e, x, y, t0, chi2, cov, k, now, seed, mem, m, det, arv, ev):
    """Store event ``e`` with members ``mem[:m]`` and claim them."""
    d_t, claimed = det.t, arv.claimed
    ev.x[e], ev.y[e], ev.t0[e], ev.q[e] = x, y, t0, chi2
    ev.cov[e] = cov
    ev.n[e] = m
    ev.k[e] = k
    ev.created[e] = now
    ev.seed[e] = seed
    last = -1e300
    for i in range(m):
        g = mem[i]
        ev.mem[e, i] = g
        claimed[g] = e
        last = max(last, d_t[g])
    ev.last[e] = last


@njit(cache=True)
def _could_repeat(j, e, now, ev, det, arv, net, prm):
    """Whether the follower ``j`` may be a later round of event ``e``: ``e`` was heard at ``j``'s sensor
    shortly before, and most of (up to 8 of) its other sensors hear an arrival shifted alike."""
    d_sens, d_t = det.sens, det.t
    if ev.n[e] == 0 or d_t[j] <= ev.t0[e]:
        return False
    if math.hypot(net.x[d_sens[j]] - ev.x[e], net.y[d_sens[j]] - ev.y[e]) > prm[P_GATHER_R]:
        return False
    # Only events heard at this sensor, and whose own arrival here came shortly before.
    t_here = -1e300
    for i in range(ev.n[e]):
        if d_sens[ev.mem[e, i]] == d_sens[j]:
            t_here = d_t[ev.mem[e, i]]
            break
    if t_here == -1e300 or d_t[j] <= t_here or d_t[j] - t_here > prm[P_REPEAT_WINDOW]:
        return False
    # Quick test on up to 8 of the first round's sensors: do they hear this round too?
    shift = d_t[j] - t_here
    tried, hits = 0, 0
    for i in range(ev.n[e]):
        g0 = ev.mem[e, i]
        if d_sens[g0] == d_sens[j] or d_t[g0] + shift > now:
            continue
        gq, _ = nearest_free(d_sens[g0], d_t[g0] + shift, 0.3, now, arv)
        tried += 1
        hits += gq >= 0
        if tried == 8:
            break
    return not (tried == 0 or hits < prm[P_REPEAT_SHARE] * tried)


@njit(cache=True)
def _heard_alike(e, t0, mem, m, now, ev, det, prm):
    """Whether a later round at ``t0`` with members ``mem[:m]`` is heard by about the same sensors as
    event ``e`` (those of ``e`` that could have heard it by ``now``), and by enough of them."""
    d_sens, d_t = det.sens, det.t
    could, hit = 0, 0
    for i in range(ev.n[e]):
        g0 = ev.mem[e, i]
        if d_t[g0] + (t0 - ev.t0[e]) <= now:
            could += 1
            for p in range(m):
                if d_sens[mem[p]] == d_sens[g0]:
                    hit += 1
                    break
    return not (hit < prm[P_REPEAT_SHARE] * could or hit < prm[P_MIN_STATIONS])


@njit(cache=True)
def _later_round(j, now, first_ev, n_ev, ev, det, arv, tab, net, wx, prm, res_mem):
    """The follower ``j`` (it never seeds) as a later round of a recent event; returns the new event count.

    The round joins a known event of the same place and time, or becomes a new event at the
    first round's position.
    """
    for e in range(n_ev - 1, first_ev - 1, -1):
        if ev.created[e] < now - prm[P_BACK_S]:
            break
        if not _could_repeat(j, e, now, ev, det, arv, net, prm):
            continue
        m, t0, chi2 = _repeat(j, ev.x[e], ev.y[e], ev.k[e], now, det, arv, tab, net, wx, prm, res_mem)
        if m == 0:
            continue
        # A later round from the same place is heard by about the same sensors.
        if not _heard_alike(e, t0, res_mem, m, now, ev, det, prm):
            continue
        # The same round already known (an event from the same place at the same time)?
        for e2 in range(n_ev - 1, first_ev - 1, -1):
            if (
                abs(ev.t0[e2] - t0) < prm[P_REPEAT_S]
                and math.hypot(ev.x[e2] - ev.x[e], ev.y[e2] - ev.y[e]) < prm[P_DUP_M]
            ):
                _absorb(e2, res_mem, m, ev, det, arv)
                return n_ev
        _new_event(n_ev, ev.x[e], ev.y[e], t0, chi2, ev.cov[e], ev.k[e], now, j, res_mem, m, det, arv, ev)
        return n_ev + 1
    return n_ev


@njit(cache=True)
def _duplicate_of(x, y, t0, first_ev, n_ev, ev, det, net, wx, prm):
    """A recent event the new source at ``(x, y, t0)`` duplicates (-1: none). A known event that is
    this one's mirror image is moved here."""
    for e in range(n_ev - 1, first_ev - 1, -1):
        if abs(ev.t0[e] - t0) >= prm[P_DUP_S]:
            continue
        if math.hypot(ev.x[e] - x, ev.y[e] - y) < prm[P_DUP_M]:
            return e
        if _mirror_fits(e, x, y, ev, det, net, wx, prm):
            # The known event is the mirror image of this one: move it here.
            ev.x[e], ev.y[e] = x, y
            return e
    return -1


@njit(cache=True)
def _merge(dup, mem, m, ev, det, arv, net, wx, prm):
    """Event ``dup`` takes the arrivals ``mem[:m]`` of its duplicate, kept only if it still solves."""
    claimed, d_follow = arv.claimed, det.follow
    n_before = ev.n[dup]
    _absorb(dup, mem, m, ev, det, arv)
    if not _resolve(dup, -1, ev, det, arv, net, wx, prm):
        for i in range(n_before, ev.n[dup]):
            claimed[ev.mem[dup, i]] = -1 - d_follow[ev.mem[dup, i]]
            ev.mem[dup, i] = -1
        ev.n[dup] = n_before


@njit(cache=True, nogil=True)  # parts of a long run associate in threads (fusion/parts.py)
def run_entries(ent, start, stop, first_ev, n_ev, det, arv, ev, tab, net, wx, prm):
    """Process entries ``start:stop``; returns ``(next entry, n_events)`` (stops early when storage is full).

    ``first_ev`` is the oldest event still taking arrivals, ``n_ev`` the events stored so far.
    """
    claimed = arv.claimed
    cap = ev.x.size
    res_cov = np.zeros((3, 3))
    res_mem = np.empty(MAXM, np.int64)
    for q in range(start, stop):
        if n_ev >= cap:
            return q, n_ev
        j = ent.det[q]
        if claimed[j] >= 0:
            continue
        now = ent.time[q]
        while first_ev < n_ev and ev.created[first_ev] < now - 4 * prm[P_BACK_S]:
            first_ev += 1
        if _try_attach(j, first_ev, n_ev, ev, det, arv, net, wx, prm) >= 0:
            continue
        if claimed[j] == -2:
            # A follower never seeds: it is a later round of a known source, or nothing.
            n_ev = _later_round(j, now, first_ev, n_ev, ev, det, arv, tab, net, wx, prm, res_mem)
            continue
        m, x, y, t0, chi2 = _seed(j, ent.bin[q], now, det, arv, tab, net, wx, prm, res_cov, res_mem)
        if m == 0:
            continue
        # A duplicate of a recent event: give it the new arrivals instead.
        dup = _duplicate_of(x, y, t0, first_ev, n_ev, ev, det, net, wx, prm)
        if dup >= 0:
            _merge(dup, res_mem, m, ev, det, arv, net, wx, prm)
            continue
        _new_event(n_ev, x, y, t0, chi2, res_cov, net.k[det.sens[j]], now, j, res_mem, m, det, arv, ev)
        n_ev += 1
    return stop, n_ev
