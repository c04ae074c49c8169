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

The SQLite backend (:mod:`truceline.store.sqlite`) is the embedded default; a PostgreSQL/PostGIS
backend implements the same protocol and callers do not change: they open a store by its URL
through :func:`truceline.store.registry.open_store` and are typed against :class:`Store`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
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
        self, kind: str, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> list[Record]:
        """Observation records of a kind, by time (``since <= time < until``), in time order."""
        ...

    def count(self, kind: str) -> int:
        """Stored records of a kind (``detection`` included)."""
        ...

    def detections(self, t0_us: int, t1_us: int) -> DetectionTable:
        """Detections with ``t0_us <= arrival < t1_us`` (µs since 1970 UTC), in arrival order."""
        ...

    def last_seq(self) -> int:
        """The sequence number of the newest stored observation (0 when empty)."""
        ...

    def max_seq_between(self, t0_us: int, t1_us: int, kind: str | None = None) -> int:
        """The newest sequence number of observations (of ``kind``, or of any kind but claims) timed in
        ``[t0_us, t1_us)``; 0 when none (what tells an incremental run that a window has new data)."""
        ...

    def max_seq(self, kind: str) -> int:
        """The newest sequence number of a kind of observation (0 when none)."""
        ...

    def time_span_us(self) -> tuple[int, int] | None:
        """Earliest and latest observation time stored, µs (None when empty)."""
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
    ) -> list[Derived]:
        """Derived records of a kind by time, current ones only unless asked."""
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

    def get_derived(self, kind: str, record_id: str) -> Derived | None: ...

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
