"""Fire missions: the rounds of a volley or a ripple grouped, paired side to side, and counted.

A battery's volley or an MLRS ripple (40 rockets 0.3-0.7 s apart) is fired from one place at one
target within seconds to a minute. Association locates the rounds it can tell apart; this module makes
the mission out of them:

1. **Sides.** Located rounds of one kind (launches, or impacts) are one side of a mission when each
   follows another within ``gap_s`` and lies within ``launch_m`` (a battery's guns) or ``impact_m``
   (a target's dispersion) of it, both widened by three sigmas of the two locations.
2. **Pairing.** A launch side and an impact side are one mission when their rounds were paired by
   time of flight (:mod:`truceline.fusion.pairing`; the side pair with most round pairs wins, one to
   one), or else when the sides themselves pair: first round to first round, with the first-round
   uncertainty of one interval between rounds (the first may not have been located).
3. **Count.** Rounds heard but not told apart are counted from the arrivals: at every sensor that
   holds at least two of the side's rounds, the travel time is known from them (no weather needed),
   and the detections in the side's span, widened by one interval, that no other event holds are
   counted. The count is ``low`` = the rounds located, ``best`` = the median count of the five sensors
   nearest the side (the loudest: they miss fewest rounds, and a stray arrival from a source elsewhere
   is no likelier there than anywhere), ``high`` = the highest sensor count plus two Poisson sigmas of
   it (a sensor can miss rounds, and pick up a stray arrival). Two sides of one mission pool their
   sensors.

Everything here is a function of the located events and the detections: no simulator constant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from truceline.fusion.pairing import BALLISTICS, Pairs, pair_events

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class MissionParams:
    """Grouping gates: seconds between consecutive rounds, metres between rounds of one side."""

    gap_s: float = 30.0
    launch_m: float = 400.0
    impact_m: float = 1200.0
    rate_mlrs_s: float = 1.5
    """Rounds this close in time (median) and at least ``min_mlrs`` of them: a rocket ripple."""
    min_mlrs: int = 8


@dataclass(frozen=True)
class Located:
    """The events as the mission builder sees them (grid metres, seconds from the fusion epoch)."""

    kind: IntArray  # 0 launch, 1 impact, 2 undetermined
    x: FloatArray
    y: FloatArray
    t0: FloatArray
    cov: FloatArray  # (n, 2, 2) grid metres²
    det: IntArray  # (n, S) detection index, -1 padding; inliers only
    det_sensor: IntArray
    det_t: FloatArray
    sensor_xy: FloatArray  # (n_sensors, 2) grid metres


@dataclass(frozen=True)
class Mission:
    """One fire mission: its rounds (event indices), sides, count, areas and weapon family."""

    members: IntArray
    launch: IntArray
    impact: IntArray
    rounds: tuple[int, int, int]
    launch_area: tuple[float, float, FloatArray] | None
    impact_area: tuple[float, float, FloatArray] | None
    ballistic: int  # index into BALLISTICS, -1 unknown
    ripple: bool


def sides(ev: Located, params: MissionParams) -> IntArray:
    """Side label of every event (events of one side share it); undetermined events stand alone."""
    n = ev.x.size
    sigma = np.sqrt(np.maximum(np.linalg.eigvalsh(ev.cov)[:, -1], 0.0)) if n else np.zeros(0)
    reach = np.where(ev.kind == 0, params.launch_m, params.impact_m) + 3 * sigma
    if n < 2:
        return np.arange(n, dtype=np.int64)
    scale = float(np.max(reach)) / params.gap_s
    pts = np.column_stack([ev.x, ev.y, ev.t0 * scale])
    pairs = cKDTree(pts).query_pairs(r=float(np.max(reach)) * math.sqrt(2.0), output_type="ndarray")
    if pairs.size:
        a, b = pairs[:, 0], pairs[:, 1]
        d = np.hypot(ev.x[a] - ev.x[b], ev.y[a] - ev.y[b])
        ok = (
            (ev.kind[a] == ev.kind[b])
            & (ev.kind[a] < 2)
            & (np.abs(ev.t0[a] - ev.t0[b]) <= params.gap_s)
            & (d <= np.hypot(reach[a], reach[b]) / math.sqrt(2.0))
        )
        a, b = a[ok], b[ok]
    else:
        a = b = np.zeros(0, np.int64)
    graph = coo_matrix((np.ones(a.size), (a, b)), shape=(n, n))
    label = np.asarray(connected_components(graph, directed=False)[1], dtype=np.int64)
    return _adopt_undetermined(ev, label, reach, params)


def _adopt_undetermined(ev: Located, label: IntArray, reach: FloatArray, params: MissionParams) -> IntArray:
    """An undetermined event (its signature neither launch nor impact: often a round of a train whose
    arrivals mixed) joins the side of the nearest launch or impact within the gates, as a round of
    the mission that is counted but not used for its areas."""
    und, det = np.flatnonzero(ev.kind == 2), np.flatnonzero(ev.kind < 2)
    if und.size == 0 or det.size == 0:
        return label
    scale = float(np.max(reach)) / params.gap_s
    tree = cKDTree(np.column_stack([ev.x[det], ev.y[det], ev.t0[det] * scale]))
    dist, j = tree.query(np.column_stack([ev.x[und], ev.y[und], ev.t0[und] * scale]), k=1)
    out = label.copy()
    for u, dd, jj in zip(und.tolist(), np.atleast_1d(dist).tolist(), np.atleast_1d(j).tolist(), strict=True):
        near = int(det[jj])
        gap = abs(float(ev.t0[u] - ev.t0[near]))
        space = math.hypot(float(ev.x[u] - ev.x[near]), float(ev.y[u] - ev.y[near]))
        if gap <= params.gap_s and space <= math.hypot(reach[u], reach[near]) / math.sqrt(2.0) and np.isfinite(dd):
            out[u] = label[near]
    return out


def _side_pairs(side: IntArray, kind: IntArray, pairs: Pairs) -> dict[int, int]:
    """Launch side -> impact side, by the most round pairs between them (one to one)."""
    if pairs.launch.size == 0:
        return {}
    ls, is_ = side[pairs.launch], side[pairs.impact]
    ul, ui = np.unique(ls), np.unique(is_)
    count = np.zeros((ul.size, ui.size))
    np.add.at(count, (np.searchsorted(ul, ls), np.searchsorted(ui, is_)), 1.0)
    r, c = linear_sum_assignment(-count)
    return {int(ul[p]): int(ui[q]) for p, q in zip(r, c, strict=True) if count[p, q] > 0}


def _side_table(
    ev: Located, side: IntArray, labels: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """First time, centre x, y, sigma (m, centre error and spread) and interval (s) of each side."""
    t = np.empty(labels.size)
    x, y, s, gap = (np.empty(labels.size) for _ in range(4))
    for k, lab in enumerate(labels.tolist()):
        m = np.flatnonzero((side == lab) & (ev.kind < 2))
        cx, cy, cov = _area(ev, m, spread=True)
        t[k], x[k], y[k] = ev.t0[m].min(), cx, cy
        s[k] = math.sqrt(max(float(np.linalg.eigvalsh(cov)[-1]), 0.0))
        gap[k] = float(np.median(np.diff(np.sort(ev.t0[m])))) if m.size > 1 else 0.5
    return t, x, y, s, gap


def pair_sides(ev: Located, side: IntArray, pairs: Pairs, params: MissionParams) -> dict[int, int]:
    """Launch side -> impact side: by round pairs first, then side to side for the sides left."""
    linked = _side_pairs(side, ev.kind, pairs)
    labels, counts = np.unique(side, return_counts=True)
    kind_of = np.full(labels.size, 2, np.int64)
    det = ev.kind < 2  # a side's kind is its launches' or impacts' (undetermined rounds adopted by it aside)
    kind_of[np.searchsorted(labels, side[det])] = ev.kind[det]
    free = ~np.isin(labels, np.array(list(linked) + list(linked.values()), dtype=np.int64))
    cand = free & (kind_of < 2)
    if not cand.any():
        return linked
    lab = labels[cand]
    t, x, y, s, gap = _side_table(ev, side, lab)
    k = kind_of[cand]
    multi = counts[cand] > 1
    found = pair_events(k == 0, k == 1, t, x, y, s, t_sigma_s=np.maximum(gap, 0.05))
    for li, ii in zip(found.launch.tolist(), found.impact.tolist(), strict=True):
        if multi[li] or multi[ii]:  # two lone rounds were the round-level pairing's to judge
            linked[int(lab[li])] = int(lab[ii])
    return linked


def _area(ev: Located, m: IntArray, spread: bool, floor_m: float = 0.0) -> tuple[float, float, FloatArray]:
    """Centre (inverse-covariance weighted) and its covariance; with ``spread`` the rounds' scatter
    about the centre is added (a dispersion ellipse that holds the rounds, not only the centre's error),
    each of its axes at least ``floor_m`` (one sigma): the weapon's own dispersion at that range, as
    rounds that landed close together in time are often located as fewer, averaged rounds."""
    cov = ev.cov[m]
    inv = np.linalg.inv(cov + np.eye(2) * 1.0)
    info = inv.sum(axis=0)
    c = np.linalg.inv(info)
    centre = c @ np.einsum("nij,nj->i", inv, np.column_stack([ev.x[m], ev.y[m]]))
    if not spread:
        return float(centre[0]), float(centre[1]), c
    d = np.column_stack([ev.x[m], ev.y[m]]) - centre
    scatter = (d.T @ d) / max(m.size - 1, 1) if m.size > 1 else np.zeros((2, 2))
    w, v = np.linalg.eigh(scatter)
    scatter = (v * np.maximum(w, floor_m**2)) @ v.T
    return float(centre[0]), float(centre[1]), c + scatter


def owners(ev: Located) -> IntArray:
    """The event holding each detection, -1 for none."""
    out = np.full(ev.det_t.size, -1, np.int64)
    rows, cols = np.nonzero(ev.det >= 0)
    out[ev.det[rows, cols]] = rows
    return out


@dataclass(frozen=True)
class BySensor:
    """The detections sorted by sensor, then time: ``order`` into the detections, and their sensor, time
    and holding event (-1 none) in that order. Built once per run."""

    order: IntArray
    sensor: IntArray
    t: FloatArray
    owner: IntArray

    @classmethod
    def of(cls, ev: Located) -> BySensor:
        order = np.lexsort((ev.det_t, ev.det_sensor))
        return cls(order, ev.det_sensor[order], ev.det_t[order], owners(ev)[order])


def sensor_counts(ev: Located, m: IntArray, idx: BySensor) -> dict[int, tuple[int, float, float, float]]:
    """Rounds heard at each sensor holding two or more of the side's rounds, with the window counted
    and the sensor's distance from the side (see the module's 3.): sensor -> (count, start, end, metres)."""
    dets = ev.det[m]
    rows, cols = np.nonzero(dets >= 0)
    d = dets[rows, cols]
    sens = ev.det_sensor[d]
    travel = ev.det_t[d] - ev.t0[m][rows]
    t_first, t_last = float(ev.t0[m].min()), float(ev.t0[m].max())
    gap = float(np.median(np.diff(np.sort(ev.t0[m])))) if m.size > 1 else 0.5
    widen = min(gap, 15.0) + 0.25
    cx, cy = float(ev.x[m].mean()), float(ev.y[m].mean())
    out = {}
    for s in np.unique(sens).tolist():
        here = sens == s
        if here.sum() < 2:
            continue
        tau = float(np.median(travel[here]))
        lo_i, hi_i = np.searchsorted(idx.sensor, [s, s + 1])
        start, end = t_first + tau - widen, t_last + tau + widen
        a, b = np.searchsorted(idx.t[lo_i:hi_i], [start, end])
        held = idx.owner[lo_i + a : lo_i + b]
        far = math.hypot(float(ev.sensor_xy[s, 0]) - cx, float(ev.sensor_xy[s, 1]) - cy)
        out[s] = (int(np.sum((held < 0) | np.isin(held, m))), start, end, far)
    return out


Counts = dict[int, tuple[int, float, float, float]]


def clean_counts(launch: Counts, impact: Counts) -> list[tuple[int, float]]:
    """``(count, distance)`` of the sensors where the launch train and the impact train do not overlap
    (where they do, a sensor's window holds arrivals of both)."""
    out = []
    for mine, other in ((launch, impact), (impact, launch)):
        for s, (n, a, b, far) in mine.items():
            o = other.get(s)
            if o is None or b < o[1] or o[2] < a:
                out.append((n, far))
    return out


def count_rounds(located: int, counts: list[tuple[int, float]], nearest: int = 5) -> tuple[int, int, int]:
    """``(low, best, high)`` rounds from the rounds located and the sensors' ``(count, distance)`` (module's 3.)."""
    if not counts:
        return located, located, located
    near = [n for n, _ in sorted(counts, key=lambda c: c[1])[:nearest]]
    best = max(located, round(float(np.median(near))))
    top = max(n for n, _ in counts)
    high = max(best, math.ceil(top + 2.0 * math.sqrt(top)))
    return min(located, best), best, high


def build_missions(ev: Located, pairs: Pairs, params: MissionParams | None = None) -> list[Mission]:
    """Every event in exactly one mission (most are single rounds: one event, or a launch-impact pair)."""
    params = params or MissionParams()
    n = ev.x.size
    side = sides(ev, params)
    linked = pair_sides(ev, side, pairs, params)
    comp = side.copy()
    for launch_side, impact_side in linked.items():
        comp[comp == impact_side] = launch_side
    # Round pairs inside one mission stay; a round pair across two missions is not kept.
    idx = BySensor.of(ev)
    out = []
    for m in members_of(comp):
        out.append(_mission(ev, m, pairs, idx, params))
    return out if n else []


def members_of(labels: IntArray) -> list[IntArray]:
    """The indices of each label's members, labels in ascending order (one sort, not one scan per label)."""
    if labels.size == 0:
        return []
    order = np.argsort(labels, kind="stable")
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    return [np.asarray(g, dtype=np.int64) for g in np.split(order, cuts)]


def _mission(ev: Located, m: IntArray, pairs: Pairs, idx: BySensor, params: MissionParams) -> Mission:
    launch, impact = m[ev.kind[m] == 0], m[ev.kind[m] == 1]
    counts = clean_counts(
        sensor_counts(ev, launch, idx) if launch.size else {}, sensor_counts(ev, impact, idx) if impact.size else {}
    )
    located = max(launch.size, impact.size, 1)
    rounds = count_rounds(located, counts) if m.size > 1 or counts else (1, 1, 1)
    fam = _family(m, pairs)
    times = np.sort(ev.t0[launch if launch.size > 1 else impact if impact.size > 1 else m])
    ripple = rounds[1] >= params.min_mlrs and times.size > 1 and float(np.median(np.diff(times))) <= params.rate_mlrs_s
    if fam < 0 and ripple:
        fam = next(k for k, b in enumerate(BALLISTICS) if b.name.startswith("mlrs"))
    return Mission(
        members=m[np.argsort(ev.t0[m], kind="stable")],
        launch=launch,
        impact=impact,
        rounds=rounds,
        launch_area=_area(ev, launch, spread=True) if launch.size > 1 else None,
        impact_area=_area(ev, impact, spread=True, floor_m=_dispersion_m(ev, launch, impact, fam))
        if impact.size > 1
        else None,
        ballistic=fam,
        ripple=bool(ripple),
    )


def _family(m: IntArray, pairs: Pairs) -> int:
    """The weapon family most of the mission's round pairs fit, -1 if none."""
    inside = np.isin(pairs.launch, m) & np.isin(pairs.impact, m)
    if not inside.any():
        return -1
    vals, counts = np.unique(pairs.ballistic[inside], return_counts=True)
    return int(vals[np.argmax(counts)])


def _dispersion_m(ev: Located, launch: IntArray, impact: IntArray, fam: int) -> float:
    """The weapon family's dispersion at the mission's range (launch to impact centre), 0 if unknown."""
    if fam < 0 or launch.size == 0 or impact.size == 0:
        return 0.0
    rng = math.hypot(float(ev.x[impact].mean() - ev.x[launch].mean()), float(ev.y[impact].mean() - ev.y[launch].mean()))
    return BALLISTICS[fam].dispersion_frac * rng
