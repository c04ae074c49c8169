"""The production store: PostgreSQL with PostGIS, behind the same :class:`~truceline.store.base.Store`
protocol as the embedded SQLite store, opened by a URL such as ``postgresql://user:pw@host:5432/db``.

The schema and its migrations are in :mod:`truceline.store.postgis_schema` (with the connection and
its transactions); the derived records in :mod:`truceline.store.postgis_derived`; the quarantine in
:mod:`truceline.store.postgis_quarantine`; detections in bulk (``COPY``) in
:mod:`truceline.store.postgis_detections`. This module holds the store itself: the raw observations and
detections, the audit trail and the API tokens. Every method means what the SQLite store's does (ids,
repeats and conflicts, sequence numbers, scopes and supersession, the quarantine, the windows that hold
data); the database itself refuses to rewrite evidence (see :mod:`truceline.store.postgis_schema`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from truceline.core import Record, record_type, to_json_dict
from truceline.io.detections import DetectionTable
from truceline.store.base import (
    MAX_US,
    MIN_US,
    AddResult,
    ApiToken,
    AuditEntry,
    StoredRecordError,
    filed_time,
    to_us,
)
from truceline.store.postgis_derived import PostGISDerived, between
from truceline.store.postgis_detections import compare_incoming, copy_incoming, insert_incoming, read_detections
from truceline.store.postgis_quarantine import HELD_DETECTIONS, HELD_OBSERVATIONS, PostGISQuarantine
from truceline.store.postgis_rows import PostGISRows
from truceline.store.postgis_schema import MIGRATIONS, connect, migrate, point_ewkt, redact, schema_version
from truceline.store.sqlite_schema import decode, dumps

__all__ = ["MIGRATIONS", "PostGISStore"]

log = logging.getLogger(__name__)

_CONFLICT = "id already stored with different content"
_COPY_OBSERVATIONS = "COPY observations (kind, id, time_us, seq, ingested_at, source, body, geom) FROM STDIN"
_AUDIT = "SELECT seq, at, actor, action, target_kind, target_id, reason, before::text, after::text FROM audit"
_TOKENS = "SELECT token_id, name, role, party, token_hash, created_at, revoked_at FROM api_tokens"


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class PostGISStore(PostGISDerived, PostGISQuarantine, PostGISRows):
    """The PostgreSQL/PostGIS :class:`~truceline.store.base.Store`.

    Parameters
    ----------
    url : str
        ``postgresql://USER:PASSWORD@HOST:PORT/DATABASE`` (``postgres://`` too; any libpq parameter in
        the query, e.g. ``?options=-csearch_path%3Dtruceline,public`` for a schema other than ``public``).
        The schema is created or brought up to date when opened.

    Attributes
    ----------
    path : str
        The URL with its password shown as ``***`` (what messages name).

    Raises
    ------
    InvalidInput
        For a URL the server refuses (down, wrong password, unknown database), named without its password.
    RuntimeError
        For a schema newer than this truceline, or a database without PostGIS the role may not enable.
    """

    def __init__(self, url: str) -> None:
        self.path = redact(url)
        self._db = connect(url, self.path)
        self._lock = threading.RLock()
        self._depth = 0
        try:
            with self._failures():
                migrate(self._db, self.path)
        except BaseException:
            self._db.close()
            raise

    @property
    def schema_version(self) -> int:
        with self._lock, self._failures():
            return schema_version(self._db)

    def close(self) -> None:
        self._db.close()

    # -- raw observations ----------------------------------------------------------------
    def add_records(self, kind: str, records: Sequence[Record], source: str = "") -> AddResult:
        cls = record_type(kind)
        res = AddResult()
        for r in records:
            if not isinstance(r, cls):
                raise TypeError(f"record {r.id!r} is a {type(r).__name__}, not a {kind}")
        if not records:
            return res
        with self.transaction():
            ids = list(dict.fromkeys(r.id for r in records))
            q = "SELECT id, body::text FROM observations WHERE kind = %s AND id = ANY(%s)"
            stored = dict(self._all(q, (kind, ids)))
            fresh: list[tuple[Record, str]] = []
            for r in records:
                body = dumps(to_json_dict(r))
                known = stored.get(r.id)
                if known is None:
                    stored[r.id] = body
                    fresh.append((r, body))
                elif known == body:
                    res.repeats += 1
                else:
                    res.conflicts.append((r.id, _CONFLICT))
            if fresh:
                times = [to_us(filed_time(r)) for r, _ in fresh]
                first = self._next_seq(len(fresh))
                at = dt.datetime.now(dt.UTC)
                rows = [
                    (kind, r.id, t_us, first + i, at, source, body, point_ewkt(r))
                    for i, ((r, body), t_us) in enumerate(zip(fresh, times, strict=True))
                ]
                self._copy_rows(_COPY_OBSERVATIONS, rows)
            res.inserted = len(fresh)
        return res

    def add_detections(self, table: DetectionTable, source: str = "") -> AddResult:
        res = AddResult()
        if len(table) == 0:
            return res
        with self.transaction(), self._failures(), self._lock, self._db.cursor() as cur:
            copy_incoming(cur, table)
            dup = compare_incoming(cur)
            ids = table.ids
            for k, identical in sorted(dup):
                if identical:
                    res.repeats += 1
                else:
                    res.conflicts.append((str(ids[k]), _CONFLICT))
            if len(table) > len(dup):
                # One sequence number per batch: a batch is the unit an incremental run catches up on.
                res.inserted = insert_incoming(cur, self._next_seq(1), source)
        return res

    def records(
        self, kind: str, since: dt.datetime | None = None, until: dt.datetime | None = None, *, strict: bool = False
    ) -> list[Record]:
        cls = record_type(kind)
        q, args = between(
            "SELECT id, body::text, time_us FROM observations WHERE kind = %s" + HELD_OBSERVATIONS, [kind], since, until
        )
        out = []
        for rid, body, t_us in self._all(q + " ORDER BY time_us, id", args):
            try:
                out.append(decode(cls, kind, rid, body, int(t_us)))
            except StoredRecordError as exc:
                if strict:
                    raise
                log.warning("%s: skipped (processing and reporting hold it in quarantine)", exc)
        return out

    def count(self, kind: str) -> int:
        if kind == "detection":
            row = self._one("SELECT COUNT(*) FROM detections")
        else:
            row = self._one("SELECT COUNT(*) FROM observations WHERE kind = %s", (kind,))
        return 0 if row is None else int(row[0])

    def detections(self, t0_us: int, t1_us: int) -> DetectionTable:
        with self._lock, self._failures():
            return read_detections(self._db, "t_us >= %s AND t_us < %s" + HELD_DETECTIONS, (int(t0_us), int(t1_us)))

    def last_seq(self) -> int:
        row = self._one("SELECT value FROM seqs WHERE name = 'obs'")
        return 0 if row is None else int(row[0])

    def max_seq_between(self, t0_us: int, t1_us: int, kind: str | None = None) -> int:
        # A release from quarantine is new data at the record's time (its own sequence number).
        args: dict[str, Any] = {"t0": int(t0_us), "t1": int(t1_us), "kind": kind}
        released = "SELECT MAX(seq) FROM quarantine WHERE state = 'released' AND time_us >= %(t0)s AND time_us < %(t1)s"
        if kind == "detection":
            q = "SELECT MAX(seq) s FROM detections WHERE t_us >= %(t0)s AND t_us < %(t1)s"
            released += " AND kind = 'detection'"
        elif kind is not None:
            q = "SELECT MAX(seq) s FROM observations WHERE time_us >= %(t0)s AND time_us < %(t1)s AND kind = %(kind)s"
            released += " AND kind = %(kind)s"
        else:
            q = ("SELECT MAX(seq) s FROM detections WHERE t_us >= %(t0)s AND t_us < %(t1)s UNION ALL "
                 "SELECT MAX(seq) FROM observations WHERE time_us >= %(t0)s AND time_us < %(t1)s AND kind != 'claim'")
            released += " AND kind != 'claim'"
        row = self._one(f"SELECT MAX(s) FROM ({q} UNION ALL {released}) u", args)
        return 0 if row is None or row[0] is None else int(row[0])

    def max_seq(self, kind: str) -> int:
        if kind == "detection":
            row = self._one("SELECT MAX(seq) FROM detections")
        else:
            row = self._one("SELECT MAX(seq) FROM observations WHERE kind = %s", (kind,))
        return 0 if row is None or row[0] is None else int(row[0])

    def time_span_us(self) -> tuple[int, int] | None:
        # MIN and MAX apart: each an index probe
        det = f"FROM detections WHERE t_us BETWEEN %(lo)s AND %(hi)s{HELD_DETECTIONS}"
        row = self._one(
            f"SELECT MIN(a), MAX(b) FROM (SELECT (SELECT MIN(t_us) {det}) a, (SELECT MAX(t_us) {det}) b UNION ALL "
            "SELECT MIN(time_us), MAX(time_us) FROM observations "
            f"WHERE kind NOT IN ('sensor', 'claim') AND time_us BETWEEN %(lo)s AND %(hi)s{HELD_OBSERVATIONS}) u",
            {"lo": MIN_US, "hi": MAX_US},
        )
        return None if row is None or row[0] is None else (int(row[0]), int(row[1]))

    def data_windows(
        self,
        window_us: int,
        margins_us: Mapping[str, int],
        since_us: int | None = None,
        until_us: int | None = None,
    ) -> list[int]:
        """The windows that hold data (see the protocol): found by walking the time indexes from one
        occupied window to the next (two index look-ups a window and a kind), so a lone record far
        from the rest costs one window."""
        w = int(window_us)
        if w <= 0:
            raise ValueError(f"window_us: {window_us} must be > 0")
        reach = max([0, *margins_us.values()]) + w
        lo = MIN_US if since_us is None else max(MIN_US, since_us - reach)
        hi = MAX_US if until_us is None else min(MAX_US, until_us + reach)
        found: set[int] = set()
        self._occupied(found, "detections", "t_us", HELD_DETECTIONS, (), w, margins_us.get("detection", 0), lo, hi)
        row = self._one("SELECT MIN(kind) FROM observations")
        kind = None if row is None else row[0]
        while kind is not None:
            if kind not in ("sensor", "claim"):
                where = " AND kind = %s" + HELD_OBSERVATIONS
                self._occupied(found, "observations", "time_us", where, (kind,), w, margins_us.get(kind, 0), lo, hi)
            row = self._one("SELECT MIN(kind) FROM observations WHERE kind > %s", (kind,))
            kind = None if row is None else row[0]
        first = None if since_us is None else since_us // w * w
        last = None if until_us is None else (until_us - 1) // w * w
        return sorted(w0 for w0 in found if (first is None or w0 >= first) and (last is None or w0 <= last))

    def _occupied(
        self, found: set[int], table: str, col: str, where: str, args: tuple[Any, ...], w: int, m: int, lo: int, hi: int
    ) -> None:
        """Add to ``found`` the windows whose ``[w0 - m, w0 + w + m)`` holds a row of ``table`` in ``[lo, hi]``."""
        body = f"FROM {table} WHERE {col} >= %s AND {col} <= %s{where}"
        cursor = lo
        while cursor <= hi:
            row = self._one(f"SELECT MIN({col}) {body}", (cursor, hi, *args))
            if row is None or row[0] is None:
                return
            t = int(row[0])
            end = (t // w + 1) * w
            row = self._one(f"SELECT MAX({col}) {body}", (t, min(end - 1, hi), *args))
            assert row is not None
            found.update(range((t - m) // w * w, (int(row[0]) + m) // w * w + 1, w))
            cursor = end

    def records_outside(self, lo_us: int, hi_us: int) -> list[tuple[str, str, int]]:
        rows = self._all(
            "SELECT 'detection' COLLATE \"C\", id, t_us FROM detections "
            f"WHERE (t_us < %(lo)s OR t_us > %(hi)s){HELD_DETECTIONS} UNION ALL "
            "SELECT kind, id, time_us FROM observations "
            f"WHERE (time_us < %(lo)s OR time_us > %(hi)s){HELD_OBSERVATIONS} "
            "ORDER BY 3, 2",
            {"lo": int(lo_us), "hi": int(hi_us)},
        )
        return [(str(k), str(i), int(t)) for k, i, t in rows]

    # -- audit ---------------------------------------------------------------------------
    def append_audit(
        self,
        actor: str,
        action: str,
        target_kind: str,
        target_id: str,
        reason: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> AuditEntry:
        at = dt.datetime.now(dt.UTC)
        with self.transaction():
            row = self._one(
                "INSERT INTO audit (at, actor, action, target_kind, target_id, reason, before, after) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING seq",
                (at, actor, action, target_kind, target_id, reason,
                 None if before is None else dumps(before), None if after is None else dumps(after)),
            )  # fmt: skip
        assert row is not None
        return AuditEntry(int(row[0]), at, actor, action, target_kind, target_id, reason, before, after)

    def audit(self, target_id: str | None = None) -> Iterator[AuditEntry]:
        q = _AUDIT + (" WHERE target_id = %s" if target_id is not None else "") + " ORDER BY seq"
        rows = self._all(q, () if target_id is None else (target_id,))
        for seq, at, actor, action, tk, tid, reason, before, after in rows:
            yield AuditEntry(int(seq), at, actor, action, tk, tid, reason, _json(before), _json(after))

    # -- API tokens ----------------------------------------------------------------------
    def add_token(self, token: ApiToken) -> None:
        """Store a new API token (only its hash).

        Raises
        ------
        ValueError
            If a token with the same id or hash is already stored.
        """
        with self.transaction():
            cur = self._run(
                "INSERT INTO api_tokens VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (token.token_id, token.name, token.role, token.party, token.token_hash, token.created_at,
                 token.revoked_at),
            )  # fmt: skip
            if cur.rowcount == 0:
                raise ValueError(f"token {token.token_id!r}: its id or its hash is already stored")

    @staticmethod
    def _token(row: tuple[Any, ...]) -> ApiToken:
        return ApiToken(*row)

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        row = self._one(_TOKENS + " WHERE token_hash = %s", (token_hash,))
        return None if row is None else self._token(row)

    def tokens(self) -> list[ApiToken]:
        return [self._token(r) for r in self._all(_TOKENS + " ORDER BY created_at, token_id")]

    def revoke_token(self, token_id: str, at: dt.datetime) -> bool:
        with self.transaction():
            cur = self._run(
                "UPDATE api_tokens SET revoked_at = %s WHERE token_id = %s AND revoked_at IS NULL", (at, token_id)
            )
        return cur.rowcount > 0
