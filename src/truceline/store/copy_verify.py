"""Verification of a store copy: rows and a SHA-256 of each kind, in the source and in the destination.

Every stored table (:data:`truceline.store.tables.TABLES`) is read in key order a page at a time; each
row is encoded canonically (JSON of its values, times of writes as µs since 1970 UTC, so that the same
row reads the same from SQLite and PostgreSQL) and hashed, per kind for the tables that hold several
(``observations/sighting``, ``derived/incident``, ``seqs/obs``) and per table for the others
(``detections``, ``runs``, ``audit``...). Two stores are identical when every part has the same count
and the same hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from truceline.store.base import Store, to_us
from truceline.store.tables import TABLES, Table

__all__ = ["Part", "digest", "encode_row", "pages", "verify"]

#: Rows read at a time.
PAGE = 5000


def _value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return {"t": to_us(v if v.tzinfo is not None else v.replace(tzinfo=dt.UTC))}
    return v


def encode_row(row: Sequence[Any]) -> bytes:
    """A row's canonical bytes: JSON of its values (ASCII; floats exact; times as ``{"t": µs}``), one line."""
    return (json.dumps([_value(v) for v in row], separators=(",", ":"), allow_nan=True) + "\n").encode("ascii")


def pages(store: Store, t: Table, page: int = PAGE) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of ``t`` in ``store``, in key order, ``page`` at a time."""
    after = None
    while True:
        rows = store.table_rows(t.name, after=after, limit=page)
        if not rows:
            return
        yield rows
        after = t.key_of(rows[-1])


@dataclass(frozen=True)
class Part:
    """One kind (or table) of a store as the verification sees it in both stores.

    Attributes
    ----------
    name : str
        ``table`` or ``table/kind`` (``observations/sensor``, ``derived/violation``, ``detections``).
    source_rows, destination_rows : int
        Its rows in each store.
    source_sha256, destination_sha256 : str
        Hex SHA-256 of its rows in key order (canonical encoding: :func:`encode_row`).
    """

    name: str
    source_rows: int
    destination_rows: int
    source_sha256: str
    destination_sha256: str

    @property
    def ok(self) -> bool:
        """Whether both stores hold the same rows."""
        return self.source_rows == self.destination_rows and self.source_sha256 == self.destination_sha256


def digest(store: Store, page: int = PAGE) -> dict[str, tuple[int, str]]:
    """Rows and hex SHA-256 of every part of ``store`` (every table, and every kind of those with kinds;
    an empty table with kinds is one part named after the table)."""
    out: dict[str, tuple[int, str]] = {}
    for t in TABLES.values():
        counts: dict[str, int] = {}
        hashes: dict[str, Any] = {}
        for rows in pages(store, t, page):
            for row in rows:
                part = f"{t.name}/{row[0]}" if t.kinds else t.name
                if part not in hashes:
                    hashes[part], counts[part] = hashlib.sha256(), 0
                hashes[part].update(encode_row(row))
                counts[part] += 1
        if not hashes:
            out[t.name] = (0, hashlib.sha256().hexdigest())
        out.update({part: (counts[part], h.hexdigest()) for part, h in hashes.items()})
    return out


def verify(source: Store, destination: Store, page: int = PAGE) -> list[Part]:
    """Every part of either store with its rows and hash in both (a part one store lacks: 0 rows there)."""
    src, dst = digest(source, page), digest(destination, page)
    empty = (0, hashlib.sha256().hexdigest())
    names = list(dict.fromkeys([*src, *dst]))
    order = {name: i for i, name in enumerate(TABLES)}
    names.sort(key=lambda n: (order[n.split("/", 1)[0]], n))
    parts = []
    for name in names:
        (n_src, h_src), (n_dst, h_dst) = src.get(name, empty), dst.get(name, empty)
        parts.append(Part(name, n_src, n_dst, h_src, h_dst))
    # A table with kinds that is empty on one side only is listed by its kinds alone.
    return [p for p in parts if not (p.name in TABLES and TABLES[p.name].kinds and p.ok and p.source_rows == 0
                                     and any(q.name.startswith(p.name + "/") for q in parts))]  # fmt: skip
