"""KML 2.2 (``.kml``): rows of points as placemarks, one folder per group, every column kept.

Each row is a point placemark: its name from some columns, a ``TimeStamp`` from a time column,
every other column in its ``ExtendedData`` (as text), one folder and one icon style per value of
a group column (colours ``#rrggbb``). Positions are WGS84 longitude/latitude. Registered as
``kml`` in :mod:`truceline.io.formats`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from truceline.io.streams import Source, Target, read_bytes, source_name, text_target

__all__ = ["KML_NS", "read_kml", "write_kml"]

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
