"""The PostGIS store's derived records: runs, scopes and the rows they derive, with their current status.

The same semantics as the SQLite store's (:mod:`truceline.store.sqlite_derived`): re-deriving a scope
supersedes its rows (nothing is deleted: the database refuses it), an analyst's merge or split adds rows
beside them and supersedes the ones it replaces. Rows are written with ``COPY``, each with its position
as ``geom`` when its record has one. :class:`PostGISDerived` holds these methods of
:class:`~truceline.store.postgis.PostGISStore`, over the connection and transactions of
:class:`~truceline.store.postgis_schema.Plumbing`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from truceline.core import Record, record_type, to_json_dict
from truceline.store.base import DERIVED_KINDS, Derived, ScopeState, StoredRecordError, to_us
from truceline.store.postgis_schema import Plumbing, point_ewkt
from truceline.store.sqlite_derived import decoded_rows
from truceline.store.sqlite_schema import dumps

__all__ = ["PostGISDerived", "between"]

_SCOPES = (
    "SELECT s.scope, s.seen_seq, s.run_id, s.processed_at, r.window_s FROM scopes s LEFT JOIN runs r USING (run_id)"
)
_DERIVED = "SELECT kind, body::text, scope, run_id, status, superseded_by, id, time_us FROM derived"
_COPY_DERIVED = "COPY derived (kind, id, time_us, scope, run_id, status, body, geom) FROM STDIN"


def between(q: str, args: list[Any], since: dt.datetime | None, until: dt.datetime | None) -> tuple[str, list[Any]]:
    """Add ``since <= time_us < until`` (either bound optional) to a query."""
    if since is not None:
        q, args = q + " AND time_us >= %s", [*args, to_us(since)]
    if until is not None:
        q, args = q + " AND time_us < %s", [*args, to_us(until)]
    return q, args


def _scope_state(row: tuple[Any, ...]) -> ScopeState:
    scope, seen, run_id, at, window_s = row
    return ScopeState(scope, int(seen), int(run_id), at, None if window_s is None else int(window_s))


def _rows(scope: str, run_id: int, rows: Sequence[tuple[str, Record, int]]) -> list[tuple[Any, ...]]:
    return [
        (kind, r.id, int(t_us), scope, run_id, getattr(r, "status", None), dumps(to_json_dict(r)), point_ewkt(r))
        for kind, r, t_us in rows
    ]


class PostGISDerived(Plumbing):
    """Runs, scopes and derived rows (the derived-record methods of the :class:`~truceline.store.base.Store`)."""

    def new_run(self, what: str, parameters: dict[str, Any], window_s: int | None = None) -> int:
        with self.transaction():
            row = self._one(
                "INSERT INTO runs (what, started_at, parameters, window_s) VALUES (%s, now(), %s, %s) RETURNING run_id",
                (what, dumps(parameters), window_s),
            )
        assert row is not None
        return int(row[0])

    def replace_scope(self, scope: str, run_id: int, rows: Sequence[tuple[str, Record, int]], seen_seq: int) -> None:
        with self.transaction():
            self._run(
                "UPDATE derived SET superseded_by = %s WHERE scope = %s AND superseded_by IS NULL", (run_id, scope)
            )
            self._copy_rows(_COPY_DERIVED, _rows(scope, run_id, rows))
            self._run(
                "INSERT INTO scopes VALUES (%s, %s, %s, now()) ON CONFLICT (scope) DO UPDATE "
                "SET seen_seq = EXCLUDED.seen_seq, run_id = EXCLUDED.run_id, processed_at = EXCLUDED.processed_at",
                (scope, int(seen_seq), run_id),
            )

    def scope_state(self, scope: str) -> ScopeState | None:
        row = self._one(_SCOPES + " WHERE s.scope = %s", (scope,))
        return None if row is None else _scope_state(row)

    def scope_states(self) -> dict[str, ScopeState]:
        return {r[0]: _scope_state(r) for r in self._all(_SCOPES)}

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
        q, args = _DERIVED + " WHERE kind = %s", [kind]
        if not include_superseded:
            q += " AND superseded_by IS NULL"
        q, args = between(q, args, since, until)
        return decoded_rows(self._all(q + " ORDER BY time_us, id, run_id", args), strict, on_skip)

    def put_derived(self, scope: str, run_id: int, rows: Sequence[tuple[str, Record, int]]) -> None:
        """Insert derived rows under ``scope`` without superseding anything (see the protocol).

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
                row = self._one(
                    "SELECT scope, run_id FROM derived WHERE kind = %s AND id = %s AND superseded_by IS NULL",
                    (kind, r.id),
                )
                if row is not None:
                    raise ValueError(f"{kind} {r.id!r} already has a current row (scope {row[0]!r}, run {row[1]})")
            self._copy_rows(_COPY_DERIVED, _rows(scope, run_id, rows))

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
                cur = self._run(
                    "UPDATE derived SET superseded_by = %s WHERE kind = %s AND id = %s AND superseded_by IS NULL",
                    (run_id, kind, rid),
                )
                if cur.rowcount == 0:
                    raise KeyError(f"no current {kind} {rid!r}")
                n += cur.rowcount
        return n

    def get_derived(self, kind: str, record_id: str, *, strict: bool = False) -> Derived | None:
        """The current row of ``kind`` with this id, else its newest superseded one (see the protocol):
        None when there is none, or when it no longer decodes (logged; ``strict``: raised)."""
        row = self._one(
            _DERIVED + " WHERE kind = %s AND id = %s ORDER BY superseded_by IS NOT NULL, run_id DESC LIMIT 1",
            (kind, record_id),
        )
        if row is None:
            return None
        got = decoded_rows([row], strict, None)
        return got[0] if got else None

    def set_status(self, kind: str, record_id: str, status: str) -> None:
        with self.transaction():
            cur = self._run(
                "UPDATE derived SET status = %s WHERE kind = %s AND id = %s AND superseded_by IS NULL",
                (status, kind, record_id),
            )
            if cur.rowcount == 0:
                raise KeyError(f"no current {kind} {record_id!r}")
