"""OGC API Features over the collection queries: flat properties with a top-level ``time`` at millisecond
precision, property filters and ``sortby`` (:mod:`~truceline.service.queries.queryables`), the extent of what
a view sees.

Framework-free, like the rest of :mod:`truceline.service.queries`. The features come from the collection
queries (:func:`~truceline.service.queries.violations`, ``incidents``, ``events``, ``sensors``), so each has
been through the redaction policy (:mod:`truceline.service.redaction`) before this module sees it; this
module only reshapes a feature's properties and adds values read from those same properties:

- :func:`flat_properties`: nested objects become ``parent_child`` columns (``attribution_party``,
  ``window_start``, ``position_lon_deg``...); lists of plain values stay lists (GDAL reads them as list
  fields), lists holding objects become their JSON text; every time (an ISO 8601 string with a zone) is
  given in UTC at millisecond precision (:func:`ms_time`: ``2026-09-02T06:00:23.000Z``), which GDAL and
  QGIS read without the microsecond carry that made GDAL refuse ``...22.999905``;
- :func:`flat_feature` adds ``time`` (the record's time: a violation's, an event's origin, an incident's
  start, for QGIS's temporal controller), ``party`` (the attribution's, ``unattributed`` when none) and,
  for violations, ``family`` (the rule family, ``rule_id`` before the dot).

Filters and sort keys that the collection query cannot apply are judged on these flat properties as the
caller receives them (:func:`ogc_page`), so no filter or ordering can reveal a value the caller does not see.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from truceline.service.queries.filters import Filters
from truceline.service.queries.paging import Page
from truceline.service.queries.queryables import OgcQuery

__all__ = [
    "TIME_PROPERTY",
    "collection_extent",
    "flat_feature",
    "flat_properties",
    "ms_time",
    "ms_time_text",
    "ogc_page",
]

#: Per collection, the flat property that is the record's time (copied to ``time``).
TIME_PROPERTY = {"violations": "time", "incidents": "window_start", "events": "origin_time"}
#: Collections whose records carry an attribution (``party``).
_ATTRIBUTED = frozenset({"violations", "incidents", "events"})
#: An ISO 8601 date and time with a zone, as the records write them.
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})")
#: A page size that takes every matching record.
_ALL = 2**62


def ms_time(t: dt.datetime) -> str:
    """A time in UTC at millisecond precision, ``YYYY-MM-DDTHH:MM:SS.mmmZ``.

    Rounded to the nearest millisecond (half up), the carry going into the seconds, minutes, hours, days and
    years as it must (``23:59:59.9996`` on 31 December is ``00:00:00.000`` of the next year). A time without a
    zone is read as UTC. At the very end of the calendar, where no later second exists, it is cut instead.
    """
    u = t.astimezone(dt.UTC) if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)
    ms = (u.microsecond + 500) // 1000
    try:
        u = u.replace(microsecond=0) + dt.timedelta(milliseconds=ms)
    except OverflowError:  # 9999-12-31T23:59:59.9995 and later
        u = u.replace(microsecond=999_000)
    return (f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}."
            f"{u.microsecond // 1000:03d}Z")  # fmt: skip


def ms_time_text(value: str) -> str:
    """An ISO 8601 time with a zone as :func:`ms_time` writes it; any other text as it is."""
    if not _ISO_TIME.fullmatch(value):
        return value
    try:
        return ms_time(dt.datetime.fromisoformat(value))
    except (ValueError, OverflowError):
        return value


def _leaf(value: Any) -> Any:
    if isinstance(value, str):
        return ms_time_text(value)
    if isinstance(value, list | tuple):
        if all(v is None or isinstance(v, str | int | float | bool) for v in value):
            return [_leaf(v) for v in value]
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def flat_properties(props: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Properties with no nested objects: ``{"a": {"b": 1}}`` -> ``{"a_b": 1}``, times at the millisecond.

    An empty object becomes None; lists of plain values stay lists, other lists their JSON text. Where a
    flattened name is taken already, the first value keeps it (records have no such pair).
    """
    out: dict[str, Any] = {}
    for key, value in props.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            inner = flat_properties(value, name + "_") if value else {name: None}
            for k, v in inner.items():
                out.setdefault(k, v)
        else:
            out.setdefault(name, _leaf(value))
    return out


def flat_feature(collection: str, feature: Mapping[str, Any]) -> dict[str, Any]:
    """A feature of a collection with flat properties and ``time``, ``party`` (and ``family``) first.

    Parameters
    ----------
    collection : str
        The OGC collection id (``violations``, ``incidents``, ``events``, ``sensors``, or a layer).
    feature : mapping
        The feature as the collection query built it (already redacted for its view).
    """
    flat = flat_properties(feature.get("properties") or {})
    added: dict[str, Any] = {}
    if collection in TIME_PROPERTY:
        added["time"] = flat.get(TIME_PROPERTY[collection])
    if collection in _ATTRIBUTED:
        added["party"] = flat.get("attribution_party") or "unattributed"
    if collection == "violations":
        rule = flat.get("rule_id")
        added["family"] = rule.split(".", 1)[0] if isinstance(rule, str) else None
    props = dict.fromkeys(added) | flat | added
    return {**feature, "properties": props}


def _matches(props: Mapping[str, Any], where: Iterable[tuple[str, frozenset[Any]]]) -> bool:
    for name, values in where:
        value = props.get(name)
        if value is None or isinstance(value, list | dict) or value not in values:
            return False
    return True


def _sorted(features: list[dict[str, Any]], keys: Iterable[tuple[str, bool]]) -> list[dict[str, Any]]:
    """Stable sort on flat properties, first key first; a missing value last in either direction."""
    out = features
    for name, desc in reversed(list(keys)):
        known = [f for f in out if f["properties"].get(name) is not None]
        missing = [f for f in out if f["properties"].get(name) is None]
        known.sort(key=lambda f: f["properties"][name], reverse=desc)
        out = known + missing
    return out


def ogc_page(collection: str, run: Callable[[Filters], Page], q: OgcQuery) -> Page:
    """A page of a collection's flat features.

    Parameters
    ----------
    collection : str
        The OGC collection id.
    run : callable
        The collection query for the caller's view: :class:`Filters` -> :class:`Page` of features.
    q : OgcQuery
        The request.

    Without conditions on properties the query does not apply and without ``sortby``, the query builds the
    page alone; otherwise every feature matching its filters is built and flattened, then judged and sorted
    here, and the page cut from them (the store filters and pages in Python today: a request costs about the
    same either way, the decoding of the records in the time range dominating).
    """
    f = q.filters
    if not q.needs_all:
        page = run(f)
        return dataclasses.replace(page, items=[flat_feature(collection, x) for x in page.items])
    every = run(dataclasses.replace(f, offset=0, limit=_ALL))
    feats = [flat_feature(collection, x) for x in every.items]
    feats = _sorted([x for x in feats if _matches(x["properties"], q.where)], q.sortby)
    return Page(feats[f.offset : f.offset + f.limit], len(feats), f.offset, f.limit)


#: Per collection, the record's time (what ``time`` shows) from a row's stored record.
_RECORD_TIME: dict[str, Callable[[Any], dt.datetime]] = {
    "violations": lambda r: r.time,
    "incidents": lambda r: r.window.start,
    "events": lambda r: r.origin_time,
}


def collection_extent(collection: str, run: Callable[[Filters], Page]) -> tuple[list[float] | None, list[str | None]]:
    """The extent of every feature of a collection that the query ``run`` (for one view) lets through.

    Returns the bounding box ``[lon0, lat0, lon1, lat1]`` of their points as the view receives them (the
    positions the query's filters judge; None when there is none) and the interval ``[first, last]`` of their
    ``time`` (``[None, None]`` when they have none). Read from the query's selected rows
    (:attr:`Page.matched`): no feature is built.
    """
    page = run(Filters(limit=0))
    lon = [float(r.lon) for r in page.matched if r.lon is not None and r.lat is not None]
    lat = [float(r.lat) for r in page.matched if r.lon is not None and r.lat is not None]
    get = _RECORD_TIME.get(collection)
    records = [getattr(r.obj, "record", None) for r in page.matched] if get is not None else []
    times = [get(rec) for rec in records if rec is not None] if get is not None else []
    bbox = [min(lon), min(lat), max(lon), max(lat)] if lon else None
    return bbox, [ms_time(min(times)), ms_time(max(times))] if times else [None, None]
