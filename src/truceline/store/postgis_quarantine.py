"""The PostGIS store's quarantine: records (or processing scopes) held out of processing, and decisions.

The same semantics as the SQLite store's (:mod:`truceline.store.sqlite_quarantine`): one row per
``(kind, target_id)`` whose state moves between ``quarantined``, ``released`` and ``rejected``; the
database refuses to delete a row. :class:`PostGISQuarantine` holds these methods of
:class:`~truceline.store.postgis.PostGISStore`.
"""

from __future__ import annotations

from typing import Any

from truceline.store.base import QUARANTINE_STATES, QuarantineEntry
from truceline.store.postgis_schema import Plumbing

__all__ = ["HELD_DETECTIONS", "HELD_OBSERVATIONS", "PostGISQuarantine"]

#: Filters leaving out held (quarantined or rejected) detections, and observations of the row's kind.
HELD_DETECTIONS = " AND id NOT IN (SELECT target_id FROM quarantine WHERE kind = 'detection' AND state != 'released')"
HELD_OBSERVATIONS = " AND (kind, id) NOT IN (SELECT kind, target_id FROM quarantine WHERE state != 'released')"

_COLUMNS = "qid, kind, target_id, time_us, at, reason, state, decided_by, decision, decided_at"


def _entry(row: tuple[Any, ...]) -> QuarantineEntry:
    qid, kind, target, t_us, at, reason, state, by, decision, decided_at = row
    return QuarantineEntry(
        int(qid), kind, target, None if t_us is None else int(t_us), at, reason, state, by, decision, decided_at
    )


class PostGISQuarantine(Plumbing):
    """Quarantine entries and decisions (the quarantine methods of the :class:`~truceline.store.base.Store`)."""

    def quarantine(self, kind: str, target_id: str, time_us: int | None, reason: str) -> QuarantineEntry:
        """Hold a record or a scope (see the protocol); a held one is returned unchanged."""
        with self.transaction():
            row = self._one(f"SELECT {_COLUMNS} FROM quarantine WHERE kind = %s AND target_id = %s", (kind, target_id))
            if row is None:
                row = self._one(
                    "INSERT INTO quarantine (kind, target_id, time_us, at, reason, state) "
                    f"VALUES (%s, %s, %s, clock_timestamp(), %s, 'quarantined') RETURNING {_COLUMNS}",
                    (kind, target_id, time_us, reason),
                )
            elif row[6] == "released":
                row = self._one(
                    "UPDATE quarantine SET state = 'quarantined', at = clock_timestamp(), reason = %s "
                    f"WHERE qid = %s RETURNING {_COLUMNS}",
                    (reason, row[0]),
                )
        assert row is not None
        return _entry(row)

    def quarantine_entries(self, state: str | None = None, kind: str | None = None) -> list[QuarantineEntry]:
        q, args = f"SELECT {_COLUMNS} FROM quarantine WHERE true", list[Any]()
        if state is not None:
            q, args = q + " AND state = %s", [*args, state]
        if kind is not None:
            q, args = q + " AND kind = %s", [*args, kind]
        return [_entry(r) for r in self._all(q + " ORDER BY qid", args)]

    def quarantine_entry(self, qid: int) -> QuarantineEntry | None:
        row = self._one(f"SELECT {_COLUMNS} FROM quarantine WHERE qid = %s", (int(qid),))
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
            row = self._one(
                "UPDATE quarantine SET state = %s, decided_by = %s, decision = %s, decided_at = clock_timestamp(), "
                f"seq = %s WHERE qid = %s RETURNING {_COLUMNS}",
                (state, actor, reason, seq, int(qid)),
            )
        assert row is not None
        return _entry(row)
