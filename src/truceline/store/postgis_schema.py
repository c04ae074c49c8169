"""The PostGIS store's schema: its ordered migrations, the step that applies them, its connections.

The table ``truceline_schema`` holds one row per migration applied (its number and when); opening a
store applies the missing ones in one transaction under an advisory lock (so that ``serve`` and
``ingest`` opening a new store at once do not both migrate it), and a store whose schema is newer than
this truceline refuses to open. The tables live in the connection's current schema (the first of its
``search_path``, ``public`` by default; ``?options=-csearch_path%3Dmine,public`` in the URL picks another),
PostGIS wherever the database has it.

What the database itself enforces, whatever the code above it does: raw observations, detections and
the audit trail are append-only (statement triggers refuse ``UPDATE``, ``DELETE`` and ``TRUNCATE``);
quarantine entries and API tokens are never deleted; a derived row is never deleted, a superseded one
never changes and a current one changes only its status and ``superseded_by``.

Columns mirror the SQLite store's (:mod:`truceline.store.sqlite_schema`) with PostgreSQL types: times
of records as ``bigint`` µs, times of writes as ``timestamptz``, bodies as ``json`` (the exact text the
SQLite store keeps: compact, keys sorted, so a repeat is recognised by its text), ids in the ``"C"``
collation (ordered by code point, as SQLite orders them). Observations and derived records that carry a
position (``position``, ``observer_position``, a claim's ``place``) also have it as ``geom``, a
``geometry(Point, 4326)`` with a GiST index, written with the row.
"""

from __future__ import annotations

import contextlib
import threading
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from truceline.core import Record
from truceline.core.errors import InvalidInput
from truceline.store.base import StoreFailure

__all__ = ["MIGRATIONS", "Plumbing", "connect", "migrate", "point_ewkt", "redact", "schema_version"]

#: Key of the advisory lock migrations take (with a hash of the schema): "truceline" in ASCII, cut to int4.
_LOCK_KEY = 0x7472_7563

#: Statement triggers refusing every change of an append-only table.
_REFUSE = """
CREATE FUNCTION truceline_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END $$;
CREATE FUNCTION truceline_derived_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.superseded_by IS NOT NULL
       OR (NEW.kind, NEW.id, NEW.time_us, NEW.scope, NEW.run_id, NEW.body::text)
          IS DISTINCT FROM (OLD.kind, OLD.id, OLD.time_us, OLD.scope, OLD.run_id, OLD.body::text)
       OR NOT (NEW.geom IS NOT DISTINCT FROM OLD.geom) THEN
        RAISE EXCEPTION 'derived rows change only their status and superseded_by, and only while current'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;
"""


def _append_only(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION truceline_refuse('{table} is append-only');"
    )


def _never_deleted(table: str, why: str) -> str:
    return (
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE OR TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION truceline_refuse('{why}');"
    )


_C = 'text COLLATE "C"'

#: Ordered schema migrations; entry ``i`` brings the schema from version ``i`` to ``i + 1``. The first is
#: the SQLite store's four migrations at once (a PostGIS store starts at the present schema).
MIGRATIONS: tuple[str, ...] = (
    f"""
    CREATE TABLE seqs (name {_C} PRIMARY KEY, value bigint NOT NULL);
    INSERT INTO seqs VALUES ('obs', 0);
    CREATE TABLE observations (
        kind {_C} NOT NULL, id {_C} NOT NULL, time_us bigint NOT NULL, seq bigint NOT NULL,
        ingested_at timestamptz NOT NULL, source text NOT NULL, body json NOT NULL, geom geometry(Point, 4326),
        PRIMARY KEY (kind, id)
    );
    CREATE INDEX observations_time ON observations (kind, time_us);
    CREATE INDEX observations_seq ON observations (seq);
    CREATE INDEX observations_geom ON observations USING gist (geom);
    CREATE TABLE detections (
        id {_C} PRIMARY KEY, sensor_id {_C} NOT NULL, t_us bigint NOT NULL, time_sigma_s float8 NOT NULL,
        bearing_deg float8, bearing_sigma_deg float8, amplitude_pa float8, launch_score float8,
        impact_score float8, seq bigint NOT NULL, source text NOT NULL
    );
    CREATE INDEX detections_time ON detections (t_us);
    CREATE INDEX detections_seq ON detections (seq);
    CREATE TABLE runs (
        run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, what text NOT NULL, started_at timestamptz NOT NULL,
        parameters json NOT NULL, window_s integer
    );
    CREATE TABLE derived (
        kind {_C} NOT NULL, id {_C} NOT NULL, time_us bigint NOT NULL, scope {_C} NOT NULL,
        run_id bigint NOT NULL, status text, superseded_by bigint, body json NOT NULL, geom geometry(Point, 4326),
        PRIMARY KEY (kind, id, run_id)
    );
    CREATE INDEX derived_current ON derived (kind, superseded_by, time_us);
    CREATE INDEX derived_scope ON derived (scope, superseded_by);
    CREATE INDEX derived_geom ON derived USING gist (geom);
    CREATE TABLE scopes (
        scope {_C} PRIMARY KEY, seen_seq bigint NOT NULL, run_id bigint NOT NULL, processed_at timestamptz NOT NULL
    );
    CREATE TABLE audit (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz NOT NULL, actor text NOT NULL,
        action text NOT NULL, target_kind text NOT NULL, target_id {_C} NOT NULL, reason text NOT NULL,
        before json, after json
    );
    CREATE INDEX audit_target ON audit (target_id);
    CREATE TABLE api_tokens (
        token_id {_C} PRIMARY KEY, name text NOT NULL, role text NOT NULL, party text,
        token_hash text NOT NULL UNIQUE, created_at timestamptz NOT NULL, revoked_at timestamptz
    );
    CREATE TABLE quarantine (
        qid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kind {_C} NOT NULL, target_id {_C} NOT NULL,
        time_us bigint, at timestamptz NOT NULL, reason text NOT NULL,
        state text NOT NULL CHECK (state IN ('quarantined', 'released', 'rejected')),
        decided_by text, decision text, decided_at timestamptz, seq bigint NOT NULL DEFAULT 0,
        UNIQUE (kind, target_id)
    );
    CREATE INDEX quarantine_state ON quarantine (kind, state, target_id);
    {_REFUSE}
    {_append_only("observations")}
    {_append_only("detections")}
    {_append_only("audit")}
    {_never_deleted("api_tokens", "api_tokens rows are revoked, never deleted")}
    {_never_deleted("quarantine", "quarantine rows are released or rejected, never deleted")}
    {_never_deleted("derived", "derived rows are superseded, never deleted")}
    CREATE TRIGGER derived_update BEFORE UPDATE ON derived FOR EACH ROW EXECUTE FUNCTION truceline_derived_update();
    """,
)


# -- connections -----------------------------------------------------------------------------------
def redact(url: str) -> str:
    """The URL with its password (in the user part or a ``password=`` parameter) shown as ``***``."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            netloc = userinfo.split(":", 1)[0] + ":***@" + host
    query = "&".join(
        f"{k}=***" if k.lower() == "password" else (f"{k}={v}" if v else k)
        for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    )
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def connect(url: str, where: str) -> psycopg.Connection[Any]:
    """An autocommit connection to the database of ``url`` (``where``: the URL as shown, redacted), in UTC,
    waiting at most 30 s for a lock (as the SQLite store's busy timeout).

    Raises
    ------
    InvalidInput
        For a URL that does not parse or a server that refuses the connection (down, wrong password,
        unknown database or role), naming the URL without its password.
    """
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise InvalidInput(f"store URL {where!r}: cannot connect: {text}") from None
    conn.execute("SET TIME ZONE 'UTC'")
    conn.execute("SET lock_timeout = '30s'")
    return conn


def schema_version(conn: psycopg.Connection[Any]) -> int:
    """The number of migrations the connection's schema has had (0 for none)."""
    row = conn.execute("SELECT to_regclass('truceline_schema') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return 0
    row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM truceline_schema").fetchone()
    return 0 if row is None else int(row[0])


def _enable_postgis(conn: psycopg.Connection[Any], where: str) -> None:
    """``CREATE EXTENSION IF NOT EXISTS postgis`` (inside the migration's transaction), or a clear error."""
    conn.execute("SAVEPOINT postgis")
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.Error as exc:
        conn.execute("ROLLBACK TO SAVEPOINT postgis")
        text = " ".join(str(exc).split())
        raise RuntimeError(
            f"{where}: PostGIS is not enabled in this database and cannot be ({text}); "
            "scripts/postgis.sh installs it and enables it (or, as a superuser: CREATE EXTENSION postgis)"
        ) from None


def migrate(conn: psycopg.Connection[Any], where: str) -> None:
    """Bring the schema of the connection's current schema up to date (``conn`` in autocommit).

    Raises
    ------
    RuntimeError
        For a schema newer than this truceline knows, or a database without PostGIS that the role may
        not enable it in.
    psycopg.Error
        For a migration that fails (rolled back: the schema keeps its previous version).
    """
    if schema_version(conn) == len(MIGRATIONS):
        return
    conn.execute("BEGIN")
    try:
        conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", (_LOCK_KEY,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS truceline_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)"
        )
        version = schema_version(conn)
        if version > len(MIGRATIONS):
            raise RuntimeError(
                f"{where}: schema version {version} is newer than this truceline knows ({len(MIGRATIONS)})"
            )
        if version < len(MIGRATIONS):
            _enable_postgis(conn, where)
        for i in range(version, len(MIGRATIONS)):
            conn.execute(MIGRATIONS[i].encode())  # bytes: several statements, no parameters
            conn.execute("INSERT INTO truceline_schema VALUES (%s, now())", (i + 1,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def point_ewkt(record: Record) -> str | None:
    """The record's position as EWKT (``SRID=4326;POINT(lon lat)``, what a ``geom`` column is written
    from), None for a record without one: its ``position``, else ``observer_position``, else ``place``."""
    for name in ("position", "observer_position", "place"):
        p = getattr(record, name, None)
        lon, lat = getattr(p, "lon_deg", None), getattr(p, "lat_deg", None)
        if isinstance(lon, float | int) and isinstance(lat, float | int):
            return f"SRID=4326;POINT({float(lon)!r} {float(lat)!r})"
    return None


class Plumbing:
    """The PostGIS store's connection: its lock, its transactions and the statements run on it.

    One connection in autocommit mode; :meth:`transaction` opens a ``BEGIN ... COMMIT`` (nestable: the
    outermost one commits, any exception rolls everything back) and takes the row lock of the sequence
    counter, so that writers go one at a time, as SQLite's ``BEGIN IMMEDIATE`` makes them: a repeat is
    told from a new record under the lock, and sequence numbers are given in commit order. Every
    statement goes through :meth:`_run`, which turns psycopg's operational errors (server gone, lock
    timeout) into :class:`~truceline.store.base.StoreFailure`.
    """

    path: str
    _db: psycopg.Connection[Any]
    _lock: threading.RLock
    _depth: int

    def _run(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> psycopg.Cursor[Any]:
        """Run one statement (results fetched by the caller)."""
        try:
            with self._lock:
                return self._db.execute(sql, params)
        except psycopg.OperationalError as exc:
            raise StoreFailure(f"{self.path}: {' '.join(str(exc).split())}") from exc

    def _one(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> tuple[Any, ...] | None:
        return self._run(sql, params).fetchone()

    def _all(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self._run(sql, params).fetchall()

    @contextmanager
    def _failures(self) -> Iterator[None]:
        """Turn psycopg's operational errors raised inside into :class:`StoreFailure` (for cursors and COPY)."""
        try:
            yield
        except psycopg.OperationalError as exc:
            raise StoreFailure(f"{self.path}: {' '.join(str(exc).split())}") from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._run("BEGIN")
                try:
                    self._run("SELECT value FROM seqs WHERE name = 'obs' FOR UPDATE")
                except BaseException:
                    self._rollback()
                    raise
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._rollback()
                raise
            self._depth -= 1
            if outer:
                try:
                    self._run("COMMIT")
                except BaseException:
                    self._rollback()
                    raise

    def _rollback(self) -> None:
        """Roll the open transaction back; a connection already lost has nothing to roll back."""
        with contextlib.suppress(psycopg.Error, StoreFailure):
            self._db.execute("ROLLBACK")

    def _next_seq(self, n: int) -> int:
        """Reserve ``n`` sequence numbers (inside a transaction); return the first."""
        row = self._one("UPDATE seqs SET value = value + %s WHERE name = 'obs' RETURNING value", (int(n),))
        assert row is not None
        return int(row[0]) - int(n) + 1

    def _copy_rows(self, copy_sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Write ``rows`` with ``COPY ... FROM STDIN`` (text format: the server parses json and EWKT)."""
        with self._failures(), self._lock, self._db.cursor() as cur, cur.copy(copy_sql) as cp:
            for row in rows:
                cp.write_row(row)
