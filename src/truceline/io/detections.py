"""Detections in bulk: ``detections.csv`` (or ``.jsonl``) read into columns, strictly.

A day on the line holds ~1,000,000 detections, too many for one pydantic record each, so this
reader converts columns with NumPy and checks them the way :class:`truceline.core.Detection`
does: every problem names the file, the line and the field. ``on_error="raise"`` (the default)
stops at the first bad line; ``"collect"`` keeps every good row and returns the problems (a row
with the wrong number of cells, bytes that are not UTF-8 or a JSON line that is not a valid
``Detection`` included; only a missing or unusable header stops the file). A UTF-8 byte order
mark at the start of the file is accepted.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from truceline.core import Detection, RecordError, parse_record
from truceline.io.jsonl import iter_json_lines
from truceline.io.problems import RecordProblem

__all__ = ["DetectionFileError", "DetectionProblem", "DetectionTable", "read_detections"]

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


@dataclass(frozen=True)
class DetectionProblem:
    """One rejected line: where, which field, what was there and why.

    ``record_id`` is the detection's id where the line gave one (not part of the message).
    """

    path: str
    line: int
    field: str
    value: str
    reason: str
    record_id: str | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.value!r} — {self.reason}"


class DetectionFileError(ValueError):
    """A detections file has a bad line (the first one found is in the message)."""

    def __init__(self, problems: list[DetectionProblem]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{problems[0]}{more}")


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
    problems: list[DetectionProblem] = field(default_factory=list)

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


def read_detections(path: str | Path, on_error: Literal["raise", "collect"] = "raise") -> DetectionTable:
    """Read ``.csv`` (columns of docs/formats.md) or ``.jsonl`` (``Detection`` records)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such detections file")
    problems: list[DetectionProblem] = []
    collect = on_error == "collect"
    rows = _jsonl_rows(p, problems, collect) if p.suffix == ".jsonl" else _csv_rows(p, problems, collect)
    lines, raw = rows
    table = _convert(str(p), lines, raw, problems)
    if problems and on_error == "raise":
        raise DetectionFileError(problems)
    table.problems = problems
    seen: dict[str, int] = {}
    dup = np.zeros(len(table), dtype=bool)
    for i, rid in enumerate(table.ids.tolist()):
        if rid in seen:
            dup[i] = True
            problems.append(
                DetectionProblem(
                    str(p), int(table.line[i]), "id", rid, f"duplicate id (first on line {seen[rid]})", record_id=rid
                )
            )
        else:
            seen[rid] = int(table.line[i])
    if dup.any():
        if on_error == "raise":
            raise DetectionFileError(problems)
        table = table.take(~dup)
    table.problems = problems
    return table


def _utf8_lines(p: Path, fh: Iterable[str], problems: list[DetectionProblem], collect: bool) -> Iterator[str]:
    """Pass the lines of a file opened with ``errors="surrogateescape"``; a line with bytes that are
    not UTF-8 becomes a problem (raised unless ``collect``) and an empty line for the CSV reader."""
    for lineno, line in enumerate(fh, start=1):
        if not line.isascii():
            try:
                line.encode("utf-8")
            except UnicodeEncodeError as exc:
                raw = line.rstrip("\r\n").encode("utf-8", "surrogateescape")
                bad = line[exc.start].encode("utf-8", "surrogateescape")
                problem = DetectionProblem(
                    str(p),
                    lineno,
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


def _csv_rows(p: Path, problems: list[DetectionProblem], collect: bool) -> tuple[list[int], dict[str, list[str]]]:
    with p.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        lines_in = _utf8_lines(p, fh, problems, collect)
        reader = csv.reader(lines_in)
        try:
            header = next(reader)
        except StopIteration:
            raise DetectionFileError([DetectionProblem(str(p), 1, "(header)", "", "empty file")]) from None
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise DetectionFileError(
                [DetectionProblem(str(p), 1, "(header)", ",".join(header), f"missing column(s) {missing}")]
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
                problem = DetectionProblem(
                    str(p), lineno, "(row)", ",".join(row), f"{len(row)} cells, header has {width}", record_id=rid
                )
                if not collect:
                    raise DetectionFileError([problem])
                problems.append(problem)
                continue
            lines.append(lineno)
            for c, v in zip(header, row, strict=True):
                cols[c].append(v)
    return lines, cols


def _jsonl_rows(p: Path, problems: list[DetectionProblem], collect: bool) -> tuple[list[int], dict[str, list[str]]]:
    """JSON Lines through the codebook record (full validation), then flattened to strings."""
    lines: list[int] = []
    cols: dict[str, list[str]] = {c: [] for c in (*REQUIRED, *NUMERIC)}
    for lineno, obj in iter_json_lines(p):
        if isinstance(obj, RecordProblem):
            problem = DetectionProblem(str(p), lineno, obj.field, obj.value, obj.reason, record_id=obj.record_id)
            if not collect:
                raise DetectionFileError([problem])
            problems.append(problem)
            continue
        try:
            d = parse_record(Detection, obj)
        except RecordError as exc:
            problem = DetectionProblem(
                str(p), lineno, exc.field or "(record)", str(exc.value), exc.reason, record_id=exc.record_id
            )
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
    path: str, name: str, values: list[str] | None, lines: NDArray[np.int64], problems: list[DetectionProblem]
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
                problems.append(DetectionProblem(path, int(lines[i]), name, v, "not a number"))
    bad = ~np.isfinite(out) & (arr != "nan")
    for k in np.flatnonzero(bad & ~np.isnan(out)):
        problems.append(DetectionProblem(path, int(lines[k]), name, values[k], "not a finite number"))
    return out


def _times(
    path: str, values: list[str], lines: NDArray[np.int64], problems: list[DetectionProblem]
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
            problems.append(DetectionProblem(path, int(lines[i]), "arrival_time", v, "not an ISO 8601 time"))
            continue
        if t.tzinfo is None:
            problems.append(DetectionProblem(path, int(lines[i]), "arrival_time", v, "time has no timezone"))
            continue
        out[i] = (t - EPOCH) // dt.timedelta(microseconds=1)
    return out


def _name_records(problems: list[DetectionProblem], lines: NDArray[np.int64], ids: NDArray[np.str_]) -> None:
    """Fill in the detection id of problems found on converted rows (``lines`` ascending)."""
    for k, prob in enumerate(problems):
        if prob.record_id is not None or not lines.size:
            continue
        i = int(np.searchsorted(lines, prob.line))
        if i < lines.size and lines[i] == prob.line and ids[i].strip():
            problems[k] = replace(prob, record_id=str(ids[i]))


def _convert(
    path: str, lines_list: list[int], raw: dict[str, list[str]], problems: list[DetectionProblem]
) -> DetectionTable:
    lines = np.asarray(lines_list, dtype=np.int64)
    ids = np.array(raw["id"], dtype=str) if lines.size else np.zeros(0, dtype=str)
    sensors = np.array(raw["sensor_id"], dtype=str) if lines.size else np.zeros(0, dtype=str)
    for name, arr in (("id", ids), ("sensor_id", sensors)):
        for i in np.flatnonzero(np.char.str_len(np.char.strip(arr)) == 0) if arr.size else []:
            problems.append(DetectionProblem(path, int(lines[i]), name, "", "required, empty"))
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
            problems.append(DetectionProblem(path, int(lines[i]), name, col[i] if col else "", reason))
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
