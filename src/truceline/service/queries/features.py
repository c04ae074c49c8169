"""GeoJSON features of stored records, as each view sees them (public whitelist, liaison redaction)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

from truceline.agreement.families import FAMILIES, family_of
from truceline.core import (
    Event,
    Incident,
    Violation,
    to_json_dict,
)
from truceline.service.export import current
from truceline.service.queries.filters import (
    PUBLIC_DECIMALS,
    Filters,
    View,
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


def _props(d: Derived) -> dict[str, Any]:
    """The record's JSON with its current status (and ``superseded`` when it no longer is current)."""
    props = to_json_dict(current(d))
    if d.status is not None:
        props["status"] = d.status
    if d.superseded_by is not None:
        props["superseded_by_run"] = d.superseded_by
    return props


def public_id(record_id: str) -> str:
    """The opaque id a public client sees for a finding (a finding's id names its incident)."""
    return "pub-" + hashlib.sha256(record_id.encode("utf-8")).hexdigest()[:16]


def _public_violation(d: Derived) -> dict[str, Any]:
    """The whitelist a public client sees of a violation (see the module docstring)."""
    v: Violation = d.record  # type: ignore[assignment]
    lon = round(v.position.lon_deg, PUBLIC_DECIMALS)
    lat = round(v.position.lat_deg, PUBLIC_DECIMALS)
    att = v.attribution
    fid = public_id(v.id)
    props: dict[str, Any] = {
        "id": fid,
        "rule_id": v.rule_id,
        "rule_version": v.rule_version,
        "time": v.time.isoformat(),
        "position": {"lon_deg": lon, "lat_deg": lat},
        "violation_kind": None if v.violation_kind is None else v.violation_kind.value,
        "weapon_class": None if v.weapon_class is None else v.weapon_class.value,
        "attribution": {
            "level": att.level.value,
            "party": None if att.party is None else att.party.value,
            "probability": att.probability,
        },
        "confidence": v.confidence,
        "status": d.status or v.status.value,
    }
    return _feature(fid, _point(lon, lat), props)


#: Rule families whose findings sit at a monitoring asset (:attr:`~truceline.agreement.families.Family.places_asset`):
#: their position, sensor id and health are the mission's own (never shown to a liaison officer or the public).
ASSET_FAMILIES = tuple(f.id for f in FAMILIES if f.places_asset)


def hides_position(v: Violation) -> bool:
    """Whether a finding's position places a sensor (see :data:`ASSET_FAMILIES`)."""
    return family_of(v.rule_id) in ASSET_FAMILIES


def _redact_asset(feature: dict[str, Any]) -> dict[str, Any]:
    """No geometry, no sensor id or health, no cited observations (status reports name the sensor)."""
    props = dict(feature["properties"])
    props.pop("position", None)
    props.pop("geo_uncertainty", None)
    props["observation_ids"] = []
    for key in ("rule_parameters",):
        if isinstance(props.get(key), dict):
            props[key] = {k: v for k, v in props[key].items() if k not in ("sensor_id", "health")}
    if isinstance(props.get("provenance"), dict):
        prov = dict(props["provenance"])
        prov.pop("inputs", None)
        if isinstance(prov.get("parameters"), dict):
            prov["parameters"] = {k: v for k, v in prov["parameters"].items() if k not in ("sensor_id", "health")}
        props["provenance"] = prov
    return {**feature, "geometry": None, "properties": props}


def _violation_feature(d: Derived, view: View) -> dict[str, Any]:
    v: Violation = d.record  # type: ignore[assignment]
    if view.public:
        out = _public_violation(d)
    else:
        out = _feature(v.id, _point(v.position.lon_deg, v.position.lat_deg), _props(d))
    return _redact_asset(out) if not view.full and hides_position(v) else out


def _liaison_event(props: dict[str, Any]) -> dict[str, Any]:
    """An event as a liaison officer sees it: no sensor or detection ids (nothing that places a sensor)."""
    out = dict(props)
    out.pop("sensor_ids", None)
    out.pop("detection_ids", None)
    if isinstance(out.get("provenance"), dict):
        out["provenance"] = {k: v for k, v in out["provenance"].items() if k != "inputs"}
    return out


def _event_feature(d: Derived, view: View) -> dict[str, Any]:
    e: Event = d.record  # type: ignore[assignment]
    props = _props(d)
    props["ellipse"] = _ellipse(e)
    if not view.full:
        props = _liaison_event(props)
    return _feature(e.id, _point(e.position.lon_deg, e.position.lat_deg), props)


def _incident_points(inc: Incident, events: Mapping[str, Event]) -> tuple[Event | None, Event | None, Event | None]:
    """(launch, impact, main) events of an incident; main: the impact, else the launch, else the first."""
    launch = events.get(inc.launch_event_id) if inc.launch_event_id else None
    impact = events.get(inc.impact_event_id) if inc.impact_event_id else None
    main = impact or launch
    if main is None:
        main = next((events[i] for i in inc.event_ids if i in events), None)
    return launch, impact, main


def _incident_feature(d: Derived, events: Mapping[str, Event]) -> dict[str, Any]:
    inc: Incident = d.record  # type: ignore[assignment]
    launch, impact, main = _incident_points(inc, events)
    props = _props(d)
    props["launch"] = None if launch is None else list(launch.position.as_tuple())
    props["impact"] = None if impact is None else list(impact.position.as_tuple())
    props["ellipse"] = None if main is None else _ellipse(main)
    geom = None if main is None else _point(main.position.lon_deg, main.position.lat_deg)
    return _feature(inc.id, geom, props)


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
