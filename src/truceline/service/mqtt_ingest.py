"""One MQTT message into the store: the validation and storing steps of every ingest path, plus the topic's rules.

A message on ``truceline/<contingent>/<sensor>/detections`` (or ``.../status``) is read by the same
strict readers as a file or an API body (:func:`truceline.service.ingest.read_source`, so within the
same :class:`~truceline.core.InputLimits`) and stored by the same steps as ``truceline ingest``
(unknown sensors refused; same id + same content a repeat, stored once; same id + other content a
conflict, refused). Before storing, each record must belong to the topic: its ``sensor_id`` must be
the topic's sensor, and that sensor must be registered to the topic's contingent (a contingent cannot
speak for another's sensor, even on its own branch of the tree). Every good record is kept; every bad
one is a :class:`~truceline.io.records.RecordProblem` naming the record, the field and the reason.

Payloads: JSON (one object, an array of them, or ``{"records": [...]}``); CSV for detections (the
columns of ``detections.csv``, header first); JSON Lines when the MQTT v5 content type says
``application/x-ndjson``. Without a content type, a payload whose first character is ``[`` or ``{``
is JSON, any other is CSV.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from truceline.core import InputLimits
from truceline.io.formats import Format, format_for_media_type, format_named, media_type_essence, observation_formats
from truceline.io.records import DetectionBatch, RecordBatch, RecordProblem
from truceline.service.ingest import FileReport, read_source
from truceline.service.mqtt_topics import SensorTopic
from truceline.store.base import Store

__all__ = ["MessageOutcome", "RejectsLog", "SensorDirectory", "ingest_message", "payload_format"]

_BOM = b"\xef\xbb\xbf"


@dataclass
class MessageOutcome:
    """What one message did: records read, stored, already stored, and every problem."""

    topic: str
    kind: str
    read: int = 0
    inserted: int = 0
    repeats: int = 0
    problems: list[RecordProblem] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        """Records (or lines) refused."""
        return len({(p.line, p.record_id) for p in self.problems})

    def to_dict(self) -> dict[str, Any]:
        """``{topic, kind, read, inserted, repeats, rejected, problems}``, each problem
        ``{line, record_id, field, value, reason, message}`` (as the API's ingest answers)."""
        return {
            "topic": self.topic,
            "kind": self.kind,
            "read": self.read,
            "inserted": self.inserted,
            "repeats": self.repeats,
            "rejected": self.rejected,
            "problems": [p.to_dict() for p in self.problems],
        }


class SensorDirectory:
    """The contingent of each registered sensor, read from the store and read again when a sensor is
    not found (a sensor registered since)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._contingent: dict[str, str] = {}

    def refresh(self) -> None:
        """Read the sensors again."""
        self._contingent = {r.id: str(getattr(r, "contingent", "")) for r in self.store.records("sensor")}

    def contingent_of(self, sensor_id: str) -> str | None:
        """The sensor's contingent, None for a sensor the store does not hold."""
        if sensor_id not in self._contingent:
            self.refresh()
        return self._contingent.get(sensor_id)


def payload_format(payload: bytes, content_type: str | None = None) -> Format:
    """The observation format of a payload: its MQTT v5 content type's, else JSON when it starts with
    ``[`` or ``{`` (after blanks and a byte order mark), else CSV. A content type no observation format
    has falls back to the same guess (the reader then names what is wrong)."""
    if content_type:
        fmt = format_for_media_type(media_type_essence(content_type), observation_formats())
        if fmt is not None:
            return fmt
    head = payload.removeprefix(_BOM).lstrip()[:1]
    return format_named("json" if head in (b"[", b"{") else "csv")


def _as_document(payload: bytes) -> bytes:
    """A JSON payload of one record as an array of it (``{"records": [...]}`` and the rest as they are;
    a payload that is not JSON as it is, for the reader to name)."""
    try:
        doc = json.loads(payload.removeprefix(_BOM))
    except (ValueError, RecursionError):
        return payload
    if isinstance(doc, dict) and "records" not in doc:
        return b"[" + payload.removeprefix(_BOM) + b"]"
    return payload


def _refusal(topic: SensorTopic, sensor_id: str, sensors: SensorDirectory) -> str | None:
    """Why a record of ``sensor_id`` may not come on ``topic`` (None when it may; an unknown sensor is
    left to the storing step, which refuses it as every ingest path does)."""
    if sensor_id != topic.sensor:
        return f"not the topic's sensor: {topic} carries the records of {topic.sensor} only"
    contingent = sensors.contingent_of(sensor_id)
    if contingent is not None and contingent != topic.contingent:
        return f"sensor {sensor_id} is registered to contingent {contingent}, not {topic.contingent}"
    return None


def _own_detections(batch: DetectionBatch, topic: SensorTopic, sensors: SensorDirectory) -> DetectionBatch:
    t = batch.table
    ok = np.ones(len(t), dtype=bool)
    problems = list(batch.problems)
    for i, sid in enumerate(t.sensor_ids.tolist()):
        why = _refusal(topic, str(sid), sensors)
        if why is not None:
            ok[i] = False
            problems.append(RecordProblem(batch.path, int(t.line[i]), str(t.ids[i]), "sensor_id", str(sid), why))
    return DetectionBatch(batch.path, t.take(ok), problems)


def _own_records(batch: RecordBatch, topic: SensorTopic, sensors: SensorDirectory) -> RecordBatch:
    out = RecordBatch(batch.path, batch.kind, problems=list(batch.problems), repeats=batch.repeats)
    for rec, line in zip(batch.records, batch.lines, strict=True):
        sid = str(getattr(rec, "sensor_id", ""))
        why = _refusal(topic, sid, sensors)
        if why is None:
            out.records.append(rec)
            out.lines.append(line)
        else:
            out.problems.append(RecordProblem(batch.path, line, rec.id, "sensor_id", sid, why))
    return out


def ingest_message(
    store: Store,
    topic: SensorTopic,
    payload: bytes,
    sensors: SensorDirectory,
    *,
    limits: InputLimits | None = None,
    content_type: str | None = None,
) -> MessageOutcome:
    """Validate a message's records and store the good ones (committed when this returns).

    Parameters
    ----------
    store : Store
    topic : SensorTopic
        Where the message came (its sensor and contingent bind the records).
    payload : bytes
        JSON (one record, an array, ``{"records": [...]}``), or CSV for detections.
    sensors : SensorDirectory
        The registered sensors' contingents (kept between messages).
    limits : InputLimits, optional
        The bounds of untrusted input (default the mission's, ``InputLimits()``: what every ingest applies).
    content_type : str, optional
        The MQTT v5 content type, when the publisher gave one.

    Returns
    -------
    MessageOutcome
        Never raises for a bad record or payload; a failure of the store itself propagates (nothing
        of the message is then known to be stored, and it must not be acknowledged).
    """
    from truceline.service.ingest import _detections, _records  # the storing steps of every ingest path

    kind = topic.kind
    fmt = payload_format(payload, content_type)
    body = _as_document(payload) if fmt.name == "json" else payload
    lim = limits if limits is not None else InputLimits()
    batch = read_source(io.BytesIO(body), f"mqtt:{topic}", lim, kind=kind, format=fmt)
    if isinstance(batch, FileReport):
        return MessageOutcome(str(topic), kind.value, problems=list(batch.problems))
    if isinstance(batch, DetectionBatch):
        report = _detections(store, _own_detections(batch, topic, sensors))
    else:
        report = _records(store, _own_records(batch, topic, sensors))
    problems = sorted(report.problems, key=lambda p: p.line)
    return MessageOutcome(str(topic), kind.value, report.read, report.inserted, report.repeats, problems)


class RejectsLog:
    """The rejects, kept: one JSON line per refused message (when received, topic, the outcome with every
    problem, and the payload as it came: ``payload`` as text when UTF-8, else ``payload_base64``),
    appended and flushed to disk before the message is acknowledged.

    Parameters
    ----------
    path : Path
        The JSON Lines file (its folder is made, 0700 when new).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)

    def append(self, topic: str, outcome: MessageOutcome | None, payload: bytes, reason: str = "") -> None:
        """Keep one refused message (``outcome`` None for one that is no sensor's topic: ``reason`` says why)."""
        entry: dict[str, Any] = {
            "received_at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
            "topic": topic,
        }
        if outcome is not None:
            entry["outcome"] = outcome.to_dict()
        if reason:
            entry["reason"] = reason
        try:
            entry["payload"] = payload.decode("utf-8")
        except UnicodeDecodeError:
            entry["payload_base64"] = base64.b64encode(payload).decode("ascii")
        line = json.dumps(entry, ensure_ascii=True) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            data = memoryview(line.encode("ascii"))
            while data:
                data = data[os.write(fd, data) :]
            os.fsync(fd)
        finally:
            os.close(fd)
