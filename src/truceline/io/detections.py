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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from truceline.core import Detection, RecordError, parse_record
from truceline.io.jsonl import iter_json_lines
from truceline.io.problems import RecordProblem
from truceline.io.streams import Source, path_of, source_name, text_lines

__all__ = ["FILE_SUFFIXES", "DetectionFileError", "DetectionTable", "read_detections"]

FILE_SUFFIXES: Final = (".csv", ".jsonl")
"""The file names this reader tells apart: a ``.jsonl`` file is JSON Lines, a ``.csv`` file CSV."""

FloatArray = NDArray[np.float64]
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
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

    Raises
    ------
    FileNotFoundError
        If the path does not exist.
    DetectionFileError
        At the first bad line (``on_error="raise"``), or for a missing or unusable CSV header.
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
    rows_of = _jsonl_rows if encoding == "jsonl" else _csv_rows
    lines, raw = rows_of(path, where, problems, collect)
    table = _convert(where, lines, raw, problems)
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


def _csv_rows(
    source: Source, where: str, problems: list[RecordProblem], collect: bool
) -> tuple[list[int], dict[str, list[str]]]:
    with text_lines(source, encoding="utf-8-sig", errors="surrogateescape") as fh:
        lines_in = _utf8_lines(where, fh, problems, collect)
        reader = csv.reader(lines_in)
        try:
            header = next(reader)
        except StopIteration:
            raise DetectionFileError([RecordProblem(where, 1, None, "(header)", "", "empty file")]) from None
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise DetectionFileError(
                [RecordProblem(where, 1, None, "(header)", ",".join(header), f"missing column(s) {missing}")]
            )
        cols: dict[str, list[str]] = {c: [] for c in header}
        lines: list[int] = []
        width = len(header)
        id_col = header.index("id")
        for lineno, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != width:
                rid = row[id_col] if len(row) > id_col and row[id_col] else None
                reason = f"{len(row)} cells, header has {width}"
                problem = RecordProblem(where, lineno, rid, "(row)", ",".join(row), reason)
                if not collect:
                    raise DetectionFileError([problem])
                problems.append(problem)
                continue
            lines.append(lineno)
            for c, v in zip(header, row, strict=True):
                cols[c].append(v)
    return lines, cols


def _jsonl_rows(
    source: Source, where: str, problems: list[RecordProblem], collect: bool
) -> tuple[list[int], dict[str, list[str]]]:
    """JSON Lines through the codebook record (full validation), then flattened to strings."""
    lines: list[int] = []
    cols: dict[str, list[str]] = {c: [] for c in (*REQUIRED, *NUMERIC)}
    for lineno, obj in iter_json_lines(source, where):
        if isinstance(obj, RecordProblem):
            if not collect:
                raise DetectionFileError([obj])
            problems.append(obj)
            continue
        try:
            d = parse_record(Detection, obj)
        except RecordError as exc:
            problem = RecordProblem(where, lineno, exc.record_id, exc.field or "(record)", str(exc.value), exc.reason)
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
        cols["class_scores.launch"].append(repr(d.class_scores.get("launch", math.nan)))
        cols["class_scores.impact"].append(repr(d.class_scores.get("impact", math.nan)))
    return lines, cols


def _floats(
    path: str, name: str, values: list[str] | None, lines: NDArray[np.int64], problems: list[RecordProblem]
) -> FloatArray:
    n = lines.size
    if values is None:
        return np.full(n, np.nan)
    arr = np.array([v if v.strip() else "nan" for v in values], dtype=object)
    try:
        out = arr.astype(np.float64)
    except ValueError:
        out = np.full(n, np.nan)
        for i, v in enumerate(arr.tolist()):
            try:
                out[i] = float(v)
            except ValueError:
                problems.append(RecordProblem(path, int(lines[i]), None, name, v, "not a number"))
    bad = ~np.isfinite(out) & (arr != "nan")
    for k in np.flatnonzero(bad & ~np.isnan(out)):
        problems.append(RecordProblem(path, int(lines[k]), None, name, values[k], "not a finite number"))
    return out


def _times(
    path: str, values: list[str], lines: NDArray[np.int64], problems: list[RecordProblem]
) -> NDArray[np.int64]:
    """ISO 8601 with an offset -> µs since the epoch (fast path for UTC ``+00:00`` / ``Z``)."""
    arr = np.array(values)
    utc = np.char.endswith(arr, "+00:00") | np.char.endswith(arr, "Z")
    out = np.zeros(arr.size, dtype=np.int64)
    if utc.all():
        stripped = np.char.rstrip(np.char.replace(arr, "+00:00", ""), "Z")
        try:
            return stripped.astype("datetime64[us]").astype(np.int64)
        except ValueError:
            pass
    for i, v in enumerate(values):
        try:
            t = dt.datetime.fromisoformat(v)
        except ValueError:
            problems.append(RecordProblem(path, int(lines[i]), None, "arrival_time", v, "not an ISO 8601 time"))
            continue
        if t.tzinfo is None:
            problems.append(RecordProblem(path, int(lines[i]), None, "arrival_time", v, "time has no timezone"))
            continue
        out[i] = (t - EPOCH) // dt.timedelta(microseconds=1)
    return out


def _name_records(problems: list[RecordProblem], lines: NDArray[np.int64], ids: NDArray[np.str_]) -> None:
    """Fill in the detection id of problems found on converted rows (``lines`` ascending)."""
    for k, prob in enumerate(problems):
        if prob.record_id is not None or not lines.size:
            continue
        i = int(np.searchsorted(lines, prob.line))
        if i < lines.size and lines[i] == prob.line and ids[i].strip():
            problems[k] = replace(prob, record_id=str(ids[i]))


def _convert(
    path: str, lines_list: list[int], raw: dict[str, list[str]], problems: list[RecordProblem]
) -> DetectionTable:
    lines = np.asarray(lines_list, dtype=np.int64)
    ids = np.array(raw["id"], dtype=str) if lines.size else np.zeros(0, dtype=str)
    sensors = np.array(raw["sensor_id"], dtype=str) if lines.size else np.zeros(0, dtype=str)
    for name, arr in (("id", ids), ("sensor_id", sensors)):
        for i in np.flatnonzero(np.char.str_len(np.char.strip(arr)) == 0) if arr.size else []:
            problems.append(RecordProblem(path, int(lines[i]), None, name, "", "required, empty"))
    t_us = _times(path, raw["arrival_time"], lines, problems) if lines.size else np.zeros(0, dtype=np.int64)
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
