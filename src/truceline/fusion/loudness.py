"""Who should have heard a source: the run's detection law and each source's own loudness.

A sensor at distance ``d`` hears a source whose level exceeds the sensor's threshold by ``m`` dB at
1 m (the source's *margin*) with probability (the coverage model's physics,
:func:`truceline.core.noise.path_loss_db`)::

    p(d | m) = p_max · Φ((m - path_loss_db(d)) / σ)

``σ`` (dB) is how much the received level fluctuates about its mean (turbulence, terrain, the
sensor's own noise); ``p_max`` the share of arrivals a working sensor reports at all. Both are
learnt from the run's well-heard events (:func:`fit_law`): the pair on a grid that best explains
which sensors heard them, each event's margin integrated out. Rounds differ in loudness, so an
event's margin is not known: :func:`marginal_log_lik` integrates it over a grid with the prior
the training events give (their average posterior, mixed with a uniform floor so that sources
quieter than any seen stay possible). A source heard near and missed far has a margin that
explains it; one heard far and missed near has none.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray
from scipy.special import log_ndtr, logsumexp, ndtr

from truceline.core.noise import ABSORPTION_DB_PER_KM, path_loss_db

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class LoudnessParams:
    """The grids of the detection law (dB unless named otherwise).

    Attributes
    ----------
    margin_min_db, margin_max_db, margin_step_db : float
        Source margins over the threshold at 1 m integrated over (60 to 140 dB by 2: from a source
        heard only within 1 km to one heard across the theatre).
    sigma_min_db, sigma_max_db, sigma_step_db : float
        Fluctuations of the received level tried (1 to 8 dB by 1).
    p_max_min, p_max_max : float
        Range of the share of arrivals a working sensor reports (0.8 to 0.99, 4 values).
    p_max_n : int
    absorption_db_per_km : float
        The coverage model's absorption (0.01 dB/km).
    train_min_sensors : int
        Inlier sensors of an event that trains the law (8).
    train_max_events : int
        At most this many training events (evenly taken) (300).
    prior_floor : float
        Share of the uniform prior in the margin prior (0.25): the training events are the loud ones,
        quieter sources must stay plausible.
    """

    margin_min_db: float = 60.0
    margin_max_db: float = 140.0
    margin_step_db: float = 2.0
    sigma_min_db: float = 1.0
    sigma_max_db: float = 8.0
    sigma_step_db: float = 1.0
    p_max_min: float = 0.8
    p_max_max: float = 0.99
    p_max_n: int = 4
    absorption_db_per_km: float = ABSORPTION_DB_PER_KM
    train_min_sensors: int = 8
    train_max_events: int = 300
    prior_floor: float = 0.25

    def as_dict(self) -> dict[str, float | int]:
        return {f"loudness_{f.name}": getattr(self, f.name) for f in fields(self)}

    def margins(self) -> FloatArray:
        return np.arange(self.margin_min_db, self.margin_max_db + self.margin_step_db / 2, self.margin_step_db)


@dataclass(frozen=True)
class HearingLaw:
    """The run's detection law: level fluctuation, share reported, and the prior over margins."""

    sigma_db: float
    p_max: float
    margins_db: FloatArray
    log_prior: FloatArray


def _grid_lik(
    ev: IntArray,
    loss: FloatArray,
    heard: BoolArray,
    n: int,
    margins: FloatArray,
    sigma: float,
    p_max: float,
    support: FloatArray | None,
) -> FloatArray:
    """(margins, events): Σ over an event's pairs of log p (heard) or log(1 - p + p·support) (not
    among its arrivals; ``support`` 0: missed)."""
    return _grid_lik_many(ev, loss, heard, n, margins, sigma, np.array([p_max]), support)[0]


def _grid_lik_many(
    ev: IntArray,
    loss: FloatArray,
    heard: BoolArray,
    n: int,
    margins: FloatArray,
    sigma: float,
    p_maxes: FloatArray,
    support: FloatArray | None,
) -> FloatArray:
    """(p_maxes, margins, events): :func:`_grid_lik` for several ``p_max`` at once (the normal
    integrals do not depend on it: computed once, each only for the pairs that need it)."""
    out = np.empty((p_maxes.size, margins.size, n))
    hit, other = np.flatnonzero(heard), np.flatnonzero(~heard)
    ev_hit, ev_other, loss_hit, loss_other = ev[hit], ev[other], loss[hit], loss[other]
    extra = np.full(other.size, -1.0) if support is None else support[other] - 1.0
    n_hits = np.bincount(ev_hit, minlength=n).astype(np.float64)
    for g, m in enumerate(margins):
        hits = np.bincount(ev_hit, weights=log_ndtr((m - loss_hit) / sigma), minlength=n)
        reach = ndtr((m - loss_other) / sigma) * extra
        for q, p_max in enumerate(p_maxes):
            rest = np.bincount(ev_other, weights=np.log1p(p_max * reach), minlength=n)
            out[q, g] = hits + n_hits * np.log(p_max) + rest
    return out


def fit_law(
    ev: IntArray,
    dist: FloatArray,
    heard: BoolArray,
    train: BoolArray,
    n: int,
    prm: LoudnessParams | None = None,
    support: FloatArray | None = None,
    penalty_db: FloatArray | None = None,
) -> HearingLaw:
    """The law that best explains the training events' hits and misses (pairs ``ev``, ``dist``,
    ``heard``, ``support`` of events flagged in ``train``, an (n,) mask); the prior when there are none.
    ``penalty_db``: how much less each pair's sensor hears than a healthy one (degraded), dB."""
    prm = prm or LoudnessParams()
    margins = prm.margins()
    uniform = np.full(margins.size, -np.log(margins.size))
    chosen = np.flatnonzero(train)
    if chosen.size == 0:
        mid = 0.5 * (prm.sigma_min_db + prm.sigma_max_db)
        return HearingLaw(float(round(mid)), float(prm.p_max_max), margins, uniform)
    chosen = chosen[np.linspace(0, chosen.size - 1, min(chosen.size, prm.train_max_events)).astype(np.int64)]
    index = np.full(n, -1, np.int64)
    index[chosen] = np.arange(chosen.size)
    sel = index[ev] >= 0
    e, loss, h = index[ev[sel]], _loss(dist, penalty_db, prm)[sel], heard[sel]
    sup = None if support is None else support[sel]
    best: tuple[float, float, float, FloatArray] | None = None
    p_maxes = np.linspace(prm.p_max_min, prm.p_max_max, prm.p_max_n)
    for sigma in np.arange(prm.sigma_min_db, prm.sigma_max_db + prm.sigma_step_db / 2, prm.sigma_step_db):
        grids = _grid_lik_many(e, loss, h, chosen.size, margins, float(sigma), p_maxes, sup) + uniform[:, None]
        for p_max, grid in zip(p_maxes, grids, strict=True):
            total = float(logsumexp(grid, axis=0).sum())
            if best is None or total > best[0]:
                best = (total, float(sigma), float(p_max), grid)
    assert best is not None
    _, sigma, p_max, grid = best
    post = np.exp(grid - logsumexp(grid, axis=0)).mean(axis=1)
    prior = (1 - prm.prior_floor) * post + prm.prior_floor / margins.size
    return HearingLaw(sigma, p_max, margins, np.log(prior))


def marginal_log_lik(
    law: HearingLaw,
    ev: IntArray,
    dist: FloatArray,
    heard: BoolArray,
    n: int,
    prm: LoudnessParams | None = None,
    support: FloatArray | None = None,
    penalty_db: FloatArray | None = None,
) -> FloatArray:
    """Per event, the log probability of its hits and misses with its margin integrated out
    (``support``: see :func:`_grid_lik`; None: every pair not heard is a miss; ``penalty_db`` as in
    :func:`fit_law`)."""
    prm = prm or LoudnessParams()
    loss = _loss(dist, penalty_db, prm)
    grid = _grid_lik(ev, loss, heard, n, law.margins_db, law.sigma_db, law.p_max, support)
    grid += law.log_prior[:, None]
    return np.asarray(logsumexp(grid, axis=0), dtype=np.float64)


def _loss(dist: FloatArray, penalty_db: FloatArray | None, prm: LoudnessParams) -> FloatArray:
    """Path loss of each pair plus its sensor's lost sensitivity (a degraded sensor's higher threshold), dB."""
    loss = path_loss_db(dist, prm.absorption_db_per_km)
    return loss if penalty_db is None else loss + penalty_db
