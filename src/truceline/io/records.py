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
- JSON Lines (``.jsonl``, ``.ndjson``): one object per line, read line by line (a large file is
  never held as a list of lines). ``line`` is the physical line number, from 1; lines end at
  ``\\n``. A UTF-8 byte order mark at the start of the file is accepted.
- JSON (``.json``): an array of objects, or one object ``{"records": [...]}`` (optionally with a
  ``"record_type"``). The document is loaded at once. ``line`` is the 1-based index of the object
  in the array (not a text line); a problem with the document as a whole has line 0.
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
:mod:`truceline.io.problems`, the strict line reader in :mod:`truceline.io.jsonl`; this module
reads whole files into batches (and re-exports the names above for its callers).
"""

from __future__ import annotations

import codecs
import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from truceline.core import Record, RecordError, parse_record
from truceline.io.detections import DetectionFileError, DetectionTable, read_detections
from truceline.io.jsonl import _around, _decode, _json_reason, iter_json_lines
from truceline.io.kinds import (
    DETECTION_SUFFIXES,
    DISTINCTIVE_FIELDS,
    FILE_STEMS,
    JSON_SUFFIXES,
    JSONL_SUFFIXES,
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
    json_type,
    value_text,
)

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
    "read_detection_file",
    "read_records",
]


class _Outcome:
    """What both kinds of batch say about their problems."""

    problems: list[RecordProblem]

    @property
    def ok(self) -> bool:
        """True if no line was rejected."""
        return not self.problems

    @property
    def rejected_lines(self) -> list[int]:
        """The lines with at least one problem, ascending."""
        return sorted({p.line for p in self.problems})


@dataclass
class RecordBatch(_Outcome):
    """The outcome of reading one file of records: every good record, every problem.

    Attributes
    ----------
    path : str
        The file.
    kind : RecordKind
        What it holds.
    records : list of Record
        The good records, in file order (an exact repeat kept once).
    lines : list of int
        The line (or ``.json`` object index) of each record.
    problems : list of RecordProblem
        Every rejected line, in file order; a line with several bad fields has one problem each.
    repeats : int
        Lines that repeat an earlier record exactly (same id, equal record): not problems, not
        kept twice.
    """

    path: str
    kind: RecordKind
    records: list[Record] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    problems: list[RecordProblem] = field(default_factory=list)
    repeats: int = 0

    def __len__(self) -> int:
        return len(self.records)


@dataclass
class DetectionBatch(_Outcome):
    """The outcome of reading a detections file with the bulk reader.

    Attributes
    ----------
    path : str
        The file.
    table : DetectionTable
        The good detections as columns (``table.line``: the line of each row).
    problems : list of RecordProblem
        Every rejected line, in file order (``record_id``: the detection id where known).
    kind : RecordKind
        Always ``RecordKind.DETECTION``.
    repeats : int
        Always 0: the bulk reader reports every duplicate id as a problem, identical or not.
    """

    path: str
    table: DetectionTable
    problems: list[RecordProblem] = field(default_factory=list)
    kind: RecordKind = RecordKind.DETECTION
    repeats: int = 0

    def __len__(self) -> int:
        return len(self.table)

    @property
    def lines(self) -> NDArray[np.int64]:
        """The line of each detection in ``table``."""
        return self.table.line


class _Collector:
    """Turns ``(line, object)`` pairs into records and problems, checking ids for duplicates."""

    def __init__(self, path: str, kind: RecordKind) -> None:
        self.batch = RecordBatch(path, kind)
        self.cls = kind.record_class
        self.index: dict[str, int] = {}

    def problem(self, item: RecordProblem) -> None:
        self.batch.problems.append(item)

    def add(self, line: int, obj: dict[str, Any]) -> None:
        batch = self.batch
        rid = obj.get("id")
        rid = rid if isinstance(rid, str) else None
        if "record_type" in obj:
            obj = dict(obj)
            declared = obj.pop("record_type")
            try:
                same = isinstance(declared, str) and parse_kind(declared) is batch.kind
            except ValueError:
                same = False
            if not same:
                reason = f"expected {batch.kind.value!r}, the kind of this file"
                self.problem(RecordProblem(batch.path, line, rid, "record_type", value_text(declared), reason))
                return
        try:
            record = parse_record(self.cls, obj)
        except RecordError as exc:
            batch.problems.extend(RecordProblem.from_record_error(batch.path, line, exc))
            return
        first = self.index.get(record.id)
        if first is not None:
            if batch.records[first] == record:
                batch.repeats += 1
            else:
                reason = f"duplicate id, first on line {batch.lines[first]}"
                self.problem(RecordProblem(batch.path, line, record.id, "id", record.id, reason))
            return
        self.index[record.id] = len(batch.records)
        batch.records.append(record)
        batch.lines.append(line)


def _check_file(p: Path) -> None:
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    if p.is_dir():
        raise ValueError(f"{p}: is a directory, not a record file")


def _suffix(p: Path) -> str:
    return p.suffix.lower()


def _unsupported(p: Path, allowed: tuple[str, ...]) -> ValueError:
    return ValueError(f"{p}: unsupported file type {p.suffix or '(none)'!r}; expected {', '.join(allowed)}")


def _first_object(p: Path) -> dict[str, Any] | None:
    """The first object of a JSON Lines file, a JSON document or a CSV header (as keys)."""
    suffix = _suffix(p)
    if suffix in JSONL_SUFFIXES:
        for _, item in iter_json_lines(p):
            if isinstance(item, dict):
                return item
        return None
    if suffix == ".csv":
        with p.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
            header = next(csv.reader(fh), None)
        return dict.fromkeys(header, "") if header else None
    doc, _ = _load_json(p)
    if isinstance(doc, dict) and isinstance(doc.get("records"), list):
        head = {k: v for k, v in doc.items() if k == "record_type"}
        items = doc["records"]
        if head:
            return head
        return items[0] if items and isinstance(items[0], dict) else None
    if isinstance(doc, list) and doc and isinstance(doc[0], dict):
        return doc[0]
    return None


def _resolve_kind(p: Path, kind: str | RecordKind | None) -> RecordKind:
    if kind is not None:
        return parse_kind(kind)
    named = _kind_from_name(p)
    return named if named is not None else kind_for(p, _first_object(p))


def _load_json(p: Path) -> tuple[Any, RecordProblem | None]:
    raw = p.read_bytes()
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        reason = f"not valid UTF-8: byte 0x{raw[exc.start]:02X} on text line {line}"
        return None, RecordProblem(str(p), 0, None, ENCODING_FIELD, _around(raw, exc.start), reason)
    if not text.strip():
        return [], None
    try:
        return _decode(text), None
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            reason = f"not valid JSON: {exc.msg} (text line {exc.lineno}, column {exc.colno})"
            shown = text[max(0, exc.pos - 40) : exc.pos + 40]
        else:
            reason, shown = _json_reason(exc), ""
        return None, RecordProblem(str(p), 0, None, JSON_FIELD, value_text(shown), reason)


def _json_items(p: Path, collector: _Collector) -> None:
    doc, problem = _load_json(p)
    if problem is not None:
        collector.problem(problem)
        return
    if isinstance(doc, dict):
        items = doc.get("records")
        extra = sorted(set(doc) - {"records", "record_type"})
        if not isinstance(items, list):
            reason = "expected an array of objects, or an object with a 'records' array"
            collector.problem(RecordProblem(str(p), 0, None, "records", value_text(items), reason))
            return
        for key in extra:
            reason = "unknown key (a document holds 'records' and optionally 'record_type')"
            collector.problem(RecordProblem(str(p), 0, None, key, value_text(doc[key]), reason))
        if "record_type" in doc:
            items = [{"record_type": doc["record_type"], **o} if isinstance(o, dict) else o for o in items]
    elif isinstance(doc, list):
        items = doc
    else:
        reason = f"expected an array of objects, or an object with a 'records' array; got {json_type(doc)}"
        collector.problem(RecordProblem(str(p), 0, None, FILE_FIELD, value_text(doc), reason))
        return
    for index, obj in enumerate(items, start=1):
        if isinstance(obj, dict):
            collector.add(index, obj)
        else:
            reason = f"expected a JSON object, got {json_type(obj)}"
            collector.problem(RecordProblem(str(p), index, None, RECORD_FIELD, value_text(obj), reason))


def read_records(path: str | Path, kind: str | RecordKind | None = None) -> RecordBatch:
    """Read a JSON Lines or JSON file of codebook records, keeping every good one.

    Parameters
    ----------
    path : str or Path
        A ``.jsonl`` / ``.ndjson`` file (streamed line by line) or a ``.json`` document (an array
        of objects, or ``{"records": [...]}``; ``line`` is then the 1-based object index).
    kind : str or RecordKind, optional
        What the file holds (any alias of :func:`parse_kind`); inferred by :func:`kind_for` when
        not given. Detections are accepted too (one pydantic record each); for bulk detections use
        :func:`read_detection_file`.

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
    p = Path(path)
    _check_file(p)
    suffix = _suffix(p)
    if suffix == ".csv":
        raise ValueError(f"{p}: CSV holds detections only; read it with read_detection_file or read_any")
    if suffix not in (*JSONL_SUFFIXES, *JSON_SUFFIXES):
        raise _unsupported(p, (*JSONL_SUFFIXES, *JSON_SUFFIXES))
    collector = _Collector(str(p), _resolve_kind(p, kind))
    if suffix in JSON_SUFFIXES:
        _json_items(p, collector)
        return collector.batch
    for line, item in iter_json_lines(p):
        if isinstance(item, RecordProblem):
            collector.problem(item)
        else:
            collector.add(line, item)
    return collector.batch


def _empty_table() -> DetectionTable:
    no_float = np.zeros(0, dtype=np.float64)
    return DetectionTable(
        np.zeros(0, dtype=str),
        np.zeros(0, dtype=str),
        np.zeros(0, dtype=np.int64),
        no_float,
        no_float.copy(),
        no_float.copy(),
        no_float.copy(),
        no_float.copy(),
        no_float.copy(),
        np.zeros(0, dtype=np.int64),
    )


def read_detection_file(path: str | Path) -> DetectionBatch:
    """Read ``detections.csv`` or ``detections.jsonl`` with the bulk reader, keeping every good row.

    A thin wrapper of :func:`truceline.io.detections.read_detections` with ``on_error="collect"``:
    its problems become :class:`RecordProblem` (``record_id`` the detection id where the line gave
    one). A file whose header is unusable (empty, required columns missing) gives an empty table
    and one problem on line 1 (``<header>``).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is a directory or neither ``.csv`` nor ``.jsonl``.
    """
    p = Path(path)
    _check_file(p)
    if _suffix(p) not in DETECTION_SUFFIXES or p.suffix != p.suffix.lower():
        raise _unsupported(p, DETECTION_SUFFIXES)
    try:
        table = read_detections(p, on_error="collect")
    except DetectionFileError as exc:
        return DetectionBatch(str(p), _empty_table(), [RecordProblem.from_detection_problem(q) for q in exc.problems])
    problems = [RecordProblem.from_detection_problem(q) for q in table.problems]
    problems.sort(key=lambda q: q.line)
    return DetectionBatch(str(p), table, problems)


def read_any(path: str | Path, kind: str | RecordKind | None = None) -> RecordBatch | DetectionBatch:
    """Read any observation file: detections (``.csv``, ``.jsonl``) in bulk, the rest as records.

    Parameters
    ----------
    path : str or Path
        An observation file (see the module docs for names and encodings).
    kind : str or RecordKind, optional
        What it holds; inferred by :func:`kind_for` when not given (a CSV from its header).

    Returns
    -------
    DetectionBatch or RecordBatch
        A :class:`DetectionBatch` for detections, else a :class:`RecordBatch`.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is a directory or of an unsupported type, or its kind cannot be told; detections
        are read from ``.csv`` or ``.jsonl`` only.
    """
    p = Path(path)
    _check_file(p)
    suffix = _suffix(p)
    if suffix not in (*JSONL_SUFFIXES, *JSON_SUFFIXES, ".csv"):
        raise _unsupported(p, (*JSONL_SUFFIXES, *JSON_SUFFIXES, ".csv"))
    resolved = _resolve_kind(p, kind)
    if resolved is RecordKind.DETECTION:
        if suffix not in DETECTION_SUFFIXES:
            raise ValueError(f"{p}: detections are read from .csv or .jsonl, not {p.suffix!r}")
        return read_detection_file(p)
    if suffix == ".csv":
        raise ValueError(f"{p}: CSV holds detections only, not {resolved.value} records")
    return read_records(p, resolved)
