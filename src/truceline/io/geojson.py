"""GeoJSON read/write (plain or gzip), strict: a bad feature raises naming file, feature and field."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape


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


def _open_text(path: Path) -> str:
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return fh.read()
    return path.read_text(encoding="utf-8")


def read_features(path: str | Path) -> list[Feature]:
    """Read a FeatureCollection, a single Feature or a bare geometry (``.gz`` allowed).

    Raises
    ------
    GeoJSONError
        On unreadable JSON, a missing or unknown geometry, or coordinates that are not numbers
        or lie outside WGS84 ranges.
    FileNotFoundError
        When the file does not exist.
    """
    p = Path(path)
    try:
        doc = json.loads(_open_text(p))
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
    path: str | Path,
    features: Iterable[tuple[shapely.Geometry, Mapping[str, Any]]],
    precision: int = 6,
    **members: Any,
) -> Path:
    """Write a FeatureCollection; ``precision`` decimals (6 ~ 0.1 m); extra top-level members."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    feats = [to_feature_dict(_reduce_precision(g, precision), props) for g, props in features]
    doc = {"type": "FeatureCollection", **members, "features": feats}
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    if p.suffix == ".gz":
        with gzip.open(p, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def read_union(path: str | Path) -> shapely.Geometry:
    """Union of all geometries in a GeoJSON file."""
    feats = read_features(path)
    if not feats:
        raise GeoJSONError(path, "the file has no features")
    return shapely.union_all([f.geometry for f in feats])
