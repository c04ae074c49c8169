"""Ingest of API request bodies, with the validation and idempotency of ``truceline ingest``.

The body's format is the one the registry (:mod:`truceline.io.formats`) gives for its
``Content-Type`` (JSON when there is none); the body is read as a stream, where it stands.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Final

from truceline.core import InputLimits
from truceline.io.formats import Format, format_for_media_type, format_named, media_type_essence, observation_formats
from truceline.io.records import DetectionBatch, RecordKind, RecordProblem, parse_kind
from truceline.service.queries.filters import QueryError, UnknownKind
from truceline.store.base import Store

#: The format of a body sent without a ``Content-Type``.
DEFAULT_FORMAT: Final = "json"


@dataclass
class IngestOutcome:
    """What an ingest request did: as ``truceline ingest`` reports a file."""

    kind: str
    read: int = 0
    inserted: int = 0
    repeats: int = 0
    problems: list[RecordProblem] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len({(p.line, p.record_id) for p in self.problems})

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """``{kind, read, inserted, repeats, rejected, problems}``, each problem
        ``{line, record_id, field, value, reason, message}``."""
        return {
            "kind": self.kind,
            "read": self.read,
            "inserted": self.inserted,
            "repeats": self.repeats,
            "rejected": self.rejected,
            "problems": [p.to_dict() for p in self.problems],
        }


def body_formats() -> tuple[Format, ...]:
    """The formats a request body may have: the default (JSON) first, then the registry's other
    observation formats."""
    default = format_named(DEFAULT_FORMAT)
    return (default, *(f for f in observation_formats() if f is not default))


def _body_format(media_type: str | None, kind: RecordKind) -> Format:
    mt = media_type_essence(media_type or format_named(DEFAULT_FORMAT).media_types[0])
    fmt = format_for_media_type(mt, observation_formats())
    if fmt is None:
        raise QueryError("Content-Type", f"{mt!r}: send application/json (an array), application/x-ndjson or, "
                                         "for detections, text/csv")  # fmt: skip
    refusal = fmt.refusal(kind.value)
    if refusal is not None:
        raise QueryError("Content-Type", refusal)
    return fmt


def ingest_body(
    store: Store, kind: str, body: bytes, media_type: str | None, source: str, limits: InputLimits | None = None
) -> IngestOutcome:
    """Ingest a request body of one kind of record, with the validation and idempotency of ``truceline ingest``.

    The body is read, as a stream, by the same strict readers as a file
    (:func:`truceline.io.records.read_any`, in the format the registry gives for ``media_type``)
    and stored by the same steps as :func:`truceline.service.ingest.ingest_files` (unknown sensors
    refused, same id + same content a repeat, same id + other content a conflict); every good
    record is kept.

    Parameters
    ----------
    store : Store
    kind : str
        A record kind or alias (``sighting``, ``sensor_status``...; see :func:`parse_kind`).
    body : bytes
        A JSON array (or ``{"records": [...]}``), NDJSON, or for detections CSV.
    media_type : str or None
        The request's Content-Type (JSON when missing).
    source : str
        What the store records as the source (e.g. ``"api:observer.fr.2"``); also the "file" of
        each problem's message (``line`` is the NDJSON line, or the 1-based array index).
    limits : InputLimits, optional
        The bounds of untrusted input (default the mission's, ``InputLimits()``: what
        ``truceline ingest`` applies).

    Raises
    ------
    UnknownKind
        For an unknown kind.
    QueryError
        For a Content-Type that does not fit.
    """
    from truceline.service.ingest import FileReport, _detections, _records, read_source  # the CLI's steps

    try:
        rk = parse_kind(kind)
    except ValueError as exc:
        raise UnknownKind(str(exc)) from None
    fmt = _body_format(media_type, rk)
    lim = limits if limits is not None else InputLimits()
    batch = read_source(io.BytesIO(body), source, lim, kind=rk, format=fmt)
    if isinstance(batch, FileReport):
        return IngestOutcome(rk.value, problems=list(batch.problems))
    report = _detections(store, batch) if isinstance(batch, DetectionBatch) else _records(store, batch)
    return IngestOutcome(rk.value, report.read, report.inserted, report.repeats, list(report.problems))


def record_kinds() -> list[str]:
    """The kinds the ingest endpoint takes (record-type names)."""
    return [k.value for k in RecordKind]
