"""Is there a source? The weight of evidence of each located event against noise alone.

The association proposes events from as few as ``NoiseModel.evidence_min_sensors`` arrivals (4).
Whether such an event is a source or a coincidence of unrelated arrivals is decided here, by the
posterior odds of two hypotheses about the event's detections, every term estimated from the run's
own data:

- **source** at the located ``(x, y, t0)``: each working sensor in range hears it with the
  probability ``p(d | m)`` of its distance and the source's margin ``m`` over the threshold (the
  run's detection law, :mod:`truceline.fusion.loudness`; the margin integrated out), and an arrival
  lands at its predicted time with the arrival's Gaussian error (``NoiseModel.arrival_variance``,
  physical sound-speed sigma);
- **noise**: the same arrivals are false detections (or arrivals of other sources) of their
  sensors, at each sensor's own rate ``λ_s`` (per second; the local rate of a busy minute when
  higher: in a ripple's train every arrival is cheap to find).

::

    log odds = log ∫ Π_heard p(d_i | m) Π_missed (1 - p(d_j | m)) π(m) dm
             + Σ_heard [log φ(r_i / σ_i) - log σ_i - log λ_i]
             + log ρ + log((2π)^{3/2} √det C)

``missed`` are the sensors in range that were working (they reported detections within
:attr:`EvidenceParams.alive_within_s` of the arrival, and no health report puts them out of
service: outage, jammed, destroyed) and have no detection near the predicted
arrival at all (a sensor whose arrival is held by another event is masked, not a miss). The last
line is the Occam factor of the source's three free parameters (Laplace approximation around the
fit, covariance ``C`` of ``(x, y, t0)``) times the prior density ``ρ`` of sources per m² and second
(the run's events over the area the network hears and the run's duration): a fit assembled from
coincidences is paid for by the search that found it.

An event of the quiet pass (:func:`truceline.fusion.associate.associate_quiet`, over the arrivals
the first pass left), or with fewer inlier sensors than the noise model's ``min_sensors`` (6), is
kept when its posterior probability of being a source is at least
:attr:`EvidenceParams.accept_probability` (0.99). The first pass's larger events are kept whatever
their odds, but only an event that passes is attributed to a party (``fusion/run.py``). The log odds
go into every event's provenance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

from truceline.core import DEFAULT_NOISE, NoiseModel
from truceline.fusion.inputs import FusionInput
from truceline.fusion.locate import LocateResult
from truceline.fusion.lookups import SensorTimes
from truceline.fusion.loudness import HearingLaw, LoudnessParams, fit_law, marginal_log_lik
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
    alive_within_s : float
        A sensor counts as working at a time if it reported a detection this close to it, s (1800).
    loose_s, loose_fraction : float
        Timing spread of an arrival of the source that the association left out (a late pick of a
        weak arrival, the weather off along a long path): ``loose_s + loose_fraction · travel``
        (1 s + 5 % of the travel time). A working sensor that is not among the event's arrivals
        counts as ``(1 - p) + p · Σ_j f(t_j) / λ``: it missed the source, or one of its detections
        near the prediction is the source's, loosely picked, rather than noise at its local rate ``λ``.
    busy_window_s : float
        Half-width of the window in which a sensor's local rate of arrivals is counted, s (30).

    loudness : LoudnessParams
        The grids of the detection law (:mod:`truceline.fusion.loudness`).
    """

    accept_probability: float = 0.99
    range_m: float = 80_000.0
    alive_within_s: float = 1800.0
    loose_s: float = 1.0
    loose_fraction: float = 0.05
    busy_window_s: float = 30.0
    loudness: LoudnessParams = field(default_factory=LoudnessParams)

    def as_dict(self) -> dict[str, float | int]:
        """The settings flat, prefixed ``evidence_`` (``fusion.json``, provenance)."""
        out = {f"evidence_{f.name}": getattr(self, f.name) for f in fields(self) if f.name != "loudness"}
        return out | self.loudness.as_dict()

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
    law: HearingLaw  # the run's detection law (learnt from its well-heard events)
    false_rate: FloatArray  # per sensor, 1/s
    p_mirror: FloatArray  # the mirror solution's share of the evidence (0: no distinct mirror)

    def take(self, idx: IntArray) -> Evidence:
        """The rows ``idx`` of the per-event figures (the run's law and rates stay whole)."""
        return replace(
            self,
            log_odds=self.log_odds[idx],
            heard=self.heard[idx],
            missed=self.missed[idx],
            masked=self.masked[idx],
            accept=self.accept[idx],
            p_mirror=self.p_mirror[idx],
        )

    def doubt(self, i: int, prm: EvidenceParams) -> str | None:
        """Why event ``i`` is not attributed for lack of evidence that it is a source (None: it is)."""
        if self.log_odds[i] >= prm.accept_log_odds:
            return None
        return (
            f"not attributed, source doubtful: log odds {self.log_odds[i]:.1f} of a source against noise "
            f"(needs {prm.accept_log_odds:.1f}; {self.heard[i]} sensors heard it, {self.missed[i]} working "
            "sensors in range did not)"
        )


def false_rates(inp: FusionInput, held: BoolArray) -> FloatArray:
    """Each sensor's rate of detections no event holds (``held``), per second (one added: never 0)."""
    span = max(float(np.ptp(inp.det_t)) if inp.det_t.size else 0.0, 600.0)
    counts = np.bincount(inp.det_sensor[~held], minlength=len(inp.sensors)).astype(float)
    return (counts + 1.0) / span


def _pairs(inp: FusionInput, sol: LocateResult, prm: EvidenceParams) -> tuple[IntArray, IntArray, FloatArray]:
    """Every (event, sensor) within range: event index, sensor index, distance (projected m)."""
    x, y = sol.x, sol.y
    sx, sy = inp.sensors.x, inp.sensors.y
    order = np.argsort(sx)
    ev_i, se_i, dist = [], [], []
    by_x = np.argsort(np.nan_to_num(x))  # chunks of nearby events: each looks at the sensors near it
    for chunk in np.array_split(by_x, max(1, x.size // 2000)):
        lo = np.searchsorted(sx[order], x[chunk].min() - prm.range_m)
        hi = np.searchsorted(sx[order], x[chunk].max() + prm.range_m)
        cand = order[lo:hi]
        d = np.hypot(sx[cand][None, :] - x[chunk, None], sy[cand][None, :] - y[chunk, None])
        e, s = np.nonzero(d <= prm.range_m)
        ev_i.append(chunk[e])
        se_i.append(cand[s])
        dist.append(d[e, s])
    return np.concatenate(ev_i), np.concatenate(se_i), np.concatenate(dist)


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


@dataclass(frozen=True)
class _Run:
    """What every event's test shares: the run's rates, lookups, prior density, law and timing scale."""

    lam: FloatArray
    times: SensorTimes  # every detection
    log_rho: float
    scale: float = 1.0
    law: HearingLaw | None = None


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
    only is where the other row could not hear it. The log odds are then those of a source at either,
    and the counts those of the likelier solution.
    """
    noise, prm = noise or DEFAULT_NOISE, prm or EvidenceParams()
    n = ref.fit.x.size
    quiet_mask = np.zeros(n, bool) if quiet is None else np.asarray(quiet, bool)
    inl = (ref.det >= 0) & ref.fit.inlier
    held = np.zeros(len(inp.det_t), bool)
    held[ref.det[inl]] = True
    lam = false_rates(inp, held)
    if n == 0:
        z = np.zeros(0, np.int64)
        return Evidence(np.zeros(0), z, z, z, np.zeros(0, bool), fit_law(z, np.zeros(0), np.zeros(0, bool),
                        np.zeros(0, bool), 0, prm.loudness), lam, np.zeros(0))  # fmt: skip
    ns = len(inp.sensors)
    run = _Run(lam, SensorTimes(inp.det_sensor, inp.det_t, ns), math.log(_prior_density(inp, n, prm)))
    run = replace(run, scale=timing_scale(ref.fit, inl.sum(axis=1) >= prm.loudness.train_min_sensors))
    fit = _Odds(inp, ref.det, ref.fit, noise, prm, run)
    run = replace(run, law=fit.law)
    distinct = np.flatnonzero(ref.p_mirror > 0)
    log_odds, p_mirror = fit.log_odds.copy(), np.zeros(n)
    counts = np.stack([fit.n_in, fit.missed, fit.masked])
    if distinct.size:
        mir = _Odds(inp, ref.det[distinct], ref.take(distinct).mirror, noise, prm, run)
        a, b = fit.log_odds[distinct], mir.log_odds
        p_mirror[distinct] = np.nan_to_num(1.0 / (1.0 + np.exp(np.clip(a - b, -50.0, 50.0))), nan=0.0)
        log_odds[distinct] = np.logaddexp(a, b)
        flip = p_mirror[distinct] > 0.5
        counts[:, distinct[flip]] = np.stack([mir.n_in, mir.missed, mir.masked])[:, flip]
    log_odds = np.nan_to_num(log_odds, nan=-np.inf)
    return Evidence(
        log_odds,
        counts[0],
        counts[1],
        counts[2],
        (log_odds >= prm.accept_log_odds) | ((counts[0] >= noise.min_sensors) & ~quiet_mask),
        fit.law,
        lam,
        p_mirror,
    )


def _loose_support(sensor: IntArray, t: FloatArray, travel: FloatArray, run: _Run, prm: EvidenceParams) -> FloatArray:
    """For a working sensor that is not among an event's arrivals: ``Σ_j f(t_j - t) / λ`` over its
    detections ``t_j`` near the predicted arrival ``t``, ``f`` the density of this source's arrival
    picked loosely (``σ = loose_s + loose_fraction · travel``) and ``λ`` the sensor's rate (its local
    rate within the same ±5 σ when higher). 0 when nothing is near (a miss); about 1 when the sensor is busy (its
    detections there tell nothing, whichever event holds them: a detector reports one arrival for
    two that coincide); large when one lands where the source's would."""
    sigma = prm.loose_s + prm.loose_fraction * travel
    # The local rate at the scale of the window itself: in a ripple's train the detections are
    # dense for seconds, and one of them near the prediction is no evidence of this source.
    local = run.times.count_within(sensor, t, 5 * sigma) / (10 * sigma)
    rate = np.maximum(run.lam[sensor], local)
    return run.times.gauss_sum(sensor, t, sigma) / rate


class _Odds:
    """The log odds of a source at each event's solution ``sol`` (the fit or its mirror; ``det`` the
    events' detection indices); the run's law is learnt here when it has none yet."""

    def __init__(
        self, inp: FusionInput, det: IntArray, sol: LocateResult, noise: NoiseModel, prm: EvidenceParams, run: _Run
    ) -> None:
        n = sol.x.size
        ev, se, dist = _pairs(inp, sol, prm)
        heard_mat = np.zeros((n, len(inp.sensors)), bool)
        rows, cols = np.nonzero((det >= 0) & sol.inlier)
        heard_mat[rows, inp.det_sensor[det[rows, cols]]] = True
        heard = heard_mat[ev, se]
        t0 = sol.t0[ev]
        c, u, v = inp.weather.at(t0, (inp.sensors.x[se] + sol.x[ev]) / 2, (inp.sensors.y[se] + sol.y[ev]) / 2)
        dx, dy = inp.sensors.x[se] - sol.x[ev], inp.sensors.y[se] - sol.y[ev]
        speed = (c + (u * dx + v * dy) / np.maximum(dist, 1.0)) * inp.sensors.k[se]
        travel = dist / np.maximum(speed, 1.0)
        alive = ~heard & (run.times.nearest_gap(se, t0 + travel) <= prm.alive_within_s)
        if inp.health is not None:  # a sensor reported out of service (outage, jammed, destroyed)
            cand = np.flatnonzero(alive)
            alive[cand] = inp.health.working_at(se[cand], t0[cand] + travel[cand])
        support = np.zeros(ev.size)
        support[alive] = _loose_support(se[alive], t0[alive] + travel[alive], travel[alive], run, prm)
        self.n_in = np.bincount(rows, minlength=n).astype(np.int64)
        use = heard | alive
        e, d, h, sq = ev[use], dist[use], heard[use], support[use]
        # A degraded sensor hears less far (its threshold DEGRADED_PENALTY_DB higher): its miss weighs less.
        pen = None if inp.health is None else inp.health.penalty_at(se[use], t0[use] + travel[use])
        train = self.n_in >= prm.loudness.train_min_sensors
        law = run.law or fit_law(e, d, h, train, n, prm.loudness, sq, pen)
        self.law = law
        ll_heard = marginal_log_lik(law, e, d, h, n, prm.loudness, sq, pen)
        ll_time = _arrival_terms(inp, det, sol, noise, run, prm.busy_window_s, rows, cols, n)
        self.log_odds = ll_heard + ll_time + _occam(sol, run)
        missed, masked = alive & (support < 1.0), alive & (support >= 1.0)
        self.missed = np.bincount(ev, weights=missed, minlength=n).astype(np.int64)
        self.masked = np.bincount(ev, weights=masked, minlength=n).astype(np.int64)


def _occam(sol: LocateResult, run: _Run) -> FloatArray:
    """``log ρ + log((2π)^{3/2} √det C)``, ``C`` the fit's covariance (χ²-inflated, with the shared
    weather error: the posterior's width about the fit): -inf where it is not a proper covariance."""
    sign, logdet = np.linalg.slogdet(sol.cov)
    ok = (sign > 0) & np.isfinite(logdet)
    return np.where(ok, run.log_rho + 1.5 * math.log(2 * math.pi) + 0.5 * np.where(ok, logdet, 0.0), -np.inf)


def timing_scale(sol: LocateResult, train: BoolArray, lo: float = 0.5, hi: float = 2.0) -> float:
    """How much tighter (< 1) or looser (> 1) the run's arrivals are than the noise model says: the
    square root of the median χ² of its well-heard events over the median of the χ² law, within
    [``lo``, ``hi``] (1 when there are none). The noise model is a prior on the weather's quality; a
    run whose arrivals fit better than it should weigh them as they are."""
    dof = sol.n_obs[train] - 3
    ok = dof > 0
    if not ok.any():
        return 1.0
    ratio = sol.chi2_dof[train][ok] * dof[ok] / chi2.ppf(0.5, dof[ok])
    return float(np.clip(math.sqrt(max(float(np.median(ratio)), 0.0)), lo, hi))


def _arrival_terms(
    inp: FusionInput,
    det_index: IntArray,
    sol: LocateResult,
    noise: NoiseModel,
    run: _Run,
    window_s: float,
    rows: IntArray,
    cols: IntArray,
    n: int,
) -> FloatArray:
    """Per event, ``Σ log(φ(r/σ) / (σ λ))`` over its inlier arrivals at the final solution, ``σ`` the
    noise model's times the run's ``scale`` (:func:`timing_scale`)."""
    d = det_index[rows, cols]
    s = inp.det_sensor[d]
    x, y, t0 = sol.x[rows], sol.y[rows], sol.t0[rows]
    dist = np.hypot(inp.sensors.x[s] - x, inp.sensors.y[s] - y)
    c, u, v = inp.weather.at(t0, (inp.sensors.x[s] + x) / 2, (inp.sensors.y[s] + y) / 2)
    speed = (c + (u * (inp.sensors.x[s] - x) + v * (inp.sensors.y[s] - y)) / np.maximum(dist, 1.0)) * inp.sensors.k[s]
    travel = dist / np.maximum(speed, 1.0)
    sigma = run.scale * np.sqrt(noise.arrival_variance(inp.detections.time_sigma_s[d], travel, speed))
    r = (inp.det_t[d] - t0 - travel) / sigma
    # Under noise, an arrival comes at its sensor's rate at that time: the day's rate, or the local
    # rate of a busy minute (a ripple's train, a barrage) when that is higher.
    local = (run.times.count_within(s, inp.det_t[d], window_s) - 1) / (2 * window_s)
    rate = np.maximum(run.lam[s], local)
    term = -0.5 * r * r - 0.5 * math.log(2 * math.pi) - np.log(sigma) - np.log(rate)
    return np.bincount(rows, weights=term, minlength=n).astype(np.float64)
