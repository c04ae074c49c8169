"""Queries over the store for the HTTP API: filtering, paging, role redaction, GeoJSON features.

Framework-free (no web imports): the API's routes parse the request, call one function here and
return what it gives. Everything a role may or may not see is decided here, in one place, so that
it can be tested without a server:

- a **full** view (admin, analyst, observer) sees every record as stored, with its current status;
- a **liaison** view (a party's liaison officer) sees only the findings that concern its party:
  incidents, violations and events whose attribution names the party, claims by or against it
  (with their verdicts); the events it sees lose their sensor and detection ids; it never sees
  sensors, their health or coverage;
- a **public** view sees violations only, through a whitelist: positions rounded to 0.01 degree
  (about 1 km), no evidence ids (incident, events, observations, provenance, attribution
  evidence), and an opaque id (``pub-`` + 16 hex digits of the SHA-256 of the finding's id, whose
  own id names the incident it rests on).

Filters (:class:`Filters`, parsed from query strings by :func:`parse_filters`) apply to the
record's time as the store files it (a violation's time, an event's origin time, an incident's
start, a claim's period start): ``start <= time < end``; to its point (a violation's position,
an incident's impact, else launch, an event's position, a claim's place, a sensor's position)
for ``bbox`` and ``sector`` (the agreement's sector containing the point; the first listed wins,
as in the zone engine); to its current status, its party (``UA``, ``RU`` or ``unattributed``)
and a kind that depends on the collection (see :data:`COLLECTIONS`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

from truceline.adjudicate.aggregates import CutOff, aggregate
from truceline.adjudicate.coverage import HEALTH_CODES, NOT_INSTALLED, SensorNetwork, coverage_grid
from truceline.agreement import Agreement, LineVersion, NoLineInForce
from truceline.core import (
    Claim,
    ClaimAssessment,
    Event,
    Incident,
    Sensor,
    SensorStatusReport,
    Violation,
    to_json_dict,
)
from truceline.core.enums import (
    ClaimantKind,
    ClaimVerdict,
    EventKind,
    SensorHealth,
    SensorKind,
    VerificationStatus,
    ViolationKind,
    WeaponClass,
)
from truceline.geo.areas import AreaIndex
from truceline.io.records import DetectionBatch, RecordKind, RecordProblem, parse_kind, read_any
from truceline.service.export import current
from truceline.store.base import AuditEntry, Derived, Store

__all__ = [
    "COLLECTIONS",
    "DEFAULT_LIMIT",
    "LAYERS",
    "MAX_LIMIT",
    "PUBLIC_DECIMALS",
    "AgreementLayers",
    "Filters",
    "IngestOutcome",
    "Page",
    "QueryError",
    "UnknownKind",
    "View",
    "aggregates",
    "audit_entries",
    "audit_json",
    "change_seq",
    "claims",
    "coverage",
    "data_time",
    "events",
    "find_feature",
    "incident_detail",
    "incidents",
    "ingest_body",
    "parse_datetime_interval",
    "parse_filters",
    "parse_time",
    "public_id",
    "sensors",
    "violations",
]

#: Default and largest page size.
DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000
#: Decimals of a public position: 0.01 degree, about 1.1 km north-south.
PUBLIC_DECIMALS = 2
#: Margin around a time filter within which an incident's events are looked for first.
_EVENT_MARGIN = dt.timedelta(hours=6)
_PARTIES = ("UA", "RU", "unattributed")


class QueryError(ValueError):
    """A bad query parameter (HTTP 400); ``param`` names it.

    Parameters
    ----------
    param : str
        The parameter (``"bbox"``, ``"start"``...).
    message : str
        What is wrong with it.
    """

    def __init__(self, param: str, message: str) -> None:
        self.param = param
        super().__init__(f"{param}: {message}")


class UnknownKind(LookupError):
    """A record kind the API does not know (HTTP 404)."""


# ----------------------------------------------------------------------------------- views
@dataclass(frozen=True)
class View:
    """What a caller may see: ``full``, ``liaison`` (of ``party``) or ``public``.

    Build it with :meth:`for_role`.
    """

    mode: str
    party: str | None = None

    @classmethod
    def for_role(cls, role: str, party: str | None = None) -> View:
        """The view of a role (``admin``, ``analyst``, ``observer`` -> full; ``liaison``; ``public``).

        Raises
        ------
        ValueError
            For an unknown role, or a liaison without a party.
        """
        if role in ("admin", "analyst", "observer"):
            return cls("full")
        if role == "liaison":
            if party not in ("UA", "RU"):
                raise ValueError(f"party: a liaison view needs a party (got {party!r})")
            return cls("liaison", party)
        if role == "public":
            return cls("public")
        raise ValueError(f"role: unknown role {role!r}")

    @property
    def full(self) -> bool:
        return self.mode == "full"

    @property
    def liaison(self) -> bool:
        return self.mode == "liaison"

    @property
    def public(self) -> bool:
        return self.mode == "public"

    def sees(self, concerns: Iterable[str | None]) -> bool:
        """Whether a finding concerning these parties is visible (always, but for a liaison)."""
        return not self.liaison or self.party in set(concerns)


FULL = View("full")


# ----------------------------------------------------------------------------------- parsing
def parse_time(value: str | None, param: str) -> dt.datetime | None:
    """An ISO 8601 / RFC 3339 time with a zone (``Z`` or an offset), or a date (00:00 UTC).

    Raises
    ------
    QueryError
        For anything else, naming ``param``.
    """
    if value is None or value == "":
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(0), tzinfo=dt.UTC)
        t = dt.datetime.fromisoformat(text.replace(" ", "+") if "T" in text else text)
    except ValueError:
        raise QueryError(param, f"{value!r} is not an ISO 8601 time (e.g. 2026-09-02T12:00:00Z)") from None
    if t.tzinfo is None:
        raise QueryError(param, f"{value!r} has no timezone (add Z or +03:00)")
    return t


def parse_datetime_interval(value: str | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """OGC API Features ``datetime``: an instant, or ``start/end`` with ``..`` (or empty) for open ends.

    Returns ``(start, end)`` for the half-open filter ``start <= t < end``: the closed interval of
    the standard becomes ``end + 1 µs``; an instant ``t`` selects ``[t, t + 1 µs)``; a date alone
    selects its whole UTC day.

    Raises
    ------
    QueryError
        Naming ``datetime``.
    """
    if value is None or value == "":
        return None, None
    one_us = dt.timedelta(microseconds=1)
    if "/" not in value:
        t = parse_time(value, "datetime")
        assert t is not None
        return t, t + (dt.timedelta(days=1) if len(value.strip()) == 10 else one_us)
    a, _, b = value.partition("/")
    start = None if a in ("", "..") else parse_time(a, "datetime")
    end = None if b in ("", "..") else parse_time(b, "datetime")
    if end is not None:
        end += dt.timedelta(days=1) if len(b.strip()) == 10 else one_us
    if start is None and end is None:
        raise QueryError("datetime", "an interval needs at least one end ('../..' is not an interval)")
    if start is not None and end is not None and end <= start:
        raise QueryError("datetime", f"{value!r} ends before it starts")
    return start, end


def _list(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    return tuple(dict.fromkeys(p.strip() for v in items for p in v.split(",") if p.strip()))


def _int(value: str | int | None, param: str, default: int, lo: int, hi: int) -> int:
    if value is None or value == "":
        return default
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise QueryError(param, f"{value!r} is not an integer") from None
    if not lo <= n <= hi:
        raise QueryError(param, f"{n} is not in [{lo}, {hi}]")
    return n


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None or value == "":
        return None
    parts = value.split(",")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise QueryError("bbox", f"{value!r} is not a list of numbers lon0,lat0,lon1,lat1") from None
    if len(nums) == 6:  # lon0,lat0,z0,lon1,lat1,z1 (OGC): heights are ignored
        nums = [nums[0], nums[1], nums[3], nums[4]]
    if len(nums) != 4 or not all(math.isfinite(v) for v in nums):
        raise QueryError("bbox", f"{value!r}: need 4 (or 6) finite numbers lon0,lat0,lon1,lat1")
    lon0, lat0, lon1, lat1 = nums
    if not (-180 <= lon0 <= 180 and -180 <= lon1 <= 180 and -90 <= lat0 <= lat1 <= 90):
        raise QueryError("bbox", f"{value!r}: need -180 <= lon <= 180 and -90 <= lat0 <= lat1 <= 90")
    return lon0, lat0, lon1, lat1


@dataclass(frozen=True)
class Filters:
    """Parsed filters of a collection query (see the module docstring).

    Attributes
    ----------
    start, end : datetime or None
        ``start <= time < end``.
    bbox : (lon0, lat0, lon1, lat1) or None
        Degrees; ``lon0 > lon1`` crosses the antimeridian.
    status, party, kind, sector : tuple of str
        Any of these values (empty: no filter).
    limit, offset : int
        The page.
    """

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    bbox: tuple[float, float, float, float] | None = None
    status: tuple[str, ...] = ()
    party: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    sector: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    offset: int = 0


def parse_filters(
    *,
    start: str | None = None,
    end: str | None = None,
    datetime: str | None = None,
    bbox: str | None = None,
    status: str | Sequence[str] | None = None,
    party: str | Sequence[str] | None = None,
    kind: str | Sequence[str] | None = None,
    sector: str | Sequence[str] | None = None,
    limit: str | int | None = None,
    offset: str | int | None = None,
) -> Filters:
    """Parse query-string values into :class:`Filters` (lists may be comma-separated or repeated).

    ``datetime`` (OGC) and ``start``/``end`` are alternatives; the latter win where both are given.

    Raises
    ------
    QueryError
        Naming the first bad parameter.
    """
    t0, t1 = parse_datetime_interval(datetime)
    t0 = parse_time(start, "start") or t0
    t1 = parse_time(end, "end") or t1
    if t0 is not None and t1 is not None and t1 <= t0:
        raise QueryError("end", "must be after start")
    parties = _list(party)
    for p in parties:
        if p not in _PARTIES:
            raise QueryError("party", f"{p!r} is not one of {', '.join(_PARTIES)}")
    return Filters(
        start=t0,
        end=t1,
        bbox=_bbox(bbox),
        status=_list(status),
        party=parties,
        kind=_list(kind),
        sector=_list(sector),
        limit=min(_int(limit, "limit", DEFAULT_LIMIT, 1, 2**62), MAX_LIMIT),  # clamped, as OGC API Features asks
        offset=_int(offset, "offset", 0, 0, 2**62),
    )


# ----------------------------------------------------------------------------------- paging
@dataclass
class Page:
    """One page of a filtered collection.

    Attributes
    ----------
    items : list
        The features (or objects) of this page.
    number_matched : int
        How many matched the filters in all.
    offset, limit : int
        Where this page starts and its size.
    """

    items: list[Any]
    number_matched: int
    offset: int
    limit: int

    @property
    def number_returned(self) -> int:
        return len(self.items)

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.items) < self.number_matched

    @property
    def has_prev(self) -> bool:
        return self.offset > 0

    def feature_collection(self) -> dict[str, Any]:
        """A GeoJSON FeatureCollection with ``numberMatched`` and ``numberReturned`` (no links)."""
        return {
            "type": "FeatureCollection",
            "numberMatched": self.number_matched,
            "numberReturned": self.number_returned,
            "features": self.items,
        }


@dataclass
class _Row:
    """A candidate record with what the filters look at."""

    obj: Any
    lon: float | None
    lat: float | None
    party: str | None
    status: str | None
    kinds: tuple[str, ...]
    concerns: tuple[str | None, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def _check_values(param: str, given: Sequence[str], allowed: Iterable[str] | None) -> None:
    if allowed is None:
        return
    ok = set(allowed)
    for v in given:
        if v not in ok:
            raise QueryError(param, f"{v!r} is not one of {', '.join(sorted(ok))}")


def _select(
    rows: list[_Row],
    f: Filters,
    view: View,
    agreement: Agreement | None,
    statuses: Iterable[str] | None,
    kinds: Iterable[str] | None,
) -> list[_Row]:
    """Rows passing the view and the filters (paging is the caller's)."""
    _check_values("status", f.status, statuses)
    _check_values("kind", f.kind, kinds)
    if f.sector:
        known = [s.id for s in agreement.sectors] if agreement is not None else []
        _check_values("sector", f.sector, known)
    out = [r for r in rows if view.sees(r.concerns)]
    if f.status:
        out = [r for r in out if r.status in f.status]
    if f.party:
        out = [r for r in out if (r.party or "unattributed") in f.party]
    if f.kind:
        out = [r for r in out if any(k in f.kind for k in r.kinds)]
    if f.bbox is not None:
        lon0, lat0, lon1, lat1 = f.bbox

        def inside(r: _Row) -> bool:
            if r.lon is None or r.lat is None or not lat0 <= r.lat <= lat1:
                return False
            return lon0 <= r.lon <= lon1 if lon0 <= lon1 else (r.lon >= lon0 or r.lon <= lon1)

        out = [r for r in out if inside(r)]
    if f.sector and agreement is not None and out:
        labels = _sector_labels(agreement, out)
        out = [r for r, s in zip(out, labels, strict=True) if s in f.sector]
    return out


_SECTOR_INDEX: dict[int, tuple[Agreement, AreaIndex]] = {}


def _sector_labels(agreement: Agreement, rows: Sequence[_Row]) -> list[str | None]:
    key = id(agreement)
    cached = _SECTOR_INDEX.get(key)
    if cached is None or cached[0] is not agreement:
        cached = (agreement, AreaIndex([s.geometry for s in agreement.sectors]))
        _SECTOR_INDEX[key] = cached
    index = cached[1]
    has = np.array([r.lon is not None and r.lat is not None for r in rows])
    lon = np.array([r.lon if r.lon is not None else 0.0 for r in rows], dtype=float)
    lat = np.array([r.lat if r.lat is not None else 0.0 for r in rows], dtype=float)
    idx = index.locate(lon, lat) if len(agreement.sectors) else np.full(len(rows), -1)
    ids = [s.id for s in agreement.sectors]
    return [ids[int(i)] if ok and i >= 0 else None for i, ok in zip(idx, has, strict=True)]


def _page(rows: list[_Row], f: Filters, build: Callable[[_Row], Any]) -> Page:
    chunk = rows[f.offset : f.offset + f.limit]
    return Page([build(r) for r in chunk], len(rows), f.offset, f.limit)


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


def _violation_feature(d: Derived, view: View) -> dict[str, Any]:
    if view.public:
        return _public_violation(d)
    v: Violation = d.record  # type: ignore[assignment]
    return _feature(v.id, _point(v.position.lon_deg, v.position.lat_deg), _props(d))


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


# ----------------------------------------------------------------------------------- collections
#: Per collection: the statuses and kinds its ``status`` and ``kind`` filters accept (None: free text).
COLLECTIONS: dict[str, dict[str, tuple[str, ...] | None]] = {
    "violations": {"status": tuple(VerificationStatus), "kind": None},
    "incidents": {"status": tuple(VerificationStatus), "kind": tuple(WeaponClass)},
    "events": {"status": (), "kind": tuple(EventKind)},
    "claims": {"status": tuple(ClaimVerdict), "kind": tuple(ViolationKind)},
    "sensors": {"status": (*tuple(SensorHealth), "not_installed"), "kind": tuple(SensorKind)},
}


def _values(name: str, key: str) -> tuple[str, ...] | None:
    vals = COLLECTIONS[name][key]
    return None if vals is None else tuple(str(v) for v in vals)


def violations(store: Store, f: Filters, view: View, agreement: Agreement | None = None) -> Page:
    """Current violations as GeoJSON features (``kind``: the rule family, e.g. ``buffer_zone``, or rule id).

    A public view gets the whitelist of :func:`_public_violation`; a liaison view only the
    violations attributed to its party.
    """
    rows = [_violation_row(d) for d in store.derived("violation", f.start, f.end)]
    sel = _select(rows, f, view, agreement, _values("violations", "status"), None)
    return _page(sel, f, lambda r: _violation_feature(r.obj, view))


def _violation_row(d: Derived) -> _Row:
    v: Violation = d.record  # type: ignore[assignment]
    party = _party_of(v)
    return _Row(d, v.position.lon_deg, v.position.lat_deg, party, d.status or v.status.value,
                (v.rule_id.split(".", 1)[0], v.rule_id), (party,))  # fmt: skip


def incidents(store: Store, f: Filters, view: View, agreement: Agreement | None = None) -> Page:
    """Current incidents as GeoJSON features (``kind``: the weapon class); geometry: the impact, else
    the launch; properties add ``launch``/``impact`` ``[lon, lat]`` and the main event's 95 % ``ellipse``."""
    if view.public:
        raise PermissionError("incidents are not public")
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
        raise PermissionError("events are not public")
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
        raise PermissionError("claims are not public")
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


def data_time(store: Store) -> dt.datetime:
    """The newest observation time in the store (the "present" of its data), else now (UTC)."""
    span = store.time_span_us()
    if span is None:
        return dt.datetime.now(dt.UTC)
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=span[1])


def sensors(store: Store, f: Filters, view: View, at: dt.datetime | None = None,
            agreement: Agreement | None = None) -> Page:  # fmt: skip
    """Sensors with their ``health`` at ``at`` (default :func:`data_time`), ``last_report`` and
    ``health_reason``; ``status`` filters on health (or ``not_installed``), ``kind`` on the sensor kind.

    Raises
    ------
    PermissionError
        For a liaison or public view: sensor positions and health are for the mission only.
    """
    if not view.full:
        raise PermissionError("sensor positions and health are for the mission only")
    when = at or data_time(store)
    sens = [s for s in store.records("sensor") if isinstance(s, Sensor)]
    reports = [r for r in store.records("sensor_status_report") if isinstance(r, SensorStatusReport)]
    net = SensorNetwork.from_records(sens, reports)
    codes = net.health_at(when) if sens else np.zeros(0, dtype=np.int64)
    last: dict[str, SensorStatusReport] = {}
    for r in reports:
        if r.time <= when:
            last[r.sensor_id] = r
    rows = []
    for s, code in zip(sens, codes.tolist(), strict=True):
        health = "not_installed" if code == NOT_INSTALLED else HEALTH_CODES[code].value
        rows.append(_Row(s, s.position.lon_deg, s.position.lat_deg, None, health, (s.kind.value,),
                         extra={"report": last.get(s.id)}))  # fmt: skip
    sel = _select(rows, f, view, agreement, _values("sensors", "status"), _values("sensors", "kind"))

    def build(r: _Row) -> dict[str, Any]:
        s: Sensor = r.obj
        rep: SensorStatusReport | None = r.extra["report"]
        props = to_json_dict(s) | {
            "health": r.status,
            "health_at": when.astimezone(dt.UTC).isoformat(),
            "last_report": None if rep is None else to_json_dict(rep),
        }
        return _feature(s.id, _point(s.position.lon_deg, s.position.lat_deg), props)

    return _page(sel, f, build)


def coverage(store: Store, at: dt.datetime | None, weapon_class: str, kind: str, cell_km: float,
             bbox: tuple[float, float, float, float] | None = None, min_probability: float = 0.01
             ) -> dict[str, Any]:  # fmt: skip
    """The coverage grid (P(at least 6 sensors hear)) at ``at`` (default :func:`data_time`) as GeoJSON.

    Raises
    ------
    ValueError
        For a bad weapon class, kind, cell size or bbox (from :func:`coverage_grid`), or no sensors.
    """
    if kind not in ("impact", "launch"):
        raise QueryError("kind", f"{kind!r} is not impact or launch")
    sens = [s for s in store.records("sensor") if isinstance(s, Sensor)]
    reports = [r for r in store.records("sensor_status_report") if isinstance(r, SensorStatusReport)]
    net = SensorNetwork.from_records(sens, reports)
    grid = coverage_grid(net, bbox, cell_km, when=at or data_time(store), weapon_class=weapon_class, kind=kind)
    return grid.to_geojson(min_probability)


def aggregates(store: Store, f: Filters, view: View, agreement: Agreement | None, by: Sequence[str],
               cutoff: str = "19:30", tz: str = "Europe/Kyiv") -> dict[str, Any]:  # fmt: skip
    """Counts of the current violations that pass ``f`` and the view, grouped by ``by``.

    Returns :meth:`AggregateTable.to_dict` (``keys``, ``cutoff``, ``total``, ``rows``). A liaison
    counts only the findings attributed to its party.

    Raises
    ------
    QueryError
        For a bad cut-off or time zone.
    ValueError
        For a bad key (from :func:`aggregate`).
    """
    try:
        hh, mm = (int(x) for x in cutoff.split(":"))
        co = CutOff(hour=hh, minute=mm, tz=tz)
    except ValueError as exc:
        raise QueryError("cutoff", str(exc)) from None
    rows = [_violation_row(d) for d in store.derived("violation", f.start, f.end)]
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


# ----------------------------------------------------------------------------------- ingest
_NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
                 "application/jsonlines", "application/json-lines")  # fmt: skip
_CSV_TYPES = ("text/csv", "application/csv")


@dataclass
class IngestOutcome:
    """What an ingest request did: as ``truceline ingest`` reports a file."""

    kind: str
    read: int = 0
    inserted: int = 0
    repeats: int = 0
    problems: list[RecordProblem] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len({(p.line, p.record_id) for p in self.problems})

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """``{kind, read, inserted, repeats, rejected, problems}``, each problem
        ``{line, record_id, field, value, reason, message}``."""
        return {
            "kind": self.kind,
            "read": self.read,
            "inserted": self.inserted,
            "repeats": self.repeats,
            "rejected": self.rejected,
            "problems": [
                {
                    "line": p.line,
                    "record_id": p.record_id,
                    "field": p.field,
                    "value": p.value,
                    "reason": p.reason,
                    "message": str(p),
                }
                for p in self.problems
            ],
        }


def _body_format(media_type: str | None, kind: RecordKind) -> str:
    mt = (media_type or "application/json").split(";", 1)[0].strip().lower()
    if mt in _NDJSON_TYPES:
        return "ndjson"
    if mt in _CSV_TYPES:
        if kind is not RecordKind.DETECTION:
            raise QueryError("Content-Type", f"CSV holds detections only, not {kind.value} records")
        return "csv"
    if mt == "application/json" or mt.endswith("+json"):
        return "json"
    raise QueryError("Content-Type", f"{mt!r}: send application/json (an array), application/x-ndjson or, "
                                     "for detections, text/csv")  # fmt: skip


def ingest_body(store: Store, kind: str, body: bytes, media_type: str | None, source: str) -> IngestOutcome:
    """Ingest a request body of one kind of record, with the validation and idempotency of ``truceline ingest``.

    The body is read by the same strict readers as a file (:func:`truceline.io.records.read_any`)
    and stored by the same steps as :func:`truceline.service.ingest.ingest_files` (unknown sensors
    refused, same id + same content a repeat, same id + other content a conflict); every good
    record is kept.

    Parameters
    ----------
    store : Store
    kind : str
        A record kind or alias (``sighting``, ``sensor_status``...; see :func:`parse_kind`).
    body : bytes
        A JSON array (or ``{"records": [...]}``), NDJSON, or for detections CSV.
    media_type : str or None
        The request's Content-Type (JSON when missing).
    source : str
        What the store records as the source (e.g. ``"api:observer.fr.2"``); also the "file" of
        each problem's message (``line`` is the NDJSON line, or the 1-based array index).

    Raises
    ------
    UnknownKind
        For an unknown kind.
    QueryError
        For a Content-Type that does not fit.
    """
    from truceline.service.ingest import _detections, _records  # the CLI's own steps, so both agree

    try:
        rk = parse_kind(kind)
    except ValueError as exc:
        raise UnknownKind(str(exc)) from None
    fmt = _body_format(media_type, rk)
    stem = rk.file_name.rsplit(".", 1)[0]
    with tempfile.TemporaryDirectory(prefix="truceline-api-") as tmp:
        if fmt == "json" and rk is RecordKind.DETECTION:
            path, problem = _json_array_as_lines(Path(tmp), body)
            if problem is not None:
                return IngestOutcome(rk.value, problems=[dataclasses.replace(problem, path=source)])
        else:
            path = Path(tmp) / f"{stem}.{ {'json': 'json', 'ndjson': 'jsonl', 'csv': 'csv'}[fmt] }"
            path.write_bytes(body)
        batch = read_any(path, rk)
        batch.path = source
        batch.problems = [dataclasses.replace(p, path=source) for p in batch.problems]
        report = _detections(store, batch) if isinstance(batch, DetectionBatch) else _records(store, batch)
    return IngestOutcome(rk.value, report.read, report.inserted, report.repeats, list(report.problems))


def _json_array_as_lines(tmp: Path, body: bytes) -> tuple[Path, RecordProblem | None]:
    """A JSON array of detections as ``detections.jsonl`` (line ``i`` = the ``i``-th object) for the bulk reader."""
    from truceline.io.records import _load_json  # the strict JSON reader of .json files

    doc_path = tmp / "detections.json"
    doc_path.write_bytes(body)
    doc, problem = _load_json(doc_path)
    out = tmp / "detections.jsonl"
    if problem is not None:
        return out, problem
    items = doc.get("records") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        reason = "expected an array of objects, or an object with a 'records' array"
        return out, RecordProblem(str(doc_path), 0, None, "<file>", type(doc).__name__, reason)
    out.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in items), encoding="utf-8")
    return out, None


# ----------------------------------------------------------------------------------- agreement layers
#: Agreement layers: name -> title.
LAYERS: dict[str, str] = {
    "boundaries": "Oblast boundaries of Ukraine (Minregion, CC BY-SA; Crimea in Ukraine)",
    "line": "Line of contact in force",
    "areas": "Areas controlled by each party",
    "buffer": "Buffer zone (the band within the agreement's half-width of the line)",
    "sectors": "Sectors of responsibility",
    "sites": "Protected sites",
    "disengagement": "Disengagement areas",
}


def _rounded(geom: shapely.Geometry, decimals: int = 6) -> dict[str, Any]:
    out: dict[str, Any] = mapping(shapely.transform(geom, lambda c: np.round(c, decimals)))
    return json.loads(json.dumps(out))  # tuples -> lists


class AgreementLayers:
    """The agreement's layers as GeoJSON, built once per line version and kept.

    Parameters
    ----------
    agreement : Agreement
    """

    def __init__(self, agreement: Agreement) -> None:
        self.agreement = agreement
        self._cache: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def version(self, at: dt.datetime | None) -> LineVersion:
        """The line version in force at ``at`` (the newest without ``at``).

        Raises
        ------
        LookupError
            When no line is in force at ``at``.
        """
        if at is None:
            return self.agreement.versions[-1]
        try:
            return self.agreement.line_at(at)
        except NoLineInForce as exc:
            raise LookupError(str(exc)) from None

    @cached_property
    def extent(self) -> tuple[float, float, float, float]:
        """Bounds of every version's areas and line (lon0, lat0, lon1, lat1)."""
        versions = self.agreement.versions
        geoms = [v.line for v in versions] + [g for v in versions for g in v.areas.values()]
        b = shapely.total_bounds(geoms)
        return float(b[0]), float(b[1]), float(b[2]), float(b[3])

    def features(self, name: str, at: dt.datetime | None = None) -> list[dict[str, Any]]:
        """The features of layer ``name`` (see :data:`LAYERS`); ``line``, ``areas`` and ``buffer`` at ``at``.

        Raises
        ------
        LookupError
            For an unknown layer, or no line in force at ``at``.
        """
        if name not in LAYERS:
            raise LookupError(f"layer {name!r}: not found; layers are {', '.join(LAYERS)}")
        version = self.version(at) if name in ("line", "areas", "buffer") else None
        key = (name, "" if version is None else version.id)
        if key not in self._cache:
            self._cache[key] = self._build(name, version)
        return self._cache[key]

    def geojson(self, name: str, at: dt.datetime | None = None) -> dict[str, Any]:
        """A FeatureCollection of layer ``name`` (see :meth:`features`)."""
        doc: dict[str, Any] = {"type": "FeatureCollection", "name": name, "title": LAYERS.get(name, name)}
        feats = self.features(name, at)
        if name == "boundaries":
            doc["attribution"] = _oblasts()["attribution"]
        return doc | {"features": feats}

    def line_versions(self) -> list[dict[str, Any]]:
        """Every version of the line as a feature with ``valid_from``/``valid_to`` (the OGC collection)."""
        return [
            _feature(v.id, _rounded(v.line), {"id": v.id, "valid_from": v.valid_from.isoformat(),
                     "valid_to": None if v.valid_to is None else v.valid_to.isoformat(), "source": v.source})
            for v in self.agreement.versions
        ]  # fmt: skip

    def _build(self, name: str, version: LineVersion | None) -> list[dict[str, Any]]:
        a = self.agreement
        if name == "boundaries":
            return [dict(f, id=f["properties"].get("iso_3166_2", i)) for i, f in enumerate(_oblasts()["features"])]
        if name == "sectors":
            return [_feature(s.id, _rounded(s.geometry), {"id": s.id, "name": s.name, "contingent": s.contingent})
                    for s in a.sectors]  # fmt: skip
        if name == "disengagement":
            return [_feature(s.id, _rounded(s.geometry), {"id": s.id, "name": s.name}) for s in a.disengagement_areas]
        if name == "sites":
            return [_feature(s.id, _point(s.lon, s.lat), {**s.properties, "id": s.id, "name": s.name,
                             "category": s.category, "radius_km": s.radius_km}) for s in a.protected_sites]  # fmt: skip
        assert version is not None
        vprops = {"version": version.id, "valid_from": version.valid_from.isoformat(),
                  "valid_to": None if version.valid_to is None else version.valid_to.isoformat()}  # fmt: skip
        if name == "line":
            return [_feature(version.id, _rounded(version.line), {"id": version.id, **vprops})]
        if name == "areas":
            return [_feature(f"{version.id}:{p}", _rounded(g), {"party": p, "name": a.parties.get(p, p), **vprops})
                    for p, g in version.areas.items()]  # fmt: skip
        proj = a.zones(version).geometry.projection
        band = proj.unproject_geometry(shapely.buffer(proj.project_geometry(version.line, max_edge_deg=None),
                                                      a.buffer_zone_km * 1000.0, quad_segs=8))  # fmt: skip
        land = shapely.union_all(list(version.areas.values()))
        zone = shapely.intersection(band, land)
        return [_feature(f"{version.id}:buffer", _rounded(zone, 5), {"half_width_km": a.buffer_zone_km, **vprops})]


_OBLASTS: dict[str, Any] = {}


def _oblasts() -> dict[str, Any]:
    if not _OBLASTS:
        text = files("truceline").joinpath("data", "ua_oblasts.geojson").read_text(encoding="utf-8")
        _OBLASTS.update(json.loads(text))
    return _OBLASTS


def record_kinds() -> list[str]:
    """The kinds the ingest endpoint takes (record-type names)."""
    return [k.value for k in RecordKind]


def find_feature(store: Store, collection: str, fid: str, view: View) -> dict[str, Any] | None:
    """One current feature of ``violations``, ``incidents``, ``events`` or ``sensors`` by id, as the view
    sees it; None when unknown, superseded or not visible (a public client names a violation by its
    :func:`public_id`)."""
    if collection == "violations":
        if view.public:
            if fid.startswith("pub-"):
                for d in store.derived("violation"):
                    if public_id(d.record.id) == fid:
                        return _public_violation(d)
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
