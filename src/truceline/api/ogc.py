"""OGC API - Features at ``/ogc`` (Part 1: Core, GeoJSON; Part 3: Queryables), so QGIS and GDAL read the
collections.

Landing page, ``/conformance``, ``/collections``, ``/collections/{id}`` (its extent: the bounding box and the
time span of what the caller may see), ``/collections/{id}/queryables`` (a JSON Schema of the properties a
client may filter and sort on), ``/collections/{id}/items`` (``bbox``, ``datetime``, ``limit``, ``offset``,
``sortby`` and one parameter per queryable, ``?party=RU&status=verified``; GeoJSON with ``numberMatched``,
``numberReturned``, ``timeStamp`` and ``self``/``next``/``prev`` links) and
``/collections/{id}/items/{featureId}``. Features have flat properties (nested objects as ``parent_child``
columns), a top-level ``time`` for QGIS's temporal controller, and every time at millisecond precision in
UTC (:mod:`truceline.service.queries.ogc`). Coordinates are WGS84 longitude/latitude (CRS84), the only CRS
offered. Collections follow the JSON API's role rules and its redaction (:mod:`truceline.service.redaction`,
through the same queries): an anonymous client lists and reads only the public ones (violations, rounded to
0.01 degree under keyed public ids, and the agreement's layers); a token opens the rest (GDAL: the
configuration options ``GDAL_HTTP_AUTH=BEARER`` and ``GDAL_HTTP_BEARER=<token>``; QGIS: an ``Authorization``
HTTP header in the connection's settings). A query parameter the API does not define is refused with 400, as
Core asks; the metadata resources take the items' parameters and ignore them (GDAL repeats the query string
of the URL it opens on every request, so ``OAPIF:http://HOST/ogc/collections/violations?party=RU`` works). A
``limit`` above 10,000 is lowered to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import shapely
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from shapely.geometry import shape

from truceline.agreement import Agreement
from truceline.api.auth import PrincipalDep, StoreDep, check, may, view_of
from truceline.api.context import ApiContext, CtxDep
from truceline.api.errors import BadRequest, NotFound
from truceline.api.ogc_openapi import OAS30, ogc_openapi
from truceline.api.responses import GEOJSON, GeoJSONResponse, collection_body, link
from truceline.service import queries
from truceline.service.queries import Filters, Page, View
from truceline.service.queries.ogc import collection_extent, flat_feature, ms_time, ogc_page
from truceline.service.queries.queryables import item_parameters, parse_ogc_query, queryables_schema
from truceline.service.tokens import Principal
from truceline.store.base import Store

__all__ = ["COLLECTIONS", "CONFORMANCE", "router"]

router = APIRouter(prefix="/ogc", tags=["OGC API Features"])

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
#: Conformance classes met (the API description is OpenAPI 3.1, as FastAPI writes it, so not ``oas30``).
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]
#: The link relation of a collection's queryables (OGC API - Features - Part 3).
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
SCHEMA_JSON = "application/schema+json"
_CONTENT_CRS = {"Content-Crs": f"<{CRS84}>"}

QueryFn = Callable[[Store, Filters, View, Agreement | None], Page]


@dataclass(frozen=True)
class Collection:
    """One OGC collection: from the store (``query``) or an agreement layer (``layer``)."""

    id: str
    title: str
    description: str
    action: str
    query: QueryFn | None = None
    layer: str | None = None


COLLECTIONS: dict[str, Collection] = {
    c.id: c
    for c in (
        Collection("incidents", "Incidents", "Located incidents (impact, else launch), with their verification "
                   "status and graded attribution.", "incidents", query=queries.incidents),
        Collection("violations", "Violations", "Findings: violations of the agreement, the rule that fired, the "
                   "party attributed (graded) and the status. Public: positions rounded to 0.01 degree.",
                   "violations", query=queries.violations),
        Collection("events", "Events", "Located explosions and firings with their 95 % ellipses.", "events",
                   query=queries.events),
        Collection("sensors", "Sensors", "The monitoring network with each sensor's health at the newest data.",
                   "sensors", query=lambda s, f, v, a: queries.sensors(s, f, v, None, a)),
        Collection("line_of_contact", "Line of contact", "Every version of the line, with valid_from/valid_to "
                   "(datetime selects the versions in force).", "layers", layer="line_versions"),
        Collection("sectors", "Sectors of responsibility", "The contingents' sectors.", "layers", layer="sectors"),
        Collection("protected_sites", "Protected sites", "Sites with ids, coordinates and radii.", "layers",
                   layer="sites"),
    )
}  # fmt: skip


#: Parameters of a single feature's resource.
_COMMON_PARAMS = frozenset({"f"})
#: Parameters the metadata resources take and ignore: the items' of any collection (see the module docstring).
_METADATA_PARAMS = frozenset().union(*(item_parameters(cid) for cid in COLLECTIONS))


class SchemaJSONResponse(JSONResponse):
    """A JSON Schema (the queryables)."""

    media_type = SCHEMA_JSON


def _params(request: Request, allowed: frozenset[str]) -> None:
    for name in request.query_params:
        if name not in allowed:
            raise BadRequest(f"{name}: unknown query parameter (this endpoint takes {', '.join(sorted(allowed))})")
    f = request.query_params.get("f")
    if f is not None and f not in ("json", "geojson", "application/json", GEOJSON):
        raise BadRequest(f"f: {f!r} is not offered (json only)")
    for name in ("bbox-crs", "crs"):
        crs = request.query_params.get(name)
        if crs is not None and crs != CRS84:
            raise BadRequest(f"{name}: only {CRS84} is offered")


def _url(request: Request, path: str) -> str:
    return str(request.base_url).rstrip("/") + path


def _collection(cid: str, who: Principal) -> Collection:
    c = COLLECTIONS.get(cid)
    if c is None:
        raise NotFound(f"collection {cid!r}: not found; collections are {', '.join(COLLECTIONS)}")
    check(c.action, who)
    return c


def _runner(c: Collection, ctx: ApiContext, store: Store, view: View) -> Callable[[Filters], Page]:
    """The collection's query for one view: :class:`Filters` -> a page of features."""
    query = c.query
    if query is None:
        return lambda f: _layer_page(ctx, c, f)
    return lambda f: query(store, f, view, ctx.agreement)


def _extent(c: Collection, ctx: ApiContext, store: Store, view: View, seq: int) -> dict[str, Any]:
    """The collection's extent as ``view`` sees it: the box of its points and the span of its ``time``.

    Computed from the points and times the view receives (positions as redacted), kept until the store's change
    sequence moves (:func:`~truceline.service.queries.change_seq`); a collection the view sees nothing of
    gets the agreement's box. The agreement's layers: their box; the line, the span of its versions.
    """
    if c.query is not None:
        key = ("ogc-extent", c.id, view)
        with ctx.lock:
            hit = ctx.cache.get(key)
        if hit is not None and hit[0] == seq:
            bbox, interval = hit[1]
        else:
            bbox, interval = collection_extent(c.id, _runner(c, ctx, store, view))
            with ctx.lock:
                ctx.cache[key] = (seq, (bbox, interval))
    else:
        bounds = [b for _, b in _layer_rows(ctx, c)]
        bbox = None if not bounds else [min(b[0] for b in bounds), min(b[1] for b in bounds),
                                        max(b[2] for b in bounds), max(b[3] for b in bounds)]  # fmt: skip
        interval = [None, None]
        if c.layer == "line_versions":
            first, last = ctx.agreement.versions[0], ctx.agreement.versions[-1]
            interval = [ms_time(first.valid_from), None if last.valid_to is None else ms_time(last.valid_to)]
    return {
        "spatial": {"bbox": [bbox if bbox is not None else list(ctx.layers.extent)], "crs": CRS84},
        "temporal": {"interval": [interval], "trs": GREGORIAN},
    }


def _collection_json(request: Request, c: Collection, ctx: ApiContext, store: Store, view: View,
                     seq: int) -> dict[str, Any]:  # fmt: skip
    base = _url(request, f"/ogc/collections/{c.id}")
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "links": [
            link(base, "self", "application/json", c.title),
            link(base + "/items", "items", GEOJSON, f"{c.title} (GeoJSON)"),
            link(base + "/queryables", QUERYABLES_REL, SCHEMA_JSON, f"{c.title}: queryables"),
        ],
        "extent": _extent(c, ctx, store, view, seq),
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
    }


@router.get("", summary="Landing page")
def landing(request: Request, ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    _params(request, _METADATA_PARAMS)
    return {
        "title": f"truceline: {ctx.agreement.title}",
        "description": "Findings of the ceasefire monitoring mission and the agreement's layers (OGC API - Features).",
        "links": [
            link(_url(request, "/ogc"), "self", "application/json", "This document"),
            link(_url(request, "/openapi.json"), "service-desc", "application/vnd.oai.openapi+json;version=3.1",
                 "The API definition"),
            link(_url(request, "/ogc/api"), "service-desc", OAS30, "This API's definition, paths relative to /ogc"),
            link(_url(request, "/docs"), "service-doc", "text/html", "The API documentation"),
            link(_url(request, "/ogc/conformance"), "conformance", "application/json", "Conformance classes"),
            link(_url(request, "/ogc/collections"), "data", "application/json", "The collections"),
        ],
    }  # fmt: skip


@router.get("/api", summary="This API's definition (OpenAPI 3.0, paths relative to /ogc)")
def api_definition(request: Request, ctx: CtxDep, who: PrincipalDep) -> Any:
    _params(request, _METADATA_PARAMS)
    titles = {c.id: c.title for c in COLLECTIONS.values()}
    return JSONResponse(ogc_openapi(_url(request, "/ogc"), titles, ctx.agreement), media_type=OAS30)


@router.get("/conformance", summary="Conformance classes")
def conformance(request: Request, who: PrincipalDep) -> dict[str, Any]:
    _params(request, _METADATA_PARAMS)
    return {"conformsTo": CONFORMANCE}


@router.get("/collections", summary="The collections this caller may read")
def collections(request: Request, ctx: CtxDep, store: StoreDep, who: PrincipalDep) -> dict[str, Any]:
    _params(request, _METADATA_PARAMS)
    view, seq = view_of(who), queries.change_seq(store)
    return {
        "links": [link(_url(request, "/ogc/collections"), "self", "application/json", "The collections")],
        "collections": [_collection_json(request, c, ctx, store, view, seq) for c in COLLECTIONS.values()
                        if may(c.action, who)],
    }  # fmt: skip


@router.get("/collections/{collection_id}", summary="One collection")
def collection(collection_id: str, request: Request, ctx: CtxDep, store: StoreDep, who: PrincipalDep) -> dict[str, Any]:
    _params(request, _METADATA_PARAMS)
    c = _collection(collection_id, who)
    _params(request, item_parameters(c.id, ctx.agreement))
    return _collection_json(request, c, ctx, store, view_of(who), queries.change_seq(store))


@router.get("/collections/{collection_id}/queryables", response_class=SchemaJSONResponse,
            summary="The properties a client may filter and sort on (Part 3), as a JSON Schema")  # fmt: skip
def collection_queryables(collection_id: str, request: Request, ctx: CtxDep, who: PrincipalDep) -> Any:
    _params(request, _METADATA_PARAMS)
    c = _collection(collection_id, who)
    _params(request, item_parameters(c.id, ctx.agreement))
    url = _url(request, f"/ogc/collections/{c.id}/queryables")
    return SchemaJSONResponse(queryables_schema(c.id, ctx.agreement, url, c.title))


def _layer_rows(ctx: ApiContext, c: Collection) -> list[tuple[dict[str, Any], tuple[float, ...]]]:
    key = ("ogc-layer", c.id)
    with ctx.lock:
        rows = ctx.cache.get(key)
    if rows is None:
        feats = ctx.layers.line_versions() if c.layer == "line_versions" else ctx.layers.features(c.layer or "")
        rows = [(f, tuple(shapely.bounds(shape(f["geometry"])).tolist())) for f in feats]
        with ctx.lock:
            ctx.cache[key] = rows
    return rows


def _layer_page(ctx: ApiContext, c: Collection, f: Filters) -> Page:
    rows = _layer_rows(ctx, c)
    if f.bbox is not None:
        x0, y0, x1, y1 = f.bbox
        rows = [(ft, b) for ft, b in rows if b[0] <= x1 and b[2] >= x0 and b[1] <= y1 and b[3] >= y0]
    if c.layer == "line_versions" and (f.start is not None or f.end is not None):
        start = f.start or dt.datetime.min.replace(tzinfo=dt.UTC)
        end = f.end or dt.datetime.max.replace(tzinfo=dt.UTC)

        def overlaps(ft: dict[str, Any]) -> bool:
            p = ft["properties"]
            t0 = dt.datetime.fromisoformat(p["valid_from"])
            t1 = None if p["valid_to"] is None else dt.datetime.fromisoformat(p["valid_to"])
            return t0 < end and (t1 is None or start < t1)

        rows = [(ft, b) for ft, b in rows if overlaps(ft)]
    chunk = rows[f.offset : f.offset + f.limit]
    return Page([ft for ft, _ in chunk], len(rows), f.offset, f.limit)


@router.get("/collections/{collection_id}/items", response_class=GeoJSONResponse, summary="Features")
def items(
    collection_id: str,
    request: Request,
    ctx: CtxDep,
    store: StoreDep,
    who: PrincipalDep,
    bbox: Annotated[str | None, Query(description="lon0,lat0,lon1,lat1 (CRS84).")] = None,
    datetime: Annotated[str | None, Query(description="An instant, or start/end with '..' for an open end.")] = None,
    limit: Annotated[int | None, Query(ge=1, description="Page size (default 100, at most 10000).")] = None,
    offset: Annotated[int | None, Query(ge=0, description="Features to skip.")] = None,
    sortby: Annotated[str | None, Query(description="Properties to sort on: a,-b (- descending).")] = None,
) -> Any:
    """The collection's features; besides the parameters below, one per queryable (``party=RU,UA``: any of)."""
    _params(request, _METADATA_PARAMS)
    c = _collection(collection_id, who)
    _params(request, item_parameters(c.id, ctx.agreement))
    given: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        given.setdefault(name, []).append(value)
    q = parse_ogc_query(c.id, given, ctx.agreement)
    page = ogc_page(c.id, _runner(c, ctx, store, view_of(who)), q)
    coll = _url(request, f"/ogc/collections/{c.id}")
    body = collection_body(request, page, [link(coll, "collection", "application/json", c.title)])
    body["timeStamp"] = ms_time(dt.datetime.now(dt.UTC))
    return GeoJSONResponse(body, headers=_CONTENT_CRS)


@router.get("/collections/{collection_id}/items/{feature_id}", response_class=GeoJSONResponse, summary="One feature")
def item(collection_id: str, feature_id: str, request: Request, ctx: CtxDep, store: StoreDep, who: PrincipalDep) -> Any:
    _params(request, _COMMON_PARAMS)
    c = _collection(collection_id, who)
    if c.query is not None:
        found = queries.find_feature(store, c.id, feature_id, view_of(who), ctx.agreement)
    else:
        found = next((ft for ft, _ in _layer_rows(ctx, c) if str(ft.get("id")) == feature_id), None)
    if found is None:
        raise NotFound(f"collection {c.id!r}: no feature {feature_id!r}")
    base = _url(request, f"/ogc/collections/{c.id}")
    links = [link(f"{base}/items/{feature_id}", "self", GEOJSON, "This feature"),
             link(base, "collection", "application/json", c.title)]  # fmt: skip
    return GeoJSONResponse(flat_feature(c.id, found) | {"links": links}, headers=_CONTENT_CRS)
