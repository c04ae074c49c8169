"""KMZ (``.kmz``): a zipped KML document (``doc.kml``) with the files it refers to (icons).

A KMZ is a ZIP archive whose first entry is the document, ``doc.kml`` (KML 2.2, written by
:func:`truceline.io.kml.document`), followed by the files the document names by relative
``href`` (icons under ``icons/``). Nothing refers to the network. The archive is reproducible:
entries in a fixed order with a fixed time stamp, so the same content makes the same bytes.
Google Earth, QGIS and GDAL (drivers ``LIBKML``, or ``KML`` through ``/vsizip/``) read it.

Icons are drawn at write time (:func:`dot_icon`, Pillow, which matplotlib brings): a filled
disc in a colour with a dark outline, as PNG.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

from PIL import Image, ImageDraw

from truceline.io.kml import Folder, Style, document, read_placemarks
from truceline.io.streams import Source, Target, read_bytes, source_name, write_bytes

__all__ = ["DOC", "dot_icon", "kmz_bytes", "read_kmz", "read_kmz_files", "write_kmz"]

#: The document's name inside the archive.
DOC = "doc.kml"
#: Time stamp of every entry (the ZIP format's earliest), so that builds are byte-identical.
_EPOCH = (1980, 1, 1, 0, 0, 0)


def dot_icon(colour: str, size: int = 32, outline: str = "#222222") -> bytes:
    """A PNG icon: a disc filled with ``colour`` (``#rrggbb``) and a thin dark ring, on transparency.

    Parameters
    ----------
    colour : str
        Fill colour, ``#rrggbb``.
    size : int
        Width and height in pixels.
    outline : str
        Colour of the ring.
    """
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    pad = max(1, size // 8)
    ImageDraw.Draw(img).ellipse(
        (pad, pad, size - 1 - pad, size - 1 - pad), fill=colour, outline=outline, width=max(1, size // 16)
    )
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def kmz_bytes(doc_kml: str, files: Mapping[str, bytes] | None = None) -> bytes:
    """A KMZ archive: ``doc.kml`` first, then ``files`` (archive path -> bytes) in name order.

    Raises
    ------
    ValueError
        For a file path that is absolute, climbs out (``..``) or is the document's own name.
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        entries = [(DOC, doc_kml.encode("utf-8"))]
        for name in sorted(files or {}):
            if name == DOC or name.startswith("/") or ".." in name.split("/"):
                raise ValueError(f"KMZ entry {name!r}: must be a relative path inside the archive, not {DOC}")
            entries.append((name, (files or {})[name]))
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return buf.getvalue()


def write_kmz(
    path: Target,
    title: str,
    folders: Sequence[Folder],
    styles: Sequence[Style] = (),
    files: Mapping[str, bytes] | None = None,
    description: str = "",
) -> int:
    """Write folders of placemarks as a KMZ (``doc.kml`` and ``files``); return the number of placemarks.

    Parameters
    ----------
    path : str, PathLike or binary stream
        The file (its folder is made) or an open binary stream.
    title : str
        The document's name.
    folders : sequence of Folder
        The document's folders (:class:`truceline.io.kml.Folder`), in order.
    styles : sequence of Style
        Shared styles; an icon ``href`` names a file of ``files``.
    files : mapping of str to bytes, optional
        Files stored beside the document (icons), by archive path.
    description : str
        The document's description.
    """
    missing = sorted({s.icon for s in styles if s.icon and s.icon not in (files or {})})
    if missing:
        raise ValueError(f"styles name icons the archive does not hold: {missing}")
    write_bytes(path, kmz_bytes(document(title, folders, styles, description), files))
    return sum(len(f.placemarks) for f in folders)


def read_kmz_files(path: Source, name: str | None = None) -> dict[str, bytes]:
    """Every entry of a KMZ archive, by archive path.

    Raises
    ------
    ValueError
        ``FILE: not a KMZ ...`` when the file is not a ZIP archive or holds no ``.kml`` document.
    """
    where = source_name(path, name)
    try:
        with zipfile.ZipFile(io.BytesIO(read_bytes(path))) as z:
            out = {i.filename: z.read(i) for i in z.infolist() if not i.is_dir()}
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{where}: not a KMZ ({exc})") from None
    if not any(n.lower().endswith(".kml") for n in out):
        raise ValueError(f"{where}: not a KMZ (no .kml document inside)")
    return out


def read_kmz(path: Source, name: str | None = None) -> list[dict[str, Any]]:
    """The placemarks of a KMZ's document (``doc.kml``, else its first ``.kml`` entry), as
    :func:`truceline.io.kml.read_placemarks` gives them: ``folder``, ``name``, ``style``, ``time``,
    ``geometry`` (shapely) and the ``ExtendedData`` fields.

    Raises
    ------
    ValueError
        ``FILE: ...`` when the file is not a KMZ or its document is not KML.
    """
    where = source_name(path, name)
    files = read_kmz_files(path, where)
    doc = DOC if DOC in files else next(n for n in files if n.lower().endswith(".kml"))
    return read_placemarks(io.BytesIO(files[doc]), f"{where}!{doc}")
