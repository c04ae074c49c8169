"""The SQLite store's schema: its ordered migrations, the step that applies them, the encodings of its columns.

``PRAGMA user_version`` holds the number of migrations a file has had; opening an older file
applies the missing ones, each in its own transaction, under an exclusive lock file (so that
``serve`` and ``ingest`` opening a new store at once do not both migrate it). A file newer than
this truceline refuses to open. Raw observations, detections and the audit trail are append-only:
triggers refuse ``UPDATE`` and ``DELETE`` on them, so not even a bug in this package can rewrite
evidence.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from truceline.core import Record, from_json_dict
from truceline.store.base import StoredRecordError, to_us

__all__ = ["DB_NAME", "MIGRATIONS", "between", "decode", "dumps", "migrate", "now", "schema_version"]

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
    # 3: the window length of a processing run (NULL for a run that processes no windows: claims,
    # review); the runs stored before it get the one their parameters recorded.
    """
    ALTER TABLE runs ADD COLUMN window_s INTEGER;
    UPDATE runs SET window_s = json_extract(parameters, '$.params.window_s')
    WHERE what = 'process' AND json_valid(parameters);
    """,
    # 4: quarantine: raw records (kind, id) or processing scopes (kind 'scope') held out of processing
    # with the reason, and the analyst's decision; ``seq`` is the observation sequence number of a
    # release (a released record is new data at its time). Rows change state, never disappear.
    """
    CREATE TABLE quarantine (
        qid INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, target_id TEXT NOT NULL, time_us INTEGER,
        at TEXT NOT NULL, reason TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('quarantined', 'released', 'rejected')),
        decided_by TEXT, decision TEXT, decided_at TEXT, seq INTEGER NOT NULL DEFAULT 0,
        UNIQUE (kind, target_id)
    );
    CREATE INDEX quarantine_state ON quarantine (kind, state, target_id);
    CREATE TRIGGER quarantine_no_delete BEFORE DELETE ON quarantine
    BEGIN SELECT RAISE(ABORT, 'quarantine rows are released or rejected, never deleted'); END;
    """,
)


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


def schema_version(db: sqlite3.Connection) -> int:
    """The number of migrations the open file has had (``PRAGMA user_version``)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, path: str) -> None:
    """Bring the schema of the file at ``path`` (open as ``db``, autocommit) up to date.

    Several processes may open a new store at once: an exclusive lock file beside the database
    serialises them, and each reads the version under it.

    Raises
    ------
    RuntimeError
        For a file whose schema is newer than this truceline knows.
    sqlite3.Error
        For a migration that fails (it is rolled back; the file keeps its previous version).
    """
    with _file_lock(None if path == ":memory:" else Path(path).with_suffix(".migrate.lock")):
        version = schema_version(db)
        if version > len(MIGRATIONS):
            raise RuntimeError(
                f"{path}: schema version {version} is newer than this truceline knows ({len(MIGRATIONS)})"
            )
        for i in range(version, len(MIGRATIONS)):
            try:
                db.executescript(f"BEGIN IMMEDIATE;{MIGRATIONS[i]};PRAGMA user_version={i + 1};COMMIT;")
            except sqlite3.Error:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise


# -- column encodings ------------------------------------------------------------------------------
def dumps(obj: Any) -> str:
    """A JSON body as stored: compact, keys sorted, no NaN."""
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, allow_nan=False)


def decode(cls: type[Record], kind: str, rid: str, body: str, time_us: int | None = None) -> Record:
    """A stored body back to its record, or :class:`~truceline.store.base.StoredRecordError` naming it
    (``kind``, ``rid`` and the time it is filed under): a body that is no JSON, no longer validates, or
    holds text that cannot be written out (a lone surrogate)."""
    try:
        obj = json.loads(body)
        if "\\ud" in body.lower():
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
        return from_json_dict(cls, obj)
    except Exception as exc:  # any failure of one stored record is that record's, never the read's
        text = " ".join(str(exc).split())
        raise StoredRecordError(kind, rid, f"{type(exc).__name__}: {text[:300]}", time_us) from None


def now() -> str:
    """The present as stored (ISO 8601, UTC)."""
    return dt.datetime.now(dt.UTC).isoformat()


def between(
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
