"""Propagation and detection: which sensors hear each source, when, from where, and how loud.

Physics (see ``docs/scenarios.md``):

- travel time ``d / (c(T) + w·û)``: the speed of sound at the path's temperature plus the wind
  component along the path (source -> sensor), both from the weather field at the path midpoint;
- per-path jitter ``N(0, sqrt(j0² + (f·tt)²))`` (turbulence grows with travel time);
- received level ``SL - 20 log10(d) - α d - upwind_loss · max(0, -w·û)``; detection when it
  exceeds the threshold (raised by wind noise at the sensor, and for degraded sensors) with a
  ``detection_sigma_db`` normal fluctuation;
- arrival = origin + travel + jitter + sensor clock error + timing noise ``σ_t``;
- arrays measure the geodesic azimuth to the source, deflected by the cross-wind
  (``atan(w_perp / c)``), plus ``N(0, σ_b)``;
- false detections: a Poisson rate per sensor-hour plus bursts (many in a short span on one
  sensor), at levels near the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from pyproj import Geod
from scipy.spatial import cKDTree
from scipy.special import ndtr

from truceline.sim.network import SensorNet
from truceline.sim.scenario import Propagation
from truceline.sim.weather import WeatherField, sound_speed_ms

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
GEOD = Geod(ellps="WGS84")
P_REF = 20e-6


@dataclass
class Sources:
    """Acoustic sources (one per true event)."""

    t: FloatArray
    x: FloatArray
    y: FloatArray
    lon: FloatArray
    lat: FloatArray
    level_db: FloatArray
    is_launch: NDArray[np.bool_]


@dataclass
class Detections:
    """Detections, true and false, in no particular order."""

    sensor: IntArray
    arrival_s: FloatArray
    amplitude_pa: FloatArray
    bearing_deg: FloatArray  # NaN without a bearing
    launch_score: FloatArray
    source: IntArray  # index of the true source, -1 for false detections

    def __len__(self) -> int:
        return int(self.sensor.size)


def detect(
    src: Sources, net: SensorNet, weather: WeatherField, cfg: Propagation, duration_s: float, rng: np.random.Generator
) -> Detections:
    """True detections of every source by every sensor that hears it, plus false detections."""
    tree = cKDTree(np.column_stack([net.x, net.y]))
    lists = tree.query_ball_point(np.column_stack([src.x, src.y]), r=cfg.max_range_km * 1000.0)
    counts = np.fromiter((len(v) for v in lists), dtype=np.int64, count=len(lists))
    s_idx = np.repeat(np.arange(src.t.size), counts)
    n_idx = np.fromiter((j for v in lists for j in v), dtype=np.int64, count=int(counts.sum()))
    true = _true_detections(src, net, weather, cfg, rng, s_idx, n_idx)
    false = _false_detections(net, cfg, duration_s, rng)
    return Detections(*(np.concatenate([getattr(true, f), getattr(false, f)]) for f in Detections.__dataclass_fields__))


def _true_detections(
    src: Sources,
    net: SensorNet,
    weather: WeatherField,
    cfg: Propagation,
    rng: np.random.Generator,
    s_idx: IntArray,
    n_idx: IntArray,
) -> Detections:
    # Geodesic distance and true azimuths (a projected chord is off by the scale factor, ~0.1 %).
    az_src, az_sensor, d = GEOD.inv(src.lon[s_idx], src.lat[s_idx], net.lon[n_idx], net.lat[n_idx])
    d = np.maximum(np.asarray(d), 1.0)
    heading = np.radians(np.asarray(az_src))
    ux, uy = np.sin(heading), np.cos(heading)  # true east / north unit vector, source -> sensor
    t0 = src.t[s_idx]
    temp, wu, wv = weather.at(t0, (net.x[n_idx] + src.x[s_idx]) / 2, (net.y[n_idx] + src.y[s_idx]) / 2)
    c = sound_speed_ms(temp)
    w_along = wu * ux + wv * uy
    w_cross = -wu * uy + wv * ux  # positive: wind to the left of the path
    travel = d / (c + w_along)
    jitter = rng.normal(0, 1, d.size) * np.sqrt(
        (cfg.path_jitter_ms / 1000.0) ** 2 + (cfg.path_jitter_fraction * travel) ** 2
    )
    level = (
        src.level_db[s_idx]
        - 20.0 * np.log10(d)
        - cfg.absorption_db_per_km * d / 1000.0
        - cfg.upwind_loss_db_per_ms * np.maximum(0.0, -w_along)
    )
    _, wu_s, wv_s = weather.at(t0 + travel, net.x[n_idx], net.y[n_idx])
    threshold = cfg.threshold_db + cfg.wind_noise_db_per_ms * np.hypot(wu_s, wv_s)
    arrival_true = t0 + travel + jitter
    threshold = threshold + 10.0 * net.degraded(n_idx, arrival_true)
    heard = rng.uniform(0, 1, d.size) < ndtr((level - threshold) / cfg.detection_sigma_db)
    heard &= ~net.down(n_idx, arrival_true)
    keep = np.flatnonzero(heard)
    s_k, n_k = s_idx[keep], n_idx[keep]
    clock = net.clock_offset_s[n_k] + net.clock_drift[n_k] * arrival_true[keep]
    arrival = arrival_true[keep] + clock + rng.normal(0, net.timing_sigma_s, keep.size)
    amp = P_REF * 10.0 ** ((level[keep] + rng.normal(0, 3.0, keep.size)) / 20.0)
    bearing = np.full(keep.size, np.nan)
    if net.has_bearing:
        # Sound arrives along the wind-drifted ray: the apparent source sits downwind of the true one.
        deflect = np.degrees(np.arctan2(w_cross[keep], c[keep]))
        az = np.asarray(az_sensor)[keep]
        bearing = np.mod(az + deflect + rng.normal(0, net.bearing_sigma_deg, keep.size), 360.0)
    score = np.where(src.is_launch[s_k], rng.beta(5, 2, keep.size), rng.beta(2, 5, keep.size))
    return Detections(n_k, arrival, amp, bearing, score, s_k)


def _false_detections(net: SensorNet, cfg: Propagation, duration_s: float, rng: np.random.Generator) -> Detections:
    n = len(net)
    per = rng.poisson(cfg.false_per_sensor_hour * duration_s / 3600.0, n)
    sensor = np.repeat(np.arange(n), per)
    t = rng.uniform(0, duration_s, sensor.size)
    bursts = rng.poisson(cfg.false_bursts_per_day * duration_s / 86_400.0)
    if bursts and n:
        b_sensor = rng.integers(0, n, bursts)
        b_t = rng.uniform(0, duration_s, bursts)
        k = cfg.false_burst_size
        sensor = np.concatenate([sensor, np.repeat(b_sensor, k)])
        t = np.concatenate(
            [t, np.clip(np.repeat(b_t, k) + rng.uniform(0, cfg.false_burst_span_s, bursts * k), 0, duration_s)]
        )
    keep = ~net.down(sensor, t)
    sensor, t = sensor[keep], t[keep]
    level = cfg.threshold_db + np.abs(rng.normal(0, cfg.detection_sigma_db, sensor.size))
    amp = P_REF * 10.0 ** (level / 20.0)
    bearing = rng.uniform(0, 360, sensor.size) if net.has_bearing else np.full(sensor.size, np.nan)
    return Detections(sensor, t, amp, bearing, rng.beta(2, 2, sensor.size), np.full(sensor.size, -1, dtype=np.int64))
