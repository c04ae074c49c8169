"""Reading the scorer's inputs: a simulator's ground-truth folder and a result folder.

:func:`read_truth` reads ``events.jsonl`` (required) and the optional ``incidents.jsonl``,
``violations.jsonl``, ``claims.jsonl`` and ``detections.csv`` into a :class:`TruthSet`;
:func:`read_results` reads any of the four result files (core records) into a :class:`ResultSet`.
Bad input raises :class:`ScoreInputError` naming file, line and field; nothing is skipped.
Used by :mod:`truceline.scoring.score`; formats in ``docs/scoring.md``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from truceline.core import (
    ClaimAssessment,
    Event,
    Incident,
    RecordError,
    Violation,
    WeaponClass,
    from_json_dict,
)
from truceline.core.base import Record

__all__ = [
    "CLAIM_TRUTHS",
    "EXPECTED_VERDICTS",
    "PARTIES",
    "TRUTH_KINDS",
    "ResultSet",
    "ScoreInputError",
    "TruthClaim",
    "TruthEvent",
    "TruthIncident",
    "TruthSet",
    "TruthViolation",
    "read_results",
    "read_truth",
]

PARTIES = ("UA", "RU")
TRUTH_KINDS = ("launch", "impact")
CLAIM_TRUTHS = ("true", "exaggerated", "fabricated", "false_flag", "blind_spot")
EXPECTED_VERDICTS = ("corroborated", "contradicted", "unverifiable", "inconclusive")


# --------------------------------------------------------------------------- errors


class ScoreInputError(ValueError):
    """A truth or result file could not be read.

    Parameters
    ----------
    path : Path or str
        The file (or folder).
    line : int or None
        1-based line number (the header is line 1 of a CSV file); None for the whole file.
    field : str or None
        The bad field (a dotted path for result records, e.g. ``"position.lon_deg"``).
    reason : str
        What is wrong.
    """

    def __init__(self, path: Path | str, line: int | None, field: str | None, reason: str) -> None:
        self.path = Path(path)
        self.line = line
        self.field = field
        self.reason = reason
        where = str(self.path)
        if line is not None:
            where += f", line {line}"
        if field:
            where += f", field {field!r}"
        super().__init__(f"{where}: {reason}")


# --------------------------------------------------------------------------- truth records


@dataclass(frozen=True, slots=True)
class TruthEvent:
    """One true acoustic event (``truth/events.jsonl``)."""

    id: str
    incident_id: str | None
    kind: str
    time: dt.datetime
    lon: float
    lat: float
    party: str
    weapon: str
    weapon_class: str
    side: str | None
    signed_distance_km: float | None
    n_detections: int | None
    n_sensors: int
    detectable: bool


@dataclass(frozen=True, slots=True)
class TruthIncident:
    """One true incident (``truth/incidents.jsonl``)."""

    id: str
    party: str
    weapon: str
    weapon_class: str
    launch_event_id: str | None
    impact_event_id: str | None
    salvo_id: str | None
    violation_families: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TruthViolation:
    """One true violation (``truth/violations.jsonl``)."""

    id: str
    family: str
    party: str | None
    time: dt.datetime
    lon: float
    lat: float
    incident_id: str | None
    source_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TruthClaim:
    """What is really behind one claim (``truth/claims.jsonl``)."""

    claim_id: str
    truth: str
    expected_verdict: str
    accused_party: str | None
    actual_party: str | None


@dataclass(frozen=True)
class TruthSet:
    """A ground-truth folder, read. ``None`` for a file that is absent."""

    events: tuple[TruthEvent, ...]
    incidents: tuple[TruthIncident, ...] | None = None
    violations: tuple[TruthViolation, ...] | None = None
    claims: tuple[TruthClaim, ...] | None = None
    detections: Mapping[str, str | None] | None = None
    """``detection_id -> event_id`` (None for a false detection)."""


@dataclass(frozen=True)
class ResultSet:
    """A result folder, read. ``None`` for a file that is absent."""

    events: tuple[Event, ...] | None = None
    incidents: tuple[Incident, ...] | None = None
    violations: tuple[Violation, ...] | None = None
    claim_verdicts: tuple[ClaimAssessment, ...] | None = None


# --------------------------------------------------------------------------- reading


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, object)`` of each non-blank line of a JSON Lines file."""
    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise ScoreInputError(path, None, None, f"cannot read: {exc.strerror or exc}") from None
    with fh:
        for lineno, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ScoreInputError(path, lineno, None, f"invalid JSON: {exc.msg} (column {exc.colno})") from None
            if not isinstance(obj, dict):
                raise ScoreInputError(path, lineno, None, f"expected a JSON object, got {type(obj).__name__}")
            yield lineno, obj


class _Row:
    """Typed field access on one truth line; every problem names file, line and field."""

    __slots__ = ("data", "line", "path")

    def __init__(self, path: Path, line: int, data: dict[str, Any]) -> None:
        self.path, self.line, self.data = path, line, data

    def fail(self, name: str, reason: str) -> ScoreInputError:
        return ScoreInputError(self.path, self.line, name, reason)

    def _get(self, name: str) -> Any:
        if name not in self.data:
            raise self.fail(name, "required field missing")
        return self.data[name]

    def opt_str(self, name: str, choices: Sequence[str] | None = None) -> str | None:
        value = self._get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise self.fail(name, f"expected a non-empty string or null, got {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(name, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def str_(self, name: str, choices: Sequence[str] | None = None) -> str:
        value = self.opt_str(name, choices)
        if value is None:
            raise self.fail(name, "must not be null")
        return value

    def opt_float(self, name: str) -> float | None:
        value = self._get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(name, f"expected a finite number, got {value!r}")
        return float(value)

    def float_(self, name: str, lo: float, hi: float) -> float:
        value = self.opt_float(name)
        if value is None:
            raise self.fail(name, "must not be null")
        if not lo <= value <= hi:
            raise self.fail(name, f"{value!r} is not in [{lo}, {hi}]")
        return value

    def int_(self, name: str) -> int:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(name, f"expected a non-negative integer, got {value!r}")
        return value

    def opt_int(self, name: str) -> int | None:
        """An optional (informational) count: absent or null gives None."""
        return None if self.data.get(name) is None else self.int_(name)

    def bool_(self, name: str) -> bool:
        value = self._get(name)
        if not isinstance(value, bool):
            raise self.fail(name, f"expected true or false, got {value!r}")
        return value

    def time(self, name: str) -> dt.datetime:
        value = self._get(name)
        if not isinstance(value, str):
            raise self.fail(name, f"expected an ISO 8601 time string, got {value!r}")
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise self.fail(name, f"{value!r} is not an ISO 8601 time") from None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise self.fail(name, f"{value!r} has no UTC offset")
        return parsed.astimezone(dt.UTC)

    def str_list(self, name: str) -> tuple[str, ...]:
        value = self._get(name)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(name, f"expected a list of non-empty strings, got {value!r}")
        return tuple(value)


_WEAPON_CLASSES = tuple(w.value for w in WeaponClass)


def _unique(row: _Row, name: str, value: str, seen: dict[str, int]) -> None:
    if value in seen:
        raise row.fail(name, f"duplicate id {value!r} (first on line {seen[value]})")
    seen[value] = row.line


def _read_truth_events(path: Path) -> tuple[TruthEvent, ...]:
    out: list[TruthEvent] = []
    seen: dict[str, int] = {}
    for lineno, data in _jsonl(path):
        r = _Row(path, lineno, data)
        ev = TruthEvent(
            id=r.str_("id"),
            incident_id=r.opt_str("incident_id"),
            kind=r.str_("kind", TRUTH_KINDS),
            time=r.time("time"),
            lon=r.float_("lon", -180.0, 180.0),
            lat=r.float_("lat", -90.0, 90.0),
            party=r.str_("party", PARTIES),
            weapon=r.str_("weapon"),
            weapon_class=r.str_("weapon_class", _WEAPON_CLASSES),
            side=r.opt_str("side", PARTIES),
            signed_distance_km=r.opt_float("signed_distance_km"),
            n_detections=r.opt_int("n_detections"),
            n_sensors=r.int_("n_sensors"),
            detectable=r.bool_("detectable"),
        )
        _unique(r, "id", ev.id, seen)
        out.append(ev)
    return tuple(out)


def _read_truth_incidents(path: Path, events: Mapping[str, TruthEvent]) -> tuple[TruthIncident, ...]:
    out: list[TruthIncident] = []
    seen: dict[str, int] = {}
    for lineno, data in _jsonl(path):
        r = _Row(path, lineno, data)
        inc = TruthIncident(
            id=r.str_("id"),
            party=r.str_("party", PARTIES),
            weapon=r.str_("weapon"),
            weapon_class=r.str_("weapon_class", _WEAPON_CLASSES),
            launch_event_id=r.opt_str("launch_event_id"),
            impact_event_id=r.opt_str("impact_event_id"),
            salvo_id=r.opt_str("salvo_id"),
            violation_families=r.str_list("violation_families"),
        )
        _unique(r, "id", inc.id, seen)
        for name, kind in (("launch_event_id", "launch"), ("impact_event_id", "impact")):
            eid = getattr(inc, name)
            if eid is None:
                continue
            ev = events.get(eid)
            if ev is None:
                raise r.fail(name, f"{eid!r} is not an event of events.jsonl")
            if ev.kind != kind:
                raise r.fail(name, f"event {eid!r} is a {ev.kind}, not a {kind}")
        out.append(inc)
    return tuple(out)


def _read_truth_violations(path: Path) -> tuple[TruthViolation, ...]:
    out: list[TruthViolation] = []
    seen: dict[str, int] = {}
    for lineno, data in _jsonl(path):
        r = _Row(path, lineno, data)
        vio = TruthViolation(
            id=r.str_("id"),
            family=r.str_("family"),
            party=r.opt_str("party", PARTIES),
            time=r.time("time"),
            lon=r.float_("lon", -180.0, 180.0),
            lat=r.float_("lat", -90.0, 90.0),
            incident_id=r.opt_str("incident_id"),
            source_ids=r.str_list("source_ids"),
        )
        _unique(r, "id", vio.id, seen)
        out.append(vio)
    return tuple(out)


def _read_truth_claims(path: Path) -> tuple[TruthClaim, ...]:
    out: list[TruthClaim] = []
    seen: dict[str, int] = {}
    for lineno, data in _jsonl(path):
        r = _Row(path, lineno, data)
        claim = TruthClaim(
            claim_id=r.str_("claim_id"),
            truth=r.str_("truth", CLAIM_TRUTHS),
            expected_verdict=r.str_("expected_verdict", EXPECTED_VERDICTS),
            accused_party=r.opt_str("accused_party", PARTIES),
            actual_party=r.opt_str("actual_party", PARTIES),
        )
        _unique(r, "claim_id", claim.claim_id, seen)
        out.append(claim)
    return tuple(out)


def _read_detections(path: Path, events: Mapping[str, TruthEvent]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    try:
        fh = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise ScoreInputError(path, None, None, f"cannot read: {exc.strerror or exc}") from None
    with fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:2]] != ["detection_id", "event_id"]:
            raise ScoreInputError(path, 1, None, f"header must start with detection_id,event_id, got {header!r}")
        for row in reader:
            lineno = reader.line_num
            if not row:
                continue
            if len(row) < 2:
                raise ScoreInputError(path, lineno, "event_id", "missing column")
            det_id, event_id = row[0].strip(), row[1].strip()
            if not det_id:
                raise ScoreInputError(path, lineno, "detection_id", "empty")
            if det_id in out:
                raise ScoreInputError(path, lineno, "detection_id", f"duplicate id {det_id!r}")
            if event_id and event_id not in events:
                raise ScoreInputError(path, lineno, "event_id", f"{event_id!r} is not an event of events.jsonl")
            out[det_id] = event_id or None
    return out


def _truth_root(truth_dir: Path) -> Path:
    truth_dir = Path(truth_dir)
    if not truth_dir.is_dir():
        raise ScoreInputError(truth_dir, None, None, "truth folder not found")
    for root in (truth_dir, truth_dir / "truth"):
        if (root / "events.jsonl").is_file():
            return root
    raise ScoreInputError(truth_dir / "events.jsonl", None, None, "truth events file not found (nor under truth/)")


def read_truth(truth_dir: Path) -> TruthSet:
    """Read a ground-truth folder (the folder holding ``events.jsonl``, or its parent holding ``truth/``).

    Raises
    ------
    ScoreInputError
        If the folder or ``events.jsonl`` is missing, or any line is bad.
    """
    root = _truth_root(Path(truth_dir))
    events = _read_truth_events(root / "events.jsonl")
    by_id = {e.id: e for e in events}
    incidents = _read_truth_incidents(root / "incidents.jsonl", by_id) if (root / "incidents.jsonl").exists() else None
    violations = _read_truth_violations(root / "violations.jsonl") if (root / "violations.jsonl").exists() else None
    claims = _read_truth_claims(root / "claims.jsonl") if (root / "claims.jsonl").exists() else None
    detections = _read_detections(root / "detections.csv", by_id) if (root / "detections.csv").exists() else None
    return TruthSet(events=events, incidents=incidents, violations=violations, claims=claims, detections=detections)


R = TypeVar("R", bound=Record)


def _read_records(path: Path, cls: type[R], unique: str = "id") -> tuple[R, ...] | None:
    """Records of one JSON Lines file (None if absent); ``unique`` names the field that must not repeat."""
    if not path.exists():
        return None
    out: list[R] = []
    seen: dict[str, int] = {}
    ids: set[str] = set()
    for lineno, data in _jsonl(path):
        try:
            rec = from_json_dict(cls, data)
        except RecordError as exc:
            raise ScoreInputError(path, lineno, exc.field or None, str(exc)) from None
        if rec.id in ids:
            raise ScoreInputError(path, lineno, "id", f"duplicate id {rec.id!r}")
        ids.add(rec.id)
        key = getattr(rec, unique)
        if key in seen:
            raise ScoreInputError(path, lineno, unique, f"{key!r} repeats line {seen[key]}")
        seen[key] = lineno
        out.append(rec)
    return tuple(out)


def read_results(result_dir: Path) -> ResultSet:
    """Read a result folder; any of its four files may be absent.

    Raises
    ------
    ScoreInputError
        If the folder is missing or a line is not a valid record (naming file, line and field).
    """
    result_dir = Path(result_dir)
    if not result_dir.is_dir():
        raise ScoreInputError(result_dir, None, None, "result folder not found")
    return ResultSet(
        events=_read_records(result_dir / "events.jsonl", Event),
        incidents=_read_records(result_dir / "incidents.jsonl", Incident),
        violations=_read_records(result_dir / "violations.jsonl", Violation),
        claim_verdicts=_read_records(result_dir / "claim_verdicts.jsonl", ClaimAssessment, unique="claim_id"),
    )
