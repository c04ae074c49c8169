"""Copy a whole store to another, on any backend (``truceline store copy SRC_URL DST_URL``), verified and
resumable.

What is copied: every stored table as it is (:mod:`truceline.store.tables`): the raw observations of
every kind and the detections (held ones, and bodies that no longer decode, included), with their
sequence numbers, times of ingest and source files; the runs; the derived records, superseded ones
included, with their scope, run, status and supersession; the scopes' processing state; the audit
trail with its original times and numbers; the quarantine with its decisions; the API tokens (hashes);
and last the sequence counter. The same ids, the same bodies, the same numbers: a copy processes,
reviews and serves as its source did.

How: table by table in a fixed order (:data:`~truceline.store.tables.COPY_ORDER`), each in key order,
a batch of rows per transaction of the destination. A copy killed at any point leaves in the
destination a prefix of each table, and its counter unset; running it again reads the source from the
start, compares each batch with the destination's rows of the same keys (they must be the source's,
or the destination is refused), writes only the missing ones, and sets the counter last. Then every
kind is verified by rows and SHA-256 in both stores (:mod:`truceline.store.copy_verify`).
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from truceline.core.errors import Conflict, InvalidInput
from truceline.store.base import Store
from truceline.store.copy_verify import Part, encode_row, verify
from truceline.store.registry import backend_of, open_store
from truceline.store.sqlite_schema import DB_NAME
from truceline.store.tables import COPY_ORDER, TABLES, Table

__all__ = ["CopyReport", "copy_store", "copy_table", "destination_state", "same_store", "shown"]

#: Rows per batch (one transaction of the destination each).
BATCH = 5000

#: ``progress(table, copied, present)`` after each batch: rows written so far, rows already there.
Progress = Callable[[str, int, int], None]


@dataclass
class CopyReport:
    """What a copy did and what the verification found.

    Attributes
    ----------
    source, destination : str
        The stores' URLs as shown (passwords as ``***``).
    resumed : bool
        Whether the destination held part of the copy already.
    copied, present : dict of str to int
        Rows written by this run, and rows found already copied, per table.
    parts : list of Part
        Rows and SHA-256 of every kind in both stores.
    seconds : float
        Time the copy took (the verification not counted).
    """

    source: str
    destination: str
    resumed: bool = False
    copied: dict[str, int] = field(default_factory=dict)
    present: dict[str, int] = field(default_factory=dict)
    parts: list[Part] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether every kind has the same rows in both stores."""
        return all(p.ok for p in self.parts)

    @property
    def mismatched(self) -> list[str]:
        """The kinds whose rows differ."""
        return [p.name for p in self.parts if not p.ok]


def shown(url: str | Path) -> str:
    """A store URL as it may be printed: a PostgreSQL password as ``***``."""
    text = str(url)
    if "://" not in text or text.lower().startswith("sqlite://"):
        return text
    from truceline.store.postgis_schema import redact  # psycopg only for a database URL

    return redact(text)


def _identity(url: str) -> tuple[object, ...]:
    """What tells two URLs of one store apart from others: a data directory's resolved path; a database's
    backend, host, port, database and options (user and password aside)."""
    backend, location = backend_of(url)
    if backend.data_dir is not None:
        return ("dir", str(backend.data_dir(location).resolve()))
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port or 5432
    except ValueError:
        raise InvalidInput(f"store URL {shown(url)!r}: the port is not a number") from None
    query = sorted((k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k.lower() not in ("password", "user"))
    return (backend.open, (parts.hostname or "").lower(), port, parts.path.strip("/"), tuple(query))


def same_store(a: str, b: str) -> bool:
    """Whether two URLs name the same store (the same data directory, or the same host, port, database
    and options)."""
    return _identity(a) == _identity(b)


def _check_urls(src: str, dst: str) -> None:
    """Refuse bad URLs, one store twice, and a source data directory that holds no store.

    Raises
    ------
    InvalidInput
        Naming the URL (its password as ``***``).
    """
    for role, url in (("source", src), ("destination", dst)):
        try:
            backend_of(url)
        except InvalidInput as exc:
            raise InvalidInput(f"{role}: {_hidden(str(exc), url)}") from None
    if same_store(src, dst):
        raise InvalidInput(f"source and destination are the same store ({shown(src)}): nothing to copy")
    backend, location = backend_of(src)
    if backend.data_dir is not None and not (backend.data_dir(location) / DB_NAME).is_file():
        raise InvalidInput(f"source {shown(src)!r}: no store there ({backend.data_dir(location) / DB_NAME} missing)")


def _hidden(message: str, url: str) -> str:
    """A message with the URL in it as :func:`shown` shows it."""
    return message.replace(url, shown(url))


def _open(role: str, url: str) -> Store:
    """The store at ``url``, or :class:`InvalidInput` naming its ``role`` and the URL as shown."""
    try:
        return open_store(url)
    except (InvalidInput, RuntimeError) as exc:
        raise InvalidInput(f"{role}: {_hidden(str(exc), url)}") from None


def destination_state(source: Store, destination: Store, src: str, dst: str) -> bool:
    """Whether the destination holds part of a copy of the source (True) or nothing (False).

    A partial copy holds, for each table it has rows of, the source's first row, and its sequence counter
    is unset (0) or the source's; every batch is compared again while copying.

    Raises
    ------
    Conflict
        For a destination that holds other data, naming the table.
    """
    started = False
    for name in COPY_ORDER:
        have = destination.table_rows(name, limit=1)
        if not have:
            continue
        started = True
        want = source.table_rows(name, limit=1)
        if not want or encode_row(want[0]) != encode_row(have[0]):
            raise Conflict(
                f"destination {dst!r} is not empty and is not a copy of {src!r}: its {name} differ "
                f"(first row {TABLES[name].key_of(have[0])}); copy into an empty store"
            )
    counters = {row[0]: row[1] for row in source.table_rows("seqs")}
    for name, value in destination.table_rows("seqs"):
        if value not in (0, counters.get(name, 0)):
            raise Conflict(
                f"destination {dst!r} is not a copy of {src!r}: its counter {name!r} is {value}, the "
                f"source's {counters.get(name, 0)} (was it written to after a copy?); copy into an empty store"
            )
        started = started or value != 0
    return started


def copy_table(
    source: Store, destination: Store, t: Table, batch: int = BATCH, progress: Progress | None = None
) -> tuple[int, int]:
    """Copy the rows of ``t`` the destination lacks, a batch per transaction, in key order; returns
    ``(written, already there)``.

    Raises
    ------
    Conflict
        For a destination row that is not the source's (another store, or a source changed since).
    """
    after, written, present = None, 0, 0
    dest_may_have = True
    while rows := source.table_rows(t.name, after=after, limit=batch):
        upto = t.key_of(rows[-1])
        have = destination.table_rows(t.name, after=after, upto=upto) if dest_may_have else []
        if have:
            mine = {t.key_of(r): encode_row(r) for r in rows}
            for row in have:
                if mine.get(t.key_of(row)) != encode_row(row):
                    raise Conflict(
                        f"destination: {t.name} {t.key_of(row)} is not the source's row (another store, or the "
                        "source changed since the copy began); copy into an empty store"
                    )
            known = {t.key_of(r) for r in have}
            rows = [r for r in rows if t.key_of(r) not in known]
            present += len(known)
        else:
            dest_may_have = bool(destination.table_rows(t.name, after=upto, limit=1))
        if rows:
            destination.load_rows(t.name, rows)
            written += len(rows)
        if progress is not None:
            progress(t.name, written, present)
        after = upto
    return written, present


def copy_store(src: str, dst: str, *, batch: int = BATCH, progress: Progress | None = None) -> CopyReport:
    """Copy the store at ``src`` into the store at ``dst`` (empty, or a partial copy of ``src``), then
    verify both (see the module docstring).

    Parameters
    ----------
    src, dst : str
        Store URLs (``sqlite://DIR`` or a bare data directory, ``postgresql://USER:PASSWORD@HOST:PORT/DB``).
    batch : int
        Rows per transaction of the destination.
    progress : callable, optional
        ``progress(table, written, already_there)`` after each batch.

    Returns
    -------
    CopyReport
        Its :attr:`~CopyReport.ok` is False when a kind differs (:attr:`~CopyReport.mismatched`).

    Raises
    ------
    InvalidInput
        For an unknown scheme, a server that does not answer, one store named twice, a source directory
        holding no store (each naming the URL, its password as ``***``).
    Conflict
        For a destination that holds other data than a partial copy of the source.
    OSError
        For a failure of a store while copying (the copy is resumed by running it again).
    """
    if batch < 1:
        raise InvalidInput(f"batch: {batch} must be >= 1")
    _check_urls(src, dst)
    report = CopyReport(shown(src), shown(dst))
    source = _open("source", src)
    try:
        destination = _open("destination", dst)
        try:
            start = time.monotonic()
            report.resumed = destination_state(source, destination, report.source, report.destination)
            for name in COPY_ORDER:
                report.copied[name], report.present[name] = copy_table(
                    source, destination, TABLES[name], batch, progress
                )
            destination.load_rows("seqs", source.table_rows("seqs"))
            report.seconds = time.monotonic() - start
            report.parts = verify(source, destination, max(batch, 1000))
        finally:
            destination.close()
    finally:
        source.close()
    return report
