"""The embedded store: one SQLite file under a data directory (WAL, synchronous writes).

The schema and its migrations are in :mod:`truceline.store.sqlite_schema` (``PRAGMA user_version``
holds the version reached; opening an older file upgrades it); the derived records (runs, scopes,
findings and their status) in :mod:`truceline.store.sqlite_derived`. This module holds the store
itself: its connection and transactions, the raw observations and detections, the audit trail and
the API tokens; the quarantine in :mod:`truceline.store.sqlite_quarantine`. Raw observations,
detections and the audit trail are append-only; held (quarantined) records are left out of their reads.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from truceline.core import Record, record_type, to_json_dict
from truceline.core.errors import InvalidInput
from truceline.io.detections import COLUMNS, DetectionTable
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
from truceline.store.sqlite_derived import DerivedTables
from truceline.store.sqlite_quarantine import HELD, QuarantineTables
from truceline.store.sqlite_rows import SQLiteRows
from truceline.store.sqlite_schema import DB_NAME, MIGRATIONS, between, decode, dumps, migrate, now, schema_version

__all__ = ["DB_NAME", "MIGRATIONS", "SQLiteStore"]

#: Stored detection columns: the bulk reader's, less the source line, under the codebook's names.
_DET_COLS = ("id", "sensor_id", *COLUMNS[2:-1])
#: Filters leaving out held (quarantined) detections, and observations of the row's kind.
_DET_FREE = " AND id NOT IN (" + HELD.format(kind="'detection'") + ")"
_OBS_FREE = " AND (kind, id) NOT IN (SELECT kind, target_id FROM quarantine WHERE state != 'released')"

log = logging.getLogger(__name__)


def _nan_to_none(a: np.ndarray) -> list[float | None]:
    return [None if v != v else float(v) for v in a.tolist()]


class SQLiteStore(DerivedTables, QuarantineTables, SQLiteRows):
    """The embedded :class:`~truceline.store.base.Store`.

    Parameters
    ----------
    data_dir : path
        Directory holding ``truceline.sqlite`` (created if missing). ``":memory:"`` for tests.
    """

    def __init__(self, data_dir: str | Path) -> None:
        if str(data_dir) == ":memory:":
            self.path = ":memory:"
        else:
            d = Path(data_dir)
            if d.exists() and not d.is_dir():
                raise InvalidInput(f"data directory {d} is a file, not a directory")
            d.mkdir(parents=True, exist_ok=True)
            self.path = str(d / DB_NAME)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._lock = threading.RLock()
        self._depth = 0
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._migrate()

    # -- plumbing ------------------------------------------------------------------------
    def _migrate(self) -> None:
        """Bring the schema up to date (:func:`~truceline.store.sqlite_schema.migrate`)."""
        with self._lock:
            migrate(self._db, self.path)

    @property
    def schema_version(self) -> int:
        return schema_version(self._db)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()

    def _next_seq(self, n: int) -> int:
        """Reserve ``n`` sequence numbers; return the first."""
        (last,) = self._db.execute("SELECT value FROM seqs WHERE name='obs'").fetchone()
        self._db.execute("UPDATE seqs SET value=? WHERE name='obs'", (last + n,))
        return int(last) + 1

    # -- raw observations ----------------------------------------------------------------
    def add_records(self, kind: str, records: Sequence[Record], source: str = "") -> AddResult:
        cls = record_type(kind)
        res = AddResult()
        with self.transaction():
            for r in records:
                if not isinstance(r, cls):
                    raise TypeError(f"record {r.id!r} is a {type(r).__name__}, not a {kind}")
                body = dumps(to_json_dict(r))
                row = self._db.execute("SELECT body FROM observations WHERE kind=? AND id=?", (kind, r.id)).fetchone()
                if row is not None:
                    if row[0] == body:
                        res.repeats += 1
                    else:
                        res.conflicts.append((r.id, "id already stored with different content"))
                    continue
                self._db.execute(
                    "INSERT INTO observations VALUES (?,?,?,?,?,?,?)",
                    (kind, r.id, to_us(filed_time(r)), self._next_seq(1), now(), source, body),
                )
                res.inserted += 1
        return res

    def add_detections(self, table: DetectionTable, source: str = "") -> AddResult:
        res = AddResult()
        n = len(table)
        if n == 0:
            return res
        cols = [
            table.ids.tolist(),
            table.sensor_ids.tolist(),
            table.t_us.tolist(),
            table.time_sigma_s.tolist(),
            *(_nan_to_none(getattr(table, c)) for c in _DET_COLS[4:]),
        ]
        rows = list(zip(*cols, strict=True))
        with self.transaction():
            self._db.execute(f"CREATE TEMP TABLE IF NOT EXISTS incoming ({', '.join(_DET_COLS)}, k INTEGER)")
            self._db.execute("DELETE FROM incoming")
            self._db.executemany(
                f"INSERT INTO incoming VALUES ({','.join('?' * len(_DET_COLS))}, ?)",
                [(*r, k) for k, r in enumerate(rows)],
            )
            same = " AND ".join(f"d.{c} IS i.{c}" for c in _DET_COLS[1:])
            dup = self._db.execute(
                f"SELECT i.k, ({same}) FROM incoming i JOIN detections d ON d.id = i.id"
            ).fetchall()
            skip = {int(k) for k, _ in dup}
            for k, identical in dup:
                if identical:
                    res.repeats += 1
                else:
                    res.conflicts.append((rows[int(k)][0], "id already stored with different content"))
            fresh = n - len(skip)
            if fresh:
                # One sequence number per batch: a batch is the unit an incremental run catches up on.
                seq = self._next_seq(1)
                self._db.execute(
                    f"INSERT INTO detections SELECT {', '.join('i.' + c for c in _DET_COLS)}, ?, ? "
                    "FROM incoming i WHERE i.id NOT IN (SELECT id FROM detections)",
                    (seq, source),
                )
            res.inserted = fresh
            self._db.execute("DELETE FROM incoming")
        return res

    def records(
        self, kind: str, since: dt.datetime | None = None, until: dt.datetime | None = None, *, strict: bool = False
    ) -> list[Record]:
        cls = record_type(kind)
        q, args = between("SELECT id, body, time_us FROM observations WHERE kind=?" + _OBS_FREE, [kind], since, until)
        out = []
        for rid, body, t_us in self._db.execute(q + " ORDER BY time_us, id", args).fetchall():
            try:
                out.append(decode(cls, kind, rid, body, int(t_us)))
            except StoredRecordError as exc:
                if strict:
                    raise
                log.warning("%s: skipped (processing and reporting hold it in quarantine)", exc)
        return out

    def count(self, kind: str) -> int:
        if kind == "detection":
            return int(self._db.execute("SELECT COUNT(*) FROM detections").fetchone()[0])
        return int(self._db.execute("SELECT COUNT(*) FROM observations WHERE kind=?", (kind,)).fetchone()[0])

    def detections(self, t0_us: int, t1_us: int) -> DetectionTable:
        rows = self._db.execute(
            f"SELECT {', '.join(_DET_COLS)} FROM detections WHERE t_us >= ? AND t_us < ?{_DET_FREE} ORDER BY t_us, id",
            (t0_us, t1_us),
        ).fetchall()
        cols = list(zip(*rows, strict=True)) if rows else [()] * len(_DET_COLS)

        def f(i: int) -> np.ndarray:
            return np.array([np.nan if v is None else v for v in cols[i]], dtype=np.float64)

        n = len(rows)
        return DetectionTable(
            ids=np.array(cols[0], dtype=str) if n else np.zeros(0, dtype=str),
            sensor_ids=np.array(cols[1], dtype=str) if n else np.zeros(0, dtype=str),
            t_us=np.array(cols[2], dtype=np.int64),
            time_sigma_s=f(3),
            bearing_deg=f(4),
            bearing_sigma_deg=f(5),
            amplitude_pa=f(6),
            launch_score=f(7),
            impact_score=f(8),
            line=np.zeros(n, dtype=np.int64),
        )

    def last_seq(self) -> int:
        return int(self._db.execute("SELECT value FROM seqs WHERE name='obs'").fetchone()[0])

    def max_seq_between(self, t0_us: int, t1_us: int, kind: str | None = None) -> int:
        # A release from quarantine is new data at the record's time (its own sequence number).
        released = "SELECT MAX(seq) FROM quarantine WHERE state = 'released' AND time_us >= ?1 AND time_us < ?2"
        if kind == "detection":
            q = "SELECT MAX(seq) s FROM detections WHERE t_us >= ?1 AND t_us < ?2"
            args: tuple[Any, ...] = (t0_us, t1_us)
            released += " AND kind = 'detection'"
        elif kind is not None:
            q = "SELECT MAX(seq) s FROM observations WHERE time_us >= ?1 AND time_us < ?2 AND kind = ?3"
            args = (t0_us, t1_us, kind)
            released += " AND kind = ?3"
        else:
            q = ("SELECT MAX(seq) s FROM detections WHERE t_us >= ?1 AND t_us < ?2 UNION ALL "
                 "SELECT MAX(seq) FROM observations WHERE time_us >= ?1 AND time_us < ?2 AND kind != 'claim'")
            args = (t0_us, t1_us)
            released += " AND kind != 'claim'"
        row = self._db.execute(f"SELECT MAX(s) FROM ({q} UNION ALL {released})", args).fetchone()
        return 0 if row[0] is None else int(row[0])

    def max_seq(self, kind: str) -> int:
        if kind == "detection":
            row = self._db.execute("SELECT MAX(seq) FROM detections").fetchone()
        else:
            row = self._db.execute("SELECT MAX(seq) FROM observations WHERE kind=?", (kind,)).fetchone()
        return 0 if row[0] is None else int(row[0])

    def time_span_us(self) -> tuple[int, int] | None:
        det = f"FROM detections WHERE t_us BETWEEN ?1 AND ?2{_DET_FREE}"  # MIN and MAX apart: each an index probe
        row = self._db.execute(
            f"SELECT MIN(a), MAX(b) FROM (SELECT (SELECT MIN(t_us) {det}) a, (SELECT MAX(t_us) {det}) b UNION ALL "
            "SELECT MIN(time_us), MAX(time_us) FROM observations "
            f"WHERE kind NOT IN ('sensor', 'claim') AND time_us BETWEEN ?1 AND ?2{_OBS_FREE})",
            (MIN_US, MAX_US),
        ).fetchone()
        return None if row[0] is None else (int(row[0]), int(row[1]))

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
        self._occupied(found, "detections", "t_us", _DET_FREE, (), w, margins_us.get("detection", 0), lo, hi)
        kind = self._db.execute("SELECT MIN(kind) FROM observations").fetchone()[0]
        while kind is not None:
            if kind not in ("sensor", "claim"):
                where = " AND kind = ?" + _OBS_FREE
                self._occupied(found, "observations", "time_us", where, (kind,), w, margins_us.get(kind, 0), lo, hi)
            kind = self._db.execute("SELECT MIN(kind) FROM observations WHERE kind > ?", (kind,)).fetchone()[0]
        first = None if since_us is None else since_us // w * w
        last = None if until_us is None else (until_us - 1) // w * w
        return sorted(w0 for w0 in found if (first is None or w0 >= first) and (last is None or w0 <= last))

    def _occupied(
        self, found: set[int], table: str, col: str, where: str, args: tuple[Any, ...], w: int, m: int, lo: int, hi: int
    ) -> None:
        """Add to ``found`` the windows whose ``[w0 - m, w0 + w + m)`` holds a row of ``table`` in ``[lo, hi]``."""
        body = f"FROM {table} WHERE {col} >= ? AND {col} <= ?{where}"
        cursor = lo
        while cursor <= hi:
            (t,) = self._db.execute(f"SELECT MIN({col}) {body}", (cursor, hi, *args)).fetchone()
            if t is None:
                return
            end = (int(t) // w + 1) * w
            (t_max,) = self._db.execute(f"SELECT MAX({col}) {body}", (t, min(end - 1, hi), *args)).fetchone()
            found.update(range((int(t) - m) // w * w, (int(t_max) + m) // w * w + 1, w))
            cursor = end

    def records_outside(self, lo_us: int, hi_us: int) -> list[tuple[str, str, int]]:
        rows = self._db.execute(
            f"SELECT 'detection', id, t_us FROM detections WHERE (t_us < ?1 OR t_us > ?2){_DET_FREE} UNION ALL "
            f"SELECT kind, id, time_us FROM observations WHERE (time_us < ?1 OR time_us > ?2){_OBS_FREE} "
            "ORDER BY 3, 2",
            (lo_us, hi_us),
        ).fetchall()
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
            cur = self._db.execute(
                "INSERT INTO audit (at, actor, action, target_kind, target_id, reason, before, after) "
                "VALUES (?,?,?,?,?,?,?,?)",
                (
                    at.isoformat(),
                    actor,
                    action,
                    target_kind,
                    target_id,
                    reason,
                    None if before is None else dumps(before),
                    None if after is None else dumps(after),
                ),
            )
        return AuditEntry(int(cur.lastrowid or 0), at, actor, action, target_kind, target_id, reason, before, after)

    def audit(self, target_id: str | None = None) -> Iterator[AuditEntry]:
        q = "SELECT * FROM audit" + (" WHERE target_id=?" if target_id is not None else "") + " ORDER BY seq"
        for row in self._db.execute(q, () if target_id is None else (target_id,)).fetchall():
            seq, at, actor, action, tk, tid, reason, before, after = row
            yield AuditEntry(
                int(seq),
                dt.datetime.fromisoformat(at),
                actor,
                action,
                tk,
                tid,
                reason,
                None if before is None else json.loads(before),
                None if after is None else json.loads(after),
            )

    # -- API tokens ----------------------------------------------------------------------
    def add_token(self, token: ApiToken) -> None:
        """Store a new API token (only its hash).

        Raises
        ------
        ValueError
            If a token with the same id or hash is already stored.
        """
        with self.transaction():
            try:
                self._db.execute(
                    "INSERT INTO api_tokens VALUES (?,?,?,?,?,?,?)",
                    (
                        token.token_id,
                        token.name,
                        token.role,
                        token.party,
                        token.token_hash,
                        token.created_at.isoformat(),
                        None if token.revoked_at is None else token.revoked_at.isoformat(),
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise ValueError(f"token {token.token_id!r}: {exc}") from None

    @staticmethod
    def _token(row: tuple[Any, ...]) -> ApiToken:
        tid, name, role, party, h, created, revoked = row
        return ApiToken(
            tid,
            name,
            role,
            party,
            h,
            dt.datetime.fromisoformat(created),
            None if revoked is None else dt.datetime.fromisoformat(revoked),
        )

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        row = self._db.execute("SELECT * FROM api_tokens WHERE token_hash=?", (token_hash,)).fetchone()
        return None if row is None else self._token(row)

    def tokens(self) -> list[ApiToken]:
        rows = self._db.execute("SELECT * FROM api_tokens ORDER BY created_at, token_id").fetchall()
        return [self._token(r) for r in rows]

    def revoke_token(self, token_id: str, at: dt.datetime) -> bool:
        with self.transaction():
            cur = self._db.execute(
                "UPDATE api_tokens SET revoked_at=? WHERE token_id=? AND revoked_at IS NULL", (at.isoformat(), token_id)
            )
        return cur.rowcount > 0
