"""The ``Store`` protocol: what the services need from a backend, and nothing more.

Three families of data, kept apart as DESIGN.md asks:

- **Raw observations and claims** (append-only): codebook records keyed by ``(kind, id)``;
  detections, the bulk of the volume, in a column table. Sending a record again with the same id
  and the same content stores nothing (a *repeat*); the same id with other content is a
  *conflict* and is refused (an observation is never overwritten).
- **Derived records** (events, incidents, violations, claim assessments), each under a *scope*
  (the processing window or job that made it) and a run. Re-deriving a scope *supersedes* the
  previous rows; nothing is deleted, so a finding an analyst reviewed can always be read back.
  A derived record's current verification status lives beside it (analysts change it; the record
  itself is immutable).
- **The audit trail** (append-only): who did what, when, why, with the state before and after.
- **Quarantine**: raw records (or whole processing scopes) that failed later, in processing, with the
  reason and an analyst's decision (``quarantined`` → ``released`` or ``rejected``). A held record
  (quarantined or rejected) stays stored (raw tables are append-only) but is left out of every read of
  observations and detections and of the windows to process; a released one is used again.

The SQLite backend (:mod:`truceline.store.sqlite`) is the embedded default; a PostgreSQL/PostGIS
backend implements the same protocol and callers do not change: they open a store by its URL
through :func:`truceline.store.registry.open_store` and are typed against :class:`Store`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from truceline.core import Record
from truceline.io.detections import DetectionTable

#: Times cross the protocol as integer microseconds since 1970-01-01 UTC (the unit of detections).
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def to_us(t: dt.datetime) -> int:
    """An aware datetime as the store's time unit (µs since 1970 UTC)."""
    return (t - EPOCH) // dt.timedelta(microseconds=1)


def from_us(us: int) -> dt.datetime:
    """The store's time unit back to an aware UTC datetime."""
    return EPOCH + dt.timedelta(microseconds=int(us))


def filed_time(record: Record) -> dt.datetime:
    """The time an observation is filed under: its ``time`` (or ``installed_at``); a claim, the start
    of the period it is about; else its ``published_at``.

    Raises
    ------
    ValueError
        For a record with none of these.
    """
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


#: The times (µs) a datetime can hold with a day to spare either side (years 1 to 9999): stored times
#: outside it (a detection at ``NaT`` or in year 10000) are never windows, spans or datetimes.
MIN_US = to_us(dt.datetime(1, 1, 3, tzinfo=dt.UTC))
MAX_US = to_us(dt.datetime(9999, 12, 29, tzinfo=dt.UTC))

#: States of a quarantined record or scope: held until an analyst releases (used again) or rejects it
#: (kept out for good).
QUARANTINE_STATES = ("quarantined", "released", "rejected")


class StoredRecordError(ValueError):
    """A stored record (an observation or a derived record) that cannot be read back as its record
    (its body no longer decodes: a codebook change, a row written before validation existed).

    Raised by :meth:`Store.records` and :meth:`Store.derived` with ``strict=True``, naming the record
    (``kind``, ``record_id``, and ``time_us``, the time it is filed under, when known), so that the
    caller can quarantine it and go on.
    """

    def __init__(self, kind: str, record_id: str, reason: str, time_us: int | None = None) -> None:
        super().__init__(f"stored {kind} {record_id!r}: {reason}")
        self.kind = kind
        self.record_id = record_id
        self.reason = reason
        self.time_us = time_us


class StoreFailure(OSError):
    """A failure of the store itself, no record's fault: the database server gone, a lock not granted in
    time, a full disk. It stops a processing run (which is safe to run again) instead of holding a window
    in quarantine, as an ``OSError`` does. Raised by the backends whose driver does not raise ``OSError``
    or ``sqlite3.OperationalError`` for these (the PostGIS store, for psycopg's operational errors)."""


#: Kinds of derived records.
DERIVED_KINDS = ("event", "incident", "violation", "claim_assessment")


@dataclass
class AddResult:
    """What an append did: ``inserted`` new records, ``repeats`` already stored identically,
    ``conflicts`` ids already stored with other content (refused, with the reason)."""

    inserted: int = 0
    repeats: int = 0
    conflicts: list[tuple[str, str]] = field(default_factory=list)

    def __iadd__(self, other: AddResult) -> AddResult:
        self.inserted += other.inserted
        self.repeats += other.repeats
        self.conflicts += other.conflicts
        return self


@dataclass(frozen=True)
class Derived:
    """A derived record as stored: the record, its scope and run, its current status."""

    kind: str
    record: Record
    scope: str
    run_id: int
    status: str | None
    superseded_by: int | None


@dataclass(frozen=True)
class AuditEntry:
    """One analyst (or system) action, as kept forever."""

    seq: int
    at: dt.datetime
    actor: str
    action: str
    target_kind: str
    target_id: str
    reason: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class ScopeState:
    """How far a processing scope has got: the last observation sequence it has seen.

    ``window_s`` is the window length (s) stored with the run that last processed the scope (None for
    a run that processes no windows, such as the claims judgement).
    """

    scope: str
    seen_seq: int
    run_id: int
    processed_at: dt.datetime
    window_s: int | None = None


@dataclass(frozen=True)
class QuarantineEntry:
    """A record (or a processing scope) held out of processing, and what an analyst decided.

    Attributes
    ----------
    qid : int
        Id of the entry (what ``truceline quarantine release|reject`` take).
    kind : str
        The record's kind (``detection``, ``sighting``, ...) or ``scope`` for a whole processing scope
        (a window, the claims judgement).
    target_id : str
        The record id, or the scope (``window:2026-09-02T10:00:00Z``).
    time_us : int or None
        The time it is filed under (µs since 1970 UTC), as stored.
    at : datetime
        When it was (last) quarantined.
    reason : str
        Why: the check that failed or the exception text.
    state : str
        ``quarantined``, ``released`` or ``rejected``.
    decided_by, decision, decided_at
        The analyst, the reason given and when, for a release or a rejection (None before).
    """

    qid: int
    kind: str
    target_id: str
    time_us: int | None
    at: dt.datetime
    reason: str
    state: str
    decided_by: str | None = None
    decision: str | None = None
    decided_at: dt.datetime | None = None

    @property
    def held(self) -> bool:
        """Whether it is kept out of processing (quarantined or rejected)."""
        return self.state != "released"


@dataclass(frozen=True)
class ApiToken:
    """An API token as stored: never the token itself, only its SHA-256 hash.

    Attributes
    ----------
    token_id : str
        Public id of the token (``tok-`` and 12 hex digits), what ``truceline token revoke`` takes.
    name : str
        Who or what holds it (e.g. ``"analyst.fr.1"``); the actor of the review actions it makes.
    role : str
        ``admin``, ``analyst``, ``observer`` or ``liaison``.
    party : str or None
        The party of a liaison token (``UA``, ``RU``); None for the other roles.
    token_hash : str
        Hex SHA-256 of the token.
    created_at : datetime
        When it was made (UTC).
    revoked_at : datetime or None
        When it was revoked (UTC); a revoked token authenticates nobody.
    """

    token_id: str
    name: str
    role: str
    party: str | None
    token_hash: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


class Store(Protocol):
    """The storage protocol every backend implements (see the module docstring)."""

    path: str

    def transaction(self) -> AbstractContextManager[None]:
        """A unit of work: everything inside commits together or not at all (nestable)."""
        ...

    def close(self) -> None: ...

    # -- raw observations ------------------------------------------------------------------
    def add_records(self, kind: str, records: Sequence[Record], source: str = "") -> AddResult:
        """Append observation or claim records of one kind (idempotent by id)."""
        ...

    def add_detections(self, table: DetectionTable, source: str = "") -> AddResult:
        """Append detections (idempotent by id)."""
        ...

    def records(
        self, kind: str, since: dt.datetime | None = None, until: dt.datetime | None = None, *, strict: bool = False
    ) -> list[Record]:
        """Observation records of a kind, by time (``since <= time < until``), in time order, held
        (quarantined) ones left out. A stored body that no longer decodes is skipped with a logged
        warning, or with ``strict`` raises :class:`StoredRecordError` naming it."""
        ...

    def count(self, kind: str) -> int:
        """Stored records of a kind (``detection`` included)."""
        ...

    def detections(self, t0_us: int, t1_us: int) -> DetectionTable:
        """Detections with ``t0_us <= arrival < t1_us`` (µs since 1970 UTC), in arrival order, held
        (quarantined) ones left out."""
        ...

    def last_seq(self) -> int:
        """The sequence number of the newest stored observation (0 when empty)."""
        ...

    def max_seq_between(self, t0_us: int, t1_us: int, kind: str | None = None) -> int:
        """The newest sequence number of observations (of ``kind``, or of any kind but claims) timed in
        ``[t0_us, t1_us)``, releases from quarantine counted as new data; 0 when none (what tells an
        incremental run that a window has new data)."""
        ...

    def max_seq(self, kind: str) -> int:
        """The newest sequence number of a kind of observation (0 when none)."""
        ...

    def time_span_us(self) -> tuple[int, int] | None:
        """Earliest and latest observation time stored, µs (None when empty): sensors, claims, held
        records and times outside ``[MIN_US, MAX_US]`` left out."""
        ...

    def data_windows(
        self,
        window_us: int,
        margins_us: Mapping[str, int],
        since_us: int | None = None,
        until_us: int | None = None,
    ) -> list[int]:
        """Start times (µs, ascending) of the windows of length ``window_us`` (aligned on 1970) that hold
        data: a window ``[w0, w0 + window_us)`` is listed when, widened by ``margins_us[kind]`` (0 when
        absent; ``"detection"`` for detections) on both sides, it holds a record of that kind. Sensors,
        claims, held records and times outside ``[MIN_US, MAX_US]`` count for nothing; only windows
        starting in ``[since_us, until_us)`` are listed. The cost follows the windows that hold data,
        never the span between the earliest and the latest time."""
        ...

    def records_outside(self, lo_us: int, hi_us: int) -> list[tuple[str, str, int]]:
        """``(kind, id, time_us)`` of the records not held whose time is outside ``[lo_us, hi_us]``."""
        ...

    # -- derived records -------------------------------------------------------------------
    def new_run(self, what: str, parameters: dict[str, Any], window_s: int | None = None) -> int:
        """Open a processing run and return its id; ``window_s``: the length of the windows it processes
        (what :attr:`ScopeState.window_s` reports for the scopes it writes), None when it has none."""
        ...

    def replace_scope(self, scope: str, run_id: int, rows: Sequence[tuple[str, Record, int]], seen_seq: int) -> None:
        """Supersede the scope's current derived rows with ``rows`` of ``(kind, record, time_us)``
        and record that the scope has seen observations up to ``seen_seq``, atomically."""
        ...

    def scope_state(self, scope: str) -> ScopeState | None: ...

    def scope_states(self) -> dict[str, ScopeState]: ...

    def derived(
        self,
        kind: str,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        include_superseded: bool = False,
        *,
        strict: bool = False,
        on_skip: Callable[[StoredRecordError], None] | None = None,
    ) -> list[Derived]:
        """Derived records of a kind by time, current ones only unless asked. A stored row that no
        longer decodes is skipped with a logged warning (and passed to ``on_skip`` when given), or with
        ``strict`` raises :class:`StoredRecordError` naming it."""
        ...

    def put_derived(self, scope: str, run_id: int, rows: Sequence[tuple[str, Record, int]]) -> None:
        """Insert derived ``rows`` of ``(kind, record, time_us)`` under ``scope`` *without* superseding
        anything (what an analyst's merge or split adds), atomically. A row whose ``(kind, id)`` already
        has a current row is refused with ``ValueError`` (two current rows of one id are never made)."""
        ...

    def supersede(self, kind: str, ids: Sequence[str], run_id: int) -> int:
        """Mark the current rows of ``kind`` with these ids superseded by ``run_id`` (nothing is deleted);
        all or nothing: ``KeyError`` naming the first id with no current row. Returns the rows marked."""
        ...

    def get_derived(self, kind: str, record_id: str, *, strict: bool = False) -> Derived | None:
        """The current row of ``kind`` with this id (else its newest superseded one), None when there is
        none; a row that no longer decodes is None with a logged warning (``strict``: raised as
        :class:`StoredRecordError`)."""
        ...

    def set_status(self, kind: str, record_id: str, status: str) -> None:
        """Change a derived record's current verification status (the caller audits it)."""
        ...

    # -- audit -----------------------------------------------------------------------------
    def append_audit(
        self,
        actor: str,
        action: str,
        target_kind: str,
        target_id: str,
        reason: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> AuditEntry: ...

    def audit(self, target_id: str | None = None) -> Iterator[AuditEntry]: ...

    # -- quarantine ------------------------------------------------------------------------
    def quarantine(self, kind: str, target_id: str, time_us: int | None, reason: str) -> QuarantineEntry:
        """Hold a record (or a ``scope``) out of processing, with the reason (the caller audits it). A
        released one is held again; a held one is returned unchanged."""
        ...

    def quarantine_entries(self, state: str | None = None, kind: str | None = None) -> list[QuarantineEntry]:
        """Quarantine entries, oldest first, of a state and a kind when given."""
        ...

    def quarantine_entry(self, qid: int) -> QuarantineEntry | None: ...

    def decide_quarantine(self, qid: int, state: str, actor: str, reason: str) -> QuarantineEntry:
        """Release (``released``: used again from the next run on, as new data at its time) or reject
        (``rejected``: kept out for good) an entry (the caller audits it); ``KeyError`` for an unknown id."""
        ...

    # -- API tokens ------------------------------------------------------------------------
    def add_token(self, token: ApiToken) -> None:
        """Store a new API token (its hash); ``ValueError`` if its id or hash is already stored."""
        ...

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        """The token with this hash, revoked or not (None if unknown)."""
        ...

    def tokens(self) -> list[ApiToken]:
        """Every token, oldest first."""
        ...

    def revoke_token(self, token_id: str, at: dt.datetime) -> bool:
        """Mark a token revoked at ``at``; False if no unrevoked token has this id."""
        ...

    # -- tables row by row (what ``truceline store copy`` moves; see truceline.store.tables) -------------
    def table_rows(
        self,
        name: str,
        after: Sequence[Any] | None = None,
        upto: Sequence[Any] | None = None,
        limit: int | None = None,
    ) -> list[tuple[Any, ...]]:
        """Rows of a stored table as they are (held records, superseded rows, bodies that no longer decode
        included), in key order: keys ``> after`` and ``<= upto`` (either optional), at most ``limit``.
        Columns and keys: :data:`truceline.store.tables.TABLES`; times of writes as aware datetimes, JSON
        as its stored text. ``ValueError`` for an unknown table."""
        ...

    def load_rows(self, name: str, rows: Sequence[Sequence[Any]]) -> None:
        """Write rows of a table as :meth:`table_rows` read them from another store (same keys, sequence
        numbers, times and bodies), atomically; the ids the store gives next follow the largest written,
        and a row of ``seqs`` replaces that counter. For copying a store only: nothing is checked but what
        the database enforces; ``ValueError`` for rows it refuses (a key already stored), nothing written."""
        ...
