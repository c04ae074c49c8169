"""``truceline.service.metrics``: the exposition format, the figures of a small store at a given present, the
processing backlog and its cache, and the listener's stats file as the real listener writes it (no broker)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.api.data import SCOPE, T0, Built, build
from tests.api.test_metrics import parse, value
from truceline.service.listen import Listener
from truceline.service.metrics import (
    STATS_FILE,
    Metric,
    backlog,
    collect,
    metrics_text,
    read_listener_stats,
    render,
    write_listener_stats,
)
from truceline.service.mqtt_topics import parse_broker_url
from truceline.service.process import processed_until
from truceline.store import SQLiteStore
from truceline.store.base import Store, to_us


@pytest.fixture
def built(tmp_path: Path) -> Built:
    return build(tmp_path / "data")


@pytest.fixture
def store(built: Built) -> Iterator[Store]:
    s = SQLiteStore(built.data)
    yield s
    s.close()


def test_render_escapes_and_writes_numbers() -> None:
    m = Metric("truceline_x_total", "counter", "back\\slash\nnewline").add(3, kind='a"b\\c\nd')
    g = Metric("truceline_g", "gauge", "g").add(0.5).add(float("nan"), kind="n").add(float("inf"), kind="i")
    text = render([m, g, Metric("truceline_empty", "gauge", "no samples")])
    assert text.splitlines() == [
        "# HELP truceline_x_total back\\\\slash\\nnewline",
        "# TYPE truceline_x_total counter",
        'truceline_x_total{kind="a\\"b\\\\c\\nd"} 3',
        "# HELP truceline_g g",
        "# TYPE truceline_g gauge",
        "truceline_g 0.5",
        'truceline_g{kind="n"} NaN',
        'truceline_g{kind="i"} +Inf',
        "# HELP truceline_empty no samples",
        "# TYPE truceline_empty gauge",
    ]


def test_figures_at_the_hour_of_the_findings(store: Store) -> None:
    s = parse(metrics_text(store, now=T0 + dt.timedelta(hours=1)))
    # Five events, three incidents and three violations of the built store start in 06:00-07:00.
    assert value(s, "truceline_derived_records_per_minute", kind="event") == pytest.approx(5 / 60)
    assert value(s, "truceline_derived_records_per_minute", kind="incident") == pytest.approx(3 / 60)
    assert value(s, "truceline_derived_records_per_minute", kind="violation") == pytest.approx(3 / 60)
    assert value(s, "truceline_processing_lag_seconds") == 0  # the processed window ends at 07:00
    later = parse(metrics_text(store, now=T0 + dt.timedelta(hours=3)))
    assert value(later, "truceline_derived_records_per_minute", kind="event") == 0
    assert value(later, "truceline_processing_lag_seconds") == 2 * 3600
    assert value(later, "truceline_listener_up") == 0


def test_backlog_judges_windows_as_process_does(store: Store) -> None:
    got = backlog(store)
    assert processed_until(store) is None and got.processed_until_us is None
    five = int(dt.datetime(2026, 9, 2, 5, tzinfo=dt.UTC).timestamp()) * 1_000_000
    assert (got.todo, got.held, got.first_data_us, got.processed_until_us) == (1, 0, five, None)
    store.quarantine("scope", "window:2026-09-02T05:00:00Z", five, "failed")
    held = backlog(store)
    assert (held.todo, held.held) == (0, 1)
    qid = store.quarantine_entries(kind="scope")[0].qid
    store.decide_quarantine(qid, "rejected", "analyst", "bad data")  # a rejected window counts as done
    done = backlog(store)
    assert (done.todo, done.held) == (0, 0)
    assert done.last_end_us == int(T0.timestamp() + 3600) * 1_000_000  # the processed 06:00 window's end
    until = processed_until(store)
    assert until is not None and done.processed_until_us == to_us(until) == five + 3600 * 1_000_000
    assert SCOPE in store.scope_states()


def test_the_backlog_cache_follows_the_store(store: Store) -> None:
    cache: dict[Any, Any] = {}
    now = T0 + dt.timedelta(hours=1)
    first = parse(metrics_text(store, now=now, cache=cache))
    assert value(first, "truceline_processing_backlog_windows") == 1 and "metrics.backlog" in cache
    key, kept = cache["metrics.backlog"]
    cache["metrics.backlog"] = (key, type(kept)(kept.window_s, todo=99))  # the same store: the cache answers
    assert value(parse(metrics_text(store, now=now, cache=cache)), "truceline_processing_backlog_windows") == 99
    store.quarantine("scope", "window:2026-09-02T05:00:00Z", None, "failed")  # a change: computed again
    again = parse(metrics_text(store, now=now, cache=cache))
    assert value(again, "truceline_processing_backlog_windows") == 0
    assert value(again, "truceline_processing_held_windows") == 1
    assert value(again, "truceline_quarantine_entries", kind="scope", state="quarantined") == 1


def test_stats_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / STATS_FILE
    assert read_listener_stats(path) is None
    write_listener_stats(path, {"messages": 4, "acknowledged": 4}, connected=False, now=1000.0)
    snap = read_listener_stats(path)
    assert snap is not None and not snap.connected and snap.stats["messages"] == 4 and snap.age_s(1010.0) == 10
    assert [p.name for p in tmp_path.iterdir()] == [STATS_FILE]  # no temporary file left
    path.write_text(json.dumps({"connected": True}), encoding="utf-8")
    assert read_listener_stats(path) is None


class FakeClient:
    def __init__(self) -> None:
        self.acks: list[int] = []

    def subscribe(self, topics: Any) -> None: ...

    def ack(self, mid: int, qos: int) -> None:
        self.acks.append(mid)

    def publish(self, *a: Any, **k: Any) -> None: ...


def test_the_listener_writes_its_state(store: Store, built: Built) -> None:
    broker = parse_broker_url("mqtt://svc:s3cret-pw@127.0.0.1:1")
    listener = Listener(store, broker, built.data / "mqtt-rejects.jsonl")
    assert listener.stats_file == built.data / STATS_FILE
    client = FakeClient()
    listener._on_connect(client, None, SimpleNamespace(session_present=False), SimpleNamespace(is_failure=False), None)  # type: ignore[arg-type]
    snap = read_listener_stats(listener.stats_file)
    assert snap is not None and snap.connected and snap.stats["connections"] == 1
    msg = SimpleNamespace(payload=b"x", topic="not/a/sensor", properties=None, mid=7, qos=1)
    listener._on_message(client, None, msg)  # type: ignore[arg-type]
    assert client.acks == []  # waits for its batch (service/listen.py: stored, then acknowledged)
    listener._flush(client)  # type: ignore[arg-type]
    assert client.acks == [7]
    listener._on_disconnect(client, None, None, "gone", None)  # type: ignore[arg-type]
    text = listener.stats_file.read_text(encoding="utf-8")
    snap = read_listener_stats(listener.stats_file)
    assert snap is not None and not snap.connected
    assert (snap.stats["messages"], snap.stats["refused_messages"], snap.stats["acknowledged"]) == (1, 1, 1)
    assert "s3cret" not in text and "svc" not in text
    s = parse(metrics_text(store, listener=snap))
    assert value(s, "truceline_listener_up") == 1 and value(s, "truceline_listener_connected") == 0
    assert value(s, "truceline_listener_messages_refused_total") == 1
    assert [m.name for m in collect(store, listener=snap)][-1] == "truceline_listener_records_repeated_total"
