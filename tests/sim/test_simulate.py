"""The simulator: determinism, physics and statistics of its output, the catalogue, bad scenarios."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from pyproj import Geod
from typer.testing import CliRunner

from truceline.agreement import load_agreement
from truceline.agreement.families import FAMILY_IDS
from truceline.cli import app
from truceline.sim.run import simulate
from truceline.sim.scenario import ScenarioError, load_scenario, parse_scenario

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = sorted((REPO / "scenarios").glob("*.yaml"))
GEOD = Geod(ellps="WGS84")

#: A still, uniform atmosphere and perfect clocks: travel times and bearings follow geometry.
CALM = {
    "weather": {
        "temperature_c": 10.0,
        "diurnal_amplitude_c": 0.0,
        "wind_speed_ms": 0.0,
        "spatial_sigma_c": 0.0,
        "spatial_wind_sigma_ms": 0.0,
        "hourly_wind_sigma_ms": 0.0,
    },
    "network": {"layout": "arrays", "clock_offset_sigma_ms": 0.0, "timing_sigma_ms": 10.0, "bearing_sigma_deg": 3.0},
    "propagation": {"path_jitter_ms": 5.0, "path_jitter_fraction": 0.0},
}


def _run(tmp: Path, name: str, extra: dict, seed: int | None = None) -> Path:
    spec = {"name": name, "sectors": ["S3-DON-S"], "duration_h": 6, **extra}
    out = tmp / name
    simulate(parse_scenario(spec), out, seed=seed)
    return out


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _detections(out: Path) -> list[dict]:
    with (out / "observations" / "detections.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _digest(out: Path) -> str:
    h = hashlib.sha256()
    for rel in (
        "observations/detections.csv",
        "truth/events.jsonl",
        "observations/claims.jsonl",
        "observations/observer_reports.jsonl",
        "truth/violations.jsonl",
    ):
        h.update((out / rel).read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def calm(tmp_path_factory) -> Path:
    return _run(tmp_path_factory.mktemp("sim"), "calm", {**CALM, "activity": {"rounds_per_day": 1200}})


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    a = _run(tmp_path / "a", "det", {"activity": {"rounds_per_day": 300}}, seed=7)
    b = _run(tmp_path / "b", "det", {"activity": {"rounds_per_day": 300}}, seed=7)
    c = _run(tmp_path / "c", "det", {"activity": {"rounds_per_day": 300}}, seed=8)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)


def test_output_layout_and_manifest(calm):
    manifest = json.loads((calm / "manifest.json").read_text())
    for rel in (
        "observations/sensors.jsonl",
        "observations/weather.jsonl",
        "observations/detections.csv",
        "observations/claims.jsonl",
        "truth/events.jsonl",
        "truth/incidents.jsonl",
        "truth/detections.csv",
        "agreement/agreement.yaml",
        "scenario.yaml",
    ):
        assert (calm / rel).is_file(), rel
    assert manifest["counts"]["detections"] == len(_detections(calm))
    assert manifest["truth_is_for_the_scorer_only"] is True
    load_agreement(calm / "agreement")  # the agreement the run used is valid


def test_round_rate_matches_the_scenario(tmp_path):
    out = _run(tmp_path, "rate", {"activity": {"rounds_per_day": 4000, "diurnal_depth": 0.0, "training_share": 0.0}})
    incidents = _jsonl(out / "truth" / "incidents.jsonl")
    expected = 4000 * 6 / 24
    # Rounds come in missions of several rounds: allow for that clustering.
    assert 0.75 * expected < len(incidents) < 1.25 * expected
    share_ru = np.mean([i["party"] == "RU" for i in incidents])
    assert 0.35 < share_ru < 0.65


def _temperature_lookup(out: Path, start: dt.datetime):
    """Temperature at (time, lon, lat) from the run's weather reports: nearest region, linear in time."""
    wx = _jsonl(out / "observations" / "weather.jsonl")
    hours = sorted({r["time"] for r in wx})
    cells = sorted({(r["position"]["lon_deg"], r["position"]["lat_deg"]) for r in wx})
    table = np.zeros((len(hours), len(cells)))
    for r in wx:
        table[hours.index(r["time"]), cells.index((r["position"]["lon_deg"], r["position"]["lat_deg"]))] = r[
            "temperature_c"
        ]
    clon = np.array([c[0] for c in cells])
    clat = np.array([c[1] for c in cells])
    t0 = [(dt.datetime.fromisoformat(h) - start).total_seconds() for h in hours]

    def temperature(t_s: float, lon: float, lat: float) -> float:
        cell = int(np.argmin((clon - lon) ** 2 * np.cos(np.radians(lat)) ** 2 + (clat - lat) ** 2))
        return float(np.interp(t_s, t0, table[:, cell]))

    return temperature


def test_travel_times_follow_the_sound_speed_model(calm):
    events = {e["id"]: e for e in _jsonl(calm / "truth" / "events.jsonl")}
    sensors = {s["id"]: s for s in _jsonl(calm / "observations" / "sensors.jsonl")}
    truth = dict(csv.reader((calm / "truth" / "detections.csv").open()))
    start = dt.datetime.fromisoformat("2026-09-02T00:00:00+03:00")
    temperature = _temperature_lookup(calm, start)
    residuals = []
    for d in _detections(calm)[:20000:4]:
        ev = truth.get(d["id"])
        if not ev:
            continue
        e, s = events[ev], sensors[d["sensor_id"]]
        slon, slat = s["position"]["lon_deg"], s["position"]["lat_deg"]
        _, _, dist = GEOD.inv(e["lon"], e["lat"], slon, slat)
        t_arr = (dt.datetime.fromisoformat(d["arrival_time"]) - start).total_seconds()
        t_org = (dt.datetime.fromisoformat(e["time"]) - start).total_seconds()
        c = 331.3 * np.sqrt(1 + temperature(t_org, (e["lon"] + slon) / 2, (e["lat"] + slat) / 2) / 273.15)
        residuals.append(t_arr - t_org - dist / c)
    r = np.array(residuals)
    assert r.size > 1000
    # Timing 10 ms and jitter 5 ms in a still atmosphere: sd ~ 11 ms around the model.
    assert abs(np.median(r)) < 0.005
    assert 0.008 < r.std() < 0.02


def test_bearings_point_at_the_source(calm):
    events = {e["id"]: e for e in _jsonl(calm / "truth" / "events.jsonl")}
    sensors = {s["id"]: s for s in _jsonl(calm / "observations" / "sensors.jsonl")}
    truth = dict(csv.reader((calm / "truth" / "detections.csv").open()))
    errs = []
    for d in _detections(calm)[:20000]:
        ev = truth.get(d["id"])
        if not ev:
            continue
        e, s = events[ev], sensors[d["sensor_id"]]
        az, _, _ = GEOD.inv(s["position"]["lon_deg"], s["position"]["lat_deg"], e["lon"], e["lat"])
        errs.append((float(d["bearing_deg"]) - az + 180.0) % 360.0 - 180.0)
    e = np.array(errs)
    assert abs(np.mean(e)) < 0.3
    assert 2.5 < np.std(e) < 3.5  # the scenario's bearing sigma is 3 degrees


def test_detection_probability_falls_with_distance_and_source_level(calm):
    events = {e["id"]: e for e in _jsonl(calm / "truth" / "events.jsonl")}
    sensors = _jsonl(calm / "observations" / "sensors.jsonl")
    index = {s["id"]: i for i, s in enumerate(sensors)}
    lon = np.array([s["position"]["lon_deg"] for s in sensors])
    lat = np.array([s["position"]["lat_deg"] for s in sensors])
    sensor_of = {d["id"]: index[d["sensor_id"]] for d in _detections(calm)}
    heard_by: dict[str, set[int]] = {}
    for det_id, ev in list(csv.reader((calm / "truth" / "detections.csv").open()))[1:]:
        if ev:
            heard_by.setdefault(ev, set()).add(sensor_of[det_id])
    bands = [(0, 10_000), (15_000, 25_000), (40_000, 60_000)]
    heard = {w: np.zeros(len(bands)) for w in ("mortar_82mm", "howitzer_152mm")}
    total = {w: np.zeros(len(bands)) for w in heard}
    for e in events.values():
        if e["weapon"] not in heard or e["kind"] != "launch":
            continue
        _, _, dist = GEOD.inv(np.full(lon.size, e["lon"]), np.full(lon.size, e["lat"]), lon, lat)
        got = np.zeros(lon.size, dtype=bool)
        got[list(heard_by.get(e["id"], ()))] = True
        for b, (lo, hi) in enumerate(bands):
            in_band = (dist >= lo) & (dist < hi)
            heard[e["weapon"]][b] += got[in_band].sum()
            total[e["weapon"]][b] += in_band.sum()
    gun = heard["howitzer_152mm"] / np.maximum(total["howitzer_152mm"], 1)
    mortar = heard["mortar_82mm"] / np.maximum(total["mortar_82mm"], 1)
    # Probability of detection falls with distance for each weapon ...
    assert gun[0] > 0.9 and gun[0] >= gun[1] >= gun[2]
    assert mortar[0] > mortar[1] > mortar[2]
    # ... and a 152 mm gun (187 dB) carries much farther than an 82 mm mortar (162 dB).
    assert gun[1] > 0.9 and mortar[1] < 0.3 and mortar[2] < 0.01


def test_false_detections_at_the_configured_rate(tmp_path):
    out = _run(
        tmp_path,
        "false",
        {"activity": {"rounds_per_day": 0}, "propagation": {"false_per_sensor_hour": 3.0, "false_bursts_per_day": 0}},
    )
    n_sensors = len(_jsonl(out / "observations" / "sensors.jsonl"))
    n_false = len(_detections(out))
    expected = 3.0 * n_sensors * 6
    assert abs(n_false - expected) < 5 * np.sqrt(expected)
    assert not _jsonl(out / "truth" / "events.jsonl")


def test_outage_silences_sensors_and_is_reported(tmp_path):
    out = _run(
        tmp_path,
        "outage",
        {
            "activity": {"rounds_per_day": 2000},
            "network": {
                "outages": [
                    {"sector": "S3-DON-S", "start_h": 1, "end_h": 4, "health": "jammed", "share": 0.5, "party": "RU"}
                ]
            },
        },
    )
    status = _jsonl(out / "observations" / "sensor_status.jsonl")
    jammed = {s["sensor_id"] for s in status if s["health"] == "jammed"}
    assert jammed and all(s["health"] in ("jammed", "ok") for s in status)
    start = dt.datetime.fromisoformat("2026-09-02T00:00:00+03:00")
    during = [
        d
        for d in _detections(out)
        if d["sensor_id"] in jammed
        and 3600 <= (dt.datetime.fromisoformat(d["arrival_time"]) - start).total_seconds() < 4 * 3600
    ]
    assert during == []
    interference = [v for v in _jsonl(out / "truth" / "violations.jsonl") if v["family"] == "monitoring_interference"]
    assert len(interference) == len(jammed) and {v["party"] for v in interference} == {"RU"}


def test_line_move_adds_a_version_and_truth_follows_it(tmp_path):
    out = _run(
        tmp_path,
        "moved",
        {
            "sectors": ["S4-DON-N"],
            "duration_h": 24,
            "activity": {"rounds_per_day": 300},
            "line_moves": [{"at_h": 12, "sector": "S4-DON-N", "advance_km": 3}],
        },
    )
    a = load_agreement(out / "agreement")
    assert len(a.versions) == 2
    assert a.versions[1].valid_from == dt.datetime(2026, 9, 2, 9, tzinfo=dt.UTC)
    # The RU area grew by roughly 3 km along the sector's stretch of line.
    from truceline.geo.measure import area_km2

    gained = area_km2(a.versions[1].areas["RU"]) - area_km2(a.versions[0].areas["RU"])
    assert 200 < gained < 2000


def test_every_rule_family_appears_in_a_busy_day(tmp_path):
    out = _run(
        tmp_path,
        "busy",
        {
            "duration_h": 24,
            "sectors": ["S2-ZAP"],
            "activity": {"rounds_per_day": 3000},
            "observers": {"fom_restrictions_per_day": 5},
            "network": {
                "outages": [
                    {"sector": "S2-ZAP", "start_h": 2, "end_h": 3, "health": "destroyed", "share": 0.1, "party": "UA"}
                ]
            },
        },
    )
    families = {v["family"] for v in _jsonl(out / "truth" / "violations.jsonl")}
    # Every declared family but those tied to one place and time (a protected site, a window).
    assert set(FAMILY_IDS) - {"protected_site", "ceasefire_window"} <= families
    assert families <= set(FAMILY_IDS)
    training = [i for i in _jsonl(out / "truth" / "incidents.jsonl") if i["training"]]
    # Training fire is lawful by construction: no rule family at all.
    assert training and all(i["violation_families"] == [] for i in training)


@pytest.mark.parametrize("path", CATALOGUE, ids=lambda p: p.stem)
def test_catalogue_scenarios_are_valid_and_documented(path):
    scenario = load_scenario(path)
    assert len(scenario.description) > 80
    assert path.stem in (REPO / "docs" / "scenarios.md").read_text(encoding="utf-8")


def test_bad_scenario_files_name_the_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            {
                "name": "x",
                "network": {"spacing_km": -5},
                "activity": {"weapon_mix": {"catapult": 1}},
                "duration_h": "long",
            }
        )
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(bad)
    fields = {f for f, _ in err.value.problems}
    assert {"network.spacing_km", "activity.weapon_mix", "duration_h"} <= fields
    result = CliRunner().invoke(app, ["simulate", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "network.spacing_km" in result.output
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(yaml.safe_dump({"name": "x", "sectors": ["S99"]}))
    result = CliRunner().invoke(app, ["simulate", str(unknown), "--out", str(tmp_path / "o2")])
    assert result.exit_code == 1 and "S99" in result.output


def test_sector_weights_shift_the_fire(tmp_path):
    out = _run(
        tmp_path,
        "weights",
        {
            "sectors": ["S3-DON-S", "S4-DON-N"],
            "activity": {"rounds_per_day": 3000, "sector_weights": {"S3-DON-S": 0.0}, "training_share": 0.0},
        },
    )
    from truceline.agreement import load_agreement as load

    a = load(out / "agreement")
    launches = [e for e in _jsonl(out / "truth" / "events.jsonl") if e["kind"] == "launch"]
    sector = a.query(
        [e["lon"] for e in launches], [e["lat"] for e in launches], dt.datetime(2026, 9, 2, tzinfo=dt.UTC)
    ).sector
    ids = [s.id for s in a.sectors]
    # Missions start on the line in S4 only; their launch points lie behind it, mostly still in S4.
    assert np.mean(sector == ids.index("S4-DON-N")) > 0.8
    assert np.mean(sector == ids.index("S3-DON-S")) < 0.1


@pytest.mark.parametrize("sectors", [["S3-DON-S"], ["S3-DON-S", "S4-DON-N"], ["S5-KHA"], ["S4-DON-N", "S5-KHA"]])
def test_offset_rows_lie_on_their_side_at_about_the_offset(tmp_path, sectors):
    out = _run(tmp_path, "rows", {"sectors": sectors, "duration_h": 1, "activity": {"rounds_per_day": 0}})
    a = load_agreement(out / "agreement")
    sensors = _jsonl(out / "observations" / "sensors.jsonl")
    lon = [s["position"]["lon_deg"] for s in sensors]
    lat = [s["position"]["lat_deg"] for s in sensors]
    r = a.query(lon, lat, dt.datetime(2026, 9, 2, 12, tzinfo=dt.UTC)).sides
    row = np.array([s["id"][3] for s in sensors])
    d = r.distance_km
    assert np.all(d >= 4.0)  # at least half the 8 km offset, from the whole line (not only the sectors)
    assert 6.5 < np.median(d) < 9.5
    # Each row keeps to one side of the line.
    for name in ("A", "B"):
        sides = set(r.side[row == name].tolist()) - {-1}
        assert len(sides) == 1, (name, sides)
    assert set(r.side[row == "A"].tolist()) != set(r.side[row == "B"].tolist())


@pytest.mark.parametrize("rounds", [60, 1200])
def test_sensor_counts_of_events_are_exact(tmp_path, rounds):
    # With few rounds there are fewer detections than sensors (where a bad key once collided).
    mix = {"mortar_82mm": 1.0} if rounds < 100 else None  # mortars are heard by few sensors
    activity = {"rounds_per_day": rounds, **({"weapon_mix": mix} if mix else {})}
    out = _run(
        tmp_path,
        "counts",
        {
            "sectors": ["S3-DON-S", "S4-DON-N"],
            "activity": activity,
            "propagation": {"false_per_sensor_hour": 0.0, "false_bursts_per_day": 0},
        },
    )
    events = _jsonl(out / "truth" / "events.jsonl")
    assert events
    if rounds < 100:
        n_sensors = len(_jsonl(out / "observations" / "sensors.jsonl"))
        assert len(_detections(out)) < n_sensors  # the regime where the old key collided
    truth = list(csv.reader((out / "truth" / "detections.csv").open()))[1:]
    by_id = {d["id"]: d["sensor_id"] for d in _detections(out)}
    heard: dict[str, set[str]] = {}
    for det_id, ev in truth:
        if ev:
            heard.setdefault(ev, set()).add(by_id[det_id])
    for e in events:
        assert e["n_sensors"] == len(heard.get(e["id"], ())), e["id"]
        assert e["detectable"] == (e["n_sensors"] >= 3)


def test_weather_reports_cover_every_hour_including_the_last(calm):
    hours = sorted({w["time"] for w in _jsonl(calm / "observations" / "weather.jsonl")})
    assert len(hours) == 6 + 1  # a 6 h scenario: reports at 0, 1, ..., 6 h


def test_violations_are_placed_where_the_rule_is_broken(calm):
    a = load_agreement(calm / "agreement")
    events = {e["id"]: e for e in _jsonl(calm / "truth" / "events.jsonl")}
    when = dt.datetime(2026, 9, 2, 12, tzinfo=dt.UTC)
    buffer = [v for v in _jsonl(calm / "truth" / "violations.jsonl") if v["family"] == "buffer_zone"]
    assert buffer
    r = a.query([v["lon"] for v in buffer], [v["lat"] for v in buffer], when)
    assert r.in_buffer.all()  # the point cited is itself inside the buffer zone
    across = [v for v in _jsonl(calm / "truth" / "violations.jsonl") if v["family"] == "fire_across_line"]
    launch_ids = {v["source_ids"][0] for v in across}
    assert all(events[i]["kind"] == "launch" for i in launch_ids)
    assert all(
        (v["lon"], v["lat"]) == (events[v["source_ids"][0]]["lon"], events[v["source_ids"][0]]["lat"]) for v in across
    )


def test_wind_speeds_sound_downwind_and_slows_it_upwind(tmp_path):
    windy = {
        **CALM,
        "weather": {**CALM["weather"], "wind_speed_ms": 12.0, "wind_from_deg": 270.0},
        "propagation": {**CALM["propagation"], "upwind_loss_db_per_ms": 0.0, "wind_noise_db_per_ms": 0.0},
        "activity": {"rounds_per_day": 1500},
    }
    out = _run(tmp_path, "windy", windy)
    events = {e["id"]: e for e in _jsonl(out / "truth" / "events.jsonl")}
    sensors = {s["id"]: s for s in _jsonl(out / "observations" / "sensors.jsonl")}
    truth = dict(csv.reader((out / "truth" / "detections.csv").open()))
    start = dt.datetime.fromisoformat("2026-09-02T00:00:00+03:00")
    wx = _jsonl(out / "observations" / "weather.jsonl")
    u = np.median([w["wind_u_ms"] for w in wx])
    v = np.median([w["wind_v_ms"] for w in wx])
    assert u > 11 and abs(v) < 1  # a westerly blows towards the east
    temperature = _temperature_lookup(out, start)
    with_wind, without = [], []
    for d in _detections(out)[:30000:3]:
        ev = truth.get(d["id"])
        if not ev:
            continue
        e, s = events[ev], sensors[d["sensor_id"]]
        slon, slat = s["position"]["lon_deg"], s["position"]["lat_deg"]
        az, _, dist = GEOD.inv(e["lon"], e["lat"], slon, slat)
        along = u * np.sin(np.radians(az)) + v * np.cos(np.radians(az))
        t_arr = (dt.datetime.fromisoformat(d["arrival_time"]) - start).total_seconds()
        t_org = (dt.datetime.fromisoformat(e["time"]) - start).total_seconds()
        c = 331.3 * np.sqrt(1 + temperature(t_org, (e["lon"] + slon) / 2, (e["lat"] + slat) / 2) / 273.15)
        with_wind.append(t_arr - t_org - dist / (c + along))
        without.append((t_arr - t_org - dist / c, along))
    r = np.array(with_wind)
    assert abs(np.median(r)) < 0.005 and r.std() < 0.02
    still = np.array(without)
    downwind, upwind = still[still[:, 1] > 8, 0], still[still[:, 1] < -8, 0]
    assert np.median(downwind) < -0.1 < 0.1 < np.median(upwind)  # early downwind, late upwind


def test_truth_sides_follow_the_line_in_force(tmp_path):
    out = _run(
        tmp_path,
        "moved_sides",
        {
            "sectors": ["S4-DON-N"],
            "duration_h": 24,
            "activity": {"rounds_per_day": 2000},
            "line_moves": [{"at_h": 12, "sector": "S4-DON-N", "advance_km": 3}],
        },
    )
    a = load_agreement(out / "agreement")
    events = _jsonl(out / "truth" / "events.jsonl")
    lon = [e["lon"] for e in events]
    lat = [e["lat"] for e in events]
    times = np.array([np.datetime64(e["time"][:-6], "us") for e in events])
    before = a.zones(a.versions[0]).query(lon, lat).sides.party_ids()
    after = a.zones(a.versions[1]).query(lon, lat).sides.party_ids()
    moved = before != after
    assert moved.any()  # some fire falls in the ground that changed hands
    late = times >= np.datetime64("2026-09-02T09:00:00")
    assert all(e["side"] == after[i] for i, e in enumerate(events) if moved[i] and late[i])
    assert all(e["side"] == before[i] for i, e in enumerate(events) if moved[i] and not late[i])


def test_blind_spot_claims_fall_in_a_jammed_sector_while_it_is_jammed(tmp_path):
    out = _run(
        tmp_path,
        "jammed",
        {
            "sectors": ["S3-DON-S", "S4-DON-N"],
            "duration_h": 24,
            "activity": {"rounds_per_day": 200},
            "network": {
                "outages": [{"sector": "S4-DON-N", "start_h": 6, "end_h": 18, "health": "jammed", "party": "RU"}]
            },
            "claims": {"per_party_per_day": 20, "mix": {"blind_spot": 1.0}},
        },
    )
    start = dt.datetime.fromisoformat("2026-09-02T00:00:00+03:00")
    sensors = _jsonl(out / "observations" / "sensors.jsonl")
    jammed = {s["sensor_id"] for s in _jsonl(out / "observations" / "sensor_status.jsonl")}
    working = [s for s in sensors if s["id"] not in jammed]
    lon = np.array([s["position"]["lon_deg"] for s in working])
    lat = np.array([s["position"]["lat_deg"] for s in working])
    near_jammed = 0
    blind = {t["claim_id"] for t in _jsonl(out / "truth" / "claims.jsonl") if t["truth"] == "blind_spot"}
    assert blind
    for c in _jsonl(out / "observations" / "claims.jsonl"):
        if c["id"] not in blind:
            continue  # no blind spot could be drawn; the claim fell back to another type
        p = c["place"]
        _, _, d = GEOD.inv(np.full(lon.size, p["lon_deg"]), np.full(lon.size, p["lat_deg"]), lon, lat)
        assert d.min() > 40_000  # no working sensor within 40 km
        all_lon = np.array([s["position"]["lon_deg"] for s in sensors])
        all_lat = np.array([s["position"]["lat_deg"] for s in sensors])
        _, _, d_all = GEOD.inv(
            np.full(all_lon.size, p["lon_deg"]), np.full(all_lon.size, p["lat_deg"]), all_lon, all_lat
        )
        if d_all.min() < 40_000:  # blind only because its sensors are jammed: inside the outage
            near_jammed += 1
            t0 = (dt.datetime.fromisoformat(c["period"]["start"]) - start).total_seconds() / 3600
            t1 = (dt.datetime.fromisoformat(c["period"]["end"]) - start).total_seconds() / 3600
            assert 6 <= t0 <= t1 < 18
    assert near_jammed > 0


def test_training_fire_stays_lawful_inside_a_ceasefire_window(tmp_path):
    import shutil

    from truceline.agreement import example_path

    agreement = tmp_path / "agreement"
    shutil.copytree(example_path("default"), agreement)
    manifest = yaml.safe_load((agreement / "agreement.yaml").read_text())
    manifest["ceasefire_windows"].append(
        {
            "id": "cw-s3",
            "name": "Sector 3 silence",
            "sectors": ["S3-DON-S"],
            "start": "2026-09-02T00:00:00+03:00",
            "end": "2026-09-02T03:00:00+03:00",
        }
    )
    (agreement / "agreement.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    out = _run(
        tmp_path, "window", {"agreement": str(agreement), "activity": {"rounds_per_day": 3000, "training_share": 0.5}}
    )
    incidents = _jsonl(out / "truth" / "incidents.jsonl")
    training = [i for i in incidents if i["training"]]
    assert training and all(i["violation_families"] == [] for i in training)
    window = [v for v in _jsonl(out / "truth" / "violations.jsonl") if v["family"] == "ceasefire_window"]
    assert window  # non-training fire in the window's first three hours is a window violation
    start = dt.datetime.fromisoformat("2026-09-02T00:00:00+03:00")
    hours = [(dt.datetime.fromisoformat(v["time"]) - start).total_seconds() / 3600 for v in window]
    assert all(0 <= h < 3 for h in hours)  # stamped with the firing time, inside the window
