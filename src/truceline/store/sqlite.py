"""The embedded store: one SQLite file under a data directory (WAL, synchronous writes).

The schema and its migrations are in :mod:`truceline.store.sqlite_schema` (``PRAGMA user_version``
holds the version reached; opening an older file upgrades it); the derived records (runs, scopes,
findings and their status) in :mod:`truceline.store.sqlite_derived`. This module holds the store
itself: its connection and transactions, the raw observations and detections, the audit trail and
the API tokens. Raw observations, detections and the audit trail are append-only.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from truceline.core import Record, from_json_dict, record_type, to_json_dict
from truceline.core.errors import InvalidInput
from truceline.io.detections import COLUMNS, DetectionTable
from truceline.store.base import AddResult, ApiToken, AuditEntry, to_us
from truceline.store.sqlite_derived import DerivedTables
from truceline.store.sqlite_schema import DB_NAME, MIGRATIONS, between, dumps, migrate, now, schema_version

__all__ = ["DB_NAME", "MIGRATIONS", "SQLiteStore"]

#: Stored detection columns: the bulk reader's, less the source line, under the codebook's names.
_DET_COLS = ("id", "sensor_id", *COLUMNS[2:-1])


def _time_of(record: Record) -> dt.datetime:
    """The time an observation is filed under (a claim: the start of the period it is about)."""
    for name in ("time", "installed_at"):
        t = getattr(record, name, None)
        if isinstance(t, dt.datetime):
            return t
    period = getattr(record, "period", None)
    if period is not None:
        return period.start  # type: ignore[no-any-return,unused-ignore]
    t = getattr(record, "published_at", None)
    if isinstance(t, dt.datetime):
        return t
    raise ValueError(f"{type(record).__name__} {record.id!r} has no time to file it under")


def _nan_to_none(a: np.ndarray) -> list[float | None]:
    return [None if v != v else float(v) for v in a.tolist()]


class SQLiteStore(DerivedTables):
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
                    (kind, r.id, to_us(_time_of(r)), self._next_seq(1), now(), source, body),
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
        self, kind: str, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> list[Record]:
        cls = record_type(kind)
        q, args = between("SELECT body FROM observations WHERE kind=?", [kind], since, until)
        rows = self._db.execute(q + " ORDER BY time_us, id", args).fetchall()
        return [from_json_dict(cls, json.loads(b)) for (b,) in rows]

    def count(self, kind: str) -> int:
        if kind == "detection":
            return int(self._db.execute("SELECT COUNT(*) FROM detections").fetchone()[0])
        return int(self._db.execute("SELECT COUNT(*) FROM observations WHERE kind=?", (kind,)).fetchone()[0])

    def detections(self, t0_us: int, t1_us: int) -> DetectionTable:
        rows = self._db.execute(
            f"SELECT {', '.join(_DET_COLS)} FROM detections WHERE t_us >= ? AND t_us < ? ORDER BY t_us, id",
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
        if kind == "detection":
            q, args = "SELECT MAX(seq) FROM detections WHERE t_us >= ?1 AND t_us < ?2", (t0_us, t1_us)
        elif kind is not None:
            q = "SELECT MAX(seq) FROM observations WHERE time_us >= ?1 AND time_us < ?2 AND kind = ?3"
            args = (t0_us, t1_us, kind)  # type: ignore[assignment]
        else:
            q = ("SELECT MAX(s) FROM (SELECT MAX(seq) s FROM detections WHERE t_us >= ?1 AND t_us < ?2 UNION ALL "
                 "SELECT MAX(seq) FROM observations WHERE time_us >= ?1 AND time_us < ?2 AND kind != 'claim')")
            args = (t0_us, t1_us)
        row = self._db.execute(q, args).fetchone()
        return 0 if row[0] is None else int(row[0])

    def max_seq(self, kind: str) -> int:
        if kind == "detection":
            row = self._db.execute("SELECT MAX(seq) FROM detections").fetchone()
        else:
            row = self._db.execute("SELECT MAX(seq) FROM observations WHERE kind=?", (kind,)).fetchone()
        return 0 if row[0] is None else int(row[0])

    def time_span_us(self) -> tuple[int, int] | None:
        row = self._db.execute(
            "SELECT MIN(a), MAX(b) FROM (SELECT MIN(t_us) a, MAX(t_us) b FROM detections UNION ALL "
            "SELECT MIN(time_us), MAX(time_us) FROM observations WHERE kind NOT IN ('sensor', 'claim'))"
        ).fetchone()
        return None if row[0] is None else (int(row[0]), int(row[1]))

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
