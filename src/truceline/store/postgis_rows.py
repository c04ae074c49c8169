"""The PostGIS store's tables row by row, as stored: what a copy of a store reads and writes.

:class:`PostGISRows` holds :meth:`~truceline.store.base.Store.table_rows` and
:meth:`~truceline.store.base.Store.load_rows` of :class:`~truceline.store.postgis.PostGISStore` (the
tables and their columns: :mod:`truceline.store.tables`). JSON columns are read as their stored text;
rows are written with ``COPY`` (which keeps the given values of identity columns), the identity
sequences set past them, and the ``geom`` of observations and derived rows made from their bodies as
:func:`~truceline.store.postgis_schema.point_ewkt` makes it from their records.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import psycopg

from truceline.store.postgis_schema import Plumbing
from truceline.store.tables import select_sql, table

__all__ = ["PostGISRows", "geom_of"]


def geom_of(body: str) -> str | None:
    """The EWKT point of a stored body (``position``, else ``observer_position``, else ``place``, each
    ``{"lon_deg", "lat_deg"}``), None for a body without one or that is no JSON object."""
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    for name in ("position", "observer_position", "place"):
        p = obj.get(name)
        if not isinstance(p, dict):
            continue
        lon, lat = p.get("lon_deg"), p.get("lat_deg")
        if isinstance(lon, float | int) and isinstance(lat, float | int) and not isinstance(lon, bool):
            return f"SRID=4326;POINT({float(lon)!r} {float(lat)!r})"
    return None


class PostGISRows(Plumbing):
    """Tables row by row (the copy methods of the :class:`~truceline.store.base.Store`)."""

    def table_rows(
        self,
        name: str,
        after: Sequence[Any] | None = None,
        upto: Sequence[Any] | None = None,
        limit: int | None = None,
    ) -> list[tuple[Any, ...]]:
        """Rows of a table as stored, in key order (see the protocol)."""
        sql, args = select_sql(table(name), after, upto, limit, "%s", "::text")
        return [tuple(r) for r in self._all(sql, args)]

    def load_rows(self, name: str, rows: Sequence[Sequence[Any]]) -> None:
        """Write rows as they were stored (see the protocol), atomically; a row of ``seqs`` replaces the counter.

        Raises
        ------
        ValueError
            For rows the database refuses (a key already stored, a body that is no JSON, text holding
            NUL): nothing is written.
        """
        t = table(name)
        if not rows:
            return
        try:
            with self.transaction():
                if t.name == "seqs":
                    for row in rows:
                        self._run(
                            "INSERT INTO seqs VALUES (%s, %s) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                            tuple(row),
                        )
                    return
                cols, data = list(t.columns), [tuple(r) for r in rows]
                if "body" in t.columns:
                    body = t.columns.index("body")
                    cols, data = [*cols, "geom"], [(*r, geom_of(r[body])) for r in data]
                self._copy_rows(f"COPY {t.name} ({', '.join(cols)}) FROM STDIN", data)
                if t.identity is not None:
                    self._run(
                        f"SELECT setval(pg_get_serial_sequence('{t.name}', '{t.identity}'), "
                        f"(SELECT MAX({t.identity}) FROM {t.name}))"
                    )
        except (psycopg.DataError, psycopg.IntegrityError) as exc:
            raise ValueError(f"{self.path}: {t.name}: rows refused: {' '.join(str(exc).split())}") from None
