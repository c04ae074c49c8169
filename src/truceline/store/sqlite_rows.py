"""The SQLite store's tables row by row, as stored: what a copy of a store reads and writes.

:class:`SQLiteRows` holds :meth:`~truceline.store.base.Store.table_rows` and
:meth:`~truceline.store.base.Store.load_rows` of :class:`~truceline.store.sqlite.SQLiteStore` (the
tables and their columns: :mod:`truceline.store.tables`). Times of writes are kept as ISO 8601 text,
read back as aware datetimes and written with ``isoformat()``, as the store writes them itself.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from truceline.store.tables import Table, select_sql, table

__all__ = ["SQLiteRows"]


def _read(t: Table, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows as read, their times of writes as datetimes (UTC when the text has no offset)."""
    at = [t.columns.index(c) for c in t.times]
    if not at:
        return rows
    out = []
    for row in rows:
        values = list(row)
        for i in at:
            if values[i] is not None:
                when = dt.datetime.fromisoformat(values[i])
                values[i] = when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
        out.append(tuple(values))
    return out


def _written(row: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(v.isoformat() if isinstance(v, dt.datetime) else v for v in row)


class SQLiteRows:
    """Tables row by row (the copy methods of the :class:`~truceline.store.base.Store`)."""

    _db: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[None]:  # pragma: no cover - the store's own
        raise NotImplementedError

    def table_rows(
        self,
        name: str,
        after: Sequence[Any] | None = None,
        upto: Sequence[Any] | None = None,
        limit: int | None = None,
    ) -> list[tuple[Any, ...]]:
        """Rows of a table as stored, in key order (see the protocol)."""
        t = table(name)
        sql, args = select_sql(t, after, upto, limit)
        return _read(t, self._db.execute(sql, args).fetchall())

    def load_rows(self, name: str, rows: Sequence[Sequence[Any]]) -> None:
        """Write rows as they were stored (see the protocol), atomically: the counters of ``AUTOINCREMENT``
        keys follow the largest key written (SQLite's own rule); a row of ``seqs`` replaces the counter.

        Raises
        ------
        ValueError
            For rows the database refuses (a key already stored): nothing is written.
        """
        t = table(name)
        if not rows:
            return
        verb = "INSERT OR REPLACE" if t.name == "seqs" else "INSERT"
        sql = f"{verb} INTO {t.name} ({', '.join(t.columns)}) VALUES ({', '.join('?' * len(t.columns))})"
        try:
            with self.transaction():
                self._db.executemany(sql, [_written(r) for r in rows])
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"{t.name}: rows refused: {exc}") from None
