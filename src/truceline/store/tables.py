"""The stored tables as a copy sees them: their columns, keys and times, the same on every backend.

:meth:`~truceline.store.base.Store.table_rows` reads a table's rows as they are stored (held records,
superseded derived rows and bodies that no longer decode included) and
:meth:`~truceline.store.base.Store.load_rows` writes them back as they were (same keys, sequence
numbers, times of writes and bodies): what ``truceline store copy`` (:mod:`truceline.store.copy`) moves
from one backend to another. A row is a tuple of the :attr:`Table.columns`, each value an ``int``,
``float``, ``str``, None, or for the times of writes (:attr:`Table.times`) an aware ``datetime``; JSON
columns as their stored text. Rows are read in key order (text in code point order on both backends),
a page at a time: keys after ``after`` and up to ``upto``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["COPY_ORDER", "TABLES", "Table", "select_sql", "table"]


@dataclass(frozen=True)
class Table:
    """A stored table, as :meth:`~truceline.store.base.Store.table_rows` reads it.

    Attributes
    ----------
    name : str
        The table's name (the same on every backend).
    columns : tuple of str
        The columns of a row, the key first.
    key : int
        How many of the first columns make the key (unique; the order rows are read in).
    times : tuple of str
        Columns holding times of writes (aware datetimes in a row).
    json : tuple of str
        Columns holding JSON (read as their stored text).
    identity : str or None
        A key column the backend numbers itself (run ids, audit and quarantine ids): after a load, the
        numbers it gives next follow the largest loaded.
    kinds : bool
        Whether the first column is a kind (the verification hashes each kind apart).
    """

    name: str
    columns: tuple[str, ...]
    key: int = 1
    times: tuple[str, ...] = ()
    json: tuple[str, ...] = ()
    identity: str | None = None
    kinds: bool = False

    def key_of(self, row: Sequence[Any]) -> tuple[Any, ...]:
        """The key of a row."""
        return tuple(row[: self.key])


_DETECTION_COLUMNS = (
    "id", "sensor_id", "t_us", "time_sigma_s", "bearing_deg", "bearing_sigma_deg", "amplitude_pa", "launch_score",
    "impact_score", "seq", "source",
)  # fmt: skip

#: Every stored table, by name, in the order a copy writes them (the sequence counters last: a copy
#: whose counters are set is complete).
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table("observations", ("kind", "id", "time_us", "seq", "ingested_at", "source", "body"), key=2,
              times=("ingested_at",), json=("body",), kinds=True),
        Table("detections", _DETECTION_COLUMNS),
        Table("runs", ("run_id", "what", "started_at", "parameters", "window_s"), times=("started_at",),
              json=("parameters",), identity="run_id"),
        Table("derived", ("kind", "id", "run_id", "time_us", "scope", "status", "superseded_by", "body"), key=3,
              json=("body",), kinds=True),
        Table("scopes", ("scope", "seen_seq", "run_id", "processed_at"), times=("processed_at",)),
        Table("audit", ("seq", "at", "actor", "action", "target_kind", "target_id", "reason", "before", "after"),
              times=("at",), json=("before", "after"), identity="seq"),
        Table("quarantine", ("qid", "kind", "target_id", "time_us", "at", "reason", "state", "decided_by",
                             "decision", "decided_at", "seq"), times=("at", "decided_at"), identity="qid"),
        Table("api_tokens", ("token_id", "name", "role", "party", "token_hash", "created_at", "revoked_at"),
              times=("created_at", "revoked_at")),
        Table("seqs", ("name", "value"), kinds=True),
    )
}  # fmt: skip

#: The tables a copy writes row by row, in order (``seqs``, the counters, is set after them).
COPY_ORDER = tuple(name for name in TABLES if name != "seqs")


def table(name: str) -> Table:
    """The table called ``name``.

    Raises
    ------
    ValueError
        For a name that is no stored table.
    """
    try:
        return TABLES[name]
    except KeyError:
        raise ValueError(f"table {name!r}: not a stored table ({', '.join(TABLES)})") from None


def select_sql(
    t: Table,
    after: Sequence[Any] | None,
    upto: Sequence[Any] | None,
    limit: int | None,
    param: str = "?",
    json_cast: str = "",
) -> tuple[str, list[Any]]:
    """The ``SELECT`` of a page of ``t`` (keys ``> after`` and ``<= upto``, either optional; at most
    ``limit`` rows) in key order, and its parameters.

    Parameters
    ----------
    t : Table
        The table.
    after, upto : sequence, optional
        Key bounds (as many values as the key has columns).
    limit : int, optional
        The most rows returned.
    param : str
        The driver's placeholder (``?`` for sqlite3, ``%s`` for psycopg).
    json_cast : str
        Appended to the JSON columns (``::text`` on PostgreSQL: the stored text).
    """
    keys = t.columns[: t.key]
    cols = ", ".join(f"{c}{json_cast}" if c in t.json else c for c in t.columns)
    where, args = [], list[Any]()
    row = f"({', '.join(keys)})"
    marks = f"({', '.join([param] * t.key)})"
    for bound, op in ((after, ">"), (upto, "<=")):
        if bound is not None:
            if len(bound) != t.key:
                raise ValueError(f"{t.name}: a key has {t.key} value(s), not {len(bound)}")
            where.append(f"{row} {op} {marks}")
            args += list(bound)
    sql = f"SELECT {cols} FROM {t.name}" + (" WHERE " + " AND ".join(where) if where else "")
    sql += f" ORDER BY {', '.join(keys)}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql, args
