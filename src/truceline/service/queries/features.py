"""GeoJSON features of stored records, as each view sees them: what is redacted, and how, is decided by
:mod:`truceline.service.redaction` (the one policy); this module builds the features it lets through."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from truceline.agreement import Agreement
from truceline.core import (
    Event,
    Incident,
    Violation,
    to_json_dict,
)
from truceline.service.export import current
from truceline.service.queries.filters import Filters, View
from truceline.service.redaction import ASSET_FAMILIES as ASSET_FAMILIES  # the policy's; importable here too
from truceline.service.redaction import (
    ROUNDED,
    PublicIds,
    coarse_ellipse,
    finding_precisions,
    precisions,
    public_violation,
    redact_event,
    redact_record,
    shown,
    shown_place,
)
from truceline.store.base import Derived, Store

#: Margin around a time filter within which an incident's events are looked for first.
_EVENT_MARGIN = dt.timedelta(hours=6)


# ----------------------------------------------------------------------------------- features
def _party_of(record: Any) -> str | None:
    attribution = getattr(record, "attribution", None)
    party = getattr(attribution, "party", None)
    return None if party is None else str(party.value)


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def _ellipse(record: Event) -> dict[str, float] | None:
    try:
        a, b, az = record.location_uncertainty.ellipse(0.95)
    except ValueError:
        return None
    return {"semi_major_m": round(a, 1), "semi_minor_m": round(b, 1), "angle_deg": round(az, 1)}


def _feature(fid: str, geometry: dict[str, Any] | None, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "id": fid, "geometry": geometry, "properties": properties}


def _set_place(props: dict[str, Any], precision: str, lon: float, lat: float, key: str = "place") -> None:
    """``place`` (the words) and ``place_detail`` (the structured fields) of a point as the view receives it
    (:func:`truceline.service.redaction.shown_place`: from the rounded point, none for a withheld one)."""
    place = shown_place(precision, lon, lat)
    props[key] = None if place is None else place.text
    props[f"{key}_detail"] = None if place is None else place.as_json()


def _props(d: Derived) -> dict[str, Any]:
    """The record's JSON with its current status (and ``superseded`` when it no longer is current)."""
    props = to_json_dict(current(d))
    if d.status is not None:
        props["status"] = d.status
    if d.superseded_by is not None:
        props["superseded_by_run"] = d.superseded_by
    return props


# ----------------------------------------------------------------------------------- redaction
def violation_precisions(ds: Sequence[Derived], view: View, agreement: Agreement | None) -> list[str]:
    """The precision of each violation's position for the view (:func:`truceline.service.redaction.precisions`)."""
    return finding_precisions(view, agreement, [d.record for d in ds])  # type: ignore[misc]


def _violation_feature(d: Derived, view: View, precision: str, ids: PublicIds) -> dict[str, Any]:
    """A violation as the view sees it: the public whitelist under its keyed id, else the record redacted."""
    v: Violation = d.record  # type: ignore[assignment]
    if view.public:
        props = public_violation(v, d.status or v.status.value, ids(v.id), precision)
        fid = props["id"]
    else:
        props, fid = redact_record(_props(d), view, precision), v.id
        _set_place(props, precision, v.position.lon_deg, v.position.lat_deg)
    p = shown(precision, v.position.lon_deg, v.position.lat_deg)
    return _feature(fid, None if p is None else _point(*p), props)


def _event_feature(d: Derived, view: View, precision: str) -> dict[str, Any]:
    """An event with its 95 % ellipse, as the view sees it (no sensor or detection ids but for the full view)."""
    e: Event = d.record  # type: ignore[assignment]
    props = _props(d)
    props["ellipse"] = coarse_ellipse(_ellipse(e), precision)
    props = redact_event(props, view, precision)
    _set_place(props, precision, e.position.lon_deg, e.position.lat_deg)
    p = shown(precision, e.position.lon_deg, e.position.lat_deg)
    return _feature(e.id, None if p is None else _point(*p), props)


def event_precisions(events: Sequence[Event], party: str | None, view: View,
                     agreement: Agreement | None) -> list[str]:  # fmt: skip
    """The precision of each event's position for the view, the events judged as records of ``party``'s."""
    return precisions(view, agreement, [party] * len(events), [e.position.lon_deg for e in events],
                      [e.position.lat_deg for e in events], [e.origin_time for e in events])  # fmt: skip


def _incident_points(inc: Incident, events: Mapping[str, Event]) -> tuple[Event | None, Event | None, Event | None]:
    """(launch, impact, main) events of an incident; main: the impact, else the launch, else the first."""
    launch = events.get(inc.launch_event_id) if inc.launch_event_id else None
    impact = events.get(inc.impact_event_id) if inc.impact_event_id else None
    main = impact or launch
    if main is None:
        main = next((events[i] for i in inc.event_ids if i in events), None)
    return launch, impact, main


def incident_precisions(incs: Sequence[Incident], events: Mapping[str, Event], view: View,
                        agreement: Agreement | None) -> list[dict[str, str]]:  # fmt: skip
    """Per incident, the precision of its ``launch``, ``impact`` and ``main`` points for the view (and of a
    fire mission's ``launch_area`` and ``impact_area``)."""
    keys, parties, lon, lat, times = [], [], [], [], []
    for i, inc in enumerate(incs):
        for key, e in zip(("launch", "impact", "main"), _incident_points(inc, events), strict=True):
            if e is not None:
                keys.append((i, key))
                parties.append(_party_of(inc))
                lon.append(e.position.lon_deg)
                lat.append(e.position.lat_deg)
                times.append(e.origin_time)
        for key in ("launch_area", "impact_area"):  # a fire mission's areas: judged where their centres are
            area = getattr(inc, key)
            if area is not None:
                keys.append((i, key))
                parties.append(_party_of(inc))
                lon.append(area.position.lon_deg)
                lat.append(area.position.lat_deg)
                times.append(inc.window.start)
    out: list[dict[str, str]] = [{} for _ in incs]
    for (i, key), p in zip(keys, precisions(view, agreement, parties, lon, lat, times), strict=True):
        out[i][key] = p
    return out


def _incident_feature(d: Derived, events: Mapping[str, Event], view: View, prec: Mapping[str, str]) -> dict[str, Any]:
    """An incident; geometry its main point, properties ``launch``/``impact`` and the main event's ellipse, each
    point at its precision (``prec``: see :func:`incident_precisions`); ``place`` of the main point and
    ``launch_place`` of the launch point, each described from the point as given."""
    inc: Incident = d.record  # type: ignore[assignment]
    launch, impact, main = _incident_points(inc, events)

    def at(e: Event | None, key: str) -> tuple[float, float] | None:
        return None if e is None else shown(prec[key], e.position.lon_deg, e.position.lat_deg)

    props = redact_record(_props(d), view, prec.get("main", ROUNDED))
    pl, pi, pm = at(launch, "launch"), at(impact, "impact"), at(main, "main")
    props["launch"] = None if pl is None else list(pl)
    props["impact"] = None if pi is None else list(pi)
    props["ellipse"] = None if main is None else coarse_ellipse(_ellipse(main), prec["main"])
    for key in ("launch_area", "impact_area"):  # a fire mission's areas, each at its own precision
        area = getattr(inc, key)
        if area is not None:
            shown_area = redact_record(area.model_dump(mode="json"), view, prec[key], uncertainty_key="uncertainty")
            props[key] = shown_area if shown_area.get("position") is not None else None
    for key, e, point in (("place", main, "main"), ("launch_place", launch, "launch")):
        if e is None:
            props[key], props[f"{key}_detail"] = None, None
        else:
            _set_place(props, prec[point], e.position.lon_deg, e.position.lat_deg, key)
    return _feature(inc.id, None if pm is None else _point(*pm), props)


def _events_by_id(store: Store, ids: set[str], f: Filters) -> dict[str, Event]:
    """The current events with these ids, looked for around the filter's period first."""
    since = None if f.start is None else f.start - _EVENT_MARGIN
    until = None if f.end is None else f.end + _EVENT_MARGIN
    out: dict[str, Event] = {}
    for d in store.derived("event", since, until):
        if d.record.id in ids:
            out[d.record.id] = d.record  # type: ignore[assignment]
    for rid in ids - set(out):
        got = store.get_derived("event", rid)
        if got is not None:
            out[rid] = got.record  # type: ignore[assignment]
    return out
