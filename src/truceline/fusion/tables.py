"""The geometry association searches, computed once per sensor network.

Each sensor ``s`` owns *candidate source points*: a square grid (``grid_m``) of the points within
``region_radius_m`` of ``s`` for which ``s`` is one of the ``region_rank`` nearest sensors (the
sensor that hears a source first is almost always its nearest or second nearest). A detection at
``s`` is tried as the first arrival of a source at each of its candidates: the candidate fixes the
origin time, and the arrival times it predicts at the candidate's ``n_neighbours`` nearest other
sensors are looked up.

Candidates are grouped in *lag bins* by how long after the first arrival their neighbours hear
them (``max_l d_l - d_s``, in steps of ``lag_step_m``); a bin is searched as soon as its last
neighbour could have heard the source, which bounds the latency of the streaming mode.
"""

from __future__ import annotations

import hashlib
import threading

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from truceline.fusion.bundles import Tables

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


_CACHE: dict[tuple[object, ...], Tables] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4


def cached_tables(sx: FloatArray, sy: FloatArray, *settings: float | int) -> Tables:
    """:func:`build_tables` once per network and settings in this process (the parts and passes of a
    run share them; a few networks are kept). The tables are read-only."""
    digest = hashlib.blake2b(np.ascontiguousarray(sx, np.float64).tobytes(), digest_size=16)
    digest.update(np.ascontiguousarray(sy, np.float64).tobytes())
    key = (digest.hexdigest(), *settings)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is None:
            hit = build_tables(sx, sy, *settings)  # type: ignore[arg-type]  # build_tables' own order
            if len(_CACHE) >= _CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = hit
        return hit


def build_tables(
    sx: FloatArray,
    sy: FloatArray,
    grid_m: float = 1000.0,
    region_radius_m: float = 40_000.0,
    region_rank: int = 2,
    n_neighbours: int = 8,
    lag_step_m: float = 3000.0,
    gather_radius_m: float = 80_000.0,
) -> Tables:
    """Candidate points, neighbours and lag bins for sensors at ``(sx, sy)`` (fields: :class:`Tables`)."""
    n = sx.size
    if n < 3:
        raise ValueError(f"association needs at least 3 sensors (got {n})")
    pts = np.column_stack([sx, sy])
    tree = cKDTree(pts)
    rank = min(region_rank, n)
    nb_count = min(n_neighbours, n - 1)
    gx = np.arange(sx.min() - region_radius_m, sx.max() + region_radius_m + grid_m, grid_m)
    gy = np.arange(sy.min() - region_radius_m, sy.max() + region_radius_m + grid_m, grid_m)
    xs, ys, owners, nbs, lags = [], [], [], [], []
    # Row by row keeps memory flat for a 1,500 km network.
    for y in gy:
        row = np.column_stack([gx, np.full(gx.size, y)])
        dist, idx = tree.query(row, k=min(rank + nb_count, n))
        dist, idx = np.atleast_2d(dist), np.atleast_2d(idx)
        for r in range(rank):
            keep = dist[:, r] <= region_radius_m
            if not keep.any():
                continue
            others = np.delete(idx[keep], r, axis=1)[:, :nb_count]
            d_other = np.delete(dist[keep], r, axis=1)[:, :nb_count]
            xs.append(row[keep, 0])
            ys.append(row[keep, 1])
            owners.append(idx[keep, r])
            nbs.append(others)
            lags.append(d_other.max(axis=1) - dist[keep, r])
    cx = np.concatenate(xs)
    cy = np.concatenate(ys)
    owner = np.concatenate(owners).astype(np.int64)
    nb = np.concatenate(nbs).astype(np.int64)
    lag = np.maximum(np.concatenate(lags), 0.0)
    n_bins = max(1, int(np.ceil(lag.max() / lag_step_m)) if lag.size else 1)
    b = np.minimum((lag // lag_step_m).astype(np.int64), n_bins - 1)
    key = owner * n_bins + b
    order = np.argsort(key, kind="stable")
    key = key[order]
    sb_ptr = np.searchsorted(key, np.arange(n * n_bins + 1)).astype(np.int64)
    bin_lag = np.zeros(n * n_bins)
    np.maximum.at(bin_lag, key, lag[order])
    # Per (sensor, bin, neighbour): the range of extra distance over the bin's candidates.
    cxs, cys, nbo = cx[order], cy[order], nb[order]
    d_own = np.hypot(cxs - sx[owner[order]], cys - sy[owner[order]])
    extra = np.hypot(cxs[:, None] - sx[nbo], cys[:, None] - sy[nbo]) - d_own[:, None]
    ukey = np.repeat(key, nbo.shape[1]) * n + nbo.ravel()
    uorder = np.argsort(ukey, kind="stable")
    ukey_s, extra_s = ukey[uorder], extra.ravel()[uorder]
    starts = np.flatnonzero(np.r_[True, ukey_s[1:] != ukey_s[:-1]])
    ub_lo = np.minimum.reduceat(extra_s, starts)
    ub_hi = np.maximum.reduceat(extra_s, starts)
    ub_key = ukey_s[starts]
    ub_ptr = np.searchsorted(ub_key // n, np.arange(n * n_bins + 1)).astype(np.int64)
    near = tree.query_ball_point(pts, r=region_radius_m + gather_radius_m)
    near_ptr = np.zeros(n + 1, dtype=np.int64)
    near_ptr[1:] = np.cumsum([len(v) for v in near])
    near_idx = np.fromiter((j for v in near for j in sorted(v)), dtype=np.int64, count=int(near_ptr[-1]))
    return Tables(
        n_bins,
        sb_ptr,
        cx[order],
        cy[order],
        np.ascontiguousarray(nb[order]),
        bin_lag.reshape(n, n_bins),
        near_ptr,
        near_idx,
        ub_ptr,
        (ub_key % n).astype(np.int64),
        ub_lo,
        ub_hi,
    )
