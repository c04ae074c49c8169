"""The findings collections (violations, incidents, events, claims), aggregates, detail, audit, single features."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from truceline.adjudicate.aggregates import CutOff, aggregate
from truceline.agreement import Agreement
from truceline.core import (
    Claim,
    ClaimAssessment,
    Event,
    Incident,
    Violation,
    to_json_dict,
)
from truceline.core.enums import (
    ClaimantKind,
)
from truceline.core.errors import Forbidden
from truceline.service.export import current
from truceline.service.queries.features import (
    _event_feature,
    _events_by_id,
    _incident_feature,
    _incident_points,
    _party_of,
    _props,
    _violation_feature,
    event_precisions,
    incident_precisions,
    violation_precisions,
)
from truceline.service.queries.filters import (
    FULL,
    MAX_LIMIT,
    Filters,
    QueryError,
    View,
    _values,
)
from truceline.service.queries.network import sensors
from truceline.service.queries.paging import Page, _page, _Row, _select
from truceline.service.redaction import EXACT, claim_precision, precisions, public_ids, redact_record, shown
from truceline.store.base import AuditEntry, Derived, Store


def violations(store: Store, f: Filters, view: View, agreement: Agreement | None = None) -> Page:
    """Current violations as GeoJSON features (``kind``: the rule family, e.g. ``buffer_zone``, or rule id).

    A public view gets the whitelist of :func:`~truceline.service.redaction.public_violation` under its
    keyed public id; a liaison view only the violations attributed to its party; positions at the
    precision the policy gives each (:mod:`truceline.service.redaction`).
    """
    rows = _violation_rows(store.derived("violation", f.start, f.end), view, agreement)
    sel = _select(rows, f, view, agreement, _values("violations", "status"), None)
    ids = public_ids(store)
    return _page(sel, f, lambda r: _violation_feature(r.obj, view, r.extra["precision"], ids))


def _violation_rows(ds: Sequence[Derived], view: View = FULL, agreement: Agreement | None = None) -> list[_Row]:
    """What the filters judge: the position as the view receives it (so that bbox or sector filters
    cannot recover a position the view gets rounded or withheld)."""
    rows = []
    for d, precision in zip(ds, violation_precisions(ds, view, agreement), strict=True):
        v: Violation = d.record  # type: ignore[assignment]
        party = _party_of(v)
        p = shown(precision, v.position.lon_deg, v.position.lat_deg)
        lon, lat = (None, None) if p is None else p
        rows.append(_Row(d, lon, lat, party, d.status or v.status.value, (v.rule_id.split(".", 1)[0], v.rule_id),
                         (party,), extra={"precision": precision}))  # fmt: skip
    return rows


def incidents(store: Store, f: Filters, view: View, agreement: Agreement | None = None) -> Page:
    """Current incidents as GeoJSON features (``kind``: the weapon class); geometry: the impact, else
    the launch; properties add ``launch``/``impact`` ``[lon, lat]`` and the main event's 95 % ``ellipse``."""
    if view.public:
        raise Forbidden("incidents are not public")
    ds = store.derived("incident", f.start, f.end)
    events = _events_by_id(store, {i for d in ds for i in d.record.event_ids}, f)  # type: ignore[attr-defined]
    incs: list[Incident] = [d.record for d in ds]  # type: ignore[misc]
    precs = incident_precisions(incs, events, view, agreement)
    rows = []
    for d, inc, prec in zip(ds, incs, precs, strict=True):
        _, _, main = _incident_points(inc, events)
        p = None if main is None else shown(prec["main"], main.position.lon_deg, main.position.lat_deg)
        lon, lat = (None, None) if p is None else p
        party = _party_of(inc)
        rows.append(_Row(d, lon, lat, party, d.status or inc.status.value, (inc.weapon_class.value,), (party,),
                         extra={"precision": prec}))  # fmt: skip
    sel = _select(rows, f, view, agreement, _values("incidents", "status"), _values("incidents", "kind"))
    return _page(sel, f, lambda r: _incident_feature(r.obj, events, view, r.extra["precision"]))


def events(store: Store, f: Filters, view: View, agreement: Agreement | None = None) -> Page:
    """Current located events as GeoJSON features (``kind``: launch, impact, undetermined), with their ellipse."""
    if f.status:
        raise QueryError("status", "events have no verification status (their incidents and violations do)")
    if view.public:
        raise Forbidden("events are not public")
    ds = store.derived("event", f.start, f.end)
    evs: list[Event] = [d.record for d in ds]  # type: ignore[misc]
    parties = [_party_of(e) for e in evs]
    precs = precisions(view, agreement, parties, [e.position.lon_deg for e in evs], [e.position.lat_deg for e in evs],
                       [e.origin_time for e in evs])  # fmt: skip
    rows = []
    for d, e, party, prec in zip(ds, evs, parties, precs, strict=True):
        p = shown(prec, e.position.lon_deg, e.position.lat_deg)
        lon, lat = (None, None) if p is None else p
        rows.append(_Row(d, lon, lat, party, None, (e.kind.value,), (party,), extra={"precision": prec}))
    sel = _select(rows, f, view, agreement, None, _values("events", "kind"))
    return _page(sel, f, lambda r: _event_feature(r.obj, view, r.extra["precision"]))


def _claimant_party(c: Claim) -> str | None:
    if c.claimant_kind is not ClaimantKind.PARTY:
        return None
    head = c.claimant.split("-", 1)[0].strip().upper()
    return head if head in ("UA", "RU") else None


def claims(store: Store, f: Filters, view: View, agreement: Agreement | None = None) -> Page:
    """Claims with their verdicts: items ``{"claim": ..., "verdict": ... or None}``.

    ``party`` matches the accused party or the claimant's; ``status`` the verdict; ``kind`` the
    claimed violation kind; ``bbox``/``sector`` the claimed place. A liaison sees claims by or
    against its party.
    """
    if view.public:
        raise Forbidden("claims are not public")
    verdicts: dict[str, Derived] = {}
    for d in store.derived("claim_assessment"):
        verdicts[d.record.claim_id] = d  # type: ignore[attr-defined]
    rows = []
    for c in store.records("claim", f.start, f.end):
        assert isinstance(c, Claim)
        verdict = verdicts.get(c.id)
        v: ClaimAssessment | None = None if verdict is None else verdict.record  # type: ignore[assignment]
        p = None if c.place is None else shown(claim_precision(view, _claimant_party(c)), *c.place.as_tuple())
        lon, lat = (None, None) if p is None else p
        accused = None if c.accused_party is None else c.accused_party.value
        claimant = _claimant_party(c)
        rows.append(_Row((c, verdict), lon, lat, accused, None if v is None else v.verdict.value,
                         (c.kind.value,) if c.kind is not None else (), (accused, claimant)))  # fmt: skip
    # ``party`` matches either side of a claim: filter here, not in _select (which looks at one party).
    parties = f.party
    sel = _select(rows, dataclasses.replace(f, party=()), view, agreement,
                  _values("claims", "status"), _values("claims", "kind"))  # fmt: skip
    if parties:
        sel = [r for r in sel if any(p in parties for p in r.concerns if p)
               or (r.party is None and "unattributed" in parties)]  # fmt: skip

    def build(r: _Row) -> dict[str, Any]:
        c, verdict = r.obj
        prec = claim_precision(view, _claimant_party(c))
        claim = redact_record(to_json_dict(c), view, prec, position_key="place", uncertainty_key="place_uncertainty")
        return {"claim": claim, "verdict": None if verdict is None else redact_record(_props(verdict), view, EXACT)}

    return _page(sel, f, build)


def aggregates(store: Store, f: Filters, view: View, agreement: Agreement | None, by: Sequence[str],
               cutoff: str = "19:30", tz: str = "Europe/Kyiv") -> dict[str, Any]:  # fmt: skip
    """Counts of the current violations that pass ``f`` and the view, grouped by ``by``.

    Returns :meth:`AggregateTable.to_dict` (``keys``, ``cutoff``, ``total``, ``rows``). A liaison
    counts only the findings attributed to its party.

    Raises
    ------
    QueryError
        For a bad cut-off or time zone, or a bad key (``by``).
    """
    try:
        hh, mm = (int(x) for x in cutoff.split(":"))
        co = CutOff(hour=hh, minute=mm, tz=tz)
    except ValueError as exc:
        raise QueryError("cutoff", str(exc)) from None
    rows = _violation_rows(store.derived("violation", f.start, f.end), view, agreement)
    sel = _select(rows, f, view, agreement, _values("violations", "status"), None)
    found = [current(r.obj) for r in sel]
    try:
        table = aggregate(found, agreement, co, tuple(by))  # type: ignore[arg-type]
    except ValueError as exc:
        raise QueryError("by", str(exc)) from None
    return table.to_dict()


def incident_detail(store: Store, incident_id: str, view: View, with_audit: bool,
                    agreement: Agreement | None = None) -> dict[str, Any] | None:  # fmt: skip
    """``{incident, events, violations, audit}`` of an incident (current or superseded); None when
    unknown or not visible to the view. ``audit`` is None unless ``with_audit``. Positions at the
    precision the policy gives the view (a liaison's exact points need ``agreement``); its events
    judged as records of the incident's party."""
    if view.public:
        return None
    d = store.get_derived("incident", incident_id)
    if d is None:
        return None
    inc: Incident = d.record  # type: ignore[assignment]
    if not view.sees((_party_of(inc),)):
        return None
    evs: dict[str, Derived] = {}
    for eid in inc.event_ids:
        got = store.get_derived("event", eid)
        if got is not None:
            evs[eid] = got
    margin = dt.timedelta(hours=1)
    vs = [v for v in store.derived("violation", inc.window.start - margin, inc.window.end + margin)
          if v.record.incident_id == inc.id and view.sees((_party_of(v.record),))]  # type: ignore[attr-defined]  # fmt: skip
    ids = public_ids(store)
    records: dict[str, Event] = {k: v.record for k, v in evs.items()}  # type: ignore[misc]
    ev_prec = event_precisions(list(records.values()), _party_of(inc), view, agreement)
    return {
        "incident": _incident_feature(d, records, view, incident_precisions([inc], records, view, agreement)[0]),
        "events": [_event_feature(e, view, p) for e, p in zip(evs.values(), ev_prec, strict=True)],
        "violations": [_violation_feature(v, view, p, ids)
                       for v, p in zip(vs, violation_precisions(vs, view, agreement), strict=True)],
        "audit": audit_entries(store, incident_id) if with_audit else None,
    }  # fmt: skip


def audit_json(e: AuditEntry) -> dict[str, Any]:
    """An audit entry as JSON."""
    return {
        "seq": e.seq,
        "at": e.at.isoformat(),
        "actor": e.actor,
        "action": e.action,
        "target_kind": e.target_kind,
        "target_id": e.target_id,
        "reason": e.reason,
        "before": e.before,
        "after": e.after,
    }


def audit_entries(store: Store, target_id: str) -> list[dict[str, Any]]:
    """Every audit entry about ``target_id``, oldest first."""
    return [audit_json(e) for e in store.audit(target_id)]


def change_seq(store: Store) -> int:
    """A number that grows whenever anything the API shows changes: new observations (the store's
    sequence), a processing or review run, an audit entry. Never decreases."""
    runs = max((s.run_id for s in store.scope_states().values()), default=0)
    audit = 0
    for e in store.audit():
        audit = max(audit, e.seq)
    return store.last_seq() + runs + audit


def find_feature(store: Store, collection: str, fid: str, view: View,
                 agreement: Agreement | None = None) -> dict[str, Any] | None:  # fmt: skip
    """One current feature of ``violations``, ``incidents``, ``events`` or ``sensors`` by id, as the view
    sees it (as in the collections); None when unknown, superseded or not visible (a public client names
    a violation by its keyed public id, :func:`~truceline.service.redaction.public_ids`)."""
    if collection == "violations":
        if view.public:
            ids = public_ids(store)
            hit = next((d for d in store.derived("violation") if ids(d.record.id) == fid), None)
            got = hit if fid.startswith("pub-") else None
        else:
            got = store.get_derived("violation", fid)
        if got is None or got.superseded_by is not None or not view.sees((_party_of(got.record),)):
            return None
        return _violation_feature(got, view, violation_precisions([got], view, agreement)[0], public_ids(store))
    if view.public or (collection in ("events", "sensors") and not view.full):
        return None
    if collection == "sensors":
        page = sensors(store, Filters(limit=MAX_LIMIT), view)
        while True:
            hit = next((f for f in page.items if f["id"] == fid), None)
            if hit is not None or not page.has_next:
                return hit
            page = sensors(store, Filters(limit=MAX_LIMIT, offset=page.offset + page.limit), view)
    kind = {"incidents": "incident", "events": "event"}.get(collection)
    if kind is None:
        return None
    row = store.get_derived(kind, fid)
    if row is None or row.superseded_by is not None or not view.sees((_party_of(row.record),)):
        return None
    if kind == "event":
        ev: Event = row.record  # type: ignore[assignment]
        return _event_feature(row, view, event_precisions([ev], _party_of(ev), view, agreement)[0])
    inc: Incident = row.record  # type: ignore[assignment]
    evs: dict[str, Event] = {eid: e.record for eid in inc.event_ids  # type: ignore[misc]
                             if (e := store.get_derived("event", eid)) is not None}  # fmt: skip
    return _incident_feature(row, evs, view, incident_precisions([inc], evs, view, agreement)[0])
