"""The SQLite store's quarantine (migration 4) and its windows that hold data: held records are left out
of every read, a release is new data at the record's time, rows are never deleted, and the windows
come from the times that hold data, never from the span between the earliest and the latest."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from tests.backends import execute, is_sqlite, refused
from truceline.core import WeatherReport, evolve
from truceline.core.examples import EXAMPLE_TIME, example_records
from truceline.io.detections import DetectionTable
from truceline.store import SQLiteStore, Store
from truceline.store.base import MAX_US, MIN_US, to_us
from truceline.store.sqlite import DB_NAME, MIGRATIONS

EX = example_records()
T0 = to_us(EXAMPLE_TIME)
HOUR = 3_600_000_000
NAT = -9_223_372_036_854_775_808


def dets(rows: list[tuple[str, int]]) -> DetectionTable:
    n = len(rows)
    nan = np.full(n, np.nan)
    return DetectionTable(
        ids=np.array([r[0] for r in rows]), sensor_ids=np.array(["S0"] * n),
        t_us=np.array([r[1] for r in rows], dtype=np.int64), time_sigma_s=np.full(n, 0.05), bearing_deg=nan,
        bearing_sigma_deg=nan, amplitude_pa=nan, launch_score=nan, impact_score=nan, line=np.zeros(n, dtype=np.int64),
    )  # fmt: skip


def weather(rid: str, t_us: int) -> WeatherReport:
    t = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=t_us)
    return evolve(EX["weather_report"], id=rid, time=t)  # type: ignore[return-value]


@pytest.mark.sqlite_only
def test_upgrade_adds_the_quarantine_to_an_older_store(tmp_path: Path) -> None:
    d = tmp_path / "old"
    d.mkdir()
    db = sqlite3.connect(d / DB_NAME, isolation_level=None)
    for i, sql in enumerate(MIGRATIONS[:3]):
        db.executescript(f"BEGIN;{sql};PRAGMA user_version={i + 1};COMMIT;")
    db.close()
    s = SQLiteStore(d)
    try:
        assert s.schema_version == len(MIGRATIONS) == 4
        assert s.quarantine_entries() == []
    finally:
        s.close()


def test_quarantine_rows_change_state_and_are_never_deleted(store: Store) -> None:
    e = store.quarantine("detection", "d1", T0, "bad")
    assert (e.kind, e.target_id, e.time_us, e.state, e.held) == ("detection", "d1", T0, "quarantined", True)
    assert store.quarantine("detection", "d1", T0, "other reason") == e  # held already: unchanged
    with pytest.raises(refused(store), match="never deleted"):
        execute(store, "DELETE FROM quarantine")
    with pytest.raises(ValueError, match="released' or 'rejected"):
        store.decide_quarantine(e.qid, "quarantined", "anna", "x")
    with pytest.raises(KeyError):
        store.decide_quarantine(999, "released", "anna", "x")
    r = store.decide_quarantine(e.qid, "released", "anna", "checked")
    assert (r.state, r.decided_by, r.decision, r.held) == ("released", "anna", "checked", False)
    again = store.quarantine("detection", "d1", T0, "failed again")  # a released record held again
    assert again.qid == e.qid and again.state == "quarantined" and again.reason == "failed again"
    assert [x.qid for x in store.quarantine_entries(state="quarantined", kind="detection")] == [e.qid]
    assert store.quarantine_entries(kind="scope") == []


def test_held_records_are_left_out_of_every_read(store: Store) -> None:
    store.add_detections(dets([("d1", T0), ("d2", T0 + 1), ("far", T0 + 1000 * HOUR)]))
    store.add_records("weather_report", [weather("wx-1", T0), weather("wx-2", T0 + 2 * HOUR)])
    store.quarantine("detection", "far", T0 + 1000 * HOUR, "x")
    store.quarantine("weather_report", "wx-2", T0 + 2 * HOUR, "x")
    store.quarantine("sighting", "d1", T0, "same id, other kind: not held")
    assert store.detections(0, MAX_US).ids.tolist() == ["d1", "d2"]
    assert [r.id for r in store.records("weather_report")] == ["wx-1"]
    assert store.time_span_us() == (T0, T0 + 1)
    assert store.data_windows(HOUR, {}) == [T0 // HOUR * HOUR]
    assert store.count("detection") == 3 and store.count("weather_report") == 2  # still stored


def test_a_release_is_new_data_at_its_time_and_a_rejection_is_not(store: Store) -> None:
    store.add_detections(dets([("d1", T0), ("d2", T0 + 2 * HOUR)]))  # seq 1
    a = store.quarantine("detection", "d1", T0, "x")
    b = store.quarantine("detection", "d2", T0 + 2 * HOUR, "x")
    w = store.quarantine("scope", "window:x", T0 + 5 * HOUR, "x")
    assert store.max_seq_between(T0, T0 + 1) == 1
    store.decide_quarantine(a.qid, "released", "anna", "ok")  # seq 2
    store.decide_quarantine(b.qid, "rejected", "anna", "no")
    store.decide_quarantine(w.qid, "released", "anna", "ok")  # seq 3
    assert store.last_seq() == 3
    assert store.max_seq_between(T0, T0 + 1) == 2 and store.max_seq_between(T0, T0 + 1, "detection") == 2
    assert store.max_seq_between(T0 + 2 * HOUR, T0 + 2 * HOUR + 1) == 1
    assert store.max_seq_between(T0 + 5 * HOUR, T0 + 5 * HOUR + 1) == 3  # a released window is redone
    assert store.max_seq_between(T0, T0 + 1, "weather_report") == 0


def test_records_outside_the_times_a_datetime_holds(store: Store) -> None:
    store.add_detections(dets([("nat", NAT), ("ok", T0), ("y10000", MAX_US + 10 * 86_400_000_000)]))
    assert store.records_outside(MIN_US, MAX_US) == [("detection", "nat", NAT),
                                                     ("detection", "y10000", MAX_US + 10 * 86_400_000_000)]  # fmt: skip
    assert store.time_span_us() == (T0, T0)
    assert store.data_windows(HOUR, {"detection": 240_000_000}) == [T0 // HOUR * HOUR]
    store.quarantine("detection", "nat", NAT, "x")
    assert [r[1] for r in store.records_outside(MIN_US, MAX_US)] == ["y10000"]


def test_data_windows_follow_the_data_with_margins_and_limits(store: Store) -> None:
    h = T0 // HOUR * HOUR
    store.add_detections(dets([("a", h + 10), ("b", h + HOUR - 10)]))
    store.add_records("weather_report", [weather("wx", h + 5 * HOUR + 10)])
    store.add_records("claim", [EX["claim"]])  # claims and sensors hold no window
    store.add_records("sensor", [EX["sensor"]])
    assert store.data_windows(HOUR, {}) == [h, h + 5 * HOUR]
    assert store.data_windows(HOUR, {"detection": 100}) == [h - HOUR, h, h + HOUR, h + 5 * HOUR]
    assert store.data_windows(HOUR, {"weather_report": 100}) == [h, h + 4 * HOUR, h + 5 * HOUR]
    two = 2 * HOUR
    assert store.data_windows(two, {}) == sorted({h // two * two, (h + 5 * HOUR) // two * two})
    assert store.data_windows(HOUR, {"detection": 100}, since_us=h + 1, until_us=h + 5 * HOUR) == [h, h + HOUR]
    with pytest.raises(ValueError):
        store.data_windows(0, {})


def test_data_windows_cost_follows_the_windows_not_the_span(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    far = to_us(dt.datetime(9999, 12, 1, tzinfo=dt.UTC))
    store.add_detections(dets([("first", MIN_US + 1), ("now", T0), ("last", far)]))
    statements: list[str] = []
    if is_sqlite(store):
        store._db.set_trace_callback(statements.append)  # type: ignore[attr-defined]
    else:
        run = store._run  # type: ignore[attr-defined]
        monkeypatch.setattr(store, "_run", lambda sql, params=None: statements.append(sql) or run(sql, params))
    got = store.data_windows(60_000_000, {"detection": 1})  # one-minute windows over ten thousand years
    if is_sqlite(store):
        store._db.set_trace_callback(None)  # type: ignore[attr-defined]
    m = 60_000_000
    assert got == [MIN_US, T0 // m * m, far - m, far]  # the margin reaches the minute before 9999-12-01
    assert len(statements) <= 2 * 3 + 2  # two index look-ups an occupied window, and the end of each walk
