"""OGC API - Features - Part 1 (Core, GeoJSON) at ``/ogc``, so QGIS and GDAL read the collections.

Landing page, ``/conformance``, ``/collections``, ``/collections/{id}``, ``/collections/{id}/items``
(``bbox``, ``datetime``, ``limit``, ``offset``; GeoJSON with ``numberMatched``, ``numberReturned``,
``timeStamp`` and ``self``/``next``/``prev`` links) and ``/collections/{id}/items/{featureId}``.
Coordinates are WGS84 longitude/latitude (CRS84), the only CRS offered. Collections follow the JSON
API's role rules and its redaction (:mod:`truceline.service.redaction`, through the same queries): an
anonymous client lists and reads only the public ones (violations, rounded to 0.01 degree under keyed
public ids, and the agreement's layers); a token opens the rest (GDAL: the configuration options
``GDAL_HTTP_AUTH=BEARER`` and ``GDAL_HTTP_BEARER=<token>``; QGIS: an ``Authorization`` HTTP header
in the connection's settings). A query parameter the API does not define is refused with 400, as Core asks; a
``limit`` above 10,000 is lowered to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import shapely
from fastapi import APIRouter, Query, Request
from shapely.geometry import shape

from truceline.agreement import Agreement
from truceline.api.auth import PrincipalDep, StoreDep, check, may, view_of
from truceline.api.context import ApiContext, CtxDep
from truceline.api.errors import BadRequest, NotFound
from truceline.api.responses import GEOJSON, GeoJSONResponse, collection_body, link
from truceline.service import queries
from truceline.service.queries import Filters, Page, View, parse_filters
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
]
_CONTENT_CRS = {"Content-Crs": f"<{CRS84}>"}
_COMMON_PARAMS = frozenset({"f"})
_ITEMS_PARAMS = frozenset({"f", "bbox", "bbox-crs", "datetime", "limit", "offset", "crs"})

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


def _collection_json(request: Request, c: Collection, ctx: ApiContext, store: Store) -> dict[str, Any]:
    base = _url(request, f"/ogc/collections/{c.id}")
    if c.layer == "line_versions":
        versions = ctx.agreement.versions
        interval = [versions[0].valid_from.isoformat(), None if versions[-1].valid_to is None
                    else versions[-1].valid_to.isoformat()]  # fmt: skip
    elif c.query is not None:
        span = store.time_span_us()
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        interval = [None, None] if span is None else [
            (epoch + dt.timedelta(microseconds=t)).isoformat() for t in span
        ]  # fmt: skip
    else:
        interval = [None, None]
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "links": [
            link(base, "self", "application/json", c.title),
            link(base + "/items", "items", GEOJSON, f"{c.title} (GeoJSON)"),
        ],
        "extent": {
            "spatial": {"bbox": [list(ctx.layers.extent)], "crs": CRS84},
            "temporal": {"interval": [interval], "trs": GREGORIAN},
        },
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
    }


@router.get("", summary="Landing page")
def landing(request: Request, ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    _params(request, _COMMON_PARAMS)
    return {
        "title": f"truceline: {ctx.agreement.title}",
        "description": "Findings of the ceasefire monitoring mission and the agreement's layers (OGC API - Features).",
        "links": [
            link(_url(request, "/ogc"), "self", "application/json", "This document"),
            link(_url(request, "/openapi.json"), "service-desc", "application/vnd.oai.openapi+json;version=3.1",
                 "The API definition"),
            link(_url(request, "/docs"), "service-doc", "text/html", "The API documentation"),
            link(_url(request, "/ogc/conformance"), "conformance", "application/json", "Conformance classes"),
            link(_url(request, "/ogc/collections"), "data", "application/json", "The collections"),
        ],
    }  # fmt: skip


@router.get("/conformance", summary="Conformance classes")
def conformance(request: Request, who: PrincipalDep) -> dict[str, Any]:
    _params(request, _COMMON_PARAMS)
    return {"conformsTo": CONFORMANCE}


@router.get("/collections", summary="The collections this caller may read")
def collections(request: Request, ctx: CtxDep, store: StoreDep, who: PrincipalDep) -> dict[str, Any]:
    _params(request, _COMMON_PARAMS)
    return {
        "links": [link(_url(request, "/ogc/collections"), "self", "application/json", "The collections")],
        "collections": [_collection_json(request, c, ctx, store) for c in COLLECTIONS.values() if may(c.action, who)],
    }


@router.get("/collections/{collection_id}", summary="One collection")
def collection(collection_id: str, request: Request, ctx: CtxDep, store: StoreDep, who: PrincipalDep) -> dict[str, Any]:
    _params(request, _COMMON_PARAMS)
    return _collection_json(request, _collection(collection_id, who), ctx, store)


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
) -> Any:
    _params(request, _ITEMS_PARAMS)
    c = _collection(collection_id, who)
    f = parse_filters(bbox=bbox, datetime=datetime, limit=limit, offset=offset)
    page = c.query(store, f, view_of(who), ctx.agreement) if c.query is not None else _layer_page(ctx, c, f)
    coll = _url(request, f"/ogc/collections/{c.id}")
    body = collection_body(request, page, [link(coll, "collection", "application/json", c.title)])
    return GeoJSONResponse(body, headers=_CONTENT_CRS)


@router.get("/collections/{collection_id}/items/{feature_id}", response_class=GeoJSONResponse, summary="One feature")
def item(
    collection_id: str, feature_id: str, request: Request, ctx: CtxDep, store: StoreDep, who: PrincipalDep
) -> Any:
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
    return GeoJSONResponse(found | {"links": links}, headers=_CONTENT_CRS)
