"""JSON Lines (``.jsonl``, ``.ndjson``): one codebook record (or plain object) per line.

Writing (:func:`write_records`), and readers with one strictness (no duplicate keys, no
NaN/Infinity, objects only, UTF-8): :func:`iter_json_lines` yields every line's object or its
:class:`~truceline.io.problems.RecordProblem` and never stops (what ``truceline ingest`` needs);
:func:`read_objects` and :func:`read_typed` stop at the first bad line (files the system wrote).
Each takes a path or an open stream (:mod:`truceline.io.streams`); the format is registered as
``jsonl`` in :mod:`truceline.io.formats`.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, TypeVar

from truceline.core import InputLimits, Record, to_json_dict
from truceline.io.problems import ENCODING_FIELD, JSON_FIELD, RECORD_FIELD, RecordProblem, json_type, value_text
from truceline.io.streams import Source, Target, binary_lines, source_name, text_target

R = TypeVar("R", bound=Record)


def dumps(obj: Mapping[str, Any]) -> str:
    """Compact, stable JSON for one line."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def write_records(target: Target, records: Iterable[Record | Mapping[str, Any]]) -> int:
    """Write records (codebook records or JSON-safe mappings), one per line; return the count.

    ``target`` is a path (its folder is made) or an open stream.
    """
    n = 0
    with text_target(target) as fh:
        for r in records:
            fh.write(dumps(to_json_dict(r) if isinstance(r, Record) else r))
            fh.write("\n")
            n += 1
    return n


def read_objects(path: Source) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, object)`` for each non-blank line, stopping at the first bad one.

    The fail-fast form of :func:`iter_json_lines` (same strictness), for files the system wrote
    itself; ``truceline ingest`` collects every problem instead.

    Raises
    ------
    ValueError
        ``FILE:LINE: FIELD: 'VALUE' — REASON`` for the first line that is not a strict JSON object.
    """
    for lineno, item in iter_json_lines(path):
        if isinstance(item, RecordProblem):
            raise ValueError(str(item))
        yield lineno, item

def read_typed(path: Source, cls: type[R]) -> list[R]:
    """Every line of ``path`` parsed as a ``cls`` record, strictly.

    Raises
    ------
    ValueError
        ``FILE:LINE: ...`` at the first line that is not valid JSON or not a valid record.
    """
    from truceline.core import RecordError, parse_record

    out: list[R] = []
    name = source_name(path)
    for lineno, obj in read_objects(path):
        try:
            out.append(parse_record(cls, obj))
        except RecordError as exc:
            raise ValueError(f"{name}:{lineno}: {exc}") from None
    return out


def first_object(path: Source) -> dict[str, Any] | None:
    """The first line that is a JSON object (bad lines passed over), or None."""
    for _, item in iter_json_lines(path):
        if isinstance(item, dict):
            return item
    return None


# --------------------------------------------------------------------------- strict reading


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
    """Strict ``json.loads``: no duplicate keys, no NaN/Infinity, not nested beyond what Python reads.

    Raises
    ------
    ValueError
        With the reason (``json.JSONDecodeError`` for bad syntax).
    """
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise _JsonProblem("nested too deep to read (arrays or objects inside each other)") from None


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
    except (ValueError, RecursionError):
        obj = None
    if isinstance(obj, dict) and isinstance(obj.get("id"), str) and "\ufffd" not in obj["id"]:
        record_id = obj["id"]
    return RecordProblem(path, line, record_id, ENCODING_FIELD, _around(raw, exc.start), _utf8_reason(raw, exc))


def _too_long(name: str, lineno: int, raw: bytes, limit: int) -> RecordProblem:
    shown = raw[:100].decode("utf-8", "replace") + "..."
    reason = f"line longer than {limit} characters ({len(raw)} bytes)"
    return RecordProblem(name, lineno, None, RECORD_FIELD, shown, reason)


def iter_json_lines(
    path: Source, name: str | None = None, limits: InputLimits | None = None
) -> Iterator[tuple[int, dict[str, Any] | RecordProblem]]:
    """Read JSON Lines one line at a time, strictly, without stopping at a bad line.

    Parameters
    ----------
    path : str, PathLike or stream
        The file (not checked here: see :func:`truceline.io.records.read_records`), or an open
        binary or text stream.
    name : str, optional
        What problems call the file (default: the path, or the stream's name).
    limits : InputLimits, optional
        Its ``max_line_chars`` bounds a line (default: :meth:`InputLimits.structural`).

    Yields
    ------
    line : int
        Physical line number, from 1 (blank lines are skipped but counted).
    item : dict or RecordProblem
        The line's JSON object, or the problem with the line: bytes that are not UTF-8
        (``<encoding>``), invalid JSON, duplicate keys, NaN/Infinity, nesting too deep to read
        (``<json>``), a JSON value that is not an object or a line longer than the limit
        (``<record>``). A UTF-8 byte order mark opening the file is dropped.
    """
    name = source_name(path, name)
    max_chars = (limits or InputLimits.structural()).max_line_chars
    with binary_lines(path) as fh:
        for lineno, raw in enumerate(fh, start=1):
            if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            if len(raw) > max_chars and len(raw.decode("utf-8", "replace").rstrip("\r\n")) > max_chars:
                yield lineno, _too_long(name, lineno, raw, max_chars)
                continue
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
                yield lineno, RecordProblem(name, lineno, None, ENCODING_FIELD, value_text(text[1:]), reason)
                continue
            try:
                obj = _decode(text)
            except ValueError as exc:
                yield lineno, RecordProblem(name, lineno, None, JSON_FIELD, value_text(text), _json_reason(exc))
                continue
            if not isinstance(obj, dict):
                yield (
                    lineno,
                    RecordProblem(
                        name,
                        lineno,
                        None,
                        RECORD_FIELD,
                        value_text(obj),
                        f"expected a JSON object, got {json_type(obj)}",
                    ),
                )
                continue
            yield lineno, obj
