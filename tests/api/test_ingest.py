"""``POST /api/v1/ingest/{kind}``: every input format, the CLI's validation and idempotency, per-record errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import auth
from tests.api.data import Built, build
from truceline.core import to_json_dict
from truceline.core.examples import example_records
from truceline.io.records import RecordKind
from truceline.service.ingest import ingest_files
from truceline.store import SQLiteStore

EX = example_records()
NDJSON = {"Content-Type": "application/x-ndjson"}


def sighting(i: int, **change: Any) -> dict[str, Any]:
    obj = to_json_dict(EX["sighting"]) | {"id": f"sgt-{i:03d}", "time": f"2026-09-02T07:{i:02d}:00Z"}
    return obj | change


def detection(i: int, sensor: str = "UK-AC-001", **change: Any) -> dict[str, Any]:
    return {"id": f"det-api-{i}", "sensor_id": sensor, "arrival_time": f"2026-09-02T07:00:{i:02d}.125Z",
            "time_sigma_s": 0.01, "amplitude_pa": 12.5} | change  # fmt: skip


def post(client: TestClient, b: Built, kind: str, body: Any = None, content: bytes | None = None,
         headers: dict[str, str] | None = None) -> Any:  # fmt: skip
    h = auth(b.tokens["observer"]) | (headers or {})
    if content is not None:
        return client.post(f"/api/v1/ingest/{kind}", content=content, headers=h)
    return client.post(f"/api/v1/ingest/{kind}", json=body, headers=h)


def test_json_array_then_repeat(fresh_client: TestClient, fresh: Built) -> None:
    objs = [sighting(i) for i in range(3)]
    r = post(fresh_client, fresh, "sighting", objs)
    assert r.status_code == 200, r.text
    assert r.json() == {"kind": "sighting", "read": 3, "inserted": 3, "repeats": 0, "rejected": 0, "problems": []}
    again = post(fresh_client, fresh, "sightings", objs).json()
    assert (again["inserted"], again["repeats"], again["rejected"]) == (0, 3, 0)
    s = SQLiteStore(fresh.data)
    try:
        assert s.count("sighting") == 3
        row = s._db.execute("SELECT source FROM observations WHERE kind='sighting' LIMIT 1").fetchone()
        assert row[0] == f"api:{fresh.names['observer']}"
    finally:
        s.close()


def test_records_document_and_ndjson(fresh_client: TestClient, fresh: Built) -> None:
    r = post(fresh_client, fresh, "Sighting", {"record_type": "sighting", "records": [sighting(1)]})
    assert r.status_code == 200 and r.json()["inserted"] == 1
    text = "\n".join(json.dumps(sighting(i)) for i in (2, 3)) + "\n\n"
    r = post(fresh_client, fresh, "sightings", content=text.encode(), headers=NDJSON)
    assert r.status_code == 200 and r.json()["inserted"] == 2


def test_bad_records_are_named_and_the_good_kept(fresh_client: TestClient, fresh: Built) -> None:
    bad_lat = sighting(2)
    bad_lat["position"]["lat_deg"] = 91
    no_zone = sighting(4, time="2026-09-02T07:04:00")
    lines = [json.dumps(sighting(1)), json.dumps(bad_lat), "{not json", json.dumps(no_zone), json.dumps(sighting(5))]
    r = post(fresh_client, fresh, "sighting", content="\n".join(lines).encode(), headers=NDJSON)
    assert r.status_code == 422
    body = r.json()
    assert (body["read"], body["inserted"], body["rejected"]) == (2, 2, 3)
    probs = {(p["line"], p["field"]) for p in body["problems"]}
    assert probs == {(2, "position.lat_deg"), (3, "<json>"), (4, "time")}
    p2 = next(p for p in body["problems"] if p["line"] == 2)
    assert p2["record_id"] == "sgt-002" and p2["value"] == "91" and p2["message"].startswith("api:observer.tester:2:")


def test_same_id_other_content_is_a_conflict(fresh_client: TestClient, fresh: Built) -> None:
    assert post(fresh_client, fresh, "sighting", [sighting(1)]).status_code == 200
    r = post(fresh_client, fresh, "sighting", [sighting(1, notes="changed"), sighting(2)])
    assert r.status_code == 422
    body = r.json()
    assert body["inserted"] == 1 and body["problems"][0]["field"] == "id"
    assert "different content" in body["problems"][0]["reason"]


def test_status_reports_need_a_known_sensor(fresh_client: TestClient, fresh: Built) -> None:
    ok = {"id": "sst-9", "sensor_id": "UK-AC-001", "time": "2026-09-02T07:00:00Z", "health": "degraded",
          "reason": "rain on the microphone"}
    bad = ok | {"id": "sst-10", "sensor_id": "XX-NOPE"}
    r = post(fresh_client, fresh, "sensor_status", [ok, bad])
    assert r.status_code == 422
    assert r.json()["inserted"] == 1 and r.json()["problems"][0]["reason"] == "unknown sensor"


@pytest.mark.parametrize("encoding", ["json", "ndjson", "csv"])
def test_detections_in_every_encoding(fresh_client: TestClient, fresh: Built, encoding: str) -> None:
    dets = [detection(i) for i in range(3)] + [detection(3, sensor="XX-NOPE"), detection(4, arrival_time="noon")]
    if encoding == "json":
        r = post(fresh_client, fresh, "detection", dets)
    elif encoding == "ndjson":
        r = post(fresh_client, fresh, "detections", content="\n".join(json.dumps(d) for d in dets).encode(),
                 headers=NDJSON)  # fmt: skip
    else:
        head = "id,sensor_id,arrival_time,time_sigma_s,amplitude_pa"
        rows = [",".join(str(d[k]) for k in head.split(",")) for d in dets]
        r = post(fresh_client, fresh, "detection", content="\n".join([head, *rows]).encode(),
                 headers={"Content-Type": "text/csv"})  # fmt: skip
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["inserted"] == 3 and body["rejected"] == 2
    line_of = {p["field"]: p["line"] for p in body["problems"]}
    first = 2 if encoding == "csv" else 1  # a CSV's line 1 is its header
    assert line_of == {"sensor_id": first + 3, "arrival_time": first + 4}
    again = post(fresh_client, fresh, "detection", dets[:3]).json()
    assert (again["inserted"], again["repeats"]) == (0, 3)


def test_detection_document_problems(fresh_client: TestClient, fresh: Built) -> None:
    r = post(fresh_client, fresh, "detection", content=b"[{", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "<json>"
    r = post(fresh_client, fresh, "detection", {"not": "a list"})
    assert r.status_code == 422 and r.json()["problems"][0]["line"] == 0
    r = post(fresh_client, fresh, "detection", [detection(1), 7])
    assert r.status_code == 422 and r.json()["inserted"] == 1


@pytest.mark.parametrize(
    ("kind", "content_type", "status"),
    [("catapults", "application/json", 404), ("sighting", "text/csv", 400), ("sighting", "application/xml", 400)],
)
def test_unknown_kind_and_wrong_media_type(fresh_client: TestClient, fresh: Built, kind: str, content_type: str,
                                           status: int) -> None:  # fmt: skip
    r = post(fresh_client, fresh, kind, content=b"[]", headers={"Content-Type": content_type})
    assert r.status_code == status and r.json()["detail"]


@pytest.mark.parametrize("kind", [k.value for k in RecordKind if k is not RecordKind.DETECTION])
def test_every_record_kind_ingests_like_the_cli(
    tmp_path: Path, fresh_client: TestClient, fresh: Built, kind: str
) -> None:
    """The same body through the API and through ``truceline ingest`` (a file) gives the same outcome."""
    good = to_json_dict(EX[kind])
    if kind == "sensor_status_report":
        good["sensor_id"] = "UK-AC-001"
    bad = dict(good, id=good["id"] + "-bad")
    bad.pop(next(k for k in good if k not in ("id", "record_type")))
    objs = [good, bad, good]
    api = post(fresh_client, fresh, kind, objs).json()
    other = build(tmp_path / "cli")
    path = tmp_path / f"{RecordKind(kind).file_name.rsplit('.', 1)[0]}.json"
    path.write_text(json.dumps(objs), encoding="utf-8")
    store = SQLiteStore(other.data)
    try:
        cli = ingest_files(store, [path]).files[0]
    finally:
        store.close()
    assert (api["read"], api["inserted"], api["repeats"], api["rejected"]) == (
        cli.read, cli.inserted, cli.repeats, len({(p.line, p.record_id) for p in cli.problems}))  # fmt: skip
    assert [(p["line"], p["field"], p["reason"]) for p in api["problems"]] == [
        (p.line, p.field, p.reason) for p in cli.problems]  # fmt: skip
    assert api["inserted"] + api["repeats"] >= 1 and api["rejected"] == 1


def test_ingested_records_feed_processing_reads(fresh_client: TestClient, fresh: Built) -> None:
    """What the API stored is what the store reads back, record for record."""
    post(fresh_client, fresh, "sighting", [sighting(7)])
    s = SQLiteStore(fresh.data)
    try:
        assert [r.id for r in s.records("sighting")] == ["sgt-007"]
    finally:
        s.close()
