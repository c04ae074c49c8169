"""Detections in bulk: ``detections.csv`` (or ``.jsonl``) read into columns, strictly.

A day on the line holds ~1,000,000 detections, too many for one pydantic record each, so this
reader converts columns with NumPy and checks them the way :class:`truceline.core.Detection`
does: every problem (a :class:`~truceline.io.problems.RecordProblem`) names the file, the line
and the field. ``on_error="raise"`` (the default) stops at the first bad line; ``"collect"``
keeps every good row and returns the problems (a row with the wrong number of cells, bytes that
are not UTF-8 or a JSON line that is not a valid ``Detection`` included; only a missing or
unusable header stops the file). A UTF-8 byte order mark at the start of the file is accepted.
The source is a path or an open stream (:mod:`truceline.io.streams`).

This reader's messages (``FILE:LINE: FIELD: 'VALUE' — REASON``, :class:`DetectionFileError`) name
its own pseudo-fields in parentheses: ``(row)``, ``(header)``, ``(encoding)`` for CSV, ``(record)``
for a JSON line that is not a valid ``Detection`` as a whole;
:func:`truceline.io.records.read_detection_file` gives them as every other reader does
(``<row>``...).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from truceline.core import Detection, InputLimits, RecordError, is_valid_id, parse_record, parse_utc, text_reason
from truceline.io.jsonl import iter_json_lines
from truceline.io.problems import RecordProblem, printable, value_text
from truceline.io.streams import Source, path_of, source_name, text_lines

__all__ = ["FILE_SUFFIXES", "DetectionFileError", "DetectionTable", "read_detections"]

FILE_SUFFIXES: Final = (".csv", ".jsonl")
"""The file names this reader tells apart: a ``.jsonl`` file is JSON Lines, a ``.csv`` file CSV."""

FloatArray = NDArray[np.float64]
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND: Final = dt.timedelta(microseconds=1)
REQUIRED = ("id", "sensor_id", "arrival_time")
NUMERIC = (
    "time_sigma_s",
    "bearing_deg",
    "bearing_sigma_deg",
    "amplitude_pa",
    "class_scores.launch",
    "class_scores.impact",
)


class DetectionFileError(ValueError):
    """A detections file has a bad line (the first one found is in the message, without its record id)."""

    def __init__(self, problems: list[RecordProblem]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{problems[0].without_record()}{more}")


@dataclass
class DetectionTable:
    """Detections as columns (one row per detection, in file order).

    ``t_us`` is the arrival time in microseconds since 1970-01-01 UTC; absent optional values are
    NaN. ``line`` is the source line of each row (for messages).
    """

    ids: NDArray[np.str_]
    sensor_ids: NDArray[np.str_]
    t_us: NDArray[np.int64]
    time_sigma_s: FloatArray
    bearing_deg: FloatArray
    bearing_sigma_deg: FloatArray
    amplitude_pa: FloatArray
    launch_score: FloatArray
    impact_score: FloatArray
    line: NDArray[np.int64]
    problems: list[RecordProblem] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.t_us.size)

    def take(self, index: NDArray[np.int64] | NDArray[np.bool_]) -> DetectionTable:
        """The rows selected by an index or mask (problems are kept)."""
        cols = {k: getattr(self, k)[index] for k in COLUMNS}
        return DetectionTable(**cols, problems=list(self.problems))


#: The columns of a DetectionTable, in order (``line`` last).
COLUMNS = (
    "ids",
    "sensor_ids",
    "t_us",
    "time_sigma_s",
    "bearing_deg",
    "bearing_sigma_deg",
    "amplitude_pa",
    "launch_score",
    "impact_score",
    "line",
)


def read_detections(
    path: Source,
    on_error: Literal["raise", "collect"] = "raise",
    *,
    encoding: Literal["csv", "jsonl"] | None = None,
    name: str | None = None,
    limits: InputLimits | None = None,
) -> DetectionTable:
    """Read ``.csv`` (columns of docs/formats.md) or ``.jsonl`` (``Detection`` records).

    Parameters
    ----------
    path : str, PathLike or stream
        The file (JSON Lines if its name ends in ``.jsonl``, else CSV), or an open stream.
    on_error : {"raise", "collect"}
        Stop at the first bad line, or keep every good row and list the problems in
        ``table.problems``.
    encoding : {"csv", "jsonl"}, optional
        What the source holds (required for a stream; default for a path: by its name).
    name : str, optional
        What problems call the file (default: the path, or the stream's name).
    limits : InputLimits, optional
        The bounds of untrusted input (:mod:`truceline.core.limits`): an ingest gives the
        mission's (times within its window); default :meth:`InputLimits.structural` (ids, finite
        numbers, times a datetime can hold, line and cell lengths, no time window). A CSV row is
        refused for exactly what :func:`truceline.core.parse_record` refuses in a ``Detection``.

    Raises
    ------
    FileNotFoundError
        If the path does not exist.
    DetectionFileError
        At the first bad line (``on_error="raise"``), or for a missing or unusable CSV header
        (empty, a required column missing, a column unknown or given twice).
    """
    p = path_of(path)
    if p is not None and not p.exists():
        raise FileNotFoundError(f"{p}: no such detections file")
    if encoding is None:
        if p is None:
            raise ValueError("read_detections: a stream needs its encoding ('csv' or 'jsonl')")
        encoding = "jsonl" if p.suffix == ".jsonl" else "csv"
    where = source_name(path if p is None else p, name)
    problems: list[RecordProblem] = []
    collect = on_error == "collect"
    lim = limits if limits is not None else InputLimits.structural()
    rows_of = _jsonl_rows if encoding == "jsonl" else _csv_rows
    lines, raw = rows_of(path, where, problems, collect, lim)
    table = _convert(where, lines, raw, problems, lim)
    if problems and on_error == "raise":
        raise DetectionFileError(problems)
    table.problems = problems
    seen: dict[str, int] = {}
    dup = np.zeros(len(table), dtype=bool)
    for i, rid in enumerate(table.ids.tolist()):
        if rid in seen:
            dup[i] = True
            reason = f"duplicate id (first on line {seen[rid]})"
            problems.append(RecordProblem(where, int(table.line[i]), rid, "id", rid, reason))
        else:
            seen[rid] = int(table.line[i])
    if dup.any():
        if on_error == "raise":
            raise DetectionFileError(problems)
        table = table.take(~dup)
    table.problems = problems
    return table


def _utf8_lines(where: str, fh: Iterable[str], problems: list[RecordProblem], collect: bool) -> Iterator[str]:
    """Pass the lines of a file opened with ``errors="surrogateescape"``; a line with bytes that are
    not UTF-8 becomes a problem (raised unless ``collect``) and an empty line for the CSV reader."""
    for lineno, line in enumerate(fh, start=1):
        if not line.isascii():
            try:
                line.encode("utf-8")
            except UnicodeEncodeError as exc:
                raw = line.rstrip("\r\n").encode("utf-8", "surrogateescape")
                bad = line[exc.start].encode("utf-8", "surrogateescape")
                problem = RecordProblem(
                    where,
                    lineno,
                    None,
                    "(encoding)",
                    raw.decode("utf-8", "backslashreplace")[:120],
                    f"not valid UTF-8: byte 0x{bad[0]:02X}",
                )
                if not collect:
                    raise DetectionFileError([problem]) from None
                problems.append(problem)
                yield "\n"
                continue
        yield line


def _split(line: str) -> list[str]:
    """One physical line as CSV cells (a quote left open is an error, never the next lines).

    Raises
    ------
    csv.Error
        For a quote left open, a NUL, a cell beyond the ``csv`` module's size limit.
    """
    return next(csv.reader([line], strict=True), [])


def _header(where: str, line: str | None) -> list[str]:
    """The header's columns, or :class:`DetectionFileError` for one that is unusable."""
    def bad(value: str, reason: str) -> DetectionFileError:
        return DetectionFileError([RecordProblem(where, 1, None, "(header)", value[:120], reason)])

    if line is None or not line.strip():
        raise bad("", "empty file")
    try:
        header = _split(line)
    except csv.Error as exc:
        raise bad(line, f"not valid CSV: {exc}") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise bad(",".join(header), f"missing column(s) {missing}")
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise bad(",".join(header), f"column(s) given twice {twice}")
    unknown = [c for c in header if c not in REQUIRED and c not in NUMERIC]
    if unknown:
        raise bad(",".join(header), f"unknown column(s) {unknown}; the columns are {[*REQUIRED, *NUMERIC]}")
    return header


def _row_problem(where: str, lineno: int, line: str, width: int, limits: InputLimits) -> tuple[list[str], str | None]:
    """The cells of one data line, or why the line is refused as a whole."""
    text = line.rstrip("\r\n")
    if len(text) > limits.max_line_chars:
        return [], f"line longer than {limits.max_line_chars} characters ({len(text)})"
    try:
        row = _split(text)
    except csv.Error as exc:
        return [], f"not valid CSV: {exc} (a quote left open costs this line only)"
    if len(row) != width:
        return row, f"{len(row)} cells, header has {width}"
    return row, None


def _cell_problem(
    where: str, lineno: int, header: list[str], row: list[str], limits: InputLimits
) -> RecordProblem | None:
    """The first cell the codebook would refuse as text (a NUL, a control or bidi character, a byte
    order mark; too long), checked before any conversion can strip it."""
    for column, value in zip(header, row, strict=True):
        why = text_reason(value, limits.max_cell_chars)
        if why is not None:
            rid = row[0] if header[0] == "id" and is_valid_id(row[0]) else None
            return RecordProblem(where, lineno, rid, column, printable(value)[:120], why)
    return None


def _csv_rows(
    source: Source, where: str, problems: list[RecordProblem], collect: bool, limits: InputLimits
) -> tuple[list[int], dict[str, list[str]]]:
    """CSV read one physical line at a time: a bad line (an open quote, the wrong width, too long)
    is one problem of that line, and every other line is read."""
    with text_lines(source, encoding="utf-8-sig", errors="surrogateescape") as fh:
        lines_in = _utf8_lines(where, fh, problems, collect)
        header = _header(where, next(lines_in, None))
        cols: dict[str, list[str]] = {c: [] for c in header}
        lines: list[int] = []
        width = len(header)
        for lineno, line in enumerate(lines_in, start=2):
            if not line.strip("\r\n"):
                continue
            row, reason = _row_problem(where, lineno, line, width, limits)
            if reason is None:
                bad_cell = _cell_problem(where, lineno, header, row, limits)
                if bad_cell is not None:
                    if not collect:
                        raise DetectionFileError([bad_cell])
                    problems.append(bad_cell)
                    continue
            if reason is not None:
                rid = row[0] if row and header[0] == "id" and is_valid_id(row[0]) else None
                shown = printable(line.rstrip("\r\n"))[:120]
                problem = RecordProblem(where, lineno, rid, "(row)", shown, reason)
                if not collect:
                    raise DetectionFileError([problem])
                problems.append(problem)
                continue
            lines.append(lineno)
            for c, v in zip(header, row, strict=True):
                cols[c].append(v)
    return lines, cols


def _jsonl_rows(
    source: Source, where: str, problems: list[RecordProblem], collect: bool, limits: InputLimits
) -> tuple[list[int], dict[str, list[str]]]:
    """JSON Lines through the codebook record (full validation, the limits), then flattened to strings."""
    lines: list[int] = []
    cols: dict[str, list[str]] = {c: [] for c in (*REQUIRED, *NUMERIC)}
    for lineno, obj in iter_json_lines(source, where, limits):
        if isinstance(obj, RecordProblem):
            if not collect:
                raise DetectionFileError([obj])
            problems.append(obj)
            continue
        problem: RecordProblem | None
        try:
            d = parse_record(Detection, obj, limits=limits)
        except RecordError as exc:
            field_name = exc.field or "(record)"
            problem = RecordProblem(where, lineno, exc.record_id, field_name, value_text(exc.value), exc.reason)
        except Exception as exc:  # one record's failure is that record's problem, whatever it is
            problem = RecordProblem(where, lineno, None, "(record)", "", f"could not be read ({type(exc).__name__})")
        else:
            problem = None
        if problem is not None:
            if not collect:
                raise DetectionFileError([problem]) from None
            problems.append(problem)
            continue
        lines.append(lineno)
        cols["id"].append(d.id)
        cols["sensor_id"].append(d.sensor_id)
        cols["arrival_time"].append(d.arrival_time.isoformat())
        cols["time_sigma_s"].append(repr(d.time_sigma_s))
        cols["bearing_deg"].append("" if d.bearing_deg is None else repr(d.bearing_deg))
        cols["bearing_sigma_deg"].append("" if d.bearing_sigma_deg is None else repr(d.bearing_sigma_deg))
        cols["amplitude_pa"].append("" if d.amplitude_pa is None else repr(d.amplitude_pa))
        for label in ("launch", "impact"):
            score = d.class_scores.get(label)
            cols[f"class_scores.{label}"].append("" if score is None else repr(score))
    return lines, cols


_NUMBER: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
"""A number in a cell: decimal digits, an optional exponent (no ``nan``, ``inf``, ``1_000``)."""


def _floats(
    path: str, name: str, values: list[str] | None, lines: NDArray[np.int64], problems: list[RecordProblem]
) -> FloatArray:
    """A numeric column: an empty cell is absent (NaN); anything else must be a finite number."""
    n = lines.size
    out = np.full(n, np.nan)
    if values is None:
        return out
    for i, v in enumerate(values):
        text = v.strip()
        if not text:
            continue
        if _NUMBER.fullmatch(text) is None:
            finite = text.lower().lstrip("+-") not in ("nan", "inf", "infinity")
            problems.append(RecordProblem(path, int(lines[i]), None, name, v, "not a number" if finite
                                          else "must be a finite number"))  # fmt: skip
            continue
        x = float(text)
        if not math.isfinite(x):
            problems.append(RecordProblem(path, int(lines[i]), None, name, v, "not a finite number"))
            continue
        out[i] = x
    return out


def _times(
    path: str, values: list[str], lines: NDArray[np.int64], problems: list[RecordProblem], limits: InputLimits
) -> NDArray[np.int64]:
    """ISO 8601 with an offset -> µs since the epoch, by the codebook's own parser
    (:func:`truceline.core.parse_utc`) and the limits' time window: what a ``Detection`` refuses."""
    out = np.zeros(len(values), dtype=np.int64)
    latest = limits.latest()
    for i, v in enumerate(values):
        try:
            t = parse_utc(v)
        except ValueError as exc:
            problems.append(RecordProblem(path, int(lines[i]), None, "arrival_time", v, str(exc)))
            continue
        why = limits.time_reason(t, latest)
        if why is not None:
            problems.append(RecordProblem(path, int(lines[i]), None, "arrival_time", v, why))
            continue
        out[i] = (t - EPOCH) // _MICROSECOND
    return out


def _ids(path: str, name: str, arr: NDArray[np.str_], lines: NDArray[np.int64], problems: list[RecordProblem],
         limits: InputLimits) -> None:  # fmt: skip
    """Refuse an id column's cells that the codebook refuses (:data:`truceline.core.ID_PATTERN`)."""
    for i, v in enumerate(arr.tolist()):
        if not v.strip():
            problems.append(RecordProblem(path, int(lines[i]), None, name, v, "required, empty"))
        elif (why := limits.id_reason(v)) is not None:
            problems.append(RecordProblem(path, int(lines[i]), None, name, v, why))


def _name_records(problems: list[RecordProblem], lines: NDArray[np.int64], ids: NDArray[np.str_]) -> None:
    """Fill in the detection id of problems found on converted rows (``lines`` ascending)."""
    for k, prob in enumerate(problems):
        if prob.record_id is not None or not lines.size:
            continue
        i = int(np.searchsorted(lines, prob.line))
        if i < lines.size and lines[i] == prob.line and ids[i].strip():
            problems[k] = replace(prob, record_id=str(ids[i]))


def _convert(
    path: str, lines_list: list[int], raw: dict[str, list[str]], problems: list[RecordProblem], limits: InputLimits
) -> DetectionTable:
    lines = np.asarray(lines_list, dtype=np.int64)
    ids = np.array(raw["id"], dtype=object).astype(str) if lines.size else np.zeros(0, dtype=str)
    sensors = np.array(raw["sensor_id"], dtype=object).astype(str) if lines.size else np.zeros(0, dtype=str)
    _ids(path, "id", ids, lines, problems, limits)
    _ids(path, "sensor_id", sensors, lines, problems, limits)
    t_us = _times(path, raw["arrival_time"], lines, problems, limits)
    f = {name: _floats(path, name, raw.get(name), lines, problems) for name in NUMERIC}
    sigma = f["time_sigma_s"]
    sigma = np.where(np.isnan(sigma), 0.05, sigma)
    checks = (
        ("time_sigma_s", sigma < 0, "must be >= 0"),
        ("bearing_deg", (f["bearing_deg"] < 0) | (f["bearing_deg"] >= 360), "must be in [0, 360)"),
        ("bearing_sigma_deg", f["bearing_sigma_deg"] <= 0, "must be > 0"),
        (
            "bearing_sigma_deg",
            np.isnan(f["bearing_sigma_deg"]) & ~np.isnan(f["bearing_deg"]),
            "required with a bearing",
        ),
        (
            "bearing_sigma_deg",
            ~np.isnan(f["bearing_sigma_deg"]) & np.isnan(f["bearing_deg"]),
            "given without bearing_deg",
        ),
        ("amplitude_pa", f["amplitude_pa"] < 0, "must be >= 0"),
        ("class_scores.launch", (f["class_scores.launch"] < 0) | (f["class_scores.launch"] > 1), "must be in [0, 1]"),
        ("class_scores.impact", (f["class_scores.impact"] < 0) | (f["class_scores.impact"] > 1), "must be in [0, 1]"),
    )
    for name, bad, reason in checks:
        col = raw.get(name)
        for i in np.flatnonzero(bad):
            problems.append(RecordProblem(path, int(lines[i]), None, name, col[i] if col else "", reason))
    good = np.ones(lines.size, dtype=bool)
    bad_lines = {p.line for p in problems}
    if bad_lines:
        good = ~np.isin(lines, np.fromiter(bad_lines, dtype=np.int64))
    _name_records(problems, lines, ids)
    problems.sort(key=lambda p: p.line)
    return DetectionTable(
        ids[good],
        sensors[good],
        t_us[good],
        sigma[good],
        f["bearing_deg"][good],
        f["bearing_sigma_deg"][good],
        f["amplitude_pa"][good],
        f["class_scores.launch"][good],
        f["class_scores.impact"][good],
        lines[good],
    )
