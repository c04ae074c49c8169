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
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from truceline.core import (
    MISSING,
    Claim,
    Detection,
    FreedomOfMovementRestriction,
    ObserverReport,
    Record,
    RecordError,
    Sensor,
    SensorStatusReport,
    Sighting,
    WeatherReport,
    parse_record,
)
from truceline.io.detections import DetectionFileError, DetectionProblem, DetectionTable, read_detections

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

JSON_FIELD: Final = "<json>"
"""Pseudo-field of a line that is not valid JSON."""
RECORD_FIELD: Final = "<record>"
"""Pseudo-field of a problem with a record as a whole (not an object, ...)."""
ENCODING_FIELD: Final = "<encoding>"
"""Pseudo-field of a line whose bytes are not UTF-8."""
FILE_FIELD: Final = "<file>"
"""Pseudo-field of a problem with a ``.json`` document as a whole (line 0)."""

JSONL_SUFFIXES: Final = (".jsonl", ".ndjson")
JSON_SUFFIXES: Final = (".json",)
DETECTION_SUFFIXES: Final = (".csv", ".jsonl")
_VALUE_LIMIT = 120


class RecordKind(StrEnum):
    """The kinds of observation file ``truceline ingest`` reads; values are the record-type names."""

    SENSOR = "sensor"
    SENSOR_STATUS = "sensor_status_report"
    DETECTION = "detection"
    WEATHER = "weather_report"
    OBSERVER_REPORT = "observer_report"
    SIGHTING = "sighting"
    FOM_RESTRICTION = "freedom_of_movement_restriction"
    CLAIM = "claim"

    @property
    def record_class(self) -> type[Record]:
        """The codebook record class of this kind."""
        return RECORD_CLASSES[self]

    @property
    def file_name(self) -> str:
        """The file name the simulator writes (docs/formats.md), e.g. ``"sightings.jsonl"``."""
        return FILE_STEMS[self] + (".csv" if self is RecordKind.DETECTION else ".jsonl")


RECORD_CLASSES: Final[Mapping[RecordKind, type[Record]]] = {
    RecordKind.SENSOR: Sensor,
    RecordKind.SENSOR_STATUS: SensorStatusReport,
    RecordKind.DETECTION: Detection,
    RecordKind.WEATHER: WeatherReport,
    RecordKind.OBSERVER_REPORT: ObserverReport,
    RecordKind.SIGHTING: Sighting,
    RecordKind.FOM_RESTRICTION: FreedomOfMovementRestriction,
    RecordKind.CLAIM: Claim,
}
"""Record class of each kind."""

FILE_STEMS: Final[Mapping[RecordKind, str]] = {
    RecordKind.SENSOR: "sensors",
    RecordKind.SENSOR_STATUS: "sensor_status",
    RecordKind.DETECTION: "detections",
    RecordKind.WEATHER: "weather",
    RecordKind.OBSERVER_REPORT: "observer_reports",
    RecordKind.SIGHTING: "sightings",
    RecordKind.FOM_RESTRICTION: "fom_restrictions",
    RecordKind.CLAIM: "claims",
}
"""File stem of each kind, as the simulator writes it."""


def _aliases() -> dict[str, RecordKind]:
    out: dict[str, RecordKind] = {}
    for kind in RecordKind:
        names = (kind.value, kind.value + "s", kind.name.lower(), FILE_STEMS[kind], RECORD_CLASSES[kind].__name__)
        for name in names:
            out.setdefault(name, kind)
            out.setdefault(name.lower(), kind)
    return out


_ALIASES: Final = _aliases()
# File-name matching: longest first, so that a longer name wins over a name it ends with.
_NAME_STEMS: Final = sorted(
    ((name, kind) for name, kind in _ALIASES.items() if name == name.lower()), key=lambda nk: -len(nk[0])
)
_ACCEPTED_NAMES: Final = (
    "sensors.jsonl, sensor_status.jsonl, detections.csv (or .jsonl), weather.jsonl, observer_reports.jsonl, "
    "sightings.jsonl, fom_restrictions.jsonl, claims.jsonl (a prefix such as '2026-09-02_' is allowed; "
    "JSON Lines may also end in .ndjson, JSON documents in .json)"
)


def parse_kind(name: str | RecordKind) -> RecordKind:
    """The :class:`RecordKind` named by ``name``.

    Parameters
    ----------
    name : str or RecordKind
        A kind value (``"sighting"``, ``"sensor_status_report"``), a short alias
        (``"sensor_status"``, ``"weather"``, ``"fom_restriction"``), a file stem
        (``"sightings"``, ``"fom_restrictions"``) or a class name (``"Sighting"``).

    Raises
    ------
    ValueError
        If ``name`` names no kind (the message lists the kinds).
    """
    if isinstance(name, RecordKind):
        return name
    kind = _ALIASES.get(name) if isinstance(name, str) else None
    if kind is None and isinstance(name, str):
        kind = _ALIASES.get(name.strip().lower())
    if kind is None:
        known = ", ".join(k.value for k in RecordKind)
        raise ValueError(f"unknown record kind {name!r}; expected one of: {known}")
    return kind


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class RecordProblem:
    """One rejected record (or line): where, which field, what was there and why.

    Attributes
    ----------
    path : str
        The file.
    line : int
        1-based line (JSON Lines, CSV) or object index (``.json``); 0 for a ``.json`` document as
        a whole.
    record_id : str or None
        The record's id where the line gave one.
    field : str
        Dotted field path (``"position.lat_deg"``, ``"count.low"``, ``"event_ids[2]"``), or a
        pseudo-field: ``<json>`` (not valid JSON), ``<record>`` (not an object, or the record as a
        whole), ``<encoding>`` (not UTF-8), ``<row>`` / ``<header>`` (CSV structure), ``<file>``.
    value : str
        The offending input as text: a string as it is, any other JSON value as compact JSON
        (``91``, ``null``, ``{"lon_deg":1}``), ``<missing>`` for an absent required field; at most
        120 characters.
    reason : str
        Why it was rejected, e.g. ``"time has no timezone"``.

    Examples
    --------
    >>> str(RecordProblem("sightings.jsonl", 7, "sgt-1", "time", "<missing>", "required field missing"))
    "sightings.jsonl:7: record 'sgt-1': time: '<missing>' — required field missing"
    """

    path: str
    line: int
    record_id: str | None
    field: str
    value: str
    reason: str

    def __str__(self) -> str:
        record = f" record {self.record_id!r}:" if self.record_id is not None else ""
        return f"{self.path}:{self.line}:{record} {self.field}: {self.value!r} — {self.reason}"

    @classmethod
    def from_detection_problem(cls, problem: DetectionProblem) -> RecordProblem:
        """The same problem from the bulk detections reader (pseudo-fields ``(row)`` become ``<row>``)."""
        name = problem.field
        if name.startswith("(") and name.endswith(")"):
            name = f"<{name[1:-1]}>"
        return cls(problem.path, problem.line, problem.record_id, name, problem.value, problem.reason)

    @classmethod
    def from_record_error(cls, path: str, line: int, exc: RecordError) -> list[RecordProblem]:
        """One problem per bad field of a :class:`~truceline.core.RecordError` (the first is ``exc.field``)."""
        return [
            cls(path, line, exc.record_id, name or RECORD_FIELD, _value_text(value), reason)
            for name, value, reason in exc.errors
        ]


def _value_text(value: Any) -> str:
    if value is MISSING:
        text = "<missing>"
    elif isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=True, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= _VALUE_LIMIT else text[: _VALUE_LIMIT - 3] + "..."


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


# --------------------------------------------------------------------------- JSON decoding


class _JsonProblem(ValueError):
    """Valid JSON syntax that strict reading refuses (duplicate keys, NaN, Infinity)."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _JsonProblem(f"duplicate key {key!r} in an object")
            seen.add(key)
    return obj


def _constant(name: str) -> Any:
    raise _JsonProblem(f"{name} is not a JSON number")


_DECODER: Final = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_constant)


def _decode(text: str) -> Any:
    """Strict ``json.loads``: no duplicate keys, no NaN/Infinity.

    Raises
    ------
    ValueError
        With the reason (``json.JSONDecodeError`` for bad syntax).
    """
    return _DECODER.decode(text)


def _json_reason(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON: {exc.msg} (column {exc.colno})"
    return f"not valid JSON: {exc}"


def _utf8_reason(raw: bytes, exc: UnicodeDecodeError) -> str:
    return f"not valid UTF-8: byte 0x{raw[exc.start]:02X} at column {exc.start + 1}"


def _around(raw: bytes, start: int) -> str:
    """The bytes around ``start`` as text (bad bytes as ``\\xNN``), marked ``...`` where cut."""
    lo, hi = max(0, start - 50), start + 50
    text = raw[lo:hi].decode("utf-8", "backslashreplace")
    return ("..." if lo else "") + text + ("..." if hi < len(raw) else "")


def _encoding_problem(path: str, line: int, raw: bytes, exc: UnicodeDecodeError) -> RecordProblem:
    """A line that is not UTF-8; its id is read from a lenient decoding where it has one."""
    record_id = None
    try:
        obj = json.loads(raw.decode("utf-8", "replace"))
    except ValueError:
        obj = None
    if isinstance(obj, dict) and isinstance(obj.get("id"), str) and "\ufffd" not in obj["id"]:
        record_id = obj["id"]
    return RecordProblem(path, line, record_id, ENCODING_FIELD, _around(raw, exc.start), _utf8_reason(raw, exc))


def iter_json_lines(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | RecordProblem]]:
    """Read JSON Lines one line at a time, strictly, without stopping at a bad line.

    Parameters
    ----------
    path : str or Path
        The file (not checked here: see :func:`read_records`).

    Yields
    ------
    line : int
        Physical line number, from 1 (blank lines are skipped but counted).
    item : dict or RecordProblem
        The line's JSON object, or the problem with the line: bytes that are not UTF-8
        (``<encoding>``), invalid JSON, duplicate keys, NaN/Infinity (``<json>``), a JSON value
        that is not an object (``<record>``). A UTF-8 byte order mark opening the file is dropped.
    """
    name = str(path)
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield lineno, _encoding_problem(name, lineno, raw.rstrip(b"\r\n"), exc)
                continue
            text = text.rstrip("\r\n")
            if not text.strip():
                continue
            if text.startswith("\ufeff"):
                reason = "a byte order mark (U+FEFF) is allowed only at the start of the file"
                yield lineno, RecordProblem(name, lineno, None, ENCODING_FIELD, _value_text(text[1:]), reason)
                continue
            try:
                obj = _decode(text)
            except ValueError as exc:
                yield lineno, RecordProblem(name, lineno, None, JSON_FIELD, _value_text(text), _json_reason(exc))
                continue
            if not isinstance(obj, dict):
                yield (
                    lineno,
                    RecordProblem(
                        name,
                        lineno,
                        None,
                        RECORD_FIELD,
                        _value_text(obj),
                        f"expected a JSON object, got {_json_type(obj)}",
                    ),
                )
                continue
            yield lineno, obj


# --------------------------------------------------------------------------- kinds


def _kind_from_name(path: Path) -> RecordKind | None:
    stem = path.name.lower()
    for suffix in (*JSONL_SUFFIXES, *JSON_SUFFIXES, ".csv"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    for name, kind in _NAME_STEMS:
        if stem == name or (stem.endswith(name) and stem[-len(name) - 1] in "_-. "):
            return kind
    return None


def _distinctive_fields() -> dict[RecordKind, frozenset[str]]:
    fields = {kind: frozenset(cls.model_fields) for kind, cls in RECORD_CLASSES.items()}
    out: dict[RecordKind, frozenset[str]] = {}
    for kind, own in fields.items():
        others: set[str] = set()
        for other, theirs in fields.items():
            if other is not kind:
                others |= theirs
        out[kind] = own - others
    return out


DISTINCTIVE_FIELDS: Final[Mapping[RecordKind, frozenset[str]]] = _distinctive_fields()
"""Fields that only one kind has (``arrival_time``: detection, ``platform``: sighting, ...)."""


def kind_for(path: str | Path, first_object: Mapping[str, Any] | None = None) -> RecordKind:
    """Infer the record kind of a file.

    In order: the file name (``sightings.jsonl``, also with a prefix: ``2026-09-02_sightings.jsonl``,
    ``day3-claims.json``); else the ``record_type`` key of ``first_object``; else the fields of
    ``first_object`` that only one kind has (``arrival_time`` -> detection, ``platform`` ->
    sighting, ``claimant`` -> claim...; a CSV header given as a mapping works too).

    Parameters
    ----------
    path : str or Path
        The file (only its name is used).
    first_object : mapping, optional
        The file's first object, when the name does not tell.

    Returns
    -------
    RecordKind

    Raises
    ------
    ValueError
        Naming the file and listing the accepted file names, when the kind cannot be told (or
        ``record_type`` names no kind).
    """
    p = Path(path)
    kind = _kind_from_name(p)
    if kind is not None:
        return kind
    if first_object is not None:
        declared = first_object.get("record_type")
        if declared is not None:
            try:
                return parse_kind(declared)
            except ValueError as exc:
                raise ValueError(f"{p}: record_type {declared!r}: {exc}") from None
        scores = {k: len(DISTINCTIVE_FIELDS[k] & set(first_object)) for k in RecordKind}
        best = max(scores.values())
        winners = [k for k, score in scores.items() if score == best]
        if best > 0 and len(winners) == 1:
            return winners[0]
    raise ValueError(
        f"{p}: cannot tell what records this file holds; name it one of {_ACCEPTED_NAMES}, "
        f"give its objects a 'record_type', or pass the kind (one of: {', '.join(k.value for k in RecordKind)})"
    )


# --------------------------------------------------------------------------- batches


@dataclass
class RecordBatch:
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

    @property
    def ok(self) -> bool:
        """True if no line was rejected."""
        return not self.problems

    @property
    def rejected_lines(self) -> list[int]:
        """The lines with at least one problem, ascending."""
        return sorted({p.line for p in self.problems})


@dataclass
class DetectionBatch:
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

    @property
    def ok(self) -> bool:
        """True if no line was rejected."""
        return not self.problems

    @property
    def rejected_lines(self) -> list[int]:
        """The lines with at least one problem, ascending."""
        return sorted({p.line for p in self.problems})


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
                self.problem(RecordProblem(batch.path, line, rid, "record_type", _value_text(declared), reason))
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
        return None, RecordProblem(str(p), 0, None, JSON_FIELD, _value_text(shown), reason)


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
            collector.problem(RecordProblem(str(p), 0, None, "records", _value_text(items), reason))
            return
        for key in extra:
            reason = "unknown key (a document holds 'records' and optionally 'record_type')"
            collector.problem(RecordProblem(str(p), 0, None, key, _value_text(doc[key]), reason))
        if "record_type" in doc:
            items = [{"record_type": doc["record_type"], **o} if isinstance(o, dict) else o for o in items]
    elif isinstance(doc, list):
        items = doc
    else:
        reason = f"expected an array of objects, or an object with a 'records' array; got {_json_type(doc)}"
        collector.problem(RecordProblem(str(p), 0, None, FILE_FIELD, _value_text(doc), reason))
        return
    for index, obj in enumerate(items, start=1):
        if isinstance(obj, dict):
            collector.add(index, obj)
        else:
            reason = f"expected a JSON object, got {_json_type(obj)}"
            collector.problem(RecordProblem(str(p), index, None, RECORD_FIELD, _value_text(obj), reason))


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
