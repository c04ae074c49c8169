"""Every validation error names the record type, the right field and the bad value."""

from __future__ import annotations

import datetime as dt
import math
import pickle
from typing import Any

import pytest
from pydantic import ValidationError

from truceline.core import (
    MISSING,
    Attribution,
    CountRange,
    Detection,
    FrozenModel,
    GeoUncertainty,
    RecordError,
    parse_record,
    to_json_dict,
)
from truceline.core.examples import example_records

EXAMPLES = example_records()


def _set(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Return a deep copy of ``data`` with dotted ``path`` set (or deleted if value is DELETE)."""
    out = dict(data)
    head, _, rest = path.partition(".")
    if rest:
        out[head] = _set(dict(out[head]), rest, value)
    elif value is DELETE:
        del out[head]
    else:
        out[head] = value
    return out


DELETE = object()
NAIVE = "2025-01-01T00:00:00"

# fmt: off
CASES: list[tuple[str, str, Any, str, Any, str]] = [
    # record, path to set, new value, expected field, expected value, reason fragment
    ("detection", "arrival_time", NAIVE, "arrival_time", NAIVE, "time has no timezone"),
    ("detection", "arrival_time", "yesterday", "arrival_time", "yesterday", "ISO 8601"),
    ("detection", "arrival_time", 1745118907.0, "arrival_time", 1745118907.0, "ISO 8601"),
    ("sensor", "position.lat_deg", 91.0, "position.lat_deg", 91.0, "<= 90"),
    ("sensor", "position.lon_deg", -180.5, "position.lon_deg", -180.5, ">= -180"),
    ("sensor", "position.lon_deg", "37.5", "position.lon_deg", "37.5", "expected a number"),
    ("sensor", "position.lon_deg", True, "position.lon_deg", True, "expected a number"),
    ("observer_report", "count.low", 5, "count.low", 5, "low (5) > best (4)"),
    ("observer_report", "count.high", 3, "count.high", 3, "high (3) < best (4)"),
    ("observer_report", "count.best", -1, "count.best", -1, ">= 0"),
    ("observer_report", "count.best", 4.0, "count.best", 4.0, "expected an integer"),
    ("observer_report", "id", "-bad", "id", "-bad", "not a valid id"),
    ("observer_report", "kind", "explosion", "kind", "explosion", "unknown value"),
    ("observer_report", "observer_nationality", "fr", "observer_nationality", "fr", "match"),
    ("observer_report", "direction_deg", 360.0, "direction_deg", 360.0, "< 360"),
    ("observer_report", "patrol_id", DELETE, "patrol_id", MISSING, "required field missing"),
    ("detection", "bearing_sigma_deg", None, "bearing_sigma_deg", None, "required when"),
    ("detection", "class_scores.impact", 1.5, "class_scores.impact", 1.5, "<= 1"),
    ("detection", "class_scores.noise", -0.1, "class_scores.noise", -0.1, ">= 0"),
    ("detection", "time_sigma_s", -0.01, "time_sigma_s", -0.01, ">= 0"),
    ("detection", "colour", "red", "colour", "red", "unknown field"),
    ("violation", "attribution", {"level": "party", "evidence": ["evt-1"]},
     "attribution.party", None, "required when level is 'party'"),
    ("violation", "attribution", {"level": "unattributed", "party": "UA"},
     "attribution.party", "UA", "must be empty when unattributed"),
    ("violation", "attribution.party", None, "attribution.probability", 0.97, "without a party"),
    ("violation", "attribution.level", "blame", "attribution.level", "blame", "unknown value"),
    ("event", "location_uncertainty.cov_en_m2", [[1.0, 2.0], [2.0, 1.0]],
     "location_uncertainty.cov_en_m2", [[1.0, 2.0], [2.0, 1.0]], "positive semi-definite"),
    ("event", "location_uncertainty.cov_en_m2", None, "location_uncertainty",
     {"sigma_m": None, "cov_en_m2": None, "precision": "exact"}, "numeric"),
    ("event", "quality", 1.01, "quality", 1.01, "<= 1"),
    ("event", "detection_ids", ["det-1", "det 2"], "detection_ids[1]", "det 2", "valid id"),
    ("event", "detection_ids", ["det-1", "det-1"], "detection_ids[1]", "det-1", "duplicate"),
    ("event", "provenance.created_at", NAIVE, "provenance.created_at", NAIVE, "timezone"),
    ("event", "provenance.parameters.max_iter", {"a": 1}, "provenance.parameters.max_iter",
     {"a": 1}, "JSON scalar"),
    ("claim", "period.end", "2025-04-19T00:00:00+00:00", "period.end",
     "2025-04-19T00:00:00+00:00", "end is before start"),
    ("claim", "source_url", "ftp://x", "source_url", "ftp://x", "match"),
    ("claim", "text", "  ", "text", "  ", "must not be empty"),
    ("claim", "claimant_kind", "government", "claimant_kind", "government", "unknown value"),
    ("incident", "launch_event_id", "evt-9", "launch_event_id", "evt-9", "not one of"),
    ("incident", "status", "confirmed", "status", "confirmed", "unknown value"),
    ("sighting", "party_assessed", "XX", "party_assessed", "XX", "unknown value"),
    ("sighting", "geo_uncertainty.sigma_m", math.inf, "geo_uncertainty.sigma_m", math.inf,
     "finite"),
    ("sensor_status_report", "health", "hacked", "health", "hacked", "unknown value"),
    ("freedom_of_movement_restriction", "description", "", "description", "", "empty"),
]
# fmt: on


@pytest.mark.parametrize(
    ("name", "path", "new", "field", "value", "reason"),
    CASES,
    ids=[f"{c[0]}:{c[1]}={c[2]!r}"[:60] for c in CASES],
)
def test_error_names_field_and_value(name: str, path: str, new: Any, field: str, value: Any, reason: str) -> None:
    record = EXAMPLES[name]
    data = _set(to_json_dict(record), path, new)
    with pytest.raises(RecordError) as info:
        parse_record(type(record), data)
    err = info.value
    assert err.record_type == type(record).__name__
    assert err.field == field
    assert err.value == value
    assert reason in err.reason
    assert err.record_id == (data["id"] if isinstance(data.get("id"), str) else None)
    assert err.errors[0] == (err.field, err.value, err.reason)
    assert str(err).startswith(f"{type(record).__name__}.{field}: ")
    assert isinstance(err, ValueError)
    assert not isinstance(err, ValidationError)


def test_nan_longitude() -> None:
    data = _set(to_json_dict(EXAMPLES["sensor"]), "position.lon_deg", math.nan)
    with pytest.raises(RecordError) as info:
        parse_record("sensor", data)
    assert info.value.field == "position.lon_deg"
    assert math.isnan(info.value.value)
    assert info.value.reason == "must be a finite number"


def test_naive_datetime_object() -> None:
    naive = dt.datetime(2025, 1, 1)
    data = {"id": "d1", "sensor_id": "s1", "arrival_time": naive}
    with pytest.raises(RecordError) as info:
        parse_record(Detection, data)
    assert (info.value.field, info.value.value) == ("arrival_time", naive)


def test_message_format() -> None:
    err = RecordError("Detection", "arrival_time", NAIVE, "time has no timezone")
    assert str(err) == "Detection.arrival_time: '2025-01-01T00:00:00' — time has no timezone"
    with_id = RecordError("Detection", "arrival_time", NAIVE, "time has no timezone", record_id="det-1")
    assert str(with_id).endswith("(record 'det-1')")
    whole = RecordError("Detection", "", 5, "expected a mapping of fields")
    assert str(whole) == "Detection: 5 — expected a mapping of fields"
    restored = pickle.loads(pickle.dumps(with_id))
    assert (restored.field, restored.record_id, str(restored)) == (
        "arrival_time",
        "det-1",
        str(with_id),
    )


def test_all_errors_kept_in_order() -> None:
    with pytest.raises(RecordError) as info:
        parse_record(Detection, {"id": "d 1", "arrival_time": NAIVE, "extra": 1})
    fields = [f for f, _, _ in info.value.errors]
    assert fields == ["id", "sensor_id", "arrival_time", "extra"]
    assert info.value.errors[1][1] is MISSING
    assert "(+3 more)" in str(info.value)
    assert info.value.record_id == "d 1"  # cited as given, to help find the record
    assert repr(MISSING) == "<missing>"


def test_record_id_hint() -> None:
    with pytest.raises(RecordError) as info:
        parse_record(Detection, {"id": "d1"}, record_id_hint="line 7")
    assert info.value.record_id == "line 7"


@pytest.mark.parametrize("data", [None, 5, "x", ["id", "d1"]])
def test_non_mapping_input(data: Any) -> None:
    with pytest.raises(RecordError) as info:
        parse_record(Detection, data)
    assert (info.value.field, info.value.value) == ("", data)


def test_value_objects_parse_too() -> None:
    with pytest.raises(RecordError) as info:
        parse_record(CountRange, {"low": 2, "best": 1, "high": 3})
    assert (info.value.record_type, info.value.field, info.value.value) == ("CountRange", "low", 2)
    with pytest.raises(RecordError) as info:
        parse_record(GeoUncertainty, {"cov_en_m2": [[1.0, 0.5], [0.2, 1.0]]})
    assert info.value.field == "cov_en_m2"
    assert "symmetric" in info.value.reason
    with pytest.raises(RecordError) as info:
        parse_record(Attribution, {"level": "party"})
    assert info.value.field == "party"


def test_bad_class_argument() -> None:
    with pytest.raises(TypeError):
        parse_record(dict, {})  # type: ignore[type-var]
    with pytest.raises(ValueError, match="unknown record type"):
        parse_record("detections", {})
    assert issubclass(Detection, FrozenModel)
