"""Analyst decisions on findings, into the transparency log.

A bulletin's files are logged when it is published (:mod:`truceline.ledger.publish`); what an analyst
decides about a finding afterwards (confirm, dismiss, mark inconclusive: its verification status) changes
what that bulletin said, so each such decision is a log entry too, and a party holding a bulletin can see
every later change of its findings in the log, in order, under the same signed checkpoints::

    {"type": "finding-decision", "finding": "pub-...", "action": "dismiss",
     "status_before": "corroborated", "status_after": "refuted", "audit_seq": 17,
     "time": "2026-09-03T08:12:00Z"}

``finding`` is the finding's public id (:class:`~truceline.service.redaction.PublicIds`, the id of the
public bulletin and the public API), so an entry tells a party nothing the public API does not show. The
analyst's name and reason stay in the mission's audit trail, which ``audit_seq`` points into (the mission
can show an auditor that entry). Every decision on a finding is logged, published or not yet: whether a
finding was already in a bulletin is not the log's business, and the rule is simpler to check.

The store's audit trail is the source: :func:`log_decisions` appends, under the log's lock, every audited
status decision on a violation whose audit sequence number is above the highest one the log holds, in
order. It is idempotent and catches up: a decision made while the log had no key, or whose logging a
crash cut off, is logged by the next call (the next review action, the next bulletin, or ``truceline
ledger decisions``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from truceline.ledger import Log, active_signer
from truceline.ledger.note import NoteError, b64encode, unverified_checkpoint
from truceline.service.keys import data_dir_of, server_store_home
from truceline.service.redaction import PublicIds, public_ids
from truceline.store.base import AuditEntry, Store

__all__ = [
    "DECISION_ACTIONS",
    "ENTRY_TYPE",
    "LogPosition",
    "decision_entry",
    "log_decisions",
    "log_home",
    "log_position",
    "logged_up_to",
]

log = logging.getLogger(__name__)

#: The audited actions that change a finding's verification status (:mod:`truceline.service.review`).
DECISION_ACTIONS = ("confirm", "dismiss", "mark_inconclusive")
#: The entry's ``type``.
ENTRY_TYPE = "finding-decision"
_MARK = b'"type":"' + ENTRY_TYPE.encode() + b'"'


def log_home(store: Store) -> Path | None:
    """Where a store's log is kept (its data directory, or a server store's key home); None in memory."""
    return data_dir_of(store) or server_store_home(store)


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def decision_entry(a: AuditEntry, ids: PublicIds) -> dict[str, Any]:
    """The log entry of an audited decision on a finding: its public id, the statuses, the audit number."""
    return {
        "type": ENTRY_TYPE,
        "finding": ids(a.target_id),
        "action": a.action,
        "status_before": (a.before or {}).get("status"),
        "status_after": (a.after or {}).get("status"),
        "audit_seq": a.seq,
        "time": _iso(a.at),
    }


def logged_up_to(lg: Log) -> int:
    """The highest audit sequence number of a decision in the log (0 when none)."""
    last = 0
    for raw in lg.entries():
        if _MARK in raw:
            last = max(last, int(json.loads(raw).get("audit_seq", 0)))
    return last


def _pending(store: Store, after: int) -> list[AuditEntry]:
    return [a for a in store.audit() if a.seq > after and a.target_kind == "violation" and a.action in DECISION_ACTIONS]


def log_decisions(store: Store) -> int:
    """Log every decision on a finding the store's log does not hold yet; return how many were logged.

    Nothing is logged (0) for a store in memory, a data directory without a log, or a log without a signing
    key yet (``truceline ledger keygen``); those decisions are logged by the first call after the key.

    Raises
    ------
    NotFound
        When the log's signing key is not kept beside it.
    """
    home = log_home(store)
    if home is None or not Log.exists(home):
        return 0
    lg = Log.open(home)
    with lg.writing():
        signer = active_signer(home, lg)
        if signer is None:
            return 0
        pending = _pending(store, logged_up_to(lg))
        if not pending:
            return 0
        ids = public_ids(store)
        lg.commit([decision_entry(a, ids) for a in sorted(pending, key=lambda a: a.seq)], [signer])
    return len(pending)


def log_decisions_quietly(store: Store) -> int:
    """:func:`log_decisions` for a caller whose own work is done (a review action): a failure to log is
    reported in the server's log and left for the next call to catch up, never raised."""
    try:
        return log_decisions(store)
    except Exception as exc:  # the decision is stored and audited; the log catches up later
        log.warning("the decision is audited but not yet in the transparency log (%s); the next one logs it", exc)
        return 0


@dataclass(frozen=True)
class LogPosition:
    """Where a store's log stands: its latest signed checkpoint (what a bulletin built now extends)."""

    origin: str
    size: int
    root_b64: str

    def describe(self) -> str:
        """One line for a bulletin's metadata."""
        return (
            f"{self.origin}: the files of this bulletin are appended after checkpoint {self.size:,} "
            f"(root {self.root_b64}); ledger-proof.json in its folder proves them (truceline verify)"
        )


def log_position(store: Store) -> LogPosition | None:
    """The latest checkpoint of the store's log; None with no log or no checkpoint yet (read as written by
    the log itself: its signatures are checked by the parties, not here)."""
    home = log_home(store)
    if home is None or not Log.exists(home):
        return None
    note = Log.open(home).latest_checkpoint()
    if note is None:
        return None
    try:
        cp = unverified_checkpoint(note)
    except NoteError:
        return None
    return LogPosition(cp.origin, cp.size, b64encode(cp.root))
