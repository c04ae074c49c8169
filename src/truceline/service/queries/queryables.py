"""The queryables of the OGC collections (OGC API - Features - Part 3) and their query parameters.

Each collection served from the store has a few properties a client may filter and sort on: their names
are properties of the collection's flat features (:mod:`truceline.service.queries.ogc`), so that a client
that builds ``name=value`` from a field it read (GDAL's OAPIF driver, a QGIS filter) names the right one;
``sector`` is the exception (the agreement's sector containing the feature's point as the caller receives
it, a filter only). Their types are JSON Schema: a string with the codebook's values as ``enum`` where the
codebook has an enumeration, ``number``, or a ``date-time`` string.

:func:`parse_ogc_query` reads the query parameters of an items request into an :class:`OgcQuery`: the
filters the collection queries already apply before features are built (:class:`Filters`: time, party,
status, kind, sector, bbox, paging), the rest as conditions on the flat properties, and ``sortby``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from truceline.agreement import Agreement
from truceline.agreement.families import FAMILIES
from truceline.core.enums import (
    AttributionLevel,
    EventKind,
    SensorHealth,
    SensorKind,
    VerificationStatus,
    ViolationKind,
    WeaponClass,
)
from truceline.service.queries.filters import Filters, QueryError, _list, parse_filters

__all__ = [
    "BASE_PARAMETERS",
    "PARTIES",
    "OgcQuery",
    "Queryable",
    "item_parameters",
    "parse_ogc_query",
    "queryables",
    "queryables_schema",
]

#: The parameters of every items request (Part 1), besides the queryables and ``sortby``.
BASE_PARAMETERS = frozenset({"f", "bbox", "bbox-crs", "datetime", "limit", "offset", "crs"})
#: The values of ``party`` (a record with no party attributed is ``unattributed``).
PARTIES = ("UA", "RU", "unattributed")
_SCHEMA = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class Queryable:
    """A property a client may filter (``name=a,b``: any of these values) and sort on.

    Attributes
    ----------
    name : str
        The query parameter, and the flat property it judges.
    title : str
        What it is.
    schema : dict
        Its JSON Schema (``type``, ``enum``, ``format``).
    narrows : str or None
        The :class:`Filters` field that applies it before features are built (``datetime`` for ``time``).
    sortable : bool
        Whether it is a property of the features (``sector`` is not: a filter only).
    """

    name: str
    title: str
    schema: dict[str, Any]
    narrows: str | None = None
    sortable: bool = True


def _enum(values: Sequence[object]) -> dict[str, Any]:
    return {"type": "string", "enum": [str(v) for v in values]}


_TIME = Queryable("time", "The record's time (a violation's, an event's origin, an incident's start), UTC",
                  {"type": "string", "format": "date-time"}, narrows="datetime")  # fmt: skip
_PARTY = Queryable("party", "The party attributed (unattributed: none)", _enum(PARTIES), narrows="party")
_LEVEL = Queryable("attribution_level", "How far the attribution goes", _enum(list(AttributionLevel)))
_STATUS = Queryable("status", "Verification status", _enum(list(VerificationStatus)), narrows="status")
_WEAPON = Queryable("weapon_class", "Weapon class", _enum(list(WeaponClass)))
_VKIND = Queryable("violation_kind", "Kind of violation", _enum(list(ViolationKind)))

_BY_COLLECTION: dict[str, tuple[Queryable, ...]] = {
    "violations": (
        _TIME, _PARTY, _LEVEL, _STATUS,
        Queryable("family", "Rule family (the part of rule_id before the dot)", _enum([f.id for f in FAMILIES]),
                  narrows="kind"),
        Queryable("rule_id", "The rule that fired (family.rule)", {"type": "string"}, narrows="kind"),
        _VKIND, _WEAPON,
        Queryable("confidence", "Confidence of the finding, 0-1", {"type": "number", "minimum": 0, "maximum": 1}),
    ),
    "incidents": (_TIME, _PARTY, _LEVEL, _STATUS, Queryable(_WEAPON.name, _WEAPON.title, _WEAPON.schema, "kind")),
    "events": (
        _TIME, _PARTY, _LEVEL,
        Queryable("kind", "Event kind", _enum(list(EventKind)), narrows="kind"),
        _WEAPON, _VKIND,
        Queryable("quality", "Quality of the location, 0-1", {"type": "number", "minimum": 0, "maximum": 1}),
    ),
    "sensors": (
        Queryable("kind", "Sensor kind", _enum(list(SensorKind)), narrows="kind"),
        Queryable("health", "Health at the newest data", _enum([*SensorHealth, "not_installed"]), narrows="status"),
        Queryable("contingent", "The contingent operating the sensor", {"type": "string"}),
    ),
}  # fmt: skip


def queryables(collection: str, agreement: Agreement | None = None) -> dict[str, Queryable]:
    """The queryables of a collection, by name (none for the agreement's layers).

    Parameters
    ----------
    collection : str
        The OGC collection id.
    agreement : Agreement or None
        Whose sectors ``sector`` takes (the collections from the store have it).
    """
    own = _BY_COLLECTION.get(collection, ())
    out = {q.name: q for q in own}
    if own:
        sectors = [] if agreement is None else [s.id for s in agreement.sectors]
        out["sector"] = Queryable("sector", "The agreement's sector containing the point (as the caller receives it)",
                                  _enum(sectors) if sectors else {"type": "string"}, narrows="sector",
                                  sortable=False)  # fmt: skip
    return out


def item_parameters(collection: str, agreement: Agreement | None = None) -> frozenset[str]:
    """Every query parameter the collection's items take: Part 1's, ``sortby`` and its queryables."""
    return BASE_PARAMETERS | {"sortby"} | set(queryables(collection, agreement))


def queryables_schema(collection: str, agreement: Agreement | None, url: str, title: str) -> dict[str, Any]:
    """The queryables resource of a collection: a JSON Schema (``application/schema+json``).

    Parameters
    ----------
    collection : str
        The OGC collection id.
    agreement : Agreement or None
        Whose sectors ``sector`` takes.
    url : str
        The resource's URL (its ``$id``).
    title : str
        The collection's title.
    """
    props = {q.name: {"title": q.title, **q.schema} for q in queryables(collection, agreement).values()}
    return {"$schema": _SCHEMA, "$id": url, "type": "object", "title": f"{title}: queryables",
            "properties": props, "additionalProperties": False}  # fmt: skip


@dataclass(frozen=True)
class OgcQuery:
    """An items request, parsed.

    Attributes
    ----------
    filters : Filters
        What the collection query applies before building features (and the page asked for).
    where : tuple of (str, frozenset)
        Conditions on flat properties: the property's value is one of these.
    sortby : tuple of (str, bool)
        Properties to sort on, first key first; True for descending.
    """

    filters: Filters
    where: tuple[tuple[str, frozenset[Any]], ...] = ()
    sortby: tuple[tuple[str, bool], ...] = field(default=())

    @property
    def needs_all(self) -> bool:
        """Whether the page needs every matching feature built (a condition or an order the query cannot apply)."""
        return bool(self.where or self.sortby)


def _values(q: Queryable, raw: Sequence[str]) -> tuple[Any, ...]:
    """The values given for a queryable, checked against its type (QueryError naming it)."""
    given = _list(raw)
    if not given:
        raise QueryError(q.name, "needs a value (a comma-separated list: any of them)")
    if q.schema.get("type") == "number":
        out = []
        for v in given:
            try:
                x = float(v)
            except ValueError:
                x = math.nan
            if not math.isfinite(x):
                raise QueryError(q.name, f"{v!r} is not a number")
            out.append(x)
        return tuple(out)
    allowed = q.schema.get("enum")
    if allowed is not None:
        bad = [v for v in given if v not in allowed]
        if bad:
            raise QueryError(q.name, f"{bad[0]!r} is not one of {', '.join(allowed)}")
    return given


def _sortby(collection: str, raw: Sequence[str], known: Mapping[str, Queryable]) -> tuple[tuple[str, bool], ...]:
    keys = []
    for item in _list(raw):
        desc = item.startswith("-")
        name = item.lstrip("+-").strip()  # '+' arrives as a space when not percent-encoded
        q = known.get(name)
        if q is None or not q.sortable:
            sortable = ", ".join(n for n, k in known.items() if k.sortable) or "none"
            raise QueryError("sortby", f"{name!r} is not a sortable property of {collection} ({sortable}); "
                                       "write name or -name for descending")  # fmt: skip
        keys.append((name, desc))
    return tuple(keys)


def parse_ogc_query(collection: str, params: Mapping[str, Sequence[str]], agreement: Agreement | None) -> OgcQuery:
    """Parse an items request's query parameters (name -> values, in the order given).

    ``bbox``, ``datetime``, ``limit`` and ``offset`` as Part 1 and :func:`~truceline.service.queries.parse_filters`
    read them; ``time`` is ``datetime`` under the queryable's name (not both); each queryable takes a
    comma-separated list (or repeats) and matches any of its values; ``sortby`` is ``name`` or ``-name``,
    comma-separated. Parameters the collection does not take are left to the caller.

    Raises
    ------
    QueryError
        Naming the first bad parameter: a value not of the queryable's type or enumeration, an unknown sort
        key, a bad time, bbox or page.
    """
    known = queryables(collection, agreement)
    last = {k: v[-1] for k, v in params.items() if v}
    if "time" in last and "datetime" in last:
        raise QueryError("time", "give datetime or time, not both")
    narrowed: dict[str, Any] = {}
    where: list[tuple[str, frozenset[Any]]] = []
    for name, raw in params.items():
        q = known.get(name)
        if q is None or name == "time":
            continue
        values = _values(q, raw)
        if q.narrows is not None and q.narrows not in narrowed:
            narrowed[q.narrows] = list(values)
        else:  # a second queryable on the same filter (family and rule_id): judged on the flat properties
            where.append((name, frozenset(values)))
    try:
        filters = parse_filters(bbox=last.get("bbox"), datetime=last.get("time", last.get("datetime")),
                                limit=last.get("limit"), offset=last.get("offset"), **narrowed)  # fmt: skip
    except QueryError as exc:  # ``time`` is read as ``datetime``: name the parameter the client gave
        if exc.param != "datetime" or "time" not in last:
            raise
        raise QueryError("time", str(exc).split(": ", 1)[1]) from None
    return OgcQuery(filters, tuple(where), _sortby(collection, params.get("sortby", ()), known))
