"""Is there a source? The weight of evidence of each located event against noise alone.

The association proposes events from as few as ``NoiseModel.evidence_min_sensors`` arrivals (4). Whether
such an event is a source or a coincidence of unrelated arrivals is decided here, by the posterior
odds of two hypotheses about the event's detections, every term estimated from the run's own data:

- **source** at the located ``(x, y, t0)``: each sensor in hearing range hears it with the
  probability ``p(d)`` of its distance (the *detection curve*), an arrival lands at its predicted time
  with the arrival's Gaussian error (``NoiseModel.arrival_variance``, physical sound-speed sigma);
- **noise**: the same arrivals are false detections (or arrivals of other sources) of their
  sensors, at each sensor's own rate ``λ_s`` (per second).

::

    log odds = Σ_heard [log p(d_i) + log φ(r_i / σ_i) - log σ_i - log λ_i]
             + Σ_missed log(1 - p(d_j))
             + log ρ + log((2π)^{3/2} √det C)

``missed`` are the sensors in hearing range that were working (they reported detections within
:attr:`EvidenceParams.alive_within_s` of the arrival, and no health report puts them out of service)
and have no detection near the predicted arrival at all (a sensor whose arrival is held by another
event is masked, not a miss). The last line is the Occam factor of the source's three free
parameters (Laplace approximation around the fit, covariance ``C`` of ``(x, y, t0)``) times the
prior density ``ρ`` of sources per m² and second (the run's events over the area the network hears
and the run's duration): a fit assembled from coincidences is paid for by the search that found it.

Loudness differs from round to round (a mortar is heard at a third of a howitzer's range), so the
detection curve is shifted by each event's own best distance shift (the hits and misses decide how
far this source carries). The curve is the share of working sensors in each 1 km distance bin that
heard the run's well-located events (at least :attr:`EvidenceParams.curve_min_sensors` inliers),
drawn towards a logistic prior where those are few, and made non-increasing with distance.

An event of the quiet pass (:func:`truceline.fusion.associate.associate_quiet`, over the arrivals
the first pass left), or with fewer inlier sensors than the noise model's ``min_sensors`` (6), is
kept when its posterior probability of being a source is at least
:attr:`EvidenceParams.accept_probability` (0.99). The first pass's larger events are kept whatever
their odds: under ripple fire the test does not yet tell
well-heard real rounds from coincidences (a busy minute's arrival rate makes every arrival cheap;
docs/fusion.md, known limits). The log odds go into every event's provenance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from truceline.core import DEFAULT_NOISE, NoiseModel
from truceline.fusion.inputs import FusionInput
from truceline.fusion.locate import LocateResult
from truceline.fusion.refine import Refined

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class EvidenceParams:
    """Settings of the source test (units in the names).

    Attributes
    ----------
    accept_probability : float
        Posterior probability of a source an event needs (0.99).
    range_m : float
        Farthest sensor looked at, projected m (80 km, the gather radius of the association).
    bin_m : float
        Width of a distance bin of the detection curve, m (1 km).
    curve_min_sensors : int
        Inlier sensors of an event that trains the detection curve (8).
    prior_events : float
        Weight of the logistic prior in each bin, in events (5).
    prior_half_m, prior_width_m, prior_max : float
        The prior curve ``prior_max / (1 + exp((d - prior_half_m) / prior_width_m))`` (15 km, 3 km, 0.9).
    alive_within_s : float
        A sensor counts as working at a time if it reported a detection this close to it, s (1800).
    mask_s : float
        A sensor with any detection this close to the predicted arrival is not counted as a miss, s (1.0).
    shift_min_m, shift_max_m : float
        The loudness shifts tried, m (-40 km to +20 km, by ``bin_m``).

    busy_window_s : float
        Half-width of the window in which a sensor's local rate of arrivals is counted, s (30).
    """

    accept_probability: float = 0.99
    range_m: float = 80_000.0
    bin_m: float = 1000.0
    curve_min_sensors: int = 8
    prior_events: float = 5.0
    prior_half_m: float = 15_000.0
    prior_width_m: float = 3000.0
    prior_max: float = 0.9
    alive_within_s: float = 1800.0
    mask_s: float = 1.0
    shift_min_m: float = -40_000.0
    shift_max_m: float = 20_000.0
    busy_window_s: float = 30.0

    def as_dict(self) -> dict[str, float | int]:
        """The settings flat, prefixed ``evidence_`` (``fusion.json``, provenance)."""
        return {f"evidence_{f.name}": getattr(self, f.name) for f in fields(self)}

    @property
    def accept_log_odds(self) -> float:
        """The posterior log odds an event needs."""
        p = self.accept_probability
        return math.log(p / (1.0 - p))


@dataclass(frozen=True)
class Evidence:
    """The source test of every event (one row per event)."""

    log_odds: FloatArray
    heard: IntArray
    missed: IntArray
    masked: IntArray
    accept: BoolArray  # kept: the test passed, or the event is large enough not to need it
    curve: FloatArray  # detection probability per distance bin (the run's curve)
    false_rate: FloatArray  # per sensor, 1/s
    p_mirror: FloatArray  # the mirror solution's share of the evidence (0: no distinct mirror)


def false_rates(inp: FusionInput, ref: Refined) -> FloatArray:
    """Each sensor's rate of detections no event holds as an inlier, per second (one added: never 0)."""
    held = np.zeros(len(inp.det_t), bool)
    held[ref.det[(ref.det >= 0) & ref.fit.inlier]] = True
    span = max(float(np.ptp(inp.det_t)) if inp.det_t.size else 0.0, 600.0)
    counts = np.bincount(inp.det_sensor[~held], minlength=len(inp.sensors)).astype(float)
    return (counts + 1.0) / span


class _SensorTimes:
    """Each sensor's detection times, sorted, for "is there a detection near t" lookups."""

    def __init__(self, inp: FusionInput) -> None:
        order = np.lexsort((inp.det_t, inp.det_sensor))
        self.t = inp.det_t[order]
        self.ptr = np.searchsorted(inp.det_sensor[order], np.arange(len(inp.sensors) + 1))

    def count_within(self, sensor: IntArray, t: FloatArray, w: float) -> IntArray:
        """Detections of each sensor within ``w`` seconds of each ``t`` (inclusive)."""
        key, base = self._key()
        q = t - self.t.min() + base * sensor
        return (np.searchsorted(key, q + w, side="right") - np.searchsorted(key, q - w, side="left")).astype(np.int64)

    def _key(self) -> tuple[FloatArray, float]:
        big = float(np.ptp(self.t)) + 4 * 86400.0 + 1.0
        return self.t - self.t.min() + big * np.repeat(np.arange(len(self.ptr) - 1), np.diff(self.ptr)), big

    def nearest_gap(self, sensor: IntArray, t: FloatArray) -> FloatArray:
        """Distance in time from each ``t`` to the sensor's nearest detection (inf: none)."""
        out = np.full(t.shape, np.inf)
        lo, hi = self.ptr[sensor], self.ptr[sensor + 1]
        has = hi > lo
        if not has.any():
            return out
        # Search in each sensor's slice by offsetting times by a large multiple of the sensor index.
        key, big = self._key()
        q = t - self.t.min() + big * sensor
        i = np.searchsorted(key, q)
        last = max(self.t.size - 1, 0)  # a sensor with no detections: any index, masked below
        left = np.minimum(np.clip(i - 1, lo, np.maximum(hi - 1, lo)), last)
        right = np.minimum(np.clip(i, lo, np.maximum(hi - 1, lo)), last)
        gap = np.minimum(np.abs(self.t[left] - t), np.abs(self.t[right] - t))
        return np.where(has, gap, out)


def _pairs(inp: FusionInput, sol: LocateResult, prm: EvidenceParams) -> tuple[IntArray, IntArray, FloatArray]:
    """Every (event, sensor) within range: event index, sensor index, distance (projected m)."""
    x, y = sol.x, sol.y
    sx, sy = inp.sensors.x, inp.sensors.y
    order = np.argsort(sx)
    ev_i, se_i, dist = [], [], []
    for chunk in np.array_split(np.arange(x.size), max(1, x.size // 2000)):
        lo = np.searchsorted(sx[order], x[chunk].min() - prm.range_m)
        hi = np.searchsorted(sx[order], x[chunk].max() + prm.range_m)
        cand = order[lo:hi]
        d = np.hypot(sx[cand][None, :] - x[chunk, None], sy[cand][None, :] - y[chunk, None])
        e, s = np.nonzero(d <= prm.range_m)
        ev_i.append(chunk[e])
        se_i.append(cand[s])
        dist.append(d[e, s])
    return np.concatenate(ev_i), np.concatenate(se_i), np.concatenate(dist)


def _prior_curve(prm: EvidenceParams, centres: FloatArray) -> FloatArray:
    return prm.prior_max / (1.0 + np.exp((centres - prm.prior_half_m) / prm.prior_width_m))


def detection_curve(heard: BoolArray, dist: FloatArray, train: BoolArray, prm: EvidenceParams) -> FloatArray:
    """Share heard per distance bin over the training events' working sensors, non-increasing."""
    nb = math.ceil(prm.range_m / prm.bin_m) + 1
    b = np.minimum((dist / prm.bin_m).astype(np.int64), nb - 1)
    n = np.bincount(b[train], minlength=nb).astype(float)
    h = np.bincount(b[train], weights=heard[train].astype(float), minlength=nb)
    prior = _prior_curve(prm, (np.arange(nb) + 0.5) * prm.bin_m)
    p = (h + prm.prior_events * prior) / (n + prm.prior_events)
    return np.clip(_non_increasing(p, n + prm.prior_events), 1e-4, 0.999)


def _non_increasing(p: FloatArray, w: FloatArray) -> FloatArray:
    """The weighted least-squares non-increasing fit to ``p`` (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [value, weight, length]
    for v, wt in zip(p.tolist(), w.tolist(), strict=True):
        blocks.append([v, wt, 1])
        while len(blocks) > 1 and blocks[-2][0] < blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    return np.concatenate([np.full(int(b[2]), b[0], dtype=np.float64) for b in blocks]).astype(np.float64)


def _prior_density(inp: FusionInput, n_events: int, prm: EvidenceParams) -> float:
    """Sources per m² per s: the run's events over the area within half the range of a sensor."""
    cell = 5000.0
    r = int(prm.range_m / 2 // cell)
    cx, cy = np.floor(inp.sensors.x / cell).astype(np.int64), np.floor(inp.sensors.y / cell).astype(np.int64)
    off = np.arange(-r, r + 1)
    ox, oy = np.meshgrid(off, off)
    keep = (ox**2 + oy**2) <= r * r
    cells = {(a, b) for a, b in zip(cx, cy, strict=True)}
    covered = {(a + i, b + j) for a, b in cells for i, j in zip(ox[keep], oy[keep], strict=True)}
    span = max(float(np.ptp(inp.det_t)) if inp.det_t.size else 0.0, 600.0)
    return max(n_events, 1) / (len(covered) * cell * cell * span)


def source_evidence(
    inp: FusionInput,
    ref: Refined,
    noise: NoiseModel | None = None,
    prm: EvidenceParams | None = None,
    quiet: BoolArray | None = None,
) -> Evidence:
    """The source test of every refined event; see the module docstring. ``quiet`` marks the events
    of the second association pass, which must pass the test whatever their size.

    Where the event has a distinct mirror solution (sensors in one row), the mirror is weighed the
    same way, and :attr:`Evidence.p_mirror` is the mirror's share of the two: a source heard by one row
    only is where the other row could not hear it. The log odds are then those of a source at either.
    """
    noise, prm = noise or DEFAULT_NOISE, prm or EvidenceParams()
    n = ref.fit.x.size
    lam = false_rates(inp, ref)
    if n == 0:
        z = np.zeros(0, np.int64)
        return Evidence(np.zeros(0), z, z, z, np.zeros(0, bool), np.zeros(0), lam, np.zeros(0))
    quiet_mask = np.zeros(n, bool) if quiet is None else np.asarray(quiet, bool)
    times = _SensorTimes(inp)
    fit = _Odds(inp, ref, ref.fit, noise, prm, lam, times, None)
    distinct = ref.p_mirror > 0
    log_odds, p_mirror = fit.log_odds, np.zeros(n)
    if distinct.any():
        sub = ref.take(np.flatnonzero(distinct))
        mir = _Odds(inp, sub, sub.mirror, noise, prm, lam, times, fit.curve)
        a, b = fit.log_odds[distinct], mir.log_odds
        p_mirror[distinct] = 1.0 / (1.0 + np.exp(np.clip(a - b, -50.0, 50.0)))
        log_odds = log_odds.copy()
        log_odds[distinct] = np.logaddexp(a, b)
    return Evidence(
        log_odds,
        fit.n_in,
        fit.missed,
        fit.masked,
        (log_odds >= prm.accept_log_odds) | ((fit.n_in >= noise.min_sensors) & ~quiet_mask),
        fit.curve,
        lam,
        p_mirror,
    )


class _Odds:
    """The log odds of a source at each event's solution ``sol`` (the fit or its mirror)."""

    def __init__(
        self,
        inp: FusionInput,
        ref: Refined,
        sol: LocateResult,
        noise: NoiseModel,
        prm: EvidenceParams,
        lam: FloatArray,
        times: _SensorTimes,
        curve: FloatArray | None,
    ) -> None:
        n = sol.x.size
        ev, se, dist = _pairs(inp, sol, prm)
        heard_mat = np.zeros((n, len(inp.sensors)), bool)
        rows, cols = np.nonzero((ref.det >= 0) & sol.inlier)
        heard_mat[rows, inp.det_sensor[ref.det[rows, cols]]] = True
        heard = heard_mat[ev, se]
        t0 = sol.t0[ev]
        c, u, v = inp.weather.at(t0, (inp.sensors.x[se] + sol.x[ev]) / 2, (inp.sensors.y[se] + sol.y[ev]) / 2)
        dx, dy = inp.sensors.x[se] - sol.x[ev], inp.sensors.y[se] - sol.y[ev]
        speed = (c + (u * dx + v * dy) / np.maximum(dist, 1.0)) * inp.sensors.k[se]
        gap = times.nearest_gap(se, t0 + dist / np.maximum(speed, 1.0))
        masked = ~heard & (gap <= prm.mask_s)
        missed = ~heard & (gap <= prm.alive_within_s) & ~masked
        self.n_in = np.bincount(rows, minlength=n).astype(np.int64)
        if curve is None:
            train = (self.n_in[ev] >= prm.curve_min_sensors) & (heard | missed)
            curve = detection_curve(heard, dist, train, prm)
        self.curve = curve
        ll_curve = _best_shift(curve, ev, dist, heard, missed, n, prm)
        ll_time = _arrival_terms(inp, ref.det, sol, noise, lam, times, prm.busy_window_s, rows, cols, n)
        det_c = np.maximum(np.linalg.det(sol.cov), 1e-30)
        occam = math.log(_prior_density(inp, n, prm)) + 1.5 * math.log(2 * math.pi) + 0.5 * np.log(det_c)
        self.log_odds = ll_curve + ll_time + occam
        self.missed = np.bincount(ev, weights=missed, minlength=n).astype(np.int64)
        self.masked = np.bincount(ev, weights=masked, minlength=n).astype(np.int64)


def _best_shift(
    curve: FloatArray, ev: IntArray, dist: FloatArray, heard: BoolArray, missed: BoolArray, n: int, prm: EvidenceParams
) -> FloatArray:
    """Per event, the hits' ``log p`` and the misses' ``log(1 - p)`` at the best loudness shift."""
    best = np.full(n, -np.inf)
    use = heard | missed
    e, d, h = ev[use], dist[use], heard[use]
    nb = curve.size
    for shift in np.arange(prm.shift_min_m, prm.shift_max_m + prm.bin_m / 2, prm.bin_m):
        b = np.clip(((d - shift) / prm.bin_m).astype(np.int64), 0, nb - 1)
        p = curve[b]
        ll = np.bincount(e, weights=np.where(h, np.log(p), np.log1p(-p)), minlength=n)
        best = np.maximum(best, ll)
    return best


def _arrival_terms(
    inp: FusionInput,
    det_index: IntArray,
    sol: LocateResult,
    noise: NoiseModel,
    lam: FloatArray,
    times: _SensorTimes,
    window_s: float,
    rows: IntArray,
    cols: IntArray,
    n: int,
) -> FloatArray:
    """Per event, ``Σ log(φ(r/σ) / (σ λ))`` over its inlier arrivals at the final solution."""
    d = det_index[rows, cols]
    s = inp.det_sensor[d]
    x, y, t0 = sol.x[rows], sol.y[rows], sol.t0[rows]
    dist = np.hypot(inp.sensors.x[s] - x, inp.sensors.y[s] - y)
    c, u, v = inp.weather.at(t0, (inp.sensors.x[s] + x) / 2, (inp.sensors.y[s] + y) / 2)
    speed = (c + (u * (inp.sensors.x[s] - x) + v * (inp.sensors.y[s] - y)) / np.maximum(dist, 1.0)) * inp.sensors.k[s]
    travel = dist / np.maximum(speed, 1.0)
    sigma = np.sqrt(noise.arrival_variance(inp.detections.time_sigma_s[d], travel, speed))
    r = (inp.det_t[d] - t0 - travel) / sigma
    # Under noise, an arrival comes at its sensor's rate at that time: the day's rate, or the local
    # rate of a busy minute (a ripple's train, a barrage) when that is higher.
    local = (times.count_within(s, inp.det_t[d], window_s) - 1) / (2 * window_s)
    rate = np.maximum(lam[s], local)
    term = -0.5 * r * r - 0.5 * math.log(2 * math.pi) - np.log(sigma) - np.log(rate)
    return np.bincount(rows, weights=term, minlength=n).astype(np.float64)
