"""The bulk detections reader: columns as arrays, every bad line named, good lines kept."""

from __future__ import annotations

import json

import numpy as np
import pytest

from truceline.io.detections import DetectionFileError, read_detections

HEADER = (
    "id,sensor_id,arrival_time,time_sigma_s,bearing_deg,bearing_sigma_deg,amplitude_pa,"
    "class_scores.launch,class_scores.impact"
)
GOOD = [
    "d1,S1,2026-09-01T21:00:00.250000+00:00,0.05,,,1.5,0.8,0.2",
    "d2,S2,2026-09-01T21:00:01.000000+00:00,0.05,123.5,3,0.9,0.3,0.7",
]


def _write(tmp_path, rows, name="detections.csv"):
    p = tmp_path / name
    p.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return p


def test_good_file_read_as_columns(tmp_path):
    t = read_detections(_write(tmp_path, GOOD))
    assert len(t) == 2
    assert t.ids.tolist() == ["d1", "d2"]
    assert t.t_us[1] - t.t_us[0] == 750_000
    assert np.isnan(t.bearing_deg[0]) and t.bearing_deg[1] == 123.5
    assert t.launch_score.tolist() == [0.8, 0.3]


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ("d3,S1,2026-09-01T21:00:02,0.05,,,1,0.5,0.5", "arrival_time", "no timezone"),
        ("d3,S1,yesterday,0.05,,,1,0.5,0.5", "arrival_time", "ISO 8601"),
        ("d3,S1,2026-09-01T21:00:02+00:00,0.05,400,3,1,0.5,0.5", "bearing_deg", "[0, 360)"),
        ("d3,S1,2026-09-01T21:00:02+00:00,0.05,100,,1,0.5,0.5", "bearing_sigma_deg", "required with a bearing"),
        ("d3,S1,2026-09-01T21:00:02+00:00,abc,,,1,0.5,0.5", "time_sigma_s", "not a number"),
        ("d3,S1,2026-09-01T21:00:02+00:00,0.05,,,1,1.5,0.5", "class_scores.launch", "[0, 1]"),
        ("d3,,2026-09-01T21:00:02+00:00,0.05,,,1,0.5,0.5", "sensor_id", "required"),
        ("d1,S1,2026-09-01T21:00:02+00:00,0.05,,,1,0.5,0.5", "id", "duplicate id"),
    ],
)
def test_bad_line_named_with_field(tmp_path, row, field, reason):
    path = _write(tmp_path, [*GOOD, row])
    with pytest.raises(DetectionFileError) as exc:
        read_detections(path)
    msg = str(exc.value)
    assert f"{path}:4: {field}:" in msg
    assert reason in msg
    # Collect mode keeps every good line and reports the bad one.
    t = read_detections(path, on_error="collect")
    assert t.ids.tolist() == ["d1", "d2"]
    assert [(p.line, p.field) for p in t.problems] == [(4, field)]


def test_bad_line_in_the_middle_of_a_large_file_loses_no_good_line(tmp_path):
    rows = [
        f"d{i},S{i % 7},2026-09-01T21:{i // 600 % 60:02d}:{i // 10 % 60:02d}.{i % 10}00000+00:00,0.05,,,1,0.5,0.5"
        for i in range(20_000)
    ]
    rows[10_000] = "bad,S1,2026-09-01T21:00:00+00:00,-1,,,1,0.5,0.5"
    t = read_detections(_write(tmp_path, rows), on_error="collect")
    assert len(t) == 19_999
    assert [(p.line, p.field) for p in t.problems] == [(10_002, "time_sigma_s")]


def test_wrong_column_count_and_missing_header(tmp_path):
    with pytest.raises(DetectionFileError, match=r":3: \(row\)"):
        read_detections(_write(tmp_path, [GOOD[0], "d9,S1"]))
    p = tmp_path / "nohead.csv"
    p.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DetectionFileError, match="missing column"):
        read_detections(p)


def test_jsonl_goes_through_the_codebook_record(tmp_path):
    p = tmp_path / "detections.jsonl"
    good = {"id": "d1", "sensor_id": "S1", "arrival_time": "2026-09-01T21:00:00+00:00", "class_scores": {"launch": 0.7}}
    bad = {"id": "d2", "sensor_id": "S1", "arrival_time": "2026-09-01T21:00:00"}
    p.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(DetectionFileError, match=r":2: arrival_time"):
        read_detections(p)
    p.write_text(json.dumps(good) + "\n", encoding="utf-8")
    t = read_detections(p)
    assert t.launch_score.tolist() == [0.7] and np.isnan(t.impact_score[0])
