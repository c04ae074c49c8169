"""Fast "what did this sensor report around time t" lookups for the source test (fusion/evidence.py).

Every query is vectorised: detections (or health reports) are sorted by ``(sensor, time)`` and
searched with one key, ``time + sensor · big``, ``big`` longer than any span searched, so that a
window never spills into another sensor's slice.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]


class SensorTimes:
    """Each sensor's detection times (those of ``keep``, default all), sorted by sensor then time."""

    def __init__(self, det_sensor: IntArray, det_t: FloatArray, n_sensors: int, keep: BoolArray | None = None) -> None:
        s, t = (det_sensor, det_t) if keep is None else (det_sensor[keep], det_t[keep])
        order = np.lexsort((t, s))
        self.t = t[order]
        self.ptr = np.searchsorted(s[order], np.arange(n_sensors + 1))
        self.t_min = float(self.t.min()) if self.t.size else 0.0
        self.big = (float(np.ptp(self.t)) if self.t.size else 0.0) + 4 * 86400.0 + 1.0
        self.key = self.t - self.t_min + self.big * np.repeat(np.arange(n_sensors), np.diff(self.ptr))

    def query(self, sensor: IntArray, t: FloatArray) -> FloatArray:
        """The search key of each ``(sensor, t)``."""
        return np.asarray(t - self.t_min + self.big * sensor, dtype=np.float64)

    def count_within(self, sensor: IntArray, t: FloatArray, w: float | FloatArray) -> IntArray:
        """Detections of each sensor within ``w`` seconds of each ``t`` (inclusive)."""
        q = self.query(sensor, t)
        hi = np.searchsorted(self.key, q + w, side="right")
        return (hi - np.searchsorted(self.key, q - w, side="left")).astype(np.int64)

    def nearest_gap(self, sensor: IntArray, t: FloatArray) -> FloatArray:
        """Distance in time from each ``t`` to the sensor's nearest detection (inf: none)."""
        out = np.full(np.shape(t), np.inf)
        lo, hi = self.ptr[sensor], self.ptr[sensor + 1]
        has = hi > lo
        if not has.any():
            return out
        i = np.searchsorted(self.key, self.query(sensor, t))
        last = max(self.t.size - 1, 0)  # a sensor with no detections: any index, masked below
        left = np.minimum(np.clip(i - 1, lo, np.maximum(hi - 1, lo)), last)
        right = np.minimum(np.clip(i, lo, np.maximum(hi - 1, lo)), last)
        gap = np.minimum(np.abs(self.t[left] - t), np.abs(self.t[right] - t))
        return np.where(has, gap, out)

    def gauss_sum(self, sensor: IntArray, t: FloatArray, sigma: FloatArray, chunk: int = 200_000) -> FloatArray:
        """``Σ_j φ((t_j - t) / σ) / σ`` over each sensor's detections within 5 σ of ``t`` (1/s)."""
        out = np.zeros(np.shape(t))
        for lo_i in range(0, out.size, chunk):
            sl = slice(lo_i, lo_i + chunk)
            q, sg = self.query(sensor[sl], t[sl]), sigma[sl]
            lo = np.searchsorted(self.key, q - 5 * sg)
            count = np.searchsorted(self.key, q + 5 * sg, side="right") - lo
            if not count.any():
                continue
            pair = np.repeat(np.arange(q.size), count)
            idx = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count) + np.repeat(lo, count)
            z = (self.key[idx] - q[pair]) / sg[pair]
            dens = np.exp(-0.5 * z * z) / (math.sqrt(2 * math.pi) * sg[pair])
            out[sl] = np.bincount(pair, weights=dens, minlength=q.size)
        return out
