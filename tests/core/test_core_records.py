"""Records: round-trip of every type, immutability, registry, defaults, evolve."""

from __future__ import annotations

import copy
import datetime as dt
import json
import pickle
import warnings

import pytest
from pydantic import ValidationError

from truceline.core import (
    RECORD_TYPES,
    Attribution,
    AttributionLevel,
    Claim,
    ClaimAssessment,
    CountRange,
    Detection,
    DistanceBand,
    Event,
    FreedomOfMovementRestriction,
    GeoPrecision,
    Incident,
    ObserverReport,
    Party,
    Position,
    Provenance,
    Record,
    RecordError,
    Sensor,
    SensorStatusReport,
    Sighting,
    TimePrecision,
    VerificationStatus,
    Violation,
    ViolationKind,
    WeaponClass,
    WeatherReport,
    evolve,
    from_json_dict,
    parse_record,
    record_type,
    record_type_name,
    register_record_type,
    to_json_dict,
)
from truceline.core.examples import EXAMPLE_TIME, example_records

EXAMPLES = example_records()

EXPECTED_TYPES = {
    "sensor": Sensor,
    "sensor_status_report": SensorStatusReport,
    "detection": Detection,
    "observer_report": ObserverReport,
    "sighting": Sighting,
    "freedom_of_movement_restriction": FreedomOfMovementRestriction,
    "claim": Claim,
    "claim_assessment": ClaimAssessment,
    "event": Event,
    "incident": Incident,
    "violation": Violation,
    "weather_report": WeatherReport,
}


def test_registry_complete() -> None:
    assert dict(RECORD_TYPES) == EXPECTED_TYPES
    assert set(EXAMPLES) == set(RECORD_TYPES)
    for name, cls in EXPECTED_TYPES.items():
        assert record_type(name) is cls
        assert record_type_name(cls) == name
        assert record_type_name(EXAMPLES[name]) == name


def test_registry_errors() -> None:
    with pytest.raises(ValueError, match="unknown record type 'nope'"):
        record_type("nope")
    with pytest.raises(ValueError, match="not a registered"):
        record_type_name(Record)
    with pytest.raises(TypeError):
        RECORD_TYPES["x"] = Sensor  # type: ignore[index]

    class Impostor(Record):
        RECORD_TYPE = "detection"

    with pytest.raises(ValueError, match="already registered"):
        register_record_type(Impostor)
    with pytest.raises(ValueError, match="no RECORD_TYPE"):
        register_record_type(Record)


@pytest.mark.parametrize("name", sorted(EXPECTED_TYPES))
def test_round_trip_every_record_type(name: str) -> None:
    record = EXAMPLES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = to_json_dict(record)
    text = json.dumps(data, allow_nan=False)  # JSON-safe
    back = from_json_dict(type(record), json.loads(text))
    assert back == record
    assert to_json_dict(back) == data
    assert from_json_dict(name, data) == record
    assert parse_record(type(record), data) == record


@pytest.mark.parametrize("name", sorted(EXPECTED_TYPES))
def test_records_frozen_hashable_picklable(name: str) -> None:
    record = EXAMPLES[name]
    with pytest.raises(ValidationError):
        record.id = "other"  # type: ignore[misc]
    assert hash(record) == hash(from_json_dict(type(record), to_json_dict(record)))
    assert pickle.loads(pickle.dumps(record)) == record
    assert copy.deepcopy(record) == record


def test_nested_values_and_mappings_immutable() -> None:
    det = EXAMPLES["detection"]
    assert isinstance(det, Detection)
    with pytest.raises(TypeError):
        det.class_scores["impact"] = 0.0  # type: ignore[index]
    evt = EXAMPLES["event"]
    assert isinstance(evt, Event)
    with pytest.raises(ValidationError):
        evt.position.lat_deg = 0.0  # type: ignore[misc]
    assert isinstance(evt.detection_ids, tuple)
    with pytest.raises(TypeError):
        evt.provenance.parameters["max_iter"] = 1  # type: ignore[index]


def test_json_form() -> None:
    data = to_json_dict(EXAMPLES["observer_report"])
    # 06:15 Kyiv (+03:00) is stored and written as UTC with offset and microseconds
    assert data["time"] == "2025-04-20T03:15:00.000000+00:00"
    assert data["kind"] == "explosion_impact"
    assert data["distance_band"] == "3_5km"
    assert data["count"] == {"low": 3, "best": 4, "high": 6}
    evt = to_json_dict(EXAMPLES["event"])
    assert evt["location_uncertainty"]["cov_en_m2"] == [[900.0, 120.0], [120.0, 400.0]]
    assert evt["detection_ids"] == ["det-0001", "det-0002", "det-0003"]
    assert evt["provenance"]["parameters"]["ok"] is True
    det = to_json_dict(EXAMPLES["detection"])
    assert det["arrival_time"] == "2025-04-20T03:15:28.127673+00:00"
    assert det["class_scores"] == {"impact": 0.82, "launch": 0.11}


def test_sub_millisecond_time_kept() -> None:
    t = dt.datetime(2025, 4, 20, 3, 0, 0, 250001, tzinfo=dt.UTC)
    det = Detection(id="d1", sensor_id="s1", arrival_time=t)
    back = from_json_dict(Detection, to_json_dict(det))
    assert back.arrival_time.microsecond == 250001
    assert back.arrival_time == t


def test_iso_strings_with_offsets_accepted() -> None:
    det = parse_record(Detection, {"id": "d1", "sensor_id": "s1", "arrival_time": "2025-04-20T06:00:00.5+03:00"})
    assert det.arrival_time == dt.datetime(2025, 4, 20, 3, 0, 0, 500000, tzinfo=dt.UTC)


def test_defaults_where_source_gives_none() -> None:
    report = ObserverReport(
        id="obs-1",
        patrol_id="p1",
        observer_nationality="GB",
        observer_position=Position(lon_deg=37.0, lat_deg=47.0),
        time=EXAMPLE_TIME,
        mode="heard",
        kind="explosion_undetermined",
        direction_deg=90.0,
    )
    assert report.time_uncertainty.precision is TimePrecision.MINUTE
    assert report.direction_sigma_deg == 22.5
    assert report.distance_band is DistanceBand.UNKNOWN
    assert report.count == CountRange.exact(1)
    assert report.assessed_weapon is WeaponClass.UNKNOWN
    det = Detection(id="d", sensor_id="s", arrival_time=EXAMPLE_TIME)
    assert det.time_sigma_s == 0.05
    assert dict(det.class_scores) == {}
    claim = EXAMPLES["claim"]
    assert isinstance(claim, Claim)
    assert Claim.model_fields["place_uncertainty"].default.precision is GeoPrecision.SETTLEMENT
    assert Attribution().level is AttributionLevel.UNATTRIBUTED


def test_observer_report_without_direction_has_no_sigma() -> None:
    data = to_json_dict(EXAMPLES["observer_report"])
    data.pop("direction_sigma_deg")
    data["direction_deg"] = None
    report = parse_record(ObserverReport, data)
    assert report.direction_sigma_deg is None


def test_attribution_rules() -> None:
    Attribution(level="party", party=Party.UKRAINE, probability=0.99, evidence=("evt-1",))
    Attribution(level="origin_area", evidence=("evt-1",))
    Attribution(level="direction_of_fire", party="RU", evidence=("obs-1: bearing 95 deg",))
    with pytest.raises(ValidationError, match="required when level is 'party'"):
        Attribution(level="party", evidence=("evt-1",))
    with pytest.raises(ValidationError, match="must be empty when unattributed"):
        Attribution(party="UA")
    with pytest.raises(ValidationError, match="must cite its evidence"):
        Attribution(level="origin_area")
    with pytest.raises(ValidationError, match="without a party"):
        Attribution(level="origin_area", probability=0.5, evidence=("e",))
    assert Attribution(level="party", party="RU", evidence=("e",)).is_attributed


def test_evolve_revalidates() -> None:
    inc = EXAMPLES["incident"]
    assert isinstance(inc, Incident)
    verified = evolve(inc, status=VerificationStatus.VERIFIED)
    assert verified.status is VerificationStatus.VERIFIED
    assert verified.id == inc.id and inc.status is VerificationStatus.CORROBORATED
    with pytest.raises(RecordError) as err:
        evolve(inc, launch_event_id="evt-9999")
    assert err.value.field == "launch_event_id"
    assert err.value.record_id == inc.id
    with pytest.raises(RecordError) as err:
        evolve(inc, colour="red")
    assert err.value.field == "colour"


def test_claims_and_findings_are_different_types() -> None:
    # claims are never merged with findings: a claim does not parse as a violation
    with pytest.raises(RecordError):
        from_json_dict(Violation, to_json_dict(EXAMPLES["claim"]))


def test_incident_checks() -> None:
    data = to_json_dict(EXAMPLES["incident"])
    parse_record(Incident, {**data, "event_ids": [], "launch_event_id": None, "impact_event_id": None})
    with pytest.raises(RecordError, match="needs events or observations"):
        parse_record(
            Incident,
            {
                **data,
                "event_ids": [],
                "observation_ids": [],
                "launch_event_id": None,
                "impact_event_id": None,
            },
        )
    with pytest.raises(RecordError, match="same event as launch_event_id"):
        parse_record(Incident, {**data, "impact_event_id": "evt-0000"})


def test_sensor_bearing_consistency() -> None:
    data = to_json_dict(EXAMPLES["sensor"])
    with pytest.raises(RecordError) as err:
        parse_record(Sensor, {**data, "has_bearing": False, "bearing_sigma_deg": None})
    assert err.value.field == "has_bearing"
    plain = parse_record(Sensor, {**data, "kind": "acoustic", "has_bearing": False, "bearing_sigma_deg": None})
    assert not plain.has_bearing
    with pytest.raises(RecordError) as err:
        parse_record(Sensor, {**data, "kind": "acoustic", "has_bearing": False})
    assert err.value.field == "bearing_sigma_deg"


def test_sensor_status_report_reason() -> None:
    data = to_json_dict(EXAMPLES["sensor_status_report"])
    parse_record(SensorStatusReport, {**data, "health": "ok", "reason": ""})
    with pytest.raises(RecordError) as err:
        parse_record(SensorStatusReport, {**data, "health": "destroyed", "reason": " "})
    assert (err.value.field, err.value.value) == ("reason", " ")


def test_violation_must_cite_evidence() -> None:
    data = to_json_dict(EXAMPLES["violation"])
    with pytest.raises(RecordError, match="must cite"):
        parse_record(Violation, {**data, "incident_id": None, "event_ids": [], "observation_ids": []})
    assert ViolationKind(data["violation_kind"]) is ViolationKind.EXPLOSION_IMPACT


def test_provenance_parameters_json_values() -> None:
    p = Provenance(
        algorithm="a",
        algorithm_version="1",
        parameters={"s": "x", "i": 1, "f": 1.5, "b": False, "n": None, "l": [1, "a", None]},
        created_at=EXAMPLE_TIME,
    )
    assert p.parameters["l"] == (1, "a", None)
    assert type(p.parameters["b"]) is bool
    assert type(p.parameters["i"]) is int
    assert from_json_dict(Provenance, json.loads(json.dumps(to_json_dict(p)))) == p


def test_numpy_scalars_accepted_as_numbers() -> None:
    np = pytest.importorskip("numpy")
    cnt = CountRange(low=np.int64(1), best=np.int32(2), high=3)
    assert (type(cnt.low), cnt.low) == (int, 1)
    pos = Position(lon_deg=np.float32(37.5), lat_deg=np.float64(47.25))
    assert type(pos.lon_deg) is float and pos.lon_deg == 37.5
    p = Provenance(
        algorithm="a",
        algorithm_version="1",
        parameters={"n": np.int64(3), "x": np.float64(0.5), "b": np.bool_(True)},
        created_at=EXAMPLE_TIME,
    )
    assert [type(p.parameters[k]) for k in ("n", "x", "b")] == [int, float, bool]
    with pytest.raises(ValidationError, match="boolean"):
        Position(lon_deg=np.bool_(True), lat_deg=0.0)
