"""The OpenAPI 3.0 description of the OGC API at ``/ogc/api``, relative to ``/ogc`` as OGC clients read it.

FastAPI's own description (``/openapi.json``, OpenAPI 3.1) has every path under ``/ogc``; an OGC client
looks for ``/collections/{collectionId}/items`` relative to the landing page. GDAL's OAPIF driver, for one,
sends a ``-where`` equality on a field to the server as ``name=value`` only when that path of the
description lists the parameter, and evaluates it itself otherwise (reading the whole collection): this
description lists each collection's items parameters, its queryables among them, under
``/collections/<id>/items``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from truceline.agreement import Agreement
from truceline.service.queries.filters import DEFAULT_LIMIT, MAX_LIMIT
from truceline.service.queries.queryables import queryables

__all__ = ["OAS30", "ogc_openapi"]

#: The media type of an OpenAPI 3.0 description (as OGC API - Features writes it).
OAS30 = "application/vnd.oai.openapi+json;version=3.0"

_OK: dict[str, Any] = {"200": {"description": "OK"}, "400": {"description": "A bad query parameter, named"},
       "401": {"description": "A token is needed"}, "403": {"description": "This role may not"}}  # fmt: skip
_BASE: list[dict[str, Any]] = [
    {"name": "bbox", "in": "query", "required": False, "style": "form", "explode": False,
     "description": "lon0,lat0,lon1,lat1 (CRS84)", "schema": {"type": "array", "items": {"type": "number"}}},
    {"name": "datetime", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "An instant, or an interval a/b with '..' for an open end (both ends included)"},
    {"$ref": "#/components/parameters/limit"},
    {"name": "offset", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}},
    {"name": "sortby", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "Queryables to sort on, comma-separated; -name descending"},
]  # fmt: skip


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _get(summary: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": parameters, "responses": _OK}}


def ogc_openapi(server: str, collections: Mapping[str, str], agreement: Agreement | None) -> dict[str, Any]:
    """The description.

    Parameters
    ----------
    server : str
        The API's root URL (``http://HOST:PORT/ogc``).
    collections : mapping
        Collection id -> title.
    agreement : Agreement or None
        Whose sectors ``sector`` takes.
    """
    paths: dict[str, Any] = {
        "/": _get("Landing page", []),
        "/api": _get("This description", []),
        "/conformance": _get("Conformance classes", []),
        "/collections": _get("The collections this caller may read", []),
        "/collections/{collectionId}": _get("One collection", [_path_param("collectionId")]),
        "/collections/{collectionId}/queryables": _get("Queryables (JSON Schema)", [_path_param("collectionId")]),
        "/collections/{collectionId}/items": _get("Features", [_path_param("collectionId"), *_BASE]),
        "/collections/{collectionId}/items/{featureId}": _get(
            "One feature", [_path_param("collectionId"), _path_param("featureId")]
        ),
    }
    for cid, title in collections.items():
        own = [{"name": q.name, "in": "query", "required": False, "description": q.title, "schema": q.schema}
               for q in queryables(cid, agreement).values()]  # fmt: skip
        paths[f"/collections/{cid}/items"] = _get(f"{title}: features", [*_BASE, *own])
    limit = {"name": "limit", "in": "query", "required": False, "description": "Page size (larger values lowered)",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}}  # fmt: skip
    return {
        "openapi": "3.0.3",
        "info": {"title": "truceline OGC API - Features", "version": "1.0"},
        "servers": [{"url": server}],
        "paths": paths,
        "components": {"parameters": {"limit": limit}},
    }
