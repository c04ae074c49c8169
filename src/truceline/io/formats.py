"""The registry of file formats: each format once, with its suffixes, media types, reader and writer.

Every caller that must pick a format (``truceline ingest`` from a file name, the API from a
request's ``Content-Type``, the bulletin's exports) asks this registry; none keeps a suffix or
media-type list of its own. Adding a format is one :class:`Format` in :data:`FORMATS` and the
module that reads or writes it.

One shape for every format (the functions are named ``"module:function"`` and imported on first
use, so that this module sits under every reader and writer and loads none of their libraries):

- ``read(source, **options)``: a path or an open stream (:data:`truceline.io.streams.Source`) in,
  the format's records out (rows, features, objects), strictly: a bad record raises naming the file,
  the record and the field.
- ``write(target, records, **options)``: records in, a path or an open stream out.
- Observation formats (what ``truceline ingest`` and ``POST /api/v1/ingest/{kind}`` take) also
  have ``items(source, name, limits)``: every ``(line, object)`` of the file or the
  :class:`~truceline.io.problems.RecordProblem` of a bad line, never stopping; and
  ``detections(source, name, limits)``: the bulk reader of detections (``limits``: the
  :class:`~truceline.core.limits.InputLimits` of the ingest, or None). :mod:`truceline.io.records` turns
  them into batches of good records and problems.

Formats
-------
==============  =======================  ========================================  ======================
name            suffixes                 media types                               holds
==============  =======================  ========================================  ======================
``jsonl``       ``.jsonl``, ``.ndjson``  ``application/x-ndjson`` and aliases      every observation kind
``json``        ``.json``                ``application/json``, any ``+json``       every observation kind
``csv``         ``.csv``                 ``text/csv``, ``application/csv``         detections; rows
``geojson``     ``.geojson(.gz)``        ``application/geo+json``                  features; point rows
``topojson``    ``.topojson(.json)``     ``application/topo+json``                 features (read only)
``geoparquet``  ``.(geo)parquet``        ``application/vnd.apache.parquet``        point rows
``kml``         ``.kml``                 ``application/vnd.google-earth.kml+xml``  point rows
==============  =======================  ========================================  ======================
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Final

from truceline.core.errors import InvalidInput

__all__ = [
    "FORMATS",
    "Format",
    "UnknownFormat",
    "format_for_media_type",
    "format_for_path",
    "format_named",
    "media_type_essence",
    "observation_formats",
    "observation_suffixes",
]

DETECTION: Final = "detection"
"""The record kind a bulk detections reader holds (``RecordKind.DETECTION``)."""


class UnknownFormat(InvalidInput):
    """A format name, file suffix or media type that no registered format has; the message names it
    and lists the known ones."""


def _function(ref: str) -> Callable[..., Any]:
    module, _, name = ref.partition(":")
    fn: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return fn


@dataclass(frozen=True)
class Format:
    """One registered format.

    Attributes
    ----------
    name : str
        Registry name (``"jsonl"``, ``"geoparquet"``).
    title : str
        Name in messages (``"JSON Lines"``, ``"CSV"``).
    suffixes : tuple of str
        File suffixes, lower case, with the dot; the first is the one written.
    media_types : tuple of str
        Media types (lower case, no parameters); the first is the one sent.
    reader, writer : str or None
        ``"module:function"`` of ``read(source, **options)`` and ``write(target, records, **options)``.
    items : str or None
        ``"module:function"`` of ``items(source, name)``: the objects of an observation file, one
        codebook record each (JSON Lines, JSON); None if the format holds no such records.
    detections : str or None
        ``"module:function"`` of ``detections(source, name)``: the bulk reader of detections
        (a :class:`~truceline.io.records.DetectionBatch`); None if the format holds none.
    first_object : str or None
        ``"module:function"`` of ``first_object(path)``: the first object of a file (or its header
        as keys), from which an observation file's kind is told when its name does not tell.
    """

    name: str
    title: str
    suffixes: tuple[str, ...]
    media_types: tuple[str, ...] = ()
    reader: str | None = None
    writer: str | None = None
    items: str | None = None
    detections: str | None = None
    first_object: str | None = None

    @property
    def observations(self) -> bool:
        """True if ``truceline ingest`` and the API read observations in this format."""
        return self.items is not None or self.detections is not None

    def holds(self, kind: str) -> bool:
        """True if observations of ``kind`` (a record-type name) can be read from this format."""
        return (self.detections if kind == DETECTION else self.items) is not None

    def refusal(self, kind: str) -> str | None:
        """Why observations of ``kind`` cannot be read from this format (None if they can)."""
        if self.holds(kind):
            return None
        if self.items is None and self.detections is not None:
            return f"{self.title} holds detections only, not {kind} records"
        return f"{self.title} holds no {kind} records"

    def read(self, source: Any, /, **options: Any) -> Any:
        """Read ``source`` (a path or an open stream) with this format's reader.

        Raises
        ------
        UnknownFormat
            If the format has no reader.
        """
        if self.reader is None:
            raise UnknownFormat(f"format {self.name!r} has no reader")
        return _function(self.reader)(source, **options)

    def write(self, target: Any, records: Any, /, **options: Any) -> Any:
        """Write ``records`` to ``target`` (a path or an open stream) with this format's writer.

        Raises
        ------
        UnknownFormat
            If the format has no writer (TopoJSON).
        """
        if self.writer is None:
            raise UnknownFormat(f"format {self.name!r} has no writer")
        return _function(self.writer)(target, records, **options)

    def read_items(self, source: Any, name: str, limits: Any = None) -> Any:
        """The ``(line, object or problem)`` pairs of an observation file (see :attr:`items`);
        ``limits`` (:class:`truceline.core.InputLimits`) bound its lines."""
        if self.items is None:
            raise UnknownFormat(f"format {self.name!r} holds no observation records")
        return _function(self.items)(source, name, limits)

    def read_detections(self, source: Any, name: str, limits: Any = None) -> Any:
        """The detections of ``source`` as a batch, read in bulk (see :attr:`detections`), within
        ``limits`` (:class:`truceline.core.InputLimits`)."""
        if self.detections is None:
            raise UnknownFormat(f"format {self.name!r} holds no detections")
        return _function(self.detections)(source, name, limits)

    def read_first_object(self, path: str | os.PathLike[str]) -> dict[str, Any] | None:
        """The first object of the file at ``path``, or None (see :attr:`first_object`)."""
        if self.first_object is None:
            return None
        result: dict[str, Any] | None = _function(self.first_object)(path)
        return result


_NDJSON_TYPES: Final = (
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
    "application/x-jsonlines",
    "application/jsonlines",
    "application/json-lines",
)

FORMATS: Final[tuple[Format, ...]] = (
    Format(
        "jsonl",
        "JSON Lines",
        (".jsonl", ".ndjson"),
        _NDJSON_TYPES,
        reader="truceline.io.jsonl:read_objects",
        writer="truceline.io.jsonl:write_records",
        items="truceline.io.jsonl:iter_json_lines",
        detections="truceline.io.records:read_jsonl_detections",
        first_object="truceline.io.jsonl:first_object",
    ),
    Format(
        "json",
        "JSON",
        (".json",),
        ("application/json",),
        reader="truceline.io.jsondoc:read_document",
        writer="truceline.io.jsondoc:write_document",
        items="truceline.io.jsondoc:iter_json_document",
        detections="truceline.io.records:read_json_detections",
        first_object="truceline.io.jsondoc:first_object",
    ),
    Format(
        "csv",
        "CSV",
        (".csv",),
        ("text/csv", "application/csv"),
        reader="truceline.io.csv:read_rows",
        writer="truceline.io.csv:write_rows",
        detections="truceline.io.records:read_csv_detections",
        first_object="truceline.io.csv:first_object",
    ),
    Format(
        "geojson",
        "GeoJSON",
        (".geojson", ".geojson.gz"),
        ("application/geo+json",),
        reader="truceline.io.geojson:read_features",
        writer="truceline.io.geojson:write_features",
    ),
    Format(
        "topojson",
        "TopoJSON",
        (".topojson", ".topojson.json"),
        ("application/topo+json",),
        reader="truceline.io.topojson:read_topojson",
    ),
    Format(
        "geoparquet",
        "GeoParquet",
        (".parquet", ".geoparquet"),
        ("application/vnd.apache.parquet",),
        reader="truceline.io.geoparquet:read_geoparquet",
        writer="truceline.io.geoparquet:write_geoparquet",
    ),
    Format(
        "kml",
        "KML",
        (".kml",),
        ("application/vnd.google-earth.kml+xml",),
        reader="truceline.io.kml:read_kml",
        writer="truceline.io.kml:write_kml",
    ),
)
"""Every format, in the order messages list them (observation formats first)."""


def _known(formats: Iterable[Format]) -> str:
    return ", ".join(f.name for f in formats)


def format_named(name: str | Format) -> Format:
    """The format called ``name`` (a :class:`Format` is returned as it is).

    Raises
    ------
    UnknownFormat
        Naming ``name`` and listing the known formats.
    """
    if isinstance(name, Format):
        return name
    for fmt in FORMATS:
        if fmt.name == name.strip().lower():
            return fmt
    raise UnknownFormat(f"unknown format {name!r}; known formats: {_known(FORMATS)}")


def observation_formats() -> tuple[Format, ...]:
    """The formats observations are read from (``truceline ingest``, the API), in registry order."""
    return tuple(f for f in FORMATS if f.observations)


def observation_suffixes() -> tuple[str, ...]:
    """The file suffixes of :func:`observation_formats`, in order (``.jsonl``, ``.ndjson``, ``.json``, ``.csv``)."""
    return tuple(s for f in observation_formats() for s in f.suffixes)


def _candidates(formats: Iterable[Format] | None) -> tuple[Format, ...]:
    return FORMATS if formats is None else tuple(formats)


def format_for_path(path: str | os.PathLike[str], formats: Iterable[Format] | None = None) -> Format | None:
    """The format of a file, told by its name: the longest registered suffix it ends with (any case).

    Parameters
    ----------
    path : str or PathLike
        The file (only its name is used).
    formats : iterable of Format, optional
        Where to look (default: every format); e.g. :func:`observation_formats`.

    Returns
    -------
    Format or None
        None when no format has the suffix (callers name the file and the accepted suffixes).
    """
    name = PurePath(path).name.lower()
    best: tuple[int, Format] | None = None
    for fmt in _candidates(formats):
        for suffix in fmt.suffixes:
            if name.endswith(suffix) and len(name) > len(suffix) and (best is None or len(suffix) > best[0]):
                best = (len(suffix), fmt)
    return None if best is None else best[1]


def media_type_essence(media_type: str) -> str:
    """A ``Content-Type`` without its parameters, lower case: ``"Text/CSV; charset=utf-8"`` -> ``"text/csv"``."""
    return media_type.split(";", 1)[0].strip().lower()


def format_for_media_type(media_type: str, formats: Iterable[Format] | None = None) -> Format | None:
    """The format of a ``Content-Type``: an exact media type first, else a structured-syntax suffix.

    ``application/vnd.example+json`` is JSON (RFC 6839: a ``+json`` type is read as
    ``application/json``) unless a format registers that exact type.

    Parameters
    ----------
    media_type : str
        The header value (parameters such as ``charset`` are ignored; any case).
    formats : iterable of Format, optional
        Where to look (default: every format).

    Returns
    -------
    Format or None
    """
    candidates = _candidates(formats)
    essence = media_type_essence(media_type)
    for fmt in candidates:
        if essence in fmt.media_types:
            return fmt
    _, plus, syntax = essence.rpartition("+")
    if plus and syntax:
        for fmt in candidates:
            if f"application/{syntax}" in fmt.media_types:
                return fmt
    return None
