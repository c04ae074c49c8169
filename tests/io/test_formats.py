"""The registry of formats: lookup by suffix and media type, streams read like paths, writers round-trip."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from truceline.core import Sighting, to_json_dict
from truceline.core.errors import InvalidInput
from truceline.core.examples import example_records
from truceline.io import geojson
from truceline.io.formats import (
    FORMATS,
    UnknownFormat,
    format_for_media_type,
    format_for_path,
    format_named,
    observation_formats,
    observation_suffixes,
)
from truceline.io.records import DetectionBatch, RecordBatch, read_any
from truceline.service.ingest import expand

DET_HEADER = (
    "id,sensor_id,arrival_time,time_sigma_s,bearing_deg,bearing_sigma_deg,amplitude_pa,"
    "class_scores.launch,class_scores.impact"
)


def _sighting(i: int, **change: Any) -> dict[str, Any]:
    return to_json_dict(example_records()["sighting"]) | {"id": f"sgt-{i}"} | change


def _line(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


# --------------------------------------------------------------------------- lookup


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("obs/sightings.jsonl", "jsonl"),
        ("Observer_Reports.JSONL", "jsonl"),
        ("2026-09-02_sensor_status.ndjson", "jsonl"),
        ("day3-claims.json", "json"),
        ("detections.csv", "csv"),
        ("findings.geojson", "geojson"),
        ("line.geojson.gz", "geojson"),
        ("visionscarto_countries-50m.topojson.json", "topojson"),  # the longest suffix wins over .json
        ("findings.parquet", "geoparquet"),
        ("findings.kml", "kml"),
    ],
)
def test_lookup_by_suffix(name: str, fmt: str) -> None:
    assert format_for_path(Path(name)).name == fmt  # type: ignore[union-attr]


def test_lookup_by_suffix_among_observation_formats_and_unknown_suffixes() -> None:
    obs = observation_formats()
    assert [f.name for f in obs] == ["jsonl", "json", "csv"]
    assert format_for_path("countries.topojson.json", obs) is format_named("json")
    assert format_for_path("findings.kml", obs) is None
    assert format_for_path("notes.txt") is None
    assert format_for_path(".jsonl") is None  # a suffix alone is no file name
    assert observation_suffixes() == (".jsonl", ".ndjson", ".json", ".csv")


@pytest.mark.parametrize(
    ("media_type", "fmt"),
    [
        ("application/x-ndjson", "jsonl"),
        ("Application/NDJSON; charset=utf-8", "jsonl"),
        ("application/json-lines", "jsonl"),
        ("application/json", "json"),
        ("application/vnd.mission.batch+json", "json"),  # RFC 6839: any +json is JSON
        ("text/csv; header=present", "csv"),
        ("application/csv", "csv"),
        ("application/geo+json", "geojson"),  # an exact type wins over its +json suffix
        ("application/vnd.google-earth.kml+xml", "kml"),
        ("text/plain", None),
        ("", None),
    ],
)
def test_lookup_by_media_type(media_type: str, fmt: str | None) -> None:
    found = format_for_media_type(media_type)
    assert (found.name if found else None) == fmt


def test_among_observation_formats_geojson_is_read_as_json() -> None:
    assert format_for_media_type("application/geo+json", observation_formats()) is format_named("json")


def test_every_format_is_registered_once_with_distinct_suffixes_and_media_types() -> None:
    names = [f.name for f in FORMATS]
    suffixes = [s for f in FORMATS for s in f.suffixes]
    media = [m for f in FORMATS for m in f.media_types]
    assert len(set(names)) == len(names)
    assert len(set(suffixes)) == len(suffixes)
    assert len(set(media)) == len(media)
    for f in FORMATS:  # every named reader and writer exists
        assert f.reader is not None
        for ref in (f.reader, f.writer, f.items, f.detections, f.first_object):
            if ref is not None:
                module, _, fn = ref.partition(":")
                assert callable(getattr(__import__(module, fromlist=[fn]), fn)), ref


def test_an_unknown_format_is_named_in_the_error() -> None:
    with pytest.raises(UnknownFormat, match=r"unknown format 'shapefile'; known formats: jsonl, json, csv, geojson"):
        format_named("shapefile")
    assert issubclass(UnknownFormat, InvalidInput) and issubclass(UnknownFormat, ValueError)
    with pytest.raises(UnknownFormat, match="format 'topojson' has no writer"):
        format_named("topojson").write(io.StringIO(), [])
    with pytest.raises(
        UnknownFormat, match=r"upload\.txt: cannot tell its format; give the format, one of: jsonl, json, csv"
    ):
        read_any(io.BytesIO(b"[]"), "sighting", name="upload.txt")
    with pytest.raises(UnknownFormat, match=r"upload: format 'kml' holds no observations"):
        read_any(io.BytesIO(b""), "sighting", format="kml", name="upload")


def test_a_format_refuses_a_kind_it_does_not_hold() -> None:
    csv_format = format_named("csv")
    assert csv_format.holds("detection") and not csv_format.holds("sighting")
    assert csv_format.refusal("sighting") == "CSV holds detections only, not sighting records"
    assert format_named("json").refusal("detection") is None
    with pytest.raises(InvalidInput, match=r"^body: CSV holds detections only, not claim records$"):
        read_any(io.BytesIO(b"id\n"), "claim", format="csv", name="body")


def test_ingest_expands_a_folder_to_the_registry_s_observation_files(tmp_path: Path) -> None:
    for name in (
        "sightings.jsonl",
        "claims.ndjson",
        "weather.json",
        "detections.csv",
        "notes.txt",
        "f.kml",
        "f.geojson",
    ):
        (tmp_path / name).write_text("", encoding="utf-8")
    got = [p.name for p in expand([tmp_path])]
    assert got == ["claims.ndjson", "detections.csv", "sightings.jsonl", "weather.json"]


# --------------------------------------------------------------------------- a stream reads as its path


def _outcome(batch: RecordBatch | DetectionBatch) -> tuple[Any, ...]:
    problems = [(p.path, p.line, p.record_id, p.field, p.value, p.reason) for p in batch.problems]
    if isinstance(batch, DetectionBatch):
        return (
            batch.path,
            batch.kind,
            batch.table.ids.tolist(),
            batch.table.t_us.tolist(),
            batch.lines.tolist(),
            problems,
        )
    return batch.path, batch.kind, batch.records, batch.lines, batch.repeats, problems


_FILES: dict[str, bytes] = {
    "sightings.jsonl": "\n".join(
        [_line(_sighting(1)), "not json", _line(_sighting(2, time=None)), "", _line(_sighting(1)), "[7]"]
    ).encode("utf-8")
    + b'\n{"id":"sgt-9","notes":"caf\xe9"}\n',
    "sightings.json": json.dumps([_sighting(1), 7, _sighting(2, platform="x")]).encode("utf-8"),
    "detections.csv": "\n".join(
        [
            DET_HEADER,
            "d1,S1,2026-09-01T21:00:00.250000+00:00,0.05,,,1.5,0.8,0.2",
            "d2,S1",
            "d3,S1,2026-09-01T21:00:02,0.05,,,1,0.5,0.5",
            "d4,S1,2026-09-01T21:00:03Z,0.05,100,2,1,0.5,0.5",
        ]
    ).encode("utf-8")
    + b"\r\n",
    "detections.jsonl": "\n".join(
        [
            _line({"id": "d1", "sensor_id": "S1", "arrival_time": "2026-09-01T21:00:00Z"}),
            _line({"id": "d2", "sensor_id": "S1", "arrival_time": "2026-09-01T21:00:00"}),
            "nope",
        ]
    ).encode("utf-8"),
}


@pytest.mark.parametrize("name", sorted(_FILES))
@pytest.mark.parametrize("stream", ["binary", "text"])
def test_a_stream_read_equals_a_path_read(tmp_path: Path, name: str, stream: str) -> None:
    path = tmp_path / name
    path.write_bytes(_FILES[name])
    from_path = read_any(path)
    assert from_path.problems, "each file has bad lines, so the comparison covers problems too"
    data = _FILES[name]
    source = (
        io.BytesIO(data) if stream == "binary" else io.StringIO(data.decode("utf-8", "surrogateescape"), newline="")
    )
    fmt = format_for_path(path, observation_formats())
    from_stream = read_any(source, from_path.kind, format=fmt, name=str(path))
    assert _outcome(from_stream) == _outcome(from_path)


def test_a_stream_s_kind_and_format_are_told_by_its_name() -> None:
    batch = read_any(io.BytesIO(_line(_sighting(1)).encode()), name="uploads/2026-09-02_sightings.jsonl")
    assert isinstance(batch, RecordBatch) and [r.id for r in batch.records] == ["sgt-1"]
    assert isinstance(batch.records[0], Sighting) and batch.path == "uploads/2026-09-02_sightings.jsonl"
    with pytest.raises(ValueError, match="cannot tell what records this file holds"):
        read_any(io.BytesIO(b""), format="jsonl", name="upload")


def test_detections_in_a_json_document_are_read_in_bulk_with_object_indices() -> None:
    doc = [
        {"id": "d1", "sensor_id": "S1", "arrival_time": "2026-09-01T21:00:00Z"},
        7,
        {"id": "d3", "sensor_id": "S1", "arrival_time": "2026-09-01T21:00:01Z", "time_sigma_s": -1},
    ]
    batch = read_any(io.BytesIO(json.dumps(doc).encode()), "detection", format="json", name="api:x")
    assert isinstance(batch, DetectionBatch) and batch.table.ids.tolist() == ["d1"]
    assert [(p.line, p.field) for p in batch.problems] == [(2, "<record>"), (3, "time_sigma_s")]
    bad = read_any(io.BytesIO(b'{"a": 1}'), "detection", format="json", name="api:x")
    assert [(p.line, p.field, p.value) for p in bad.problems] == [(0, "<file>", "dict")] and len(bad) == 0


# --------------------------------------------------------------------------- writers round-trip

_COLUMNS = {"id": pa.string(), "family": pa.string(), "time_utc": pa.string(), "lon": pa.float64(),
            "lat": pa.float64(), "sigma_m": pa.float64(), "note": pa.string()}  # fmt: skip
_ROWS = [
    {"id": "f1", "family": "buffer_zone", "time_utc": "2026-09-02T07:00:00Z", "lon": 37.1234567, "lat": 48.7654321,
     "sigma_m": 120.5, "note": "a <b> & \"c\""},
    {"id": "f2", "family": "fire_across_line", "time_utc": "2026-09-02T08:00:00Z", "lon": 38.0, "lat": 47.5,
     "sigma_m": None, "note": "é, ü\nsecond line"},
]  # fmt: skip


@pytest.mark.parametrize("target", ["path", "stream"])
def test_csv_rows_round_trip(tmp_path: Path, target: str) -> None:
    fmt = format_named("csv")
    dest: Any = tmp_path / "rows.csv" if target == "path" else io.StringIO(newline="")
    assert fmt.write(dest, _ROWS, columns=list(_COLUMNS)) == 2
    back = fmt.read(dest if target == "path" else io.StringIO(dest.getvalue(), newline=""))
    assert back == [{k: "" if v is None else str(v) for k, v in r.items()} for r in _ROWS]


def test_geojson_point_rows_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "rows.geojson"
    assert geojson.write_point_rows(path, _ROWS, precision=7, name="B1") == 2
    assert json.loads(path.read_text(encoding="utf-8"))["name"] == "B1"
    back = geojson.read_point_rows(path)
    assert back == _ROWS
    buffer = io.BytesIO()
    geojson.write_point_rows(buffer, _ROWS, precision=7, name="B1")
    assert buffer.getvalue() == path.read_bytes()  # a stream gets the bytes a file gets
    assert format_named("geojson").read(io.BytesIO(buffer.getvalue()))[1].properties["note"] == _ROWS[1]["note"]


@pytest.mark.parametrize("target", ["path", "stream"])
def test_geoparquet_round_trip(tmp_path: Path, target: str) -> None:
    fmt = format_named("geoparquet")
    dest: Any = tmp_path / "rows.parquet" if target == "path" else io.BytesIO()
    assert fmt.write(dest, _ROWS, columns=_COLUMNS) == 2
    back = fmt.read(dest if target == "path" else io.BytesIO(dest.getvalue()))
    assert back == _ROWS


def test_kml_round_trip(tmp_path: Path) -> None:
    fmt = format_named("kml")
    path = tmp_path / "rows.kml"
    colours = {"buffer_zone": "#112233"}
    n = fmt.write(path, _ROWS, title="Findings", columns=list(_COLUMNS), group="family", label=("id", "time_utc"),
                  time="time_utc", colours=colours, decimals=7)  # fmt: skip
    assert n == 2
    text = path.read_text(encoding="utf-8")
    assert '<Style id="buffer_zone"><IconStyle><color>ff332211</color>' in text  # #rrggbb -> aabbggrr
    assert "<Folder><name>buffer_zone</name>\n<Placemark><name>f1 2026-09-02T07:00:00Z</name>" in text
    back = fmt.read(path)
    assert [{k: v for k, v in r.items() if k not in ("lon", "lat")} for r in back] == [
        {k: "" if v is None else str(v) for k, v in r.items() if k not in ("lon", "lat")} for r in _ROWS
    ]
    assert all(
        math.isclose(b["lon"], r["lon"]) and math.isclose(b["lat"], r["lat"]) for b, r in zip(back, _ROWS, strict=True)
    )


@pytest.mark.parametrize("name", ["jsonl", "json"])
def test_record_formats_round_trip(tmp_path: Path, name: str) -> None:
    fmt = format_named(name)
    records = [example_records()["sighting"], example_records()["claim"]]
    path = tmp_path / f"records{fmt.suffixes[0]}"
    assert fmt.write(path, records) == 2
    back = fmt.read(path)
    objects = [obj for _, obj in back] if name == "jsonl" else back
    assert objects == [to_json_dict(r) for r in records]
    buffer = io.StringIO()
    fmt.write(buffer, records)
    assert buffer.getvalue() == path.read_text(encoding="utf-8")
