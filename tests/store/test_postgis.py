"""The PostGIS store's own guarantees, enforced by the database: what the protocol's tests (run on every
backend, test_store.py) cannot see. Run with ``--store-backends=sqlite,postgis`` or
``TRUCELINE_TEST_PG_URL`` (``scripts/postgis.sh --test`` makes the database); each test has a schema of
its own."""

from __future__ import annotations

import datetime as dt
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.backends import execute, plain_connection
from truceline.core import evolve
from truceline.core.errors import InvalidInput
from truceline.core.examples import EXAMPLE_TIME, example_records
from truceline.io.detections import DetectionTable
from truceline.store import SQLiteStore, Store, open_store
from truceline.store.base import StoreFailure, to_us

pytestmark = pytest.mark.postgis_only
psycopg = pytest.importorskip("psycopg")  # a dependency: importorskip only names it when it is missing

EX = example_records()
T0 = to_us(EXAMPLE_TIME)


def test_the_database_refuses_every_rewrite_of_evidence(store: Store, store_url: str) -> None:
    """Through a plain connection (no truceline): append-only tables refuse TRUNCATE too; derived rows are
    never deleted, a superseded one never changes, a current one changes its status alone."""
    store.add_records("sighting", [EX["sighting"]])
    store.append_audit("anna", "annotate", "event", "evt-a", "note", None, None)
    r1 = store.new_run("process", {})
    store.replace_scope("window:a", r1, [("violation", EX["violation"], T0)], seen_seq=1)
    store.replace_scope("window:a", store.new_run("process", {}), [("violation", EX["violation"], T0)], seen_seq=2)
    refused = psycopg.errors.RestrictViolation
    with plain_connection(store, store_url) as conn:
        for table in ("observations", "detections", "audit"):
            with pytest.raises(refused, match=f"{table} is append-only"):
                conn.execute(f"TRUNCATE {table}")
        for sql in ("DELETE FROM derived", "TRUNCATE derived", "DELETE FROM quarantine", "DELETE FROM api_tokens"):
            with pytest.raises(refused, match="never deleted"):
                conn.execute(sql)
        for sql in (
            "UPDATE derived SET body = '{}' WHERE superseded_by IS NULL",
            "UPDATE derived SET geom = NULL WHERE superseded_by IS NULL",
            "UPDATE derived SET status = 'refuted' WHERE superseded_by IS NOT NULL",
        ):
            with pytest.raises(refused, match="change only their status"):
                conn.execute(sql)
        conn.execute("UPDATE derived SET status = 'verified' WHERE superseded_by IS NULL")  # what set_status does
    assert store.get_derived("violation", "vio-0001").status == "verified"  # type: ignore[union-attr]
    assert store.count("sighting") == 1 and len(list(store.audit())) == 1


def test_a_newer_schema_refuses_to_open(store: Store, store_url: str) -> None:
    from truceline.store.postgis import MIGRATIONS

    with plain_connection(store, store_url) as conn:
        conn.execute("INSERT INTO truceline_schema VALUES (%s, now())", (len(MIGRATIONS) + 1,))
    with pytest.raises(RuntimeError, match=rf"schema version {len(MIGRATIONS) + 1} is newer .* \({len(MIGRATIONS)}\)"):
        open_store(store_url)
    assert store.count("sighting") == 0  # the open store is untouched


def test_stores_opened_at_once_migrate_once(store_url: str) -> None:
    """``serve`` and ``ingest`` started together on an empty schema: the advisory lock serialises them."""
    got: list[Any] = []

    def open_one() -> None:
        try:
            s = open_store(store_url)
            got.append(s.schema_version)  # type: ignore[attr-defined]
            s.close()
        except Exception as exc:  # pragma: no cover - what the test is about
            got.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    from truceline.store.postgis import MIGRATIONS

    assert got == [len(MIGRATIONS)] * 4


def test_positions_are_geometries_with_gist_indexes(store: Store) -> None:
    sighting, weather, claim = EX["sighting"], EX["weather_report"], EX["claim"]
    store.add_records("sighting", [sighting])
    store.add_records("weather_report", [weather])
    store.add_records("claim", [claim, evolve(claim, id="clm-noplace", place=None, area="somewhere")])
    store.add_records("observer_report", [EX["observer_report"]])
    run = store.new_run("process", {})
    store.replace_scope("window:a", run, [("event", EX["event"], T0), ("incident", EX["incident"], T0)], seen_seq=1)
    rows = execute(store, "SELECT kind, id, ST_SRID(geom), GeometryType(geom), ST_X(geom), ST_Y(geom) "
                          "FROM observations ORDER BY kind, id")  # fmt: skip
    pos = {"sighting": sighting.position, "weather_report": weather.position,  # type: ignore[attr-defined]
           "observer_report": EX["observer_report"].observer_position, "claim": claim.place}  # type: ignore[attr-defined]  # fmt: skip
    for kind, rid, srid, gtype, x, y in rows:
        if rid == "clm-noplace":
            assert srid is None  # a claim about an area, no point
            continue
        assert (srid, gtype, x, y) == (4326, "POINT", pos[kind].lon_deg, pos[kind].lat_deg)
    derived = execute(store, "SELECT kind, ST_X(geom), ST_Y(geom) FROM derived ORDER BY kind")
    event_pos = EX["event"].position  # type: ignore[attr-defined]
    assert derived == [("event", event_pos.lon_deg, event_pos.lat_deg), ("incident", None, None)]
    indexes = dict(execute(store, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"))
    for table in ("observations", "derived"):
        assert "USING gist (geom)" in indexes[f"{table}_geom"]
    near = execute(store, "SELECT id FROM observations WHERE ST_DWithin(geom::geography, "
                          "ST_SetSRID(ST_MakePoint(?, ?), 4326)::geography, 1000) ORDER BY id",
                   (sighting.position.lon_deg, sighting.position.lat_deg))  # type: ignore[attr-defined]  # fmt: skip
    assert ("sgt-0001",) in near


def big_detections(n: int, seed: int = 7) -> DetectionTable:
    """``n`` detections in shuffled order: ties in time (ids in code point order: upper case first), NaN
    in every optional column, extreme values."""
    rng = np.random.default_rng(seed)
    t = T0 + rng.integers(0, 86_400_000_000, n)
    t[: n // 10] = t[n // 10 : 2 * (n // 10)]  # a tenth share their microsecond with another
    ids = np.array([f"{'dA'[k % 2]}-{k:07d}" for k in range(n)])

    def col(lo: float, hi: float, nan: float) -> np.ndarray:
        v = rng.uniform(lo, hi, n)
        v[rng.random(n) < nan] = np.nan
        return v

    order = rng.permutation(n)
    table = DetectionTable(
        ids=ids, sensor_ids=np.array([f"S{k % 97}" for k in range(n)]), t_us=t.astype(np.int64),
        time_sigma_s=rng.uniform(0.001, 0.5, n), bearing_deg=col(0, 360, 0.5), bearing_sigma_deg=col(0.5, 10, 0.5),
        amplitude_pa=col(1e-6, 1e4, 0.3), launch_score=col(0, 1, 0.6), impact_score=col(0, 1, 0.6),
        line=np.arange(n, dtype=np.int64),
    )  # fmt: skip
    table.bearing_deg[:3] = [np.inf, -np.inf, 5e-324]
    return table.take(order)


def same_tables(a: DetectionTable, b: DetectionTable) -> None:
    for name in ("ids", "sensor_ids", "t_us"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    for name in ("time_sigma_s", "bearing_deg", "bearing_sigma_deg", "amplitude_pa", "launch_score", "impact_score"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name


@pytest.mark.slow
def test_200k_detections_round_trip_identical_to_sqlite(store: Store, tmp_path: Path) -> None:
    n = 200_000
    table = big_detections(n)
    lite = SQLiteStore(tmp_path / "lite")
    try:
        assert lite.add_detections(table).inserted == n
        start = time.perf_counter()
        res = store.add_detections(table, source="big.csv")
        written = time.perf_counter() - start
        assert (res.inserted, res.repeats, res.conflicts) == (n, 0, [])
        start = time.perf_counter()
        got = store.detections(0, 2**62)
        read = time.perf_counter() - start
        same_tables(got, lite.detections(0, 2**62))
        assert got.ids.dtype.kind == "U" and got.t_us.dtype == np.int64 and got.line.tolist() == [0] * n
        lo, hi = int(np.quantile(table.t_us, 0.3)), int(np.quantile(table.t_us, 0.4))
        same_tables(store.detections(lo, hi), lite.detections(lo, hi))
        assert store.last_seq() == 1 and store.count("detection") == n
        again = store.add_detections(table.take(np.arange(1000)))
        assert (again.inserted, again.repeats, again.conflicts) == (0, 1000, [])
    finally:
        lite.close()
    print(f"postgis: {n:,} detections written in {written:.2f} s, read in {read:.2f} s")


def test_a_wrong_password_is_invalid_input_naming_the_url_without_it(backend: str, pg_url: str) -> None:
    parts = urllib.parse.urlsplit(pg_url)
    user, host = parts.netloc.rsplit("@", 1)[0].split(":")[0], parts.netloc.rsplit("@", 1)[1]
    bad = urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:wrong-Pa55word@{host}"))
    with pytest.raises(InvalidInput) as err:
        open_store(bad)
    text = str(err.value)
    assert "wrong-Pa55word" not in text and f"postgresql://{user}:***@{host}" in text
    assert "password authentication failed" in text


def test_a_lost_connection_is_a_store_failure(store: Store, store_url: str) -> None:
    """A failure of the server, not of a record: an OSError, which stops `process` instead of holding a window."""
    (pid,) = execute(store, "SELECT pg_backend_pid()")[0]
    with plain_connection(store, store_url) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(StoreFailure) as err:
        store.count("sighting")
    assert isinstance(err.value, OSError) and "***" in str(err.value)


def test_concurrent_writers_get_one_sequence_number_each(store_url: str) -> None:
    """Writers go one at a time (the sequence row's lock): numbers are unique and without gaps."""
    weather = EX["weather_report"]
    errors: list[BaseException] = []

    def write(k: int) -> None:
        s = open_store(store_url)
        try:
            for i in range(15):
                t = EXAMPLE_TIME + dt.timedelta(seconds=k * 100 + i)
                s.add_records("weather_report", [evolve(weather, id=f"wx-{k}-{i}", time=t)])
        except BaseException as exc:  # pragma: no cover - what the test is about
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    s = open_store(store_url)
    try:
        assert errors == [] and s.last_seq() == 60
        assert sorted(r[0] for r in execute(s, "SELECT seq FROM observations")) == list(range(1, 61))
    finally:
        s.close()
