"""TopoJSON reading (quantized, delta-encoded arcs), e.g. Natural Earth country outlines.

Only what country layers need: Polygon and MultiPolygon geometries of GeometryCollections,
with their properties. Strict: a malformed file raises :class:`GeoJSONError` naming the object.
Read only (nothing here writes TopoJSON); the source is a path or an open stream. Registered as
``topojson`` in :mod:`truceline.io.formats`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from truceline.io.geojson import Feature, GeoJSONError
from truceline.io.streams import Source, path_of, read_bytes, source_name


def _decode_arcs(doc: dict[str, Any]) -> list[np.ndarray]:
    transform = doc.get("transform")
    arcs = []
    for arc in doc.get("arcs", []):
        a = np.asarray(arc, dtype=float)[:, :2]
        if transform is not None:
            a = np.cumsum(a, axis=0)
            a = a * np.asarray(transform["scale"]) + np.asarray(transform["translate"])
        arcs.append(a)
    return arcs


def _ring(arcs: list[np.ndarray], indices: list[int]) -> np.ndarray:
    parts = []
    for k, i in enumerate(indices):
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        parts.append(a if k == 0 else a[1:])  # consecutive arcs share their joining point
    return np.vstack(parts)


def _polygons(arcs: list[np.ndarray], polys: list[list[list[int]]]) -> list[shapely.Polygon]:
    """Polygons from arc-index rings; rings that quantization collapsed below 4 points are
    dropped (islets of a few hundred metres at 1:50m scale), the rest kept as drawn."""
    out = []
    for rings in polys:
        coords = [_ring(arcs, r) for r in rings]
        if len(coords[0]) < 4:
            continue
        out.append(shapely.Polygon(coords[0], [h for h in coords[1:] if len(h) >= 4]))
    return out


def read_topojson(path: Source, layer: str, name: str | None = None) -> list[Feature]:
    """Features of one object (layer) of a TopoJSON file, as Shapely (multi)polygons in degrees.

    Parameters
    ----------
    path : str, PathLike or stream
        The file, or an open stream.
    layer : str
        The object to read (``"countries"``).
    name : str, optional
        What errors call the file (default: the path, or the stream's name).
    """
    pp = path_of(path)
    p = Path(name) if name is not None else (pp if pp is not None else Path(source_name(path)))
    try:
        doc = json.loads(pp.read_text(encoding="utf-8") if pp is not None else read_bytes(path).decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GeoJSONError(p, f"not readable JSON ({exc})") from None
    if doc.get("type") != "Topology" or layer not in doc.get("objects", {}):
        raise GeoJSONError(p, f"not a TopoJSON Topology with an object {layer!r}")
    arcs = _decode_arcs(doc)
    out = []
    for i, g in enumerate(doc["objects"][layer].get("geometries", [])):
        kind = g.get("type")
        try:
            if kind == "Polygon":
                polys = [g["arcs"]]
            elif kind == "MultiPolygon":
                polys = g["arcs"]
            else:
                continue  # points and lines are not country outlines
            geom = shapely.make_valid(shapely.MultiPolygon(_polygons(arcs, polys)))
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise GeoJSONError(p, f"malformed geometry ({exc})", feature=i, field="arcs") from None
        out.append(Feature(geom, dict(g.get("properties") or {})))
    return out
