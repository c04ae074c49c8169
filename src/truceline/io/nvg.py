"""NVG 2.0 (``.nvg``): NATO Vector Graphics overlays of points, lines, areas and ellipses.

An NVG document (namespace :data:`NVG_NS`, ``version="2.0.2"``) holds drawable items in groups
(``<g label uri>``). What this module writes, per item (attributes as NVG 2.0 names them; every
item has a ``uri`` and a ``label``):

- ``<point x y>``: longitude, latitude (WGS84 decimal degrees);
- ``<polyline points>`` and ``<polygon points>``: ``"x,y x,y ..."``; a polygon's ring is not
  closed (the first point is not repeated); its holes are ``<exclude><linear-ring points/>``;
- ``<ellipse cx cy rx ry rotation>``: centre, semi-axes in metres (``rx`` the major one, along
  the x axis (east) before rotation, ``ry`` the minor one) and ``rotation`` in degrees,
  counter-clockwise, as NVG 2.0 defines rotation; so the major axis' azimuth (clockwise from
  north) is ``90 - rotation``;
- ``<composite>`` of the parts of a multi-part geometry;
- ``style``: ``stroke:#rrggbb;stroke-width:N;fill:#rrggbb|none;fill-opacity:F``;
- child elements ``<textInfo>`` (longer text), ``<timeSpan><begin>`` (the item's time, ISO 8601
  UTC: from when a time-aware viewer shows it) and ``<extendedData><simpleData key>`` (the
  item's data, as text).

No ``symbol`` is written: an APP-6 / MIL-STD-2525 code states an affiliation (friend, hostile),
which is an attribution this module has no business making. :func:`read_nvg` reads the items
back with their geometry (shapely), ellipse, time and data.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import shapely

from truceline.io.streams import Source, Target, read_bytes, source_name, text_target

__all__ = ["NVG_NS", "NVG_VERSION", "Ellipse", "Group", "Item", "ellipse_polygon", "read_nvg", "write_nvg"]

NVG_NS = "https://tide.act.nato.int/schemas/2012/10/nvg"
"""The NVG 2.0 namespace."""
NVG_VERSION = "2.0.2"
"""The version written."""


@dataclass(frozen=True)
class Ellipse:
    """An ellipse on the ground: centre (WGS84 degrees), semi-axes (m), azimuth of the major axis
    (degrees clockwise from north, [0, 180))."""

    lon: float
    lat: float
    semi_major_m: float
    semi_minor_m: float
    azimuth_deg: float = 0.0

    @property
    def rotation(self) -> float:
        """NVG's ``rotation`` (degrees counter-clockwise of the x axis' east) of this ellipse."""
        return (90.0 - self.azimuth_deg) % 360.0


@dataclass(frozen=True)
class Item:
    """One drawable: a shapely geometry (point, line, polygon, multi-part) or an :class:`Ellipse`.

    ``colour`` (``#rrggbb``) strokes it; ``fill`` fills an area with it at ``fill_opacity``;
    ``time`` (ISO 8601) is its ``timeSpan`` begin; ``data`` its ``extendedData``; ``text`` its
    ``textInfo``.
    """

    uri: str
    label: str
    shape: shapely.Geometry | Ellipse
    colour: str = "#000000"
    fill: bool = False
    fill_opacity: float = 0.25
    time: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    text: str = ""


@dataclass(frozen=True)
class Group:
    """A group of items (``<g>``), its coordinates written with ``decimals`` decimals."""

    label: str
    uri: str
    items: Sequence[Item]
    decimals: int = 7


def _num(x: float, decimals: int) -> str:
    return f"{x:.{decimals}f}"


def _points(geom: Any, decimals: int, closed: bool = False) -> str:
    out: list[str] = []
    for x, y in shapely.get_coordinates(geom).tolist():
        c = f"{_num(x, decimals)},{_num(y, decimals)}"
        if not out or out[-1] != c:
            out.append(c)
    if closed and len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return " ".join(out)


def _style(it: Item) -> str:
    fill = f"fill:{it.colour};fill-opacity:{it.fill_opacity:g}" if it.fill else "fill:none"
    return f"stroke:{it.colour};stroke-width:{2 if it.fill else 3};{fill}"


def _children(it: Item, extra: str = "") -> str:
    out = f"<textInfo>{escape(it.text)}</textInfo>" if it.text else ""
    out += extra
    if it.time:
        out += f"<timeSpan><begin>{escape(it.time)}</begin></timeSpan>"
    if it.data:
        sd = "".join(
            f"<simpleData key={quoteattr(str(k))}>{escape('' if v is None else str(v))}</simpleData>"
            for k, v in it.data.items()
        )
        out += f"<extendedData>{sd}</extendedData>"
    return out


def _shape(it: Item, geom: Any, uri: str, decimals: int, head: bool) -> str:
    """One element of a shape; ``head``: the item's own element (children and style), else a composite's part."""
    attrs = f"uri={quoteattr(uri)}" + (f" label={quoteattr(it.label)} style={quoteattr(_style(it))}" if head else "")
    kind = geom.geom_type if not isinstance(geom, Ellipse) else "Ellipse"
    extra = ""
    if kind == "Ellipse":
        e = geom
        tag = "ellipse"
        attrs += (
            f' cx="{_num(e.lon, decimals)}" cy="{_num(e.lat, decimals)}" rx="{e.semi_major_m:.1f}"'
            f' ry="{e.semi_minor_m:.1f}" rotation="{e.rotation:.2f}"'
        )
    elif kind == "Point":
        tag = "point"
        attrs += f' x="{_num(geom.x, decimals)}" y="{_num(geom.y, decimals)}"'
    elif kind in ("LineString", "LinearRing"):
        tag = "polyline"
        attrs += f' points="{_points(geom, decimals)}"'
    elif kind == "Polygon":
        tag = "polygon"
        attrs += f' points="{_points(geom.exterior, decimals, closed=True)}"'
        holes = "".join(f'<linear-ring points="{_points(r, decimals, closed=True)}"/>' for r in geom.interiors)
        extra = f"<exclude>{holes}</exclude>" if holes else ""
    elif kind.startswith("Multi") or kind == "GeometryCollection":
        parts = [p for p in geom.geoms if not shapely.is_empty(p)]
        inner = "".join(_shape(it, p, f"{uri}#{k}", decimals, False) for k, p in enumerate(parts))
        return f"<composite {attrs}>{inner}{_children(it) if head else ''}</composite>"
    else:
        raise ValueError(f"item {uri}: no NVG form for a {kind}")
    body = (extra + _children(it)) if head else extra
    return f"<{tag} {attrs}>{body}</{tag}>" if body else f"<{tag} {attrs}/>"


def write_nvg(path: Target, groups: Sequence[Group], title: str = "") -> int:
    """Write groups of items as an NVG 2.0 document; return the number of items.

    Parameters
    ----------
    path : str, PathLike or stream
        The file (its folder is made) or an open stream.
    groups : sequence of Group
        One ``<g>`` each, in order (empty ones too).
    title : str
        The document's ``<textInfo>`` (the NVG root has no name attribute).

    Raises
    ------
    ValueError
        For an empty geometry or one NVG has no element for.
    """
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<nvg xmlns="{NVG_NS}" version="{NVG_VERSION}">']
    if title:
        out.append(f"<textInfo>{escape(title)}</textInfo>")
    n = 0
    for g in groups:
        out.append(f"<g uri={quoteattr(g.uri)} label={quoteattr(g.label)}>")
        for it in g.items:
            if not isinstance(it.shape, Ellipse) and (it.shape is None or shapely.is_empty(it.shape)):
                raise ValueError(f"item {it.uri}: empty geometry")
            out.append(_shape(it, it.shape, it.uri, g.decimals, True))
            n += 1
        out.append("</g>")
    out += ["</nvg>", ""]
    with text_target(path) as fh:
        fh.write("\n".join(out))
    return n


# ----------------------------------------------------------------------------------- reading
def _pairs(text: str | None) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in (p.split(",")[:2] for p in (text or "").split())]


def _closed(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return pts if pts and pts[0] == pts[-1] else [*pts, pts[0]]


def _geometry(el: ET.Element) -> shapely.Geometry | Ellipse:
    n = f"{{{NVG_NS}}}"
    tag = el.tag.removeprefix(n)
    a = el.attrib
    if tag == "point":
        return shapely.Point(float(a["x"]), float(a["y"]))
    if tag == "polyline":
        return shapely.LineString(_pairs(a["points"]))
    if tag == "polygon":
        holes = [_closed(_pairs(r.get("points"))) for r in el.iterfind(f"{n}exclude/{n}linear-ring")]
        return shapely.Polygon(_closed(_pairs(a["points"])), holes)
    if tag == "ellipse":
        rot = float(a.get("rotation", "0"))
        return Ellipse(float(a["cx"]), float(a["cy"]), float(a["rx"]), float(a["ry"]), (90.0 - rot) % 180.0)
    if tag == "composite":
        parts = [_geometry(c) for c in el if c.tag.removeprefix(n) in _SHAPES]
        geoms = [p for p in parts if not isinstance(p, Ellipse)]
        kinds = {p.geom_type for p in geoms}
        make = {"Point": shapely.MultiPoint, "LineString": shapely.MultiLineString, "Polygon": shapely.MultiPolygon}
        if len(kinds) == 1 and len(geoms) == len(parts):
            return make[kinds.pop()](geoms)
        return shapely.GeometryCollection(geoms)
    raise ValueError(f"<{tag}> is not a drawable this reader knows")


_SHAPES = ("point", "polyline", "polygon", "ellipse", "composite")


def _item(el: ET.Element, group: str) -> dict[str, Any]:
    n = f"{{{NVG_NS}}}"
    shape = _geometry(el)
    row: dict[str, Any] = {
        "group": group,
        "kind": el.tag.removeprefix(n),
        "uri": el.get("uri", ""),
        "label": el.get("label", ""),
        "style": el.get("style", ""),
        "time": el.findtext(f"{n}timeSpan/{n}begin"),
        "text": el.findtext(f"{n}textInfo", default=""),
        "ellipse": shape if isinstance(shape, Ellipse) else None,
        "geometry": shapely.Point(shape.lon, shape.lat) if isinstance(shape, Ellipse) else shape,
    }
    data = {s.get("key", ""): s.text or "" for s in el.iterfind(f"{n}extendedData/{n}simpleData")}
    return {**data, **row}


def read_nvg(path: Source, name: str | None = None) -> list[dict[str, Any]]:
    """The items of an NVG document, in document order, as rows: ``extendedData`` fields (text) and
    ``group`` (the label of the enclosing ``<g>``, empty at the top), ``kind`` (element name),
    ``uri``, ``label``, ``style``, ``time`` (``timeSpan`` begin, or None), ``text`` (``textInfo``),
    ``geometry`` (shapely; an ellipse's centre) and ``ellipse`` (an :class:`Ellipse`, or None).

    Raises
    ------
    ValueError
        ``FILE: ...`` when the file is not XML, not NVG, or an item has bad coordinates.
    """
    where = source_name(path, name)
    try:
        root = ET.fromstring(read_bytes(path))
    except ET.ParseError as exc:
        raise ValueError(f"{where}: not NVG ({exc})") from None
    if root.tag != f"{{{NVG_NS}}}nvg":
        raise ValueError(f"{where}: not NVG 2.0 (root {root.tag!r}, expected nvg in {NVG_NS})")
    n = f"{{{NVG_NS}}}"
    out: list[dict[str, Any]] = []

    def walk(el: ET.Element, group: str) -> None:
        for child in el:
            tag = child.tag.removeprefix(n)
            if tag == "g":
                walk(child, child.get("label", ""))
            elif tag in _SHAPES:
                try:
                    out.append(_item(child, group))
                except (KeyError, ValueError, IndexError) as exc:
                    raise ValueError(f"{where}: item {child.get('uri', len(out))!r}: {exc}") from None

    walk(root, "")
    return out


def ellipse_polygon(e: Ellipse, n: int = 72) -> shapely.Polygon:
    """An ellipse as a polygon of ``n`` vertices (local flat-earth approximation around its centre,
    good to well under a metre for ellipses of tens of kilometres)."""
    az = math.radians(e.azimuth_deg)
    pts = []
    m_lat = 111_132.954 - 559.822 * math.cos(2 * math.radians(e.lat))
    m_lon = 111_412.84 * math.cos(math.radians(e.lat))
    for k in range(n):
        t = 2 * math.pi * k / n
        u, v = e.semi_major_m * math.cos(t), e.semi_minor_m * math.sin(t)  # along the major / minor axis
        east = u * math.sin(az) + v * math.cos(az)
        north = u * math.cos(az) - v * math.sin(az)
        pts.append((e.lon + east / m_lon, e.lat + north / m_lat))
    return shapely.Polygon(pts)
