"""The store backends the tests run on, and what a test needs to reach beneath the Store protocol.

``--store-backends=sqlite,postgis`` (default ``sqlite``; ``TRUCELINE_TEST_PG_URL`` set adds ``postgis``)
chooses the backends; every test that asks for the ``store`` fixture (or ``store_url``, or ``backend``)
runs once on each (tests/conftest.py). A PostGIS test gets a schema of its own in the test database
(``TRUCELINE_TEST_PG_URL``, default :data:`DEFAULT_PG_URL`, what ``scripts/postgis.sh --test`` makes),
dropped after it. PostGIS asked for but not answering fails the tests, it never skips them.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from truceline.store import SQLiteStore, Store

BACKENDS = ("sqlite", "postgis")
#: The test database of ``scripts/postgis.sh --test`` with its default role and password.
DEFAULT_PG_URL = "postgresql://truceline:truceline@127.0.0.1:5432/truceline_test"


def requested(config: pytest.Config) -> list[str]:
    """The backends asked for: ``--store-backends``, else sqlite (and postgis when ``TRUCELINE_TEST_PG_URL`` is set)."""
    opt = config.getoption("--store-backends")
    if opt is None:
        return ["sqlite", "postgis"] if os.environ.get("TRUCELINE_TEST_PG_URL") else ["sqlite"]
    names = [b.strip().lower() for b in str(opt).split(",") if b.strip()]
    unknown = sorted(set(names) - set(BACKENDS))
    if unknown or not names:
        raise pytest.UsageError(f"--store-backends={opt}: known backends are {', '.join(BACKENDS)}")
    return list(dict.fromkeys(names))


def pg_url() -> str:
    return os.environ.get("TRUCELINE_TEST_PG_URL") or DEFAULT_PG_URL


def check_pg(url: str) -> None:
    """Fail (never skip) when the PostGIS test database does not answer, saying how to start it."""
    import psycopg

    from truceline.store.postgis_schema import redact

    try:
        psycopg.connect(url, connect_timeout=5).close()
        return
    except psycopg.Error as exc:
        why = " ".join(str(exc).split())
    pytest.fail(
        f"the postgis store backend was asked for (--store-backends or TRUCELINE_TEST_PG_URL) but {redact(url)} "
        f"does not answer: {why}\nstart it with: export TRUCELINE_TEST_PG_URL=$(bash scripts/postgis.sh --test)",
        pytrace=False,
    )


def with_schema(url: str, schema: str) -> str:
    """``url`` whose connections use ``schema`` first (then ``public``, where PostGIS is)."""
    options = urllib.parse.quote(f"-csearch_path={schema},public")
    return f"{url}{'&' if '?' in url else '?'}options={options}"


@contextmanager
def pg_schema(url: str) -> Iterator[str]:
    """A new empty schema in the test database (dropped with everything in it afterwards): its URL."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield with_schema(url, schema)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '20s'")
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def is_sqlite(store: Store) -> bool:
    return isinstance(store, SQLiteStore)


def execute(store: Store, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Raw SQL on the store's own connection (``?`` placeholders; ``%s`` for PostgreSQL), its rows."""
    if isinstance(store, SQLiteStore):
        return store._db.execute(sql, params).fetchall()
    cur = store._db.execute(sql.replace("?", "%s"), params)  # type: ignore[attr-defined]
    return cur.fetchall() if cur.description else []


def all_rows(store: Store, table: str) -> list[tuple[Any, ...]]:
    order = "" if is_sqlite(store) else " ORDER BY 1, 2"
    return execute(store, f"SELECT * FROM {table}{order}")


def refused(store: Store) -> type[Exception]:
    """The error the backend's database raises for a change a trigger refuses."""
    if is_sqlite(store):
        return sqlite3.IntegrityError
    import psycopg

    return psycopg.errors.RestrictViolation


@contextmanager
def plain_connection(store: Store, url: str) -> Iterator[Any]:
    """A connection of the backend's driver to the store at ``url``, not through truceline."""
    if is_sqlite(store):
        conn = sqlite3.connect(store.path, isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        yield conn
