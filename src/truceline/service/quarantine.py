"""Quarantine, never a halt: a stored record (or a window) that fails in processing is held, audited, skipped.

The raw tables are append-only, so a bad record already stored (a detection at a time no datetime can
hold, a body that no longer validates, a value fusion cannot use) can never be removed: it is held
in the store's quarantine instead, with the reason, and left out of every read until an analyst
releases it (used again from the next ``process`` on) or rejects it (kept out for good). Each step is
an audit entry (``quarantine``, ``release_quarantine``, ``reject_quarantine``) with the actor and the
reason, in the same transaction as the change.

How processing finds the culprits (:func:`guard`): it runs a window; on failure it validates each
record of the window (detections through the codebook's :class:`~truceline.core.Detection`, and a
known sensor; observations are checked as they are read, :func:`read`) and holds the ones that fail,
then runs the window again without them; if no record is to blame, or the window still fails, the
window itself is held with the exception text and processing goes on with the next one.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import sqlite3
from collections.abc import Callable, Iterable
from typing import TypeVar

from truceline.core import Detection, InputLimits, Record
from truceline.core.codec import parse_record
from truceline.core.errors import Conflict, InvalidInput, NotFound, RecordError
from truceline.io.detections import DetectionTable
from truceline.store.base import (
    MAX_US,
    MIN_US,
    Derived,
    QuarantineEntry,
    Store,
    StoredRecordError,
    filed_time,
    from_us,
    to_us,
)

__all__ = [
    "DECISIONS",
    "STORED_LIMITS",
    "SYSTEM",
    "Culprit",
    "decide_many",
    "detection_problems",
    "entries",
    "guard",
    "held_entries",
    "hold",
    "hold_out_of_range",
    "out_of_bounds",
    "read",
    "read_derived",
    "reject",
    "release",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: The actor of the holds processing makes.
SYSTEM = "system:process"
#: ``(kind, id, time_us, reason)`` of a record to hold.
Culprit = tuple[str, str, int | None, str]
#: Failures of the store or the machine, not of a window's records: they stop the run (which is safe
#: to run again) instead of holding a window.
NOT_THE_WINDOWS = (sqlite3.OperationalError, OSError)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def hold(
    store: Store, kind: str, target_id: str, time_us: int | None, reason: str, actor: str = SYSTEM
) -> QuarantineEntry:
    """Hold a record (``kind`` its kind) or a processing scope (``kind`` ``"scope"``) out of processing,
    audited as ``quarantine`` when it was not held already."""
    with store.transaction():
        before = next((e for e in store.quarantine_entries(kind=kind) if e.target_id == target_id), None)
        entry = store.quarantine(kind, target_id, time_us, reason)
        if before is None or not before.held:
            store.append_audit(
                actor, "quarantine", kind, target_id, reason,
                None if before is None else {"state": before.state}, {"state": entry.state, "qid": entry.qid},
            )  # fmt: skip
    log.warning("quarantined %s %r: %s", kind, target_id, reason)
    return entry


def entries(store: Store, state: str | None = None, kind: str | None = None) -> list[QuarantineEntry]:
    """The quarantine, oldest first (of one state and one kind when given)."""
    if state is not None and state not in ("quarantined", "released", "rejected"):
        raise InvalidInput(f"state: {state!r} is not one of quarantined, released, rejected")
    return store.quarantine_entries(state=state, kind=kind)


def _decide(store: Store, qid: int, state: str, action: str, actor: str, reason: str) -> QuarantineEntry:
    if not actor.strip():
        raise InvalidInput("actor: required, empty")
    if not reason.strip():
        raise InvalidInput("reason: required, empty")
    with store.transaction():
        entry = store.quarantine_entry(qid)
        if entry is None:
            raise NotFound(f"quarantine entry {qid}: not found")
        if entry.state != "quarantined":
            raise Conflict(f"quarantine entry {qid} ({entry.kind} {entry.target_id!r}) is already {entry.state}")
        after = store.decide_quarantine(qid, state, actor, reason)
        store.append_audit(actor, action, entry.kind, entry.target_id, reason,
                           {"state": entry.state, "qid": qid}, {"state": after.state, "qid": qid})  # fmt: skip
    return after


def release(store: Store, qid: int, actor: str, reason: str) -> QuarantineEntry:
    """Release a held entry: the record (or window) is used again by the next ``process`` (audited).

    Raises
    ------
    NotFound
        For an unknown entry.
    Conflict
        For an entry already released or rejected.
    InvalidInput
        For an empty actor or reason.
    """
    return _decide(store, qid, "released", "release_quarantine", actor, reason)


def reject(store: Store, qid: int, actor: str, reason: str) -> QuarantineEntry:
    """Reject a held entry: kept out of processing for good (audited; raises as :func:`release`)."""
    return _decide(store, qid, "rejected", "reject_quarantine", actor, reason)


def held_entries(store: Store, kind: str | None = None, match: str | None = None) -> list[QuarantineEntry]:
    """The entries still waiting for a decision (state ``quarantined``), oldest first: of one kind
    (a record kind, or ``scope`` for windows) and whose reason holds ``match`` (case-insensitive)
    when given. What a decision on many (:func:`decide_many`) selects, e.g. every window a bug held."""
    if match is not None and not match.strip():
        raise InvalidInput("match: empty (leave it out to select every entry)")
    out = store.quarantine_entries(state="quarantined", kind=kind)
    if match is not None:
        out = [e for e in out if match.strip().casefold() in e.reason.casefold()]
    return out


#: The decisions and their audit actions.
DECISIONS = {"release": ("released", "release_quarantine"), "reject": ("rejected", "reject_quarantine")}


def decide_many(store: Store, qids: Iterable[int], decision: str, actor: str, reason: str) -> list[QuarantineEntry]:
    """Release or reject (``decision``) several entries in one transaction, each audited as
    :func:`release` and :func:`reject` audit one: all are decided or none (the first that cannot be,
    unknown or already decided, raises as :func:`release` and nothing is written)."""
    if decision not in DECISIONS:
        raise InvalidInput(f"decision: {decision!r} is not one of {', '.join(DECISIONS)}")
    state, action = DECISIONS[decision]
    with store.transaction():
        return [_decide(store, int(q), state, action, actor, reason) for q in dict.fromkeys(qids)]


#: Bounds a stored record must still meet to be used (those of the ingest with no time window: counts,
#: ids; :class:`~truceline.core.InputLimits`): a record stored before they existed (an observer count
#: of 10**40) is held, not summed into a bulletin. Times are checked apart (:func:`hold_out_of_range`).
STORED_LIMITS = InputLimits.structural()


def _time_us(record: Record) -> int | None:
    """The time a record is filed under (µs), None when it has none."""
    try:
        return to_us(filed_time(record))
    except (ValueError, OverflowError):
        pass
    for t in (getattr(record, "origin_time", None), getattr(getattr(record, "window", None), "start", None)):
        if isinstance(t, dt.datetime):
            return to_us(t)
    return None


def out_of_bounds(record: Record) -> str | None:
    """Why a stored record is beyond :data:`STORED_LIMITS` (the first problem), None when it is within."""
    try:
        problems = STORED_LIMITS.record_problems(record)
    except Exception as exc:  # a record the check itself cannot walk is no usable record
        return _short(exc)
    if not problems:
        return None
    field, value, why = problems[0]
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{field}: {str(value)[:80]!r} {why}{more}"


def _usable(store: Store, kind: str, records: list[T], record_of: Callable[[T], Record]) -> list[T]:
    """``records`` less those :func:`out_of_bounds` refuses, each of which is held."""
    out = []
    for item in records:
        rec = record_of(item)
        why = out_of_bounds(rec)
        if why is None:
            out.append(item)
        else:
            hold(store, kind, rec.id, _time_us(rec), f"stored record out of bounds: {why}")
    return out


def read(store: Store, kind: str, since: dt.datetime | None = None, until: dt.datetime | None = None) -> list[Record]:
    """``store.records(kind, since, until)``, holding each stored record that no longer decodes
    (named by :class:`~truceline.store.base.StoredRecordError`) and reading again without it, and each
    beyond the bounds a record must meet (:func:`out_of_bounds`)."""
    held: set[str] = set()
    while True:
        try:
            recs = store.records(kind, since, until, strict=True)
            break
        except StoredRecordError as exc:
            if exc.record_id in held:  # the backend did not leave it out: give up on strictness
                recs = store.records(kind, since, until)
                break
            held.add(exc.record_id)
            hold(store, exc.kind, exc.record_id, exc.time_us, f"stored record cannot be read: {exc.reason}")
    return _usable(store, kind, recs, lambda r: r)


def read_derived(
    store: Store, kind: str, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> list[Derived]:
    """``store.derived(kind, since, until)`` (current rows), holding each stored row that no longer
    decodes (a codebook change, a poisoned row) or is out of bounds (:func:`out_of_bounds`). The row is
    skipped; held, it shows in the quarantine
    for an analyst: a release is new data at its time, so the window that derived it is processed
    again (superseding the row), a rejection leaves it as it is. Derived rows are never filtered by
    the quarantine (a window reprocessed makes a new row of the same id, which must be read)."""
    bad: list[StoredRecordError] = []
    rows = store.derived(kind, since, until, on_skip=bad.append)
    for exc in bad:
        hold(store, exc.kind, exc.record_id, exc.time_us, f"stored record cannot be read: {exc.reason}")
    return _usable(store, kind, rows, lambda d: d.record)


def hold_out_of_range(store: Store) -> int:
    """Hold every record timed where no datetime reaches (before year 1 or after 9999, e.g. ``NaT``):
    it can never be processed. Returns how many were held."""
    bad = store.records_outside(MIN_US, MAX_US)
    for kind, rid, t_us in bad:
        hold(store, kind, rid, t_us, f"time {t_us} µs since 1970 is outside the years 1 to 9999")
    return len(bad)


def _finite_or_nan(v: float) -> float | None:
    return None if math.isnan(v) else float(v)


def detection_problems(table: DetectionTable, sensor_ids: Iterable[str]) -> list[Culprit]:
    """The detections of ``table`` the codebook refuses, or whose sensor is unknown, as culprits."""
    known = set(sensor_ids)
    out: list[Culprit] = []
    for i in range(len(table)):
        rid, t_us = str(table.ids[i]), int(table.t_us[i])
        if str(table.sensor_ids[i]) not in known:
            out.append(("detection", rid, t_us, f"sensor_id: {str(table.sensor_ids[i])!r} unknown sensor"))
            continue
        scores = {k: float(v[i]) for k, v in (("launch", table.launch_score), ("impact", table.impact_score))
                  if not math.isnan(float(v[i]))}  # fmt: skip
        data = {
            "id": rid,
            "sensor_id": str(table.sensor_ids[i]),
            "arrival_time": from_us(t_us).isoformat() if MIN_US <= t_us <= MAX_US else str(t_us),
            "time_sigma_s": float(table.time_sigma_s[i]),
            "bearing_deg": _finite_or_nan(float(table.bearing_deg[i])),
            "bearing_sigma_deg": _finite_or_nan(float(table.bearing_sigma_deg[i])),
            "amplitude_pa": _finite_or_nan(float(table.amplitude_pa[i])),
            "class_scores": scores,
        }
        try:
            parse_record(Detection, data)
        except RecordError as exc:
            out.append(("detection", rid, t_us, f"{exc.field or '(record)'}: {exc.value!r} {exc.reason}"))
        except Exception as exc:  # a validator that fails otherwise still blames this record
            out.append(("detection", rid, t_us, _short(exc)))
    return out


def guard(
    store: Store, scope: str, w0: int | None, run: Callable[[], T], culprits: Callable[[], list[Culprit]]
) -> T | None:
    """Run a window (``run``); on failure hold the ``culprits()`` and run it again without them; when
    none is to blame or it fails again, hold the window (``scope``) with the exception text. Returns
    what ``run`` returned, or None for a window held. A failure of the store or the machine
    (:data:`NOT_THE_WINDOWS`: a locked database, a full disk) is no window's fault and is raised."""
    try:
        return run()
    except NOT_THE_WINDOWS:
        raise
    except Exception as exc:  # one window never stops the run
        first = exc
    try:
        found = culprits()
    except Exception as exc:
        log.warning("%s: finding the culprits failed: %s", scope, _short(exc))
        found = []
    for kind, rid, t_us, reason in found:
        hold(store, kind, rid, t_us, f"{scope} failed ({_short(first)}); this record: {reason}")
    if found:
        try:
            return run()
        except NOT_THE_WINDOWS:
            raise
        except Exception as exc:
            first = exc
    hold(store, "scope", scope, w0, f"processing failed: {_short(first)}")
    return None
