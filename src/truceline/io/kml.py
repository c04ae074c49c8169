"""KML 2.2 (``.kml``): rows of points as placemarks, one folder per group, every column kept.

Each row is a point placemark: its name from some columns, a ``TimeStamp`` from a time column,
every other column in its ``ExtendedData`` (as text), one folder and one icon style per value of
a group column (colours ``#rrggbb``). Positions are WGS84 longitude/latitude. Registered as
``kml`` in :mod:`truceline.io.formats`.

Documents of any geometry (:func:`document`: folders of :class:`Placemark` with points, lines,
polygons and their multi-part forms, shared :class:`Style` with icons, line and fill colours, a
``TimeStamp`` each) are what :mod:`truceline.io.kmz` packs with its icons; :func:`read_placemarks`
reads any placemark back with its geometry (shapely), folder, style, time and ``ExtendedData``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import shapely

from truceline.io.streams import Source, Target, read_bytes, source_name, text_target

__all__ = [
    "KML_NS",
    "Folder",
    "Placemark",
    "Style",
    "document",
    "geometry_kml",
    "read_kml",
    "read_placemarks",
    "write_kml",
]

KML_NS = "http://www.opengis.net/kml/2.2"
"""The KML 2.2 namespace."""


def kml_colour(hex_rgb: str) -> str:
    """``#rrggbb`` -> KML ``aabbggrr`` (opaque)."""
    r, g, b = hex_rgb[1:3], hex_rgb[3:5], hex_rgb[5:7]
    return f"ff{b}{g}{r}"


def _text(value: Any) -> str:
    return escape("" if value is None else str(value))


def _attribute(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def _placemark(
    r: Mapping[str, Any], group: str, label: Sequence[str], time: str, data_columns: Sequence[str], where: str
) -> str:
    data = "".join(f'<Data name="{_attribute(k)}"><value>{_text(r[k])}</value></Data>' for k in data_columns)
    return (
        f"<Placemark><name>{' '.join(_text(r[k]) for k in label)}</name>"
        f"<styleUrl>#{escape(group)}</styleUrl>"
        f"<TimeStamp><when>{_text(r[time])}</when></TimeStamp>"
        f"<ExtendedData>{data}</ExtendedData>"
        f"<Point><coordinates>{where}</coordinates></Point></Placemark>"
    )


def write_kml(
    path: Target,
    rows: Sequence[Mapping[str, Any]],
    title: str,
    columns: Sequence[str] | None = None,
    *,
    group: str,
    label: Sequence[str],
    time: str,
    colours: Mapping[str, str] | None = None,
    default_colour: str = "#888888",
    decimals: int = 7,
    lon: str = "lon",
    lat: str = "lat",
) -> int:
    """Write rows with longitude/latitude columns as a KML 2.2 document; return the number of rows.

    Parameters
    ----------
    path : str, PathLike or stream
        The file (its folder is made) or an open stream.
    rows : sequence of mapping
        One point placemark per row.
    title : str
        The document's name.
    columns : sequence of str, optional
        The columns, in order (default: the keys of the first row); all but ``lon``/``lat`` go to
        each placemark's ``ExtendedData``.
    group : str
        The column whose values make the folders (sorted) and their icon styles.
    label : sequence of str
        The columns of a placemark's name, joined by spaces.
    time : str
        The column of a placemark's ``TimeStamp`` (ISO 8601).
    colours : mapping of str to str, optional
        Icon colour (``#rrggbb``) of each group value; ``default_colour`` for the others.
    decimals : int
        Decimals of the coordinates.
    lon, lat : str
        The columns of the position (WGS84 degrees).
    """
    names = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    data_columns = [k for k in names if k not in (lon, lat)]
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<kml xmlns="{KML_NS}">', "<Document>"]
    out.append(f"<name>{escape(title)}</name>")
    groups = sorted({r[group] for r in rows})
    for g in groups:
        colour = kml_colour((colours or {}).get(g, default_colour))
        out.append(f'<Style id="{escape(g)}"><IconStyle><color>{colour}</color><scale>0.6</scale></IconStyle></Style>')
    for g in groups:
        out.append(f"<Folder><name>{escape(g)}</name>")
        for r in rows:
            if r[group] == g:
                where = f"{r[lon]:.{decimals}f},{r[lat]:.{decimals}f}"
                out.append(_placemark(r, g, label, time, data_columns, where))
        out.append("</Folder>")
    out += ["</Document>", "</kml>", ""]
    with text_target(path) as fh:
        fh.write("\n".join(out))
    return len(rows)


def read_kml(path: Source, lon: str = "lon", lat: str = "lat", name: str | None = None) -> list[dict[str, Any]]:
    """The point placemarks of a KML file as rows: their ``ExtendedData`` (text) and ``lon``/``lat``.

    Raises
    ------
    ValueError
        ``FILE: ...`` when the file is not XML, or a placemark has no point coordinates.
    """
    where = source_name(path, name)
    try:
        root = ET.fromstring(read_bytes(path))
    except ET.ParseError as exc:
        raise ValueError(f"{where}: not KML ({exc})") from None
    ns = {"k": KML_NS}
    rows: list[dict[str, Any]] = []
    for i, mark in enumerate(root.iter(f"{{{KML_NS}}}Placemark")):
        row: dict[str, Any] = {
            d.get("name", ""): d.findtext("k:value", default="", namespaces=ns)
            for d in mark.iterfind("k:ExtendedData/k:Data", ns)
        }
        coords = mark.findtext("k:Point/k:coordinates", namespaces=ns)
        try:
            x, y = (float(v) for v in (coords or "").strip().split(",")[:2])
        except ValueError:
            raise ValueError(f"{where}: placemark {i}: Point/coordinates: {coords!r} is not 'lon,lat'") from None
        rows.append({**row, lon: x, lat: y})
    return rows


# ------------------------------------------------------------------------ documents of any geometry
@dataclass(frozen=True)
class Style:
    """A shared style: icon, line and fill in one colour.

    Attributes
    ----------
    id : str
        The style's id (placemarks name it as ``#id``).
    colour : str
        ``#rrggbb`` of lines, fills and the icon's tint.
    icon : str or None
        The icon's ``href`` (a file inside a KMZ, e.g. ``icons/x.png``); None: the viewer's default.
    line_width : float
        Line width in pixels.
    fill_opacity : float
        Opacity of polygon fills in [0, 1] (0: outline only).
    """

    id: str
    colour: str
    icon: str | None = None
    line_width: float = 1.5
    fill_opacity: float = 0.25


@dataclass(frozen=True)
class Placemark:
    """One placemark: a name, a geometry (WGS84 lon/lat), a style, a time and data.

    ``data`` goes to ``ExtendedData`` (values as text, None as empty); ``time`` (ISO 8601) to a
    ``TimeStamp`` (the time slider of Google Earth and QGIS), none when None.
    """

    name: str
    geometry: shapely.Geometry
    style: str = ""
    time: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Folder:
    """A folder of placemarks, its coordinates written with ``decimals`` decimals."""

    name: str
    placemarks: Sequence[Placemark]
    decimals: int = 7
    description: str = ""


def _coords(xy: Any, decimals: int) -> str:
    out: list[str] = []
    for x, y in shapely.get_coordinates(xy).tolist():
        c = f"{x:.{decimals}f},{y:.{decimals}f}"
        if not out or out[-1] != c:  # rounding can make neighbours equal
            out.append(c)
    return " ".join(out)


def _ring(ring: shapely.LinearRing, decimals: int) -> str:
    return f"<LinearRing><coordinates>{_coords(ring, decimals)}</coordinates></LinearRing>"


def geometry_kml(geom: shapely.Geometry, decimals: int = 7) -> str:
    """A shapely geometry as KML: ``Point``, ``LineString`` (tessellated), ``Polygon`` (with holes)
    or a ``MultiGeometry`` of its parts.

    Raises
    ------
    ValueError
        For an empty geometry or a type KML has no element for.
    """
    if geom is None or shapely.is_empty(geom):
        raise ValueError("an empty geometry has no KML form")
    kind = geom.geom_type
    if kind == "Point":
        return f"<Point><coordinates>{_coords(geom, decimals)}</coordinates></Point>"
    if kind in ("LineString", "LinearRing"):
        coords = _coords(geom, decimals)
        return f"<LineString><tessellate>1</tessellate><coordinates>{coords}</coordinates></LineString>"
    if kind == "Polygon":
        inner = "".join(f"<innerBoundaryIs>{_ring(r, decimals)}</innerBoundaryIs>" for r in geom.interiors)
        return f"<Polygon><outerBoundaryIs>{_ring(geom.exterior, decimals)}</outerBoundaryIs>{inner}</Polygon>"
    if kind.startswith("Multi") or kind == "GeometryCollection":
        parts = [geometry_kml(g, decimals) for g in geom.geoms if not shapely.is_empty(g)]
        return f"<MultiGeometry>{''.join(parts)}</MultiGeometry>"
    raise ValueError(f"no KML form for a {kind}")


def _style_kml(s: Style) -> str:
    colour = kml_colour(s.colour)
    fill = f"{round(255 * min(max(s.fill_opacity, 0.0), 1.0)):02x}{colour[2:]}"
    icon = f"<Icon><href>{_text(s.icon)}</href></Icon>" if s.icon else ""
    return (
        f'<Style id="{_attribute(s.id)}"><IconStyle><scale>0.8</scale>{icon}</IconStyle>'
        f"<LineStyle><color>{colour}</color><width>{s.line_width:g}</width></LineStyle>"
        f"<PolyStyle><color>{fill}</color><fill>{int(s.fill_opacity > 0)}</fill><outline>1</outline></PolyStyle>"
        "</Style>"
    )


def _mark_kml(p: Placemark, decimals: int) -> str:
    data = "".join(f'<Data name="{_attribute(k)}"><value>{_text(v)}</value></Data>' for k, v in p.data.items())
    return (
        f"<Placemark><name>{_text(p.name)}</name>"
        + (f"<styleUrl>#{_text(p.style)}</styleUrl>" if p.style else "")
        + (f"<TimeStamp><when>{_text(p.time)}</when></TimeStamp>" if p.time else "")
        + (f"<ExtendedData>{data}</ExtendedData>" if data else "")
        + geometry_kml(p.geometry, decimals)
        + "</Placemark>"
    )


def document(title: str, folders: Sequence[Folder], styles: Sequence[Style] = (), description: str = "") -> str:
    """A KML 2.2 document: the styles, then each folder (empty ones too) with its placemarks, in order.

    Parameters
    ----------
    title : str
        The document's name.
    folders : sequence of Folder
    styles : sequence of Style
        Shared styles; placemarks name them by id.
    description : str
        The document's description (plain text).
    """
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<kml xmlns="{KML_NS}">', "<Document>"]
    out.append(f"<name>{escape(title)}</name>")
    if description:
        out.append(f"<description>{escape(description)}</description>")
    out += [_style_kml(s) for s in styles]
    for f in folders:
        out.append(f"<Folder><name>{escape(f.name)}</name>")
        if f.description:
            out.append(f"<description>{escape(f.description)}</description>")
        out += [_mark_kml(p, f.decimals) for p in f.placemarks]
        out.append("</Folder>")
    out += ["</Document>", "</kml>", ""]
    return "\n".join(out)


def _parse_coords(text: str | None) -> list[tuple[float, float]]:
    out = []
    for tup in (text or "").split():
        x, y = (float(v) for v in tup.split(",")[:2])
        out.append((x, y))
    return out


def _parse_geometry(el: ET.Element) -> shapely.Geometry:
    k = f"{{{KML_NS}}}"
    tag = el.tag.removeprefix(k)
    if tag == "Point":
        return shapely.Point(_parse_coords(el.findtext(f"{k}coordinates"))[0])
    if tag == "LineString":
        return shapely.LineString(_parse_coords(el.findtext(f"{k}coordinates")))
    if tag == "Polygon":
        outer = _parse_coords(el.findtext(f"{k}outerBoundaryIs/{k}LinearRing/{k}coordinates"))
        holes = [_parse_coords(r.findtext(f"{k}coordinates")) for r in el.iterfind(f"{k}innerBoundaryIs/{k}LinearRing")]
        return shapely.Polygon(outer, holes)
    if tag == "MultiGeometry":
        parts = [_parse_geometry(c) for c in el if c.tag.removeprefix(k) in _GEOMETRIES]
        kinds = {p.geom_type for p in parts}
        if kinds == {"Point"}:
            return shapely.MultiPoint(parts)
        if kinds == {"LineString"}:
            return shapely.MultiLineString(parts)
        if kinds == {"Polygon"}:
            return shapely.MultiPolygon(parts)
        return shapely.GeometryCollection(parts)
    raise ValueError(f"no geometry in <{tag}>")


_GEOMETRIES = ("Point", "LineString", "Polygon", "MultiGeometry")


def _read_mark(mark: ET.Element, folder: str) -> dict[str, Any]:
    k = f"{{{KML_NS}}}"
    geom = next((c for c in mark if c.tag.removeprefix(k) in _GEOMETRIES), None)
    if geom is None:
        raise ValueError("no geometry")
    row: dict[str, Any] = {
        "folder": folder,
        "name": mark.findtext(f"{k}name", default=""),
        "style": mark.findtext(f"{k}styleUrl", default="").removeprefix("#"),
        "time": mark.findtext(f"{k}TimeStamp/{k}when"),
        "geometry": _parse_geometry(geom),
    }
    data = {d.get("name", ""): d.findtext(f"{k}value", default="") for d in mark.iterfind(f"{k}ExtendedData/{k}Data")}
    return {**data, **row}


def read_placemarks(path: Source, name: str | None = None) -> list[dict[str, Any]]:
    """Every placemark of a KML document, in document order: its ``ExtendedData`` (text) and
    ``folder`` (the enclosing folder's name, empty at the top), ``name``, ``style`` (the id its
    ``styleUrl`` names), ``time`` (its ``TimeStamp``, or None) and ``geometry`` (shapely).

    Raises
    ------
    ValueError
        ``FILE: ...`` when the file is not XML, or a placemark has no geometry or bad coordinates.
    """
    where = source_name(path, name)
    try:
        root = ET.fromstring(read_bytes(path))
    except ET.ParseError as exc:
        raise ValueError(f"{where}: not KML ({exc})") from None
    k = f"{{{KML_NS}}}"
    out: list[dict[str, Any]] = []

    def walk(el: ET.Element, folder: str) -> None:
        for child in el:
            tag = child.tag.removeprefix(k)
            if tag == "Placemark":
                try:
                    out.append(_read_mark(child, folder))
                except (ValueError, IndexError) as exc:
                    raise ValueError(f"{where}: placemark {len(out)}: {exc}") from None
            elif tag in ("Folder", "Document"):
                walk(child, child.findtext(f"{k}name", default="") if tag == "Folder" else folder)

    walk(root, "")
    return out
