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
    hides_position,
    public_id,
)
from truceline.service.queries.filters import (
    FULL,
    MAX_LIMIT,
    PUBLIC_DECIMALS,
    Filters,
    QueryError,
    View,
    _values,
)
from truceline.service.queries.network import sensors
from truceline.service.queries.paging import Page, _page, _Row, _select
from truceline.store.base import AuditEntry, Derived, Store


def violations(store: Store, f: Filters, view: View, agreement: Agreement | None = None) -> Page:
    """Current violations as GeoJSON features (``kind``: the rule family, e.g. ``buffer_zone``, or rule id).

    A public view gets the whitelist of :func:`_public_violation`; a liaison view only the
    violations attributed to its party.
    """
    rows = [_violation_row(d, view) for d in store.derived("violation", f.start, f.end)]
    sel = _select(rows, f, view, agreement, _values("violations", "status"), None)
    return _page(sel, f, lambda r: _violation_feature(r.obj, view))


def _violation_row(d: Derived, view: View = FULL) -> _Row:
    """What the filters judge: for a public view the rounded position (so that bbox or sector filters
    cannot recover the exact one); for any view but the full one, no position where the finding sits
    at a monitoring asset (a sensor)."""
    v: Violation = d.record  # type: ignore[assignment]
    party = _party_of(v)
    lon: float | None = v.position.lon_deg
    lat: float | None = v.position.lat_deg
    if not view.full and hides_position(v):
        lon = lat = None
    elif view.public:
        lon, lat = round(v.position.lon_deg, PUBLIC_DECIMALS), round(v.position.lat_deg, PUBLIC_DECIMALS)
    return _Row(d, lon, lat, party, d.status or v.status.value,
                (v.rule_id.split(".", 1)[0], v.rule_id), (party,))  # fmt: skip


def incidents(store: Store, f: Filters, view: View, agreement: Agreement | None = None) -> Page:
    """Current incidents as GeoJSON features (``kind``: the weapon class); geometry: the impact, else
    the launch; properties add ``launch``/``impact`` ``[lon, lat]`` and the main event's 95 % ``ellipse``."""
    if view.public:
        raise Forbidden("incidents are not public")
    ds = store.derived("incident", f.start, f.end)
    events = _events_by_id(store, {i for d in ds for i in d.record.event_ids}, f)  # type: ignore[attr-defined]
    rows = []
    for d in ds:
        inc: Incident = d.record  # type: ignore[assignment]
        _, _, main = _incident_points(inc, events)
        lon, lat = (None, None) if main is None else main.position.as_tuple()
        party = _party_of(inc)
        rows.append(_Row(d, lon, lat, party, d.status or inc.status.value, (inc.weapon_class.value,), (party,)))
    sel = _select(rows, f, view, agreement, _values("incidents", "status"), _values("incidents", "kind"))
    return _page(sel, f, lambda r: _incident_feature(r.obj, events))


def events(store: Store, f: Filters, view: View, agreement: Agreement | None = None) -> Page:
    """Current located events as GeoJSON features (``kind``: launch, impact, undetermined), with their ellipse."""
    if f.status:
        raise QueryError("status", "events have no verification status (their incidents and violations do)")
    if view.public:
        raise Forbidden("events are not public")
    rows = []
    for d in store.derived("event", f.start, f.end):
        e: Event = d.record  # type: ignore[assignment]
        party = _party_of(e)
        rows.append(_Row(d, e.position.lon_deg, e.position.lat_deg, party, None, (e.kind.value,), (party,)))
    sel = _select(rows, f, view, agreement, None, _values("events", "kind"))
    return _page(sel, f, lambda r: _event_feature(r.obj, view))


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
        lon, lat = (None, None) if c.place is None else c.place.as_tuple()
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
        return {"claim": to_json_dict(c), "verdict": None if verdict is None else _props(verdict)}

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
    rows = [_violation_row(d, view) for d in store.derived("violation", f.start, f.end)]
    sel = _select(rows, f, view, agreement, _values("violations", "status"), None)
    found = [current(r.obj) for r in sel]
    try:
        table = aggregate(found, agreement, co, tuple(by))  # type: ignore[arg-type]
    except ValueError as exc:
        raise QueryError("by", str(exc)) from None
    return table.to_dict()


def incident_detail(store: Store, incident_id: str, view: View, with_audit: bool) -> dict[str, Any] | None:
    """``{incident, events, violations, audit}`` of an incident (current or superseded); None when
    unknown or not visible to the view. ``audit`` is None unless ``with_audit``."""
    if view.public:
        return None
    d = store.get_derived("incident", incident_id)
    if d is None:
        return None
    inc: Incident = d.record  # type: ignore[assignment]
    if not view.sees((_party_of(inc),)):
        return None
    evs = {}
    for eid in inc.event_ids:
        got = store.get_derived("event", eid)
        if got is not None:
            evs[eid] = got
    margin = dt.timedelta(hours=1)
    vios = [
        _violation_feature(v, view)
        for v in store.derived("violation", inc.window.start - margin, inc.window.end + margin)
        if v.record.incident_id == inc.id and view.sees((_party_of(v.record),))  # type: ignore[attr-defined]
    ]
    return {
        "incident": _incident_feature(d, {k: v.record for k, v in evs.items()}),  # type: ignore[misc]
        "events": [_event_feature(e, view) for e in evs.values()],
        "violations": vios,
        "audit": audit_entries(store, incident_id) if with_audit else None,
    }


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


def find_feature(store: Store, collection: str, fid: str, view: View) -> dict[str, Any] | None:
    """One current feature of ``violations``, ``incidents``, ``events`` or ``sensors`` by id, as the view
    sees it; None when unknown, superseded or not visible (a public client names a violation by its
    :func:`public_id`)."""
    if collection == "violations":
        if view.public:
            if fid.startswith("pub-"):
                for d in store.derived("violation"):
                    if public_id(d.record.id) == fid:
                        return _violation_feature(d, view)
            return None
        got = store.get_derived("violation", fid)
        if got is None or got.superseded_by is not None or not view.sees((_party_of(got.record),)):
            return None
        return _violation_feature(got, view)
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
        return _event_feature(row, view)
    inc: Incident = row.record  # type: ignore[assignment]
    evs = {eid: e.record for eid in inc.event_ids if (e := store.get_derived("event", eid)) is not None}
    return _incident_feature(row, evs)  # type: ignore[arg-type]
