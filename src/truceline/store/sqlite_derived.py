"""The SQLite store's derived records: runs, scopes and the rows they derive, with their current status.

Re-deriving a scope supersedes its rows (nothing is deleted); an analyst's merge or split adds rows
beside them and supersedes the ones it replaces. :class:`DerivedTables` holds these methods of
:class:`~truceline.store.sqlite.SQLiteStore`, over the connection and transaction the store opens.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from truceline.core import Record, record_type, to_json_dict
from truceline.store.base import DERIVED_KINDS, Derived, ScopeState, StoredRecordError
from truceline.store.sqlite_schema import between, decode, dumps, now

__all__ = ["DerivedTables", "decoded_rows"]

log = logging.getLogger(__name__)

_SCOPE_COLUMNS = "s.scope, s.seen_seq, s.run_id, s.processed_at, r.window_s"
_SCOPES = f"SELECT {_SCOPE_COLUMNS} FROM scopes s LEFT JOIN runs r ON r.run_id = s.run_id"
_DERIVED = "SELECT kind, body, scope, run_id, status, superseded_by, id, time_us FROM derived"


def _scope_state(row: tuple[Any, ...]) -> ScopeState:
    scope, seen, run_id, at, window_s = row
    window = None if window_s is None else int(window_s)
    return ScopeState(scope, int(seen), int(run_id), dt.datetime.fromisoformat(at), window)


def _derived(row: tuple[Any, ...]) -> Derived:
    """A stored row as :class:`Derived`, or :class:`StoredRecordError` naming it (kind, id, time)."""
    kind, body, scope, run_id, status, sup, rid, t_us = row
    where = f"scope {scope!r}, run {run_id}"
    try:
        rec = decode(record_type(kind), kind, rid, body, int(t_us))
    except StoredRecordError as exc:
        raise StoredRecordError(kind, rid, f"{exc.reason} ({where})", int(t_us)) from None
    return Derived(kind, rec, scope, int(run_id), status, None if sup is None else int(sup))


def decoded_rows(
    rows: Sequence[tuple[Any, ...]], strict: bool, on_skip: Callable[[StoredRecordError], None] | None
) -> list[Derived]:
    """The rows that decode; each that does not is raised (``strict``) or logged, passed to ``on_skip``
    and skipped."""
    out = []
    for row in rows:
        try:
            out.append(_derived(row))
        except StoredRecordError as exc:
            if strict:
                raise
            log.warning("%s: skipped (processing and reporting hold it in quarantine)", exc)
            if on_skip is not None:
                on_skip(exc)
    return out


def _rows(scope: str, run_id: int, rows: Sequence[tuple[str, Record, int]]) -> list[tuple[Any, ...]]:
    return [
        (kind, r.id, int(t_us), scope, run_id, getattr(r, "status", None), dumps(to_json_dict(r)))
        for kind, r, t_us in rows
    ]


class DerivedTables:
    """Runs, scopes and derived rows (the derived-record methods of the :class:`~truceline.store.base.Store`)."""

    _db: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[None]:  # pragma: no cover - the store's own
        raise NotImplementedError

    def new_run(self, what: str, parameters: dict[str, Any], window_s: int | None = None) -> int:
        with self.transaction():
            cur = self._db.execute(
                "INSERT INTO runs (what, started_at, parameters, window_s) VALUES (?,?,?,?)",
                (what, now(), dumps(parameters), window_s),
            )
        return int(cur.lastrowid or 0)

    def replace_scope(self, scope: str, run_id: int, rows: Sequence[tuple[str, Record, int]], seen_seq: int) -> None:
        with self.transaction():
            self._db.execute(
                "UPDATE derived SET superseded_by=? WHERE scope=? AND superseded_by IS NULL", (run_id, scope)
            )
            self._db.executemany("INSERT INTO derived VALUES (?,?,?,?,?,?,NULL,?)", _rows(scope, run_id, rows))
            self._db.execute("INSERT OR REPLACE INTO scopes VALUES (?,?,?,?)", (scope, int(seen_seq), run_id, now()))

    def scope_state(self, scope: str) -> ScopeState | None:
        row = self._db.execute(_SCOPES + " WHERE s.scope=?", (scope,)).fetchone()
        return None if row is None else _scope_state(row)

    def scope_states(self) -> dict[str, ScopeState]:
        return {r[0]: _scope_state(r) for r in self._db.execute(_SCOPES).fetchall()}

    def derived(
        self,
        kind: str,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        include_superseded: bool = False,
        *,
        strict: bool = False,
        on_skip: Callable[[StoredRecordError], None] | None = None,
    ) -> list[Derived]:
        """Derived rows of a kind by time (see the protocol): a row that no longer decodes is skipped
        with a warning and passed to ``on_skip``, or with ``strict`` raises
        :class:`~truceline.store.base.StoredRecordError` naming it."""
        q = _DERIVED + " WHERE kind=?"
        args: list[Any] = [kind]
        if not include_superseded:
            q += " AND superseded_by IS NULL"
        q, args = between(q, args, since, until)
        return decoded_rows(self._db.execute(q + " ORDER BY time_us, id, run_id", args).fetchall(), strict, on_skip)

    def put_derived(self, scope: str, run_id: int, rows: Sequence[tuple[str, Record, int]]) -> None:
        """Insert derived rows under ``scope`` without superseding anything (see the protocol).

        Parameters
        ----------
        scope : str
            Scope the rows are filed under (e.g. ``"review:<incident id>"``).
        run_id : int
            The run (from :meth:`new_run`) that made them.
        rows : sequence of (kind, record, time_us)
            ``kind`` one of :data:`~truceline.store.base.DERIVED_KINDS`, the record of that type, and the
            time it is filed under (µs since 1970 UTC).

        Raises
        ------
        ValueError
            For an unknown kind, or a ``(kind, id)`` that already has a current row (nothing is written).
        TypeError
            For a record that is not of its kind's type.
        """
        with self.transaction():
            for kind, r, _ in rows:
                if kind not in DERIVED_KINDS:
                    raise ValueError(f"kind {kind!r} is not a derived kind ({', '.join(DERIVED_KINDS)})")
                if not isinstance(r, record_type(kind)):
                    raise TypeError(f"record {r.id!r} is a {type(r).__name__}, not a {kind}")
                row = self._db.execute(
                    "SELECT scope, run_id FROM derived WHERE kind=? AND id=? AND superseded_by IS NULL", (kind, r.id)
                ).fetchone()
                if row is not None:
                    raise ValueError(f"{kind} {r.id!r} already has a current row (scope {row[0]!r}, run {row[1]})")
            self._db.executemany("INSERT INTO derived VALUES (?,?,?,?,?,?,NULL,?)", _rows(scope, run_id, rows))

    def supersede(self, kind: str, ids: Sequence[str], run_id: int) -> int:
        """Mark current rows superseded by ``run_id`` (see the protocol); returns the number of rows marked.

        Raises
        ------
        KeyError
            Naming the first id with no current row of ``kind`` (nothing is marked).
        """
        n = 0
        with self.transaction():
            for rid in dict.fromkeys(ids):
                cur = self._db.execute(
                    "UPDATE derived SET superseded_by=? WHERE kind=? AND id=? AND superseded_by IS NULL",
                    (run_id, kind, rid),
                )
                if cur.rowcount == 0:
                    raise KeyError(f"no current {kind} {rid!r}")
                n += cur.rowcount
        return n

    def get_derived(self, kind: str, record_id: str, *, strict: bool = False) -> Derived | None:
        """The current row of ``kind`` with this id, else its newest superseded one (see the protocol):
        None when there is none, or when it no longer decodes (logged; ``strict``: raised)."""
        row = self._db.execute(
            _DERIVED + " WHERE kind=? AND id=? ORDER BY superseded_by IS NOT NULL, run_id DESC LIMIT 1",
            (kind, record_id),
        ).fetchone()
        if row is None:
            return None
        got = decoded_rows([row], strict, None)
        return got[0] if got else None

    def set_status(self, kind: str, record_id: str, status: str) -> None:
        with self.transaction():
            cur = self._db.execute(
                "UPDATE derived SET status=? WHERE kind=? AND id=? AND superseded_by IS NULL", (status, kind, record_id)
            )
            if cur.rowcount == 0:
                raise KeyError(f"no current {kind} {record_id!r}")
