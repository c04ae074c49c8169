"""What reading an observation file gives: a batch of good records (or detections) and problems.

:class:`RecordBatch` holds codebook records read one at a time (:class:`RecordCollector` parses them
and checks their ids); :class:`DetectionBatch` holds detections read in bulk as columns. Both say
whether any line was rejected. The readers are in :mod:`truceline.io.records`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from truceline.core import InputLimits, Record, RecordError, parse_record
from truceline.io.detections import DetectionTable
from truceline.io.kinds import RecordKind, parse_kind
from truceline.io.problems import RECORD_FIELD, RecordProblem, value_text

__all__ = ["DetectionBatch", "RecordBatch", "RecordCollector", "empty_table"]


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


class RecordCollector:
    """Turns ``(line, object)`` pairs into a :class:`RecordBatch`, checking ids for duplicates.

    Each object is parsed within ``limits`` (default :meth:`InputLimits.structural`); any failure
    of one object, whatever it raises, is that object's problem, and the next is read.
    """

    def __init__(self, path: str, kind: RecordKind, limits: InputLimits | None = None) -> None:
        self.batch = RecordBatch(path, kind)
        self.cls = kind.record_class
        self.limits = limits if limits is not None else InputLimits.structural()
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
            record = parse_record(self.cls, obj, limits=self.limits)
        except RecordError as exc:
            batch.problems.extend(RecordProblem.from_record_error(batch.path, line, exc))
            return
        except Exception as exc:  # one record's failure is that record's problem, whatever it is
            reason = f"could not be read ({type(exc).__name__})"
            self.problem(RecordProblem(batch.path, line, rid, RECORD_FIELD, value_text(obj), reason))
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


def empty_table() -> DetectionTable:
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
