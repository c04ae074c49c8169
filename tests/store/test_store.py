"""The Store protocol's semantics on every backend asked for (tests/backends.py): the embedded SQLite
store on real files in a temporary directory, the PostGIS store in a schema of its own. The tests about
the SQLite file itself (WAL, its migrations, processes sharing a data directory) are ``sqlite_only``;
the PostGIS database's own are in test_postgis.py."""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from tests.backends import all_rows, execute, is_sqlite, plain_connection, refused
from truceline.core import Event, Record, WeatherReport, evolve
from truceline.core.examples import EXAMPLE_TIME, example_records
from truceline.io.detections import DetectionTable, read_detections
from truceline.store import SQLiteStore, Store, open_store
from truceline.store.sqlite import DB_NAME, MIGRATIONS

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
EX = example_records()


def us(t: dt.datetime) -> int:
    return (t - EPOCH) // dt.timedelta(microseconds=1)


def t(seconds: float) -> dt.datetime:
    return EXAMPLE_TIME + dt.timedelta(seconds=seconds)


def weather(rid: str, seconds: float, temperature_c: float = -15.0) -> WeatherReport:
    return evolve(EX["weather_report"], id=rid, time=t(seconds), temperature_c=temperature_c)  # type: ignore[return-value]


def event(rid: str, seconds: float) -> Event:
    return evolve(EX["event"], id=rid, origin_time=t(seconds))  # type: ignore[return-value]


CSV_HEADER = (
    "id,sensor_id,arrival_time,time_sigma_s,bearing_deg,bearing_sigma_deg,amplitude_pa,"
    "class_scores.launch,class_scores.impact"
)
CSV_ROWS = [
    "d3,S2,2025-04-20T03:00:02.000000+00:00,0.02,,,12.0,,",
    "d1,S1,2025-04-20T03:00:00.500000+00:00,0.01,120.5,3.0,40.0,0.1,0.9",
    "d2,S1,2025-04-20T03:00:01.250000+00:00,0.01,,,,0.7,",
]
T_D1 = us(dt.datetime(2025, 4, 20, 3, 0, 0, 500000, tzinfo=dt.UTC))


def detections_csv(tmp_path: Path, rows: list[str], name: str = "detections.csv") -> DetectionTable:
    p = tmp_path / name
    p.write_text("\n".join([CSV_HEADER, *rows]) + "\n", encoding="utf-8")
    return read_detections(p)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The SQLite data directory (what ``store_url`` is on SQLite)."""
    return tmp_path / "data"


def migrations_of(store: Store) -> tuple[str, ...]:
    if is_sqlite(store):
        return MIGRATIONS
    from truceline.store.postgis import MIGRATIONS as PG_MIGRATIONS

    return PG_MIGRATIONS


# -- opening -------------------------------------------------------------------------------------
@pytest.mark.sqlite_only
def test_wal_and_synchronous_full(store: Store, data_dir: Path) -> None:
    assert store.path == str(data_dir / DB_NAME)
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert (data_dir / DB_NAME).is_file()


def test_schema_version_is_number_of_migrations(store: Store) -> None:
    assert store.schema_version == len(migrations_of(store))  # type: ignore[attr-defined]
    if is_sqlite(store):
        assert execute(store, "PRAGMA user_version")[0][0] == len(MIGRATIONS)
    else:
        assert execute(store, "SELECT array_agg(version ORDER BY version) FROM truceline_schema")[0][0] == list(
            range(1, len(migrations_of(store)) + 1)
        )


def test_reopen_keeps_data(store_url: str) -> None:
    s = open_store(store_url)
    s.add_records("weather_report", [weather("wx-a", 0)])
    run = s.new_run("process", {"k": 1})
    s.replace_scope("window:a", run, [("event", event("evt-a", 0), us(t(0)))], seen_seq=1)
    s.append_audit("alice", "annotate", "event", "evt-a", "note", None, None)
    s.close()
    s = open_store(store_url)
    try:
        assert s.schema_version == len(migrations_of(s))  # type: ignore[attr-defined]
        assert [r.id for r in s.records("weather_report")] == ["wx-a"]
        assert [d.record.id for d in s.derived("event")] == ["evt-a"]
        assert [e.actor for e in s.audit()] == ["alice"]
        assert s.last_seq() == 1
    finally:
        s.close()


@pytest.mark.sqlite_only
def test_newer_schema_refuses_to_open(data_dir: Path) -> None:
    SQLiteStore(data_dir).close()
    db = sqlite3.connect(data_dir / DB_NAME)
    db.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    db.commit()
    db.close()
    with pytest.raises(RuntimeError, match="newer"):
        SQLiteStore(data_dir)


@pytest.mark.sqlite_only
def test_upgrade_stores_the_window_length_of_existing_runs(data_dir: Path) -> None:
    """Migration 3 adds the window length to the runs of a store made before it (from their parameters)."""
    data_dir.mkdir()
    db = sqlite3.connect(data_dir / DB_NAME, isolation_level=None)
    for i, sql in enumerate(MIGRATIONS[:2]):
        db.executescript(f"BEGIN;{sql};PRAGMA user_version={i + 1};COMMIT;")
    runs = [
        (1, "process", '{"agreement":"a","params":{"overlap_s":240.0,"window_s":7200}}'),
        (2, "claims", '{"claims":{}}'),
        (3, "review", '{"action":"merge"}'),
    ]
    db.executemany("INSERT INTO runs VALUES (?, ?, '2026-09-02T00:00:00+00:00', ?)", [(r, w, p) for r, w, p in runs])
    db.execute("INSERT INTO scopes VALUES ('window:2026-09-02T00:00:00Z', 5, 1, '2026-09-02T01:00:00+00:00')")
    db.execute("INSERT INTO scopes VALUES ('claims', 5, 2, '2026-09-02T01:00:00+00:00')")
    db.close()
    s = SQLiteStore(data_dir)
    try:
        assert s.schema_version == len(MIGRATIONS) >= 3
        assert all_rows(s, "runs")[0][-1] == 7200
        assert [r[-1] for r in all_rows(s, "runs")[1:]] == [None, None]
        states = s.scope_states()
        assert states["window:2026-09-02T00:00:00Z"].window_s == 7200 and states["claims"].window_s is None
    finally:
        s.close()


def test_new_run_keeps_its_window_length(store: Store) -> None:
    r1 = store.new_run("process", {"k": 1}, window_s=10800)
    r2 = store.new_run("claims", {})
    store.replace_scope("window:a", r1, [], seen_seq=1)
    store.replace_scope("claims", r2, [], seen_seq=1)
    state = store.scope_state("window:a")
    assert state is not None and (state.run_id, state.window_s) == (r1, 10800)
    assert store.scope_states()["claims"].window_s is None
    r3 = store.new_run("process", {}, window_s=3600)
    store.replace_scope("window:a", r3, [], seen_seq=2)  # reprocessed with other windows: the newest run's
    assert store.scope_states()["window:a"].window_s == 3600


@pytest.mark.sqlite_only
def test_data_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        SQLiteStore(f)


# -- observations --------------------------------------------------------------------------------
def test_add_records_is_idempotent(store: Store) -> None:
    recs = [weather("wx-a", 0), weather("wx-b", 10)]
    first = store.add_records("weather_report", recs, source="test")
    assert (first.inserted, first.repeats, first.conflicts) == (2, 0, [])
    again = store.add_records("weather_report", recs, source="test")
    assert (again.inserted, again.repeats, again.conflicts) == (0, 2, [])
    assert store.count("weather_report") == 2
    assert store.last_seq() == 2


def test_add_records_conflict_leaves_stored_body(store: Store) -> None:
    store.add_records("weather_report", [weather("wx-a", 0, temperature_c=-15.0)])
    body = all_rows(store, "observations")[0][-1]
    res = store.add_records("weather_report", [weather("wx-a", 0, temperature_c=20.0)])
    assert res.inserted == 0 and res.repeats == 0
    assert [rid for rid, _ in res.conflicts] == ["wx-a"]
    assert "different content" in res.conflicts[0][1]
    assert all_rows(store, "observations")[0][-1] == body
    (stored,) = store.records("weather_report")
    assert stored.temperature_c == -15.0  # type: ignore[attr-defined]


def test_add_records_tells_repeats_and_conflicts_within_one_batch(store: Store) -> None:
    res = store.add_records("weather_report", [weather("wx-a", 0), weather("wx-a", 0), weather("wx-b", 1),
                                               weather("wx-b", 1, temperature_c=3.0)])  # fmt: skip
    assert (res.inserted, res.repeats, res.conflicts) == (2, 1, [("wx-b", "id already stored with different content")])
    assert store.last_seq() == 2 and store.records("weather_report")[1].temperature_c == -15.0  # type: ignore[attr-defined]


def test_ties_in_time_are_in_id_code_point_order(store: Store) -> None:
    """As SQLite compares text (byte order): upper case before ``_`` before lower case, on every backend."""
    ids = ["wx-b", "wx-B", "wx-a", "wx-_", "wx-A1"]
    store.add_records("weather_report", [weather(i, 0) for i in ids])
    assert [r.id for r in store.records("weather_report")] == sorted(ids)
    run = store.new_run("process", {})
    store.replace_scope("window:a", run, rows(*(event(i.replace("wx", "evt"), 0) for i in ids)), seen_seq=1)
    assert [d.record.id for d in store.derived("event")] == sorted(i.replace("wx", "evt") for i in ids)


def test_add_records_refuses_wrong_type(store: Store) -> None:
    with pytest.raises(TypeError, match="not a weather_report"):
        store.add_records("weather_report", [EX["sensor"]])
    assert store.count("weather_report") == 0


def test_records_by_time(store: Store) -> None:
    store.add_records("weather_report", [weather("wx-c", 20), weather("wx-a", 0), weather("wx-b", 10)])
    store.add_records("sighting", [EX["sighting"]])
    assert [r.id for r in store.records("weather_report")] == ["wx-a", "wx-b", "wx-c"]
    assert [r.id for r in store.records("weather_report", since=t(10))] == ["wx-b", "wx-c"]
    assert [r.id for r in store.records("weather_report", until=t(10))] == ["wx-a"]
    assert [r.id for r in store.records("weather_report", t(0), t(20))] == ["wx-a", "wx-b"]
    assert store.records("weather_report", t(30)) == []
    assert [r.id for r in store.records("sighting")] == ["sgt-0001"]
    assert store.records("weather_report")[0] == weather("wx-a", 0)


def test_add_detections_idempotent_and_conflicts(store: Store, tmp_path: Path) -> None:
    table = detections_csv(tmp_path, CSV_ROWS)
    res = store.add_detections(table, source="csv")
    assert (res.inserted, res.repeats, res.conflicts) == (3, 0, [])
    again = store.add_detections(table, source="csv")
    assert (again.inserted, again.repeats, again.conflicts) == (0, 3, [])
    changed = detections_csv(
        tmp_path,
        [
            "d1,S1,2025-04-20T03:00:00.500000+00:00,0.01,120.5,3.0,99.0,0.1,0.9",  # amplitude changed
            "d4,S3,2025-04-20T03:00:03.000000+00:00,0.01,,,,,",
        ],
        name="more.csv",
    )
    res = store.add_detections(changed)
    assert res.inserted == 1 and res.repeats == 0
    assert [rid for rid, _ in res.conflicts] == ["d1"]
    assert store.count("detection") == 4
    got = store.detections(0, 2**62)
    assert float(got.amplitude_pa[list(got.ids).index("d1")]) == 40.0


def test_add_detections_empty(store: Store, tmp_path: Path) -> None:
    table = detections_csv(tmp_path, [])
    res = store.add_detections(table)
    assert (res.inserted, res.repeats, res.conflicts) == (0, 0, [])
    assert store.last_seq() == 0


def test_detections_in_range_time_ordered_with_nan(store: Store, tmp_path: Path) -> None:
    store.add_detections(detections_csv(tmp_path, CSV_ROWS))
    got = store.detections(0, 2**62)
    assert list(got.ids) == ["d1", "d2", "d3"]
    assert list(got.sensor_ids) == ["S1", "S1", "S2"]
    assert np.all(np.diff(got.t_us) > 0)
    assert int(got.t_us[0]) == T_D1
    assert got.bearing_deg[0] == 120.5 and got.bearing_sigma_deg[0] == 3.0
    assert math.isnan(got.bearing_deg[1]) and math.isnan(got.bearing_sigma_deg[2])
    assert math.isnan(got.amplitude_pa[1]) and math.isnan(got.impact_score[1])
    assert got.launch_score[1] == 0.7
    # [t0, t1): the end is excluded, the start included
    part = store.detections(T_D1, T_D1 + 1_500_000)
    assert list(part.ids) == ["d1", "d2"]
    assert list(store.detections(T_D1 + 1, T_D1 + 750_001).ids) == ["d2"]  # d2 is at T_D1 + 0.75 s
    assert list(store.detections(T_D1 + 1, T_D1 + 750_000).ids) == []
    empty = store.detections(0, T_D1)
    assert len(empty) == 0 and empty.t_us.dtype == np.int64


def test_detections_count_one_seq_per_batch(store: Store, tmp_path: Path) -> None:
    store.add_detections(detections_csv(tmp_path, CSV_ROWS))
    assert store.last_seq() == 1 and store.max_seq("detection") == 1
    assert store.count("detection") == 3


# -- append-only ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE observations SET source='rewritten'",
        "DELETE FROM observations",
        "UPDATE detections SET amplitude_pa=0",
        "DELETE FROM detections",
        "UPDATE audit SET reason='rewritten'",
        "DELETE FROM audit",
    ],
)
def test_append_only_tables_refuse_update_and_delete(store: Store, store_url: str, tmp_path: Path, sql: str) -> None:
    """Refused by the database itself: the SQL goes through a plain connection of the driver, not truceline."""
    store.add_records("weather_report", [weather("wx-a", 0)])
    store.add_detections(detections_csv(tmp_path, CSV_ROWS))
    store.append_audit("alice", "annotate", "event", "evt-a", "note", None, None)
    before = {tb: all_rows(store, tb) for tb in ("observations", "detections", "audit")}
    with plain_connection(store, store_url) as conn, pytest.raises(refused(store), match="append-only"):
        conn.execute(sql)
    assert {tb: all_rows(store, tb) for tb in before} == before


# -- derived records -----------------------------------------------------------------------------
def rows(*events: Event) -> list[tuple[str, Record, int]]:
    return [("event", e, us(e.origin_time)) for e in events]


def test_replace_scope_supersedes_previous_rows(store: Store) -> None:
    r1 = store.new_run("process", {})
    store.replace_scope("window:a", r1, rows(event("evt-1", 0), event("evt-2", 5)), seen_seq=3)
    store.replace_scope("window:b", r1, rows(event("evt-9", 50)), seen_seq=3)
    r2 = store.new_run("process", {})
    assert r2 > r1
    store.replace_scope("window:a", r2, rows(event("evt-1", 0), event("evt-3", 7)), seen_seq=8)

    current = store.derived("event")
    assert [(d.record.id, d.run_id, d.scope) for d in current] == [
        ("evt-1", r2, "window:a"),
        ("evt-3", r2, "window:a"),
        ("evt-9", r1, "window:b"),
    ]
    assert all(d.superseded_by is None for d in current)
    everything = store.derived("event", include_superseded=True)
    assert len(everything) == 5
    old = sorted((d.record.id, d.superseded_by) for d in everything if d.run_id == r1 and d.scope == "window:a")
    assert old == [("evt-1", r2), ("evt-2", r2)]
    assert [d.record.id for d in store.derived("event", since=t(5), until=t(50))] == ["evt-3"]

    state = store.scope_state("window:a")
    assert state is not None and (state.seen_seq, state.run_id) == (8, r2)
    assert state.processed_at.tzinfo is not None
    assert store.scope_state("window:zzz") is None
    assert set(store.scope_states()) == {"window:a", "window:b"}

    got = store.get_derived("event", "evt-1")
    assert got is not None and got.run_id == r2 and got.superseded_by is None
    gone = store.get_derived("event", "evt-2")
    assert gone is not None and gone.superseded_by == r2  # still readable
    assert store.get_derived("event", "nope") is None


def test_replace_scope_keeps_status_of_record(store: Store) -> None:
    run = store.new_run("process", {})
    store.replace_scope("window:a", run, [("violation", EX["violation"], us(t(5)))], seen_seq=1)
    (d,) = store.derived("violation")
    assert d.status == "corroborated" and d.record == EX["violation"]


def test_set_status(store: Store) -> None:
    run = store.new_run("process", {})
    store.replace_scope("window:a", run, [("violation", EX["violation"], us(t(5)))], seen_seq=1)
    store.set_status("violation", "vio-0001", "verified")
    got = store.get_derived("violation", "vio-0001")
    assert got is not None and got.status == "verified"
    assert got.record.status.value == "corroborated"  # type: ignore[attr-defined]  # the record is immutable
    with pytest.raises(KeyError, match="vio-nope"):
        store.set_status("violation", "vio-nope", "verified")
    with pytest.raises(KeyError):
        store.set_status("incident", "vio-0001", "verified")  # wrong kind


def test_set_status_refuses_superseded_row(store: Store) -> None:
    r1 = store.new_run("process", {})
    store.replace_scope("window:a", r1, [("violation", EX["violation"], us(t(5)))], seen_seq=1)
    r2 = store.new_run("process", {})
    store.replace_scope("window:a", r2, [], seen_seq=2)
    with pytest.raises(KeyError, match="no current violation"):
        store.set_status("violation", "vio-0001", "verified")


def test_put_derived_and_supersede(store: Store) -> None:
    r1 = store.new_run("process", {})
    store.replace_scope("window:a", r1, rows(event("evt-1", 0), event("evt-2", 5)), seen_seq=1)
    r2 = store.new_run("review", {"action": "test"})
    store.put_derived("review:x", r2, rows(event("evt-3", 3)))
    assert [d.record.id for d in store.derived("event")] == ["evt-1", "evt-3", "evt-2"]  # nothing superseded
    assert store.get_derived("event", "evt-3").scope == "review:x"  # type: ignore[union-attr]

    assert store.supersede("event", ["evt-1", "evt-2"], r2) == 2
    assert [d.record.id for d in store.derived("event")] == ["evt-3"]
    assert {d.record.id: d.superseded_by for d in store.derived("event", include_superseded=True)} == {
        "evt-1": r2,
        "evt-2": r2,
        "evt-3": None,
    }


def test_put_derived_refuses_second_current_row(store: Store) -> None:
    r1 = store.new_run("process", {})
    store.replace_scope("window:a", r1, rows(event("evt-1", 0)), seen_seq=1)
    r2 = store.new_run("review", {})
    with pytest.raises(ValueError, match=r"evt-1.*already has a current row"):
        store.put_derived("review:x", r2, rows(event("evt-2", 1), event("evt-1", 0)))
    assert len(store.derived("event", include_superseded=True)) == 1  # nothing written
    with pytest.raises(TypeError, match="not a incident"):
        store.put_derived("review:x", r2, [("incident", event("evt-5", 1), 0)])
    with pytest.raises(ValueError, match="not a derived kind"):
        store.put_derived("review:x", r2, [("sensor", EX["sensor"], 0)])


def test_supersede_is_all_or_nothing(store: Store) -> None:
    r1 = store.new_run("process", {})
    store.replace_scope("window:a", r1, rows(event("evt-1", 0)), seen_seq=1)
    r2 = store.new_run("review", {})
    with pytest.raises(KeyError, match="evt-nope"):
        store.supersede("event", ["evt-1", "evt-nope"], r2)
    assert [d.record.id for d in store.derived("event")] == ["evt-1"]
    store.supersede("event", ["evt-1"], r2)
    with pytest.raises(KeyError, match="no current event 'evt-1'"):
        store.supersede("event", ["evt-1"], r2)


# -- sequence numbers ----------------------------------------------------------------------------
def test_max_seq_between(store: Store, tmp_path: Path) -> None:
    assert store.max_seq_between(0, 2**62) == 0
    assert store.time_span_us() is None
    store.add_records("weather_report", [weather("wx-a", 0)])  # seq 1 at t(0)
    store.add_detections(detections_csv(tmp_path, CSV_ROWS))  # seq 2, 03:00:00.5 .. 03:00:02
    store.add_records("claim", [EX["claim"]])  # seq 3: claims do not count
    store.add_records("weather_report", [weather("wx-b", 3600)])  # seq 4 at t(3600)
    assert store.last_seq() == 4
    assert store.max_seq("weather_report") == 4 and store.max_seq("detection") == 2
    assert store.max_seq("sighting") == 0
    w0 = us(t(0))
    assert store.max_seq_between(w0, w0 + 1) == 1
    assert store.max_seq_between(T_D1 - 10, T_D1 + 1) == 2
    assert store.max_seq_between(0, w0) == 2  # only detections before t(0)
    assert store.max_seq_between(T_D1 - 10, us(t(3600))) == 2  # end excluded
    assert store.max_seq_between(T_D1 - 10, us(t(3600)) + 1) == 4
    claim_t = us(EX["claim"].period.start)  # type: ignore[attr-defined]  # claims are filed under their period
    assert store.max_seq_between(claim_t, claim_t + 1) == 0
    assert store.max_seq_between(claim_t, claim_t + 1, "claim") == 3
    assert store.max_seq_between(0, 2**62, "weather_report") == 4
    assert store.max_seq_between(0, 2**62, "detection") == 2
    # The span of the data excludes claims (a claim published a year later adds no windows) and sensors.
    assert store.time_span_us() == (T_D1, us(t(3600)))


# -- transactions --------------------------------------------------------------------------------
def test_transaction_rolls_back_everything(store: Store) -> None:
    with pytest.raises(RuntimeError, match="boom"), store.transaction():
        store.add_records("weather_report", [weather("wx-a", 0)])
        store.append_audit("alice", "annotate", "event", "evt-a", "note", None, None)
        raise RuntimeError("boom")
    assert store.count("weather_report") == 0 and list(store.audit()) == [] and store.last_seq() == 0


def test_nested_transaction_rolls_back_outer_too(store: Store) -> None:
    store.add_records("weather_report", [weather("wx-0", -10)])
    with pytest.raises(RuntimeError, match="inner"), store.transaction():
        store.add_records("weather_report", [weather("wx-a", 0)])
        run = store.new_run("process", {})
        with store.transaction():
            store.replace_scope("window:a", run, rows(event("evt-1", 0)), seen_seq=1)
            store.append_audit("alice", "annotate", "event", "evt-1", "note", None, None)
            raise RuntimeError("inner")
    assert [r.id for r in store.records("weather_report")] == ["wx-0"]
    assert store.derived("event", include_superseded=True) == []
    assert store.scope_states() == {} and list(store.audit()) == []
    assert all_rows(store, "runs") == []
    # the store is usable afterwards and commits again
    with store.transaction(), store.transaction():
        store.add_records("weather_report", [weather("wx-a", 0)])
    assert store.count("weather_report") == 2


def test_transaction_commits_together(store: Store, store_url: str) -> None:
    with store.transaction():
        store.add_records("weather_report", [weather("wx-a", 0)])
        store.append_audit("alice", "annotate", "weather_report", "wx-a", "note", None, None)
    other = open_store(store_url)  # a second connection sees the committed data
    try:
        assert other.count("weather_report") == 1 and len(list(other.audit())) == 1
    finally:
        other.close()


# -- audit ---------------------------------------------------------------------------------------
def test_audit_round_trip(store: Store) -> None:
    e1 = store.append_audit("alice", "confirm", "violation", "vio-1", "two sensors", {"status": "a"}, {"status": "b"})
    e2 = store.append_audit("bob", "annotate", "incident", "inc-1", "note", None, None)
    assert e2.seq > e1.seq
    got = list(store.audit())
    assert got == [e1, e2]
    assert list(store.audit(target_id="vio-1")) == [e1]
    assert list(store.audit(target_id="nope")) == []
    assert got[0].at.tzinfo is not None and got[0].at.utcoffset() == dt.timedelta(0)
    assert got[0].before == {"status": "a"} and got[1].after is None


def _open_store(path: str) -> int:
    from truceline.store import SQLiteStore

    s = SQLiteStore(path)
    v = s.schema_version
    s.close()
    return v


@pytest.mark.sqlite_only
def test_several_processes_opening_a_new_store_at_once_migrate_it_once(tmp_path: Path) -> None:
    """``serve`` and ``ingest`` started together on a fresh data directory (found in review)."""
    import multiprocessing as mp

    from truceline.store.sqlite import MIGRATIONS

    ctx = mp.get_context("spawn")
    for trial in range(5):
        d = str(tmp_path / f"d{trial}")
        with ctx.Pool(4) as pool:
            versions = pool.map(_open_store, [d] * 4)
        assert versions == [len(MIGRATIONS)] * 4
