"""Metrics for the operations centre: the figures of ``GET /api/v1/metrics`` in Prometheus text format 0.0.4.

Computed from the store (records ingested by kind, quarantine, processing lag and backlog, events,
incidents and violations per minute over the last hour, the store's sequence, sensors by health: counts
only, never an id or a position) and from the MQTT listener's stats file.

The listener runs in another process: it writes its stats (:data:`STATS_FILE`, ``mqtt-listener.json``
beside its rejects file, so ``DATA_DIR/mqtt-listener.json`` by default) every :data:`STATS_EVERY_S`
seconds and whenever it connects or disconnects, atomically (a temporary file renamed over it); the API
reads it from the store's data directory. A file older than :data:`STALE_AFTER_S` is a listener that no
longer runs (``truceline_listener_up 0``). The exposition is written by hand (no dependency).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from truceline.adjudicate.coverage import HEALTH_CODES, NOT_INSTALLED, SensorNetwork
from truceline.core import RECORD_TYPES, Sensor, SensorStatusReport
from truceline.core.enums import SensorHealth
from truceline.service.process import US, dirty, held_scopes, stored_params, window_scope, windows
from truceline.service.queries.network import data_time
from truceline.store.base import DERIVED_KINDS, QUARANTINE_STATES, Store, from_us, to_us

__all__ = [
    "CONTENT_TYPE",
    "STALE_AFTER_S",
    "STATS_EVERY_S",
    "STATS_FILE",
    "Backlog",
    "ListenerSnapshot",
    "Metric",
    "backlog",
    "collect",
    "metrics_text",
    "read_listener_stats",
    "render",
    "write_listener_stats",
]

_log = logging.getLogger(__name__)

#: The media type of the Prometheus text exposition format 0.0.4.
CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
#: The listener's stats file, in the folder of its rejects file (the store's data directory by default).
STATS_FILE: Final = "mqtt-listener.json"
#: Seconds between two writes of the stats file while the listener runs.
STATS_EVERY_S: Final = 5.0
#: A stats file older than this (seconds) is of a listener that no longer runs.
STALE_AFTER_S: Final = 30.0
#: Observation kinds counted as ingested (every stored kind but the derived ones).
OBSERVATION_KINDS: Final = tuple(k for k in RECORD_TYPES if k not in DERIVED_KINDS)
#: Derived kinds counted per minute over the last hour.
RATE_KINDS: Final = ("event", "incident", "violation")
#: The listener's counters: stats key -> (metric name, help).
_LISTENER_COUNTERS: Final = {
    "messages": ("truceline_listener_messages_received_total", "MQTT messages received by the listener."),
    "acknowledged": ("truceline_listener_messages_acknowledged_total", "Messages acknowledged (stored or refused)."),
    "refused_messages": ("truceline_listener_messages_refused_total", "MQTT messages refused (kept in the rejects)."),
    "store_failures": ("truceline_listener_store_failures_total", "Messages the store failed on (not acknowledged)."),
    "connections": ("truceline_listener_connections_total", "Connections made to the broker."),
    "inserted": ("truceline_listener_records_inserted_total", "Records the listener stored."),
    "repeats": ("truceline_listener_records_repeated_total", "Records received again, already stored."),
}


# -- the exposition format ---------------------------------------------------------------------------
@dataclass
class Metric:
    """One metric family: its name, type (``counter`` or ``gauge``), help and samples."""

    name: str
    kind: str
    help: str
    samples: list[tuple[dict[str, str], float]] = field(default_factory=list)

    def add(self, value: float, **labels: str) -> Metric:
        """Add a sample; returns the metric."""
        self.samples.append((labels, value))
        return self


def _escape(text: str, quote: bool) -> str:
    text = text.replace("\\", "\\\\").replace("\n", "\\n")
    return text.replace('"', '\\"') if quote else text


def _number(value: float) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def render(metrics: Sequence[Metric]) -> str:
    """The text exposition (format 0.0.4) of ``metrics``: ``# HELP``, ``# TYPE``, then ``name{labels} value``.

    Parameters
    ----------
    metrics : sequence of Metric
        The families, in order; a family without samples is written with its HELP and TYPE only.

    Returns
    -------
    str
        Lines ending in ``\\n``.
    """
    lines: list[str] = []
    for m in metrics:
        lines += [f"# HELP {m.name} {_escape(m.help, quote=False)}", f"# TYPE {m.name} {m.kind}"]
        for labels, value in m.samples:
            inner = ",".join(f'{k}="{_escape(str(v), quote=True)}"' for k, v in labels.items())
            lines.append(f"{m.name}{{{inner}}} {_number(value)}" if inner else f"{m.name} {_number(value)}")
    return "\n".join(lines) + "\n"


# -- the listener's stats file -----------------------------------------------------------------------
@dataclass(frozen=True)
class ListenerSnapshot:
    """What a listener's stats file says: whether it is connected, its counters, when it wrote them."""

    connected: bool
    updated_at: float
    stats: Mapping[str, int]
    pid: int = 0

    def age_s(self, now: float | None = None) -> float:
        """Seconds since it was written (``now``: POSIX seconds, default the clock)."""
        return max(0.0, (time.time() if now is None else now) - self.updated_at)


def write_listener_stats(path: Path, stats: Mapping[str, int], connected: bool, now: float | None = None) -> None:
    """Write a listener's stats to ``path`` atomically (a temporary file in its folder, renamed over it).

    Raises
    ------
    OSError
        When the folder cannot be written (the listener logs it and goes on).
    """
    body = {
        "format": 1,
        "pid": os.getpid(),
        "updated_at": time.time() if now is None else now,
        "connected": bool(connected),
        "stats": {k: int(v) for k, v in stats.items()},
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(body, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_listener_stats(path: Path) -> ListenerSnapshot | None:
    """The stats file at ``path``; None when there is none, or (with a logged warning) when it is unreadable."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        stats = {str(k): int(v) for k, v in body["stats"].items()}
        return ListenerSnapshot(bool(body["connected"]), float(body["updated_at"]), stats, int(body.get("pid", 0)))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        _log.warning("the listener's stats file %s is unreadable: %s", path, type(exc).__name__)
        return None


# -- figures from the store --------------------------------------------------------------------------
@dataclass(frozen=True)
class Backlog:
    """Processing's state, from the store's data windows and scope states.

    Attributes
    ----------
    window_s : int
        The window length the store is processed with.
    todo : int
        Windows holding data not yet processed, or with data newer than their processing.
    held : int
        Windows held in quarantine (not processed until an analyst releases them).
    first_data_us : int or None
        Start of the first window holding data (µs).
    last_end_us : int or None
        End of the last processed window (µs), None when none is.
    processed_until_us : int or None
        End of the contiguous run of clean windows (:func:`truceline.service.process.processed_until`).
    """

    window_s: int
    todo: int = 0
    held: int = 0
    first_data_us: int | None = None
    last_end_us: int | None = None
    processed_until_us: int | None = None

    def lag_s(self, now: dt.datetime) -> float:
        """Seconds from the end of the last processed window (else the first data window's start) to ``now``."""
        ref = self.last_end_us if self.last_end_us is not None else self.first_data_us
        return 0.0 if ref is None else max(0.0, (to_us(now) - ref) / US)


def _last_processed_end(store: Store, window_s: int) -> int | None:
    ends = []
    for scope, state in store.scope_states().items():
        if scope.startswith("window:"):
            start = dt.datetime.strptime(scope[len("window:") :], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
            ends.append(to_us(start) + (state.window_s or window_s) * US)
    return max(ends, default=None)


def backlog(store: Store) -> Backlog:
    """The processing backlog: every window holding data judged as ``truceline process`` judges it.

    Costs a few queries per window holding data; :func:`collect` keeps it until the store changes.
    """
    params = stored_params(store)
    held_states = held_scopes(store)
    starts = windows(store, params, None, None)
    todo = held = 0
    until: int | None = None
    blocked = False
    for w0 in starts:
        state = held_states.get(window_scope(from_us(w0)))
        if state == "quarantined":
            held += 1
        elif state != "rejected" and dirty(store, params, w0):
            todo += 1
        else:
            if not blocked:
                until = w0 + params.window_s * US
            continue
        blocked = True
    return Backlog(params.window_s, todo, held, starts[0] if starts else None,
                   _last_processed_end(store, params.window_s), until)  # fmt: skip


def _backlog_cached(store: Store, cache: MutableMapping[Any, Any] | None, entries_key: int) -> Backlog:
    """:func:`backlog`, kept in ``cache`` until the observations, the processing runs or the quarantine change."""
    if cache is None:
        return backlog(store)
    states = store.scope_states()
    key = (store.last_seq(), max((s.run_id for s in states.values()), default=0), len(states), entries_key)
    hit = cache.get("metrics.backlog")
    if hit is not None and hit[0] == key:
        return hit[1]
    found = backlog(store)
    cache["metrics.backlog"] = (key, found)
    return found


def _sensor_health(store: Store) -> Counter[str]:
    """Sensors by health at the newest data (as ``/api/v1/sensors``): counts only."""
    sens = [s for s in store.records("sensor") if isinstance(s, Sensor)]
    known = {s.id for s in sens}
    reports = [r for r in store.records("sensor_status_report")
               if isinstance(r, SensorStatusReport) and r.sensor_id in known]  # fmt: skip
    counts: Counter[str] = Counter({h.value: 0 for h in SensorHealth} | {"not_installed": 0})
    if sens:
        codes = SensorNetwork.from_records(sens, reports).health_at(data_time(store))
        counts.update("not_installed" if c == NOT_INSTALLED else HEALTH_CODES[c].value for c in codes.tolist())
    return counts


def _store_metrics(store: Store, now: dt.datetime, cache: MutableMapping[Any, Any] | None) -> list[Metric]:
    ingested = Metric("truceline_records_ingested_total", "counter",
                      "Observation records stored, by kind (held ones included).")  # fmt: skip
    for kind in OBSERVATION_KINDS:
        ingested.add(store.count(kind), kind=kind)
    entries = store.quarantine_entries()
    quarantine = Metric("truceline_quarantine_entries", "gauge",
                        "Records (kind) and processing scopes (kind scope) in quarantine, by state.")  # fmt: skip
    by = Counter((e.kind, e.state) for e in entries)
    for kind in sorted({k for k, _ in by} | {"detection", "scope"}):
        for state in QUARANTINE_STATES:
            quarantine.add(by[(kind, state)], kind=kind, state=state)
    work = _backlog_cached(store, cache, hash(tuple((e.qid, e.state) for e in entries)))
    metrics = [
        ingested,
        quarantine,
        Metric("truceline_processing_lag_seconds", "gauge", "Now minus the end of the last processed window "
               "(the first data window's start when none is processed; 0 without data).").add(work.lag_s(now)),
        Metric("truceline_processing_backlog_windows", "gauge",
               "Windows holding data not yet processed, or with newer data than their processing.").add(work.todo),
        Metric("truceline_processing_backlog_seconds", "gauge",
               "Data time not yet processed: backlog windows times the window length.").add(work.todo * work.window_s),
        Metric("truceline_processing_held_windows", "gauge", "Windows held in quarantine.").add(work.held),
    ]  # fmt: skip
    until = Metric("truceline_processed_until_timestamp_seconds", "gauge",
                   "End of the contiguous run of processed windows from the first (POSIX seconds).")  # fmt: skip
    if work.processed_until_us is not None:
        until.add(work.processed_until_us / US)
    rate = Metric("truceline_derived_records_per_minute", "gauge",
                  "Current derived records per minute over the last hour of record time, by kind.")  # fmt: skip
    for kind in RATE_KINDS:
        rate.add(len(store.derived(kind, since=now - dt.timedelta(hours=1), until=now)) / 60.0, kind=kind)
    seq = Metric("truceline_store_sequence", "gauge", "Sequence number of the newest stored observation.")
    health = Metric("truceline_sensors", "gauge", "Sensors by health at the newest data (counts only).")
    for name, n in sorted(_sensor_health(store).items()):
        health.add(n, health=name)
    return [*metrics, until, rate, seq.add(store.last_seq()), health]


def _listener_metrics(snap: ListenerSnapshot | None, now: float) -> list[Metric]:
    up = Metric("truceline_listener_up", "gauge",
                f"1 when the MQTT listener's stats file is under {STALE_AFTER_S:.0f} s old, else 0.")  # fmt: skip
    if snap is None:
        return [up.add(0)]
    fresh = snap.age_s(now) <= STALE_AFTER_S
    out = [
        up.add(int(fresh)),
        Metric("truceline_listener_connected", "gauge", "1 when the listener is connected to the broker.").add(
            int(fresh and snap.connected)
        ),
        Metric("truceline_listener_stats_age_seconds", "gauge", "Age of the listener's stats file.").add(
            round(snap.age_s(now), 3)
        ),
    ]
    for key, (name, text) in _LISTENER_COUNTERS.items():
        out.append(Metric(name, "counter", text).add(int(snap.stats.get(key, 0))))
    return out


def collect(
    store: Store,
    now: dt.datetime | None = None,
    listener: ListenerSnapshot | None = None,
    cache: MutableMapping[Any, Any] | None = None,
) -> list[Metric]:
    """Every metric, from the store and the listener's stats.

    Parameters
    ----------
    store : Store
        The store read.
    now : datetime, optional
        The present (aware; default the clock): the lag and the last hour are measured from it.
    listener : ListenerSnapshot, optional
        The listener's stats file as read (:func:`read_listener_stats`); None when there is none.
    cache : mutable mapping, optional
        Where the processing backlog is kept between calls (the API's context cache).

    Returns
    -------
    list of Metric
    """
    now = dt.datetime.now(dt.UTC) if now is None else now
    return [*_store_metrics(store, now, cache), *_listener_metrics(listener, now.timestamp())]


def metrics_text(
    store: Store,
    now: dt.datetime | None = None,
    listener: ListenerSnapshot | None = None,
    cache: MutableMapping[Any, Any] | None = None,
) -> str:
    """:func:`collect` rendered as Prometheus text (:func:`render`)."""
    return render(collect(store, now, listener, cache))
