"""Pairing launches with impacts by ballistic time of flight and range.

A launch at ``(x_L, t_L)`` and an impact at ``(x_I, t_I)`` can be one round when the impact comes
``Δt = t_I - t_L`` after it and the implied mean horizontal speed ``|x_I - x_L| / Δt`` and the
range fit a weapon class of :data:`BALLISTICS` (speed within ``speed_tolerance``, allowing for the
location and timing errors). Among all such candidate pairs, the pairing minimising the summed
squared relative speed misfit is found by linear assignment (per connected group of candidates),
so that the rounds of a salvo, fired seconds apart from one place at one target, are paired in
order rather than crosswise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from truceline.core.enums import WeaponClass

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Ballistic:
    """A family of weapons as pairing sees it: range (km), mean horizontal projectile speed (m/s), and
    the dispersion of its unguided rounds about the aim point as a fraction of the range (one sigma
    per axis; magnitudes of firing tables: tube artillery ~0.3-0.5 %, mortars and rockets ~1 %)."""

    name: str
    weapon_class: WeaponClass
    min_range_km: float
    max_range_km: float
    speed_ms: float
    dispersion_frac: float = 0.005


#: Mean horizontal speeds of the systems on the line (times of flight ~ range / speed).
BALLISTICS: tuple[Ballistic, ...] = (
    Ballistic("mortar_82mm", WeaponClass.MORTAR_LE_120MM, 0.1, 4.5, 120.0, 0.01),
    Ballistic("mortar_120mm", WeaponClass.MORTAR_LE_120MM, 0.3, 7.5, 150.0, 0.01),
    Ballistic("howitzer_122mm", WeaponClass.ARTILLERY_GE_100MM, 3.5, 16.0, 330.0),
    Ballistic("howitzer_152mm", WeaponClass.ARTILLERY_GE_100MM, 4.5, 25.0, 380.0),
    Ballistic("howitzer_155mm", WeaponClass.ARTILLERY_GE_100MM, 4.5, 31.0, 400.0),
    Ballistic("mlrs_122mm", WeaponClass.MLRS, 4.5, 21.0, 450.0, 0.01),
    Ballistic("tank_125mm", WeaponClass.TANK, 0.8, 5.5, 1200.0, 0.002),
)


@dataclass(frozen=True)
class Pairs:
    """Pairs found: event indices, the weapon family that fits, and its relative speed misfit."""

    launch: IntArray
    impact: IntArray
    ballistic: IntArray
    misfit: FloatArray


def pair_events(
    is_launch: NDArray[np.bool_],
    is_impact: NDArray[np.bool_],
    t0: FloatArray,
    x: FloatArray,
    y: FloatArray,
    sigma_m: FloatArray,
    speed_tolerance: float = 0.06,
    max_tof_s: float = 300.0,
    t_sigma_s: float | FloatArray = 0.05,
) -> Pairs:
    """Pair launches with impacts (indices into the given event arrays). ``t_sigma_s``: origin-time
    error, s: one value for the pair's difference, or one per event (combined in quadrature)."""
    li = np.flatnonzero(is_launch)
    ii = np.flatnonzero(is_impact)
    empty = Pairs(*(np.zeros(0, np.int64),) * 3, np.zeros(0))
    if li.size == 0 or ii.size == 0:
        return empty
    order = np.argsort(t0[ii])
    ii, ti = ii[order], t0[ii][order]
    lo = np.searchsorted(ti, t0[li] + 0.5)
    hi = np.searchsorted(ti, t0[li] + max_tof_s)
    counts = hi - lo
    a = np.repeat(li, counts)
    b = ii[np.concatenate([np.arange(s, e) for s, e in zip(lo, hi, strict=True)])] if counts.sum() else li[:0]
    if a.size == 0:
        return empty
    dt = t0[b] - t0[a]
    dist = np.hypot(x[b] - x[a], y[b] - y[a])
    speed = dist / dt
    # Speed uncertainty from the two positions and the two origin times.
    if np.ndim(t_sigma_s) == 0:
        t_pair: float | FloatArray = float(t_sigma_s)
    else:
        ts = np.asarray(t_sigma_s, dtype=float)
        t_pair = np.hypot(ts[a], ts[b])
    rel_sigma = np.hypot(np.hypot(sigma_m[a], sigma_m[b]) / np.maximum(dist, 1.0), t_pair / dt)
    best = np.full(a.size, np.inf)
    fam = np.full(a.size, -1, np.int64)
    for k, w in enumerate(BALLISTICS):
        ok = (dist >= w.min_range_km * 1000) & (dist <= w.max_range_km * 1000)
        mis = np.abs(speed / w.speed_ms - 1.0)
        fits = ok & (mis <= speed_tolerance + 3 * rel_sigma) & (mis < best)
        best = np.where(fits, mis, best)
        fam = np.where(fits, k, fam)
    keep = fam >= 0
    a, b, fam, best = a[keep], b[keep], fam[keep], best[keep]
    if a.size == 0:
        return empty
    n = t0.size
    graph = coo_matrix((np.ones(a.size), (a, b)), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    out_l, out_i, out_f, out_m = [], [], [], []
    edge_comp = comp[a]
    for c in np.unique(edge_comp):
        sel = np.flatnonzero(edge_comp == c)
        la, lb = np.unique(a[sel]), np.unique(b[sel])
        cost = np.full((la.size, lb.size), 1e6)
        ra, rb = np.searchsorted(la, a[sel]), np.searchsorted(lb, b[sel])
        cost[ra, rb] = best[sel] ** 2
        r, col = linear_sum_assignment(cost)
        real = cost[r, col] < 1e6
        lookup = {(int(p), int(q)): int(e) for p, q, e in zip(ra, rb, sel, strict=True)}
        for p, q in zip(r[real], col[real], strict=True):
            e = lookup[(int(p), int(q))]
            out_l.append(a[e])
            out_i.append(b[e])
            out_f.append(fam[e])
            out_m.append(best[e])
    return Pairs(np.array(out_l, np.int64), np.array(out_i, np.int64), np.array(out_f, np.int64), np.array(out_m))
