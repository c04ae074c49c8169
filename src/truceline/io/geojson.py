"""GeoJSON read/write (plain or gzip), strict: a bad feature raises naming file, feature and field.

Readers take a path or an open stream, writers a path or an open stream
(:mod:`truceline.io.streams`); registered as ``geojson`` in :mod:`truceline.io.formats`.
Besides features with any geometry, rows with ``lon``/``lat`` columns are written as point
features (:func:`write_point_rows`, the bulletin's findings) and read back (:func:`read_point_rows`).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape

from truceline.io.streams import Source, Target, path_of, read_bytes, source_name, text_target, write_bytes


class GeoJSONError(ValueError):
    """A GeoJSON file or feature is malformed.

    Attributes
    ----------
    path : str
        The file.
    feature : int or None
        Index of the bad feature, when the error is in one.
    field : str
        The bad member, e.g. ``"geometry.coordinates"``.
    """

    def __init__(self, path: str | Path, reason: str, feature: int | None = None, field: str = "") -> None:
        self.path = str(path)
        self.feature = feature
        self.field = field
        where = self.path + (f": feature {feature}" if feature is not None else "")
        where += f": {field}" if field else ""
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class Feature:
    """A GeoJSON feature with a Shapely geometry."""

    geometry: shapely.Geometry
    properties: dict[str, Any] = field(default_factory=dict)


_GZIP_MAGIC = b"\x1f\x8b"


def _read_text(source: Source) -> str:
    """The text of a file (gzip if its name ends in ``.gz``) or of a stream (gzip told by its first bytes)."""
    p = path_of(source)
    if p is not None:
        if p.suffix == ".gz":
            with gzip.open(p, "rt", encoding="utf-8") as fh:
                return fh.read()
        return p.read_text(encoding="utf-8")
    raw = read_bytes(source)
    return (gzip.decompress(raw) if raw.startswith(_GZIP_MAGIC) else raw).decode("utf-8")


def read_features(path: Source, name: str | None = None) -> list[Feature]:
    """Read a FeatureCollection, a single Feature or a bare geometry (``.gz`` allowed).

    Parameters
    ----------
    path : str, PathLike or stream
        The file, or an open stream (gzip or not).
    name : str, optional
        What errors call the file (default: the path, or the stream's name).

    Raises
    ------
    GeoJSONError
        On unreadable JSON, a missing or unknown geometry, or coordinates that are not numbers
        or lie outside WGS84 ranges.
    FileNotFoundError
        When the file does not exist.
    """
    pp = path_of(path)
    p = Path(name) if name is not None else (pp if pp is not None else Path(source_name(path)))
    try:
        doc = json.loads(_read_text(path))
    except (json.JSONDecodeError, UnicodeDecodeError, OSError, EOFError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise GeoJSONError(p, f"not readable JSON ({exc})") from exc
    if not isinstance(doc, Mapping):
        raise GeoJSONError(p, "top level is not a JSON object")
    kind = doc.get("type")
    if kind == "FeatureCollection":
        raw = doc.get("features")
        if not isinstance(raw, list):
            raise GeoJSONError(p, "'features' is not a list", field="features")
        return [_feature(p, i, f) for i, f in enumerate(raw)]
    if kind == "Feature":
        return [_feature(p, 0, doc)]
    return [Feature(_geometry(p, None, doc, ""), {})]


def _feature(path: Path, i: int, raw: Any) -> Feature:
    if not isinstance(raw, Mapping) or raw.get("type") != "Feature":
        raise GeoJSONError(path, "not a GeoJSON Feature", feature=i, field="type")
    props = raw.get("properties") or {}
    if not isinstance(props, Mapping):
        raise GeoJSONError(path, "'properties' is not an object", feature=i, field="properties")
    if raw.get("geometry") is None:
        raise GeoJSONError(path, "the feature has no geometry", feature=i, field="geometry")
    return Feature(_geometry(path, i, raw["geometry"], "geometry"), dict(props))


def _geometry(path: Path, i: int | None, raw: Any, where: str) -> shapely.Geometry:
    try:
        geom = shape(raw)
    except Exception as exc:  # shapely raises several types for malformed input
        raise GeoJSONError(path, f"not a valid GeoJSON geometry ({exc})", feature=i, field=where) from exc
    if not geom.is_empty:
        w, s, e, n = geom.bounds
        coords = shapely.get_coordinates(geom)
        if (
            not (abs(coords).max(initial=0) < float("inf"))
            or min(w, e) < -180
            or max(w, e) > 180
            or min(s, n) < -90
            or max(s, n) > 90
        ):
            raise GeoJSONError(
                path,
                f"coordinates outside WGS84 ranges (bounds {geom.bounds})",
                feature=i,
                field=f"{where}.coordinates".lstrip("."),
            )
    return geom


def to_feature_dict(geom: shapely.Geometry, properties: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A GeoJSON Feature object for ``geom`` with ``properties``."""
    return {"type": "Feature", "properties": dict(properties or {}), "geometry": mapping(geom)}


def _reduce_precision(geom: shapely.Geometry, decimals: int) -> shapely.Geometry:
    """Round coordinates; a valid geometry stays valid (GEOS snap-rounding), others are rounded as is."""
    if geom.is_valid:
        return shapely.set_precision(geom, 10.0**-decimals)
    return shapely.transform(geom, lambda c: np.round(c, decimals))


def write_features(
    path: Target,
    features: Iterable[tuple[shapely.Geometry, Mapping[str, Any]]],
    precision: int = 6,
    **members: Any,
) -> int:
    """Write a FeatureCollection; ``precision`` decimals (6 ~ 0.1 m); extra top-level members.

    ``path`` is a file (gzip if its name ends in ``.gz``; its folder is made) or an open stream.
    Returns the number of features written.
    """
    feats = [to_feature_dict(_reduce_precision(g, precision), props) for g, props in features]
    doc = {"type": "FeatureCollection", **members, "features": feats}
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    p = path_of(path)
    if p is not None and p.suffix == ".gz":
        p.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(p, "wt", encoding="utf-8") as fh:
            fh.write(text)
    elif p is not None:
        write_bytes(p, text.encode("utf-8"))
    else:
        with text_target(path) as fh:
            fh.write(text)
    return len(feats)


def write_point_rows(
    path: Target,
    rows: Sequence[Mapping[str, Any]],
    precision: int = 7,
    lon: str = "lon",
    lat: str = "lat",
    **members: Any,
) -> int:
    """Write rows with longitude/latitude columns as an RFC 7946 FeatureCollection of points.

    Each row is a point at ``(row[lon], row[lat])`` (WGS84 degrees) whose properties are the
    other columns, in the row's order; ``precision`` decimals; extra top-level ``members``.
    Returns the number of rows written.
    """
    feats = [(shapely.Point(r[lon], r[lat]), {k: v for k, v in r.items() if k not in (lon, lat)}) for r in rows]
    return write_features(path, feats, precision=precision, **members)


def read_point_rows(path: Source, lon: str = "lon", lat: str = "lat", name: str | None = None) -> list[dict[str, Any]]:
    """The point features of a GeoJSON file as rows: ``lon``, ``lat`` and the properties.

    Raises
    ------
    GeoJSONError
        As :func:`read_features`, and for a feature that is not a point.
    """
    rows: list[dict[str, Any]] = []
    for i, f in enumerate(read_features(path, name)):
        if not isinstance(f.geometry, shapely.Point):
            where = name or source_name(path)
            raise GeoJSONError(where, f"not a point ({f.geometry.geom_type})", feature=i, field="geometry")
        rows.append({lon: f.geometry.x, lat: f.geometry.y, **f.properties})
    return rows


def read_union(path: str | Path) -> shapely.Geometry:
    """Union of all geometries in a GeoJSON file."""
    feats = read_features(path)
    if not feats:
        raise GeoJSONError(path, "the file has no features")
    return shapely.union_all([f.geometry for f in feats])
