"""Deterministic example records, one per registered record type.

Used by tests here and in other packages (io round-trips, stores, reports) that need a valid
instance of every record type. Pure values: no I/O, no randomness.
"""

from __future__ import annotations

import datetime as dt

from truceline.core.attribution import Attribution
from truceline.core.base import Record
from truceline.core.claims import Claim, ClaimAssessment
from truceline.core.enums import (
    AttributionLevel,
    ClaimantKind,
    ClaimVerdict,
    DistanceBand,
    EventKind,
    GeoPrecision,
    ObservationMode,
    Party,
    SensorHealth,
    SensorKind,
    SightingPlatform,
    TimePrecision,
    VerificationStatus,
    ViolationKind,
    WeaponClass,
)
from truceline.core.events import Event, Incident, Provenance
from truceline.core.findings import Violation
from truceline.core.observations import (
    Detection,
    FreedomOfMovementRestriction,
    ObserverReport,
    Sensor,
    SensorStatusReport,
    Sighting,
    WeatherReport,
)
from truceline.core.uncertainty import (
    CountRange,
    GeoUncertainty,
    Position,
    TimeUncertainty,
    TimeWindow,
)

__all__ = ["EXAMPLE_TIME", "example_records"]

EXAMPLE_TIME = dt.datetime(2025, 4, 20, 3, 15, 7, 123456, tzinfo=dt.UTC)
"""Reference time of the examples (UTC, with microseconds)."""


def _t(seconds: float) -> dt.datetime:
    return EXAMPLE_TIME + dt.timedelta(seconds=seconds)


def example_records() -> dict[str, Record]:
    """Return one valid, fully populated record per record type, keyed by type name.

    Returns
    -------
    dict of str to Record
        Keys are the registry names (``"sensor"``, ``"detection"``, ...).
    """
    sensor, status, detection = _sensor_records()
    report, sighting, fom = _observer_records()
    claim = _claim()
    event, incident = _located(sensor, detection, report)
    assessment = _assessment(claim, incident, event)
    violation = _violation(event, incident, report)
    records: list[Record] = [
        _weather(),
        sensor,
        status,
        detection,
        report,
        sighting,
        fom,
        claim,
        assessment,
        event,
        incident,
        violation,
    ]
    return {type(r).RECORD_TYPE: r for r in records}


def _sensor_records() -> tuple[Sensor, SensorStatusReport, Detection]:
    """A sensor, a status report of it and one of its detections."""
    sensor = Sensor(
        id="UK-AA-017",
        kind=SensorKind.ACOUSTIC_ARRAY,
        position=Position(lon_deg=37.5412, lat_deg=47.8123),
        elevation_m=182.5,
        clock_sigma_ms=2.0,
        has_bearing=True,
        bearing_sigma_deg=3.0,
        contingent="UK",
        installed_at=dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC),
    )
    status = SensorStatusReport(
        id="sst-0001",
        sensor_id=sensor.id,
        time=_t(-3600),
        health=SensorHealth.JAMMED,
        reason="GNSS jamming, timing holdover",
    )
    detection = Detection(
        id="det-0001",
        sensor_id=sensor.id,
        arrival_time=_t(21.004217),
        time_sigma_s=0.012,
        bearing_deg=118.4,
        bearing_sigma_deg=3.0,
        amplitude_pa=41.7,
        class_scores={"impact": 0.82, "launch": 0.11},
    )
    return sensor, status, detection


def _observer_records() -> tuple[ObserverReport, Sighting, FreedomOfMovementRestriction]:
    """What patrols and UAVs report: an observer report, a sighting, a restriction of movement."""
    kyiv = dt.timezone(dt.timedelta(hours=3))
    report = ObserverReport(
        id="obs-0001",
        patrol_id="FR-PAT-2025-04-20-03",
        observer_nationality="FRA",
        observer_position=Position(lon_deg=37.6021, lat_deg=47.7954),
        time=dt.datetime(2025, 4, 20, 6, 15, tzinfo=kyiv),
        time_uncertainty=TimeUncertainty(sigma_s=30.0, precision=TimePrecision.MINUTE),
        mode=ObservationMode.HEARD_AND_SAW,
        kind=ViolationKind.EXPLOSION_IMPACT,
        direction_deg=135.0,
        direction_sigma_deg=22.5,
        distance_band=DistanceBand.KM_3_5,
        count=CountRange(low=3, best=4, high=6),
        assessed_weapon=WeaponClass.ARTILLERY_GE_100MM,
        notes="4 impacts SE, assessed 152 mm",
    )
    sighting = Sighting(
        id="sgt-0001",
        platform=SightingPlatform.UAV,
        position=Position(lon_deg=37.7003, lat_deg=47.7502),
        geo_uncertainty=GeoUncertainty.isotropic(15.0),
        time=_t(600),
        weapon_class=WeaponClass.MLRS,
        count=CountRange.exact(2),
        party_assessed=Party.RUSSIA,
        imagery_ref="uav/2025-04-20/FR-UAV-07/000123.jpg",
        notes="two BM-21 in tree line",
    )
    fom = FreedomOfMovementRestriction(
        id="fom-0001",
        patrol_id="FR-PAT-2025-04-20-03",
        time=_t(1800),
        position=Position(lon_deg=37.61, lat_deg=47.80),
        restricting_party=Party.UKRAINE,
        description="denied passage at checkpoint, no reason given",
    )
    return report, sighting, fom


def _claim() -> Claim:
    """A party's claim of shelling."""
    claim = Claim(
        id="clm-0001",
        claimant_kind=ClaimantKind.PARTY,
        claimant="UA-MOD",
        accused_party=Party.RUSSIA,
        published_at=_t(7200),
        period=TimeWindow(start=_t(-3 * 3600), end=_t(3600)),
        place=Position(lon_deg=37.55, lat_deg=47.80),
        place_uncertainty=GeoUncertainty(precision=GeoPrecision.SETTLEMENT),
        area="Zaporizhzhia direction",
        kind=ViolationKind.EXPLOSION_IMPACT,
        weapon_class=WeaponClass.ARTILLERY_GE_100MM,
        count=CountRange(low=10, best=12, high=12),
        text="Enemy shelled the settlement 12 times overnight.",
        source_url="https://example.org/statement/2025-04-20",
    )
    return claim


def _located(sensor: Sensor, detection: Detection, report: ObserverReport) -> tuple[Event, Incident]:
    """A located impact and the incident (launch and impact) it belongs to, attributed to a party."""
    provenance = Provenance(
        algorithm="fusion.locate.tdoa",
        algorithm_version="0.1.0",
        parameters={"sound_speed_m_s": 337.2, "max_iter": 20, "weather": "station", "ok": True},
        inputs=(detection.id,),
        created_at=_t(40),
    )
    event = Event(
        id="evt-0001",
        kind=EventKind.IMPACT,
        origin_time=_t(5.25),
        time_sigma_s=0.03,
        position=Position(lon_deg=37.6502, lat_deg=47.7611),
        location_uncertainty=GeoUncertainty(cov_en_m2=((900.0, 120.0), (120.0, 400.0))),
        violation_kind=ViolationKind.EXPLOSION_IMPACT,
        weapon_class=WeaponClass.ARTILLERY_GE_100MM,
        count=CountRange.one(),
        detection_ids=(detection.id, "det-0002", "det-0003"),
        sensor_ids=(sensor.id, "UK-AA-018", "FR-AC-004"),
        residual_rms_s=0.021,
        quality=0.9,
        provenance=provenance,
    )
    attribution = Attribution(
        level=AttributionLevel.ORIGIN_AREA,
        party=Party.RUSSIA,
        probability=0.97,
        evidence=("evt-0000: launch ellipse 95% inside RU-controlled area",),
    )
    incident = Incident(
        id="inc-0001",
        event_ids=("evt-0000", event.id),
        observation_ids=(report.id,),
        launch_event_id="evt-0000",
        impact_event_id=event.id,
        weapon_class=WeaponClass.ARTILLERY_GE_100MM,
        window=TimeWindow(start=_t(-30), end=_t(6)),
        status=VerificationStatus.CORROBORATED,
        attribution=attribution,
        provenance=Provenance(
            algorithm="fusion.pair.ballistic",
            algorithm_version="0.1.0",
            parameters={"max_time_of_flight_s": 120.0},
            inputs=("evt-0000", event.id, report.id),
            created_at=_t(60),
        ),
    )
    return event, incident


def _assessment(claim: Claim, incident: Incident, event: Event) -> ClaimAssessment:
    """The verdict on the claim, citing the incident and the event."""
    assessment = ClaimAssessment(
        id="cla-0001",
        claim_id=claim.id,
        verdict=ClaimVerdict.CORROBORATED,
        evidence_ids=(incident.id, event.id),
        coverage_probability=0.93,
        rationale="Sensors located 1 impact in the claimed area and period; the claim counts 12.",
        provenance=Provenance(
            algorithm="adjudicate.claims",
            algorithm_version="0.1.0",
            parameters={"match_radius_km": 5.0},
            inputs=(claim.id, incident.id),
            created_at=_t(7300),
        ),
    )
    return assessment


def _violation(event: Event, incident: Incident, report: ObserverReport) -> Violation:
    """A finding of fire across the line, from the incident."""
    violation = Violation(
        id="vio-0001",
        rule_id="fire.impact_across_line",
        rule_version="1",
        rule_parameters={"agreement_version": "2025-04-18", "buffer_km": 7.5},
        time=_t(5.25),
        time_uncertainty=TimeUncertainty(sigma_s=0.03),
        position=event.position,
        geo_uncertainty=event.location_uncertainty,
        violation_kind=ViolationKind.EXPLOSION_IMPACT,
        weapon_class=WeaponClass.ARTILLERY_GE_100MM,
        incident_id=incident.id,
        event_ids=incident.event_ids,
        observation_ids=(report.id,),
        attribution=incident.attribution,
        confidence=0.95,
        status=VerificationStatus.CORROBORATED,
        provenance=Provenance(
            algorithm="adjudicate.fire",
            algorithm_version="0.1.0",
            parameters={"rule_id": "fire.impact_across_line"},
            inputs=(incident.id,),
            created_at=_t(120),
        ),
    )
    return violation


def _weather() -> WeatherReport:
    """A weather report near the examples."""
    weather = WeatherReport(
        id="wx-0001",
        time=_t(0),
        position=Position(lon_deg=37.6, lat_deg=47.8),
        region_radius_km=50.0,
        temperature_c=-15.0,
        wind_u_ms=12.0,
        wind_v_ms=-9.0,
    )
    return weather
