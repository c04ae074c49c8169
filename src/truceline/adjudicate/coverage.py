"""Coverage: the probability that the sensor network locates an explosion, per place and time.

A claimed shelling where coverage is good and no located event matches is ``contradicted``; with
no coverage it is ``unverifiable``. Coverage is P(at least ``min_sensors`` sensors hear a source of
the weapon class): the fusion engine locates an event only with that many (both read it from one
:class:`~truceline.core.NoiseModel`, ``DetectionModel.noise``). The physics mirrors the
simulator's (``truceline.sim.propagation``) in calm air (wind only lowers detection): a sensor at
geodesic distance ``d`` (>= 1 m, <= ``max_range_km``) hears with probability
``Phi((SL + e - 20 log10(d / 1 m) - alpha d - threshold) / detection_sigma_db)``, ``e ~ N(0,
source_sigma_db)`` the round's deviation from the nominal level ``SL`` (shared by all sensors,
integrated by Gauss-Hermite), the threshold raised while ``degraded``; ``outage``, ``jammed``,
``destroyed``, not yet installed sensors and kinds that cannot hear (radar, camera) hear nothing.
Given ``e`` sensors hear independently: a dynamic programme over sensors, vectorised over points,
gives the Poisson-binomial tail exactly.

A :class:`~truceline.core.SensorStatusReport` carries no end time: it gives a sensor's health from
its ``time`` (inclusive) until that sensor's next report (the simulator writes ``ok`` when an
outage ends, nothing after ``destroyed``); at equal times the most severe wins. Before any report
a sensor is ``ok`` from its ``installed_at`` on.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from numpy.typing import ArrayLike, NDArray
from pyproj import Geod
from scipy.spatial import cKDTree
from scipy.special import ndtr

from truceline.core import DEFAULT_NOISE, NoiseModel, Sensor, SensorHealth, SensorStatusReport, WeaponClass
from truceline.core.noise import ABSORPTION_DB_PER_KM, DEGRADED_PENALTY_DB, path_loss_db

__all__ = ["HEALTH_CODES", "NOT_INSTALLED", "CoverageGrid", "DetectionModel", "SensorNetwork", "coverage_grid",
           "detection_probability", "expected_sensors", "period_probability"]  # fmt: skip

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
GEOD = Geod(ellps="WGS84")
EARTH_RADIUS_KM = 6371.0088
KM_PER_DEG = math.pi * EARTH_RADIUS_KM / 180.0
MAX_CELLS = 4_000_000
KINDS = ("launch", "impact")
HEALTH_CODES: tuple[SensorHealth, ...] = tuple(SensorHealth)
"""Health codes of :meth:`SensorNetwork.health_at`: index in this tuple, ordered by severity (ok 0 ... destroyed 4)."""
NOT_INSTALLED = -1
"""Health code of a sensor before its ``installed_at``."""
_OK, _DEGRADED = HEALTH_CODES.index(SensorHealth.OK), HEALTH_CODES.index(SensorHealth.DEGRADED)
# The weakest catalogue weapon of each class (truceline.sim.weapons), dB re 20 uPa at 1 m.
_LEVELS_DB: dict[str, dict[str, float]] = {
    WeaponClass.MORTAR_LE_120MM.value: {"launch": 162.0, "impact": 168.0},  # 82 mm mortar
    WeaponClass.TANK.value: {"launch": 186.0, "impact": 174.0},  # 125 mm tank gun
    WeaponClass.ARTILLERY_GE_100MM.value: {"launch": 182.0, "impact": 178.0},  # 122 mm howitzer
    WeaponClass.MLRS.value: {"launch": 176.0, "impact": 180.0},  # 122 mm rockets
}


@dataclass(frozen=True)
class DetectionModel:
    """Detection physics and the fusion rule; defaults are the simulator's ``Propagation`` ones.

    The fusion rule (how many sensors must hear a source) is ``noise.min_sensors``, the
    association's own detection requirement, so that one :class:`~truceline.core.NoiseModel`
    changes both.

    Attributes
    ----------
    threshold_db, detection_sigma_db : float
        Threshold of a healthy sensor, dB re 20 uPa (85); the level's fluctuation about it, dB (5).
    absorption_db_per_km, max_range_km : float
        Atmospheric absorption, dB/km (0.01); nothing is heard beyond ``max_range_km``, km (80).
    degraded_penalty_db : float
        Threshold increase of a ``degraded`` sensor, dB (10).
    noise : NoiseModel
        Its ``min_sensors``: sensors needed to locate a source (6); also :attr:`min_sensors`.
    source_sigma_db, quadrature_points : float, int
        Spread of a round's level about the nominal one, dB (2, as the simulator draws it); the
        Gauss-Hermite nodes integrating it (7; 1: the nominal level only).
    source_level_db, fallback_level_db : mapping
        ``{weapon class: {"launch": dB, "impact": dB}}`` at 1 m, default the weakest catalogue weapon
        of each class: mortar 162/168 (82 mm), tank 186/174, artillery >= 100 mm 182/178 (122 mm
        howitzer), MLRS 176/180; other classes (``unknown``, ``heavy_mlrs``...) get the fallback,
        the 82 mm mortar's 162/168 (the weakest catalogued explosion, so coverage is not overstated).
    inaudible_classes, hearing_kinds : frozenset of str
        Classes not modelled as locatable (small arms, light weapons: coverage 0); sensor kinds that
        hear (acoustic, acoustic_array, infrasound, seismic).
    """

    threshold_db: float = 85.0
    detection_sigma_db: float = 5.0
    absorption_db_per_km: float = ABSORPTION_DB_PER_KM
    max_range_km: float = 80.0
    degraded_penalty_db: float = DEGRADED_PENALTY_DB
    noise: NoiseModel = DEFAULT_NOISE
    source_sigma_db: float = 2.0
    quadrature_points: int = 7
    source_level_db: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: dict(_LEVELS_DB))
    fallback_level_db: Mapping[str, float] = field(default_factory=lambda: {"launch": 162.0, "impact": 168.0})
    inaudible_classes: frozenset[str] = frozenset({WeaponClass.SMALL_ARMS.value, WeaponClass.LIGHT_WEAPONS.value})
    hearing_kinds: frozenset[str] = frozenset({"acoustic", "acoustic_array", "infrasound", "seismic"})

    def __post_init__(self) -> None:
        for name in ("detection_sigma_db", "max_range_km", "absorption_db_per_km", "source_sigma_db"):
            v, positive = getattr(self, name), name in ("detection_sigma_db", "max_range_km")
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < math.inf or (positive and v == 0):
                raise ValueError(f"{name}: must be a finite number {'>' if positive else '>='} 0 (got {v!r})")
        if isinstance(v := self.quadrature_points, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"quadrature_points: must be an integer >= 1 (got {v!r})")
        if not isinstance(self.noise, NoiseModel):
            raise ValueError(f"noise: must be a NoiseModel (got {self.noise!r})")

    @property
    def min_sensors(self) -> int:
        """Sensors that must hear a source for it to be located: the noise model's, as the association's."""
        return self.noise.min_sensors

    def level_db(self, weapon_class: WeaponClass | str, kind: str) -> float | None:
        """Nominal source level at 1 m of a class and kind, dB re 20 uPa; None if inaudible."""
        wc = _weapon_class(weapon_class).value
        if kind not in KINDS:
            raise ValueError(f"kind: must be one of {KINDS} (got {kind!r})")
        levels = self.source_level_db.get(wc, self.fallback_level_db)
        return None if wc in self.inaudible_classes else float(levels[kind])

    def as_dict(self) -> dict[str, Any]:
        """The parameters as JSON-ready values (provenance, GeoJSON metadata); the noise model as its
        ``min_sensors``, in the place that value has always had."""
        out = {("min_sensors" if f.name == "noise" else f.name): getattr(self, f.name) for f in fields(self)}
        return {**out, "min_sensors": self.min_sensors,
                "source_level_db": {k: dict(v) for k, v in self.source_level_db.items()},
                "fallback_level_db": dict(self.fallback_level_db), "hearing_kinds": sorted(self.hearing_kinds),
                "inaudible_classes": sorted(self.inaudible_classes)}  # fmt: skip


def _weapon_class(value: WeaponClass | str) -> WeaponClass:
    try:
        return WeaponClass(value)
    except ValueError:
        raise ValueError(f"weapon_class: unknown {value!r}; known: {[w.value for w in WeaponClass]}") from None


def _seconds(value: dt.datetime, name: str) -> float:
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name}: expected a timezone-aware datetime (got {value!r})")
    return value.timestamp()


def _period(t0: dt.datetime, t1: dt.datetime) -> tuple[float, float]:
    if (b := _seconds(t1, "t1")) < (a := _seconds(t0, "t0")):
        raise ValueError(f"t1: {t1.isoformat()} is before t0 {t0.isoformat()}")
    return a, b


@dataclass(frozen=True, eq=False)
class SensorNetwork:
    """Sensors and their health over time (build it with :meth:`from_records`): ``lon``, ``lat`` in
    degrees, ``installed_s`` and ``report_s`` in POSIX seconds, reports sorted by (sensor, time, severity)."""

    ids: tuple[str, ...]
    lon: FloatArray
    lat: FloatArray
    kinds: NDArray[np.str_]
    installed_s: FloatArray
    report_sensor: IntArray
    report_s: FloatArray
    report_code: IntArray

    @classmethod
    def from_records(
        cls, sensors: Iterable[Sensor], status_reports: Iterable[SensorStatusReport] = ()
    ) -> SensorNetwork:
        """Build from codebook records; duplicate ids or a report of an unknown sensor raise ValueError."""
        sensors = list(sensors)
        index = {s.id: i for i, s in enumerate(sensors)}
        if len(index) != len(sensors):
            raise ValueError("sensors: duplicate sensor ids")
        rows = []
        for r in status_reports:
            if r.sensor_id not in index:
                raise ValueError(f"status_reports: report {r.id!r} names unknown sensor {r.sensor_id!r}")
            rows.append((index[r.sensor_id], r.time.timestamp(), HEALTH_CODES.index(r.health)))
        rep = np.array(sorted(rows), dtype=np.float64).reshape(-1, 3)
        pos = np.array([(s.position.lon_deg, s.position.lat_deg, s.installed_at.timestamp()) for s in sensors])
        pos, kinds = pos.reshape(-1, 3).T.copy(), np.array([s.kind.value for s in sensors], dtype=np.str_)
        return cls(tuple(index), pos[0], pos[1], kinds, pos[2], rep[:, 0].astype(np.int64), rep[:, 1].copy(),
                   rep[:, 2].astype(np.int64))  # fmt: skip

    def __len__(self) -> int:
        return len(self.ids)

    def _codes(self, t_s: float) -> IntArray:
        codes, last = np.full(len(self), _OK, dtype=np.int64), np.full(len(self), -1, dtype=np.int64)
        past = np.flatnonzero(self.report_s <= t_s)
        np.maximum.at(last, self.report_sensor[past], past)  # rows are sorted: the latest, most severe wins
        codes[last >= 0] = self.report_code[last[last >= 0]]
        codes[self.installed_s > t_s] = NOT_INSTALLED
        return codes

    def health_at(self, t: dt.datetime) -> IntArray:
        """Health code of each sensor at ``t``: an index in :data:`HEALTH_CODES`, or :data:`NOT_INSTALLED`."""
        return self._codes(_seconds(t, "t"))

    def change_times(self, t0: dt.datetime, t1: dt.datetime) -> list[dt.datetime]:
        """Times in ``(t0, t1]`` at which some sensor's health code changes, sorted (UTC)."""
        return [dt.datetime.fromtimestamp(c, tz=dt.UTC) for c in self._changes(*_period(t0, t1))]

    def _changes(self, a: float, b: float) -> list[float]:
        times = np.unique(np.concatenate([self.report_s, self.installed_s]))
        cand = [a, *(float(c) for c in times[(times > a) & (times <= b)])]
        codes = [self._codes(c) for c in cand]
        return [c for c, old, new in zip(cand[1:], codes, codes[1:], strict=False) if not np.array_equal(old, new)]


def _points(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray, tuple[int, ...]]:
    x, y = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"lon, lat: shapes differ ({x.shape} vs {y.shape})")
    if not (np.isfinite(x).all() and np.isfinite(y).all() and (np.abs(y) <= 90).all()):
        raise ValueError("lon, lat: must be finite, lat within [-90, 90] degrees")
    return x.ravel(), y.ravel(), x.shape


def _evaluate(
    net: SensorNetwork, lon: ArrayLike, lat: ArrayLike, times: list[float], weapon_class: WeaponClass | str,
    kind: str, model: DetectionModel | None,
) -> tuple[FloatArray, FloatArray]:  # fmt: skip
    """The lowest P(at least ``min_sensors`` hear) over the health states at ``times`` (POSIX s) and the
    expected hearing count at ``times[0]``, shaped like ``lon``."""
    model = model or DetectionModel()
    level = model.level_db(weapon_class, kind)
    x, y, shape = _points(lon, lat)
    n, k = x.size, model.min_sensors
    p, expected = np.ones(n), np.zeros(n)
    max_m = model.max_range_km * 1000.0
    chord = 2.0 * math.sin(min(math.pi / 2, (max_m * 1.01 + 1000.0) / (2e3 * EARTH_RADIUS_KM)))  # sphere, margin
    lo, la = np.radians(np.r_[x, net.lon]), np.radians(np.r_[y, net.lat])
    unit = np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])  # points, then sensors
    tree = cKDTree(unit[:n]) if n else None
    z, w = hermegauss(model.quadrature_points) if model.source_sigma_db > 0 else (np.zeros(1), np.ones(1))
    hears = np.isin(net.kinds, sorted(model.hearing_kinds))
    for i_t, t_s in enumerate(times):
        codes = net._codes(t_s)
        active = np.flatnonzero(hears & ((codes == _OK) | (codes == _DEGRADED)))
        if level is None or tree is None or not active.size:
            p[:] = 0.0
            break
        thr = model.threshold_db + model.degraded_penalty_db * (codes[active] == _DEGRADED)
        near = tree.query_ball_point(unit[n + active], r=chord)
        paths = []  # per working sensor: the points within range, and -(loss + threshold) to them, dB
        for s, threshold, found in ((s, t, f) for s, t, f in zip(active, thr, near, strict=True) if len(f)):
            idx, o = np.asarray(found, dtype=np.int64), np.zeros(len(found) + 2)  # GEOD.inv: 1 pair = scalars
            d = np.asarray(GEOD.inv(o + net.lon[s], o + net.lat[s], np.r_[x[idx], 0, 0], np.r_[y[idx], 0, 0])[2])[:-2]
            d, idx = np.maximum(d[d <= max_m], 1.0), idx[d <= max_m]
            paths.append((idx, -(path_loss_db(d, model.absorption_db_per_km) + threshold)))
        p_t = np.zeros(n)
        for zi, wi in zip(z, w / w.sum(), strict=True):
            dp = np.zeros((n, k + 1))  # dp[:, j]: P(exactly j hear) for j < k; dp[:, k]: P(at least k hear)
            dp[:, 0] = 1.0
            for idx, margin in paths:
                q = ndtr((level + model.source_sigma_db * zi + margin) / model.detection_sigma_db)
                if i_t == 0:
                    expected[idx] += wi * q
                moved = dp[idx, :-1] * q[:, None]  # idx holds no duplicates
                dp[idx, :-1] -= moved
                dp[idx, 1:] += moved
            p_t += wi * dp[:, k]
        p = np.minimum(p, p_t)
    return np.clip(p, 0.0, 1.0).reshape(shape), expected.reshape(shape)


def detection_probability(
    network: SensorNetwork, lon: ArrayLike, lat: ArrayLike, when: dt.datetime, weapon_class: WeaponClass | str,
    kind: str = "impact", model: DetectionModel | None = None,
) -> FloatArray:  # fmt: skip
    """Probability that at least ``model.min_sensors`` sensors hear a source at each point.

    Parameters
    ----------
    network : SensorNetwork
    lon, lat : array_like
        Source positions, degrees (same shape).
    when : datetime
        Timezone-aware time whose sensor health applies.
    weapon_class, kind : WeaponClass or str, {"impact", "launch"}
    model : DetectionModel, optional
        Default: the simulator's physics and the 6-sensor fusion rule.

    Returns
    -------
    ndarray
        Probabilities in [0, 1], shaped like ``lon``.
    """
    return _evaluate(network, lon, lat, [_seconds(when, "when")], weapon_class, kind, model)[0]


def expected_sensors(
    network: SensorNetwork, lon: ArrayLike, lat: ArrayLike, when: dt.datetime, weapon_class: WeaponClass | str,
    kind: str = "impact", model: DetectionModel | None = None,
) -> FloatArray:  # fmt: skip
    """Expected number of sensors hearing a source at each point (arguments as :func:`detection_probability`)."""
    return _evaluate(network, lon, lat, [_seconds(when, "when")], weapon_class, kind, model)[1]


def period_probability(
    network: SensorNetwork, lon: ArrayLike, lat: ArrayLike, t0: dt.datetime, t1: dt.datetime,
    weapon_class: WeaponClass | str, kind: str = "impact", model: DetectionModel | None = None,
) -> FloatArray:  # fmt: skip
    """The lowest :func:`detection_probability` over the health states in force during ``[t0, t1]``.

    Conservative: a place counts as covered for a period only if it is covered all along it.
    """
    a, b = _period(t0, t1)
    return _evaluate(network, lon, lat, [a, *network._changes(a, b)], weapon_class, kind, model)[0]


@dataclass(frozen=True, eq=False)
class CoverageGrid:
    """Coverage on a regular lon/lat grid of cells about ``cell_km`` wide (see :func:`coverage_grid`).

    ``lon`` (nx,), ``lat`` (ny,): cell centres, degrees; ``dlon``, ``dlat``: cell size, degrees;
    ``p`` (ny, nx): coverage at the cell centres; ``time``: the health state's time, or with
    ``until`` the start of the period over which ``p`` is the minimum.
    """

    lon: FloatArray
    lat: FloatArray
    dlon: float
    dlat: float
    p: FloatArray
    time: dt.datetime
    until: dt.datetime | None
    weapon_class: WeaponClass
    kind: str
    cell_km: float
    model: DetectionModel

    def at(self, lon: ArrayLike, lat: ArrayLike) -> FloatArray:
        """Coverage of the cell holding each point (degrees); NaN outside the grid."""
        x, y, shape = _points(lon, lat)
        lon0, lat0 = float(self.lon[0]) - self.dlon / 2, float(self.lat[0]) - self.dlat / 2
        i, j = np.floor((x - lon0) / self.dlon).astype(np.int64), np.floor((y - lat0) / self.dlat).astype(np.int64)
        inside = (i >= 0) & (i < self.p.shape[1]) & (j >= 0) & (j < self.p.shape[0])
        out = np.full(x.size, np.nan)
        out[inside] = self.p[j[inside], i[inside]]
        return out.reshape(shape)

    def to_geojson(self, min_probability: float = 0.01) -> dict[str, Any]:
        """A FeatureCollection of the cells with ``p >= min_probability``; the model in ``properties``."""
        if not 0.0 <= min_probability <= 1.0:
            raise ValueError(f"min_probability: must be in [0, 1] (got {min_probability})")
        iso = {"time": self.time} | ({} if self.until is None else {"until": self.until})
        common = {"weapon_class": self.weapon_class.value, "kind": self.kind}
        common |= {k: v.astimezone(dt.UTC).isoformat(timespec="microseconds") for k, v in iso.items()}
        j, i = np.nonzero(self.p >= min_probability)
        lon0, lat0 = float(self.lon[0]) - self.dlon / 2, float(self.lat[0]) - self.dlat / 2
        xs = [np.round(lon0 + c * self.dlon, 7).tolist() for c in (i, i + 1)]
        ys = [np.round(lat0 + r * self.dlat, 7).tolist() for r in (j, j + 1)]
        features = [{"type": "Feature", "properties": {"p": pv, **common},
                     "geometry": {"type": "Polygon", "coordinates": [[[a, c], [b, c], [b, d], [a, d], [a, c]]]}}
                    for a, b, c, d, pv in zip(*xs, *ys, np.round(self.p[j, i], 3).tolist(), strict=True)]  # fmt: skip
        grid = {"lon0": lon0, "lat0": lat0, "dlon": self.dlon, "dlat": self.dlat, "shape": list(self.p.shape)}
        meta = {**common, "description": f"P(at least {self.model.min_sensors} sensors hear), calm air",
                "cell_km": self.cell_km, "grid": grid, "min_probability": min_probability,
                "model": self.model.as_dict()}  # fmt: skip
        return {"type": "FeatureCollection", "properties": meta, "features": features}

    def write_geojson(self, path: str | Path, min_probability: float = 0.01) -> Path:
        """Write :meth:`to_geojson` to ``path`` (UTF-8, strict JSON); returns the path."""
        (path := Path(path)).write_text(json.dumps(self.to_geojson(min_probability), allow_nan=False), "utf-8")
        return path


def coverage_grid(
    network: SensorNetwork, bbox: tuple[float, float, float, float] | None = None, cell_km: float = 5.0, *,
    when: dt.datetime, weapon_class: WeaponClass | str, kind: str = "impact", until: dt.datetime | None = None,
    model: DetectionModel | None = None, max_cells: int = MAX_CELLS,
) -> CoverageGrid:  # fmt: skip
    """Coverage on a grid over ``bbox`` = (lon0, lat0, lon1, lat1), degrees.

    Without ``bbox``: the sensors' extent plus ``max_range_km``. Cells are ``cell_km`` km wide
    (spherical degrees at the grid's mid latitude). With ``until``: :func:`period_probability`
    over ``[when, until]``, else :func:`detection_probability` at ``when``. A grid of more than
    ``max_cells`` cells is refused before anything is computed (a server passes a tighter cap).
    """
    model = model or DetectionModel()
    wc = _weapon_class(weapon_class)
    if isinstance(cell_km, bool) or not isinstance(cell_km, int | float) or not 0 < cell_km < math.inf:
        raise ValueError(f"cell_km: must be a finite number > 0 (got {cell_km!r})")
    if bbox is None:
        if not len(network):
            raise ValueError("bbox: required when the network has no sensors")
        m_lat = model.max_range_km / KM_PER_DEG
        m_lon = m_lat / math.cos(math.radians(min(89.0, float(np.abs(network.lat).max()) + m_lat)))
        bbox = (float(network.lon.min()) - m_lon, max(-90.0, float(network.lat.min()) - m_lat),
                float(network.lon.max()) + m_lon, min(90.0, float(network.lat.max()) + m_lat))  # fmt: skip
    b = list(bbox) if isinstance(bbox, tuple | list) else []
    ok = len(b) == 4 and all(isinstance(v, int | float) and not isinstance(v, bool) for v in b)
    lon0, lat0, lon1, lat1 = (float(v) for v in b) if ok else (math.nan,) * 4
    if not (math.isfinite(lon0) and lon0 < lon1 < math.inf and -90 <= lat0 < lat1 <= 90):
        raise ValueError(f"bbox: need numbers lon0 < lon1, -90 <= lat0 < lat1 <= 90 (got {bbox!r})")
    dlat = cell_km / KM_PER_DEG
    dlon = dlat / max(math.cos(math.radians((lat0 + lat1) / 2)), 1e-6)  # cells cell_km wide at mid latitude
    nx, ny = max(1, math.ceil((lon1 - lon0) / dlon - 1e-9)), max(1, math.ceil((lat1 - lat0) / dlat - 1e-9))
    if nx * ny > max_cells:
        raise ValueError(f"cell_km: {cell_km} km gives {nx * ny} cells over the bbox (at most {max_cells})")
    cx: FloatArray = lon0 + (np.arange(nx, dtype=np.float64) + 0.5) * dlon
    cy: FloatArray = lat0 + (np.arange(ny, dtype=np.float64) + 0.5) * dlat
    gx, gy = np.meshgrid(cx, cy)
    p = (detection_probability(network, gx, gy, when, wc, kind, model) if until is None
         else period_probability(network, gx, gy, when, until, wc, kind, model))  # fmt: skip
    return CoverageGrid(cx, cy, dlon, dlat, p, when, until, wc, kind, float(cell_km), model)
