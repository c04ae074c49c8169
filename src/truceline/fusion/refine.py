"""Final location of associated events: every arrival (and bearing), per-path weather, mirror check.

The association solution is the start; :func:`truceline.fusion.locate.locate` solves all events
at once with the weather along each path (sound speed and wind at the path's midpoint, at the
origin time), the projection's scale factor, bearings turned to grid north, and returns the
calibrated covariance. Each event is solved a second time from its mirror image across the row
its sensors form; where that converges elsewhere, the two misfits give the mirror probability.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
from numpy.typing import NDArray

from truceline.core import DEFAULT_NOISE, NoiseModel
from truceline.fusion.associate import AssocEvent
from truceline.fusion.inputs import FusionInput
from truceline.fusion.locate import LocateInput, LocateResult, locate
from truceline.fusion.side import mirror_start, mirror_weight

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Refined:
    """Final solutions, one row per event (projected metres, seconds from the fusion epoch)."""

    det: NDArray[np.int64]  # (E, S) detection index, -1 padding
    fit: LocateResult
    mirror: LocateResult
    p_mirror: FloatArray
    k: FloatArray

    def take(self, idx: NDArray[np.int64]) -> Refined:
        """The rows ``idx`` only (events dropped after location keep their solutions' order)."""

        def rows(r: LocateResult) -> LocateResult:
            return LocateResult(**{f.name: getattr(r, f.name)[idx] for f in fields(r)})

        return Refined(self.det[idx], rows(self.fit), rows(self.mirror), self.p_mirror[idx], self.k[idx])

    def splice(self, idx: NDArray[np.int64], other: Refined) -> Refined:
        """These solutions with rows ``idx`` replaced by ``other``'s (in order; padding widened to fit).
        Each event is solved on its own (:func:`~truceline.fusion.locate.locate`), so a row solved
        again alone is what solving all of them again would give (to rounding)."""
        width = max(self.det.shape[1], other.det.shape[1])
        a, b = self.widened(width), other.widened(width)

        def put(u: LocateResult, v: LocateResult) -> LocateResult:
            vals = {}
            for f in fields(u):
                arr = getattr(u, f.name).copy()
                arr[idx] = getattr(v, f.name)
                vals[f.name] = arr
            return LocateResult(**vals)

        det, p_m, k = a.det.copy(), a.p_mirror.copy(), a.k.copy()
        det[idx], p_m[idx], k[idx] = b.det, b.p_mirror, b.k
        return Refined(det, put(a.fit, b.fit), put(a.mirror, b.mirror), p_m, k)

    def widened(self, width: int) -> Refined:
        """The same solutions with the arrival columns padded to ``width`` (-1 / not an inlier)."""
        extra = width - self.det.shape[1]
        if extra <= 0:
            return self

        def pad(r: LocateResult) -> LocateResult:
            return replace(r, inlier=np.pad(r.inlier, ((0, 0), (0, extra)), constant_values=False))

        det = np.pad(self.det, ((0, 0), (0, extra)), constant_values=-1)
        return Refined(det, pad(self.fit), pad(self.mirror), self.p_mirror, self.k)

    def with_mirror_weight(self, p_mirror: FloatArray) -> Refined:
        """The same solutions with new mirror probabilities; the likelier of the two becomes the fit."""
        swap = p_mirror > 0.5
        fit, mirror = _swap(self.fit, self.mirror, swap) if swap.any() else (self.fit, self.mirror)
        return Refined(self.det, fit, mirror, np.where(swap, 1.0 - p_mirror, p_mirror), self.k)


@dataclass(frozen=True)
class Merged:
    """Events after :func:`merge_mirror_duplicates`: ``events``, the row of the input each comes from
    (``kept``) and the rows of ``events`` that took another event's arrivals (``changed``)."""

    events: list[AssocEvent]
    kept: NDArray[np.int64]
    changed: NDArray[np.int64]


def _input(
    inp: FusionInput,
    det: NDArray[np.int64],
    x: FloatArray,
    y: FloatArray,
    t0: FloatArray,
    noise: NoiseModel,
) -> tuple[LocateInput, FloatArray]:
    mask = det >= 0
    d = np.where(mask, det, 0)
    s = inp.det_sensor[d]
    sx = np.where(mask, inp.sensors.x[s], x[:, None])  # padding sits on the source: no effect
    sy = np.where(mask, inp.sensors.y[s], y[:, None])
    k = inp.sensors.k[s[:, 0]]
    c, u, v = inp.weather.at(np.broadcast_to(t0[:, None], sx.shape), (sx + x[:, None]) / 2, (sy + y[:, None]) / 2)
    tab = inp.detections
    bearing = tab.bearing_deg[d]
    has_b = mask & ~np.isnan(bearing)
    bearing_grid = np.where(has_b, (bearing + inp.sensors.north_deg[s]) % 360.0, np.nan)
    travel = np.hypot(sx - x[:, None], sy - y[:, None]) / np.maximum(c * k[:, None], 1.0)
    sigma_t = noise.timing_sigma_s(tab.time_sigma_s[d], travel)
    li = LocateInput(
        sx=sx,
        sy=sy,
        t=np.where(mask, inp.det_t[d], 0.0),
        sigma_t=sigma_t,
        mask=mask,
        c=c * k[:, None],
        wind_u=u * k[:, None],
        wind_v=v * k[:, None],
        bearing_deg=bearing_grid if has_b.any() else None,
        sigma_b_deg=np.where(has_b, tab.bearing_sigma_deg[d], np.nan) if has_b.any() else None,
        sigma_c=noise.sound_speed_sigma_ms,
        path_sigma_s=noise.path_sigma_s,
        common_c_sigma=noise.common_sound_speed_sigma_ms,
        common_wind_sigma=noise.common_wind_sigma_ms,
    )
    return li, k


def refine(inp: FusionInput, events: list[AssocEvent], noise: NoiseModel | None = None) -> Refined:
    """Locate every associated event with all its arrivals; see the module docstring.

    Each arrival's variance is the ``noise`` model's (default :data:`~truceline.core.DEFAULT_NOISE`),
    with its physical sound-speed sigma.
    """
    noise = noise or DEFAULT_NOISE
    n = len(events)
    width = max((e.members.size for e in events), default=1)
    det = np.full((n, width), -1, np.int64)
    for i, e in enumerate(events):
        det[i, : e.members.size] = e.members
    x0 = np.array([e.x for e in events])
    y0 = np.array([e.y for e in events])
    t0 = np.array([e.t0 for e in events])
    li, k = _input(inp, det, x0, y0, t0, noise)
    fit = locate(li, x0, y0)
    mx, my = mirror_start(li.sx, li.sy, li.mask, fit.x, fit.y)
    mirror = locate(li, mx, my)
    apart = np.hypot(mirror.x - fit.x, mirror.y - fit.y)
    spread = np.sqrt(np.maximum(np.linalg.eigvalsh(fit.cov_xy)[:, -1], 0.0))
    distinct = (apart > np.maximum(500.0, 3.0 * spread)) & mirror.converged
    p_m = mirror_weight(fit.robust_cost, mirror.robust_cost, distinct)
    # Keep the better of the two as the event's position.
    swap = p_m > 0.5
    if swap.any():
        fit, mirror = _swap(fit, mirror, swap)
        p_m = np.where(swap, 1.0 - p_m, p_m)
    return Refined(det, fit, mirror, p_m, k)


def _swap(a: LocateResult, b: LocateResult, sel: NDArray[np.bool_]) -> tuple[LocateResult, LocateResult]:
    def pick(u: LocateResult, v: LocateResult) -> LocateResult:
        vals = {}
        for name in LocateResult.__dataclass_fields__:
            p, q = getattr(u, name), getattr(v, name)
            m = sel.reshape((-1,) + (1,) * (p.ndim - 1))
            vals[name] = np.where(m, q, p)
        return LocateResult(**vals)

    return pick(a, b), pick(b, a)


def merge_mirror_duplicates(
    inp: FusionInput,
    events: list[AssocEvent],
    ref: Refined,
    dup_s: float = 1.0,
    dup_m: float = 1500.0,
    noise: NoiseModel | None = None,
) -> Merged | None:
    """Merge events that are one source seen twice: once at its mirror image (from the first sensors to
    hear it, all in one row) and once where it is. Returns the merged events (with the rows of
    ``events`` they come from and those that took arrivals), or None if nothing merged.

    Event ``a`` duplicates a bigger event ``b`` (origin times within ``dup_s``, places apart) when
    ``a``'s arrivals, solved from ``b``'s position, stay there with all (but one) as inliers and a
    consistent fit; ``b`` then takes ``a``'s arrivals at sensors it lacks. The fit uses the ``noise``
    model :func:`refine` used (default :data:`~truceline.core.DEFAULT_NOISE`).
    """
    n = len(events)
    if n < 2:
        return None
    fit = ref.fit
    size = np.array([e.members.size for e in events])
    order = np.argsort(fit.t0)
    t_sorted = fit.t0[order]
    hi = np.searchsorted(t_sorted, t_sorted + dup_s, side="right")
    pa, pb = [], []
    for i in range(n):
        for j in range(i + 1, hi[i]):
            a, b = order[i], order[j]
            if np.hypot(fit.x[a] - fit.x[b], fit.y[a] - fit.y[b]) < 2 * dup_m:
                continue
            small, big = (a, b) if size[a] <= size[b] else (b, a)
            pa.append(small)
            pb.append(big)
    absorbed = np.full(n, -1)
    if not pa:
        return None
    ia, ib = np.array(pa), np.array(pb)
    # Do the smaller event's arrivals fit the bigger one's position (its other local solution)?
    sub = ref.det[ia]
    li, _ = _input(inp, sub, fit.x[ib], fit.y[ib], fit.t0[ib], noise or DEFAULT_NOISE)
    alt = locate(li, fit.x[ib], fit.y[ib])
    n_obs = (sub >= 0).sum(axis=1)
    ok = (
        (np.hypot(alt.x - fit.x[ib], alt.y - fit.y[ib]) < dup_m)
        & (alt.inlier.sum(axis=1) >= n_obs - 1)
        & (np.nan_to_num(alt.chi2_dof, nan=0.0) <= 2.0)
    )
    for a, b in zip(ia[ok], ib[ok], strict=True):
        if absorbed[a] < 0 and absorbed[b] < 0:
            absorbed[a] = b
    if not (absorbed >= 0).any():
        return None
    out: list[AssocEvent] = []
    kept: list[int] = []
    changed: list[int] = []
    extra: dict[int, list[int]] = {}
    for a in np.flatnonzero(absorbed >= 0):
        extra.setdefault(int(absorbed[a]), []).extend(events[a].members.tolist())
    for i, e in enumerate(events):
        if absorbed[i] >= 0:
            continue
        if i in extra:
            have = set(inp.det_sensor[e.members].tolist())
            add = [g for g in extra[i] if inp.det_sensor[g] not in have]
            e = replace(e, members=np.concatenate([e.members, np.array(add, np.int64)]),
                        x=float(fit.x[i]), y=float(fit.y[i]), t0=float(fit.t0[i]))  # fmt: skip
            changed.append(len(out))
        kept.append(i)
        out.append(e)
    return Merged(out, np.array(kept, np.int64), np.array(changed, np.int64))


def refine_merged(inp: FusionInput, ref: Refined, merged: Merged, noise: NoiseModel | None = None) -> Refined:
    """The solutions of ``merged``'s events from those of the events it was made from (``ref``): the
    events that took arrivals solved again, the others as they were."""
    kept = ref.take(merged.kept)
    if merged.changed.size == 0:
        return kept
    return kept.splice(merged.changed, refine(inp, [merged.events[i] for i in merged.changed], noise))
