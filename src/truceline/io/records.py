"""The strict reader behind ``truceline ingest``: observation files in, good records and problems out.

Each bad record is rejected with its file, line, field and reason (a :class:`RecordProblem`);
every good record is kept. Nothing is skipped silently: a blank line is the only thing passed
over without a word, and an exact repeat of a record (same id, same content) is counted in
``repeats``.

Files and kinds
---------------
A file holds records of one kind (docs/formats.md). The kind strings are the codebook's
record-type names (``RECORD_TYPE``, so ``truceline.core.record_type(kind)`` gives the class):

===================================  ===============================  ================================
kind (:class:`RecordKind`)           file name                        record
===================================  ===============================  ================================
``sensor``                           ``sensors.jsonl``                ``Sensor``
``sensor_status_report``             ``sensor_status.jsonl``          ``SensorStatusReport``
``detection``                        ``detections.csv`` / ``.jsonl``  ``Detection``
``weather_report``                   ``weather.jsonl``                ``WeatherReport``
``observer_report``                  ``observer_reports.jsonl``       ``ObserverReport``
``sighting``                         ``sightings.jsonl``              ``Sighting``
``freedom_of_movement_restriction``  ``fom_restrictions.jsonl``       ``FreedomOfMovementRestriction``
``claim``                            ``claims.jsonl``                 ``Claim``
===================================  ===============================  ================================

Short aliases are accepted wherever a kind is given (``sensor_status``, ``weather``,
``fom_restriction``, the file stems, the class names); see :func:`parse_kind`.

Encodings
---------
The encodings are the observation formats of the registry (:mod:`truceline.io.formats`); a file's
is told by its suffix, a stream's (an API request body) is given:

- JSON Lines (``.jsonl``, ``.ndjson``): one object per line, read line by line (a large file is
  never held as a list of lines). ``line`` is the physical line number, from 1; lines end at
  ``\\n``. A UTF-8 byte order mark at the start of the file is accepted.
- JSON (``.json``): an array of objects, or one object ``{"records": [...]}`` (optionally with a
  ``"record_type"``). The document is loaded at once. ``line`` is the 1-based index of the object
  in the array (not a text line); a problem with the document as a whole has line 0. Detections
  in JSON are read from streams only (the API), a file of them must be ``.csv`` or ``.jsonl``.
- CSV (``.csv``): detections only, through the bulk reader
  :func:`truceline.io.detections.read_detections` (columns with NumPy).

An object may carry ``"record_type"``: it must name the file's kind and is removed before the
record is parsed (records themselves refuse unknown fields).

Problems
--------
``str(problem)`` reads ``FILE:LINE: record 'ID': FIELD: 'VALUE' — REASON`` (without the record
part when the line gave no id), e.g.
``obs/sightings.jsonl:7: record 'sgt-9': position.lat_deg: '91' — must be <= 90.0``. A record with
several bad fields gives one problem per field. Duplicate ids: the first good record is kept; a
later one with the same id is a problem (``id``: "duplicate id, first on line N") unless it is the
same record (equal after parsing, so ``Z`` and ``+00:00`` are the same time), which is a repeat.

Layout: kinds and their inference in :mod:`truceline.io.kinds`, the problem record in
:mod:`truceline.io.problems`, the formats and their readers in :mod:`truceline.io.formats`
(JSON Lines in :mod:`truceline.io.jsonl`, JSON documents in :mod:`truceline.io.jsondoc`, bulk
detections in :mod:`truceline.io.detections`); this module reads whole files or streams into
batches (:mod:`truceline.io.batches`; it re-exports the names above for its callers).
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from truceline.core import InputLimits
from truceline.core.errors import InvalidInput
from truceline.io.batches import DetectionBatch, RecordBatch, RecordCollector, empty_table
from truceline.io.detections import FILE_SUFFIXES, DetectionFileError, read_detections
from truceline.io.formats import (
    Format,
    UnknownFormat,
    format_for_path,
    format_named,
    observation_formats,
    observation_suffixes,
)
from truceline.io.jsondoc import Unreadable, document_items
from truceline.io.jsonl import iter_json_lines
from truceline.io.kinds import (
    DISTINCTIVE_FIELDS,
    FILE_STEMS,
    RECORD_CLASSES,
    RecordKind,
    _kind_from_name,
    kind_for,
    parse_kind,
)
from truceline.io.problems import (
    ENCODING_FIELD,
    FILE_FIELD,
    JSON_FIELD,
    RECORD_FIELD,
    RecordProblem,
)
from truceline.io.streams import Source, path_of, source_name

__all__ = [
    "DISTINCTIVE_FIELDS",
    "ENCODING_FIELD",
    "FILE_FIELD",
    "FILE_STEMS",
    "JSON_FIELD",
    "RECORD_CLASSES",
    "RECORD_FIELD",
    "DetectionBatch",
    "RecordBatch",
    "RecordKind",
    "RecordProblem",
    "iter_json_lines",
    "kind_for",
    "parse_kind",
    "read_any",
    "read_csv_detections",
    "read_detection_file",
    "read_json_detections",
    "read_jsonl_detections",
    "read_records",
]


def _check_file(p: Path) -> None:
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    if p.is_dir():
        raise ValueError(f"{p}: is a directory, not a record file")


def _suffix(p: Path) -> str:
    return p.suffix.lower()


def _unsupported(p: Path, allowed: tuple[str, ...]) -> ValueError:
    return ValueError(f"{p}: unsupported file type {p.suffix or '(none)'!r}; expected {', '.join(allowed)}")


def _stream_format(format: str | Format | None, name: str) -> Format:
    """The observation format of a stream: the one given, else the one its name tells."""
    fmt = format_named(format) if format is not None else format_for_path(name, observation_formats())
    if fmt is None or not fmt.observations:
        known = ", ".join(f.name for f in observation_formats())
        told = f"format {fmt.name!r} holds no observations" if fmt else "cannot tell its format"
        raise UnknownFormat(f"{name}: {told}; give the format, one of: {known}")
    return fmt


def _records_format(p: Path, format: str | Format | None) -> Format:
    """The format of a file of records (JSON Lines, JSON), or the reason it has none."""
    fmt = format_named(format) if format is not None else format_for_path(p, observation_formats())
    if fmt is not None and fmt.items is None and fmt.detections is not None:
        raise ValueError(f"{p}: {fmt.title} holds detections only; read it with read_detection_file or read_any")
    if fmt is None or fmt.items is None:
        raise _unsupported(p, tuple(s for f in observation_formats() if f.items is not None for s in f.suffixes))
    return fmt


def _resolve_kind(p: Path, kind: str | RecordKind | None, fmt: Format) -> RecordKind:
    if kind is not None:
        return parse_kind(kind)
    named = _kind_from_name(p)
    return named if named is not None else kind_for(p, fmt.read_first_object(p))


def read_records(
    path: Source,
    kind: str | RecordKind | None = None,
    *,
    format: str | Format | None = None,
    name: str | None = None,
    limits: InputLimits | None = None,
) -> RecordBatch:
    """Read a JSON Lines or JSON file (or stream) of codebook records, keeping every good one.

    Parameters
    ----------
    path : str, PathLike or stream
        A ``.jsonl`` / ``.ndjson`` file (streamed line by line) or a ``.json`` document (an array
        of objects, or ``{"records": [...]}``; ``line`` is then the 1-based object index); or an
        open binary or text stream of either.
    kind : str or RecordKind, optional
        What the file holds (any alias of :func:`parse_kind`); inferred by :func:`kind_for` when
        not given (a stream's from its ``name`` only). Detections are accepted too (one pydantic
        record each); for bulk detections use :func:`read_detection_file`.
    format : str or Format, optional
        ``"jsonl"`` or ``"json"`` (:mod:`truceline.io.formats`): for a stream whose ``name`` does
        not tell; a file's suffix tells.
    name : str, optional
        What the batch and its problems call the file (default: the path, or the stream's name).
    limits : InputLimits, optional
        The bounds of untrusted input every record is checked within (an ingest gives the
        mission's; default :meth:`InputLimits.structural`, no time window).

    Returns
    -------
    RecordBatch
        The good records with their lines, the problems (``<encoding>``, ``<json>``,
        ``<record>``, a field path from the record's validation, ``record_type`` not this kind,
        ``id`` for a duplicate id: "duplicate id, first on line N"), and ``repeats`` (exact
        repeats of a record, kept once). The first of two differing records with one id is kept.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is a directory, a CSV or another unsupported type, or the kind is unknown.
    """
    p = path_of(path)
    if p is None:
        where = source_name(path, name)
        fmt = _stream_format(format, where)
        if fmt.items is None:
            raise InvalidInput(f"{where}: {fmt.title} holds detections only; read it with read_detection_file")
        resolved = parse_kind(kind) if kind is not None else kind_for(where)
    else:
        _check_file(p)
        where = name if name is not None else str(p)
        fmt = _records_format(p, format)
        resolved = _resolve_kind(p, kind, fmt)
    collector = RecordCollector(where, resolved, limits)
    for line, item in fmt.read_items(path, where, limits):
        if isinstance(item, RecordProblem):
            collector.problem(item)
        else:
            collector.add(line, item)
    return collector.batch


def _bracketed(problem: RecordProblem) -> RecordProblem:
    """The bulk reader's pseudo-fields in the form of every other reader: ``(row)`` -> ``<row>``."""
    name = problem.field
    if name.startswith("(") and name.endswith(")"):
        return replace(problem, field=f"<{name[1:-1]}>")
    return problem


def read_detection_file(
    path: Source, *, format: str | Format | None = None, name: str | None = None, limits: InputLimits | None = None
) -> DetectionBatch:
    """Read ``detections.csv`` or ``detections.jsonl`` (or a stream of either) in bulk, keeping every good row.

    A thin wrapper of :func:`truceline.io.detections.read_detections` with ``on_error="collect"``:
    its problems are given with the pseudo-fields of every reader (``<row>``, ``<header>``...;
    ``record_id`` the detection id where the line gave one). A file whose header is unusable
    (empty, required columns missing) gives an empty table and one problem on line 1 (``<header>``).

    Parameters
    ----------
    path : str, PathLike or stream
        The file (``.csv`` or ``.jsonl``, lower case), or an open stream.
    format : str or Format, optional
        ``"csv"`` or ``"jsonl"``: what a stream holds (a file's suffix tells).
    name : str, optional
        What the batch and its problems call the file (default: the path, or the stream's name).
    limits : InputLimits, optional
        The bounds every row is checked within (see :func:`read_records`).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is a directory or neither ``.csv`` nor ``.jsonl``.
    """
    p = path_of(path)
    encoding: Literal["csv", "jsonl"] | None = None
    if p is None:
        where = source_name(path, name)
        told = _stream_format(format, where).name
        if told not in ("csv", "jsonl"):
            raise InvalidInput(f"{where}: detections are read in bulk from CSV or JSON Lines, not {told}")
        encoding = "csv" if told == "csv" else "jsonl"
    else:
        _check_file(p)
        if _suffix(p) not in FILE_SUFFIXES or p.suffix != p.suffix.lower():
            raise _unsupported(p, FILE_SUFFIXES)
        where = name if name is not None else str(p)
    try:
        table = read_detections(
            path if p is None else p, on_error="collect", encoding=encoding, name=where, limits=limits
        )
    except DetectionFileError as exc:
        return DetectionBatch(where, empty_table(), [_bracketed(q) for q in exc.problems])
    problems = [_bracketed(q) for q in table.problems]
    problems.sort(key=lambda q: q.line)
    return DetectionBatch(where, table, problems)


def read_csv_detections(source: Source, name: str, limits: InputLimits | None = None) -> DetectionBatch:
    """Detections in CSV, in bulk (the ``csv`` format's detections reader)."""
    return read_detection_file(source, format="csv", name=name, limits=limits)


def read_jsonl_detections(source: Source, name: str, limits: InputLimits | None = None) -> DetectionBatch:
    """Detections in JSON Lines, in bulk (the ``jsonl`` format's detections reader)."""
    return read_detection_file(source, format="jsonl", name=name, limits=limits)


def _line_of(item: Any) -> str:
    """One item of a JSON document as one JSON line (an item too deep to decode, as its own text)."""
    if isinstance(item, Unreadable):
        return item.text
    try:
        return json.dumps(item)  # ASCII: a lone surrogate stays an escape, for the limits to name
    except (ValueError, RecursionError):
        return "[]"


def read_json_detections(source: Source, name: str, limits: InputLimits | None = None) -> DetectionBatch:
    """Detections in a JSON document (an array, or ``{"records": [...]}``), in bulk.

    Each object is read as the line of its 1-based index in the array (what ``line`` means for
    JSON); a document that is not JSON or holds no array is one problem on line 0.
    """
    items, problem = document_items(source, name)
    if problem is not None:
        return DetectionBatch(name, empty_table(), [problem])
    lines = "".join(_line_of(o) + "\n" for o in items).encode("utf-8", "surrogatepass")  # an Unreadable's text
    return read_detection_file(io.BytesIO(lines), format="jsonl", name=name, limits=limits)


def read_any(
    path: Source,
    kind: str | RecordKind | None = None,
    *,
    format: str | Format | None = None,
    name: str | None = None,
    limits: InputLimits | None = None,
) -> RecordBatch | DetectionBatch:
    """Read any observation file or stream: detections in bulk, the rest as records.

    Parameters
    ----------
    path : str, PathLike or stream
        An observation file (see the module docs for names and encodings), or an open binary or
        text stream (an API request body).
    kind : str or RecordKind, optional
        What it holds; inferred by :func:`kind_for` when not given (a CSV from its header; a
        stream from its ``name`` only).
    format : str or Format, optional
        The observation format of a stream (``"jsonl"``, ``"json"``, ``"csv"``; see
        :mod:`truceline.io.formats`) when its ``name`` does not tell; a file's suffix tells.
    name : str, optional
        What the batch and its problems call the file (default: the path, or the stream's name).
    limits : InputLimits, optional
        The bounds every record is checked within (see :func:`read_records`).

    Returns
    -------
    DetectionBatch or RecordBatch
        A :class:`DetectionBatch` for detections, else a :class:`RecordBatch`.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is a directory or of an unsupported type, or its kind cannot be told, or its
        format does not hold its kind; detections files are read from ``.csv`` or ``.jsonl`` only.
    """
    p = path_of(path)
    if p is None:
        where = source_name(path, name)
        fmt = _stream_format(format, where)
        resolved = parse_kind(kind) if kind is not None else kind_for(where)
        refusal = fmt.refusal(resolved)
        if refusal is not None:
            raise InvalidInput(f"{where}: {refusal}")
        if resolved is RecordKind.DETECTION:
            batch: RecordBatch | DetectionBatch = fmt.read_detections(path, where, limits)
            return batch
        return read_records(path, resolved, format=fmt, name=where, limits=limits)
    _check_file(p)
    found = format_for_path(p, observation_formats())
    if found is None:
        raise _unsupported(p, observation_suffixes())
    fmt = found
    resolved = _resolve_kind(p, kind, fmt)
    if resolved is RecordKind.DETECTION:
        if _suffix(p) not in FILE_SUFFIXES:
            raise ValueError(f"{p}: detections are read from {' or '.join(FILE_SUFFIXES)}, not {p.suffix!r}")
        return read_detection_file(p, name=name, limits=limits)
    refusal = fmt.refusal(resolved)
    if refusal is not None:
        raise ValueError(f"{p}: {refusal}")
    return read_records(p, resolved, format=fmt, name=name, limits=limits)
