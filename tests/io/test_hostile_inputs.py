"""Hostile and careless input (issue 13): every real case found by the fuzz campaign is one problem
naming its record and field, the good records beside it are kept, and nothing raises past the reader.
The CSV bulk reader refuses exactly what the codebook record (JSON Lines) refuses."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest

from truceline.core import InputLimits, ObserverReport, RecordError, parse_record, to_json_dict
from truceline.core.examples import example_records
from truceline.io.records import DetectionBatch, RecordBatch, read_any
from truceline.service.ingest import ingest_files
from truceline.service.queries.ingest import ingest_body
from truceline.store import SQLiteStore

NOW = dt.datetime(2026, 9, 3, 12, 0, tzinfo=dt.UTC)
LIMITS = InputLimits(clock=lambda: NOW)
EX = example_records()
HEADER = (
    "id,sensor_id,arrival_time,time_sigma_s,bearing_deg,bearing_sigma_deg,amplitude_pa,"
    "class_scores.launch,class_scores.impact"
)


def row(rid: str = "dx", time: str = "2026-09-02T07:00:00Z", sigma: str = "0.05", amp: str = "1",
        launch: str = "0.5", sensor: str = "S1") -> str:  # fmt: skip
    return f"{rid},{sensor},{time},{sigma},,,{amp},{launch},0.5"


def good_row(i: int) -> str:
    return row(f"d{i}", f"2026-09-02T07:00:{i:02d}.125Z")


def read_csv(lines: list[str], limits: InputLimits = LIMITS) -> DetectionBatch:
    body = ("\n".join([HEADER, *lines]) + "\n").encode("utf-8", "surrogatepass")
    batch = read_any(io.BytesIO(body), "detection", format="csv", name="req", limits=limits)
    assert isinstance(batch, DetectionBatch)
    return batch


def read_ndjson(kind: str, objs: list[Any], limits: InputLimits = LIMITS) -> RecordBatch | DetectionBatch:
    text = "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objs) + "\n"
    return read_any(io.BytesIO(text.encode()), kind, format="jsonl", name="req", limits=limits)


def sighting(i: int, **change: Any) -> dict[str, Any]:
    return to_json_dict(EX["sighting"]) | {"id": f"sgt-{i}", "time": f"2026-09-02T07:{i:02d}:00Z"} | change


def detection(i: int, **change: Any) -> dict[str, Any]:
    return {"id": f"d{i}", "sensor_id": "S1", "arrival_time": f"2026-09-02T07:00:{i:02d}.125Z"} | change


def one_problem(batch: RecordBatch | DetectionBatch, line: int, field: str) -> str:
    """The reason of the single problem, which must be on ``line`` and name ``field``."""
    assert [(p.line, p.field) for p in batch.problems] == [(line, field)], batch.problems
    return batch.problems[0].reason


# --------------------------------------------------------------------------- times


@pytest.mark.parametrize("when", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"])
def test_times_beyond_a_datetime_are_a_field_problem_on_every_path(when: str) -> None:
    with pytest.raises(RecordError) as exc:  # the record parser itself: no OverflowError
        parse_record("sighting", sighting(1, time=when))
    assert exc.value.field == "time" and "out of range" in exc.value.reason
    batch = read_ndjson("sighting", [sighting(1), sighting(2, time=when), sighting(3)])
    assert "out of range" in one_problem(batch, 2, "time") and len(batch) == 2
    csv = read_csv([good_row(1), row(time=when), good_row(3)])
    assert "out of range" in one_problem(csv, 3, "arrival_time") and csv.table.ids.tolist() == ["d1", "d3"]


@pytest.mark.parametrize(
    ("when", "reason"),
    [
        ("Z", "ISO 8601"),
        ("NaTZ", "ISO 8601"),
        ("2026-09-02", "no timezone"),
        ("10000-01-01T00:00:00Z", "ISO 8601"),
        ("-0001-01-01T00:00:00Z", "ISO 8601"),
        ("2100-01-01T00:00:00Z", "in the future"),
        ("2026-09-05T12:00:01Z", "in the future"),  # the clock plus a day, and a second
        ("2013-12-31T23:59:59Z", "before the earliest"),
    ],
)
def test_csv_refuses_the_times_the_record_refuses(when: str, reason: str) -> None:
    csv = read_csv([good_row(1), row(time=when), good_row(3)])
    assert reason in one_problem(csv, 3, "arrival_time")
    assert csv.table.ids.tolist() == ["d1", "d3"]
    jsonl = read_ndjson("detection", [detection(1), detection(2, arrival_time=when), detection(3)])
    assert reason in one_problem(jsonl, 2, "arrival_time") and len(jsonl) == 2


def test_far_future_refused_in_every_record_kind_and_the_window_is_a_setting() -> None:
    future = "2100-01-01T00:00:00Z"
    batch = read_ndjson("sighting", [sighting(1, time=future), sighting(2)])
    assert "in the future" in one_problem(batch, 1, "time")
    claim = to_json_dict(EX["claim"]) | {"period": {"start": "2026-09-01T00:00:00Z", "end": future}}
    assert "in the future" in one_problem(read_ndjson("claim", [claim]), 1, "period.end")
    # A mission that allows far-future times says so in its settings: the same record passes.
    lenient = InputLimits(future_skew=None, clock=lambda: NOW)
    assert len(read_ndjson("sighting", [sighting(1, time=future)], lenient)) == 1
    assert not read_csv([row(time=future)], lenient).problems


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-Infinity", "1e400"])
@pytest.mark.parametrize("column", ["sigma", "amp", "launch"])
def test_csv_refuses_non_finite_numbers(text: str, column: str) -> None:
    field = {"sigma": "time_sigma_s", "amp": "amplitude_pa", "launch": "class_scores.launch"}[column]
    csv = read_csv([good_row(1), row(**{column: text}), good_row(3)])
    assert "finite" in one_problem(csv, 3, field)
    assert csv.table.ids.tolist() == ["d1", "d3"]


@pytest.mark.parametrize("count", ["10000000000000000000000000000000000000000", "1e40", "1000001"])
def test_an_observer_count_beyond_physical_limits_is_refused(count: str) -> None:
    report = to_json_dict(EX["observer_report"])
    hostile = report | {"count": {"low": 1, "best": 1, "high": 424242}}
    text = json.dumps(hostile).replace("424242", count)  # as sent: a JSON number, not a Python float
    batch = read_ndjson("observer_report", [text, json.dumps(report | {"id": "obs-ok"})])
    assert len(batch) == 1 and batch.problems[0].line == 1 and batch.problems[0].field == "count.high"
    with pytest.raises(RecordError):
        parse_record(ObserverReport, json.loads(text), limits=LIMITS)


# --------------------------------------------------------------------------- ids and Unicode


@pytest.mark.parametrize("rid", ["d x", "\u200fdx", '"d""x"', "d/../x", "\ufeffdx", "d\x00x", "a..b", "x" * 129])
def test_csv_refuses_the_ids_the_record_refuses(rid: str) -> None:
    csv = read_csv([good_row(1), row(rid=rid), good_row(3)])
    assert one_problem(csv, 3, "id")
    assert csv.table.ids.tolist() == ["d1", "d3"]
    raw = rid[1:-1].replace('""', '"') if rid.startswith('"') else rid
    jsonl = read_ndjson("detection", [detection(1), detection(2, id=raw), detection(3)])
    assert one_problem(jsonl, 2, "id") and len(jsonl) == 2


def test_a_lone_surrogate_never_enters_and_the_problem_is_printable() -> None:
    claim = to_json_dict(EX["claim"])
    bad = json.dumps(claim | {"id": "clm-bad", "text": "shelling of \ud800"})
    assert "\\ud800" in bad  # as a hostile client sends it: a JSON escape
    batch = read_ndjson("claim", [bad, json.dumps(claim)])
    assert "lone surrogate" in one_problem(batch, 1, "text") and len(batch) == 1
    json.dumps(str(batch.problems[0]), ensure_ascii=False).encode("utf-8")  # encodable: no lone surrogate left
    rlo = read_ndjson("claim", [json.dumps(claim | {"claimant": "UA\u202eDOM"})])
    assert "bidi" in one_problem(rlo, 1, "claimant")
    assert "\u202e" not in str(rlo.problems[0])


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (row(rid="d9\x00"), "id"),  # NumPy would strip a trailing NUL: checked before any conversion
        (row(time="2026-09-02T07:00:00Z\x00"), "arrival_time"),
        (row(time="2026-09-02\u200f07:00:00Z"), "arrival_time"),  # any character passed as the separator
        (row(time="2026-09-02x07:00:00Z"), "arrival_time"),
        (row(sensor="S1\u202e"), "sensor_id"),
    ],
)
def test_csv_cells_are_checked_as_text_before_conversion(line: str, field: str) -> None:
    csv = read_csv([good_row(1), line])
    assert one_problem(csv, 3, field) and csv.table.ids.tolist() == ["d1"]
    cells = line.split(",")
    jsonl = read_ndjson("detection", [detection(2, id=cells[0], sensor_id=cells[1], arrival_time=cells[2])])
    assert [p.field for p in jsonl.problems] == [field]


# --------------------------------------------------------------------------- structure


def test_json_nested_a_thousand_deep_costs_its_record_only() -> None:
    deep = "[" * 1000 + "]" * 1000
    nested = json.dumps(sighting(2) | {"notes": "x"}).replace('"x"', deep)
    batch = read_ndjson("sighting", [sighting(1), deep, nested, sighting(4)])
    assert [p.line for p in batch.problems] == [2, 3] and len(batch) == 2
    doc = "[" + ", ".join([json.dumps(sighting(1)), deep, json.dumps(sighting(3))]) + "]"
    arr = read_any(io.BytesIO(doc.encode()), "sighting", format="json", name="req", limits=LIMITS)
    assert [p.line for p in arr.problems] == [2] and len(arr) == 2
    shallow = sighting(5, notes=json.loads("[" * 20 + "]" * 20))  # decodable, deeper than the limit
    too_deep = read_ndjson("sighting", [shallow])
    assert "nested deeper than 16" in one_problem(too_deep, 1, "notes" + "[0]" * 15)  # the record is level 1


def test_a_cell_over_the_csv_module_limit_costs_its_row_only() -> None:
    csv = read_csv([good_row(1), row(amp="9" * 140_000), good_row(3)])
    assert "longer than" in one_problem(csv, 3, "<row>")
    assert csv.table.ids.tolist() == ["d1", "d3"]
    cell = read_csv([good_row(1), row(rid="x" * 2_000)])
    assert "longer than 1000" in one_problem(cell, 3, "id")


def test_an_unbalanced_quote_costs_its_own_line_only() -> None:
    rows = [good_row(i) for i in range(1, 10)]
    rows[1] = '"d2,S1,2026-09-02T07:00:02Z,0.05,,,1,0.5,0.5'
    csv = read_csv(rows)
    assert "quote" in one_problem(csv, 3, "<row>")
    assert len(csv) == 8  # was 1: the open quote swallowed every following row


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (HEADER.replace("amplitude_pa", "id"), "given twice"),
        (HEADER + ",colour", "unknown column"),
        ('"id,sensor_id', "not valid CSV"),
    ],
)
def test_an_unusable_header_is_one_problem_not_a_crash(header: str, reason: str) -> None:
    body = (header + "\n" + good_row(1) + "\n").encode()
    batch = read_any(io.BytesIO(body), "detection", format="csv", name="req", limits=LIMITS)
    assert [(p.line, p.field) for p in batch.problems] == [(1, "<header>")]
    assert reason in batch.problems[0].reason and len(batch) == 0


# --------------------------------------------------------------------------- through the ingest service


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    s = SQLiteStore(tmp_path / "data")
    sensor = to_json_dict(EX["sensor"]) | {"id": "S1"}
    (tmp_path / "sensors.jsonl").write_text(json.dumps(sensor) + "\n", encoding="utf-8")
    assert ingest_files(s, [tmp_path / "sensors.jsonl"], limits=LIMITS).ok
    return s


def test_ingest_files_and_the_api_body_keep_the_good_beside_the_bad(tmp_path: Path, store: SQLiteStore) -> None:
    rows = [good_row(1), row(time="Z"), row(rid="d/../x"), '"d4,S1', row(amp="nan"), good_row(6)]
    f = tmp_path / "detections.csv"
    f.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    later = tmp_path / "sightings.jsonl"
    later.write_text(json.dumps(sighting(1)) + "\n" + "[" * 1000 + "]" * 1000 + "\n", encoding="utf-8")
    report = ingest_files(store, [f, later], limits=LIMITS)
    assert report.inserted == 3 and report.rejected == 5  # d1, d6, sgt-1; nothing stopped the later file
    assert {(p.line, p.field) for p in report.problems} == {
        (3, "arrival_time"), (4, "id"), (5, "<row>"), (6, "amplitude_pa"), (2, "<json>")
    }  # fmt: skip
    body = "\n".join([HEADER, good_row(7), row(rid="dy", time="9999-12-31T23:30:00-01:00")]).encode()
    out = ingest_body(store, "detection", body, "text/csv", "api:test", LIMITS)
    assert (out.inserted, out.rejected) == (1, 1) and out.problems[0].field == "arrival_time"
    assert store.count("detection") == 3
