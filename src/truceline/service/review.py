"""The analyst review workflow: confirm, dismiss, mark inconclusive, request verification, annotate,
merge and split incidents, each kept in the audit trail (who, when, why, before and after).

Framework-free functions over a :class:`~truceline.store.base.Store`; the CLI and the API call them
and map the exceptions below to their own messages (and HTTP statuses).

Rules
-----
- Every action needs a non-empty ``actor`` and a non-empty ``reason`` (an annotation's ``text``);
  otherwise :class:`~truceline.core.errors.InvalidInput` (a ``ValueError``: HTTP 422) naming the argument.
- Every action applies to a *current* derived record of a reviewable kind (:data:`REVIEW_KINDS`);
  an unknown record, or one superseded (by a re-derivation, a merge or a split), raises
  :class:`ReviewError` (a :class:`~truceline.core.errors.NotFound`: HTTP 404) naming the kind and the id.
- A status change to the status the record already has is refused with :class:`ReviewConflict`
  (a :class:`~truceline.core.errors.Conflict`, and a ``ValueError``: HTTP 409) rather than audited as
  a no-op: a second analyst who agrees says so with :func:`annotate`. A second verification request
  while one is open is refused the same way.
- The change and its audit entry are written in **one** ``store.transaction()``: both or neither.
- A decision on a finding (a violation's status) is also logged in the transparency log, when the data
  directory keeps one (:mod:`truceline.service.ledger_decisions`), after the store's commit.
- Nothing is ever deleted. A status change updates the record's current status (the record itself
  is immutable; the status before is in the audit entry). A merge or split adds new incidents (in a
  scope ``review:<new incident id>``, run ``review``; built by :mod:`truceline.service.review_incidents`)
  and *supersedes* the old ones, which stay readable with ``include_superseded=True``.

Statuses set by analysts: :func:`confirm` -> ``verified`` (the analyst vouches, after review, that
the record meets the two-independent-sources rule; this module does not re-check the evidence),
:func:`dismiss` -> ``refuted``, :func:`mark_inconclusive` -> ``inconclusive``. ``corroborated`` is
set by the adjudication rules, never here. A status may be changed again later (an analyst changes
their mind, audited like any other change).

What a merge or split leaves alone: the **events** (a merge links them, a split partitions them; no
event is rewritten) and the **violations** that cite the old incidents by ``incident_id``: they stay
as they are, still citing the superseded incident (readable, with its audit entry pointing at the
new incident(s)); re-adjudication of the new incidents is a separate step. Re-processing a window
(:func:`truceline.service.process.process`) supersedes that window's rows by design and does not
know about review scopes: it may make a re-derived copy of a merged member current again beside the
merged incident, and the re-derived rows start from the status the rules give them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from truceline.core import Event, Incident
from truceline.core.enums import VerificationStatus
from truceline.core.errors import Conflict, InvalidInput, NotFound
from truceline.service.ledger_decisions import log_decisions_quietly
from truceline.service.review_incidents import ALGORITHM_VERSION, check_groups, incident_state, merged, split_parts
from truceline.store.base import AuditEntry, Derived, Store, to_us

__all__ = [
    "ALGORITHM_VERSION",
    "REVIEW_KINDS",
    "ReviewConflict",
    "ReviewError",
    "annotate",
    "confirm",
    "dismiss",
    "history",
    "mark_inconclusive",
    "merge_incidents",
    "pending_requests",
    "request_verification",
    "split_incident",
]

#: Derived kinds an analyst reviews.
REVIEW_KINDS = ("violation", "incident", "event")

#: Actions that close an open verification request on their target.
_CLOSING = frozenset({"confirm", "dismiss", "mark_inconclusive", "merge", "split"})


class ReviewError(NotFound):
    """The record to act on is unknown or no longer current (a :class:`~truceline.core.errors.NotFound`).

    Attributes
    ----------
    kind : str
        The record kind (``"violation"``, ``"incident"``, ``"event"``).
    record_id : str
        The record id.
    reason : str
        What is wrong (``"not found"``, ``"superseded by run 7"``...).
    """

    def __init__(self, kind: str, record_id: str, reason: str) -> None:
        self.kind = kind
        self.record_id = record_id
        self.reason = reason
        super().__init__(f"{kind} {record_id!r}: {reason}")


class ReviewConflict(Conflict, ValueError):
    """The action does not apply to the record's present state (e.g. it already has that status): a
    :class:`~truceline.core.errors.Conflict` (and, as it always was, a ``ValueError``).

    Attributes
    ----------
    kind, record_id, reason : str
        As in :class:`ReviewError`.
    """

    def __init__(self, kind: str, record_id: str, reason: str) -> None:
        self.kind = kind
        self.record_id = record_id
        self.reason = reason
        super().__init__(f"{kind} {record_id!r}: {reason}")


# -- checks ------------------------------------------------------------------------------------
def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{name}: must be a non-empty string, got {value!r}")
    return value


def _kind(kind: object, allowed: Sequence[str] = REVIEW_KINDS) -> str:
    if kind not in allowed:
        raise InvalidInput(f"kind: {kind!r} is not one of {', '.join(allowed)}")
    return str(kind)


def _current(store: Store, kind: str, record_id: str) -> Derived:
    """The current stored record, or :class:`ReviewError`."""
    d = store.get_derived(kind, record_id)
    if d is None:
        raise ReviewError(kind, record_id, "not found")
    if d.superseded_by is not None:
        raise ReviewError(kind, record_id, f"superseded by run {d.superseded_by}; act on the current record")
    return d


# -- status actions ----------------------------------------------------------------------------
def _set(store: Store, kind: str, record_id: str, actor: str, reason: str, action: str, to: str) -> AuditEntry:
    kind = _kind(kind)
    _text("record_id", record_id)
    _text("actor", actor)
    _text("reason", reason)
    with store.transaction():
        d = _current(store, kind, record_id)
        if d.status == to:
            raise ReviewConflict(kind, record_id, f"already {to}; nothing to change (use annotate to add a note)")
        store.set_status(kind, record_id, to)
        entry = store.append_audit(actor, action, kind, record_id, reason, {"status": d.status}, {"status": to})
    if kind == "violation":  # a finding's status: into the transparency log too (after the commit)
        log_decisions_quietly(store)
    return entry


def confirm(store: Store, kind: str, record_id: str, actor: str, reason: str) -> AuditEntry:
    """Confirm a record after review: status ``verified``.

    Parameters
    ----------
    store : Store
        Where the record is.
    kind : str
        ``"violation"``, ``"incident"`` or ``"event"``.
    record_id : str
        Id of a current record of that kind.
    actor : str
        Who acts (non-empty).
    reason : str
        Why (non-empty), e.g. the sources checked.

    Returns
    -------
    AuditEntry
        The audit entry written (``before``/``after``: ``{"status": ...}``).

    Raises
    ------
    InvalidInput
        Empty ``actor``, ``reason`` or ``record_id``, or a kind that is not reviewable.
    ReviewError
        No such record, or it is superseded.
    ReviewConflict
        The record is already ``verified``.
    """
    return _set(store, kind, record_id, actor, reason, "confirm", VerificationStatus.VERIFIED.value)


def dismiss(store: Store, kind: str, record_id: str, actor: str, reason: str) -> AuditEntry:
    """Dismiss a record after review: status ``refuted``. Parameters and errors as :func:`confirm`."""
    return _set(store, kind, record_id, actor, reason, "dismiss", VerificationStatus.REFUTED.value)


def mark_inconclusive(store: Store, kind: str, record_id: str, actor: str, reason: str) -> AuditEntry:
    """Mark a record ``inconclusive`` (reviewed, cannot be decided). Parameters and errors as :func:`confirm`."""
    return _set(store, kind, record_id, actor, reason, "mark_inconclusive", VerificationStatus.INCONCLUSIVE.value)


def request_verification(store: Store, kind: str, record_id: str, actor: str, reason: str) -> AuditEntry:
    """Ask for (more) verification of a record, e.g. a patrol to the site; the status is unchanged.

    The request stays open (see :func:`pending_requests`) until the record is confirmed, dismissed,
    marked inconclusive, merged or split. Parameters as :func:`confirm`; ``before`` and ``after`` of
    the audit entry are ``{"status": s}`` and ``{"status": s, "verification_requested": True}``.

    Raises
    ------
    ReviewConflict
        A request on this record is already open.
    """
    kind = _kind(kind)
    _text("record_id", record_id)
    _text("actor", actor)
    _text("reason", reason)
    with store.transaction():
        d = _current(store, kind, record_id)
        open_ = _open_request(store, record_id, kind)
        if open_ is not None:
            raise ReviewConflict(
                kind, record_id, f"verification already requested by {open_.actor} at {open_.at.isoformat()}"
            )
        return store.append_audit(
            actor,
            "request_verification",
            kind,
            record_id,
            reason,
            {"status": d.status},
            {"status": d.status, "verification_requested": True},
        )


def annotate(store: Store, kind: str, record_id: str, actor: str, text: str) -> AuditEntry:
    """Add an analyst's note to a current record (audit only: ``reason`` is the text, no before/after).

    Raises
    ------
    InvalidInput
        Empty ``actor``, ``text`` or ``record_id``, or a kind that is not reviewable.
    ReviewError
        No such record, or it is superseded.
    """
    kind = _kind(kind)
    _text("record_id", record_id)
    _text("actor", actor)
    _text("text", text)
    with store.transaction():
        _current(store, kind, record_id)
        return store.append_audit(actor, "annotate", kind, record_id, text, None, None)


# -- queries -----------------------------------------------------------------------------------
def history(store: Store, record_id: str) -> list[AuditEntry]:
    """Every audit entry about ``record_id``, oldest first (a merge or split is listed under each id involved)."""
    return list(store.audit(target_id=record_id))


def _open_request(store: Store, record_id: str, kind: str) -> AuditEntry | None:
    last: AuditEntry | None = None
    for e in store.audit(target_id=record_id):
        if e.target_kind != kind:
            continue
        if e.action == "request_verification":
            last = e
        elif e.action in _CLOSING:
            last = None
    return last


def pending_requests(store: Store) -> list[AuditEntry]:
    """Open verification requests, oldest first: the last ``request_verification`` entry of each record
    not followed by a confirm, dismiss, mark-inconclusive, merge or split, on a record still current."""
    open_: dict[tuple[str, str], AuditEntry] = {}
    for e in store.audit():
        key = (e.target_kind, e.target_id)
        if e.action == "request_verification":
            open_[key] = e
        elif e.action in _CLOSING:
            open_.pop(key, None)
    out = []
    for (kind, rid), e in open_.items():
        d = store.get_derived(kind, rid)
        if d is not None and d.superseded_by is None:
            out.append(e)
    return sorted(out, key=lambda e: e.seq)


# -- merge and split ---------------------------------------------------------------------------
def merge_incidents(store: Store, ids: Sequence[str], actor: str, reason: str) -> Incident:
    """Merge incidents into one new incident; the members are superseded (never deleted).

    The new incident links the union of the members' events and observations (in the order given),
    spans the union of their windows, keeps a launch or impact event, weapon class and attribution
    only where the members agree (attribution: all members identical, else unattributed; a launch or
    impact: one distinct value among the members, else none; weapon class: one distinct known class,
    else ``unknown``), starts ``unverified`` and stamps provenance ``review.merge`` with the member ids
    as inputs. It is stored under scope ``review:<new id>`` in a new ``review`` run, whose id
    supersedes the members. Violations citing the members are left as they are.

    Parameters
    ----------
    store : Store
        Where the incidents are.
    ids : sequence of str
        Two or more distinct ids of current incidents.
    actor, reason : str
        Who merges and why (non-empty).

    Returns
    -------
    Incident
        The new incident.

    Raises
    ------
    InvalidInput
        (a ``ValueError``) Fewer than two ids, a repeated id, empty ``actor`` or ``reason``.
    ReviewError
        A member is unknown or superseded (nothing is written).

    Notes
    -----
    Audit: one ``merge`` entry per member (before: its state; after: ``merged_into`` and the new
    incident's events) and one for the new incident (before: the members; after: its state), so
    :func:`history` of any id involved shows the merge.
    """
    _text("actor", actor)
    _text("reason", reason)
    if isinstance(ids, str) or len(ids) < 2:
        raise InvalidInput(f"ids: a merge needs two or more incident ids, got {ids!r}")
    for i, rid in enumerate(ids):
        _text(f"ids[{i}]", rid)
        if rid in ids[:i]:
            raise InvalidInput(f"ids[{i}]: {rid!r} is repeated")
    members = list(ids)
    with store.transaction():
        stored = [_current(store, "incident", rid) for rid in members]
        incs: list[Incident] = [d.record for d in stored]  # type: ignore[misc]
        run_id = store.new_run("review", {"action": "merge", "ids": members, "actor": actor})
        new = merged(incs, run_id, actor, dt.datetime.now(dt.UTC))
        store.supersede("incident", members, run_id)
        store.put_derived(f"review:{new.id}", run_id, [("incident", new, to_us(new.window.start))])
        after_new = incident_state(new, new.status.value)
        for inc, d in zip(incs, stored, strict=True):
            store.append_audit(
                actor,
                "merge",
                "incident",
                inc.id,
                reason,
                incident_state(inc, d.status),
                {"merged_into": new.id, "members": members, "event_ids": after_new["event_ids"], "run_id": run_id},
            )
        store.append_audit(
            actor, "merge", "incident", new.id, reason, {"members": members}, {**after_new, "run_id": run_id}
        )
    return new


def split_incident(
    store: Store, incident_id: str, groups: Sequence[Sequence[str]], actor: str, reason: str
) -> list[Incident]:
    """Split an incident into one new incident per group; the original is superseded (never deleted).

    ``groups`` must partition the ids the incident links: every event id (and, if the incident links
    observations, every observation id) in exactly one group, each group non-empty, at least two groups.
    Observations are placed by the analyst, never copied to every part (that would count one source
    twice). Each new incident keeps, from its group: the events (original order), the observations, the
    launch and impact events that fall in it; its weapon class is the one known class its stored events
    agree on (else ``unknown``); its window spans its events' origin times when every item of the group
    is a stored event, else it is the original window (which contains it). Attribution is reset to
    unattributed (the original's evidence was for the whole; wrong blame is the worst error) and the
    status to ``unverified``; provenance ``review.split`` with the original id as input. Each is stored
    under scope ``review:<its id>`` in one new ``review`` run.

    Parameters
    ----------
    store : Store
        Where the incident is.
    incident_id : str
        Id of a current incident.
    groups : sequence of sequence of str
        The partition (event ids, plus observation ids where the incident has any).
    actor, reason : str
        Who splits and why (non-empty).

    Returns
    -------
    list of Incident
        The new incidents, in the order of ``groups``.

    Raises
    ------
    InvalidInput
        (a ``ValueError``) Bad ``groups`` (the message names the first offending ``groups[i][j]``: an id
        not linked by the incident, an id in two groups, an id in none, an empty group, fewer than two
        groups), empty ``actor`` or ``reason``.
    ReviewError
        The incident is unknown or superseded (nothing is written).

    Notes
    -----
    Audit: one ``split`` entry for the original (before: its state; after: ``split_into``) and one per
    new incident (before: ``{"split_from": id}``; after: its state).
    """
    _text("incident_id", incident_id)
    _text("actor", actor)
    _text("reason", reason)
    with store.transaction():
        d = _current(store, "incident", incident_id)
        inc: Incident = d.record  # type: ignore[assignment]
        parts = check_groups(inc, groups)
        run_id = store.new_run("review", {"action": "split", "id": incident_id, "groups": parts, "actor": actor})
        events: dict[str, Event] = {}
        for eid in inc.event_ids:
            found = store.get_derived("event", eid)
            if found is not None and isinstance(found.record, Event):
                events[eid] = found.record
        new = split_parts(inc, parts, events, run_id, actor, dt.datetime.now(dt.UTC))
        store.supersede("incident", [incident_id], run_id)
        for n in new:
            store.put_derived(f"review:{n.id}", run_id, [("incident", n, to_us(n.window.start))])
        _audit_split(store, actor, reason, (inc, d.status), new, parts, run_id)
    return new


def _audit_split(store: Store, actor: str, reason: str, original: tuple[Incident, str | None],
                 new: Sequence[Incident], parts: list[list[str]], run_id: int) -> None:  # fmt: skip
    """The audit entries of a split: one for the original (with its status then), one per new incident."""
    inc, status = original
    new_ids = [n.id for n in new]
    after = {"split_into": new_ids, "groups": parts, "run_id": run_id}
    store.append_audit(actor, "split", "incident", inc.id, reason, incident_state(inc, status), after)
    for n in new:
        before = {"split_from": inc.id, "siblings": new_ids}
        store.append_audit(actor, "split", "incident", n.id, reason, before,
                           {**incident_state(n, n.status.value), "run_id": run_id})  # fmt: skip
