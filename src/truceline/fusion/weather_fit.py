"""Weather estimated from the well-located events, not trusted (issue 12, item 4).

A weather report that is wrong or stale (3 m/s of wind, 3 °C) biases every travel time of its region
and hour the same way: a source's arrivals are late downwind and early upwind, by ``d / v²`` times the
error. The located events carry that signature in their residuals, as seismology's station corrections
do. For each hour and weather region with enough well-located events (``min_events``, each with at
least ``min_arrivals`` inlier arrivals), the corrections ``(δc, δu, δv)`` to the sound speed and the
wind are the least-squares solution of

    P_i r_ij  =  P_i [-(d_ij k_i / v_ij²) · (δc + δu·ux_ij + δv·uy_ij)]

(residual ``r`` of arrival ``j`` of event ``i``; ``k`` the projection's scale factor; ``P_i`` the
projection that takes out what the event's own position and origin time can absorb: a wind error that
is uniform over a region shifts sources as well as timing them, and only the part that scales with
distance shows), weighted by the arrivals' timing variances, with a
Gaussian prior of ``prior_ms`` on each term (a region and hour with little evidence keeps its report).
The events are then located again with the corrected weather, and the estimate is repeated
``passes`` times (the positions had absorbed part of the error). Association is not repeated: the
corrections move locations and ellipses, not which arrivals form an event.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from truceline.core import NoiseModel
from truceline.fusion.associate import AssocEvent
from truceline.fusion.inputs import FusionInput
from truceline.fusion.locate import _predict
from truceline.fusion.refine import Refined, _input, refine
from truceline.fusion.weather import WeatherTable

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class WeatherFitParams:
    """``bin_s``: time bins of the corrections; ``min_events`` / ``min_arrivals``: what a bin and region
    needs to be corrected; ``prior_ms``: the prior sigma of each correction; ``passes``;
    ``significance_chi2``: a correction is applied only when it differs from none by this much (the
    chi-square of 3 degrees of freedom at 99 %)."""

    bin_s: float = 3600.0
    min_events: int = 10
    min_arrivals: int = 8
    prior_ms: float = 3.0
    passes: int = 4
    significance_chi2: float = 11.34


@dataclass
class CorrectedWeather(WeatherTable):
    """A weather table plus corrections per time bin and region: ``delta[k, r] = (δc, δu, δv)`` from
    ``edges[k]`` to ``edges[k + 1]`` (grid axes for the wind)."""

    edges: FloatArray = field(default_factory=lambda: np.zeros(2))
    delta: FloatArray = field(default_factory=lambda: np.zeros((1, 1, 3)))

    def at(self, t_s: FloatArray, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        c, u, v = super().at(t_s, x, y)
        t_s, x, y = np.broadcast_arrays(np.asarray(t_s, float), np.asarray(x, float), np.asarray(y, float))
        k = np.clip(np.searchsorted(self.edges, t_s, side="right") - 1, 0, self.delta.shape[0] - 1)
        d = self.delta[k, region_of(self, x, y)]
        return c + d[..., 0], u + d[..., 1], v + d[..., 2]


def region_of(w: WeatherTable, x: FloatArray, y: FloatArray) -> IntArray:
    """The weather region at grid points (the table's raster, as :meth:`WeatherTable.at` reads it)."""
    ny, nx = w.raster.shape
    ix = np.clip(((np.asarray(x) - w.x0) // w.cell_m).astype(np.int64), 0, nx - 1)
    iy = np.clip(((np.asarray(y) - w.y0) // w.cell_m).astype(np.int64), 0, ny - 1)
    return np.asarray(w.raster[iy, ix], dtype=np.int64)


def fit_weather(
    inp: FusionInput, events: list[AssocEvent], ref: Refined, noise: NoiseModel, params: WeatherFitParams | None = None
) -> tuple[FusionInput, Refined, FloatArray]:
    """The input with its weather corrected, the events located again with it, and the corrections
    ``(bins, regions, 3)`` (zeros where nothing was estimated)."""
    params = params or WeatherFitParams()
    if ref.fit.x.size == 0:
        return inp, ref, np.zeros((0, 0, 3))
    base = inp.weather
    t0 = ref.fit.t0
    lo = np.floor(np.nanmin(t0) / params.bin_s) * params.bin_s
    n_bins = int(np.ceil((np.nanmax(t0) - lo) / params.bin_s)) + 1
    edges = lo + params.bin_s * np.arange(n_bins + 1)
    total = np.zeros((n_bins, base.c.shape[1], 3))
    for _ in range(params.passes):
        step = _estimate(inp, ref, noise, edges, params)
        if not np.any(step):
            break
        total = total + step
        fields_ = {f.name: getattr(base, f.name) for f in dataclasses.fields(WeatherTable)}
        inp = dataclasses.replace(inp, weather=CorrectedWeather(**fields_, edges=edges, delta=total))
        ref = refine(inp, events, noise)
    return inp, ref, total


def _estimate(
    inp: FusionInput, ref: Refined, noise: NoiseModel, edges: FloatArray, params: WeatherFitParams
) -> FloatArray:
    """One pass of the corrections (module docstring) over the events as now located."""
    fit = ref.fit
    li, k = _input(inp, ref.det, fit.x, fit.y, fit.t0, noise)
    use = li.mask & fit.inlier
    d, ux, uy, v = _predict(li, fit.x, fit.y)
    r = np.where(use, li.t - fit.t0[:, None] - d / v, 0.0)
    g = np.where(use, -d * k[:, None] / v**2, 0.0)
    jac = np.stack([g, g * ux, g * uy], axis=-1)  # (E, S, 3)
    w = np.where(use, 1.0 / np.maximum(li.sigma_t, 1e-3) ** 2, 0.0)
    n = use.sum(axis=1)
    good = (n >= params.min_arrivals) & np.isfinite(fit.x)
    # Take out what each event's own position and origin time absorb: project the residuals and the
    # weather's Jacobian onto the complement of the event's (x, y, t0) Jacobian (weighted least squares).
    own = np.stack([np.where(use, -ux / v, 0.0), np.where(use, -uy / v, 0.0), use.astype(float)], axis=-1)
    ata = np.einsum("esi,es,esj->eij", own, w, own) + np.eye(3) * 1e-9
    solve = np.linalg.solve(ata[good], np.einsum("esi,es,esk->eik", own[good], w[good], np.concatenate(
        [r[good][..., None], jac[good]], axis=-1)))  # fmt: skip
    fitted = np.einsum("esi,eik->esk", own[good], solve)
    r_c, j_c = np.zeros_like(r), np.zeros_like(jac)
    r_c[good] = r[good] - fitted[..., 0]
    j_c[good] = jac[good] - fitted[..., 1:]
    k_bin = np.clip(np.searchsorted(edges, fit.t0, side="right") - 1, 0, edges.size - 2)
    reg = region_of(inp.weather, fit.x, fit.y)
    out = np.zeros((edges.size - 1, inp.weather.c.shape[1], 3))
    prior = np.eye(3) / params.prior_ms**2
    for b, rr in set(zip(k_bin[good].tolist(), reg[good].tolist(), strict=True)):
        sel = good & (k_bin == b) & (reg == rr)
        if sel.sum() < params.min_events:
            continue
        jw = j_c[sel] * w[sel][..., None]
        a = np.einsum("esi,esj->ij", jw, j_c[sel]) + prior
        rhs = np.einsum("esi,es->i", jw, np.where(use[sel], r_c[sel], 0.0))
        delta = np.linalg.solve(a, rhs)
        # Only a correction the evidence shows (chi-square of the estimate against its own covariance,
        # 3 degrees of freedom, above its 99 % point): where the report is right, the noise of a thin
        # bin would only move sources.
        if float(delta @ a @ delta) > params.significance_chi2:
            out[b, rr] = delta
    return out
