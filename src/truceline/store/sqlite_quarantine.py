"""The SQLite store's quarantine: records (or processing scopes) held out of processing, and decisions.

:class:`QuarantineTables` holds these methods of :class:`~truceline.store.sqlite.SQLiteStore`, over
the connection and transaction the store opens. The table (migration 4) keeps one row per
``(kind, target_id)``; its state moves between ``quarantined``, ``released`` and ``rejected`` and the
row is never deleted (the audit trail, written by the caller, keeps every step).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import AbstractContextManager
from typing import Any

from truceline.store.base import QUARANTINE_STATES, QuarantineEntry
from truceline.store.sqlite_schema import now

__all__ = ["HELD", "QuarantineTables"]

#: The ids of the held records of a kind (bind the kind), for ``id NOT IN (...)`` in reads.
HELD = "SELECT target_id FROM quarantine WHERE kind = {kind} AND state != 'released'"

_COLUMNS = "qid, kind, target_id, time_us, at, reason, state, decided_by, decision, decided_at"


def _entry(row: tuple[Any, ...]) -> QuarantineEntry:
    qid, kind, target, t_us, at, reason, state, by, decision, decided_at = row
    return QuarantineEntry(
        int(qid),
        kind,
        target,
        None if t_us is None else int(t_us),
        dt.datetime.fromisoformat(at),
        reason,
        state,
        by,
        decision,
        None if decided_at is None else dt.datetime.fromisoformat(decided_at),
    )


class QuarantineTables:
    """Quarantine entries and decisions (the quarantine methods of the :class:`~truceline.store.base.Store`)."""

    _db: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[None]:  # pragma: no cover - the store's own
        raise NotImplementedError

    def _next_seq(self, n: int) -> int:  # pragma: no cover - the store's own
        raise NotImplementedError

    def quarantine(self, kind: str, target_id: str, time_us: int | None, reason: str) -> QuarantineEntry:
        """Hold a record or a scope (see the protocol); a held one is returned unchanged."""
        with self.transaction():
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM quarantine WHERE kind=? AND target_id=?", (kind, target_id)
            ).fetchone()
            if row is None:
                self._db.execute(
                    "INSERT INTO quarantine (kind, target_id, time_us, at, reason, state) VALUES (?,?,?,?,?,?)",
                    (kind, target_id, time_us, now(), reason, "quarantined"),
                )
            elif row[6] == "released":
                self._db.execute(
                    "UPDATE quarantine SET state='quarantined', at=?, reason=? WHERE qid=?", (now(), reason, row[0])
                )
            else:
                return _entry(row)
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM quarantine WHERE kind=? AND target_id=?", (kind, target_id)
            ).fetchone()
        return _entry(row)

    def quarantine_entries(self, state: str | None = None, kind: str | None = None) -> list[QuarantineEntry]:
        q, args = f"SELECT {_COLUMNS} FROM quarantine WHERE 1=1", list[Any]()
        if state is not None:
            q, args = q + " AND state=?", [*args, state]
        if kind is not None:
            q, args = q + " AND kind=?", [*args, kind]
        return [_entry(r) for r in self._db.execute(q + " ORDER BY qid", args).fetchall()]

    def quarantine_entry(self, qid: int) -> QuarantineEntry | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM quarantine WHERE qid=?", (int(qid),)).fetchone()
        return None if row is None else _entry(row)

    def decide_quarantine(self, qid: int, state: str, actor: str, reason: str) -> QuarantineEntry:
        """Release or reject an entry (see the protocol).

        Raises
        ------
        KeyError
            For an unknown entry.
        ValueError
            For a state other than ``released`` or ``rejected``.
        """
        if state not in QUARANTINE_STATES[1:]:
            raise ValueError(f"state {state!r}: a decision is 'released' or 'rejected'")
        with self.transaction():
            if self.quarantine_entry(qid) is None:
                raise KeyError(f"no quarantine entry {qid}")
            seq = self._next_seq(1) if state == "released" else 0
            self._db.execute(
                "UPDATE quarantine SET state=?, decided_by=?, decision=?, decided_at=?, seq=? WHERE qid=?",
                (state, actor, reason, now(), seq, int(qid)),
            )
            entry = self.quarantine_entry(qid)
        assert entry is not None
        return entry
