"""Optimal one-to-one matching of result points to truth points within a time and a distance gate.

Used by the scorer (:mod:`truceline.scoring.score`) for events and violations. It never builds a
dense result x truth matrix: candidate pairs come from a search over the time-sorted truth
(``searchsorted`` on ``t +/- time gate``), are filtered by a kind code and the geodesic distance
(WGS84, :class:`pyproj.Geod`), then split into connected components of the bipartite candidate
graph; each component is solved exactly with :func:`scipy.optimize.linear_sum_assignment`.

Within each component the matching is the largest one-to-one matching of candidate pairs and,
among those, the one of least total cost ``(dt / T)**2 + (d / D)**2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import Geod
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["ANY_KIND", "Matching", "match_points"]

ANY_KIND = -1
"""Kind code of a result point that may match a truth point of any kind."""

_GEOD = Geod(ellps="WGS84")
_MIN_M_PER_DEG_LAT = 110_574.0  # metres per degree of latitude at the equator (its minimum)
_CHUNK_PAIRS = 1 << 20  # candidate pairs handled at once (bounds memory in dense bursts)


@dataclass(frozen=True)
class Matching:
    """The matched pairs, sorted by result index.

    Attributes
    ----------
    result_index, truth_index : ndarray of int
        Indices into the result and truth arrays given to :func:`match_points`.
    dt_s : ndarray of float
        ``t_result - t_truth`` of each pair, seconds.
    distance_m : ndarray of float
        Geodesic distance between the pair, metres.
    azimuth_deg : ndarray of float
        Forward azimuth from the result point to the truth point, degrees clockwise from north.
    n_candidates : int
        Candidate pairs within both gates (and of compatible kinds).
    n_components : int
        Connected components of the candidate graph that held at least one pair.
    """

    result_index: NDArray[np.intp]
    truth_index: NDArray[np.intp]
    dt_s: NDArray[np.float64]
    distance_m: NDArray[np.float64]
    azimuth_deg: NDArray[np.float64]
    n_candidates: int
    n_components: int

    def __len__(self) -> int:
        return int(self.result_index.size)

    def offset_en_m(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """East and north offset of each truth point from its result point, metres (local tangent plane)."""
        az = np.radians(self.azimuth_deg)
        return self.distance_m * np.sin(az), self.distance_m * np.cos(az)


def _as_float(values: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(values, dtype=np.float64).reshape(-1)


def _as_kind(values: ArrayLike | None, n: int) -> NDArray[np.int64]:
    if values is None:
        return np.full(n, ANY_KIND, dtype=np.int64)
    out = np.asarray(values, dtype=np.int64).reshape(-1)
    if out.size != n:
        raise ValueError(f"kind array has {out.size} items, expected {n}")
    return out


def _candidate_chunks(
    result_t: NDArray[np.float64], truth_t_sorted: NDArray[np.float64], time_gate_s: float
) -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """Pairs (result index, position in the sorted truth) with ``|dt| <= gate``, in bounded chunks."""
    lo = np.searchsorted(truth_t_sorted, result_t - time_gate_s, side="left")
    hi = np.searchsorted(truth_t_sorted, result_t + time_gate_s, side="right")
    counts = (hi - lo).astype(np.intp)
    cum = np.cumsum(counts)
    chunks: list[tuple[NDArray[np.intp], NDArray[np.intp]]] = []
    n = result_t.size
    start = 0
    while start < n:
        base = int(cum[start - 1]) if start else 0
        end = max(int(np.searchsorted(cum, base + _CHUNK_PAIRS, side="right")), start + 1)
        c = counts[start:end]
        total = int(c.sum())
        if total:
            ri = np.repeat(np.arange(start, end, dtype=np.intp), c)
            first = np.repeat(np.cumsum(c) - c, c)
            tj = np.repeat(lo[start:end], c) + (np.arange(total, dtype=np.intp) - first)
            chunks.append((ri, tj.astype(np.intp)))
        start = end
    return chunks


def match_points(
    result_t_s: ArrayLike,
    result_lon_deg: ArrayLike,
    result_lat_deg: ArrayLike,
    truth_t_s: ArrayLike,
    truth_lon_deg: ArrayLike,
    truth_lat_deg: ArrayLike,
    *,
    time_gate_s: float,
    distance_gate_m: float,
    result_kind: ArrayLike | None = None,
    truth_kind: ArrayLike | None = None,
) -> Matching:
    """Match result points to truth points one-to-one within both gates, optimally.

    Parameters
    ----------
    result_t_s, truth_t_s : array_like of float
        Times in seconds on a common reference.
    result_lon_deg, result_lat_deg, truth_lon_deg, truth_lat_deg : array_like of float
        WGS84 positions, degrees.
    time_gate_s : float
        A pair is a candidate only if ``|dt| <= time_gate_s``.
    distance_gate_m : float
        ... and its geodesic distance is ``<= distance_gate_m``.
    result_kind, truth_kind : array_like of int, optional
        Kind codes: a pair is a candidate only if the codes are equal or the result's code is
        :data:`ANY_KIND`. Omitted: every kind matches.

    Returns
    -------
    Matching
        The largest one-to-one set of candidate pairs; among those, the least total cost
        ``sum((dt / time_gate_s)**2 + (distance / distance_gate_m)**2)``.
    """
    if not (np.isfinite(time_gate_s) and time_gate_s > 0 and np.isfinite(distance_gate_m) and distance_gate_m > 0):
        raise ValueError("gates must be positive and finite")
    rt, rlon, rlat = _as_float(result_t_s), _as_float(result_lon_deg), _as_float(result_lat_deg)
    tt, tlon, tlat = _as_float(truth_t_s), _as_float(truth_lon_deg), _as_float(truth_lat_deg)
    if not (rt.size == rlon.size == rlat.size) or not (tt.size == tlon.size == tlat.size):
        raise ValueError("time, lon and lat arrays must have the same length")
    rk = _as_kind(result_kind, rt.size)
    tk = _as_kind(truth_kind, tt.size)

    found = _candidates(rt, rlon, rlat, rk, tt, tlon, tlat, tk, time_gate_s, distance_gate_m)
    if found is None:
        empty_i = np.zeros(0, dtype=np.intp)
        empty_f = np.zeros(0, dtype=np.float64)
        return Matching(empty_i, empty_i, empty_f, empty_f, empty_f, 0, 0)
    cand_r, cand_t, cand_dt, cand_d, cand_az = found
    cost = (cand_dt / time_gate_s) ** 2 + (cand_d / distance_gate_m) ** 2

    chosen = _solve_components(cand_r, cand_t, cost, rt.size, tt.size)
    n_components = int(chosen[1])
    sel = chosen[0]
    sel = sel[np.argsort(cand_r[sel], kind="stable")]
    return Matching(
        result_index=cand_r[sel],
        truth_index=cand_t[sel],
        dt_s=cand_dt[sel],
        distance_m=cand_d[sel],
        azimuth_deg=cand_az[sel],
        n_candidates=int(cand_r.size),
        n_components=n_components,
    )


_Candidates = tuple[
    NDArray[np.intp], NDArray[np.intp], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]
]


def _candidates(
    rt: NDArray[np.float64],
    rlon: NDArray[np.float64],
    rlat: NDArray[np.float64],
    rk: NDArray[np.int64],
    tt: NDArray[np.float64],
    tlon: NDArray[np.float64],
    tlat: NDArray[np.float64],
    tk: NDArray[np.int64],
    time_gate_s: float,
    distance_gate_m: float,
) -> _Candidates | None:
    """The candidate pairs within both gates and of compatible kinds (None when there is none).

    Returns the result index, truth index, ``dt``, geodesic distance and azimuth of each pair.
    """
    order = np.argsort(tt, kind="stable")
    tt_sorted = tt[order]
    pair_r: list[NDArray[np.intp]] = []
    pair_t: list[NDArray[np.intp]] = []
    pair_dt: list[NDArray[np.float64]] = []
    pair_d: list[NDArray[np.float64]] = []
    pair_az: list[NDArray[np.float64]] = []
    for ri, tj in _candidate_chunks(rt, tt_sorted, time_gate_s):
        ti = order[tj]
        dt = rt[ri] - tt[ti]
        keep = (np.abs(dt) <= time_gate_s) & ((rk[ri] == ANY_KIND) | (rk[ri] == tk[ti]))
        keep &= np.abs(rlat[ri] - tlat[ti]) * _MIN_M_PER_DEG_LAT <= distance_gate_m * 1.001
        ri, ti, dt = ri[keep], ti[keep], dt[keep]
        if ri.size == 0:
            continue
        az, _, dist = _GEOD.inv(rlon[ri], rlat[ri], tlon[ti], tlat[ti])
        dist = np.asarray(dist, dtype=np.float64)
        ok = dist <= distance_gate_m
        pair_r.append(ri[ok])
        pair_t.append(ti[ok])
        pair_dt.append(dt[ok])
        pair_d.append(dist[ok])
        pair_az.append(np.asarray(az, dtype=np.float64)[ok])
    if not pair_r or sum(a.size for a in pair_r) == 0:
        return None
    return (
        np.concatenate(pair_r),
        np.concatenate(pair_t),
        np.concatenate(pair_dt),
        np.concatenate(pair_d),
        np.concatenate(pair_az),
    )


def _solve_components(
    cand_r: NDArray[np.intp], cand_t: NDArray[np.intp], cost: NDArray[np.float64], n_result: int, n_truth: int
) -> tuple[NDArray[np.intp], int]:
    """Indices of the chosen candidate pairs, and the number of non-trivial components."""
    n_nodes = n_result + n_truth
    graph = coo_matrix(
        (np.ones(cand_r.size, dtype=np.int8), (cand_r, n_result + cand_t)), shape=(n_nodes, n_nodes)
    ).tocsr()
    _, labels = connected_components(graph, directed=False)
    comp = labels[cand_r]
    by_comp = np.argsort(comp, kind="stable")
    comp_sorted = comp[by_comp]
    bounds = np.flatnonzero(np.diff(comp_sorted)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [comp_sorted.size]))
    sizes = ends - starts

    chosen: list[NDArray[np.intp]] = [by_comp[starts[sizes == 1]]]  # a lone candidate pair is matched
    for s, e in zip(starts[sizes > 1], ends[sizes > 1], strict=True):
        edges = by_comp[s:e]
        rows, r_local = np.unique(cand_r[edges], return_inverse=True)
        cols, t_local = np.unique(cand_t[edges], return_inverse=True)
        if rows.size == 1 or cols.size == 1:
            chosen.append(edges[[int(np.argmin(cost[edges]))]])
            continue
        # Forbidden pairs cost more than any feasible set of pairs, so the assignment first
        # maximises the number of candidate pairs, then minimises their cost (each <= 2).
        big = 2.0 * min(rows.size, cols.size) + 3.0
        mat = np.full((rows.size, cols.size), big)
        slot = np.full((rows.size, cols.size), -1, dtype=np.intp)
        mat[r_local, t_local] = cost[edges]
        slot[r_local, t_local] = edges
        ri, ci = linear_sum_assignment(mat)
        picked = slot[ri, ci]
        chosen.append(picked[picked >= 0])
    return np.concatenate(chosen).astype(np.intp), int(starts.size)
