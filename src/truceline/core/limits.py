"""Bounds on untrusted input: mission settings that every ingest path applies the same way.

A record that parses can still be one the mission must not take: a time in year 9999 (processing
would walk millions of empty windows), a count of 10**40, a note holding a lone surrogate (no
output could encode it), an object nested a thousand deep. :class:`InputLimits` holds the bounds;
``truceline ingest`` and ``POST /api/v1/ingest/{kind}`` take the same object
(:func:`truceline.service.ingest.ingest_files`, :func:`truceline.service.queries.ingest_body`),
the readers of :mod:`truceline.io` apply it to every record (``parse_record(..., limits=...)``)
and the bulk detections reader to every row. docs/formats.md lists the bounds and their defaults.

Each check gives ``(field, value, reason)`` triples, the shape of
:attr:`truceline.core.errors.RecordError.errors`, so a record out of bounds is a per-record
problem naming its field like any other.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from pydantic import BaseModel

from truceline.core.ids import is_valid_id
from truceline.core.uncertainty import CountRange

__all__ = ["MISSION_START", "InputLimits", "Problem", "text_reason"]

Problem = tuple[str, Any, str]
"""``(field, value, reason)``: one bad field (the shape of ``RecordError.errors``)."""

MISSION_START: Final = dt.datetime(2014, 1, 1, tzinfo=dt.UTC)
"""Default earliest time of any input: before the first Minsk agreement (and every shipped one)."""

_MAX_EXACT_INT: Final = 2**53
_UNSAFE_CHARS: Final = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufff9-\ufffb\ufffe\uffff]"
)
"""Control characters (tab, line feed and carriage return allowed), bidi marks, embeddings,
overrides and isolates, the byte order mark, interlinear annotations and noncharacters."""


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def text_reason(text: str, max_chars: int | None = None) -> str | None:
    """Why ``text`` may not enter the store (None if it may).

    Refused: lone surrogates (not valid Unicode; no output could encode them), control characters
    other than tab, line feed and carriage return (NUL included), bidi controls (marks, embeddings,
    overrides, isolates), a byte order mark, noncharacters, and more than ``max_chars`` characters.
    """
    if max_chars is not None and len(text) > max_chars:
        return f"longer than {max_chars} characters ({len(text)})"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"not valid Unicode: lone surrogate U+{ord(text[exc.start]):04X} at character {exc.start + 1}"
    bad = _UNSAFE_CHARS.search(text)
    if bad is not None:
        return f"holds a control or bidi character U+{ord(bad.group()):04X} at character {bad.start() + 1}"
    return None


def _join(path: str, part: str | int) -> str:
    if isinstance(part, int):
        return f"{path}[{part}]"
    return f"{path}.{part}" if path else part


@dataclass(frozen=True)
class InputLimits:
    """The bounds every ingest path applies to untrusted records (docs/formats.md, "Bounds").

    Attributes
    ----------
    earliest : datetime or None
        No time in a record before this (default :data:`MISSION_START`); None: no lower bound
        (beyond year 1, which every reader refuses below).
    future_skew : timedelta or None
        No time after the server's clock plus this allowance (default 1 day: clocks of field
        devices and time zones given wrong); None: no upper bound (beyond year 9999).
    max_id_chars : int
        Longest id (the id syntax itself allows 128; :data:`truceline.core.ids.ID_PATTERN`).
    max_text_chars : int
        Longest string of any field (notes, claim text...).
    max_depth : int
        Deepest nesting of objects and arrays in one record (a record itself is depth 1).
    max_line_chars : int
        Longest line of a JSON Lines or CSV file (and longest JSON document item).
    max_cell_chars : int
        Longest cell of a detections CSV.
    max_count : int
        Largest count (``count.high`` of a report, sighting or claim): a physical limit.
    clock : callable
        The server's clock (aware UTC datetime); tests give a fixed one.
    """

    earliest: dt.datetime | None = MISSION_START
    future_skew: dt.timedelta | None = dt.timedelta(days=1)
    max_id_chars: int = 128
    max_text_chars: int = 20_000
    max_depth: int = 16
    max_line_chars: int = 100_000
    max_cell_chars: int = 1_000
    max_count: int = 100_000
    clock: Callable[[], dt.datetime] = field(default=_utc_now, compare=False, repr=False)

    @classmethod
    def structural(cls) -> InputLimits:
        """Limits with no time window (sizes, depth, Unicode, ids, counts only): for files the
        system reads outside an ingest (a simulation's folder given to ``truceline fuse``)."""
        return cls(earliest=None, future_skew=None)

    @classmethod
    def for_agreement(cls, effective_from: dt.datetime, margin: dt.timedelta = dt.timedelta(days=365),
                      **changes: Any) -> InputLimits:  # fmt: skip
        """Limits whose earliest time is an agreement's entry into force minus ``margin``
        (sensors installed, and claims about the days, before it)."""
        return replace(cls(), earliest=effective_from - margin, **changes)

    def latest(self) -> dt.datetime | None:
        """The latest time accepted now: the clock plus :attr:`future_skew` (None: no bound)."""
        return None if self.future_skew is None else self.clock() + self.future_skew

    def time_reason(self, value: dt.datetime, latest: dt.datetime | None = None) -> str | None:
        """Why an aware time is out of bounds (None if it is within); ``latest`` from :meth:`latest`."""
        if self.earliest is not None and value < self.earliest:
            return f"before the earliest time accepted ({self.earliest.isoformat()})"
        if latest is not None and value > latest:
            skew_h = (self.future_skew or dt.timedelta(0)).total_seconds() / 3600
            return f"in the future: after the server's clock plus {skew_h:g} h ({latest.isoformat()})"
        return None

    def id_reason(self, value: str) -> str | None:
        """Why ``value`` is not an id this mission takes (None if it is)."""
        if len(value) > self.max_id_chars:
            return f"longer than {self.max_id_chars} characters ({len(value)})"
        if not is_valid_id(value):
            return "not a valid id: 1-128 ASCII letters, digits and '. _ : -', starting with a letter or digit, no '..'"
        return None

    def raw_problems(self, obj: Any) -> list[Problem]:
        """Problems of an untrusted JSON value before it is parsed: nesting deeper than
        :attr:`max_depth`, strings (keys too) that :func:`text_reason` refuses, numbers that are
        not finite or integers beyond 2**53. Walked without recursion."""
        out: list[Problem] = []
        stack: list[tuple[str, Any, int]] = [("", obj, 1)]
        while stack:
            path, value, depth = stack.pop()
            if isinstance(value, Mapping | list | tuple):
                if depth > self.max_depth:
                    out.append((path, "...", f"nested deeper than {self.max_depth} levels"))
                    continue
                items = value.items() if isinstance(value, Mapping) else enumerate(value)
                for key, item in items:
                    if isinstance(key, str) and (why := text_reason(key, self.max_id_chars)) is not None:
                        out.append((path, key, f"bad key: {why}"))
                        continue
                    stack.append((_join(path, key), item, depth + 1))
            elif isinstance(value, str):
                if (why := text_reason(value, self.max_text_chars)) is not None:
                    out.append((path, value, why))
            elif isinstance(value, float) and not math.isfinite(value):
                out.append((path, value, "must be a finite number"))
            elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_EXACT_INT:
                out.append((path, value, f"number too large (beyond {_MAX_EXACT_INT})"))
        out.sort(key=lambda p: p[0])
        return out

    def record_problems(self, record: BaseModel, latest: dt.datetime | None = None) -> list[Problem]:
        """Problems of a parsed record: times outside the window, counts above :attr:`max_count`,
        ids longer than :attr:`max_id_chars`. ``latest`` defaults to :meth:`latest` (now)."""
        latest = self.latest() if latest is None else latest
        out: list[Problem] = []
        stack: list[tuple[str, Any, str]] = [("", record, "")]
        while stack:
            path, value, name = stack.pop()
            if isinstance(value, dt.datetime):
                if (why := self.time_reason(value, latest)) is not None:
                    out.append((path, value.isoformat(), why))
            elif isinstance(value, CountRange) and value.high > self.max_count:
                out.append((_join(path, "high"), value.high, f"more than {self.max_count}: not a physical count"))
            elif isinstance(value, BaseModel):
                for key in type(value).model_fields:
                    stack.append((_join(path, key), getattr(value, key), key))
            elif isinstance(value, Mapping):
                stack.extend((_join(path, str(k)), v, name) for k, v in value.items())
            elif isinstance(value, tuple):
                stack.extend((_join(path, i), v, name) for i, v in enumerate(value))
            elif isinstance(value, str) and name.endswith(("id", "_ids")) and len(value) > self.max_id_chars:
                out.append((path, value, f"longer than {self.max_id_chars} characters ({len(value)})"))
        out.sort(key=lambda p: p[0])
        return out
