"""Problems found in input files: which file, line, record and field, what was there, and why.

A :class:`RecordProblem` reads ``FILE:LINE: record 'ID': FIELD: 'VALUE' — REASON`` (without the
record part when the line gave no id). Every strict reader of :mod:`truceline.io` reports with it,
the bulk reader of detections included (whose error message leaves the record part out:
:meth:`RecordProblem.without_record`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from typing import Any, Final

from truceline.core import MISSING, RecordError

__all__ = [
    "ENCODING_FIELD",
    "FILE_FIELD",
    "JSON_FIELD",
    "RECORD_FIELD",
    "RecordProblem",
    "json_type",
    "printable",
    "value_text",
]

JSON_FIELD: Final = "<json>"
"""Pseudo-field of a line that is not valid JSON."""
RECORD_FIELD: Final = "<record>"
"""Pseudo-field of a problem with a record as a whole (not an object, ...)."""
ENCODING_FIELD: Final = "<encoding>"
"""Pseudo-field of a line whose bytes are not UTF-8."""
FILE_FIELD: Final = "<file>"
"""Pseudo-field of a problem with a ``.json`` document as a whole (line 0)."""

_VALUE_LIMIT = 120
_UNPRINTABLE: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufff9-\uffff\ud800-\udfff]"
)


def printable(text: str) -> str:
    """``text`` safe to show anywhere (a terminal, a JSON response, a log line): control, bidi and
    zero-width characters, the byte order mark and lone surrogates written as ``\\uXXXX``."""
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


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

    def __post_init__(self) -> None:
        # What a problem says is shown to people and sent in responses: never a character that
        # cannot be encoded or that reorders the text (a hostile id, value or key).
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str):
                object.__setattr__(self, f.name, printable(value))

    def __str__(self) -> str:
        record = f" record {self.record_id!r}:" if self.record_id is not None else ""
        return f"{self.path}:{self.line}:{record} {self.field}: {self.value!r} — {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        """``{line, record_id, field, value, reason, message}``: how the API and the field listener answer."""
        return {"line": self.line, "record_id": self.record_id, "field": self.field, "value": self.value,
                "reason": self.reason, "message": str(self)}  # fmt: skip

    def without_record(self) -> str:
        """``FILE:LINE: FIELD: 'VALUE' — REASON``: the message without the record part.

        Examples
        --------
        >>> RecordProblem("detections.csv", 4, "d3", "bearing_deg", "400", "must be in [0, 360)").without_record()
        "detections.csv:4: bearing_deg: '400' — must be in [0, 360)"
        """
        return f"{self.path}:{self.line}: {self.field}: {self.value!r} — {self.reason}"

    @classmethod
    def from_record_error(cls, path: str, line: int, exc: RecordError) -> list[RecordProblem]:
        """One problem per bad field of a :class:`~truceline.core.RecordError` (the first is ``exc.field``)."""
        return [
            cls(path, line, exc.record_id, name or RECORD_FIELD, value_text(value), reason)
            for name, value, reason in exc.errors
        ]


def value_text(value: Any) -> str:
    if value is MISSING:
        text = "<missing>"
    elif isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=True, default=str)
        except (TypeError, ValueError, RecursionError):
            text = f"<{type(value).__name__}>"
    return text if len(text) <= _VALUE_LIMIT else text[: _VALUE_LIMIT - 3] + "..."


def json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"
