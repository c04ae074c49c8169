"""``GET /api/v1/metrics`` through real HTTP: Prometheus text that parses, figures that match the store, the
lag of an unprocessed window, the listener's stats file, and who may read it (docs/api.md's row)."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import auth
from tests.api.data import SENSORS, Built
from tests.api.test_access_doc import classes, doc_roles
from tests.api.test_auth import Ep
from truceline.service.metrics import STATS_FILE, write_listener_stats

URL = "/api/v1/metrics"
#: ``name{labels} value`` (labels optional); the value as Prometheus writes floats.
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([-+]?(?:[0-9.eE+-]+|NaN|Inf))$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')
Samples = dict[str, list[tuple[dict[str, str], float]]]


def parse(text: str) -> Samples:
    """Parse the exposition strictly: every line a HELP, a TYPE or a sample of a family announced before it."""
    assert text.endswith("\n")
    helps: dict[str, str] = {}
    types: dict[str, str] = {}
    out: Samples = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, words = line[7:].partition(" ")
            assert name not in helps and words, line
            helps[name] = words
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert name in helps and name not in types and kind in ("counter", "gauge"), line
            types[name] = kind
            out[name] = []
        else:
            m = SAMPLE.match(line)
            assert m, f"not a sample line: {line!r}"
            name, labels, value = m.groups()
            assert name in types, f"{name}: a sample before its HELP and TYPE"
            pairs = LABEL.findall(labels or "")
            assert "".join(f'{k}="{v}",' for k, v in pairs).rstrip(",") == (labels or ""), line
            out[name].append((dict(pairs), float(value)))
    for name, kind in types.items():
        assert name.startswith("truceline_"), name
        assert (kind == "counter") == name.endswith("_total"), f"{name}: a {kind}"
    assert set(helps) == set(types)
    return out


def value(s: Samples, name: str, **labels: str) -> float:
    hits = [v for lab, v in s[name] if lab == labels]
    assert len(hits) == 1, f"{name}{labels}: {s.get(name)}"
    return hits[0]


def scrape(client: TestClient, b: Built, role: str = "analyst") -> Samples:
    r = client.get(URL, headers=auth(b.tokens[role]))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(r.text)


def detection(i: int, minute: int) -> dict[str, Any]:
    return {"id": f"det-m-{minute}-{i}", "sensor_id": "UK-AC-001", "time_sigma_s": 0.01, "amplitude_pa": 12.5,
            "arrival_time": f"2026-09-02T{minute // 60:02d}:{minute % 60:02d}:{i:02d}.125Z"}  # fmt: skip


def ingest(client: TestClient, b: Built, dets: list[dict[str, Any]]) -> None:
    r = client.post("/api/v1/ingest/detection", json=dets, headers=auth(b.tokens["observer"]))
    assert r.status_code == 200 and r.json()["inserted"] == len(dets), r.text


def test_parses_and_counts_what_the_store_holds(fresh_client: TestClient, fresh: Built) -> None:
    before = scrape(fresh_client, fresh)
    assert value(before, "truceline_records_ingested_total", kind="detection") == 0
    assert value(before, "truceline_records_ingested_total", kind="sensor") == len(SENSORS)
    assert value(before, "truceline_records_ingested_total", kind="claim") == 3
    assert value(before, "truceline_sensors", health="jammed") == 1
    assert value(before, "truceline_sensors", health="ok") == 2
    seq0 = value(before, "truceline_store_sequence")
    ingest(fresh_client, fresh, [detection(i, 9 * 60) for i in range(7)])
    after = scrape(fresh_client, fresh, "admin")
    assert value(after, "truceline_records_ingested_total", kind="detection") == 7
    assert value(after, "truceline_store_sequence") > seq0  # one number per stored batch
    assert value(after, "truceline_quarantine_entries", kind="detection", state="quarantined") == 0


def test_lag_and_backlog_follow_an_unprocessed_window(fresh_client: TestClient, fresh: Built) -> None:
    # The store has processed the 06:00 window (to 07:00); the status report's 05:00 window is still to do.
    before = scrape(fresh_client, fresh)
    ended = dt.datetime(2026, 9, 2, 7, tzinfo=dt.UTC).timestamp()
    assert value(before, "truceline_processing_lag_seconds") == pytest.approx(time.time() - ended, abs=60)
    assert value(before, "truceline_processing_backlog_windows") == 1
    assert before["truceline_processed_until_timestamp_seconds"] == []  # the first window is still to do
    ingest(fresh_client, fresh, [detection(i, 9 * 60 + 30) for i in range(3)])  # 09:30: a new window
    after = scrape(fresh_client, fresh)
    assert value(after, "truceline_processing_backlog_windows") == 2
    assert value(after, "truceline_processing_backlog_seconds") == 2 * 3600
    ingest(fresh_client, fresh, [detection(i, 6 * 60 + 20) for i in range(3)])  # new data in the processed window
    again = scrape(fresh_client, fresh)
    assert value(again, "truceline_processing_backlog_windows") == 3


def test_events_per_minute_over_the_last_hour(fresh_client: TestClient, fresh: Built) -> None:
    """The built store's findings are of September: none in the last hour before now."""
    s = scrape(fresh_client, fresh)
    for kind in ("event", "incident", "violation"):
        assert value(s, "truceline_derived_records_per_minute", kind=kind) == 0


def test_the_listener_stats_file(fresh_client: TestClient, fresh: Built) -> None:
    s = scrape(fresh_client, fresh)
    assert value(s, "truceline_listener_up") == 0 and "truceline_listener_connected" not in s
    stats = {"messages": 12, "acknowledged": 11, "refused_messages": 2, "store_failures": 1, "connections": 3}
    write_listener_stats(fresh.data / STATS_FILE, stats, connected=True)
    s = scrape(fresh_client, fresh)
    assert value(s, "truceline_listener_up") == 1 and value(s, "truceline_listener_connected") == 1
    assert value(s, "truceline_listener_messages_received_total") == 12
    assert value(s, "truceline_listener_messages_acknowledged_total") == 11
    assert value(s, "truceline_listener_messages_refused_total") == 2
    assert value(s, "truceline_listener_store_failures_total") == 1
    write_listener_stats(fresh.data / STATS_FILE, stats, connected=True, now=time.time() - 120)  # killed long ago
    s = scrape(fresh_client, fresh)
    assert value(s, "truceline_listener_up") == 0 and value(s, "truceline_listener_connected") == 0
    assert value(s, "truceline_listener_stats_age_seconds") >= 119
    (fresh.data / STATS_FILE).write_text("{not json", encoding="utf-8")
    assert value(scrape(fresh_client, fresh), "truceline_listener_up") == 0


def test_no_sensor_id_or_position(client: TestClient, built: Built) -> None:
    r = client.get(URL, headers=auth(built.tokens["admin"]))
    coords = {c for s in SENSORS for c in (s.position.lon_deg, s.position.lat_deg)}
    for s in SENSORS:
        assert s.id not in r.text and s.contingent not in r.text.replace("truceline", "")
    for name, rows in parse(r.text).items():
        for labels, v in rows:
            assert set(labels) <= {"kind", "state", "health"}, (name, labels)
            assert not any(math.isclose(v, c) for c in coords), (name, v)


ROLES = {"admin": 200, "analyst": 200, "observer": 200, "liaison-UA": 403, "liaison-RU": 403}


@pytest.mark.parametrize("role", [*ROLES, "public", "revoked"])
def test_who_may_read_it(client: TestClient, built: Built, role: str) -> None:
    token = {"public": None, "revoked": built.revoked}.get(role, built.tokens.get(role))
    r = client.get(URL, headers=auth(token))
    assert r.status_code == ROLES.get(role, 401), r.text
    if r.status_code != 200:
        assert "truceline_" not in r.text and json.loads(r.text)["detail"]


def test_the_doc_row_lets_the_same_roles() -> None:
    ep = Ep("GET", URL, tuple(r for r, status in ROLES.items() if status == 200))
    roles, row = doc_roles(ep)
    assert classes(ep.roles) == roles, row
