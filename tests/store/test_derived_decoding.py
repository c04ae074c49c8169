"""A derived row that no longer decodes (a codebook change, a row poisoned before validation existed) is
skipped with a warning naming it, never the read's end; ``strict=True`` raises naming the record."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest

from tests.backends import execute, is_sqlite
from truceline.core import Event, evolve
from truceline.core.examples import EXAMPLE_TIME, example_records
from truceline.store import Store
from truceline.store.base import StoredRecordError, to_us

EX = example_records()
T = to_us(EXAMPLE_TIME)


def event(rid: str, seconds: float) -> Event:
    return evolve(EX["event"], id=rid, origin_time=EXAMPLE_TIME + dt.timedelta(seconds=seconds))  # type: ignore[return-value]


#: A body that is no JSON: SQLite keeps it (a TEXT column); PostgreSQL's json column refuses it, so on
#: PostGIS the row that does not decode is JSON that is no event.
NOT_JSON = "{not json"
NO_EVENT = '["not", "an event"]'


def poison(store: Store, kind: str, rid: str, t_us: int, body: str, scope: str = "window:a") -> None:
    """A derived row as an older truceline (or a bug) could have left it, bypassing validation."""
    cols = "kind, id, time_us, scope, run_id, status, superseded_by, body"
    execute(store, f"INSERT INTO derived ({cols}) VALUES (?,?,?,?,?,?,NULL,?)", (kind, rid, t_us, scope, 1, None, body))


@pytest.fixture
def store(store: Store) -> Store:
    run = store.new_run("process", {})
    store.replace_scope("window:a", run, [("event", event("evt-1", 0), T), ("event", event("evt-3", 9), T + 9)], 1)
    good = json.loads(event("evt-2", 5).model_dump_json())
    poison(store, "event", "evt-2", T + 5, json.dumps({**good, "origin_time": "year 10000"}))
    poison(store, "event", "evt-4", T + 7, NOT_JSON if is_sqlite(store) else NO_EVENT)
    poison(store, "incident", "inc-9", T, json.dumps({"id": "inc-9"}))
    return store


def test_a_read_skips_each_row_that_does_not_decode_with_a_warning(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert [d.record.id for d in store.derived("event")] == ["evt-1", "evt-3"]
        assert store.derived("incident") == []
    for rid in ("evt-2", "evt-4", "inc-9"):
        assert f"'{rid}'" in caplog.text
    assert "origin_time" in caplog.text and "scope 'window:a'" in caplog.text  # the field, and where it is


def test_on_skip_receives_every_skipped_row_named_with_its_time(store: Store) -> None:
    skipped: list[StoredRecordError] = []
    got = store.derived("event", include_superseded=True, on_skip=skipped.append)
    assert [d.record.id for d in got] == ["evt-1", "evt-3"]
    assert [(e.kind, e.record_id, e.time_us) for e in skipped] == [("event", "evt-2", T + 5), ("event", "evt-4", T + 7)]
    assert ("JSONDecodeError" if is_sqlite(store) else "RecordError") in skipped[1].reason


def test_postgis_refuses_to_store_a_body_that_is_no_json(store: Store) -> None:
    if is_sqlite(store):
        return  # a TEXT column: SQLite keeps it, and the reads skip it (above)
    import psycopg

    with pytest.raises(psycopg.errors.InvalidTextRepresentation, match="invalid input syntax for type json"):
        poison(store, "event", "evt-5", T, NOT_JSON)


def test_strict_raises_naming_the_record(store: Store) -> None:
    with pytest.raises(StoredRecordError, match=r"stored event 'evt-2': .*origin_time") as info:
        store.derived("event", strict=True)
    assert (info.value.kind, info.value.record_id, info.value.time_us) == ("event", "evt-2", T + 5)
    with pytest.raises(StoredRecordError, match="inc-9"):
        store.get_derived("incident", "inc-9", strict=True)


def test_a_single_row_that_does_not_decode_is_none(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert store.get_derived("event", "evt-4") is None
    assert "evt-4" in caplog.text
    got = store.get_derived("event", "evt-1")
    assert got is not None and got.record == event("evt-1", 0)


def test_an_observation_that_does_not_decode_names_its_time(store: Store) -> None:
    body = json.loads(EX["sighting"].model_dump_json())
    execute(
        store,
        "INSERT INTO observations (kind, id, time_us, seq, ingested_at, source, body) VALUES (?,?,?,?,?,?,?)",
        ("sighting", "sgt-bad", T, 99, "2025-04-20T00:00:00+00:00", "old",
         json.dumps({**body, "id": "sgt-bad", "notes": "\ud800"})),
    )  # fmt: skip
    with pytest.raises(StoredRecordError, match="sgt-bad") as info:
        store.records("sighting", strict=True)
    assert info.value.time_us == T
