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

from truceline.core import Detection, Record
from truceline.core.codec import parse_record
from truceline.core.errors import Conflict, InvalidInput, NotFound, RecordError
from truceline.io.detections import DetectionTable
from truceline.store.base import MAX_US, MIN_US, QuarantineEntry, Store, StoredRecordError, from_us

__all__ = [
    "SYSTEM",
    "Culprit",
    "detection_problems",
    "entries",
    "guard",
    "hold",
    "hold_out_of_range",
    "read",
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


def entries(store: Store, state: str | None = None) -> list[QuarantineEntry]:
    """The quarantine, oldest first (of one state when given)."""
    if state is not None and state not in ("quarantined", "released", "rejected"):
        raise InvalidInput(f"state: {state!r} is not one of quarantined, released, rejected")
    return store.quarantine_entries(state=state)


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


def read(store: Store, kind: str, since: dt.datetime | None = None, until: dt.datetime | None = None) -> list[Record]:
    """``store.records(kind, since, until)``, holding each stored record that no longer decodes
    (named by :class:`~truceline.store.base.StoredRecordError`) and reading again without it."""
    held: set[str] = set()
    while True:
        try:
            return store.records(kind, since, until, strict=True)
        except StoredRecordError as exc:
            if exc.record_id in held:  # the backend did not leave it out: give up on strictness
                return store.records(kind, since, until)
            held.add(exc.record_id)
            hold(store, exc.kind, exc.record_id, None, f"stored record cannot be read: {exc.reason}")


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
