"""Each rule family on hand-made cases in the toy theatre (line along 35°E, UA west, RU east).

Toy agreement (tests/conftest.py): buffer 7.5 km each side; withdrawal artillery 25 km, MLRS 35,
tank 15; site-a (34.9E 48.0N, 3 km) and site-b (35.5E 47.5N, 2 km); sectors S-SOUTH (< 48N) and
S-NORTH; disengagement area da-1 (34.95-35.05E, 48.45-48.55N); window w1 2026-02-01 04:00-16:00Z
over site-a.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
import yaml
from pyproj import Geod

from tests.conftest import write_features
from truceline.adjudicate import RULES, Context, Rule, adjudicate, make_rules, register, rule_families
from truceline.agreement import load_agreement
from truceline.agreement.families import FAMILY_IDS, family
from truceline.core import (
    Attribution,
    Event,
    FreedomOfMovementRestriction,
    GeoUncertainty,
    Incident,
    ObserverReport,
    Position,
    Provenance,
    Sensor,
    SensorStatusReport,
    Sighting,
    TimeWindow,
)
from truceline.core.enums import (
    AttributionLevel,
    DistanceBand,
    EventKind,
    ObservationMode,
    Party,
    SensorHealth,
    SensorKind,
    SightingPlatform,
    VerificationStatus,
    ViolationKind,
    WeaponClass,
)

GEOD = Geod(ellps="WGS84")
T0 = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
KM_LON = 111.32 * np.cos(np.radians(48.0))


def east(km: float, lat: float = 48.2) -> tuple[float, float]:
    """The point ``km`` east (negative: west) of the toy line at ``lat``, exactly by geodesic."""
    lon, la, _ = GEOD.fwd(35.0, lat, 90.0 if km >= 0 else 270.0, abs(km) * 1000.0)
    return float(lon), float(la)


def prov(*inputs: str) -> Provenance:
    return Provenance(algorithm="test", algorithm_version="1", inputs=inputs, created_at=T0)


def event(eid: str, kind: EventKind, lonlat: tuple[float, float], t: dt.datetime = T0, sigma_m: float = 30.0,
          sensors: tuple[str, ...] = ("S0", "S1", "S2")) -> Event:  # fmt: skip
    return Event(
        id=eid,
        kind=kind,
        origin_time=t,
        time_sigma_s=0.01,
        position=Position(lon_deg=lonlat[0], lat_deg=lonlat[1]),
        location_uncertainty=GeoUncertainty(sigma_m=sigma_m),
        detection_ids=tuple(f"{eid}-d{i}" for i in range(len(sensors))),
        sensor_ids=sensors,
        quality=0.9,
        provenance=prov(),
    )


def origin(party: str, launch_id: str) -> Attribution:
    return Attribution(level=AttributionLevel.ORIGIN_AREA, party=Party(party), probability=0.999,
                       evidence=(f"launch {launch_id} located in {party}'s area",))  # fmt: skip


def pair(
    iid: str,
    launch: tuple[float, float] | None,
    impact: tuple[float, float] | None,
    t: dt.datetime = T0,
    weapon: WeaponClass = WeaponClass.ARTILLERY_GE_100MM,
    party: str | None = None,
    sigma_m: float = 30.0,
) -> tuple[list[Event], Incident]:
    evs = []
    if launch is not None:
        evs.append(event(f"{iid}-L", EventKind.LAUNCH, launch, t, sigma_m))
    if impact is not None:
        evs.append(event(f"{iid}-I", EventKind.IMPACT, impact, t + dt.timedelta(seconds=40), sigma_m))
    inc = Incident(
        id=iid,
        event_ids=tuple(e.id for e in evs),
        launch_event_id=f"{iid}-L" if launch is not None and impact is not None else None,
        impact_event_id=f"{iid}-I" if launch is not None and impact is not None else None,
        weapon_class=weapon,
        window=TimeWindow(start=t, end=t + dt.timedelta(seconds=40 if impact is not None else 0)),
        attribution=origin(party, f"{iid}-L") if party else Attribution(),
        provenance=prov(*(e.id for e in evs)),
    )
    return evs, inc


@pytest.fixture
def toy(make_agreement: Callable[..., Path]) -> Any:
    return load_agreement(make_agreement())


def ctx_of(agr: Any, *cases: tuple[list[Event], Incident], **kw: Any) -> Context:
    events = [e for evs, _ in cases for e in evs]
    return Context(agreement=agr, events=events, incidents=[inc for _, inc in cases], created_at=T0, **kw)


def families(vs: list[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for v in vs:
        out.setdefault(v.rule_id.split(".")[0], []).append(v)
    return out


def test_every_family_is_registered_with_id_and_version() -> None:
    # Pinned on purpose (the one place the list is written out in the tests): the registry's ids and
    # their order are the scorer's keys, the bulletin's columns and the dashboard's filter, so a
    # family dropped, renamed or moved must fail here.
    assert FAMILY_IDS == (
        "fire_across_line", "buffer_zone", "withdrawal_zone", "protected_site", "ceasefire_window",
        "freedom_of_movement", "monitoring_interference",
    )  # fmt: skip
    assert sorted(RULES) == sorted(FAMILY_IDS)
    assert [f.id for f in rule_families()] == [r.id for r in make_rules()] == list(FAMILY_IDS)
    for rule in make_rules():
        assert rule.version and rule.title
    with pytest.raises(ValueError, match="unknown rule 'nope'"):
        make_rules(only=["nope"])


def test_the_registry_joins_each_declared_family_to_its_rule() -> None:
    for f in rule_families():
        assert f.family is family(f.id) and f.rule is RULES[f.id]
        assert f.title == f.rule.title and f.parameters() == f.rule().parameters()
        got = f.to_json()
        assert got == {
            "id": f.id,
            "label": f.family.label,
            "short_label": f.family.short,
            "title": f.rule.title,
            "version": f.rule.version,
            "colour": f.family.colour,
            "parameters": f.rule().parameters(),
        }
    by_id = {f.id: f for f in rule_families()}
    # The default parameters are the rules' own (their Params), not a copy.
    assert by_id["fire_across_line"].parameters() == {"min_confidence": 0.5}
    assert by_id["withdrawal_zone"].parameters() == {"min_confidence": 0.0}
    assert by_id["monitoring_interference"].parameters() == {}


def test_only_a_declared_family_can_register_a_rule_and_every_one_must(monkeypatch: pytest.MonkeyPatch) -> None:
    class Stray(Rule):
        id = "stray_family"
        version = "1.0.0"
        title = "Not declared"

        def apply(self, ctx: Context) -> list[Any]:
            return []

    with pytest.raises(ValueError, match="'stray_family' is not a declared rule family"):
        register(Stray)
    assert "stray_family" not in RULES
    monkeypatch.delitem(RULES, "protected_site")
    with pytest.raises(RuntimeError, match=r"declared but not registered: \['protected_site'\]"):
        rule_families()
    with pytest.raises(RuntimeError, match="protected_site"):
        make_rules()


def test_fire_across_line_from_ru_to_ua_stamps_rule_line_version_and_attribution(toy: Any) -> None:
    case = pair("inc-1", east(20.0), east(-12.0), party="RU")
    vs = families(adjudicate(ctx_of(toy, case)))
    (v,) = vs["fire_across_line"]
    assert v.rule_id == "fire_across_line.round" and v.rule_version == "1.0.0"
    assert v.rule_parameters["line_version"] == "v1" and v.rule_parameters["agreement_id"] == "toy"
    assert v.rule_parameters["launch_area"] == "RU" and v.rule_parameters["impact_area"] == "UA"
    assert v.position.lon_deg == pytest.approx(east(20.0)[0], abs=1e-6)  # at the launch
    assert v.time == T0 and v.incident_id == "inc-1" and v.event_ids == ("inc-1-L", "inc-1-I")
    assert v.attribution.party is Party.RUSSIA and v.attribution.level is AttributionLevel.ORIGIN_AREA
    assert v.confidence > 0.999
    assert v.provenance.algorithm == "adjudicate.fire_across_line" and "inc-1" in v.provenance.inputs
    # Launch 20 km out: outside the 7.5 km buffer, inside the 25 km artillery withdrawal zone.
    assert "buffer_zone" not in vs  # launch 20 km east, impact 12 km west: both outside the 7.5 km buffer
    assert [x.rule_id for x in vs["withdrawal_zone"]] == ["withdrawal_zone.firing"]


def test_fire_within_one_area_is_not_across(toy: Any) -> None:
    vs = families(adjudicate(ctx_of(toy, pair("inc-1", east(-20.0), east(-12.0), party="UA"))))
    assert "fire_across_line" not in vs


def test_event_exactly_on_the_line_is_never_across_and_confidence_reflects_it(toy: Any) -> None:
    # Impact exactly on the line: no party's side can be claimed with confidence.
    vs = families(adjudicate(ctx_of(toy, pair("inc-1", east(20.0), (35.0, 48.2), party="RU"))))
    assert "fire_across_line" not in vs
    # 20 m from the line with a 30 m error: P(side) ~ 0.75 for the impact -> reported, lower confidence.
    vs = families(adjudicate(ctx_of(toy, pair("inc-2", east(20.0), east(-0.02), party="RU"))))
    (v,) = vs["fire_across_line"]
    assert 0.6 < v.confidence < 0.85
    # The impact on the line is in the buffer: a buffer finding at the impact, whoever fired.
    assert {x.rule_id for x in vs["buffer_zone"]} == {"buffer_zone.impact"}


def test_buffer_firing_at_launch_else_impact_and_the_buffer_edge(toy: Any) -> None:
    vs = families(adjudicate(ctx_of(
        toy,
        pair("in-launch", east(5.0), east(-12.0), party="RU"),
        pair("in-impact", east(15.0), east(-3.0), party="RU"),
        pair("outside", east(15.0), east(-12.0), party="RU"),
        pair("edge-in", east(7.49), east(-12.0)),
        pair("edge-out", east(7.51), east(-12.0)),
    )))  # fmt: skip
    got = {v.incident_id: v.rule_id for v in vs["buffer_zone"]}
    assert got == {
        "in-launch": "buffer_zone.firing",
        "in-impact": "buffer_zone.impact",
        "edge-in": "buffer_zone.firing",
    }
    by = {v.incident_id: v for v in vs["buffer_zone"]}
    assert by["in-impact"].position.lon_deg == pytest.approx(east(-3.0)[0], abs=1e-6)
    assert 0.5 <= by["edge-in"].confidence < 0.7  # 10 m inside with a 30 m error


def test_firing_in_the_buffer_judged_under_the_line_in_force_after_it_moved(
    make_agreement: Callable[..., Path],
) -> None:
    """The line moves 10 km east on 2026-03-01 06:00Z: a launch 15 km west of the old line is 5 km west
    of the new one, in the buffer only after the move."""
    moved = shapely.LineString([(35.0 + 10 / KM_LON, 47.0), (35.0 + 10 / KM_LON, 49.0)])
    x = 35.0 + 10 / KM_LON

    def edit(m: dict[str, Any], root: Path) -> None:
        write_features(root / "layers/line_v2.geojson", [(moved, {})])
        ua = shapely.Polygon([(33, 46.5), (x, 46.5), (x, 49.5), (33, 49.5)])
        ru = shapely.Polygon([(x, 46.5), (37, 46.5), (37, 49.5), (x, 49.5)])
        write_features(root / "layers/ua_v2.geojson", [(ua, {})])
        write_features(root / "layers/ru_v2.geojson", [(ru, {})])
        m["lines"].append({
            "id": "v2", "valid_from": "2026-03-01T06:00:00+00:00", "line": "layers/line_v2.geojson",
            "controlled_areas": {"UA": "layers/ua_v2.geojson", "RU": "layers/ru_v2.geojson"},
        })  # fmt: skip

    agr = load_agreement(make_agreement(edit))
    launch, impact = east(5.0), east(25.0)  # UA fire, 5 km west of the new line, into RU's (new) area
    before = pair("before", launch, impact, t=dt.datetime(2026, 3, 1, 5, tzinfo=dt.UTC))
    after = pair("after", launch, impact, t=dt.datetime(2026, 3, 1, 7, tzinfo=dt.UTC))
    vs = families(adjudicate(ctx_of(agr, before, after)))
    buf = {v.incident_id: v for v in vs["buffer_zone"]}
    # Before the move the launch is 5 km *east* of the old line, in RU's area, impact further east: the
    # launch is still in the old buffer; after the move it is 5 km west of the new line.
    assert buf["after"].rule_id == "buffer_zone.firing"
    assert buf["after"].rule_parameters["line_version"] == "v2"
    assert buf["before"].rule_parameters["line_version"] == "v1"
    across = {v.incident_id for v in vs.get("fire_across_line", [])}
    assert across == {"after"}  # before the move both points lay in RU's area


def test_disengagement_area_counts_as_buffer(toy: Any) -> None:
    vs = families(adjudicate(ctx_of(toy, pair("da", (34.97, 48.5), None))))  # a lone launch inside da-1
    (v,) = vs["buffer_zone"]
    assert v.rule_parameters["disengagement_area"] == "da-1"


@pytest.mark.parametrize(("offset_m", "expected"), [(-10.0, True), (0.0, True), (10.0, False)])
def test_weapon_sighted_at_the_withdrawal_distance_plus_minus_10_m(toy: Any, offset_m: float, expected: bool) -> None:
    lon, lat = east(25.0 + offset_m / 1000.0)  # artillery: 25 km
    s = Sighting(
        id="sgt-1", platform=SightingPlatform.UAV, position=Position(lon_deg=lon, lat_deg=lat),
        geo_uncertainty=GeoUncertainty.isotropic(5.0), time=T0, weapon_class=WeaponClass.ARTILLERY_GE_100MM,
        party_assessed=Party.RUSSIA,
    )  # fmt: skip
    vs = families(adjudicate(Context(agreement=toy, sightings=[s], created_at=T0)))
    found = vs.get("withdrawal_zone", [])
    assert bool(found) is expected
    if expected:
        (v,) = found
        assert v.rule_id == "withdrawal_zone.sighting" and v.observation_ids == ("sgt-1",)
        assert v.attribution.party is Party.RUSSIA and v.attribution.evidence
        assert v.rule_parameters["withdrawal_km"] == 25
        assert v.confidence == pytest.approx(0.5 if offset_m == 0 else 0.977, abs=0.03)


def test_sighting_of_a_class_without_a_withdrawal_distance_or_in_the_other_area_is_no_violation(toy: Any) -> None:
    def sighting(sid: str, km: float, wc: WeaponClass, party: Party) -> Sighting:
        lon, lat = east(km)
        return Sighting(id=sid, platform=SightingPlatform.UAV, position=Position(lon_deg=lon, lat_deg=lat), time=T0,
                        weapon_class=wc, party_assessed=party)  # fmt: skip

    ss = [sighting("a", 5.0, WeaponClass.UAV, Party.RUSSIA), sighting("b", -5.0, WeaponClass.TANK, Party.RUSSIA)]
    assert adjudicate(Context(agreement=toy, sightings=ss, created_at=T0)) == []


def test_withdrawal_firing_uses_the_weapon_class_distance(toy: Any) -> None:
    vs = families(adjudicate(ctx_of(
        toy,
        pair("mlrs-30", east(30.0), east(-10.0), weapon=WeaponClass.MLRS),  # MLRS 35 km: inside
        pair("art-30", east(30.0), east(-10.0), weapon=WeaponClass.ARTILLERY_GE_100MM),  # 25 km: outside
        pair("unknown-14", east(14.0), None, weapon=WeaponClass.UNKNOWN),  # within the smallest (tank 15)
        pair("unknown-20", east(20.0), None, weapon=WeaponClass.UNKNOWN),  # class unknown: not judged
    )))  # fmt: skip
    assert {v.incident_id for v in vs["withdrawal_zone"]} == {"mlrs-30", "unknown-14"}


def test_protected_site_strike_at_the_impact(toy: Any) -> None:
    vs = families(adjudicate(ctx_of(toy, pair("s", east(20.0), (35.5, 47.51), party="RU"))))  # 1.1 km from site-b
    (v,) = vs["protected_site"]
    assert v.rule_id == "protected_site.strike" and v.rule_parameters["site_id"] == "site-b"
    assert v.position.lat_deg == pytest.approx(47.51)


def test_ceasefire_window_open_closed_and_its_area(toy: Any) -> None:
    inside = dt.datetime(2026, 2, 1, 10, tzinfo=dt.UTC)
    after = dt.datetime(2026, 2, 1, 16, tzinfo=dt.UTC)  # the window ends at 16:00Z (exclusive)
    vs = families(adjudicate(ctx_of(
        toy,
        pair("hit-site", east(10.0, 48.0), (34.92, 48.0), t=inside, party="RU"),
        pair("elsewhere", east(10.0, 47.2), east(-10.0, 47.2), t=inside),
        pair("too-late", east(10.0, 48.0), (34.92, 48.0), t=after),
    )))  # fmt: skip
    (v,) = vs["ceasefire_window"]
    assert v.incident_id == "hit-site" and v.time == inside  # at the launch time
    assert v.position.lon_deg == pytest.approx(34.92)  # the launch is outside site-a: placed at the impact
    assert v.rule_parameters["window_id"] == "w1"


def test_freedom_of_movement_and_interference(toy: Any) -> None:
    lon, lat = east(-3.0)
    sensor = Sensor(id="S9", kind=SensorKind.ACOUSTIC, position=Position(lon_deg=lon, lat_deg=lat), elevation_m=0,
                    contingent="GBR", installed_at=T0 - dt.timedelta(days=3))  # fmt: skip
    reports = [
        SensorStatusReport(
            id="st-1", sensor_id="S9", time=T0, health=SensorHealth.JAMMED, reason="jammed attributed to RU"
        ),
        SensorStatusReport(id="st-2", sensor_id="S9", time=T0, health=SensorHealth.OUTAGE, reason="power"),
        SensorStatusReport(id="st-3", sensor_id="S9", time=T0, health=SensorHealth.DESTROYED, reason="shelled"),
    ]  # fmt: skip
    fom = FreedomOfMovementRestriction(id="fom-1", patrol_id="P1", time=T0, position=Position(lon_deg=lon, lat_deg=lat),
                                       restricting_party=Party.UKRAINE, description="turned back at a checkpoint")
    vs = families(adjudicate(Context(agreement=toy, sensors=[sensor], status_reports=reports, restrictions=[fom],
                                     created_at=T0)))  # fmt: skip
    mi = {v.rule_id: v for v in vs["monitoring_interference"]}
    assert set(mi) == {"monitoring_interference.jammed", "monitoring_interference.destroyed"}
    assert mi["monitoring_interference.jammed"].attribution.party is Party.RUSSIA
    assert mi["monitoring_interference.destroyed"].attribution.level is AttributionLevel.UNATTRIBUTED
    (f,) = vs["freedom_of_movement"]
    assert f.attribution.party is Party.UKRAINE and f.attribution.level is AttributionLevel.PARTY
    bad = SensorStatusReport(id="st-9", sensor_id="S8", time=T0, health=SensorHealth.JAMMED, reason="jammed")
    with pytest.raises(ValueError, match=r"sensor_id.*unknown sensor 'S8'"):
        adjudicate(Context(agreement=toy, sensors=[sensor], status_reports=[bad], created_at=T0))


def test_verification_needs_two_independent_sources(toy: Any) -> None:
    evs, inc = pair("v", east(20.0), east(-12.0), party="RU")
    sensors = [
        Sensor(id=f"S{i}", kind=SensorKind.ACOUSTIC, position=Position(lon_deg=35.0, lat_deg=48.0 + i / 100),
               elevation_m=0, contingent="GBR" if i < 3 else "FRA", installed_at=T0 - dt.timedelta(days=1))
        for i in range(6)
    ]  # fmt: skip
    v1 = [v for v in adjudicate(ctx_of(toy, (evs, inc), sensors=sensors)) if v.rule_id.startswith("fire_across")]
    assert v1[0].status is VerificationStatus.CORROBORATED  # two records (launch, impact) of one contingent
    # An observer 6 km from the impact who heard it at the right time, in the right direction: sensors + observer.
    olon, olat, _ = GEOD.fwd(*east(-12.0), 270.0, 4000.0)
    az, _, d = GEOD.inv(olon, olat, *east(-12.0))
    heard = evs[1].origin_time + dt.timedelta(seconds=d / 335.0)
    rep = ObserverReport(
        id="obs-1", patrol_id="P1", observer_nationality="FRA", observer_position=Position(lon_deg=olon, lat_deg=olat),
        time=heard, mode=ObservationMode.HEARD, kind=ViolationKind.EXPLOSION_IMPACT, direction_deg=az % 360,
        direction_sigma_deg=10.0, distance_band=DistanceBand.KM_3_5,
    )  # fmt: skip
    wrong_way = rep.model_copy(update={"id": "obs-2", "direction_deg": (az + 90) % 360})
    vs = [v for v in adjudicate(ctx_of(toy, (evs, inc), sensors=sensors, observer_reports=[rep, wrong_way]))
          if v.rule_id.startswith("fire_across")]  # fmt: skip
    assert vs[0].status is VerificationStatus.VERIFIED
    assert "obs-1" in vs[0].observation_ids and "obs-2" not in vs[0].observation_ids


def test_finding_ids_are_unique_and_deterministic(toy: Any) -> None:
    cases = [pair(f"i{k}", east(5.0 + k), east(-3.0 - k), party="RU") for k in range(5)]
    a, b = adjudicate(ctx_of(toy, *cases)), adjudicate(ctx_of(toy, *cases))
    assert [v.id for v in a] == [v.id for v in b] and len({v.id for v in a}) == len(a)


def test_rules_are_data_driven_a_different_buffer_changes_the_verdict(make_agreement: Callable[..., Path]) -> None:
    def edit(m: dict[str, Any], root: Path) -> None:
        m["buffer_zone_km"] = 2.0

    agr = load_agreement(make_agreement(edit))
    vs = families(adjudicate(ctx_of(agr, pair("x", east(5.0), east(-12.0)))))
    assert "buffer_zone" not in vs
    _ = yaml  # the toy manifest is YAML (kept for the edit signature)


def test_incidents_get_the_same_automatic_status_as_their_findings(toy: Any) -> None:
    from truceline.adjudicate.verification import verify_incidents

    evs, inc = pair("v", east(20.0), east(-12.0), party="RU")
    one = [
        Sensor(id=f"S{i}", kind=SensorKind.ACOUSTIC, position=Position(lon_deg=35.0, lat_deg=48.0 + i / 100),
               elevation_m=0, contingent="GBR", installed_at=T0 - dt.timedelta(days=1))
        for i in range(3)
    ]  # fmt: skip
    two = [s.model_copy(update={"contingent": "FRA"}) if s.id == "S2" else s for s in one]
    (a,) = verify_incidents(ctx_of(toy, (evs, inc), sensors=one))
    (b,) = verify_incidents(ctx_of(toy, (evs, inc), sensors=two))
    assert a.status is VerificationStatus.CORROBORATED and b.status is VerificationStatus.VERIFIED
    lone_evs, lone = pair("l", None, east(-12.0))
    (c,) = verify_incidents(ctx_of(toy, (lone_evs, lone), sensors=one))
    assert c.status is VerificationStatus.UNVERIFIED
