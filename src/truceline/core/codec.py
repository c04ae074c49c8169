"""Parsing untrusted input into records, JSON round-trip, and the record-type registry.

The public parse API (:func:`parse_record`, :func:`from_json_dict`, :func:`evolve`) never lets
a pydantic ``ValidationError`` escape: every problem becomes a
:class:`~truceline.core.errors.RecordError` naming the record type, the dotted field path,
the bad value and the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, TypeVar, overload

from pydantic import BaseModel, ValidationError

from truceline.core.base import FrozenModel, Record
from truceline.core.claims import Claim, ClaimAssessment
from truceline.core.errors import MISSING, FieldProblem, RecordError
from truceline.core.events import Event, Incident
from truceline.core.findings import Violation
from truceline.core.limits import InputLimits
from truceline.core.observations import (
    Detection,
    FreedomOfMovementRestriction,
    ObserverReport,
    Sensor,
    SensorStatusReport,
    Sighting,
    WeatherReport,
)

__all__ = [
    "RECORD_TYPES",
    "evolve",
    "from_json_dict",
    "parse_record",
    "record_type",
    "record_type_name",
    "register_record_type",
    "to_json_dict",
    "validation_problems",
]

M = TypeVar("M", bound=FrozenModel)
R = TypeVar("R", bound=Record)

_REGISTRY: dict[str, type[Record]] = {}
RECORD_TYPES: Mapping[str, type[Record]] = MappingProxyType(_REGISTRY)
"""Read-only mapping of record-type name (e.g. ``"detection"``) to record class."""


def register_record_type(cls: type[R]) -> type[R]:
    """Register a :class:`Record` subclass under its ``RECORD_TYPE`` name (usable as decorator).

    Raises
    ------
    ValueError
        If the class has no ``RECORD_TYPE`` or the name is taken by another class.
    """
    name = cls.RECORD_TYPE
    if not name:
        raise ValueError(f"{cls.__name__} has no RECORD_TYPE")
    existing = _REGISTRY.get(name)
    if existing is not None and existing is not cls:
        raise ValueError(f"record type {name!r} is already registered to {existing.__name__}")
    _REGISTRY[name] = cls
    return cls


for _cls in (
    Sensor,
    SensorStatusReport,
    Detection,
    ObserverReport,
    Sighting,
    FreedomOfMovementRestriction,
    Claim,
    ClaimAssessment,
    Event,
    Incident,
    Violation,
    WeatherReport,
):
    register_record_type(_cls)


def record_type(name: str) -> type[Record]:
    """Return the record class registered as ``name`` (e.g. ``"observer_report"``).

    Raises
    ------
    ValueError
        If no record type has that name.
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(_REGISTRY))
        raise ValueError(f"unknown record type {name!r}; known: {known}") from None


def record_type_name(record: Record | type[Record]) -> str:
    """Return the registry name of a record or record class, e.g. ``"detection"``."""
    cls = record if isinstance(record, type) else type(record)
    if not cls.RECORD_TYPE or _REGISTRY.get(cls.RECORD_TYPE) is not cls:
        raise ValueError(f"{cls.__name__} is not a registered record type")
    return cls.RECORD_TYPE


# --------------------------------------------------------------------------- errors

_TYPE_REASONS = {
    "missing": "required field missing",
    "extra_forbidden": "unknown field",
    "finite_number": "must be a finite number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected an integer",
    "string_type": "expected a string",
    "bool_type": "expected a boolean",
    "bool_parsing": "expected a boolean",
    "model_type": "expected an object",
    "model_attributes_type": "expected an object",
    "dict_type": "expected an object",
    "tuple_type": "expected a list",
    "list_type": "expected a list",
    "too_short": "too few items",
    "too_long": "too many items",
}

_BOUND_REASONS = {
    "greater_than_equal": ("ge", ">="),
    "greater_than": ("gt", ">"),
    "less_than_equal": ("le", "<="),
    "less_than": ("lt", "<"),
}


def _reason(err: Mapping[str, Any]) -> str:
    etype = err["type"]
    ctx = err.get("ctx") or {}
    if etype in _TYPE_REASONS:
        return _TYPE_REASONS[etype]
    if etype in _BOUND_REASONS:
        key, op = _BOUND_REASONS[etype]
        return f"must be {op} {ctx.get(key)}"
    if etype == "enum":
        return f"unknown value; expected {ctx.get('expected')}"
    if etype == "string_pattern_mismatch":
        return f"does not match {ctx.get('pattern')}"
    if etype in ("string_too_short", "string_too_long"):
        return str(err["msg"]).replace("String should", "must").lower()
    msg = str(err.get("msg", etype))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return msg[:1].lower() + msg[1:] if msg else etype


def _path(parts: list[Any]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def validation_problems(exc: ValidationError) -> list[tuple[str, Any, str]]:
    """Translate a pydantic ``ValidationError`` into ``(field, value, reason)`` triples.

    Fields are dotted paths (``"count.low"``, ``"class_scores.impact"``, list items as
    ``"event_ids[2]"``); ``value`` is the offending input (:data:`MISSING` if absent).
    """
    problems: list[tuple[str, Any, str]] = []
    for err in exc.errors(include_url=False):
        loc: list[Any] = list(err["loc"])
        value: Any = err.get("input", MISSING)
        reason = _reason(err)
        problem = (err.get("ctx") or {}).get("error")
        if isinstance(problem, FieldProblem):
            parent = err.get("input")
            value = parent[problem.field] if isinstance(parent, Mapping) and problem.field in parent else problem.value
            loc.append(problem.field)
            reason = problem.reason
        elif err["type"] == "missing":
            value = MISSING
        elif loc and loc[-1] == "[key]":
            reason = f"bad key: {reason}"
        problems.append((_path(loc), value, reason))
    return problems


def _resolve(cls: type[M] | str) -> type[Any]:
    if isinstance(cls, str):
        return record_type(cls)
    if not (isinstance(cls, type) and issubclass(cls, FrozenModel)):
        raise TypeError(f"{cls!r} is not a codebook record class")
    return cls


@overload
def parse_record(
    cls: type[M], data: Any, *, record_id_hint: str | None = None, limits: InputLimits | None = None
) -> M: ...
@overload
def parse_record(
    cls: str, data: Any, *, record_id_hint: str | None = None, limits: InputLimits | None = None
) -> Record: ...
def parse_record(
    cls: type[M] | str, data: Any, *, record_id_hint: str | None = None, limits: InputLimits | None = None
) -> Any:
    """Build a record of class ``cls`` from untrusted input.

    Parameters
    ----------
    cls : type or str
        Record (or value-object) class, or a registered record-type name.
    data : Mapping
        Field values, Python objects or their JSON forms (ISO 8601 strings for times,
        enum values, lists for tuples).
    record_id_hint : str, optional
        Id to cite in the error; defaults to ``data["id"]`` when it is a string.
    limits : InputLimits, optional
        The bounds of untrusted input (:mod:`truceline.core.limits`): checked on ``data`` before
        it is parsed (depth, Unicode, string lengths, finite numbers) and on the record after
        (times in the mission's window, counts, id lengths). Every ingest path gives them;
        records the system wrote itself are parsed without.

    Returns
    -------
    FrozenModel
        The validated, immutable record.

    Raises
    ------
    RecordError
        Naming the first bad field (all problems in ``.errors``).
    """
    model = _resolve(cls)
    if record_id_hint is None and isinstance(data, Mapping):
        hint = data.get("id")
        record_id_hint = hint if isinstance(hint, str) else None
    if not isinstance(data, Mapping):
        raise RecordError(
            model.__name__, "", data, "expected a mapping of fields", record_id=record_id_hint
        )
    if limits is not None:
        _raise_any(model.__name__, limits.raw_problems(data), record_id_hint)
    try:
        record = model.model_validate(dict(data))
    except ValidationError as exc:
        _raise_any(model.__name__, validation_problems(exc), record_id_hint)
        raise  # a validation error always has a problem: not reached
    if limits is not None:
        _raise_any(model.__name__, limits.record_problems(record), record_id_hint)
    return record


def _raise_any(name: str, problems: list[tuple[str, Any, str]], record_id: str | None) -> None:
    """Raise a :class:`RecordError` of every problem, the first one named, if there is any."""
    if problems:
        field, value, reason = problems[0]
        raise RecordError(name, field, value, reason, errors=problems, record_id=record_id) from None


def to_json_dict(record: BaseModel) -> dict[str, Any]:
    """Return the JSON-safe dict of a record.

    Datetimes become ISO 8601 strings with offset and microseconds
    (``"2025-04-20T06:00:00.000000+00:00"``), enums their values, tuples lists and
    mappings objects. ``from_json_dict(type(r), to_json_dict(r)) == r`` for every record.
    """
    if not isinstance(record, BaseModel):
        raise TypeError(f"expected a codebook record, got {type(record).__name__}")
    return record.model_dump(mode="json")


@overload
def from_json_dict(cls: type[M], data: Any) -> M: ...
@overload
def from_json_dict(cls: str, data: Any) -> Record: ...
def from_json_dict(cls: type[M] | str, data: Any) -> Any:
    """Inverse of :func:`to_json_dict`; ``cls`` may be a class or a registered name.

    Raises
    ------
    RecordError
        If ``data`` is not a valid record of that type.
    """
    return parse_record(cls, data)


def evolve(record: M, **changes: Any) -> M:
    """Return a copy of ``record`` with ``changes`` applied, validated again.

    Unlike pydantic's ``model_copy(update=...)`` this re-runs every check.

    Raises
    ------
    RecordError
        If the changed record is invalid.
    """
    unknown = sorted(set(changes) - set(type(record).model_fields))
    if unknown:
        raise RecordError(type(record).__name__, unknown[0], changes[unknown[0]], "unknown field")
    data = {name: getattr(record, name) for name in type(record).model_fields}
    data.update(changes)
    return parse_record(type(record), data)
