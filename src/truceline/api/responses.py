"""Response helpers: GeoJSON media type, paging links, collection bodies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from truceline.service.queries import Page

__all__ = ["GEOJSON", "GeoJSONResponse", "collection_body", "link", "page_links"]

GEOJSON = "application/geo+json"


class GeoJSONResponse(JSONResponse):
    """JSON with the GeoJSON media type (RFC 7946)."""

    media_type = GEOJSON


def link(href: str, rel: str, media_type: str = "application/json", title: str | None = None) -> dict[str, Any]:
    """A link object as OGC API and the JSON API write them."""
    out = {"href": href, "rel": rel, "type": media_type}
    return out | ({"title": title} if title else {})


def page_links(request: Request, page: Page, media_type: str = GEOJSON) -> list[dict[str, Any]]:
    """``self``, and ``next`` / ``prev`` where there are such pages (same query, another offset)."""
    url = request.url
    out = [link(str(url), "self", media_type, "this page")]
    if page.has_next:
        nxt = url.include_query_params(offset=page.offset + page.limit, limit=page.limit)
        out.append(link(str(nxt), "next", media_type, "next page"))
    if page.has_prev:
        prev = url.include_query_params(offset=max(0, page.offset - page.limit), limit=page.limit)
        out.append(link(str(prev), "prev", media_type, "previous page"))
    return out


def collection_body(request: Request, page: Page, extra_links: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A FeatureCollection with ``numberMatched``, ``numberReturned``, ``timeStamp`` and ``links``."""
    body = page.feature_collection()
    body["timeStamp"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    body["links"] = page_links(request, page) + (extra_links or [])
    return body
