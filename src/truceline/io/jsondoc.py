"""JSON documents (``.json``): an array of records, or ``{"records": [...]}``, read strictly.

The document is loaded at once (with the strictness of :mod:`truceline.io.jsonl`: no duplicate
keys, no NaN/Infinity, UTF-8, a byte order mark at the start accepted). For observations, ``line``
is the 1-based index of the object in the array (not a text line), and a problem with the
document as a whole has line 0. Registered as ``json`` in :mod:`truceline.io.formats`.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from truceline.core import InputLimits, Record, to_json_dict
from truceline.io.jsonl import _around, _decode, _json_reason
from truceline.io.problems import (
    ENCODING_FIELD,
    FILE_FIELD,
    JSON_FIELD,
    RECORD_FIELD,
    RecordProblem,
    json_type,
    value_text,
)
from truceline.io.streams import Source, Target, read_bytes, source_name, text_target

__all__ = ["Unreadable", "first_object", "iter_json_document", "load_document", "read_document", "write_document"]


def load_document(source: Source, name: str | None = None) -> tuple[Any, RecordProblem | None]:
    """The JSON document of ``source``, or the problem that stops it (line 0); an empty one is ``[]``.

    Parameters
    ----------
    source : str, PathLike or stream
        The file, or an open stream (read to its end).
    name : str, optional
        What the problem calls the file (default: the path, or the stream's name).

    Returns
    -------
    doc : object
        The decoded document (None when there is a problem).
    problem : RecordProblem or None
        ``<encoding>`` (not UTF-8, with the text line) or ``<json>`` (not valid strict JSON, with
        the text line and column).
    """
    name = source_name(source, name)
    raw = read_bytes(source)
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        reason = f"not valid UTF-8: byte 0x{raw[exc.start]:02X} on text line {line}"
        return None, RecordProblem(name, 0, None, ENCODING_FIELD, _around(raw, exc.start), reason)
    if not text.strip():
        return [], None
    try:
        return _decode(text), None
    except ValueError as exc:
        if "nested too deep" in str(exc) and (items := _array_items(text)) is not None:
            return items, None
        if isinstance(exc, json.JSONDecodeError):
            reason = f"not valid JSON: {exc.msg} (text line {exc.lineno}, column {exc.colno})"
            shown = text[max(0, exc.pos - 40) : exc.pos + 40]
        else:
            reason, shown = _json_reason(exc), ""
        return None, RecordProblem(name, 0, None, JSON_FIELD, value_text(shown), reason)


@dataclass(frozen=True)
class Unreadable:
    """An item of a JSON array that is nested too deep to decode (its text kept for the reader)."""

    text: str
    reason: str


def _value_end(text: str, start: int) -> int:
    """The index just past the JSON value that starts at ``start`` (brackets counted outside strings)."""
    depth, i, n = 0, start, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c in "[{":
            depth += 1
        elif c in "]}":
            if depth == 0:
                return i
            depth -= 1
            if depth == 0:
                return i + 1
        elif depth == 0 and c == ",":
            return i
        i += 1
    return n


def _array_items(text: str) -> list[Any] | None:
    """A top-level array decoded item by item (each too deep an :class:`Unreadable`), or None if
    ``text`` is not an array whose items can be told apart."""
    i = len(text) - len(text.lstrip())
    if not text.startswith("[", i):
        return None
    items: list[Any] = []
    i += 1
    while True:
        while i < len(text) and text[i] in " \t\r\n,":
            i += 1
        if i >= len(text) or text[i] == "]":
            return items if text[i + 1 :].strip() == "" else None
        end = _value_end(text, i)
        part = text[i:end]
        try:
            items.append(_decode(part))
        except ValueError as exc:
            items.append(Unreadable(part.replace("\n", " "), _json_reason(exc)))
        i = end


def iter_json_document(
    source: Source, name: str | None = None, limits: InputLimits | None = None
) -> Iterator[tuple[int, dict[str, Any] | RecordProblem]]:
    """Every object of a JSON document of records, or the problem of each bad one, never stopping.

    The document is an array of objects, or ``{"records": [...]}`` with an optional
    ``"record_type"`` (then given to each object, for the reader to check against the file's kind).
    An array nested too deep for the decoder is read item by item, each such item one problem.
    ``limits`` is accepted for the registry's one shape; a record's depth and sizes are checked
    when it is parsed (:func:`truceline.core.parse_record`).

    Yields
    ------
    line : int
        The 1-based index of the object in the array; 0 for a problem with the document as a whole
        (not JSON, not an array, an unknown top-level key).
    item : dict or RecordProblem
        The object, or the problem (``<record>`` for an item that is not an object).
    """
    name = source_name(source, name)
    doc, problem = load_document(source, name)
    if problem is not None:
        yield 0, problem
        return
    if isinstance(doc, dict):
        items = doc.get("records")
        extra = sorted(set(doc) - {"records", "record_type"})
        if not isinstance(items, list):
            reason = "expected an array of objects, or an object with a 'records' array"
            yield 0, RecordProblem(name, 0, None, "records", value_text(items), reason)
            return
        for key in extra:
            reason = "unknown key (a document holds 'records' and optionally 'record_type')"
            yield 0, RecordProblem(name, 0, None, key, value_text(doc[key]), reason)
        if "record_type" in doc:
            items = [{"record_type": doc["record_type"], **o} if isinstance(o, dict) else o for o in items]
    elif isinstance(doc, list):
        items = doc
    else:
        reason = f"expected an array of objects, or an object with a 'records' array; got {json_type(doc)}"
        yield 0, RecordProblem(name, 0, None, FILE_FIELD, value_text(doc), reason)
        return
    for index, obj in enumerate(items, start=1):
        if isinstance(obj, dict):
            yield index, obj
        elif isinstance(obj, Unreadable):
            yield index, RecordProblem(name, index, None, JSON_FIELD, value_text(obj.text), obj.reason)
        else:
            reason = f"expected a JSON object, got {json_type(obj)}"
            yield index, RecordProblem(name, index, None, RECORD_FIELD, value_text(obj), reason)


def document_items(source: Source, name: str | None = None) -> tuple[list[Any], RecordProblem | None]:
    """The items of a document that should hold an array (``{"records": [...]}`` too), as they are.

    Unlike :func:`iter_json_document`, the other keys of a ``{"records": ...}`` object are not
    checked; a document that holds no array is one problem (``<file>``, the document's type).
    """
    name = source_name(source, name)
    doc, problem = load_document(source, name)
    if problem is not None:
        return [], problem
    items = doc.get("records") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        reason = "expected an array of objects, or an object with a 'records' array"
        return [], RecordProblem(name, 0, None, FILE_FIELD, type(doc).__name__, reason)
    return items, None


def first_object(source: Source) -> dict[str, Any] | None:
    """The document's ``record_type`` (as ``{"record_type": ...}``) or its first object, or None."""
    doc, _ = load_document(source, source_name(source, "<document>"))
    if isinstance(doc, dict) and isinstance(doc.get("records"), list):
        head = {k: v for k, v in doc.items() if k == "record_type"}
        items = doc["records"]
        if head:
            return head
        return items[0] if items and isinstance(items[0], dict) else None
    if isinstance(doc, list) and doc and isinstance(doc[0], dict):
        return doc[0]
    return None


def read_document(source: Source, name: str | None = None) -> Any:
    """The JSON document of ``source``, strictly.

    Raises
    ------
    ValueError
        ``FILE:0: FIELD: 'VALUE' — REASON`` when it is not valid strict JSON in UTF-8.
    """
    doc, problem = load_document(source, name)
    if problem is not None:
        raise ValueError(str(problem))
    return doc


def write_document(target: Target, records: Iterable[Record | Mapping[str, Any]]) -> int:
    """Write records (codebook records or JSON-safe mappings) as one JSON array; return the count."""
    objs = [to_json_dict(r) if isinstance(r, Record) else dict(r) for r in records]
    with text_target(target) as fh:
        fh.write(json.dumps(objs, ensure_ascii=False, separators=(",", ":"), allow_nan=False))
        fh.write("\n")
    return len(objs)
