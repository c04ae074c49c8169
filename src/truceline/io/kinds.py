"""The kinds of observation file ``truceline ingest`` reads, and how a file's kind is told.

The kind strings are the codebook's record-type names (``RECORD_TYPE``, so
``truceline.core.record_type(kind)`` gives the class); see :mod:`truceline.io.records` for the
table of kinds, file names and records. Short aliases are accepted wherever a kind is given
(:func:`parse_kind`); :func:`kind_for` infers a file's kind from its name or its first object.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from truceline.core import (
    Claim,
    Detection,
    FreedomOfMovementRestriction,
    ObserverReport,
    Record,
    Sensor,
    SensorStatusReport,
    Sighting,
    WeatherReport,
)
from truceline.io.formats import observation_suffixes

__all__ = [
    "DISTINCTIVE_FIELDS",
    "FILE_STEMS",
    "RECORD_CLASSES",
    "RecordKind",
    "kind_for",
    "parse_kind",
]

class RecordKind(StrEnum):
    """The kinds of observation file ``truceline ingest`` reads; values are the record-type names."""

    SENSOR = "sensor"
    SENSOR_STATUS = "sensor_status_report"
    DETECTION = "detection"
    WEATHER = "weather_report"
    OBSERVER_REPORT = "observer_report"
    SIGHTING = "sighting"
    FOM_RESTRICTION = "freedom_of_movement_restriction"
    CLAIM = "claim"

    @property
    def record_class(self) -> type[Record]:
        """The codebook record class of this kind."""
        return RECORD_CLASSES[self]

    @property
    def file_name(self) -> str:
        """The file name the simulator writes (docs/formats.md), e.g. ``"sightings.jsonl"``."""
        return FILE_STEMS[self] + (".csv" if self is RecordKind.DETECTION else ".jsonl")


RECORD_CLASSES: Final[Mapping[RecordKind, type[Record]]] = {
    RecordKind.SENSOR: Sensor,
    RecordKind.SENSOR_STATUS: SensorStatusReport,
    RecordKind.DETECTION: Detection,
    RecordKind.WEATHER: WeatherReport,
    RecordKind.OBSERVER_REPORT: ObserverReport,
    RecordKind.SIGHTING: Sighting,
    RecordKind.FOM_RESTRICTION: FreedomOfMovementRestriction,
    RecordKind.CLAIM: Claim,
}
"""Record class of each kind."""

FILE_STEMS: Final[Mapping[RecordKind, str]] = {
    RecordKind.SENSOR: "sensors",
    RecordKind.SENSOR_STATUS: "sensor_status",
    RecordKind.DETECTION: "detections",
    RecordKind.WEATHER: "weather",
    RecordKind.OBSERVER_REPORT: "observer_reports",
    RecordKind.SIGHTING: "sightings",
    RecordKind.FOM_RESTRICTION: "fom_restrictions",
    RecordKind.CLAIM: "claims",
}
"""File stem of each kind, as the simulator writes it."""


def _aliases() -> dict[str, RecordKind]:
    out: dict[str, RecordKind] = {}
    for kind in RecordKind:
        names = (kind.value, kind.value + "s", kind.name.lower(), FILE_STEMS[kind], RECORD_CLASSES[kind].__name__)
        for name in names:
            out.setdefault(name, kind)
            out.setdefault(name.lower(), kind)
    return out


_ALIASES: Final = _aliases()
# File-name matching: longest first, so that a longer name wins over a name it ends with.
_NAME_STEMS: Final = sorted(
    ((name, kind) for name, kind in _ALIASES.items() if name == name.lower()), key=lambda nk: -len(nk[0])
)
_ACCEPTED_NAMES: Final = (
    "sensors.jsonl, sensor_status.jsonl, detections.csv (or .jsonl), weather.jsonl, observer_reports.jsonl, "
    "sightings.jsonl, fom_restrictions.jsonl, claims.jsonl (a prefix such as '2026-09-02_' is allowed; "
    "JSON Lines may also end in .ndjson, JSON documents in .json)"
)


def parse_kind(name: str | RecordKind) -> RecordKind:
    """The :class:`RecordKind` named by ``name``.

    Parameters
    ----------
    name : str or RecordKind
        A kind value (``"sighting"``, ``"sensor_status_report"``), a short alias
        (``"sensor_status"``, ``"weather"``, ``"fom_restriction"``), a file stem
        (``"sightings"``, ``"fom_restrictions"``) or a class name (``"Sighting"``).

    Raises
    ------
    ValueError
        If ``name`` names no kind (the message lists the kinds).
    """
    if isinstance(name, RecordKind):
        return name
    kind = _ALIASES.get(name) if isinstance(name, str) else None
    if kind is None and isinstance(name, str):
        kind = _ALIASES.get(name.strip().lower())
    if kind is None:
        known = ", ".join(k.value for k in RecordKind)
        raise ValueError(f"unknown record kind {name!r}; expected one of: {known}")
    return kind


def _kind_from_name(path: Path) -> RecordKind | None:
    stem = path.name.lower()
    for suffix in observation_suffixes():
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    for name, kind in _NAME_STEMS:
        if stem == name or (stem.endswith(name) and stem[-len(name) - 1] in "_-. "):
            return kind
    return None


def _distinctive_fields() -> dict[RecordKind, frozenset[str]]:
    fields = {kind: frozenset(cls.model_fields) for kind, cls in RECORD_CLASSES.items()}
    out: dict[RecordKind, frozenset[str]] = {}
    for kind, own in fields.items():
        others: set[str] = set()
        for other, theirs in fields.items():
            if other is not kind:
                others |= theirs
        out[kind] = own - others
    return out


DISTINCTIVE_FIELDS: Final[Mapping[RecordKind, frozenset[str]]] = _distinctive_fields()
"""Fields that only one kind has (``arrival_time``: detection, ``platform``: sighting, ...)."""


def kind_for(path: str | Path, first_object: Mapping[str, Any] | None = None) -> RecordKind:
    """Infer the record kind of a file.

    In order: the file name (``sightings.jsonl``, also with a prefix: ``2026-09-02_sightings.jsonl``,
    ``day3-claims.json``); else the ``record_type`` key of ``first_object``; else the fields of
    ``first_object`` that only one kind has (``arrival_time`` -> detection, ``platform`` ->
    sighting, ``claimant`` -> claim...; a CSV header given as a mapping works too).

    Parameters
    ----------
    path : str or Path
        The file (only its name is used).
    first_object : mapping, optional
        The file's first object, when the name does not tell.

    Returns
    -------
    RecordKind

    Raises
    ------
    ValueError
        Naming the file and listing the accepted file names, when the kind cannot be told (or
        ``record_type`` names no kind).
    """
    p = Path(path)
    kind = _kind_from_name(p)
    if kind is not None:
        return kind
    if first_object is not None:
        declared = first_object.get("record_type")
        if declared is not None:
            try:
                return parse_kind(declared)
            except ValueError as exc:
                raise ValueError(f"{p}: record_type {declared!r}: {exc}") from None
        scores = {k: len(DISTINCTIVE_FIELDS[k] & set(first_object)) for k in RecordKind}
        best = max(scores.values())
        winners = [k for k, score in scores.items() if score == best]
        if best > 0 and len(winners) == 1:
            return winners[0]
    raise ValueError(
        f"{p}: cannot tell what records this file holds; name it one of {_ACCEPTED_NAMES}, "
        f"give its objects a 'record_type', or pass the kind (one of: {', '.join(k.value for k in RecordKind)})"
    )
