"""Record ids: the id syntax and deterministic, content-derived ids.

Ingest is idempotent by id: the same input must always yield the same id. :func:`make_id`
hashes a canonical JSON encoding of its parts, so ids do not depend on dict order, on the
timezone a datetime was given in, or on the Python process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import Any, Final

import numpy as np
from pydantic import BaseModel

__all__ = ["ID_PATTERN", "ID_REGEX", "canonical_json", "is_valid_id", "make_id"]

ID_PATTERN: Final = r"^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
"""Syntax of every record id: 1-128 characters, ASCII letters, digits and ``. _ : -``, no ``..``.

The alphabet is safe wherever an id goes (a URL path, a file name, a CSV cell, an HTML
attribute, a log line): no whitespace, no control, bidi or zero-width characters, no quotes,
no slashes or backslashes, no ``..``, no byte order mark or NUL. An ingest may set a shorter
maximum (:attr:`truceline.core.limits.InputLimits.max_id_chars`).
"""

ID_REGEX: Final = re.compile(ID_PATTERN)

_PREFIX_REGEX: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,110}$")
_HASH_HEX_CHARS: Final = 16


def is_valid_id(value: object) -> bool:
    """Return True if ``value`` is a string matching :data:`ID_PATTERN`."""
    return isinstance(value, str) and ID_REGEX.fullmatch(value) is not None


def _canonical(value: Any) -> Any:
    """Convert ``value`` to a JSON-compatible structure with one spelling per value."""
    if isinstance(value, np.generic):
        value = value.item()  # NumPy scalar -> Python scalar
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Enum):
        return _canonical(value.value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot make an id from a non-finite number: {value!r}")
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"cannot make an id from a naive datetime: {value!r}")
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        return str(value)
    if isinstance(value, BaseModel):
        return _canonical(value.model_dump(mode="json"))
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                key = str(_canonical(key))
            out[key] = _canonical(item)
        return out
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, set | frozenset):
        items = [_canonical(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    raise TypeError(f"cannot make an id from a {type(value).__name__}: {value!r}")


def canonical_json(*parts: Any) -> str:
    """Return the canonical JSON text of ``parts`` (the bytes that :func:`make_id` hashes).

    Datetimes become UTC ISO 8601 with microseconds (naive ones are refused), enums their
    values, records their JSON dict, mappings have sorted keys and sets are sorted.

    Raises
    ------
    ValueError
        For a naive datetime or a NaN/infinite float.
    TypeError
        For a value of an unsupported type.
    """
    return json.dumps(
        [_canonical(part) for part in parts],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def make_id(prefix: str, *parts: Any) -> str:
    """Deterministic, content-derived id: ``prefix + "-" + 16 hex digits of SHA-256``.

    Parameters
    ----------
    prefix : str
        Short type tag, e.g. ``"det"``, ``"evt"``, ``"obs"``; must itself be id-like.
    *parts
        The content that identifies the record (e.g. sensor id and arrival time). The
        order matters; ``make_id("x", "a", "b") != make_id("x", "ab")``.

    Returns
    -------
    str
        An id matching :data:`ID_PATTERN`, e.g. ``"det-3f2a9c0b1d4e5f60"``.

    Raises
    ------
    ValueError
        If the prefix is not id-like, or a part is a naive datetime or a non-finite float.
    TypeError
        If a part has an unsupported type.

    Examples
    --------
    >>> make_id("det", "S-01", 12.5) == make_id("det", "S-01", 12.5)
    True
    """
    if not isinstance(prefix, str) or _PREFIX_REGEX.fullmatch(prefix) is None:
        raise ValueError(f"id prefix {prefix!r} must match {_PREFIX_REGEX.pattern}")
    digest = hashlib.sha256(canonical_json(*parts).encode("utf-8")).hexdigest()
    return f"{prefix}-{digest[:_HASH_HEX_CHARS]}"
