"""The embedded store: one SQLite file under a data directory (WAL, synchronous writes).

Schema changes go through :data:`MIGRATIONS` (``PRAGMA user_version`` holds the version reached);
opening an older file upgrades it in one transaction. Raw observations, detections and the audit
trail are append-only: triggers refuse ``UPDATE`` and ``DELETE`` on them, so not even a bug in
this package can rewrite evidence.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from truceline.core import Record, from_json_dict, record_type, to_json_dict
from truceline.io.detections import COLUMNS, DetectionTable
from truceline.store.base import DERIVED_KINDS, AddResult, ApiToken, AuditEntry, Derived, ScopeState, to_us

DB_NAME = "truceline.sqlite"


def _append_only(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;\n"
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;"
    )


#: Ordered schema migrations; entry ``i`` brings ``user_version`` from ``i`` to ``i + 1``.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE seqs (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO seqs VALUES ('obs', 0);
    CREATE TABLE observations (
        kind TEXT NOT NULL, id TEXT NOT NULL, time_us INTEGER NOT NULL, seq INTEGER NOT NULL,
        ingested_at TEXT NOT NULL, source TEXT NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    );
    CREATE INDEX observations_time ON observations (kind, time_us);
    CREATE INDEX observations_seq ON observations (seq);
    CREATE TABLE detections (
        id TEXT PRIMARY KEY, sensor_id TEXT NOT NULL, t_us INTEGER NOT NULL, time_sigma_s REAL NOT NULL,
        bearing_deg REAL, bearing_sigma_deg REAL, amplitude_pa REAL, launch_score REAL, impact_score REAL,
        seq INTEGER NOT NULL, source TEXT NOT NULL
    );
    CREATE INDEX detections_time ON detections (t_us);
    CREATE INDEX detections_seq ON detections (seq);
    CREATE TABLE runs (
        run_id INTEGER PRIMARY KEY, what TEXT NOT NULL, started_at TEXT NOT NULL, parameters TEXT NOT NULL
    );
    CREATE TABLE derived (
        kind TEXT NOT NULL, id TEXT NOT NULL, time_us INTEGER NOT NULL, scope TEXT NOT NULL,
        run_id INTEGER NOT NULL, status TEXT, superseded_by INTEGER, body TEXT NOT NULL,
        PRIMARY KEY (kind, id, run_id)
    );
    CREATE INDEX derived_current ON derived (kind, superseded_by, time_us);
    CREATE INDEX derived_scope ON derived (scope, superseded_by);
    CREATE TABLE scopes (
        scope TEXT PRIMARY KEY, seen_seq INTEGER NOT NULL, run_id INTEGER NOT NULL, processed_at TEXT NOT NULL
    );
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        target_kind TEXT NOT NULL, target_id TEXT NOT NULL, reason TEXT NOT NULL, before TEXT, after TEXT
    );
    CREATE INDEX audit_target ON audit (target_id);
    """
    + "\n".join(_append_only(t) for t in ("observations", "detections", "audit")),
    # 2: API tokens (hashes only); revoking sets revoked_at, nothing is deleted.
    """
    CREATE TABLE api_tokens (
        token_id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, party TEXT,
        token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT
    );
    CREATE TRIGGER api_tokens_no_delete BEFORE DELETE ON api_tokens
    BEGIN SELECT RAISE(ABORT, 'api_tokens rows are revoked, never deleted'); END;
    """,
)

#: Stored detection columns: the bulk reader's, less the source line, under the codebook's names.
_DET_COLS = ("id", "sensor_id", *COLUMNS[2:-1])


@contextmanager
def _file_lock(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


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


def _between(
    q: str, args: list[Any], since: dt.datetime | None, until: dt.datetime | None
) -> tuple[str, list[Any]]:
    """Add ``since <= time_us < until`` (either bound optional) to a query."""
    if since is not None:
        q += " AND time_us >= ?"
        args = [*args, to_us(since)]
    if until is not None:
        q += " AND time_us < ?"
        args = [*args, to_us(until)]
    return q, args


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, allow_nan=False)


def _nan_to_none(a: np.ndarray) -> list[float | None]:
    return [None if v != v else float(v) for v in a.tolist()]


class SQLiteStore:
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
                raise ValueError(f"data directory {d} is a file, not a directory")
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
        """Bring the schema up to date. Several processes may open a new store at once (``serve`` and
        ``ingest``): an exclusive lock file serialises them, and each reads the version under it."""
        with self._lock, _file_lock(None if self.path == ":memory:" else Path(self.path).with_suffix(".migrate.lock")):
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            if version > len(MIGRATIONS):
                raise RuntimeError(
                    f"{self.path}: schema version {version} is newer than this truceline knows ({len(MIGRATIONS)})"
                )
            for i in range(version, len(MIGRATIONS)):
                try:
                    self._db.executescript(f"BEGIN IMMEDIATE;{MIGRATIONS[i]};PRAGMA user_version={i + 1};COMMIT;")
                except sqlite3.Error:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

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
                body = _dumps(to_json_dict(r))
                row = self._db.execute("SELECT body FROM observations WHERE kind=? AND id=?", (kind, r.id)).fetchone()
                if row is not None:
                    if row[0] == body:
                        res.repeats += 1
                    else:
                        res.conflicts.append((r.id, "id already stored with different content"))
                    continue
                self._db.execute(
                    "INSERT INTO observations VALUES (?,?,?,?,?,?,?)",
                    (kind, r.id, to_us(_time_of(r)), self._next_seq(1), _now(), source, body),
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
        q, args = _between("SELECT body FROM observations WHERE kind=?", [kind], since, until)
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

    # -- derived records -----------------------------------------------------------------
    def new_run(self, what: str, parameters: dict[str, Any]) -> int:
        with self.transaction():
            cur = self._db.execute(
                "INSERT INTO runs (what, started_at, parameters) VALUES (?,?,?)", (what, _now(), _dumps(parameters))
            )
        return int(cur.lastrowid or 0)

    def replace_scope(self, scope: str, run_id: int, rows: Sequence[tuple[str, Record, int]], seen_seq: int) -> None:
        with self.transaction():
            self._db.execute(
                "UPDATE derived SET superseded_by=? WHERE scope=? AND superseded_by IS NULL", (run_id, scope)
            )
            self._db.executemany(
                "INSERT INTO derived VALUES (?,?,?,?,?,?,NULL,?)",
                [
                    (kind, r.id, int(t_us), scope, run_id, getattr(r, "status", None), _dumps(to_json_dict(r)))
                    for kind, r, t_us in rows
                ],
            )
            self._db.execute(
                "INSERT OR REPLACE INTO scopes VALUES (?,?,?,?)", (scope, int(seen_seq), run_id, _now())
            )

    def scope_state(self, scope: str) -> ScopeState | None:
        row = self._db.execute("SELECT * FROM scopes WHERE scope=?", (scope,)).fetchone()
        return None if row is None else ScopeState(row[0], int(row[1]), int(row[2]), dt.datetime.fromisoformat(row[3]))

    def scope_states(self) -> dict[str, ScopeState]:
        rows = self._db.execute("SELECT * FROM scopes").fetchall()
        return {r[0]: ScopeState(r[0], int(r[1]), int(r[2]), dt.datetime.fromisoformat(r[3])) for r in rows}

    def _derived(self, row: tuple[Any, ...]) -> Derived:
        kind, body, scope, run_id, status, sup = row
        rec = from_json_dict(kind, json.loads(body))
        return Derived(kind, rec, scope, int(run_id), status, None if sup is None else int(sup))

    def derived(
        self,
        kind: str,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        include_superseded: bool = False,
    ) -> list[Derived]:
        q = "SELECT kind, body, scope, run_id, status, superseded_by FROM derived WHERE kind=?"
        args: list[Any] = [kind]
        if not include_superseded:
            q += " AND superseded_by IS NULL"
        q, args = _between(q, args, since, until)
        return [self._derived(r) for r in self._db.execute(q + " ORDER BY time_us, id, run_id", args)]

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
            self._db.executemany(
                "INSERT INTO derived VALUES (?,?,?,?,?,?,NULL,?)",
                [
                    (kind, r.id, int(t_us), scope, run_id, getattr(r, "status", None), _dumps(to_json_dict(r)))
                    for kind, r, t_us in rows
                ],
            )

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

    def get_derived(self, kind: str, record_id: str) -> Derived | None:
        row = self._db.execute(
            "SELECT kind, body, scope, run_id, status, superseded_by FROM derived WHERE kind=? AND id=? "
            "ORDER BY superseded_by IS NOT NULL, run_id DESC LIMIT 1",
            (kind, record_id),
        ).fetchone()
        return None if row is None else self._derived(row)

    def set_status(self, kind: str, record_id: str, status: str) -> None:
        with self.transaction():
            cur = self._db.execute(
                "UPDATE derived SET status=? WHERE kind=? AND id=? AND superseded_by IS NULL", (status, kind, record_id)
            )
            if cur.rowcount == 0:
                raise KeyError(f"no current {kind} {record_id!r}")

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
                    None if before is None else _dumps(before),
                    None if after is None else _dumps(after),
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
