"""Cursor on Target (CoT) events of incidents and findings, built from the records a role may see.

Pure functions, no I/O: :mod:`truceline.service.tak` sends what they build. The input is a GeoJSON
feature exactly as the API gives it to a role (:func:`truceline.service.queries.violations` and
:func:`~truceline.service.queries.incidents`, which apply the one redaction policy,
:mod:`truceline.service.redaction`), so a CoT stream carries nothing the same role's API response does
not: a public stream has keyed public ids, rounded positions and no evidence; a feature whose position
is withheld gives no event at all (a CoT event needs a point).

An event (CoT 2.0)::

    <event version="2.0" uid="truceline.violation.ID" type="a-u-G" how="m-f"
           time="2026-09-02T06:00:00.000Z" start="..." stale="time + age">
      <point lat="47.95" lon="37.8" hae="9999999.0" ce="74.5" le="9999999.0"/>
      <detail>
        <contact callsign="..."/>
        <remarks>what; where (the place in words, the point); how sure; evidence</remarks>
        <__group name="..." role="Team Member"/>      (only with a group set)
        <truceline record="violation" audience="public" releasableTo="UK FR"/>
      </detail>
    </event>

``ce`` is the semi-major axis of the record's 95 % ellipse in metres (9999999.0, CoT's "unknown", when
the role's record carries no uncertainty); height is not estimated (``hae`` and ``le`` unknown).
docs/tak.md maps every field.
"""

from __future__ import annotations

import datetime as dt
import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from truceline.core.uncertainty import GeoUncertainty
from truceline.geo.places import place_text

__all__ = [
    "IDENTITIES",
    "RECORD_KINDS",
    "UNKNOWN",
    "CotSettings",
    "ce_95",
    "cot_event",
    "cot_messages",
    "cot_time",
    "cot_type",
    "remarks",
    "to_xml",
]

#: CoT's value for an unknown height, circular or linear error.
UNKNOWN = 9999999.0
#: Identity setting -> CoT type (atom, affiliation, ground): unknown or neutral ground.
IDENTITIES = {"unknown": "a-u-G", "neutral": "a-n-G"}
#: The records a CoT stream carries.
RECORD_KINDS = ("violation", "incident")
#: Chi-square quantile scale of a 95 % ellipse with 2 degrees of freedom: sqrt(-2 ln 0.05).
_K95 = math.sqrt(-2.0 * math.log(0.05))


@dataclass(frozen=True)
class CotSettings:
    """How records become CoT events.

    Attributes
    ----------
    identity : str
        ``unknown`` (type ``a-u-G``) or ``neutral`` (``a-n-G``): the mission attributes, it does not
        take sides, so never friend or hostile.
    stale : timedelta
        An event is stale this long after its time.
    how : str
        CoT ``how`` (default ``m-f``: machine-generated, fused: the position is located from several sensors).
    audience : str
        The role the records were redacted for (``public``, ``liaison-UA``, ``analyst``...), stated in
        the detail.
    releasable_to : tuple of str
        Contingents the stream is marked releasable to (``releasableTo``, space-separated); empty: none.
    group : str or None
        A TAK team (``<__group name=...>``), e.g. ``Cyan``; None: no group element.
    callsign_prefix : str
        Prefix of each event's callsign.
    """

    identity: str = "unknown"
    stale: dt.timedelta = dt.timedelta(hours=6)
    how: str = "m-f"
    audience: str = "public"
    releasable_to: tuple[str, ...] = field(default_factory=tuple)
    group: str | None = None
    callsign_prefix: str = "TL"

    def __post_init__(self) -> None:
        if self.identity not in IDENTITIES:
            raise ValueError(f"identity: {self.identity!r} is not one of {', '.join(IDENTITIES)}")
        if self.stale <= dt.timedelta(0):
            raise ValueError(f"stale: {self.stale} is not a positive age")


def cot_type(identity: str) -> str:
    """The CoT type of an identity setting (:data:`IDENTITIES`).

    Raises
    ------
    ValueError
        For an identity other than ``unknown`` or ``neutral``.
    """
    try:
        return IDENTITIES[identity]
    except KeyError:
        raise ValueError(f"identity: {identity!r} is not one of {', '.join(IDENTITIES)}") from None


def cot_time(when: dt.datetime | str) -> str:
    """A time as CoT writes it: UTC, ISO 8601 with milliseconds and ``Z`` (``2026-09-02T06:00:00.000Z``).

    Raises
    ------
    ValueError
        For a time without a zone.
    """
    t = dt.datetime.fromisoformat(when) if isinstance(when, str) else when
    if t.tzinfo is None:
        raise ValueError(f"time: {when!r} has no timezone")
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def ce_95(uncertainty: Mapping[str, Any] | None = None, ellipse: Mapping[str, Any] | None = None) -> float:
    """CoT ``ce``: the semi-major axis of the 95 % ellipse, metres (:data:`UNKNOWN` when none is given).

    Parameters
    ----------
    uncertainty : mapping, optional
        A record's ``geo_uncertainty`` JSON (``sigma_m`` or ``cov_en_m2``), as the role received it.
    ellipse : mapping, optional
        A 95 % ellipse ``{semi_major_m, ...}`` as the role received it (an incident's); used first.
    """
    if ellipse is not None and ellipse.get("semi_major_m") is not None:
        return round(float(ellipse["semi_major_m"]), 1)
    if uncertainty is None:
        return UNKNOWN
    try:
        a, _, _ = GeoUncertainty.model_validate(dict(uncertainty)).ellipse(0.95)
    except ValueError:  # no numeric uncertainty (a precision code only), or a malformed one
        return UNKNOWN
    return round(a, 1)


# ----------------------------------------------------------------------------------- remarks
def _fmt(value: Any) -> str:
    return "unknown" if value is None else str(value)


def _where(lon: float, lat: float, audience: str, place: Any = None) -> str:
    """``Where: 3 km SW of Horlivka (Donetsk oblast); lat .., lon ..``: the feature's ``place`` (or the
    point's, :func:`truceline.geo.places.place_text`), both of the point as the role's feature gives it."""
    note = " (rounded to 0.01 deg for the public)" if audience == "public" else ""
    words = place if isinstance(place, str) and place else place_text(lon, lat)
    return f"Where: {words + '; ' if words else ''}lat {lat}, lon {lon}{note}."


def _how_sure(props: Mapping[str, Any]) -> str:
    att = props.get("attribution") or {}
    parts = [f"attribution {_fmt(att.get('party'))} (level {_fmt(att.get('level'))}"]
    if att.get("probability") is not None:
        parts[0] += f", p={att['probability']}"
    parts[0] += ")"
    parts.append(f"status {_fmt(props.get('status'))}")
    if props.get("confidence") is not None:
        parts.append(f"confidence {props['confidence']}")
    return "How sure: " + ", ".join(parts) + "."


def _evidence(props: Mapping[str, Any]) -> str | None:
    """Evidence ids the role's record carries (none in a public one): incident, events, observations."""
    parts = []
    if props.get("incident_id"):
        parts.append(f"incident {props['incident_id']}")
    for key, label in (("event_ids", "events"), ("observation_ids", "observations")):
        ids = props.get(key) or ()
        if ids:
            parts.append(f"{label} {' '.join(str(i) for i in ids)}")
    return None if not parts else "Evidence: " + "; ".join(parts) + "."


def _what(kind: str, props: Mapping[str, Any]) -> str:
    weapon = _fmt(props.get("weapon_class"))
    if kind == "violation":
        rule = str(props.get("rule_id") or "")
        family, what = rule.split(".", 1)[0], _fmt(props.get("violation_kind"))
        return f"What: finding {rule} (rule family {family}), kind {what}, weapon class {weapon}."
    return f"What: incident, weapon class {weapon}."


def remarks(kind: str, props: Mapping[str, Any], lon: float, lat: float, audience: str) -> str:
    """The remarks of a record's event: what, where, how sure, and evidence ids when the record has them."""
    lines = [_what(kind, props), _where(lon, lat, audience, props.get("place")), _how_sure(props)]
    evidence = _evidence(props)
    if evidence is not None:
        lines.append(evidence)
    return "\n".join(lines)


# ----------------------------------------------------------------------------------- events
def _record_time(kind: str, props: Mapping[str, Any]) -> dt.datetime:
    raw = (props.get("window") or {}).get("start") if kind == "incident" else props.get("time")
    if raw is None:
        raise ValueError(f"{kind} {props.get('id')!r}: no time")
    t = dt.datetime.fromisoformat(str(raw))
    if t.tzinfo is None:
        raise ValueError(f"{kind} {props.get('id')!r}: time {raw!r} has no timezone")
    return t


def _point_of(feature: Mapping[str, Any]) -> tuple[float, float] | None:
    geom = feature.get("geometry")
    if not geom or geom.get("type") != "Point":
        return None
    lon, lat = geom["coordinates"][:2]
    return float(lon), float(lat)


def _callsign(kind: str, props: Mapping[str, Any], t: dt.datetime, prefix: str) -> str:
    what = props.get("rule_id") if kind == "violation" else f"incident {_fmt(props.get('weapon_class'))}"
    return f"{prefix} {what} {t.astimezone(dt.UTC):%d%H%M}Z"


def _detail(event: ET.Element, kind: str, props: Mapping[str, Any], point: tuple[float, float], t: dt.datetime,
            s: CotSettings) -> None:  # fmt: skip
    detail = ET.SubElement(event, "detail")
    ET.SubElement(detail, "contact", callsign=_callsign(kind, props, t, s.callsign_prefix))
    ET.SubElement(detail, "remarks").text = remarks(kind, props, point[0], point[1], s.audience)
    if s.group:
        ET.SubElement(detail, "__group", name=s.group, role="Team Member")
    mark = {"record": kind, "audience": s.audience}
    if s.releasable_to:
        mark["releasableTo"] = " ".join(s.releasable_to)
    ET.SubElement(detail, "truceline", mark)


def cot_event(feature: Mapping[str, Any], kind: str, settings: CotSettings) -> ET.Element | None:
    """The CoT event of one record as a role receives it; None when its position is withheld.

    Parameters
    ----------
    feature : mapping
        A GeoJSON feature from :func:`truceline.service.queries.violations` or
        :func:`~truceline.service.queries.incidents` for the role (already redacted).
    kind : str
        ``violation`` or ``incident``.
    settings : CotSettings

    Returns
    -------
    Element or None
        ``<event>``; its uid ``truceline.KIND.ID`` with the feature's id (the keyed public id for the
        public), stable across pushes.

    Raises
    ------
    ValueError
        For an unknown kind, or a record without a time with a zone.
    """
    if kind not in RECORD_KINDS:
        raise ValueError(f"kind: {kind!r} is not one of {', '.join(RECORD_KINDS)}")
    point = _point_of(feature)
    if point is None:
        return None
    props: Mapping[str, Any] = feature.get("properties") or {}
    t = _record_time(kind, props)
    event = ET.Element("event", {
        "version": "2.0", "uid": f"truceline.{kind}.{feature['id']}", "type": cot_type(settings.identity),
        "how": settings.how, "time": cot_time(t), "start": cot_time(t), "stale": cot_time(t + settings.stale),
    })  # fmt: skip
    ce = ce_95(props.get("geo_uncertainty"), props.get("ellipse"))
    ET.SubElement(event, "point", {
        "lat": repr(point[1]), "lon": repr(point[0]), "hae": repr(UNKNOWN), "ce": repr(ce), "le": repr(UNKNOWN),
    })  # fmt: skip
    _detail(event, kind, props, point, t, settings)
    return event


def to_xml(event: ET.Element) -> bytes:
    """An event as one line of UTF-8 XML with its declaration, newline-terminated (a TCP stream's framing):
    line breaks inside it (the remarks') are written as character references, which parse back the same."""
    body = ET.tostring(event, encoding="unicode").replace("\n", "&#10;")
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + body + "\n").encode("utf-8")


def cot_messages(features: Sequence[Mapping[str, Any]], kind: str, settings: CotSettings) -> list[bytes]:
    """The messages of records (see :func:`cot_event`), those with a withheld position left out."""
    out = []
    for f in features:
        event = cot_event(f, kind, settings)
        if event is not None:
            out.append(to_xml(event))
    return out
