"""Is an event one source? Tests run before any event is attributed to a side.

An event assembled from arrivals of several sources (rounds of a salvo, launch and impact trains
crossing at a sensor, unrelated sources whose arrivals happen to line up) can fit a place where
nothing fired, sometimes with small residuals. Three tests, each at the level ``alpha``, with the
statistics of a pure event under the run's :class:`~truceline.core.NoiseModel`:

- **misfit**: the χ² of the inlier arrivals (and bearings) with ``n - 3`` degrees of freedom,
  divided by the run's variance factor (below); a pure event exceeds the ``1 - alpha`` quantile
  of its χ² with probability ``alpha``;
- **outliers**: arrivals the robust location rejected (beyond ``TUKEY_C`` sigmas); with Gaussian
  noise of the run's variance a pure event's arrival lands there with probability
  ``2 Φ(-TUKEY_C / σ0)``, so the count is binomial; more than that allows means arrivals of
  another source in the event;
- **explained elsewhere**: an arrival is *explained* by another event when that event's solution
  predicts an arrival at the same sensor within the inlier gate of the location (``TUKEY_C``
  sigmas of the noise model plus that event's position and time uncertainty). A pure event's
  arrivals are explained elsewhere only by chance: the expected number is the rate of other
  events' predictions at each of its sensors around its arrival times (within ``window_s``),
  times the gate's width, summed over its arrivals; the count is then Poisson. Many more
  explained arrivals than chance allows mean the event borrowed arrivals of sources found
  elsewhere: a coincidence of several sources, not a source.

The variance factor ``σ0²`` (the a-posteriori variance of unit weight, as geodesy estimates it) is
taken from the run itself: the median over its events of χ² divided by the median of its χ²
distribution, never below 1. The stated noise model holds for the timing of a sensor; the weather
the run was given, the terrain and the turbulence of the day add to every event alike, and a test
against the stated noise alone would call most events of a windy day mixed. Mixed events are a
minority of a run, so the median is that of pure events, and a mixed event still stands out.

A doubtful event stays unattributed and says why (the first line of its attribution's evidence).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import binom, chi2, norm, poisson

from truceline.core import NoiseModel
from truceline.fusion.inputs import FusionInput
from truceline.fusion.locate import TUKEY_C
from truceline.fusion.refine import Refined

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Longest travel time considered when looking for the events that could explain an arrival, s.
MAX_TRAVEL_S = 300.0
#: Slowest and fastest effective sound speed over the ground, m/s (any air, any wind, scale factor).
SPEED_BOUNDS_MS = (200.0, 500.0)


@dataclass(frozen=True)
class SourceTest:
    """Per event: doubtful or not, and why (empty where the event passed)."""

    doubtful: NDArray[np.bool_]
    reason: list[str]
    misfit_p: FloatArray
    outliers: IntArray
    explained: IntArray
    explained_expected: FloatArray


def single_source_test(
    inp: FusionInput, ref: Refined, noise: NoiseModel, alpha: float, window_s: float = 30.0
) -> SourceTest:
    """Run both tests (module docstring) on every refined event."""
    fit = ref.fit
    n = fit.x.size
    dof = fit.n_obs - 3
    chi2_total = np.nan_to_num(fit.chi2_dof, nan=0.0) * np.maximum(dof, 0)
    s0 = variance_factor(chi2_total, dof)
    misfit_p = np.where(dof > 0, chi2.sf(chi2_total / s0, np.maximum(dof, 1)), 1.0)
    arrivals = ref.det >= 0
    outliers = (arrivals & ~fit.inlier).sum(axis=1)
    outlier_p = binom.sf(outliers - 1, arrivals.sum(axis=1), 2 * norm.sf(TUKEY_C / np.sqrt(s0)))
    explained, expected = _explained_elsewhere(inp, ref, noise, window_s)
    explained_p = poisson.sf(explained - 1, np.maximum(expected, 1e-12))
    reasons = []
    for i in range(n):
        why = []
        if misfit_p[i] < alpha:
            why.append(f"misfit chi2={chi2_total[i]:.1f} on {int(dof[i])} dof, variance factor {s0:.2f} "
                       f"(p={misfit_p[i]:.1e} < {alpha:g})")  # fmt: skip
        if outliers[i] > 0 and outlier_p[i] < alpha:
            why.append(f"{int(outliers[i])} arrivals rejected as outliers (p={outlier_p[i]:.1e} < {alpha:g})")
        if explained[i] > 0 and explained_p[i] < alpha:
            why.append(
                f"{int(explained[i])} of its arrivals fit other events' solutions, "
                f"{expected[i]:.2f} expected by chance (p={explained_p[i]:.1e} < {alpha:g})"
            )
        reasons.append("; ".join(why))
    doubtful = np.array([bool(r) for r in reasons], dtype=bool)
    return SourceTest(doubtful, reasons, misfit_p, outliers, explained, expected)


def variance_factor(chi2_total: FloatArray, dof: IntArray) -> float:
    """The run's variance of unit weight: median of χ² / median of its χ² law, at least 1 (module docstring)."""
    ok = dof > 0
    if not ok.any():
        return 1.0
    ratio = chi2_total[ok] / chi2.ppf(0.5, dof[ok])
    return max(1.0, float(np.median(ratio)))


def _explained_elsewhere(
    inp: FusionInput, ref: Refined, noise: NoiseModel, window_s: float
) -> tuple[IntArray, FloatArray]:
    """Count each event's inlier arrivals that another event predicts, and the count chance gives."""
    fit = ref.fit
    n = fit.x.size
    ev, col = np.nonzero((ref.det >= 0) & fit.inlier)
    if n < 2 or ev.size == 0:
        return np.zeros(n, np.int64), np.zeros(n)
    det = ref.det[ev, col]
    s = inp.det_sensor[det]
    t = inp.det_t[det]
    order = np.argsort(fit.t0, kind="stable")
    t0_sorted = fit.t0[order]
    lo = np.searchsorted(t0_sorted, t - MAX_TRAVEL_S - window_s, side="left")
    hi = np.searchsorted(t0_sorted, t + window_s, side="right")
    counts = hi - lo
    arr = np.repeat(np.arange(ev.size), counts)
    other = order[np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(lo, counts)]
    keep = other != ev[arr]
    # Only pairs whose arrival can lie within the window of the other's prediction at any speed
    # sound travels at (SPEED_BOUNDS_MS, wind included): the rest cannot count either way.
    arr, other = arr[keep], other[keep]
    d_rough = np.hypot(inp.sensors.x[s[arr]] - fit.x[other], inp.sensors.y[s[arr]] - fit.y[other])
    lag_rough = t[arr] - fit.t0[other]
    slow, fast = SPEED_BOUNDS_MS
    keep = (lag_rough >= d_rough / fast - window_s) & (lag_rough <= d_rough / slow + window_s)
    arr, other = arr[keep], other[keep]
    sx, sy = inp.sensors.x[s[arr]], inp.sensors.y[s[arr]]
    bx, by, bt = fit.x[other], fit.y[other], fit.t0[other]
    c, u, v = inp.weather.at(bt, (sx + bx) / 2, (sy + by) / 2)
    k = ref.k[other]
    dx, dy = sx - bx, sy - by
    d = np.maximum(np.hypot(dx, dy), 1.0)
    speed = np.maximum((c + (u * dx + v * dy) / d) * k, 1.0)
    travel = d / speed
    pred = bt + travel
    cov = fit.cov[other]
    ux, uy = dx / d, dy / d
    # Variance of the prediction: the arrival's noise plus the other event's position and time.
    var_pos = (ux * ux * cov[:, 0, 0] + 2 * ux * uy * cov[:, 0, 1] + uy * uy * cov[:, 1, 1]) / speed**2
    var = (
        noise.arrival_variance(inp.detections.time_sigma_s[det[arr]], travel, speed)
        + np.maximum(var_pos, 0.0)
        + np.maximum(cov[:, 2, 2], 0.0)
    )
    gate = TUKEY_C * np.sqrt(var)
    lag = np.abs(t[arr] - pred)
    hit = lag < gate
    near = lag < window_s
    explained = np.zeros(ev.size, bool)
    explained[arr[hit]] = True
    # Chance: other events' predictions within the window around the arrival, each covering 2*gate.
    chance = np.zeros(ev.size)
    np.add.at(chance, arr[near], np.minimum(2 * gate[near] / (2 * window_s), 1.0))
    n_explained = np.bincount(ev, weights=explained, minlength=n).astype(np.int64)
    expected = np.bincount(ev, weights=chance, minlength=n).astype(np.float64)
    return n_explained, expected
