"""Read the control areas out of a real map export: select layers, skip and repair, fill holes, check.

A raw export (DeepStateMap with all its layers, ISW's combined layers) holds far more than the
area one party controls: liberated areas, grey zones, claims, attack arrows, places, features
with no geometry. :func:`read_control` keeps the features a :class:`Selection` names, skips what
cannot be an area (saying so), repairs invalid polygons, unions them and fills the holes smaller
than a stated area (slivers between overlapping layers). :func:`implausible` then checks the
derived line's length and area against bounds for the source's date (:data:`BOUNDS`).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape

from truceline.geo.derive import polygonal
from truceline.geo.measure import area_km2, length_km
from truceline.io.geojson import GeoJSONError

#: The properties that may name a feature's layer, looked up in this order by ``--layer``.
LAYER_PROPERTIES = ("layer", "Layer", "name", "Name")

#: Selections for known schemas (``--preset``): property -> regular expression (``re.search``).
#: deepstate: a raw DeepStateMap export's ``name`` ("Ukrainian /// English"): the occupied areas,
#: ORDLO, Crimea and Tuzla island; not liberated, unknown status, arrows, places, or the map's
#: "occupied" jokes outside Ukraine (Karelia, Petsamo...: cut by the country outline anyway).
#: isw: ISW's assessed Russian control of terrain layer (``VIEW_RussiaCoTinUkraine_V3`` in
#: 2023); not assessed advances, claimed territory or claimed counteroffensives.
PRESETS: dict[str, dict[str, str]] = {
    "deepstate": {"name": r"///\s*(Occupied\s*$|Occupied Crimea\s*$|Occupied Tuzla Island\s*$|CADR and CALR\s*$)"},
    "isw": {"layer": r"^VIEW_RussiaCoTinUkraine"},
}

#: Default for ``--fill-holes-km2``: holes in the control area below this (geodesic km²) are filled.
FILL_HOLES_KM2 = 100.0

#: Cyterat's daily DeepStateMap files (occupied territory only, no properties).
DEEPSTATE_DAILY = re.compile(r"^deepstatemap_data_\d{8}\.geojson(\.gz)?$")


@dataclass(frozen=True)
class Bounds:
    """Plausible line length (km) and controlled area (km²) from ``since`` (inclusive) on."""

    since: dt.date
    line_km: tuple[float, float]
    area_km2: tuple[float, float]
    why: str


#: Plausible results by the source's date (see docs/agreement.md, "Plausibility bounds").
BOUNDS: tuple[Bounds, ...] = (
    Bounds(
        dt.date(2014, 3, 1),
        (250.0, 900.0),
        (30_000.0, 60_000.0),
        "2014-2022: Crimea (~27,000 km²) and ORDLO (~16,800 km²); Minsk-era line ~430 km plus Crimea's isthmus",
    ),
    Bounds(
        dt.date(2022, 2, 24),
        (400.0, 4_000.0),
        (40_000.0, 180_000.0),
        "2022-02-24..11-11: the invasion's fluid phase, no data here; wide bounds",
    ),
    Bounds(
        dt.date(2022, 11, 12),
        (900.0, 2_000.0),
        (90_000.0, 135_000.0),
        "from 2022-11-12 (right bank of Kherson retaken): ~1,000-1,500 km of front, "
        "DeepState daily areas 109,400-117,000 km² (2024-07..2026-08)",
    ),
)


@dataclass(frozen=True)
class Selection:
    """Which features of a file are control areas.

    A feature is kept when one of its layer properties (:data:`LAYER_PROPERTIES`) equals one of
    ``layers`` (when any are given) and every ``where`` pattern matches its property
    (``re.search`` on ``str(value)``; a missing property does not match).
    """

    layers: tuple[str, ...] = ()
    where: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, layers: Iterable[str] = (), where: Iterable[str] = (), preset: str | None = None) -> Selection:
        """From ``--layer``, ``--where PROP~REGEX`` and ``--preset`` (ValueError naming the bad one)."""
        clauses: list[tuple[str, str]] = []
        if preset is not None:
            if preset not in PRESETS:
                raise ValueError(f"--preset: {preset!r} is not one of {', '.join(PRESETS)}")
            clauses += PRESETS[preset].items()
        for spec in where:
            prop, sep, pattern = spec.partition("~")
            if not sep or not prop:
                raise ValueError(f"--where: {spec!r} is not PROP~REGEX")
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"--where: {spec!r}: bad regular expression ({exc})") from None
            clauses.append((prop, pattern))
        return cls(tuple(s.strip() for s in layers), tuple(clauses))

    @property
    def everything(self) -> bool:
        return not self.layers and not self.where

    def describe(self) -> str:
        """The selection as options would give it."""
        if self.everything:
            return "every feature"
        parts = [f"--layer {name!r}" for name in self.layers] + [f"--where '{p}~{r}'" for p, r in self.where]
        return " ".join(parts)

    def matches(self, props: Mapping[str, Any]) -> bool:
        if self.layers and not any(str(props.get(k, "")).strip() in self.layers for k in LAYER_PROPERTIES):
            return False
        return all(prop in props and re.search(rx, str(props[prop])) for prop, rx in self.where)


@dataclass
class ControlRead:
    """The control area read from one file, and what was done on the way.

    ``notes`` says what was selected, skipped and filled; ``skipped`` names the selected features
    without an area by reason; ``repairs`` lists the invalid polygons repaired (``feature i:
    reason``); ``filled_km2`` the area of each hole filled, ``filled_edge_km`` their boundary.
    """

    geometry: shapely.Geometry
    total: int
    selected: int
    used: int
    notes: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    filled_km2: list[float] = field(default_factory=list)
    filled_edge_km: float = 0.0
    skipped: dict[str, list[str]] = field(default_factory=dict)


def label(i: int, props: Mapping[str, Any]) -> str:
    """``feature 18 (layer=...)``: a feature by index and its layer property, if any."""
    for k in LAYER_PROPERTIES:
        if props.get(k):
            text = " ".join(str(props[k]).split())
            return f"feature {i} ({k}={text[:60]!r})"
    return f"feature {i}"


def read_raw_features(path: Path) -> list[tuple[dict[str, Any], Any]]:
    """``(properties, raw geometry or None)`` of every feature of a GeoJSON file (``.gz`` ok)."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                doc = json.load(fh)
        else:
            doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (json.JSONDecodeError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise GeoJSONError(path, f"not readable JSON ({exc})") from exc
    if not isinstance(doc, Mapping):
        raise GeoJSONError(path, "top level is not a JSON object")
    if doc.get("type") == "FeatureCollection":
        raw = doc.get("features")
        if not isinstance(raw, list):
            raise GeoJSONError(path, "'features' is not a list", field="features")
    else:
        raw = [doc if doc.get("type") == "Feature" else {"type": "Feature", "geometry": doc}]
    out = []
    for i, f in enumerate(raw):
        if not isinstance(f, Mapping) or f.get("type") != "Feature":
            raise GeoJSONError(path, "not a GeoJSON Feature", feature=i, field="type")
        props = f.get("properties") or {}
        if not isinstance(props, Mapping):
            raise GeoJSONError(path, "'properties' is not an object", feature=i, field="properties")
        out.append((dict(props), f.get("geometry")))
    return out


def _geometry(path: Path, i: int, raw: Any) -> shapely.Geometry:
    try:
        geom = shape(raw)
    except Exception as exc:  # shapely raises several types for malformed input
        raise GeoJSONError(path, f"not a valid GeoJSON geometry ({exc})", feature=i, field="geometry") from exc
    if not geom.is_empty:
        w, s, e, n = geom.bounds
        if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
            raise GeoJSONError(path, f"coordinates outside WGS84 ranges (bounds {geom.bounds})", feature=i)
    return geom


def _area_of(path: Path, i: int, props: Mapping[str, Any], raw: Any, out: ControlRead) -> shapely.Geometry | None:
    """The polygonal area of one selected feature, or None (with a note) when it has none."""
    who = label(i, props)
    if raw is None:
        out.skipped.setdefault("null geometry", []).append(who)
        return None
    geom = _geometry(path, i, raw)
    kinds = sorted({p.geom_type for p in shapely.get_parts(geom)} - {"Polygon", "MultiPolygon"})
    if geom.is_empty or not any(p.geom_type in ("Polygon", "MultiPolygon") for p in shapely.get_parts(geom)):
        why = "empty geometry" if geom.is_empty else f"{geom.geom_type}, not an area"
        out.skipped.setdefault(why, []).append(who)
        return None
    if kinds:
        out.notes.append(f"{who}: {geom.geom_type} with {'/'.join(kinds)} parts, polygons kept")
        geom = polygonal(geom)
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        out.repairs.append(f"feature {i}: {reason}")
        geom = polygonal(shapely.make_valid(geom))
    return geom


def fill_holes(geom: shapely.Geometry, below_km2: float) -> tuple[shapely.Geometry, list[float], float]:
    """``geom`` with its holes smaller than ``below_km2`` (geodesic km²) filled.

    Returns the geometry, the area of each hole filled (km²) and their total boundary (km):
    a sliver between two overlapping layers has almost no area but a long edge, which would
    otherwise become line of contact behind the front.
    """
    if below_km2 <= 0 or geom.is_empty:
        return geom, [], 0.0
    filled: list[float] = []
    edge = 0.0
    parts = []
    for poly in shapely.get_parts(geom):
        keep = []
        for ring in poly.interiors:
            a = area_km2(shapely.Polygon(ring))
            if a < below_km2:
                filled.append(a)
                edge += length_km(ring)
            else:
                keep.append(ring)
        parts.append(shapely.Polygon(poly.exterior, keep) if len(keep) != len(poly.interiors) else poly)
    return (polygonal(shapely.make_valid(shapely.union_all(parts))) if filled else geom), filled, edge


def read_control(path: str | Path, selection: Selection | None = None, fill_below_km2: float = 0.0) -> ControlRead:
    """The union of the selected control areas of a file, repaired and with small holes filled.

    Raises
    ------
    GeoJSONError
        When the file is unreadable or malformed, or nothing usable remains (naming the selection).
    """
    p = Path(path)
    sel = selection or Selection()
    feats = read_raw_features(p)
    if not feats:
        raise GeoJSONError(p, "the file has no features")
    chosen = [(i, props, raw) for i, (props, raw) in enumerate(feats) if sel.matches(props)]
    out = ControlRead(shapely.Polygon(), total=len(feats), selected=len(chosen), used=0)
    if not sel.everything:
        out.notes.append(f"selected {len(chosen)} of {len(feats)} feature(s) by {sel.describe()}")
    geoms = [g for i, props, raw in chosen if (g := _area_of(p, i, props, raw, out)) is not None]
    out.used = len(geoms)
    for why, who in out.skipped.items():
        listed = "; ".join(who[:5]) + (f"; ... and {len(who) - 5} more" if len(who) > 5 else "")
        out.notes.append(f"skipped {len(who)} feature(s), {why}: {listed}")
    union = polygonal(shapely.union_all(geoms)) if geoms else shapely.Polygon()
    if union.is_empty:
        raise GeoJSONError(
            p,
            f"nothing usable to derive from: {sel.describe()} selected {len(chosen)} of {len(feats)} "
            f"feature(s), {len(geoms)} with a non-empty area"
            + ("" if sel.everything else f" (layer values seen: {_layer_values(feats)})"),
        )
    out.geometry, out.filled_km2, out.filled_edge_km = fill_holes(union, fill_below_km2)
    if out.filled_km2:
        out.notes.append(
            f"filled {len(out.filled_km2)} hole(s) below {fill_below_km2:g} km²: "
            f"{sum(out.filled_km2):,.3g} km² in all (largest {max(out.filled_km2):,.3g} km²), "
            f"{out.filled_edge_km:,.1f} km of hole edge"
        )
    return out


def _layer_values(feats: list[tuple[dict[str, Any], Any]], most: int = 6) -> str:
    """A few distinct values of the layer properties, to help fix a selection that matched nothing."""
    seen: dict[str, None] = {}
    for props, _ in feats:
        for k in LAYER_PROPERTIES:
            if props.get(k):
                seen.setdefault(f"{k}={' '.join(str(props[k]).split())[:50]!r}")
                break
    vals = list(seen)
    return ", ".join(vals[:most]) + (f", ... ({len(vals)} in all)" if len(vals) > most else "") if vals else "none"


def bounds_for(day: dt.date) -> Bounds | None:
    """The bounds in force on ``day`` (None before 2014-03-01: no bounds)."""
    found = [b for b in BOUNDS if b.since <= day]
    return found[-1] if found else None


def implausible(day: dt.date, line_km: float, area: float) -> str:
    """Why a derived line (km) and controlled area (km²) are implausible for ``day``; empty when plausible."""
    b = bounds_for(day)
    if b is None:
        return ""
    bad = []
    if not b.line_km[0] <= line_km <= b.line_km[1]:
        bad.append(f"line {line_km:,.0f} km outside {b.line_km[0]:,.0f}-{b.line_km[1]:,.0f} km")
    if not b.area_km2[0] <= area <= b.area_km2[1]:
        bad.append(f"area {area:,.0f} km² outside {b.area_km2[0]:,.0f}-{b.area_km2[1]:,.0f} km²")
    return f"{' and '.join(bad)} (bounds for {day}: {b.why})" if bad else ""
