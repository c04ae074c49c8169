"""The strict reader behind ``truceline ingest``: each bad record is rejected with file, line, field
and reason; every good record is kept."""

from __future__ import annotations

import codecs
import copy
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from truceline.core import Claim, Sensor, SensorStatusReport, Sighting, WeatherReport
from truceline.io.detections import DetectionFileError, read_detections
from truceline.io.records import (
    DetectionBatch,
    RecordBatch,
    RecordKind,
    RecordProblem,
    kind_for,
    parse_kind,
    read_any,
    read_detection_file,
    read_records,
)
from truceline.sim.run import simulate
from truceline.sim.scenario import parse_scenario

REPO = Path(__file__).resolve().parents[2]

DET_HEADER = (
    "id,sensor_id,arrival_time,time_sigma_s,bearing_deg,bearing_sigma_deg,amplitude_pa,"
    "class_scores.launch,class_scores.impact"
)


def _sighting(i: int, **changes: Any) -> dict[str, Any]:
    """A valid Sighting as JSON; ``changes`` replace fields (``...`` removes one)."""
    obj: dict[str, Any] = {
        "id": f"sgt-{i}",
        "platform": "uav",
        "position": {"lon_deg": 37.5, "lat_deg": 48.2},
        "geo_uncertainty": {"sigma_m": 30.0, "cov_en_m2": None, "precision": "exact"},
        "time": f"2026-09-01T21:{i % 60:02d}:00.000000+00:00",
        "weapon_class": "mlrs",
        "count": {"low": 1, "best": 1, "high": 1},
        "party_assessed": "UA",
        "imagery_ref": f"UAV-IMG-{i}",
        "notes": "1 x mlrs",
    }
    for key, value in changes.items():
        if value is ...:
            obj.pop(key)
        else:
            obj[key] = value
    return obj


def _line(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _write(path: Path, lines: list[str], bom: bool = False) -> Path:
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _good_ids(batch: RecordBatch) -> list[str]:
    return [r.id for r in batch.records]


def _problems(batch: RecordBatch | DetectionBatch) -> list[tuple[int, str | None, str, str, str]]:
    return [(p.line, p.record_id, p.field, p.value, p.reason) for p in batch.problems]


# --------------------------------------------------------------------------- line-level problems


def test_bad_json_on_a_line_is_named_and_the_rest_kept(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "sightings.jsonl",
        [_line(_sighting(1)), '{"id": "sgt-2", "platform": "uav",', _line(_sighting(3))],
    )
    batch = read_records(path)
    assert batch.kind is RecordKind.SIGHTING
    assert _good_ids(batch) == ["sgt-1", "sgt-3"]
    assert batch.lines == [1, 3]
    assert _problems(batch) == [
        (
            2,
            None,
            "<json>",
            '{"id": "sgt-2", "platform": "uav",',
            "not valid JSON: Expecting property name enclosed in double quotes (column 35)",
        )
    ]
    assert str(batch.problems[0]) == (
        f'{path}:2: <json>: \'{{"id": "sgt-2", "platform": "uav",\' — '
        "not valid JSON: Expecting property name enclosed in double quotes (column 35)"
    )


def test_strict_json_duplicate_keys_and_nan_are_refused(tmp_path: Path) -> None:
    dup = '{"id":"sgt-2","id":"sgt-9"}'
    nan = _line(_sighting(3)).replace('"lat_deg":48.2', '"lat_deg":NaN')
    path = _write(tmp_path / "sightings.jsonl", [_line(_sighting(1)), dup, nan, _line(_sighting(4))])
    batch = read_records(path)
    assert _good_ids(batch) == ["sgt-1", "sgt-4"]
    assert [(p.line, p.field, p.reason) for p in batch.problems] == [
        (2, "<json>", "not valid JSON: duplicate key 'id' in an object"),
        (3, "<json>", "not valid JSON: NaN is not a JSON number"),
    ]


def test_a_line_that_is_not_an_object(tmp_path: Path) -> None:
    path = _write(tmp_path / "sightings.jsonl", [_line(_sighting(1)), "[1, 2]", '"sgt-3"', _line(_sighting(4))])
    batch = read_records(path)
    assert _good_ids(batch) == ["sgt-1", "sgt-4"]
    assert _problems(batch) == [
        (2, None, "<record>", "[1,2]", "expected a JSON object, got an array"),
        (3, None, "<record>", "sgt-3", "expected a JSON object, got a string"),
    ]


def test_missing_required_field(tmp_path: Path) -> None:
    path = _write(tmp_path / "sightings.jsonl", [_line(_sighting(1)), _line(_sighting(2, time=...))])
    batch = read_records(path)
    assert _good_ids(batch) == ["sgt-1"]
    assert _problems(batch) == [(2, "sgt-2", "time", "<missing>", "required field missing")]
    assert str(batch.problems[0]) == f"{path}:2: record 'sgt-2': time: '<missing>' — required field missing"


def test_wrong_types(tmp_path: Path) -> None:
    lines = [
        _line(_sighting(1)),
        _line(_sighting(2, position={"lon_deg": 37.5, "lat_deg": "48.2"})),  # string for a number
        _line(_sighting(3, notes=5)),  # number for a string
        _line(_sighting(4, count={"low": 1.0, "best": 1, "high": 1})),  # float for an integer
        _line(_sighting(5, position={"lon_deg": True, "lat_deg": 48.2})),  # boolean for a number
        _line(_sighting(6)),
    ]
    batch = read_records(_write(tmp_path / "sightings.jsonl", lines))
    assert _good_ids(batch) == ["sgt-1", "sgt-6"]
    assert batch.lines == [1, 6]
    assert _problems(batch) == [
        (2, "sgt-2", "position.lat_deg", "48.2", "expected a number"),
        (3, "sgt-3", "notes", "5", "expected a string"),
        (4, "sgt-4", "count.low", "1.0", "expected an integer"),
        (5, "sgt-5", "position.lon_deg", "true", "expected a number, got a boolean"),
    ]


def test_time_without_zone_in_jsonl(tmp_path: Path) -> None:
    lines = [_line(_sighting(1, time="2026-09-01T21:00:00")), _line(_sighting(2, time="2026-09-01T21:00:00Z"))]
    batch = read_records(_write(tmp_path / "sightings.jsonl", lines))
    assert _good_ids(batch) == ["sgt-2"]
    assert _problems(batch) == [(1, "sgt-1", "time", "2026-09-01T21:00:00", "time has no timezone")]


def test_time_without_zone_in_a_detections_csv(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "detections.csv",
        [
            DET_HEADER,
            "d1,S1,2026-09-01T21:00:00.250000+00:00,0.05,,,1.5,0.8,0.2",
            "d2,S1,2026-09-01T21:00:01.000000,0.05,,,1.5,0.8,0.2",
            "d3,S2,2026-09-01T21:00:02+03:00,0.05,123.5,3,0.9,0.3,0.7",
        ],
    )
    batch = read_detection_file(path)
    assert batch.table.ids.tolist() == ["d1", "d3"]
    assert batch.lines.tolist() == [2, 4]
    assert _problems(batch) == [(3, "d2", "arrival_time", "2026-09-01T21:00:01.000000", "time has no timezone")]
    assert str(batch.problems[0]) == (
        f"{path}:3: record 'd2': arrival_time: '2026-09-01T21:00:01.000000' — time has no timezone"
    )


def test_coordinates_out_of_range(tmp_path: Path) -> None:
    lines = [
        _line(_sighting(1, position={"lon_deg": 37.5, "lat_deg": 91})),
        _line(_sighting(2, position={"lon_deg": -181, "lat_deg": 48.2})),
        _line(_sighting(3, position={"lon_deg": 180, "lat_deg": -90})),  # the bounds themselves are valid
        _line(_sighting(4, position={"lon_deg": -181, "lat_deg": 91}, notes=5)),  # every bad field named
    ]
    batch = read_records(_write(tmp_path / "sightings.jsonl", lines))
    assert _good_ids(batch) == ["sgt-3"]
    assert _problems(batch) == [
        (1, "sgt-1", "position.lat_deg", "91", "must be <= 90.0"),
        (2, "sgt-2", "position.lon_deg", "-181", "must be >= -180.0"),
        (4, "sgt-4", "position.lon_deg", "-181", "must be >= -180.0"),
        (4, "sgt-4", "position.lat_deg", "91", "must be <= 90.0"),
        (4, "sgt-4", "notes", "5", "expected a string"),
    ]
    assert batch.rejected_lines == [1, 2, 4]


def test_duplicate_ids_differing_is_a_problem_identical_is_a_repeat(tmp_path: Path) -> None:
    lines = [
        _line(_sighting(1)),
        _line(_sighting(2)),
        _line(_sighting(1, notes="another text")),  # same id, other content
        _line(_sighting(2)),  # exact repeat
        # the same record spelled differently (offset "Z" for "+00:00") is still the same record
        _line(_sighting(2)).replace("+00:00", "Z"),
        _line(_sighting(3)),
    ]
    batch = read_records(_write(tmp_path / "sightings.jsonl", lines))
    assert _good_ids(batch) == ["sgt-1", "sgt-2", "sgt-3"]
    assert batch.lines == [1, 2, 6]
    first = batch.records[0]
    assert isinstance(first, Sighting) and first.notes == "1 x mlrs"  # the first is kept
    assert batch.repeats == 2
    assert _problems(batch) == [(3, "sgt-1", "id", "sgt-1", "duplicate id, first on line 1")]


def test_a_rejected_first_occurrence_does_not_block_the_id(tmp_path: Path) -> None:
    lines = [_line(_sighting(1, time=...)), _line(_sighting(1))]
    batch = read_records(_write(tmp_path / "sightings.jsonl", lines))
    assert _good_ids(batch) == ["sgt-1"] and batch.lines == [2]
    assert _problems(batch) == [(1, "sgt-1", "time", "<missing>", "required field missing")]


def test_blank_lines_are_ignored_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "sightings.jsonl"
    path.write_text(_line(_sighting(1)) + "\n\n   \n\r\n" + _line(_sighting(2)) + "\r\n\n", encoding="utf-8")
    batch = read_records(path)
    assert _good_ids(batch) == ["sgt-1", "sgt-2"]
    assert batch.lines == [1, 5]
    assert batch.ok and batch.repeats == 0


def test_empty_file_has_no_records_and_no_problems(tmp_path: Path) -> None:
    path = tmp_path / "sensor_status.jsonl"
    path.write_bytes(b"")
    batch = read_records(path)
    assert batch.kind is RecordKind.SENSOR_STATUS
    assert len(batch) == 0 and batch.ok


def test_bom_at_file_start_is_accepted(tmp_path: Path) -> None:
    jsonl = read_records(_write(tmp_path / "sightings.jsonl", [_line(_sighting(1)), _line(_sighting(2))], bom=True))
    assert _good_ids(jsonl) == ["sgt-1", "sgt-2"] and jsonl.ok
    doc = tmp_path / "sightings.json"
    doc.write_text("\ufeff" + json.dumps([_sighting(1)]), encoding="utf-8")
    assert _good_ids(read_records(doc)) == ["sgt-1"]
    csv_path = _write(
        tmp_path / "detections.csv", [DET_HEADER, "d1,S1,2026-09-01T21:00:00.250000+00:00,0.05,,,1.5,0.8,0.2"], bom=True
    )
    det = read_detection_file(csv_path)
    assert det.table.ids.tolist() == ["d1"] and det.ok


def test_a_bom_inside_the_file_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path / "sightings.jsonl", [_line(_sighting(1)), "\ufeff" + _line(_sighting(2))])
    batch = read_records(path)
    assert _good_ids(batch) == ["sgt-1"]
    assert [(p.line, p.field, p.reason) for p in batch.problems] == [
        (2, "<encoding>", "a byte order mark (U+FEFF) is allowed only at the start of the file")
    ]


def test_undecodable_utf8_is_a_problem_for_that_line(tmp_path: Path) -> None:
    path = tmp_path / "sightings.jsonl"
    bad = _line(_sighting(2, notes="cafe")).encode("utf-8").replace(b"cafe", b"caf\xe9")  # Latin-1, not UTF-8
    path.write_bytes(_line(_sighting(1)).encode() + b"\n" + bad + b"\n" + _line(_sighting(3)).encode() + b"\n")
    batch = read_records(path)
    assert _good_ids(batch) == ["sgt-1", "sgt-3"]
    [problem] = batch.problems
    column = bad.index(b"\xe9") + 1
    assert (problem.line, problem.record_id, problem.field) == (2, "sgt-2", "<encoding>")
    assert problem.reason == f"not valid UTF-8: byte 0xE9 at column {column}"
    assert problem.value == "..." + bad[column - 51 :].decode("utf-8", "backslashreplace")
    assert problem.value.endswith('"notes":"caf\\xe9"}')


def test_undecodable_utf8_in_detection_files(tmp_path: Path) -> None:
    csv_path = tmp_path / "detections.csv"
    csv_path.write_bytes(
        (DET_HEADER + "\n").encode()
        + b"d1,S1,2026-09-01T21:00:00.250000+00:00,0.05,,,1.5,0.8,0.2\n"
        + b"d2,S\xff1,2026-09-01T21:00:00.500000+00:00,0.05,,,1.5,0.8,0.2\n"
        + b"d3,S1,2026-09-01T21:00:01.000000+00:00,0.05,,,1.5,0.8,0.2\n"
    )
    det = read_detection_file(csv_path)
    assert det.table.ids.tolist() == ["d1", "d3"] and det.lines.tolist() == [2, 4]
    assert [(p.line, p.field, p.reason) for p in det.problems] == [(3, "<encoding>", "not valid UTF-8: byte 0xFF")]
    assert det.problems[0].value == "d2,S\\xff1,2026-09-01T21:00:00.500000+00:00,0.05,,,1.5,0.8,0.2"

    jsonl_path = tmp_path / "detections.jsonl"
    good = {"id": "d1", "sensor_id": "S1", "arrival_time": "2026-09-01T21:00:00+00:00"}
    jsonl_path.write_bytes(_line(good).encode() + b'\n{"id":"d2","sensor_id":"S\xff"}\nnot json\n')
    det = read_detection_file(jsonl_path)
    assert det.table.ids.tolist() == ["d1"]
    assert [(p.line, p.field) for p in det.problems] == [(2, "<encoding>"), (3, "<json>")]


def test_detection_problems_become_record_problems(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "detections.csv",
        [
            DET_HEADER,
            "d1,S1,2026-09-01T21:00:00.250000+00:00,0.05,,,1.5,0.8,0.2",
            "d2,S1",  # wrong number of cells: a problem, the file goes on
            "d3,S1,2026-09-01T21:00:02+00:00,0.05,400,3,1,0.5,0.5",
            "d1,S1,2026-09-01T21:00:03+00:00,0.05,,,1,0.5,0.5",
            "d5,S1,2026-09-01T21:00:04+00:00,0.05,,,1,0.5,0.5",
        ],
    )
    batch = read_detection_file(path)
    assert batch.table.ids.tolist() == ["d1", "d5"]
    assert _problems(batch) == [
        (3, "d2", "<row>", "d2,S1", "2 cells, header has 9"),
        (4, "d3", "bearing_deg", "400", "must be in [0, 360)"),
        (5, "d1", "id", "d1", "duplicate id (first on line 2)"),
    ]
    # One problem type: the bulk reader's own problems are the same records, its pseudo-fields in
    # parentheses (as its error message has always named them).
    raw = read_detections(path, on_error="collect").problems
    assert [(p.line, p.record_id, p.field) for p in raw] == [
        (3, "d2", "(row)"),
        (4, "d3", "bearing_deg"),
        (5, "d1", "id"),
    ]
    assert raw[1] == batch.problems[1] and isinstance(raw[1], RecordProblem)
    assert str(batch.problems[1]) == f"{path}:4: record 'd3': bearing_deg: '400' — must be in [0, 360)"
    with pytest.raises(DetectionFileError) as exc:
        read_detections(path)
    assert str(exc.value) == f"{path}:3: (row): 'd2,S1' — 2 cells, header has 9"  # no record part


def test_a_detections_file_without_a_usable_header(tmp_path: Path) -> None:
    path = _write(tmp_path / "detections.csv", ["a,b", "1,2"])
    batch = read_detection_file(path)
    assert len(batch) == 0
    assert _problems(batch) == [(1, None, "<header>", "a,b", "missing column(s) ['id', 'sensor_id', 'arrival_time']")]


def test_record_type_key_must_name_the_files_kind(tmp_path: Path) -> None:
    lines = [
        _line({"record_type": "sighting", **_sighting(1)}),
        _line({"record_type": "claim", **_sighting(2)}),
        _line(_sighting(3)),
    ]
    batch = read_records(_write(tmp_path / "sightings.jsonl", lines))
    assert _good_ids(batch) == ["sgt-1", "sgt-3"]
    assert _problems(batch) == [(2, "sgt-2", "record_type", "claim", "expected 'sighting', the kind of this file")]


# --------------------------------------------------------------------------- JSON documents


def test_json_array_form_counts_objects(tmp_path: Path) -> None:
    path = tmp_path / "sightings.json"
    path.write_text(
        json.dumps([_sighting(1), _sighting(2, time=...), 7, _sighting(4), _sighting(1)], indent=2), encoding="utf-8"
    )
    batch = read_records(path)
    assert _good_ids(batch) == ["sgt-1", "sgt-4"]
    assert batch.lines == [1, 4]  # object indices, not text lines
    assert batch.repeats == 1
    assert _problems(batch) == [
        (2, "sgt-2", "time", "<missing>", "required field missing"),
        (3, None, "<record>", "7", "expected a JSON object, got a number"),
    ]


def test_json_records_object_with_record_type(tmp_path: Path) -> None:
    path = tmp_path / "batch-0001.json"  # the name does not tell; record_type does
    path.write_text(json.dumps({"record_type": "sighting", "records": [_sighting(1), _sighting(2)]}), encoding="utf-8")
    batch = read_records(path)
    assert batch.kind is RecordKind.SIGHTING
    assert _good_ids(batch) == ["sgt-1", "sgt-2"] and batch.ok


def test_json_document_problems_have_line_zero(tmp_path: Path) -> None:
    bad = tmp_path / "sightings.json"
    bad.write_text('[\n  {"id": "sgt-1"},\n  {"id": \n]', encoding="utf-8")
    batch = read_records(bad)
    assert len(batch) == 0
    assert [(p.line, p.field, p.reason) for p in batch.problems] == [
        (0, "<json>", "not valid JSON: Expecting value (text line 4, column 1)")
    ]
    single = tmp_path / "claims.json"
    single.write_text(json.dumps({"id": "clm-1"}), encoding="utf-8")
    assert [(p.line, p.field, p.reason) for p in read_records(single).problems] == [
        (0, "records", "expected an array of objects, or an object with a 'records' array")
    ]


# --------------------------------------------------------------------------- kinds


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("sensors.jsonl", RecordKind.SENSOR),
        ("sensor_status.jsonl", RecordKind.SENSOR_STATUS),
        ("detections.csv", RecordKind.DETECTION),
        ("detections.jsonl", RecordKind.DETECTION),
        ("weather.jsonl", RecordKind.WEATHER),
        ("observer_reports.jsonl", RecordKind.OBSERVER_REPORT),
        ("sightings.jsonl", RecordKind.SIGHTING),
        ("fom_restrictions.jsonl", RecordKind.FOM_RESTRICTION),
        ("claims.jsonl", RecordKind.CLAIM),
        ("2026-09-02_sightings.jsonl", RecordKind.SIGHTING),
        ("2026-09-02_sensor_status.ndjson", RecordKind.SENSOR_STATUS),
        ("day3-claims.json", RecordKind.CLAIM),
        ("UK.sensors.jsonl", RecordKind.SENSOR),
        ("Observer_Reports.JSONL", RecordKind.OBSERVER_REPORT),
    ],
)
def test_kind_from_the_file_name(name: str, kind: RecordKind) -> None:
    assert kind_for(Path("/data") / name) is kind


def test_kind_strings_are_the_record_type_names() -> None:
    assert [k.value for k in RecordKind] == [
        "sensor",
        "sensor_status_report",
        "detection",
        "weather_report",
        "observer_report",
        "sighting",
        "freedom_of_movement_restriction",
        "claim",
    ]
    for kind in RecordKind:
        assert kind.value == kind.record_class.RECORD_TYPE
    assert parse_kind("weather") is RecordKind.WEATHER
    assert parse_kind("fom_restriction") is RecordKind.FOM_RESTRICTION
    assert parse_kind("sensor_status") is RecordKind.SENSOR_STATUS
    assert parse_kind("Claim") is RecordKind.CLAIM
    with pytest.raises(ValueError, match="unknown record kind 'event'"):
        parse_kind("event")


def test_kind_from_record_type_then_from_distinctive_fields() -> None:
    assert kind_for("upload.jsonl", {"record_type": "observer_report"}) is RecordKind.OBSERVER_REPORT
    assert kind_for("upload.jsonl", _sighting(1)) is RecordKind.SIGHTING
    assert kind_for("upload.jsonl", {"id": "x", "claimant": "UA-MOD", "text": "..."}) is RecordKind.CLAIM
    assert kind_for("upload.csv", dict.fromkeys(DET_HEADER.split(","), "")) is RecordKind.DETECTION
    assert kind_for("upload.jsonl", {"id": "x", "temperature_c": 5.0}) is RecordKind.WEATHER
    with pytest.raises(ValueError, match=r"upload\.jsonl: record_type 'bogus'"):
        kind_for("upload.jsonl", {"record_type": "bogus"})


def test_unknown_kind_names_the_file_and_the_accepted_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as exc:
        kind_for(tmp_path / "misc.jsonl", {"id": "x", "time": "2026-09-01T21:00:00Z"})
    msg = str(exc.value)
    assert msg.startswith(f"{tmp_path / 'misc.jsonl'}: cannot tell what records this file holds")
    for name in ("sensors.jsonl", "sensor_status.jsonl", "detections.csv", "weather.jsonl", "fom_restrictions.jsonl"):
        assert name in msg
    path = _write(tmp_path / "misc.jsonl", [_line({"id": "x"})])
    with pytest.raises(ValueError, match="cannot tell what records"):
        read_records(path)
    assert read_records(path, kind="sighting").problems[0].field == "platform"  # an explicit kind wins


def test_kind_inferred_from_content_when_the_name_does_not_tell(tmp_path: Path) -> None:
    path = _write(tmp_path / "upload.jsonl", ["not json", _line(_sighting(1))])
    batch = read_any(path)
    assert isinstance(batch, RecordBatch) and batch.kind is RecordKind.SIGHTING
    assert _good_ids(batch) == ["sgt-1"] and [p.line for p in batch.problems] == [1]
    csv_path = _write(tmp_path / "upload.csv", [DET_HEADER, "d1,S1,2026-09-01T21:00:00+00:00,0.05,,,1,0.5,0.5"])
    det = read_any(csv_path)
    assert isinstance(det, DetectionBatch) and det.table.ids.tolist() == ["d1"]


def test_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nothing\.jsonl: no such file"):
        read_any(tmp_path / "nothing.jsonl")
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_detection_file(tmp_path / "detections.csv")
    folder = tmp_path / "sightings.jsonl"
    folder.mkdir()
    with pytest.raises(ValueError, match=r"sightings\.jsonl: is a directory"):
        read_records(folder)
    txt = _write(tmp_path / "sightings.txt", [_line(_sighting(1))])
    with pytest.raises(ValueError, match=r"sightings\.txt: unsupported file type '\.txt'"):
        read_any(txt)
    csv_sightings = _write(tmp_path / "sightings.csv", ["id,platform"])
    with pytest.raises(ValueError, match=r"sightings\.csv: CSV holds detections only"):
        read_any(csv_sightings)
    det_json = tmp_path / "detections.json"
    det_json.write_text("[]", encoding="utf-8")
    with pytest.raises(ValueError, match=r"detections\.json: detections are read from \.csv or \.jsonl"):
        read_any(det_json)


# --------------------------------------------------------------------------- a real simulation


@pytest.fixture(scope="module", params=["csv", "jsonl"])
def simulated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12 h run of the sensor-outage scenario (every observation file non-empty)."""
    spec = yaml.safe_load((REPO / "scenarios" / "sensor_outage.yaml").read_text(encoding="utf-8"))
    spec["duration_h"] = 12
    out = tmp_path_factory.mktemp(f"sim_{request.param}")
    simulate(parse_scenario(spec), out, fmt=request.param)
    return out / "observations"


def test_every_file_of_a_simulation_read_with_zero_problems(simulated: Path) -> None:
    files = sorted(p.name for p in simulated.iterdir())
    det_name = "detections.csv" if (simulated / "detections.csv").exists() else "detections.jsonl"
    assert files == sorted(
        [
            "sensors.jsonl",
            "sensor_status.jsonl",
            det_name,
            "weather.jsonl",
            "observer_reports.jsonl",
            "sightings.jsonl",
            "fom_restrictions.jsonl",
            "claims.jsonl",
        ]
    )
    classes = {
        "sensors.jsonl": Sensor,
        "sensor_status.jsonl": SensorStatusReport,
        "weather.jsonl": WeatherReport,
        "sightings.jsonl": Sighting,
        "claims.jsonl": Claim,
    }
    for name in files:
        path = simulated / name
        n_lines = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
        batch = read_any(path)
        assert batch.kind is kind_for(path)
        assert batch.problems == [], (name, [str(p) for p in batch.problems[:3]])
        assert batch.repeats == 0
        if isinstance(batch, DetectionBatch):
            assert batch.kind is RecordKind.DETECTION
            assert len(batch) == n_lines - (1 if name.endswith(".csv") else 0) > 1000
        else:
            assert len(batch) == n_lines > 0, name
            assert batch.lines == list(range(1, n_lines + 1))
            if name in classes:
                assert all(type(r) is classes[name] for r in batch.records)


# --------------------------------------------------------------------------- large files


@pytest.mark.slow
def test_50mb_detections_csv_with_one_bad_line(tmp_path: Path) -> None:
    n = 600_000
    bad = n // 2
    times = np.datetime_as_string(
        np.datetime64("2026-09-01T21:00:00", "us") + np.arange(n, dtype=np.int64) * 137_013, unit="us"
    )
    ids = [f"det-{i:07d}" for i in range(n)]
    rows = [
        f"{d},SN-A{i % 132:04d},{t}+00:00,0.05,,,0.607614,0.156,0.844"
        for i, (d, t) in enumerate(zip(ids, times.tolist(), strict=True))
    ]
    rows[bad] = f"{ids[bad]},SN-A0001,{times[bad]},0.05,,,0.607614,0.156,0.844"  # no zone
    path = tmp_path / "detections.csv"
    path.write_text(DET_HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert path.stat().st_size > 48_000_000

    start = time.perf_counter()
    batch = read_any(path)
    elapsed = time.perf_counter() - start
    assert isinstance(batch, DetectionBatch)
    assert _problems(batch) == [(bad + 2, ids[bad], "arrival_time", str(times[bad]), "time has no timezone")]
    keep = np.ones(n, dtype=bool)
    keep[bad] = False
    assert len(batch) == n - 1
    assert np.array_equal(batch.table.ids, np.array(ids)[keep])
    assert np.array_equal(batch.lines, np.arange(2, n + 2)[keep])
    print(f"detections.csv: {n:,} rows, {path.stat().st_size / 1e6:.1f} MB in {elapsed:.1f} s")


@pytest.mark.slow
def test_50mb_sightings_jsonl_with_one_bad_line(tmp_path: Path) -> None:
    n = 160_000
    bad = n // 2
    template = _line(_sighting(0))
    head, tail = template.split('"sgt-0"', 1)
    lines = [f'{head}"sgt-{i:07d}"{tail}' for i in range(n)]
    broken = copy.deepcopy(_sighting(0, id=f"sgt-{bad:07d}"))
    broken["position"]["lat_deg"] = 91
    lines[bad] = _line(broken)
    path = tmp_path / "sightings.jsonl"
    with path.open("wb") as fh:
        fh.write(codecs.BOM_UTF8)
        fh.write(("\n".join(lines) + "\n").encode("utf-8"))
    assert path.stat().st_size > 48_000_000

    start = time.perf_counter()
    batch = read_any(path)
    elapsed = time.perf_counter() - start
    assert isinstance(batch, RecordBatch)
    assert _problems(batch) == [(bad + 1, f"sgt-{bad:07d}", "position.lat_deg", "91", "must be <= 90.0")]
    assert len(batch) == n - 1 and batch.repeats == 0
    expected = [i for i in range(n) if i != bad]
    assert _good_ids(batch) == [f"sgt-{i:07d}" for i in expected]
    assert batch.lines == [i + 1 for i in expected]
    print(f"sightings.jsonl: {n:,} records, {path.stat().st_size / 1e6:.1f} MB in {elapsed:.1f} s")
