"""Ingest of API request bodies, with the validation and idempotency of ``truceline ingest``."""

from __future__ import annotations

import dataclasses
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from truceline.io.records import DetectionBatch, RecordKind, RecordProblem, parse_kind, read_any
from truceline.service.queries.filters import QueryError, UnknownKind
from truceline.store.base import Store

# ----------------------------------------------------------------------------------- ingest
_NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
                 "application/jsonlines", "application/json-lines")  # fmt: skip
_CSV_TYPES = ("text/csv", "application/csv")


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
            "problems": [
                {
                    "line": p.line,
                    "record_id": p.record_id,
                    "field": p.field,
                    "value": p.value,
                    "reason": p.reason,
                    "message": str(p),
                }
                for p in self.problems
            ],
        }


def _body_format(media_type: str | None, kind: RecordKind) -> str:
    mt = (media_type or "application/json").split(";", 1)[0].strip().lower()
    if mt in _NDJSON_TYPES:
        return "ndjson"
    if mt in _CSV_TYPES:
        if kind is not RecordKind.DETECTION:
            raise QueryError("Content-Type", f"CSV holds detections only, not {kind.value} records")
        return "csv"
    if mt == "application/json" or mt.endswith("+json"):
        return "json"
    raise QueryError("Content-Type", f"{mt!r}: send application/json (an array), application/x-ndjson or, "
                                     "for detections, text/csv")  # fmt: skip


def ingest_body(store: Store, kind: str, body: bytes, media_type: str | None, source: str) -> IngestOutcome:
    """Ingest a request body of one kind of record, with the validation and idempotency of ``truceline ingest``.

    The body is read by the same strict readers as a file (:func:`truceline.io.records.read_any`)
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

    Raises
    ------
    UnknownKind
        For an unknown kind.
    QueryError
        For a Content-Type that does not fit.
    """
    from truceline.service.ingest import _detections, _records  # the CLI's own steps, so both agree

    try:
        rk = parse_kind(kind)
    except ValueError as exc:
        raise UnknownKind(str(exc)) from None
    fmt = _body_format(media_type, rk)
    stem = rk.file_name.rsplit(".", 1)[0]
    with tempfile.TemporaryDirectory(prefix="truceline-api-") as tmp:
        if fmt == "json" and rk is RecordKind.DETECTION:
            path, problem = _json_array_as_lines(Path(tmp), body)
            if problem is not None:
                return IngestOutcome(rk.value, problems=[dataclasses.replace(problem, path=source)])
        else:
            path = Path(tmp) / f"{stem}.{ {'json': 'json', 'ndjson': 'jsonl', 'csv': 'csv'}[fmt] }"
            path.write_bytes(body)
        batch = read_any(path, rk)
        batch.path = source
        batch.problems = [dataclasses.replace(p, path=source) for p in batch.problems]
        report = _detections(store, batch) if isinstance(batch, DetectionBatch) else _records(store, batch)
    return IngestOutcome(rk.value, report.read, report.inserted, report.repeats, list(report.problems))


def _json_array_as_lines(tmp: Path, body: bytes) -> tuple[Path, RecordProblem | None]:
    """A JSON array of detections as ``detections.jsonl`` (line ``i`` = the ``i``-th object) for the bulk reader."""
    from truceline.io.records import _load_json  # the strict JSON reader of .json files

    doc_path = tmp / "detections.json"
    doc_path.write_bytes(body)
    doc, problem = _load_json(doc_path)
    out = tmp / "detections.jsonl"
    if problem is not None:
        return out, problem
    items = doc.get("records") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        reason = "expected an array of objects, or an object with a 'records' array"
        return out, RecordProblem(str(doc_path), 0, None, "<file>", type(doc).__name__, reason)
    out.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in items), encoding="utf-8")
    return out, None


def record_kinds() -> list[str]:
    """The kinds the ingest endpoint takes (record-type names)."""
    return [k.value for k in RecordKind]
