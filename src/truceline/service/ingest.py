"""``truceline ingest``: observation files into the store, every good record kept, every bad one named.

Per file: read strictly (:mod:`truceline.io.records`, in the format the registry
:mod:`truceline.io.formats` tells from the file name; detections in bulk), check references
(a detection or status report must name a registered sensor), then append to the store. The
store is idempotent by id: a record sent again identically is a *repeat*; the same id with other
content is a *conflict*, rejected (observations are never overwritten). Sensor registries are
ingested first whatever the order given, so a batch may bring its sensors with it.

Every record is checked within the mission's bounds (:class:`truceline.core.InputLimits`: times
in the mission's window, ids, sizes, depth, Unicode, counts); the API's ingest
(:func:`truceline.service.queries.ingest.ingest_body`) reads the same way through
:func:`read_source`, so a record refused on one path is refused on every path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from truceline.core import InputLimits
from truceline.io.formats import observation_suffixes
from truceline.io.problems import FILE_FIELD
from truceline.io.records import DetectionBatch, RecordBatch, RecordKind, RecordProblem, kind_for, read_any
from truceline.io.streams import Source
from truceline.store.base import Store

_log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]

#: Ingest order: what others refer to first.
ORDER = ("sensor", "sensor_status_report", "weather_report", "detection")


@dataclass
class FileReport:
    """The outcome of one file."""

    path: str
    kind: str
    read: int = 0
    inserted: int = 0
    repeats: int = 0
    problems: list[RecordProblem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "read": self.read,
            "inserted": self.inserted,
            "repeats": self.repeats,
            "rejected": len({(p.line, p.record_id) for p in self.problems}),
            "problems": [str(p) for p in self.problems],
        }


@dataclass
class IngestReport:
    """The outcome of an ingest: one report per file."""

    files: list[FileReport] = field(default_factory=list)

    @property
    def inserted(self) -> int:
        return sum(f.inserted for f in self.files)

    @property
    def repeats(self) -> int:
        return sum(f.repeats for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(len({(p.line, p.record_id) for p in f.problems}) for f in self.files)

    @property
    def problems(self) -> list[RecordProblem]:
        return [p for f in self.files for p in f.problems]

    @property
    def ok(self) -> bool:
        return not any(f.problems for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "inserted": self.inserted,
            "repeats": self.repeats,
            "rejected": self.rejected,
            "files": [f.to_dict() for f in self.files],
        }


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """Files to ingest: files as given; a directory gives its files of an observation format
    (``.jsonl``, ``.ndjson``, ``.json``, ``.csv``: :func:`truceline.io.formats.observation_suffixes`),
    and those of its ``observations/`` folder, as a simulation writes it."""
    out: list[Path] = []
    suffixes = observation_suffixes()
    for p in map(Path, paths):
        if p.is_dir():
            d = p / "observations" if (p / "observations").is_dir() else p
            out += sorted(f for f in d.iterdir() if f.suffix in suffixes)
        elif p.exists():
            out.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such file or directory")
    return out


def _rank(p: Path) -> tuple[int, str]:
    try:
        k = str(kind_for(p))
    except ValueError:
        return (len(ORDER), str(p))
    return (ORDER.index(k) if k in ORDER else len(ORDER), str(p))


def read_source(
    source: Source, name: str, limits: InputLimits, **options: Any
) -> RecordBatch | DetectionBatch | FileReport:
    """Read one file or request body within ``limits``; whatever stops it is one problem of a
    :class:`FileReport` (line 0, ``<file>``), never an exception: nothing raises past the reader."""
    try:
        return read_any(source, name=name, limits=limits, **options)
    except (ValueError, OSError) as exc:
        reason = str(exc)
    except Exception as exc:  # a reader's failure on hostile input stops this file only
        _log.exception("reading %s failed", name)
        reason = f"could not be read ({type(exc).__name__}); nothing of it was stored"
    fr = FileReport(name, "unknown")
    fr.problems.append(RecordProblem(name, 0, None, FILE_FIELD, name, reason))
    return fr


def ingest_files(
    store: Store, paths: Iterable[str | Path], progress: Progress | None = None, limits: InputLimits | None = None
) -> IngestReport:
    """Ingest files into ``store`` (see the module docstring); never raises for a bad record or file.

    ``limits`` are the bounds of untrusted input (:class:`truceline.core.InputLimits`, default
    the mission's: ``InputLimits()``); the API's ingest takes the same.
    """
    lim = limits if limits is not None else InputLimits()
    files = sorted(expand(paths), key=_rank)
    report = IngestReport()
    for k, path in enumerate(files):
        batch = read_source(path, str(path), lim)
        if isinstance(batch, FileReport):
            report.files.append(batch)
            continue
        if isinstance(batch, DetectionBatch):
            report.files.append(_detections(store, batch))
        else:
            report.files.append(_records(store, batch))
        if progress:
            progress("ingest", (k + 1) / len(files))
    return report


def _known_sensors(store: Store) -> set[str]:
    return {r.id for r in store.records("sensor")}


def _records(store: Store, batch: RecordBatch) -> FileReport:
    kind = str(batch.kind)
    fr = FileReport(batch.path, kind, read=len(batch.records) + batch.repeats, repeats=batch.repeats)
    fr.problems += batch.problems
    keep, lines = list(batch.records), list(batch.lines)
    if batch.kind is RecordKind.SENSOR_STATUS:
        known = _known_sensors(store)
        ok = [getattr(r, "sensor_id", None) in known for r in keep]
        for r, line, good in zip(keep, lines, ok, strict=True):
            if not good:
                sid = str(getattr(r, "sensor_id", ""))
                fr.problems.append(RecordProblem(batch.path, line, r.id, "sensor_id", sid, "unknown sensor"))
        keep = [r for r, good in zip(keep, ok, strict=True) if good]
        lines = [line for line, good in zip(lines, ok, strict=True) if good]
    res = store.add_records(kind, keep, source=batch.path)
    line_of = {r.id: line for r, line in zip(keep, lines, strict=True)}
    for rid, why in res.conflicts:
        fr.problems.append(RecordProblem(batch.path, line_of.get(rid, 0), rid, "id", rid, why))
    fr.inserted += res.inserted
    fr.repeats += res.repeats
    fr.problems.sort(key=lambda p: p.line)
    return fr


def _detections(store: Store, batch: DetectionBatch) -> FileReport:
    t = batch.table
    fr = FileReport(batch.path, "detection", read=len(t))
    fr.problems += batch.problems
    known = _known_sensors(store)
    ok = np.fromiter((s in known for s in t.sensor_ids.tolist()), dtype=bool, count=len(t))
    for i in np.flatnonzero(~ok):
        sid = str(t.sensor_ids[i])
        fr.problems.append(RecordProblem(batch.path, int(t.line[i]), str(t.ids[i]), "sensor_id", sid, "unknown sensor"))
    good = t.take(ok)
    res = store.add_detections(good, source=batch.path)
    if res.conflicts:
        line_of = dict(zip(good.ids.tolist(), good.line.tolist(), strict=True))
        for rid, why in res.conflicts:
            fr.problems.append(RecordProblem(batch.path, int(line_of.get(rid, 0)), rid, "id", rid, why))
    fr.inserted, fr.repeats = res.inserted, res.repeats
    fr.problems.sort(key=lambda p: p.line)
    return fr
