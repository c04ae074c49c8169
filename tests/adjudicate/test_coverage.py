"""Coverage: the detection-probability map of the sensor network, its physics, health over time, GeoJSON."""

from __future__ import annotations

import ast
import datetime as dt
import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Geod
from scipy.special import ndtr

from truceline.adjudicate.coverage import (
    HEALTH_CODES,
    NOT_INSTALLED,
    DetectionModel,
    SensorNetwork,
    coverage_grid,
    detection_probability,
    expected_sensors,
    period_probability,
)
from truceline.core import (
    DEFAULT_NOISE,
    NoiseModel,
    Position,
    Sensor,
    SensorHealth,
    SensorKind,
    SensorStatusReport,
    WeaponClass,
)

GEOD = Geod(ellps="WGS84")
T0 = dt.datetime(2026, 9, 2, 6, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
CENTRE = (36.0, 48.0)
ART, MORTAR = WeaponClass.ARTILLERY_GE_100MM, WeaponClass.MORTAR_LE_120MM
SRC = Path(__file__).resolve().parents[2] / "src" / "truceline" / "adjudicate" / "coverage.py"


def at_km(east_km: float, north_km: float, origin: tuple[float, float] = CENTRE) -> tuple[float, float]:
    """The point ``east_km``, ``north_km`` from ``origin`` (two geodesic steps), lon/lat degrees."""
    lon, lat, _ = GEOD.fwd(origin[0], origin[1], 90.0 if east_km >= 0 else 270.0, abs(east_km) * 1000.0)
    lon, lat, _ = GEOD.fwd(lon, lat, 0.0 if north_km >= 0 else 180.0, abs(north_km) * 1000.0)
    return float(lon), float(lat)


def sensor(
    i: int, lon: float, lat: float, kind: SensorKind = SensorKind.ACOUSTIC, installed: dt.datetime | None = None
) -> Sensor:
    return Sensor(
        id=f"SN-{i:04d}",
        kind=kind,
        position=Position(lon_deg=lon, lat_deg=lat),
        elevation_m=0.0,
        contingent="UK",
        installed_at=installed or T0 - 7 * 24 * H,
    )


def report(k: int, i: int, t: dt.datetime, health: SensorHealth) -> SensorStatusReport:
    reason = "" if health is SensorHealth.OK else f"{health.value} in test"
    return SensorStatusReport(id=f"sst-{k:04d}", sensor_id=f"SN-{i:04d}", time=t, health=health, reason=reason)


def grid_sensors(n: int = 5, spacing_km: float = 3.0) -> list[Sensor]:
    """An n x n square of sensors centred on CENTRE."""
    half = (n - 1) / 2
    return [sensor(k, *at_km((a - half) * spacing_km, (b - half) * spacing_km)) for k, (a, b) in
            enumerate(itertools.product(range(n), range(n)))]  # fmt: skip


def rows_sensors(length_km: float = 200.0, spacing_km: float = 5.0, offset_km: float = 8.0) -> list[Sensor]:
    """The design's layout: two staggered rows +-offset from an east-west line through CENTRE."""
    out = []
    for row, (north, shift) in enumerate(((offset_km, 0.0), (-offset_km, spacing_km / 2))):
        for k, x in enumerate(np.arange(-length_km / 2 + shift, length_km / 2, spacing_km)):
            out.append(sensor(1000 * row + k, *at_km(float(x), north)))
    return out


# --------------------------------------------------------------------------- the model


def test_defaults_mirror_the_simulator_and_the_fusion_rule() -> None:
    """Tests may import sim; the module may not. Its constants must still agree with it."""
    from truceline.sim.scenario import Propagation
    from truceline.sim.weapons import CATALOGUE

    m, sim = DetectionModel(), Propagation()
    assert (m.threshold_db, m.detection_sigma_db) == (sim.threshold_db, sim.detection_sigma_db)
    assert (m.absorption_db_per_km, m.max_range_km) == (sim.absorption_db_per_km, sim.max_range_km)
    assert m.min_sensors == 6
    for wc in {w.weapon_class for w in CATALOGUE.values()}:
        of_class = [w for w in CATALOGUE.values() if w.weapon_class is wc]
        assert m.level_db(wc, "launch") == min(w.launch_db for w in of_class)
        assert m.level_db(wc, "impact") == min(w.impact_db for w in of_class)
    weakest = min(CATALOGUE.values(), key=lambda w: w.impact_db)
    assert m.level_db("unknown", "impact") == weakest.impact_db == 168.0
    assert m.level_db(WeaponClass.HEAVY_MLRS, "launch") == weakest.launch_db
    assert m.level_db(WeaponClass.SMALL_ARMS, "impact") is None
    json.dumps(m.as_dict(), allow_nan=False)


def test_coverage_counts_as_detected_what_the_association_reports() -> None:
    """One NoiseModel holds the detection requirement: coverage and the association read the same value."""
    from truceline.fusion import kernels as K
    from truceline.fusion.associate import AssocParams
    from truceline.fusion.run import FusionParams

    assert DetectionModel().noise is AssocParams().noise is FusionParams().noise is DEFAULT_NOISE
    assert NoiseModel() == DEFAULT_NOISE and DEFAULT_NOISE.min_sensors == 6
    net = SensorNetwork.from_records(grid_sensors(3, spacing_km=10.0))  # 9 sensors: the centre is heard by ~5.8
    p = {}
    for k in (4, 6, 8):
        noise = NoiseModel(min_sensors=k)
        model = DetectionModel(noise=noise)
        assert model.min_sensors == k == AssocParams(noise=noise).vector()[K.P_MIN_STATIONS]
        assert model.as_dict()["min_sensors"] == k == AssocParams(noise=noise).as_dict()["min_stations"]
        p[k] = float(detection_probability(net, *CENTRE, T0, MORTAR, model=model))
    assert p[4] > p[6] + 0.2 and p[6] > p[8] + 0.2  # coverage counts what the association requires


def test_the_module_does_not_import_sim_store_web_or_cli() -> None:
    tree = ast.parse(SRC.read_text(encoding="utf-8"))
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    banned = ("truceline.sim", "truceline.store", "truceline.web", "truceline.api", "truceline.cli")
    assert not [n for n in names if n.startswith(banned)]
    assert len(SRC.read_text(encoding="utf-8").splitlines()) < 700


def test_dense_network_covers_and_nothing_is_heard_beyond_max_range() -> None:
    net = SensorNetwork.from_records(grid_sensors())
    p = detection_probability(net, *CENTRE, T0, ART)
    assert p.shape == () and p > 0.999
    assert detection_probability(net, *CENTRE, T0, "mortar_le_120mm") > 0.99
    assert expected_sensors(net, *CENTRE, T0, ART) == pytest.approx(25.0, abs=0.05)
    far = at_km(0.0, 6.0 + 90.0)  # 90 km from the nearest sensor: beyond max_range_km
    assert detection_probability(net, *far, T0, "artillery_ge_100mm") == 0.0
    assert expected_sensors(net, *far, T0, ART) == 0.0
    # 60 km out is inside max range, but a mortar's 168 dB is 25 dB under the threshold there.
    assert detection_probability(net, *at_km(0.0, 66.0), T0, MORTAR) < 1e-4
    assert detection_probability(net, *CENTRE, T0, WeaponClass.SMALL_ARMS) == 0.0


def test_only_hearing_kinds_count() -> None:
    sensors = [sensor(i, *at_km(3.0 * (i % 3), 3.0 * (i // 3)), kind=SensorKind.RADAR) for i in range(9)]
    net = SensorNetwork.from_records(sensors)
    assert detection_probability(net, *at_km(3.0, 3.0), T0, ART) == 0.0
    heard = DetectionModel(hearing_kinds=frozenset({"radar"}))
    assert detection_probability(net, *at_km(3.0, 3.0), T0, ART, model=heard) > 0.999


def test_two_rows_detection_ranges() -> None:
    """With the simulator's physics, two staggered rows 5 km apart: artillery, MLRS and tank impacts
    are located with p > 0.99 tens of km deep; an 82 mm mortar impact ~90 % near the line, its
    launch never reliably."""
    net = SensorNetwork.from_records(rows_sensors())
    north = np.arange(0.0, 81.0, 1.0)
    lon, lat = np.array([at_km(0.0, y) for y in north]).T
    reach = {}
    for wc, kind in ((ART, "impact"), ("mlrs", "impact"), ("tank", "impact"), (MORTAR, "impact"), (MORTAR, "launch")):
        p = detection_probability(net, lon, lat, T0, wc, kind)
        assert np.all(np.diff(p[north >= 8.0]) <= 1e-6)  # falls off beyond the rows
        reach[(str(wc), kind)] = north[p >= 0.9].max(initial=-1.0)
    assert 45 <= reach[("artillery_ge_100mm", "impact")] <= 58
    assert 55 <= reach[("mlrs", "impact")] <= 68
    assert 24 <= reach[("tank", "impact")] <= 34
    assert 4 <= reach[("mortar_le_120mm", "impact")] <= 10
    assert reach[("mortar_le_120mm", "launch")] == -1.0


# --------------------------------------------------------------------------- exactness


def _brute_force(q: np.ndarray, k: int) -> np.ndarray:
    """P(at least k of the sensors hear) by summing over all 2^n subsets; ``q`` is (..., n)."""
    subsets = np.array(list(itertools.product((0, 1), repeat=q.shape[-1])), dtype=bool)  # (2^n, n)
    prob = np.prod(np.where(subsets, q[..., None, :], 1.0 - q[..., None, :]), axis=-1)  # (..., 2^n)
    return prob[..., subsets.sum(axis=1) >= k].sum(axis=-1)


@pytest.mark.parametrize("k", [1, 3, 6, 8])
def test_dynamic_programme_equals_enumeration_of_all_subsets(k: int) -> None:
    rng = np.random.default_rng(7)
    pos = [at_km(*xy) for xy in rng.uniform(-16.0, 16.0, (8, 2))]
    degraded = {1, 4}
    reports = [report(j, i, T0 - H, SensorHealth.DEGRADED) for j, i in enumerate(sorted(degraded))]
    net = SensorNetwork.from_records([sensor(i, *p) for i, p in enumerate(pos)], reports)
    points = [CENTRE, at_km(5.0, -3.0), at_km(-12.0, 9.0)]
    for sigma in (0.0, 2.0):
        # 7 Gauss-Hermite nodes when sigma > 0
        model = DetectionModel(noise=NoiseModel(min_sensors=k), source_sigma_db=sigma)
        lons, lats = np.array(points).T
        p = detection_probability(net, lons, lats, T0, MORTAR, model=model)
        for got, (lon, lat) in zip(p, points, strict=True):
            d = np.maximum(np.array([GEOD.inv(lon, lat, s[0], s[1])[2] for s in pos]), 1.0)
            thr = 85.0 + 10.0 * np.isin(np.arange(8), list(degraded))
            base = 168.0 - 20 * np.log10(d) - 0.01 * d / 1000.0 - thr
            e = np.linspace(-10 * sigma, 10 * sigma, 2001) if sigma else np.zeros(1)  # fine trapezoid
            w = np.exp(-0.5 * (e / sigma) ** 2) if sigma else np.ones(1)
            want = float(np.sum(w / w.sum() * _brute_force(ndtr((base + e[:, None]) / 5.0), k)))
            assert got == pytest.approx(want, abs=1e-5 if sigma else 1e-12)  # exact, up to the quadrature
            assert 0.0 < got < 1.0


def test_vectorised_over_points_equals_one_point_at_a_time() -> None:
    net = SensorNetwork.from_records(rows_sensors(length_km=120.0))
    lon, lat = np.array([at_km(x, y) for x in (-70.0, -20.0, 0.0, 33.0) for y in (-60.0, -9.0, 0.0, 12.0, 75.0)]).T
    together = detection_probability(net, lon.reshape(4, 5), lat.reshape(4, 5), T0, ART)
    assert together.shape == (4, 5)
    alone = [detection_probability(net, a, b, T0, ART) for a, b in zip(lon, lat, strict=True)]
    np.testing.assert_allclose(together.ravel(), alone, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- health over time


def test_destroyed_sensors_blind_the_place_from_the_report_on() -> None:
    near = grid_sensors()
    far = [sensor(100 + i, *at_km(200.0 + 5 * i, 0.0)) for i in range(8)]  # > max range from CENTRE
    t_hit = T0 + 2 * H
    reports = [report(i, i, t_hit, SensorHealth.DESTROYED) for i in range(len(near))]
    net = SensorNetwork.from_records(near + far, reports)
    assert detection_probability(net, *CENTRE, t_hit - dt.timedelta(microseconds=1), ART) > 0.999
    assert detection_probability(net, *CENTRE, t_hit, ART) == 0.0  # a report holds from its time on
    assert detection_probability(net, *CENTRE, t_hit + 24 * H, ART) == 0.0  # no end time: it stays
    codes = net.health_at(t_hit)
    assert [HEALTH_CODES[c] for c in codes[:25]] == [SensorHealth.DESTROYED] * 25
    assert set(codes[25:]) == {HEALTH_CODES.index(SensorHealth.OK)}


def test_a_degraded_sensor_lowers_coverage() -> None:
    sensors = [sensor(i, *at_km(*xy)) for i, xy in enumerate([(-12, 0), (12, 0), (0, 12), (0, -12), (9, 9), (-9, -9),
                                                               (9, -9), (-9, 9)])]  # fmt: skip
    before = detection_probability(SensorNetwork.from_records(sensors), *CENTRE, T0, MORTAR)
    net = SensorNetwork.from_records(sensors, [report(0, 4, T0 - H, SensorHealth.DEGRADED)])
    after = detection_probability(net, *CENTRE, T0, MORTAR)
    assert 0.0 < after < before < 1.0
    assert expected_sensors(net, *CENTRE, T0, MORTAR) < expected_sensors(
        SensorNetwork.from_records(sensors), *CENTRE, T0, MORTAR
    )
    jammed = SensorNetwork.from_records(sensors, [report(0, 4, T0 - H, SensorHealth.JAMMED)])
    assert detection_probability(jammed, *CENTRE, T0, MORTAR) < after


def test_period_probability_is_the_minimum_across_an_outage() -> None:
    sensors = grid_sensors()
    reports = [report(2 * i, i, T0 + H, SensorHealth.JAMMED) for i in range(20)]
    reports += [report(2 * i + 1, i, T0 + 2 * H, SensorHealth.OK) for i in range(20)]
    net = SensorNetwork.from_records(sensors, reports)
    p_ok, p_jam = (detection_probability(net, *CENTRE, t, MORTAR) for t in (T0, T0 + 1.5 * H))
    assert p_ok > 0.99 and p_jam < 0.5
    assert detection_probability(net, *CENTRE, T0 + 3 * H, MORTAR) == p_ok
    assert period_probability(net, *CENTRE, T0, T0 + 3 * H, MORTAR) == p_jam
    assert period_probability(net, *CENTRE, T0, T0 + 0.5 * H, MORTAR) == p_ok
    assert period_probability(net, *CENTRE, T0 + 2 * H, T0 + 3 * H, MORTAR) == p_ok  # the outage ended at 2 h
    assert period_probability(net, *CENTRE, T0, T0 + H, MORTAR) == p_jam  # [t0, t1] is closed
    assert net.change_times(T0, T0 + 3 * H) == [T0 + H, T0 + 2 * H]
    assert net.change_times(T0 + H, T0 + 3 * H) == [T0 + 2 * H]


def test_health_semantics_installation_and_ties() -> None:
    late = T0 + 5 * H
    sensors = [sensor(0, *CENTRE), sensor(1, *at_km(3, 0), installed=late)]
    reports = [report(1, 0, T0, SensorHealth.OK), report(2, 0, T0, SensorHealth.OUTAGE),
               report(3, 0, T0 + H, SensorHealth.DEGRADED), report(4, 0, T0 + 3 * H, SensorHealth.OK)]  # fmt: skip
    net = SensorNetwork.from_records(sensors, reversed(reports))
    code = {h: i for i, h in enumerate(HEALTH_CODES)}
    assert list(net.health_at(T0 - H)) == [code[SensorHealth.OK], NOT_INSTALLED]
    assert net.health_at(T0)[0] == code[SensorHealth.OUTAGE]  # equal times: the most severe wins
    assert net.health_at(T0 + 2 * H)[0] == code[SensorHealth.DEGRADED]
    assert list(net.health_at(late)) == [code[SensorHealth.OK]] * 2
    assert net.change_times(T0 - H, late) == [T0, T0 + H, T0 + 3 * H, late]
    assert net.change_times(T0, T0) == []
    m1 = DetectionModel(noise=NoiseModel(min_sensors=1), source_sigma_db=0.0)
    p_before, p_after = (detection_probability(net, *at_km(3, 0), t, ART, model=m1) for t in (late - H, late))
    assert p_before == pytest.approx(1.0, abs=1e-5) and p_after == pytest.approx(1.0, abs=1e-5)  # 1, then 2 hear
    assert expected_sensors(net, *at_km(3, 0), late - H, ART, model=m1) == pytest.approx(1.0, abs=1e-5)
    assert expected_sensors(net, *at_km(3, 0), late, ART, model=m1) == pytest.approx(2.0, abs=1e-5)


# --------------------------------------------------------------------------- grid and GeoJSON


def test_grid_cells_lookup_and_geojson(tmp_path: Path) -> None:
    net = SensorNetwork.from_records(rows_sensors(length_km=60.0))
    grid = coverage_grid(net, cell_km=5.0, when=T0, weapon_class="mlrs")
    ny, nx = grid.p.shape
    assert (grid.lon.size, grid.lat.size) == (nx, ny)
    assert grid.lon.min() < net.lon.min() - 0.9 and grid.lat.max() > net.lat.max() + 0.65  # + ~80 km
    mid = float(np.median(grid.lat))
    width_km = GEOD.inv(36.0, mid, 36.0 + grid.dlon, mid)[2] / 1000.0
    assert width_km == pytest.approx(5.0, rel=0.01)
    gx, gy = np.meshgrid(grid.lon, grid.lat)
    np.testing.assert_array_equal(grid.at(gx, gy), grid.p)
    np.testing.assert_allclose(grid.p, detection_probability(net, gx, gy, T0, "mlrs"))
    assert grid.at(CENTRE[0], CENTRE[1]) > 0.99 and np.isnan(grid.at(0.0, 0.0))
    assert grid.p.min() < 0.01

    gj = grid.to_geojson()
    text = json.dumps(gj, allow_nan=False)
    back = json.loads(text)
    assert back["type"] == "FeatureCollection"
    assert back["properties"]["model"]["min_sensors"] == 6 and back["properties"]["weapon_class"] == "mlrs"
    assert len(back["features"]) == int((grid.p >= 0.01).sum())
    for f in back["features"][:: max(1, len(back["features"]) // 50)]:
        ring = f["geometry"]["coordinates"][0]
        assert f["geometry"]["type"] == "Polygon" and len(ring) == 5 and ring[0] == ring[-1]
        poly = shapely.Polygon(ring)
        assert poly.is_valid and poly.exterior.is_ccw and poly.area > 0
        assert grid.at(poly.centroid.x, poly.centroid.y) == pytest.approx(f["properties"]["p"], abs=5e-4)
        assert f["properties"]["time"] == "2026-09-02T06:00:00.000000+00:00" and f["properties"]["kind"] == "impact"
    assert len(grid.to_geojson(min_probability=0.999)["features"]) < len(back["features"])
    path = grid.write_geojson(tmp_path / "coverage.geojson")
    assert json.loads(path.read_text(encoding="utf-8")) == back


def test_period_grid_and_explicit_bbox() -> None:
    sensors = grid_sensors()
    net = SensorNetwork.from_records(sensors, [report(i, i, T0 + H, SensorHealth.OUTAGE) for i in range(25)])
    bbox = (35.5, 47.7, 36.5, 48.3)
    g = coverage_grid(net, bbox, 4.0, when=T0, until=T0 + 2 * H, weapon_class=ART)
    assert g.p.max() == 0.0 and g.to_geojson()["features"] == []
    assert g.to_geojson()["properties"]["until"].startswith("2026-09-02T08:00:00")
    g0 = coverage_grid(net, bbox, 4.0, when=T0, weapon_class=ART)
    assert g0.lon[0] - g0.dlon / 2 == pytest.approx(35.5) and g0.lat[0] - g0.dlat / 2 == pytest.approx(47.7)
    assert g0.at(*CENTRE) > 0.999


# --------------------------------------------------------------------------- bad input


def test_bad_input_names_the_argument() -> None:
    net = SensorNetwork.from_records(grid_sensors(3))
    with pytest.raises(ValueError, match="weapon_class"):
        detection_probability(net, 36.0, 48.0, T0, "howitzer")
    with pytest.raises(ValueError, match="kind"):
        detection_probability(net, 36.0, 48.0, T0, ART, kind="airburst")
    with pytest.raises(ValueError, match="lon, lat"):
        detection_probability(net, [36.0, 36.1], [48.0], T0, ART)
    with pytest.raises(ValueError, match="lon, lat"):
        detection_probability(net, [36.0], [np.nan], T0, ART)
    with pytest.raises(ValueError, match="when"):
        detection_probability(net, 36.0, 48.0, dt.datetime(2026, 9, 2), ART)
    with pytest.raises(ValueError, match="t"):
        net.health_at(dt.datetime(2026, 9, 2))
    with pytest.raises(ValueError, match="t1"):
        period_probability(net, 36.0, 48.0, T0, T0 - H, ART)
    with pytest.raises(ValueError, match="t0"):
        period_probability(net, 36.0, 48.0, dt.datetime(2026, 9, 2), T0, ART)
    with pytest.raises(ValueError, match="bbox"):
        coverage_grid(net, (36.0, 48.0, 35.0, 49.0), when=T0, weapon_class=ART)
    with pytest.raises(ValueError, match="bbox"):
        coverage_grid(SensorNetwork.from_records([]), when=T0, weapon_class=ART)
    with pytest.raises(ValueError, match="cell_km"):
        coverage_grid(net, cell_km=0.0, when=T0, weapon_class=ART)
    with pytest.raises(ValueError, match="cell_km"):
        coverage_grid(net, (0.0, -80.0, 180.0, 80.0), cell_km=0.5, when=T0, weapon_class=ART)
    with pytest.raises(ValueError, match="min_probability"):
        coverage_grid(net, when=T0, weapon_class=ART).to_geojson(min_probability=2.0)
    with pytest.raises(ValueError, match="status_reports"):
        SensorNetwork.from_records(grid_sensors(3), [report(0, 99, T0, SensorHealth.OUTAGE)])
    with pytest.raises(ValueError, match="sensors"):
        SensorNetwork.from_records(grid_sensors(3) + grid_sensors(3))
    bad = (
        ("detection_sigma_db", 0.0),
        ("max_range_km", float("inf")),
        ("absorption_db_per_km", -1.0),
        ("quadrature_points", True),
        ("noise", 6),
    )
    for field, value in bad:
        with pytest.raises(ValueError, match=field):
            DetectionModel(**dict[str, Any]({field: value}))
    for field, value in (("min_sensors", 0), ("min_sensors", 2.5), ("path_sigma_s", -0.01), ("path_fraction", math.nan),
                         ("sound_speed_sigma_ms", True)):  # fmt: skip
        with pytest.raises(ValueError, match=field):
            NoiseModel(**dict[str, Any]({field: value}))


# --------------------------------------------------------------------------- against the simulator


CALM = {"temperature_c": 10.0, "diurnal_amplitude_c": 0.0, "wind_speed_ms": 0.0, "spatial_sigma_c": 0.0,
        "spatial_wind_sigma_ms": 0.0, "hourly_wind_sigma_ms": 0.0}  # fmt: skip


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_simulator_hears_what_coverage_predicts(tmp_path: Path) -> None:
    """Calm air, 82 mm mortars only (the class's reference weapon), half of a sector's sensors destroyed
    half-way: the count of true impacts and launches heard by >= 6 sensors matches the sum of the
    predicted probabilities, and so does the mean number of hearing sensors."""
    from truceline.sim.run import simulate
    from truceline.sim.scenario import parse_scenario

    spec = {"name": "coverage", "sectors": ["S3-DON-S"], "duration_h": 4, "weather": CALM,
            "activity": {"rounds_per_day": 3000, "weapon_mix": {"mortar_82mm": 1.0}},
            "network": {"outages": [{"sector": "S3-DON-S", "start_h": 2, "end_h": 4, "health": "destroyed",
                                     "share": 0.5}]}}  # fmt: skip
    simulate(parse_scenario(spec), tmp_path, seed=11)
    sensors = [Sensor.model_validate(d) for d in _read(tmp_path / "observations" / "sensors.jsonl")]
    status = [SensorStatusReport.model_validate(d) for d in _read(tmp_path / "observations" / "sensor_status.jsonl")]
    assert status and {s.health for s in status} == {SensorHealth.DESTROYED}
    net = SensorNetwork.from_records(sensors, status)
    events = _read(tmp_path / "truth" / "events.jsonl")
    t_cut = min(s.time for s in status)
    for kind in ("impact", "launch"):
        ev = [e for e in events if e["kind"] == kind]
        times = np.array([dt.datetime.fromisoformat(e["time"]) for e in ev])
        lon, lat = np.array([e["lon"] for e in ev]), np.array([e["lat"] for e in ev])
        p, expected = np.zeros(len(ev)), np.zeros(len(ev))
        for sel, when in ((times < t_cut, t_cut - H), (times >= t_cut, t_cut)):
            p[sel] = detection_probability(net, lon[sel], lat[sel], when, MORTAR, kind)
            expected[sel] = expected_sensors(net, lon[sel], lat[sel], when, MORTAR, kind)
        heard = np.array([e["n_sensors"] for e in ev])
        assert len(ev) > 300
        sd = float(np.sqrt(np.sum(p * (1 - p))))
        assert abs(int((heard >= 6).sum()) - p.sum()) < 4 * sd + 3, kind
        assert heard.mean() == pytest.approx(expected.mean(), rel=0.12), kind
    # The layout itself: on the line covered, far behind it not (impacts of the heavier classes).
    far = (float(net.lon.mean()), float(net.lat.max()) + 1.0)  # > 100 km north of every sensor
    assert detection_probability(net, *far, t_cut - H, ART) == 0.0
    on_line = (float(np.median(net.lon)), float(np.median(net.lat)))
    assert detection_probability(net, *on_line, t_cut - H, ART) > 0.999


def test_a_grid_over_the_cap_is_refused_before_it_is_computed() -> None:
    net = SensorNetwork.from_records(grid_sensors(3))
    bbox = (35.5, 47.7, 36.5, 48.3)
    n = coverage_grid(net, bbox, 4.0, when=T0, weapon_class=ART).p.size
    assert coverage_grid(net, bbox, 4.0, when=T0, weapon_class=ART, max_cells=n).p.size == n
    with pytest.raises(ValueError, match=rf"cells over the bbox \(at most {n - 1}\)"):
        coverage_grid(net, bbox, 4.0, when=T0, weapon_class=ART, max_cells=n - 1)
